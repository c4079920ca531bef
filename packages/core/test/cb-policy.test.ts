// The channel-binding policy of the server (docs/sasl.md): a client that asks for tls-unique on TLS 1.3
// (no such binding there, RFC 9266) and then retries with the GS2 flag `y` gets in by default, not in
// strict mode; a client whose -PLUS offer was stripped by a man in the middle (it sends `y` at once) is
// refused in both.
import { describe, expect, it } from "vitest";
import { type ServerEvent, ServerSession } from "../src/index.js";
import { createClientMechanism, decodeSaslPayload, encodeSaslPayload } from "@xmpp-sansio/sasl";
import { DOMAIN, scramFor, seededRandom } from "./harness.js";

const b64 = (s: string): string => btoa(s);
const TLS13 = { "tls-exporter": new Uint8Array(32).fill(3) }; // no tls-unique on TLS 1.3

function server(policy?: "strict" | "lenient") {
  const s = new ServerSession({ tls: "direct", random: seededRandom(5), ...(policy === undefined ? {} : { channelBindingPolicy: policy }) });
  s.tlsEstablished({ channelBinding: TLS13 }, 0);
  const out: string[] = [];
  const events: ServerEvent[] = [];
  const pump = (): void => {
    for (let o = s.pollTransmit(); o; o = s.pollTransmit()) out.push(new TextDecoder().decode(o));
    for (let ev = s.pollEvent(); ev; ev = s.pollEvent()) {
      events.push(ev);
      if (ev.type === "host-check") s.answerHost(true);
      if (ev.type === "scram-credentials") s.answerScramCredentials(scramFor("SHA-256", "r0m30myr0m30"));
      pump();
    }
  };
  const feed = (x: string): void => {
    if (s.state === "closed") return;
    s.receive(new TextEncoder().encode(x), 0);
    pump();
  };
  feed(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${DOMAIN}' version='1.0'>`);
  return { s, out, events, feed };
}

const plusAuth = `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256-PLUS'>${b64("p=tls-unique,,n=juliet,r=abcdefgh")}</auth>`;
const yAuth = `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>${b64("y,,n=juliet,r=abcdefgh")}</auth>`;

describe("channel-binding policy", () => {
  it("the server offers -PLUS on TLS 1.3 (tls-exporter) and lists it with XEP-0440", () => {
    const { out } = server();
    expect(out.join("")).toContain("SCRAM-SHA-256-PLUS");
    expect(out.join("")).toContain("type='tls-exporter'");
  });

  it("lenient (default): three tls-unique requests, then `y`, reach the SCRAM challenge", () => {
    const { s, out, events, feed } = server();
    for (let i = 0; i < 3; i++) feed(plusAuth);
    expect(s.state).not.toBe("closed");
    expect(events.filter((e) => e.type === "auth-failed")).toHaveLength(3);
    out.length = 0;
    feed(yAuth);
    expect(out.join("")).toMatch(/^<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>/);
    expect(events.some((e) => e.type === "scram-credentials")).toBe(true);
  });

  it("lenient: such a client then completes SCRAM-SHA-256 with `y` and is authenticated", () => {
    const { s, out, feed } = server();
    for (let i = 0; i < 3; i++) feed(plusAuth);
    // The client's own SCRAM (GS2 flag y: it supports channel binding, the server's type list was no use).
    const m = createClientMechanism("SCRAM-SHA-256", { username: "juliet", password: "r0m30myr0m30", clientSupportsChannelBinding: true, minIterations: 1 });
    const first = m.initialResponse()!;
    expect(new TextDecoder().decode(first)).toMatch(/^y,,/);
    out.length = 0;
    feed(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>${encodeSaslPayload(first)}</auth>`);
    const challenge = /<challenge[^>]*>([^<]*)</.exec(out.join(""))![1]!;
    const final = m.challenge(decodeSaslPayload(challenge) as Uint8Array);
    out.length = 0;
    feed(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${encodeSaslPayload(final as Uint8Array)}</response>`);
    const success = /<success[^>]*>([^<]*)</.exec(out.join(""));
    expect(success).not.toBeNull();
    expect(m.finish(decodeSaslPayload(success![1]!) as Uint8Array)).toBe(true); // the server proved itself too
    expect(s.state).not.toBe("closed");
  });

  it("strict: the third refusal ends the stream; `y` after a request is still a downgrade", () => {
    const a = server("strict");
    for (let i = 0; i < 3; i++) a.feed(plusAuth);
    expect(a.s.state).toBe("closed");
    const b = server("strict");
    b.feed(plusAuth);
    b.out.length = 0;
    b.feed(yAuth);
    expect(b.out.join("")).toContain("<not-authorized/>");
  });

  it("a stripped -PLUS offer (`y` without a prior request) is refused in both modes", () => {
    for (const policy of ["lenient", "strict"] as const) {
      const { out, feed, events } = server(policy);
      out.length = 0;
      feed(yAuth);
      expect(out.join("")).toContain("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/>");
      expect(events.some((e) => e.type === "scram-credentials")).toBe(false);
    }
  });

  it("lenient refusals are bounded on their own (10 per stream)", () => {
    const { s, feed } = server();
    for (let i = 0; i < 10; i++) feed(plusAuth);
    expect(s.state).toBe("closed");
  });
});
