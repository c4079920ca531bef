// fast-check properties over a client core and a server core connected by an in-memory pipe: the
// negotiation suite. Its default run counts add up to 10^4 cases (CI); FUZZ_RUNS=100 runs 10^6.
import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import { ClientSession, ServerSession } from "../src/index.js";
import { CB, makePair, type PairOptions } from "./harness.js";

const MECHANISMS = [
  "SCRAM-SHA-1",
  "SCRAM-SHA-256",
  "SCRAM-SHA-512",
  "SCRAM-SHA-1-PLUS",
  "SCRAM-SHA-256-PLUS",
  "SCRAM-SHA-512-PLUS",
  "PLAIN",
] as const;
const CB_TYPES = ["tls-exporter", "tls-unique", "tls-server-end-point"] as const;

const scenario = fc.record({
  framing: fc.constantFrom("stream" as const, "websocket" as const),
  mechanism: fc.constantFrom(...MECHANISMS),
  cbType: fc.constantFrom(...CB_TYPES),
  tls: fc.constantFrom("starttls" as const, "direct" as const, "none" as const),
  c2s: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 6 }),
  s2c: fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 6 }),
  resource: fc.option(fc.constantFrom("balcony", "orchard", "Ŋ/with@odd chars"), { nil: undefined }),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function options(s: Scenario): { opts: PairOptions; direct: boolean; valid: boolean } {
  const plus = s.mechanism.endsWith("-PLUS");
  // -PLUS needs TLS (channel-binding data); the WebSocket framing has no STARTTLS (wss: is "direct").
  const tls = s.framing === "websocket" && s.tls === "starttls" ? "direct" : s.tls;
  const valid = !(plus && tls === "none");
  const channelBinding = tls === "none" ? {} : { [s.cbType]: CB[s.cbType] };
  const jid = `juliet@im.example.com${s.resource === undefined ? "" : `/${s.resource}`}`;
  const clientTls = tls === "starttls" ? "required" : tls === "direct" ? "direct" : "none";
  const serverTls = tls === "starttls" ? "required" : tls === "direct" ? "direct" : "none";
  return {
    direct: tls === "direct",
    valid,
    opts: {
      channelBinding,
      chunks: { c2s: s.c2s, s2c: s.s2c },
      client: { framing: s.framing, mechanisms: [s.mechanism], tls: clientTls, allowPlainInClear: true, jid },
      server: { framing: s.framing, tls: serverTls, allowPlainInClear: true },
    },
  };
}

function start(opts: PairOptions, direct: boolean) {
  const p = makePair(opts);
  if (direct) {
    p.client.tlsEstablished({ channelBinding: opts.channelBinding ?? {} }, 0);
    p.server.tlsEstablished({ channelBinding: opts.channelBinding ?? {} }, 0);
  }
  p.client.start(0);
  p.server.start(0);
  return p;
}

describe("client core ↔ server core", () => {
  it("every mechanism, framing, TLS mode and chunking reaches online with matching JIDs", () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { opts, direct, valid } = options(s);
        fc.pre(valid);
        const p = start(opts, direct);
        p.run(5_000);
        expect(p.client.state).toBe("online");
        expect(p.server.state).toBe("online");
        expect(p.server.jid?.equals(p.client.jid)).toBe(true);
        expect(p.client.jid.bare.toString()).toBe("juliet@im.example.com");
        const auth = p.clientEvents.find((e) => e.type === "authenticated");
        expect(auth?.type === "authenticated" && auth.mechanism).toBe(s.mechanism);
      }),
      fuzz(1000),
    );
  });

  const mutation = fc.record({
    dir: fc.constantFrom("c2s" as const, "s2c" as const),
    index: fc.nat({ max: 12 }),
    kind: fc.constantFrom("flip" as const, "truncate" as const, "drop" as const, "insert" as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0, max: 255 }),
  });

  it("mutating, truncating or dropping bytes never throws, never hangs, and ends online or closed on both sides", () => {
    fc.assert(
      fc.property(scenario, fc.array(mutation, { minLength: 1, maxLength: 3 }), (s, muts) => {
        const { opts, direct, valid } = options(s);
        fc.pre(valid);
        let truncated = false;
        opts.mutate = (dir, bytes, index) => {
          let b = bytes;
          for (const m of muts) {
            if (m.dir !== dir || m.index !== index) continue;
            const at = b.length === 0 ? 0 : m.at % b.length;
            if (m.kind === "drop") return undefined;
            if (m.kind === "truncate") {
              truncated = true;
              b = b.slice(0, at);
            } else if (m.kind === "flip") {
              b = b.slice();
              if (b.length > 0) b[at] = m.byte;
            } else {
              const c = new Uint8Array(b.length + 1);
              c.set(b.subarray(0, at));
              c[at] = m.byte;
              c.set(b.subarray(at), at + 1);
              b = c;
            }
          }
          return b;
        };
        void truncated;
        const p = start(opts, direct);
        const steps = p.run(5_000);
        expect(steps).toBeLessThan(5_000);
        // Whatever is still waiting for the peer runs into its deadline; a closed peer closes the transport.
        const far = 10 * 60_000;
        for (const side of [p.client, p.server]) {
          for (let i = 0; i < 5 && side.state !== "closed" && side.state !== "online"; i++) {
            const t = side.nextTimeout();
            side.handleTimeout(t === undefined ? far : Math.max(t, 0));
            if (t === undefined) side.transportClosed(far);
          }
        }
        if (p.client.state === "closed" && p.server.state !== "closed") p.server.transportClosed(far);
        if (p.server.state === "closed" && p.client.state !== "closed") p.client.transportClosed(far);
        p.run(5_000);
        for (const [side, events] of [
          [p.client, p.clientEvents],
          [p.server, p.serverEvents],
        ] as const) {
          expect(["online", "closed"]).toContain(side.state);
          if (side.state === "closed") {
            const closed = events.filter((e) => e.type === "closed");
            expect(closed).toHaveLength(1);
            expect(events.at(-1)?.type).toBe("closed");
            expect(side.nextTimeout()).toBeUndefined();
          }
        }
      }),
      fuzz(3000),
    );
  });
});

describe("arbitrary input straight into one core", () => {
  const fragments = fc.constantFrom(
    "<stream:stream to='im.example.com' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
    "<stream:stream from='im.example.com' id='i' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>",
    "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
    "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>",
    "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldAByMG0zMG15cjBtMzA=</auth>",
    "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>biwsbj1qdWxpZXQscj1hYmM=</auth>",
    "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>=</response>",
    "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>cj1h</challenge>",
    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>",
    "<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>",
    "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>",
    "<iq type='result' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@im.example.com/r</jid></bind></iq>",
    "<message to='romeo@example.net'><body>x</body></message>",
    "<presence/>",
    "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
    "</stream:stream>",
    " ",
    "<",
    "&amp;",
    "\u00e9",
  );
  const input = fc.array(fc.oneof(fragments, fc.string({ maxLength: 8 })), { maxLength: 12 });

  it("the server never throws and ends in a defined state", () => {
    fc.assert(
      fc.property(input, fc.constantFrom("stream" as const, "websocket" as const), (parts, framing) => {
        const s = new ServerSession({ framing, tls: "optional", allowPlainInClear: true });
        s.start(0);
        for (const part of parts) {
          if (s.state === "tls-handshake") s.tlsEstablished({ channelBinding: {} }, 0);
          if (framing === "stream") s.receive(new TextEncoder().encode(part), 0);
          else s.receiveMessage(part, false, 0);
          for (let ev = s.pollEvent(); ev; ev = s.pollEvent()) {
            if (ev.type === "host-check") s.answerHost(true);
            else if (ev.type === "verify-password") s.answerPassword(true);
            else if (ev.type === "scram-credentials") s.answerScramCredentials(null);
            else if (ev.type === "bind-request") s.answerBind({ accept: ev.resource });
          }
          while (s.pollTransmit()) {}
        }
        s.handleTimeout(1e9);
        expect(s.state).toMatch(/^(online|closed)$/);
      }),
      fuzz(3000),
    );
  });

  it("the client never throws and ends in a defined state", () => {
    fc.assert(
      fc.property(input, fc.constantFrom("stream" as const, "websocket" as const), (parts, framing) => {
        const c = new ClientSession({ jid: "juliet@im.example.com/r", password: "r0m30myr0m30", framing, tls: "optional", allowPlainInClear: true, mechanisms: ["PLAIN", "SCRAM-SHA-1"] });
        c.start(0);
        for (const part of parts) {
          if (c.state === "tls-handshake") c.tlsEstablished({ channelBinding: {} }, 0);
          if (framing === "stream") c.receive(new TextEncoder().encode(part), 0);
          else c.receiveMessage(part, false, 0);
          for (let ev = c.pollEvent(); ev; ev = c.pollEvent()) {
            if (ev.type === "auth-failed" && ev.canRetry) c.supplyCredentials({ password: "again" });
          }
          while (c.pollTransmit()) {}
        }
        c.handleTimeout(1e9);
        expect(c.state).toMatch(/^(online|closed)$/);
      }),
      fuzz(3000),
    );
  });
});
