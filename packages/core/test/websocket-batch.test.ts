// receiveMessages (the messages of one WebSocket read, in one pass) against receiveMessage per message:
// the same events and the same output for any grouping of the same messages, including bad ones.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { serialize, XmlElement, xml } from "@xmpp-sansio/xml";
import { fuzz } from "../../../test-support/fuzz.js";
import { type ServerEvent, ServerSession } from "../src/index.js";
import { ACCOUNTS, DOMAIN, dec, enc, makePair, scramFor, seededRandom, TEST_ITERATIONS } from "./harness.js";

/** What a client sent to log in over WebSocket, then a few stanzas and its `<close/>`: one entry per message. */
function transcript(): Uint8Array[] {
  const sent: Uint8Array[] = [];
  const p = makePair({
    client: { framing: "websocket" },
    server: { framing: "websocket" },
    mutate: (dir, bytes) => {
      if (dir === "c2s") sent.push(bytes.slice());
      return bytes;
    },
  });
  p.client.tlsEstablished({ channelBinding: {} }, 0);
  p.server.tlsEstablished({ channelBinding: {} }, 0);
  p.client.start(0);
  p.server.start(0);
  p.run();
  expect(p.server.state).toBe("online");
  for (let i = 0; i < 4; i++) p.client.send(xml("message", { to: "romeo@im.example.com", type: "chat", id: `m${i}` }, xml("body", {}, `☃ ${i}`)));
  p.client.send(xml("iq", { type: "get", id: "p1", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
  p.client.send(xml("presence"));
  p.run();
  p.client.close(0);
  p.run();
  return sent;
}

const TRANSCRIPT = transcript();
const LOGIN = TRANSCRIPT.findIndex((m) => dec(m).includes("<bind ")) + 1; // the first message once online

/** Answers the server's questions as the harness does (the transcript's login succeeds again). */
function answer(s: ServerSession, ev: ServerEvent): void {
  if (ev.type === "host-check") s.answerHost(ev.domain === DOMAIN);
  else if (ev.type === "scram-credentials") {
    const acct = ACCOUNTS.get(ev.username);
    s.answerScramCredentials(acct === undefined ? null : scramFor(ev.mechanism.replace(/^SCRAM-/, "").replace(/-PLUS$/, "") as "SHA-256", acct.password, TEST_ITERATIONS));
  } else if (ev.type === "bind-request") s.answerBind({ accept: ev.resource ?? "r" });
}

const replacer = (_k: string, v: unknown) => (v instanceof XmlElement ? dec(serialize(v)) : v instanceof Uint8Array ? Array.from(v) : v instanceof Map ? [...v] : v);

/**
 * Feeds the groups (each one read) to a fresh server: what it emitted, in order, then what it wrote, in
 * order (how the two interleave depends on when they are drained, which is once per call).
 */
function replay(groups: Uint8Array[][], batched: boolean): string[] {
  const s = new ServerSession({ random: seededRandom(11), framing: "websocket" });
  s.tlsEstablished({ channelBinding: {} }, 0);
  s.start(0);
  const log: string[] = [];
  const drain = () => {
    for (let moved = true; moved; ) {
      moved = false;
      for (let out = s.pollTransmit(); out !== undefined; out = s.pollTransmit()) log.push(`out ${dec(out)}`);
      for (let ev = s.pollEvent(); ev !== undefined; ev = s.pollEvent()) {
        log.push(`event ${JSON.stringify(ev, replacer)}`);
        answer(s, ev);
        moved = true;
      }
    }
  };
  drain();
  for (const group of groups) {
    if (batched) s.receiveMessages(group, 0);
    else for (const m of group) s.receiveMessage(m, false, 0);
    drain();
  }
  log.push(`state ${s.state}`);
  return [...log.filter((l) => !l.startsWith("out ")), ...log.filter((l) => l.startsWith("out "))];
}

describe("ServerSession.receiveMessages (WebSocket)", () => {
  it("the transcript logs in and is handled whole", () => {
    const log = replay([TRANSCRIPT], true);
    expect(log.filter((l) => l.startsWith('event {"type":"stanza"'))).toHaveLength(6);
    expect(log).toContain("state closed");
    expect(log).toEqual(replay(TRANSCRIPT.map((m) => [m]), false));
  });

  it("any grouping of the messages gives the same events and output as one by one, also with bad messages among them", () => {
    const hostile = ["", "  ", "<a>", "</message>", "x", "<a xmlns='urn:a'/><b xmlns='urn:b'/>", "\uFEFF<a xmlns='urn:a'/>", "<message xmlns='jabber:client'><body>&nbsp;</body></message>"];
    const edit = fc.record({ at: fc.nat(), kind: fc.constantFrom("insert", "split", "flip"), hostile: fc.constantFrom(...hostile), pos: fc.nat() });
    fc.assert(
      fc.property(fc.array(edit, { maxLength: 2 }), fc.array(fc.nat(), { maxLength: 8 }), (edits, cuts) => {
        const messages = TRANSCRIPT.slice();
        for (const e of edits) {
          const at = e.at % (messages.length + 1);
          if (e.kind === "insert") messages.splice(at, 0, enc(e.hostile));
          else if (at < messages.length) {
            const m = messages[at]!;
            if (e.kind === "split") messages.splice(at, 1, m.subarray(0, e.pos % (m.length + 1)), m.subarray(e.pos % (m.length + 1)));
            else if (m.length > 0) {
              const flipped = m.slice();
              flipped[e.pos % m.length]! ^= 0x20;
              messages[at] = flipped;
            }
          }
        }
        const bounds = [...new Set([0, ...cuts.map((c) => c % (messages.length + 1)), messages.length])].sort((a, b) => a - b);
        const groups: Uint8Array[][] = [];
        for (let g = 1; g < bounds.length; g++) groups.push(messages.slice(bounds[g - 1], bounds[g]));
        expect(replay(groups, true)).toEqual(replay(groups, false));
      }),
      fuzz(150),
    );
  });

  it("messages after authentication in the same read are parsed under the limits that apply after it", () => {
    // 100 elements: over the 64 allowed before authentication, fine after it.
    const big = enc(`<message xmlns='jabber:client' to='romeo@im.example.com' id='big'>${"<x xmlns='urn:x'/>".repeat(99)}</message>`);
    const messages = [...TRANSCRIPT.slice(0, LOGIN), big, ...TRANSCRIPT.slice(LOGIN)];
    const log = replay([messages], true);
    expect(log).toEqual(replay(messages.map((m) => [m]), false));
    expect(log.some((l) => l.startsWith('event {"type":"stanza"') && l.includes("id='big'"))).toBe(true);
  });

  it("a bad message in the middle of a read: the ones before it are handled, then the stream error of that message alone", () => {
    const before = TRANSCRIPT.slice(0, LOGIN).map((m) => [m]);
    const [m0, m1] = [TRANSCRIPT[LOGIN]!, TRANSCRIPT[LOGIN + 1]!];
    for (const bad of ["<a>", "x", "<message xmlns='jabber:client'><body>&nbsp;</body></message>", "<a xmlns='urn:a' x='1' x='2'/>"]) {
      const log = replay([...before, [m0, enc(bad), m1]], true);
      expect(log).toEqual(replay([...before, [m0], [enc(bad)], [m1]], false));
      const tail = log.slice(log.findIndex((l) => l.includes('"id":"m0"') || l.includes("id='m0'")));
      expect(tail.some((l) => l.startsWith('event {"type":"stream-error"'))).toBe(true);
      expect(tail.some((l) => l.includes("id='m1'") || l.includes('"id":"m1"'))).toBe(false);
      expect(log).toContain("state closed");
    }
  });
});
