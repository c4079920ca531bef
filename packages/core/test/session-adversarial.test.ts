// One test per adversarial case, each asserting the exact condition.
import { base64Encode } from "@xmpp-sansio/sasl";
import { xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { ClientSession, type ClientEvent, SASL_FAILURE_CONDITIONS, STREAM_ERROR_CONDITIONS, type ServerEvent, ServerSession } from "../src/index.js";
import { ACCOUNTS, DOMAIN, dec, enc, scramFor, seededRandom } from "./harness.js";

const HEADER = (attrs = "to='im.example.com' version='1.0'") =>
  `<?xml version='1.0'?><stream:stream ${attrs} xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;
const plain = (authzid: string, user: string, pw: string) => base64Encode(enc(`${authzid}\u0000${user}\u0000${pw}`));

/** A server session driven by scripted client bytes; questions answered from the account table. */
class ServerHarness {
  readonly s: ServerSession;
  readonly events: ServerEvent[] = [];
  out = "";
  now = 0;
  constructor(opts: ConstructorParameters<typeof ServerSession>[0] = {}) {
    this.s = new ServerSession({ random: seededRandom(5), tls: "none", allowPlainInClear: true, ...opts });
  }
  feed(text: string | Uint8Array): this {
    this.s.receive(typeof text === "string" ? enc(text) : text, this.now);
    this.drain();
    return this;
  }
  drain(): void {
    for (let ev = this.s.pollEvent(); ev; ev = this.s.pollEvent()) {
      this.events.push(ev);
      if (ev.type === "host-check") this.s.answerHost(ev.domain === DOMAIN);
      else if (ev.type === "verify-password") this.s.answerPassword(ACCOUNTS.get(ev.username)?.password === ev.password);
      else if (ev.type === "scram-credentials") {
        const a = ACCOUNTS.get(ev.username);
        this.s.answerScramCredentials(a ? scramFor("SHA-256", a.password) : null);
      } else if (ev.type === "bind-request") this.s.answerBind({ accept: ev.resource });
    }
    for (let b = this.s.pollTransmit(); b; b = this.s.pollTransmit()) this.out += dec(b);
  }
  /** Opens, authenticates with PLAIN and binds 'balcony'. */
  online(): this {
    this.feed(HEADER()).feed(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain("", "juliet", "r0m30myr0m30")}</auth>`);
    this.feed(HEADER()).feed("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind></iq>");
    expect(this.s.state).toBe("online");
    this.out = "";
    return this;
  }
  streamError(): string | undefined {
    const ev = this.events.find((e) => e.type === "stream-error");
    return ev?.type === "stream-error" ? ev.condition : undefined;
  }
  /** The condition of the stream error written on the wire, and that the stream was closed after it. */
  wireStreamError(): string | undefined {
    const m = /<stream:error><([a-z-]+) xmlns='urn:ietf:params:xml:ns:xmpp-streams'/.exec(this.out);
    if (m && !this.out.endsWith("</stream:stream>")) throw new Error("stream error not followed by </stream:stream>");
    return m?.[1];
  }
  saslFailure(): string | undefined {
    return /<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><([a-z-]+)\/>/.exec(this.out)?.[1];
  }
}

function expectFatal(h: ServerHarness, condition: string): void {
  expect(h.streamError()).toBe(condition);
  expect(h.wireStreamError()).toBe(condition);
  expect(h.events.at(-1)).toEqual({ type: "closed", reason: "stream-error" });
  expect(h.s.state).toBe("closed");
  // Sticky: further input is ignored, nothing more is produced.
  h.out = "";
  h.feed("<message/>");
  expect(h.out).toBe("");
}

describe("server: stream header", () => {
  it("'to' not served → <host-unknown/>", () => {
    const h = new ServerHarness().feed(HEADER("to='elsewhere.example' version='1.0'"));
    // §4.9.1.2: our header goes out before the error.
    expect(h.out.startsWith("<?xml version='1.0'?><stream:stream ")).toBe(true);
    expectFatal(h, "host-unknown");
  });
  it("'to' missing without a default domain → <host-unknown/>; with one → accepted", () => {
    expectFatal(new ServerHarness().feed(HEADER("version='1.0'")), "host-unknown");
    const ok = new ServerHarness({ defaultDomain: DOMAIN }).feed(HEADER("version='1.0'"));
    expect(ok.out).toContain("from='im.example.com'");
    expect(ok.s.state).toBe("negotiating");
  });
  it("version='2.0' → <unsupported-version/>", () => {
    expectFatal(new ServerHarness().feed(HEADER("to='im.example.com' version='2.0'")), "unsupported-version");
  });
  it("no version (pre-1.0) → <unsupported-version/>; version 1.1 is answered with 1.0", () => {
    expectFatal(new ServerHarness().feed(HEADER("to='im.example.com'")), "unsupported-version");
    const h = new ServerHarness().feed(HEADER("to='im.example.com' version='1.1'"));
    expect(h.out).toContain("version='1.0'");
    expect(h.s.state).toBe("negotiating");
  });
  it("wrong stream namespace → <invalid-namespace/>", () => {
    const h = new ServerHarness().feed("<stream:stream to='im.example.com' version='1.0' xmlns='jabber:client' xmlns:stream='http://example.com/streams'>");
    expectFatal(h, "invalid-namespace");
  });
  it("wrong content namespace → <invalid-namespace/>", () => {
    const h = new ServerHarness().feed("<stream:stream to='im.example.com' version='1.0' xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams'>");
    expectFatal(h, "invalid-namespace");
  });
  it("stream element without the stream prefix binding → <bad-namespace-prefix/>", () => {
    const h = new ServerHarness().feed("<stream:stream to='im.example.com' version='1.0' xmlns='jabber:client'>");
    expectFatal(h, "bad-namespace-prefix");
    expect(h.events.find((e) => e.type === "stream-error")).toMatchObject({ byPeer: false });
  });
  it("our response header has a fresh random id of ≥ 128 bits at each stream", () => {
    const h = new ServerHarness().feed(HEADER());
    const id1 = /id='([^']+)'/.exec(h.out)![1]!;
    h.feed(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain("", "juliet", "r0m30myr0m30")}</auth>`);
    h.out = "";
    h.feed(HEADER());
    const id2 = /id='([^']+)'/.exec(h.out)![1]!;
    expect(id1).not.toBe(id2);
    expect(id1.length).toBeGreaterThanOrEqual(22); // 16 bytes, base64url
  });
});

describe("server: before authentication", () => {
  it("stanzas before auth → <not-authorized/>", () => {
    expectFatal(new ServerHarness().feed(HEADER()).feed("<message to='romeo@example.net'><body>hi</body></message>"), "not-authorized");
  });
  it("<auth/> before required TLS → SASL <encryption-required/> (RFC 6120 §5.3.1, §6.5.3)", () => {
    const h = new ServerHarness({ tls: "required" }).feed(HEADER());
    expect(h.out).toContain("<required/>");
    expect(h.out).not.toContain("<mechanisms");
    h.feed(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain("", "juliet", "r0m30myr0m30")}</auth>`);
    expect(h.saslFailure()).toBe("encryption-required");
    expect(h.events).toContainEqual(expect.objectContaining({ type: "auth-failed", condition: "encryption-required" }));
  });
  it("PLAIN in the clear (not allowed) → not offered, and <encryption-required/> if tried", () => {
    const h = new ServerHarness({ tls: "optional", allowPlainInClear: false }).feed(HEADER());
    expect(h.out).not.toContain("<mechanism>PLAIN</mechanism>");
    h.feed(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain("", "juliet", "r0m30myr0m30")}</auth>`);
    expect(h.saslFailure()).toBe("encryption-required");
  });
  it("a second <starttls/> → <policy-violation/>", () => {
    const h = new ServerHarness({ tls: "required" }).feed(HEADER()).feed("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    expect(h.out).toContain("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    expect(h.events.at(-1)).toEqual({ type: "starttls", tlsBytes: new Uint8Array(0) });
    h.s.tlsEstablished({ channelBinding: {} }, 0);
    h.out = "";
    h.feed(HEADER());
    expect(h.out).not.toContain("starttls");
    h.feed("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    expectFatal(h, "policy-violation");
  });
  it("bytes after <starttls/> are TLS bytes, never parsed", () => {
    const h = new ServerHarness({ tls: "required" }).feed(HEADER());
    h.feed("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><message to='x@y'/>");
    const ev = h.events.at(-1);
    expect(ev?.type).toBe("starttls");
    expect(ev?.type === "starttls" && dec(ev.tlsBytes)).toBe("<message to='x@y'/>");
    expect(() => h.s.receive(enc("more"), 0)).toThrow(TypeError);
  });
  it("bad base64 → <incorrect-encoding/>", () => {
    const h = new ServerHarness().feed(HEADER()).feed("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>not*base64</auth>");
    expect(h.saslFailure()).toBe("incorrect-encoding");
  });
  it("unknown mechanism → <invalid-mechanism/>", () => {
    const h = new ServerHarness().feed(HEADER()).feed("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X-UNKNOWN'>AAAA</auth>");
    expect(h.saslFailure()).toBe("invalid-mechanism");
  });
  it("<abort/> → <aborted/>", () => {
    const h = new ServerHarness().feed(HEADER());
    h.feed(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>${base64Encode(enc("n,,n=juliet,r=abcdefghijklmnop"))}</auth>`);
    expect(h.out).toContain("<challenge");
    h.feed("<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    expect(h.saslFailure()).toBe("aborted");
  });
  it("PLAIN authzid for another user → <invalid-authzid/>; own bare JID is fine", () => {
    const h = new ServerHarness().feed(HEADER());
    h.feed(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain("romeo@im.example.com", "juliet", "r0m30myr0m30")}</auth>`);
    expect(h.saslFailure()).toBe("invalid-authzid");
    h.out = "";
    h.feed(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain("juliet@im.example.com", "juliet", "r0m30myr0m30")}</auth>`);
    expect(h.out).toContain("<success");
  });
  it("wrong password → <not-authorized/>; after 3 failures → <policy-violation/> (RFC 6120 §6.4.5)", () => {
    const h = new ServerHarness().feed(HEADER());
    const bad = `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain("", "juliet", "nope")}</auth>`;
    h.feed(bad);
    expect(h.saslFailure()).toBe("not-authorized");
    h.feed(bad).feed(bad);
    expectFatal(h, "policy-violation");
  });
});

describe("server: after authentication", () => {
  it("stanzas before bind → <not-authorized/>", () => {
    const h = new ServerHarness().feed(HEADER());
    h.feed(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain("", "juliet", "r0m30myr0m30")}</auth>`).feed(HEADER());
    expectFatal(h.feed("<message to='romeo@example.net'/>"), "not-authorized");
  });
  it("bad resource (fails OpaqueString, or > 1023 bytes) → <bad-request/>", () => {
    const g = new ServerHarness().feed(HEADER());
    g.feed(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain("", "juliet", "r0m30myr0m30")}</auth>`).feed(HEADER());
    g.out = "";
    g.feed(`<iq type='set' id='b2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${"x".repeat(1024)}</resource></bind></iq>`);
    expect(g.out).toContain("<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>");
    expect(g.out).toContain("id='b2'");
    g.out = "";
    // U+0378 is unassigned: DISALLOWED in every PRECIS class.
    g.feed("<iq type='set' id='b3'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>a\u0378</resource></bind></iq>");
    expect(g.out).toContain("<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>");
    expect(g.s.state).toBe("negotiating");
    g.feed("<iq type='set' id='b4'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>ok</resource></bind></iq>");
    expect(g.s.state).toBe("online");
  });
  it("bind with two <resource/> (or anything but one) → <bad-request/>, never online (RFC 6120 §7.4)", () => {
    const g = new ServerHarness().feed(HEADER());
    g.feed(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain("", "juliet", "r0m30myr0m30")}</auth>`).feed(HEADER());
    for (const inner of ["<resource>a</resource><resource>b</resource>", "<jid>juliet@im.example.com/x</jid>", "<resource>a</resource><x xmlns='urn:other'/>"]) {
      g.out = "";
      g.feed(`<iq type='set' id='b5'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>${inner}</bind></iq>`);
      expect(g.out).toContain("<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>");
      expect(g.s.state).toBe("negotiating");
    }
  });
  it("a forged from → <invalid-from/>", () => {
    const h = new ServerHarness().online();
    h.feed("<message from='romeo@example.net/orchard' to='juliet@im.example.com'/>");
    expectFatal(h, "invalid-from");
  });
  it("from = own full or bare JID is accepted and re-stamped", () => {
    const h = new ServerHarness().online();
    h.feed("<message from='juliet@im.example.com' to='romeo@example.net'/>");
    const ev = h.events.at(-1);
    expect(ev?.type === "stanza" && ev.stanza.attr("from")).toBe("juliet@im.example.com/balcony");
    h.feed("<presence type='subscribe' from='juliet@im.example.com' to='romeo@example.net'/>");
    const p = h.events.at(-1);
    expect(p?.type === "stanza" && p.stanza.attr("from")).toBe("juliet@im.example.com");
  });
  it("a malformed 'to' → <jid-malformed/> stanza error, not routed", () => {
    const h = new ServerHarness().online();
    const n = h.events.length;
    h.feed("<message id='m1' to='@@bad'><body>x</body></message>");
    expect(h.out).toContain("<jid-malformed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>");
    expect(h.events.length).toBe(n);
    expect(h.s.state).toBe("online");
  });
  it("addresses parsed once for all sessions still give every session its own answers", () => {
    // The `to`/`from` cache is shared by the sessions of the process: the same strings, other sessions.
    for (let round = 0; round < 3; round++) {
      const h = new ServerHarness().online();
      h.feed("<message id='m1' to='Romeo@Example.NET/Orchard'><body>x</body></message>");
      const ev = h.events.at(-1);
      expect(ev?.type === "stanza" && ev.stanza.attr("to")).toBe("romeo@example.net/Orchard");
      expect(ev?.type === "stanza" && ev.stanza.attr("from")).toBe("juliet@im.example.com/balcony");
      h.feed("<message id='m2' to='@@bad'><body>x</body></message>");
      expect(h.out).toContain("<jid-malformed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>");
      h.feed("<message from='juliet@im.example.com/balcony' to='romeo@example.net'/>");
      expect(h.s.state).toBe("online");
      h.feed("<message from='romeo@example.net/orchard' to='juliet@im.example.com'/>");
      expectFatal(h, "invalid-from");
    }
  });
  it("IQ without id → <bad-request/>", () => {
    const h = new ServerHarness().online();
    h.feed("<iq type='get'><query xmlns='jabber:iq:roster'/></iq>");
    expect(h.out).toContain("<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>");
    expect(h.events.at(-1)?.type).toBe("online");
  });
  it("IQ get with two children → <bad-request/>", () => {
    const h = new ServerHarness().online();
    h.feed("<iq type='get' id='q1'><query xmlns='jabber:iq:roster'/><query xmlns='jabber:iq:version'/></iq>");
    expect(h.out).toMatch(/<iq[^>]*id='q1'[^>]*type='error'|type='error'[^>]*id='q1'/);
    expect(h.out).toContain("<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>");
  });
  it("IQ with an unknown type → <bad-request/>", () => {
    const h = new ServerHarness().online();
    h.feed("<iq type='fetch' id='q2'><query xmlns='jabber:iq:roster'/></iq>");
    expect(h.out).toContain("<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>");
  });
  it("unknown stanza element → <unsupported-stanza-type/>", () => {
    expectFatal(new ServerHarness().online().feed("<foo/>"), "unsupported-stanza-type");
  });
  it("XML-layer errors map 1:1: a comment → <restricted-xml/>", () => {
    expectFatal(new ServerHarness().online().feed("<!-- hi -->"), "restricted-xml");
  });
  it("pre-auth limits are smaller than post-auth limits", () => {
    const big = `<message to='romeo@example.net'><body>${"x".repeat(20_000)}</body></message>`;
    expectFatal(new ServerHarness().feed(HEADER()).feed(big), "policy-violation");
    const h = new ServerHarness().online().feed(big);
    expect(h.s.state).toBe("online");
  });
  it("a peer stream error is surfaced with text and application condition, then closed", () => {
    const h = new ServerHarness().online();
    h.feed(
      "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bye</text><x xmlns='urn:example'/></stream:error>",
    );
    const ev = h.events.find((e) => e.type === "stream-error");
    expect(ev).toMatchObject({ condition: "system-shutdown", text: "bye", byPeer: true });
    expect(ev?.type === "stream-error" && ev.applicationCondition?.ns).toBe("urn:example");
    expect(h.events.at(-1)).toEqual({ type: "closed", reason: "stream-error" });
    expect(h.out).toBe("</stream:stream>");
  });
});

describe("client", () => {
  const SERVER_HEADER = "<stream:stream from='im.example.com' id='x1' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
  function client(opts: Partial<ConstructorParameters<typeof ClientSession>[0]> = {}) {
    const c = new ClientSession({ jid: "juliet@im.example.com/balcony", password: "r0m30myr0m30", random: seededRandom(9), minScramIterations: 1, ...opts });
    c.start(0);
    c.pollTransmit();
    return c;
  }
  function events(c: ClientSession): ClientEvent[] {
    const out: ClientEvent[] = [];
    for (let ev = c.pollEvent(); ev; ev = c.pollEvent()) out.push(ev);
    return out;
  }
  it("STARTTLS stripping: TLS required, not offered → abort with <policy-violation/>", () => {
    const c = client();
    c.receive(
      enc(`${SERVER_HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`),
      1,
    );
    const evs = events(c);
    expect(evs).toContainEqual(expect.objectContaining({ type: "stream-error", condition: "policy-violation", byPeer: false }));
    expect(evs.at(-1)).toEqual({ type: "closed", reason: "stream-error" });
    const out = dec(c.pollTransmit()!);
    expect(out).toContain("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
    expect(out).not.toContain("<auth");
  });
  it("bytes after <proceed/> in the same chunk come out as tlsBytes, never as a stanza", () => {
    const c = client();
    c.receive(enc(`${SERVER_HEADER}<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>`), 1);
    events(c);
    expect(dec(c.pollTransmit()!)).toBe("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    const injected = "<message from='im.example.com'><body>injected</body></message>";
    c.receive(enc(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>${injected}`), 2);
    const evs = events(c);
    expect(evs).toHaveLength(1);
    expect(evs[0]?.type).toBe("starttls");
    expect(evs[0]?.type === "starttls" && dec(evs[0].tlsBytes)).toBe(injected);
    expect(c.state).toBe("tls-handshake");
  });
  it("a reply from a wrong JID is not matched: delivered as a stanza, the request stays outstanding", () => {
    const cl = client({ tls: "none", mechanisms: ["PLAIN"], allowPlainInClear: true });
    cl.receive(enc(`${SERVER_HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`), 1);
    cl.receive(enc("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"), 1);
    cl.pollTransmit();
    cl.receive(enc(`${SERVER_HEADER}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`), 1);
    const bindId = /id='([^']+)'/.exec(dec(cl.pollTransmit()!))![1];
    cl.receive(enc(`<iq type='result' id='${bindId}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@im.example.com/balcony</jid></bind></iq>`), 1);
    expect(cl.state).toBe("online");
    events(cl);
    const id = cl.sendIq(xml("iq", { type: "get", to: "pubsub.example.com" }, xml("query", { xmlns: "x" })), 1);
    cl.receive(enc(`<iq type='result' id='${id}' from='evil.example.com'/>`), 2);
    expect(events(cl)).toEqual([expect.objectContaining({ type: "stanza" })]);
    cl.receive(enc(`<iq type='result' id='${id}' from='pubsub.example.com'/>`), 3);
    expect(events(cl)).toEqual([expect.objectContaining({ type: "iq-response", id })]);
  });
  it("negotiation timeout → <connection-timeout/>", () => {
    const c = client({ timeouts: { negotiationMs: 1000 } });
    expect(c.nextTimeout()).toBe(1000);
    c.handleTimeout(999);
    expect(c.state).toBe("negotiating");
    c.handleTimeout(1000);
    expect(events(c)).toEqual([
      expect.objectContaining({ type: "stream-error", condition: "connection-timeout", byPeer: false }),
      { type: "closed", reason: "stream-error" },
    ]);
    expect(dec(c.pollTransmit()!)).toContain("<connection-timeout xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
  });
  it("server negotiation timeout too (armed by start or the first byte)", () => {
    const s = new ServerSession({ timeouts: { negotiationMs: 500 } });
    s.start(100);
    expect(s.nextTimeout()).toBe(600);
    s.handleTimeout(600);
    expect(s.state).toBe("closed");
    expect(dec(s.pollTransmit()!)).toContain("<connection-timeout xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
  });
  it("close handshake timeout → closed with reason timeout", () => {
    const c = client({ timeouts: { closeMs: 200 } });
    c.close(50);
    expect(dec(c.pollTransmit()!)).toBe("</stream:stream>");
    expect(c.nextTimeout()).toBe(250);
    c.handleTimeout(250);
    expect(events(c)).toEqual([{ type: "closed", reason: "timeout" }]);
    expect(c.nextTimeout()).toBeUndefined();
  });
  it("the server's SCRAM signature is verified: a wrong v= ends with auth-failed, never online", () => {
    const c = client({ tls: "none", mechanisms: ["SCRAM-SHA-1"] });
    c.receive(enc(`${SERVER_HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>`), 1);
    const auth = dec(c.pollTransmit()!);
    const first = new TextDecoder().decode(Uint8Array.from(atob(/>([^<]+)</.exec(auth)![1]!), (ch) => ch.charCodeAt(0)));
    const nonce = /r=([^,]+)/.exec(first)![1]!;
    c.receive(enc(`<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${base64Encode(enc(`r=${nonce}srv,s=${base64Encode(enc("salt"))},i=16`))}</challenge>`), 2);
    c.pollTransmit();
    c.receive(enc(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${base64Encode(enc("v=AAAAAAAAAAAAAAAAAAAAAAAAAAA="))}</success>`), 3);
    const evs = events(c);
    expect(evs).toContainEqual(expect.objectContaining({ type: "auth-failed", canRetry: false }));
    expect(evs.at(-1)).toEqual({ type: "closed", reason: "auth-failed" });
  });
  it("send() before online is a SessionStateError (TypeError)", () => {
    const c = client();
    expect(() => c.send(xml("message"))).toThrow(TypeError);
  });
});

describe("WebSocket framing (RFC 7395)", () => {
  const OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='im.example.com' version='1.0'/>";
  function ws() {
    const s = new ServerSession({ framing: "websocket", tls: "none", random: seededRandom(1) });
    const events: ServerEvent[] = [];
    const out: string[] = [];
    const feed = (m: string | Uint8Array, binary = false) => {
      s.receiveMessage(m, binary, 0);
      for (let ev = s.pollEvent(); ev; ev = s.pollEvent()) {
        events.push(ev);
        if (ev.type === "host-check") s.answerHost(true);
      }
      for (let b = s.pollTransmit(); b; b = s.pollTransmit()) out.push(dec(b));
    };
    return { s, events, out, feed };
  }
  it("answers <open/> with <open/> and features as separate messages", () => {
    const w = ws();
    w.feed(OPEN);
    expect(w.out).toHaveLength(2);
    expect(w.out[0]).toMatch(/^<open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/);
    expect(w.out[1]).toMatch(/^<stream:features xmlns:stream='http:\/\/etherx.jabber.org\/streams'>/);
  });
  it("binary frame → <unsupported-encoding/>", () => {
    const w = ws();
    w.feed(OPEN);
    w.feed(enc("<message/>"), true);
    expect(w.events).toContainEqual(expect.objectContaining({ type: "stream-error", condition: "unsupported-encoding" }));
    expect(w.out.at(-1)).toBe("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  });
  it("a message with two elements → <not-well-formed/>", () => {
    const w = ws();
    w.feed(OPEN);
    w.feed("<message/><message/>");
    expect(w.events).toContainEqual(expect.objectContaining({ type: "stream-error", condition: "not-well-formed" }));
  });
  it("<stream:stream> instead of <open/> → <invalid-namespace/>", () => {
    const w = ws();
    w.feed("<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:client' to='im.example.com' version='1.0'/>");
    expect(w.events).toContainEqual(expect.objectContaining({ type: "stream-error", condition: "invalid-namespace" }));
  });
  it("<close see-other-uri/> is surfaced on the closed event", () => {
    const w = ws();
    w.feed(OPEN);
    w.feed("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://other.example.com/ws'/>");
    expect(w.events.at(-1)).toEqual({ type: "closed", reason: "peer-closed", seeOtherUri: "wss://other.example.com/ws" });
    expect(w.out.at(-1)).toBe("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  });
  it("receive() is refused with WebSocket framing, receiveMessage() with stream framing", () => {
    expect(() => ws().s.receive(enc("x"), 0)).toThrow(TypeError);
    expect(() => new ServerSession().receiveMessage("x", false, 0)).toThrow(TypeError);
  });
});

describe("every condition from the peer", () => {
  const SERVER_HEADER = "<stream:stream from='im.example.com' id='x1' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
  const FEATURES = "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>";
  const collect = (c: ClientSession) => {
    const out: ClientEvent[] = [];
    for (let ev = c.pollEvent(); ev; ev = c.pollEvent()) out.push(ev);
    return out;
  };
  it.each(STREAM_ERROR_CONDITIONS.filter((c) => c !== "see-other-host"))("stream error <%s/> → stream-error byPeer, then closed", (condition) => {
    const c = new ClientSession({ jid: "juliet@im.example.com", password: "x", tls: "none", random: seededRandom(2) });
    c.start(0);
    c.pollTransmit();
    c.receive(enc(`${SERVER_HEADER}<stream:error><${condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>why</text></stream:error>`), 1);
    expect(collect(c)).toEqual([
      expect.objectContaining({ type: "stream-opened" }),
      { type: "stream-error", condition, text: "why", byPeer: true },
      { type: "closed", reason: "stream-error" },
    ]);
    expect(dec(c.pollTransmit()!)).toBe("</stream:stream>");
  });
  it("see-other-host carries the validated target", () => {
    const c = new ClientSession({ jid: "juliet@im.example.com", password: "x", tls: "none" });
    c.start(0);
    c.receive(enc(`${SERVER_HEADER}<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>[2001:db8::1]:5222</see-other-host></stream:error>`), 1);
    expect(collect(c)).toContainEqual({ type: "stream-error", condition: "see-other-host", seeOtherHost: "[2001:db8::1]:5222", byPeer: true });
  });
  const RETRYABLE = ["not-authorized", "temporary-auth-failure", "credentials-expired", "aborted"];
  it.each(SASL_FAILURE_CONDITIONS)("SASL <%s/> → auth-failed with the condition", (condition) => {
    const c = new ClientSession({ jid: "juliet@im.example.com", password: "x", tls: "none", allowPlainInClear: true, mechanisms: ["PLAIN"] });
    c.start(0);
    c.receive(enc(SERVER_HEADER + FEATURES), 1);
    c.receive(enc(`<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><${condition}/></failure>`), 2);
    const evs = collect(c);
    const canRetry = RETRYABLE.includes(condition);
    expect(evs).toContainEqual({ type: "auth-failed", condition, canRetry });
    expect(c.state).toBe(canRetry ? "negotiating" : "closed");
  });
  it("the client gives up after maxAuthAttempts", () => {
    const c = new ClientSession({ jid: "juliet@im.example.com", password: "x", tls: "none", allowPlainInClear: true, mechanisms: ["PLAIN"], maxAuthAttempts: 2 });
    c.start(0);
    c.receive(enc(SERVER_HEADER + FEATURES), 1);
    c.receive(enc("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"), 2);
    c.supplyCredentials({ password: "y" });
    c.receive(enc("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"), 3);
    expect(collect(c).filter((e) => e.type === "auth-failed").map((e) => e.type === "auth-failed" && e.canRetry)).toEqual([true, false]);
    expect(c.state).toBe("closed");
  });
});

describe("exact restart boundaries", () => {
  it("server: a stream header pipelined right after <auth/> is the new stream (restart at the exact byte)", () => {
    const h = new ServerHarness().feed(HEADER());
    h.feed(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain("", "juliet", "r0m30myr0m30")}</auth>${HEADER()}`);
    expect(h.events.map((e) => e.type)).toEqual(["stream-opened", "host-check", "verify-password", "authenticated", "stream-opened"]);
    expect(h.out).toContain("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>");
  });
  it("client: <success/>, the new header and features in one chunk", () => {
    const H = "<stream:stream from='im.example.com' id='x' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
    const c = new ClientSession({ jid: "juliet@im.example.com/balcony", password: "x", tls: "none", allowPlainInClear: true, mechanisms: ["PLAIN"] });
    c.start(0);
    c.receive(enc(`${H}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`), 1);
    c.pollTransmit();
    c.receive(enc(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>${H}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`), 2);
    const out = dec(c.pollTransmit()!);
    expect(out).toMatch(/^<\?xml version='1.0'\?><stream:stream [^>]*>/);
    expect(out).toContain("<resource>balcony</resource>");
  });
});
