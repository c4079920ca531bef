// Sessions created with equal options share their merged timeouts and limits (one frozen object, not a
// copy each), a caller who mutates its options object gets a fresh merge, and an idle session lets go of
// what it kept from negotiation — without any change on the wire.
import { StreamParser, xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { reachable } from "../../../test-support/reach.js";
import { ServerSession } from "../src/index.js";
import { sharedMerge } from "../src/shared-options.js";
import { makePair } from "./harness.js";

// White-box: the fields whose sharing is the point.
type Inside = { timeouts: object; fullLimits: object; preAuthLimits: object; framing: { context: object; parser: { core: { limits: object; stack: unknown[] } } }; sasl: { offered: string[] } | undefined };
const inside = (s: ServerSession) => s as unknown as Inside;

describe("shared options", () => {
  it("sharedMerge: one frozen object for equal inputs; a mutated input is merged again", () => {
    const base = Object.freeze({ a: 1, b: 2 });
    const over: { b?: number } = { b: 3 };
    const m1 = sharedMerge<{ a: number; b: number }>(base, over);
    expect(m1).toEqual({ a: 1, b: 3 });
    expect(Object.isFrozen(m1)).toBe(true);
    expect(sharedMerge<{ a: number; b: number }>(base, over)).toBe(m1);
    over.b = 4;
    const m2 = sharedMerge<{ a: number; b: number }>(base, over);
    expect(m2).toEqual({ a: 1, b: 4 });
    expect(sharedMerge<{ a: number; b: number }>(base, undefined)).toBe(base);
    delete over.b;
    expect(sharedMerge<{ a: number; b: number }>(base, over)).toEqual({ a: 1, b: 2 });
  });

  it("two server sessions with the same options objects share timeouts and limits, also in their parsers", () => {
    const timeouts = { keepaliveMs: 1000 };
    const limits = { maxStanzaBytes: 100_000 };
    const a = new ServerSession({ tls: "none", timeouts, limits });
    const b = new ServerSession({ tls: "none", timeouts, limits });
    const c = new ServerSession({ tls: "none", timeouts: { keepaliveMs: 2000 }, limits });
    expect(inside(a).timeouts).toBe(inside(b).timeouts);
    expect(inside(a).fullLimits).toBe(inside(b).fullLimits);
    expect(inside(a).preAuthLimits).toBe(inside(b).preAuthLimits);
    expect(inside(a).framing.parser.core.limits).toBe(inside(b).framing.parser.core.limits);
    expect(inside(c).timeouts).not.toBe(inside(a).timeouts);
    expect(inside(a).timeouts).toMatchObject({ keepaliveMs: 1000, negotiationMs: 60_000 });
    expect(inside(a).preAuthLimits).toMatchObject({ maxStanzaBytes: 16 * 1024 });
    const d = new ServerSession({ tls: "none" });
    const e = new ServerSession({ tls: "none" });
    expect(inside(d).timeouts).toBe(inside(e).timeouts);
  });

  it("sessions made with one options object share their SASL options (a changed object gets new ones) and their flags object; the failure count is the stream's own", () => {
    const options: { tls: "none"; mechanisms: string[]; allowPlainInClear: boolean } = { tls: "none", mechanisms: ["PLAIN"], allowPlainInClear: true };
    const sasl = (s: ServerSession) => (s as unknown as { sasl: { o: object; counter: unknown } }).sasl;
    const a = new ServerSession(options);
    const b = new ServerSession(options);
    expect(sasl(a).o).toBe(sasl(b).o);
    expect(sasl(a).o).not.toHaveProperty("counter");
    expect(sasl(a).counter).toBeUndefined(); // made at the first failure, per stream
    expect(a.flags).toBe(b.flags);
    const defs = (s: ServerSession) => (s as unknown as { defs: unknown[] }).defs;
    expect(defs(a)).toBe(defs(b)); // the features' definitions: one list
    expect(defs(a).length).toBeGreaterThan(2);
    options.mechanisms = ["SCRAM-SHA-256"];
    const c = new ServerSession(options);
    expect(sasl(c).o).not.toBe(sasl(a).o);
    expect(sasl(c).o).toMatchObject({ mechanisms: ["SCRAM-SHA-256"] });
    expect(a.flags).toEqual({ secure: false, authenticated: false, bound: false });
  });

  it("online: the stream context is shared, SASL's offer is let go, trim() shrinks the parser's stack; the wire is unchanged", () => {
    const p = makePair({ server: { tls: "none", mechanisms: ["PLAIN"], allowPlainInClear: true }, client: { tls: "none", mechanisms: ["PLAIN"], allowPlainInClear: true } as never });
    const q = makePair({ server: { tls: "none", mechanisms: ["PLAIN"], allowPlainInClear: true }, client: { tls: "none", mechanisms: ["PLAIN"], allowPlainInClear: true } as never });
    for (const x of [p, q]) {
      x.client.start(0);
      x.server.start(0);
      x.run();
      expect(x.server.state).toBe("online");
    }
    expect(inside(p.server).framing.context).toBe(inside(q.server).framing.context);
    // SASL and binding are over: their halves are shared stand-ins, the session keeps none of its own.
    expect(inside(p.server).sasl).toBeUndefined();
    expect(p.server.featureHalf("sasl")).toBe(q.server.featureHalf("sasl"));
    expect(p.server.featureHalf("bind")).toBe(q.server.featureHalf("bind"));
    // A deep stanza grows the parser's stack; trim() gives it back between stanzas.
    let deep = xml("x", { xmlns: "urn:example:deep" });
    for (let i = 0; i < 40; i++) deep = xml("x", { xmlns: "urn:example:deep" }, deep);
    p.client.send(xml("message", { to: "romeo@example.net", id: "d1" }, deep));
    p.run();
    expect(inside(p.server).framing.parser.core.stack.length).toBeGreaterThan(3);
    p.server.trim();
    expect(inside(p.server).framing.parser.core.stack.length).toBe(3);
    p.client.send(xml("message", { to: "romeo@example.net", id: "d2" }, deep));
    p.run();
    const ids = p.serverEvents.flatMap((e) => (e.type === "stanza" ? [e.stanza.attr("id")] : []));
    expect(ids).toEqual(["d1", "d2"]);
  });

  it("StreamParser.trim() between elements changes no event", () => {
    const enc = new TextEncoder();
    const input = "<s xmlns='a'><a><b><c><d/></c></b></a><e><f/></e></s>";
    const run = (trim: boolean) => {
      const parser = new StreamParser({ fastPath: false });
      const out: string[] = [];
      for (const ch of input) {
        parser.push(enc.encode(ch));
        for (let ev = parser.next(); ev !== undefined; ev = parser.next()) out.push(ev.kind === "element" ? `${ev.kind}:${ev.element.name}:${ev.element.children.length}` : ev.kind);
        if (trim) parser.trim();
      }
      return out;
    };
    expect(run(true)).toEqual(run(false));
  });
});

describe("online: what negotiation needed is let go", () => {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  const online = () => {
    const p = makePair({ server: { tls: "none", mechanisms: ["PLAIN"], allowPlainInClear: true }, client: { tls: "none", mechanisms: ["PLAIN"], allowPlainInClear: true } as never });
    p.client.start(0);
    p.server.start(0);
    p.run();
    expect(p.server.state).toBe("online");
    return p;
  };
  const output = (s: ServerSession) => {
    let out = "";
    for (let b = s.pollTransmit(); b !== undefined; b = s.pollTransmit()) out += dec.decode(b);
    return out;
  };

  it("an online session reaches no SASL or binding state of its own, nor the client's header 'from'", () => {
    const [p, q] = [online(), online()];
    // Everything one session reaches through its own fields (arrays, maps, objects), minus what the other reaches too.
    const other = reachable(q.server);
    const own = [...reachable(p.server)].filter((o) => !other.has(o));
    const names = own.map((o) => (o as object).constructor?.name);
    expect(names).toContain("ServerSession");
    expect(names).not.toContain("SaslServer");
    expect(names).not.toContain("BindServer");
    expect((p.server as unknown as { peerFrom?: string }).peerFrom).toBeUndefined();
  });

  it("a late <auth/> still ends the stream with <unsupported-stanza-type/>; a second <bind/> is still refused with <not-allowed/>", () => {
    const p = online();
    p.server.receive(enc.encode("<iq type='set' id='b2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>again</resource></bind></iq>"), 1);
    const bindReply = output(p.server);
    expect(bindReply).toContain("id='b2'");
    expect(bindReply).toContain("<not-allowed");
    expect(p.server.state).toBe("online");
    p.server.receive(enc.encode("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldAB4</auth>"), 2);
    expect(output(p.server)).toContain("<unsupported-stanza-type");
    expect(p.server.state).toBe("closed");
  });
});

describe("base64url", () => {
  it("is base64 with - and _ and no padding, for every length", async () => {
    const { base64url } = await import("../src/shared-options.js");
    for (let n = 0; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 31) & 255);
      const expected = Buffer.from(bytes).toString("base64").replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      expect(base64url(bytes)).toBe(expected);
    }
  });
});

describe("online sessions let go of the channel-binding data", () => {
  it("SCRAM-SHA-512-PLUS over STARTTLS used it; once online neither side keeps it", async () => {
    const { CB } = await import("./harness.js");
    const p = makePair({ channelBinding: CB });
    p.client.start(0);
    p.server.start(0);
    p.run();
    expect(p.server.state).toBe("online");
    expect(p.clientEvents.find((e) => e.type === "authenticated")).toMatchObject({ mechanism: "SCRAM-SHA-512-PLUS" });
    const tlsOf = (s: object) => (s as { tls?: { channelBinding: object } }).tls;
    expect(tlsOf(p.server)?.channelBinding).toEqual({});
    expect(tlsOf(p.client)?.channelBinding).toEqual({});
  });
});
