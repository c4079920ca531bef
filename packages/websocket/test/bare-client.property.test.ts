// Properties of connectBareClient, with the core's ServerSession (WebSocket framing) behind an in-memory WebSocket:
// 1. whatever IQs reach the page, each get/set the application does not take is answered exactly once with
//    <service-unavailable/> (same id, addressed back), and nothing else is answered — RFC 6120 §8.2.3, §8.4;
// 2. whatever text and binary messages a peer sends, the binding never throws, the session ends closed, `closed` is
//    its last event and `onEnd` runs exactly once.
// Time and randomness are injected (a fixed clock, seeded ids); FUZZ_RUNS/FUZZ_SEED replay a run.
import { type ClientEvent, parseStanzaError, ServerSession, sha256Hash } from "@xmpp-sansio/core";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { type BareClient, connectBareClient, type WebSocketConstructor } from "../src/index.js";
import { scramCredentials } from "./support/demo-server.js";

const CREDS = scramCredentials("r0m30myr0m30", "SCRAM-SHA-256");
const NOW = 1_000_000;

function seeded(seed: number): (bytes: Uint8Array) => void {
  let x = seed >>> 0 || 1;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      bytes[i] = x & 0xff;
    }
  };
}

/** A WHATWG-shaped WebSocket whose peer is the test: frames the page sends are queued in `sent`. */
class MemorySocket {
  static last: MemorySocket | undefined;
  protocol = "xmpp";
  readyState = 0;
  binaryType = "blob";
  sent: string[] = [];
  closes = 0;
  private listeners = new Map<string, ((ev: never) => void)[]>();
  constructor() {
    MemorySocket.last = this;
  }
  send(data: string) {
    if (typeof data !== "string") throw new TypeError("text frames only");
    this.sent.push(data);
  }
  close() {
    this.closes++;
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.fire("close", {});
  }
  addEventListener(type: string, fn: (ev: never) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  fire(type: string, ev: unknown) {
    for (const fn of this.listeners.get(type) ?? []) (fn as (ev: unknown) => void)(ev);
  }
  open() {
    this.readyState = 1;
    this.fire("open", {});
  }
  deliver(data: string | ArrayBuffer) {
    if (this.readyState === 1) this.fire("message", { data });
  }
}

interface Pair {
  client: BareClient;
  server: ServerSession;
  socket: MemorySocket;
  events: ClientEvent[];
  /** Stanzas the server received from the page after it went online. */
  fromPage: XmlElement[];
  ends: number;
  /** Moves frames both ways until neither side has anything to say. */
  pump(): void;
  take: Set<string>;
}

function pair(seed: number): Pair {
  const server = new ServerSession({ framing: "websocket", tls: "none", mechanisms: ["SCRAM-SHA-256"], random: seeded(seed + 1) });
  const events: ClientEvent[] = [];
  const fromPage: XmlElement[] = [];
  const take = new Set<string>();
  let ends = 0;
  const client = connectBareClient({
    jid: "juliet@localhost/page",
    password: "r0m30myr0m30",
    service: "ws://127.0.0.1/xmpp",
    mechanisms: ["SCRAM-SHA-256"],
    parts: { hashes: [sha256Hash] },
    random: seeded(seed),
    now: () => NOW,
    WebSocket: MemorySocket as unknown as WebSocketConstructor,
    onEvent(ev) {
      events.push(ev);
      // The application takes the IQ requests whose id the test put in `take` (and answers none of them).
      return ev.type === "stanza" && take.has(ev.stanza.attr("id") ?? "");
    },
    onEnd: () => ends++,
  });
  const socket = MemorySocket.last!;
  const pump = () => {
    for (let rounds = 0; rounds < 1000; rounds++) {
      const frames = socket.sent.splice(0);
      for (const f of frames) server.receiveMessage(f, false, NOW);
      for (let ev = server.pollEvent(); ev !== undefined; ev = server.pollEvent()) {
        if (ev.type === "host-check") server.answerHost(ev.domain === "localhost");
        else if (ev.type === "scram-credentials") server.answerScramCredentials(CREDS);
        else if (ev.type === "bind-request") server.answerBind({ accept: ev.resource ?? "page" });
        else if (ev.type === "stanza") fromPage.push(ev.stanza);
      }
      let out = false;
      for (let b = server.pollTransmit(); b !== undefined; b = server.pollTransmit()) {
        out = true;
        socket.deliver(new TextDecoder().decode(b));
      }
      if (server.state === "closed" && socket.readyState !== 3) socket.close();
      if (frames.length === 0 && !out) return;
    }
    throw new Error("the pair did not settle");
  };
  return {
    client,
    server,
    socket,
    events,
    fromPage,
    take,
    pump,
    get ends() {
      return ends;
    },
  } as Pair;
}

const iqArb = fc.record({
  type: fc.constantFrom("get", "set", "result", "error"),
  taken: fc.boolean(),
  payload: fc.constantFrom("ping", "query", "none"),
});

describe("connectBareClient properties", () => {
  it("answers exactly the IQ get/set the application does not take, once each, with service-unavailable", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fffffff }), fc.array(iqArb, { maxLength: 12 }), (seed, iqs) => {
        const p = pair(seed);
        p.socket.open();
        p.pump();
        expect(p.client.session.state).toBe("online");
        const expected: string[] = [];
        iqs.forEach((iq, i) => {
          const id = `q${i}`;
          if (iq.taken) p.take.add(id);
          const child = iq.payload === "ping" ? xml("ping", { xmlns: "urn:xmpp:ping" }) : iq.payload === "query" ? xml("query", { xmlns: "jabber:iq:version" }) : undefined;
          const stanza = xml("iq", { type: iq.type, id, from: "romeo@localhost/hall", to: "juliet@localhost/page" });
          if (child !== undefined) stanza.append(child);
          if (iq.type === "error") stanza.append(xml("error", { type: "cancel" }, xml("item-not-found", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" })));
          p.server.send(stanza);
          if ((iq.type === "get" || iq.type === "set") && !iq.taken) expected.push(id);
        });
        p.pump();
        const replies = p.fromPage.filter((s) => s.name === "iq");
        expect(replies.map((r) => r.attr("id"))).toEqual(expected);
        for (const r of replies) {
          expect(r.attr("type")).toBe("error");
          expect(r.attr("to")).toBe("romeo@localhost/hall");
          expect(parseStanzaError(r).condition).toBe("service-unavailable");
        }
        expect(p.client.session.state).toBe("online");
        p.client.close();
        p.pump();
        expect(p.events.at(-1)?.type).toBe("closed");
        expect(p.ends).toBe(1);
      }),
      fuzz(30),
    );
  });

  const OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' version='1.0' from='localhost' id='s1' xml:lang='en'/>";
  const frameArb = fc.oneof(
    fc.constantFrom(
      OPEN,
      "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256</mechanism></mechanisms></stream:features>",
      "<iq type='get' id='x' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>",
      "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
      "<message xmlns='jabber:client'><body>hi</body></message>",
      "<a><b></a>",
      "<?xml version='1.0'?><x/>",
      "<!DOCTYPE x><x/>",
      "",
    ),
    fc.string({ maxLength: 40 }),
    fc.uint8Array({ maxLength: 8 }).map((b) => b.buffer as ArrayBuffer),
  );

  it("survives any sequence of peer frames: no exception, the session ends closed, onEnd runs once", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fffffff }), fc.array(frameArb, { maxLength: 8 }), fc.boolean(), (seed, frames, userClose) => {
        const p = pair(seed);
        p.socket.open();
        // The page's <open/> went out first; the peer answers with arbitrary frames instead of the server's.
        expect(p.socket.sent[0]).toMatch(/^<open /);
        for (const f of frames) p.socket.deliver(f);
        if (userClose && p.client.session.state !== "closed") p.client.close();
        p.socket.close(); // the peer goes away
        expect(p.client.session.state).toBe("closed");
        expect(p.events.at(-1)?.type).toBe("closed");
        expect(p.events.filter((e) => e.type === "closed")).toHaveLength(1);
        expect(p.ends).toBe(1);
        expect(p.socket.sent.every((s) => typeof s === "string")).toBe(true);
      }),
      fuzz(100),
    );
  });
});
