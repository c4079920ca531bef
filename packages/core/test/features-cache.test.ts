// The server reuses the markup of `<stream:features/>` across the sessions of one options object
// (ServerFeature.offerKey): the bytes on the wire are those of a freshly built element, a replaced option
// starts a new cache, and a feature that cannot give a key is built every time.
import { xml } from "@xmpp-sansio/xml";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type ServerFeature, type ServerOptions, ServerSession, registerFeature, type StreamFeature, streamManagement } from "../src/index.js";
import { StreamFraming, WebSocketFraming } from "../src/session-framing.js";
import { CB, DOMAIN, dec, enc, makePair, type PairOptions } from "./harness.js";

type Inside = { featuresMarkup: Map<string, string>; sasl: { offered: string[]; cbAdvertised: string[] | undefined } };
const inside = (s: ServerSession) => s as unknown as Inside;
/** The same bytes every call: stream ids and nonces repeat, so transcripts compare. */
const constantRandom = (b: Uint8Array) => b.fill(7);

/** Logs in once; returns the server's output as text and the pair. */
function login(serverOptions: ServerOptions, extra: PairOptions = {}) {
  const p = makePair({ channelBinding: CB, ...extra, serverOptions, client: { random: constantRandom, ...extra.client } as never });
  const out: string[] = [];
  const poll = p.server.pollTransmit.bind(p.server);
  p.server.pollTransmit = () => {
    const b = poll();
    if (b !== undefined) out.push(dec(b));
    return b;
  };
  p.client.start(0);
  p.run();
  return { p, wire: out.join("") };
}

const CONFIGS: Array<[string, () => ServerOptions, PairOptions]> = [
  ["STARTTLS, SASL with channel binding, SASL2 + Bind2 + SM, registration", () => ({ random: constantRandom, sasl2: { bind2Inline: ["urn:xmpp:carbons:2"] }, features: [streamManagement(), registerFeature({ server: { registration: true } })] }), { client: { sasl2: { userAgent: { id: "d4565fa7-4d72-4749-b3d3-740edbf87770", software: "t" } } } as never }],
  ["STARTTLS, RFC 6120 SASL without channel binding", () => ({ random: constantRandom }), { channelBinding: {} }],
  ["no TLS, PLAIN", () => ({ random: constantRandom, tls: "none", mechanisms: ["PLAIN"], allowPlainInClear: true }), { client: { tls: "none", mechanisms: ["PLAIN"], allowPlainInClear: true } as never }],
  ["WebSocket framing", () => ({ random: constantRandom, tls: "none", framing: "websocket", mechanisms: ["PLAIN"], allowPlainInClear: true }), { client: { tls: "none", framing: "websocket", mechanisms: ["PLAIN"], allowPlainInClear: true } as never }],
];

describe("features markup cache", () => {
  afterEach(() => vi.restoreAllMocks());

  it.each(CONFIGS)("%s: the wire of a session served from the cache is that of a freshly built one", (_name, options, extra) => {
    const fresh = login(options(), extra);
    expect(fresh.p.server.state).toBe("online");
    const shared = options();
    const first = login(shared, extra);
    const reuse = vi.spyOn(extra.client?.framing === "websocket" ? WebSocketFraming.prototype : StreamFraming.prototype, "writeMarkup");
    const second = login(shared, extra);
    expect(second.p.server.state).toBe("online");
    expect(first.wire).toBe(fresh.wire);
    expect(second.wire).toBe(fresh.wire);
    // Every <stream:features/> of the second login came from the cache (one per stream header, at least two).
    const headers = (fresh.wire.match(/<stream:features/g) ?? []).length;
    expect(headers).toBeGreaterThanOrEqual(2);
    expect(reuse).toHaveBeenCalledTimes(headers);
    expect(inside(second.p.server).featuresMarkup).toBe(inside(first.p.server).featuresMarkup);
    expect(inside(fresh.p.server).featuresMarkup).not.toBe(inside(first.p.server).featuresMarkup);
  });

  it("a cached offer still sets what SASL offered: a mechanism not offered is refused, an offered one runs", () => {
    const options: ServerOptions = { random: constantRandom, tls: "none", mechanisms: ["SCRAM-SHA-1", "PLAIN"], allowPlainInClear: true };
    const open = (s: ServerSession) => {
      s.receive(enc(`<?xml version='1.0'?><stream:stream to='${DOMAIN}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`), 0);
      for (let ev = s.pollEvent(); ev !== undefined; ev = s.pollEvent()) if (ev.type === "host-check") s.answerHost(true);
      return dec(s.pollTransmit()!);
    };
    const first = new ServerSession(options);
    const second = new ServerSession(options);
    const reuse = vi.spyOn(StreamFraming.prototype, "writeMarkup");
    const wire = open(first);
    expect(reuse).not.toHaveBeenCalled();
    expect(open(second)).toBe(wire);
    expect(reuse).toHaveBeenCalledTimes(1);
    expect(inside(second).sasl.offered).toEqual(["SCRAM-SHA-1", "PLAIN"]);
    second.receive(enc("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>biwsbj1qdWxpZXQscj1hYmM=</auth>"), 0);
    expect(dec(second.pollTransmit()!)).toContain("<invalid-mechanism/>");
    second.receive(enc("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldAByMG0zMG15cjBtMzA=</auth>"), 0);
    const events: string[] = [];
    for (let ev = second.pollEvent(); ev !== undefined; ev = second.pollEvent()) events.push(ev.type);
    expect(events).toContain("verify-password");
  });

  it("a replaced option value starts a new cache, and the features follow it", () => {
    const options: ServerOptions = { random: constantRandom, mechanisms: ["SCRAM-SHA-1"] };
    const a = login(options);
    expect(a.wire).toContain("<mechanism>SCRAM-SHA-1</mechanism>");
    options.mechanisms = ["SCRAM-SHA-256"];
    const b = login(options, { client: { random: constantRandom, mechanisms: ["SCRAM-SHA-256"] } as never });
    expect(b.p.server.state).toBe("online");
    expect(b.wire).toContain("<mechanism>SCRAM-SHA-256</mechanism>");
    expect(b.wire).not.toContain("<mechanism>SCRAM-SHA-1</mechanism>");
    expect(inside(b.p.server).featuresMarkup).not.toBe(inside(a.p.server).featuresMarkup);
    // Features registered: a new array is a new configuration.
    options.features = [streamManagement()];
    const c = login(options, { client: { random: constantRandom, mechanisms: ["SCRAM-SHA-256"] } as never });
    expect(c.wire).toContain("<sm xmlns='urn:xmpp:sm:3'/>");
  });

  it("a feature without offerKey (or whose key is undefined) is built for every stream; the rest still works", () => {
    let n = 0;
    const greeting: StreamFeature = {
      name: "greeting",
      availability: {},
      restarts: false,
      mandatory: false,
      namespaces: ["urn:example:greeting"],
      server: (): ServerFeature => ({ offer: () => xml("greeting", { xmlns: "urn:example:greeting", n: String(++n) }), handleElement: () => {} }),
    };
    const options: ServerOptions = { random: constantRandom, features: [greeting] };
    const a = login(options);
    const b = login(options);
    expect(b.p.server.state).toBe("online");
    expect(a.wire).toContain("n='1'");
    expect(b.wire).toContain(`n='${n}'`);
    expect(inside(b.p.server).featuresMarkup.size).toBe(0);
    let m = 0;
    const keyless: StreamFeature = { ...greeting, server: (): ServerFeature => ({ offer: () => xml("greeting", { xmlns: "urn:example:greeting", m: String(++m) }), offerKey: () => undefined, handleElement: () => {} }) };
    const o2: ServerOptions = { random: constantRandom, features: [keyless] };
    login(o2);
    const d = login(o2);
    expect(d.wire).toContain(`m='${m}'`);
    expect(m).toBeGreaterThanOrEqual(4);
  });
});
