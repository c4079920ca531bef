// XEP-0198 Stream Management in both roles: enabling, acknowledgements, resumption, failures, what
// happens to stanzas that cannot be delivered, counters modulo 2^32, keepalive probes.
import { describe, expect, it } from "vitest";
import { parseJid } from "@xmpp-sansio/jid";
import { xml } from "@xmpp-sansio/xml";
import { ClientSession, DetachedSessions, Ledger, ServerSession, type SmState, SmClient, SmServer, smClient, smClientFeature, smServer, smServerFeature, streamManagement } from "../src/index.js";
import { dec, DOMAIN, enc, makePair, scramFor, seededRandom } from "./harness.js";
import { World } from "./sm-world.js";

const SM = "urn:xmpp:sm:3";
/** Acks only on request: nothing is acknowledged behind a test's back. */
const LAZY = { ackEvery: 100, ackAfterMs: 10_000 };

/** A world whose client is online. */
function onlineWorld(o: ConstructorParameters<typeof World>[0] = {}): World {
  const w = new World(o);
  w.connect();
  w.run();
  return w;
}

describe("XEP-0198: one role per factory (a client bundle drops the server half)", () => {
  it("smClientFeature has only the client half, smServerFeature only the server half, streamManagement both; same checks", () => {
    const c = smClientFeature();
    const s = smServerFeature();
    const both = streamManagement();
    expect([c.client !== undefined, c.server !== undefined]).toEqual([true, false]);
    expect([s.client !== undefined, s.server !== undefined]).toEqual([false, true]);
    expect([both.client !== undefined, both.server !== undefined]).toEqual([true, true]);
    for (const def of [c, s]) expect({ ...def, client: undefined, server: undefined }).toEqual({ ...both, client: undefined, server: undefined });
    expect(() => smClientFeature({ ackEvery: 0 })).toThrow(RangeError);
    expect(() => smServerFeature({ maxUnacked: 0 })).toThrow(RangeError);
    expect(c.client!()).toBeInstanceOf(SmClient);
    expect(s.server!()).toBeInstanceOf(SmServer);
  });
});

describe("XEP-0198: enabling and acknowledgements", () => {
  it("enables SM in both roles; the client is online only after <enabled/>", () => {
    const w = onlineWorld();
    const c = w.link!.client;
    expect(c.state).toBe("online");
    const kinds = w.clientEvents.map((e) => e.type);
    expect(kinds.indexOf("sm-enabled")).toBeLessThan(kinds.indexOf("online"));
    expect(smClient(c)!.enabled).toBe(true);
    expect(smServer(w.link!.server)!.enabled).toBe(true);
    const enabled = w.serverEvents.find((e) => e.type === "sm-enabled");
    expect(enabled).toMatchObject({ resumable: true, max: 60 });
  });

  it("requests an ack every `ackEvery` stanzas and reports each acknowledged stanza", () => {
    const w = onlineWorld({ client: { ackEvery: 3 } });
    for (let i = 0; i < 7; i++) w.clientSends(`m${i}`);
    w.run();
    // 6 acknowledged by two <r/>; the 7th waits for the next request (on idle).
    expect(w.clientAcked).toEqual(["m0", "m1", "m2", "m3", "m4", "m5"]);
    w.advance(1000);
    expect(w.clientAcked).toEqual(["m0", "m1", "m2", "m3", "m4", "m5", "m6"]);
    expect(w.receivedByServer).toEqual(w.sentByClient);
  });

  it("the server counts and is acknowledged too", () => {
    const w = onlineWorld({ server: { ackEvery: 2 } });
    for (let i = 0; i < 4; i++) w.serverSends(`s${i}`);
    w.run();
    expect(w.receivedByClient).toEqual(["s0", "s1", "s2", "s3"]);
    // the server holds nothing any more
    const sv = smServer(w.link!.server)!;
    expect(sv.takeOver(w.link!.server.jid, "another-id")).toBeUndefined();
    expect(sv.takeOver(w.link!.server.jid, sv.resumptionId!)!.unacked).toEqual([]);
  });

  it("answers <enable/> before binding and a second <enable/> with <failed><unexpected-request/>", () => {
    const s = new ServerSession({ tls: "none", allowPlainInClear: true, mechanisms: ["PLAIN"], random: seededRandom(1), features: [streamManagement()] });
    const out: string[] = [];
    const feed = (x: string) => {
      s.receive(enc(x), 0);
      for (let ev = s.pollEvent(); ev; ev = s.pollEvent()) {
        if (ev.type === "host-check") s.answerHost(true);
        if (ev.type === "verify-password") s.answerPassword(true);
        if (ev.type === "bind-request") s.answerBind({ accept: ev.resource });
      }
      for (let b = s.pollTransmit(); b; b = s.pollTransmit()) out.push(dec(b));
    };
    const header = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${DOMAIN}' version='1.0'>`;
    feed(header);
    feed(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${btoa("\u0000juliet\u0000pw")}</auth>`);
    feed(header);
    expect(out.join("")).toContain(`<sm xmlns='${SM}'/>`);
    out.length = 0;
    feed(`<enable xmlns='${SM}'/>`);
    expect(out.join("")).toBe(`<failed xmlns='${SM}'><unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`);
    feed("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>");
    out.length = 0;
    feed(`<enable xmlns='${SM}' resume='true'/>`);
    expect(out.join("")).toMatch(new RegExp(`^<enabled xmlns='${SM}' id='[A-Za-z0-9_-]{22}' resume='true' max='300'/>$`));
    out.length = 0;
    feed(`<enable xmlns='${SM}'/>`);
    expect(out.join("")).toContain("unexpected-request");
    // <r/> is answered at once with the count of stanzas handled since <enable/>
    feed(`<message to='romeo@${DOMAIN}'/><r xmlns='${SM}'/>`);
    expect(out.join("")).toContain(`<a xmlns='${SM}' h='1'/>`);
  });

  it("ends the stream when the peer acknowledges more than was sent (handled-count-too-high)", () => {
    const w = onlineWorld();
    w.link!.server.receive(enc(`<a xmlns='${SM}' h='5'/>`), 0);
    const err = w.link!.server.pollEvent();
    expect(err).toMatchObject({ type: "stream-error", condition: "undefined-condition" });
    const wire = dec(w.link!.server.pollTransmit()!);
    expect(wire).toContain(`<handled-count-too-high xmlns='${SM}' h='5' send-count='0'/>`);
  });

  it("rejects an h that is not an unsigned 32-bit integer", () => {
    for (const h of ["-1", "4294967296", "x", ""]) {
      const w = new World();
      w.connect();
      w.run();
      w.link!.server.receive(enc(`<a xmlns='${SM}' h='${h}'/>`), 0);
      expect(w.link!.server.pollEvent()).toMatchObject({ type: "stream-error", condition: "bad-format" });
    }
  });
});

describe("XEP-0198: counters modulo 2^32", () => {
  it("Ledger acknowledges across the wrap", () => {
    const l = new Ledger({ inbound: 0, acked: 0xffff_fffe, unacked: [] });
    for (let i = 0; i < 4; i++) l.push(xml("message", { id: String(i) }));
    expect(l.sent).toBe(2);
    const r = l.ack(1);
    expect("acked" in r && r.acked.map((s) => s.attr("id"))).toEqual(["0", "1", "2"]);
    expect(l.pending).toBe(1);
    expect(l.ack(3)).toMatchObject({ tooHigh: true, sent: 2 });
  });

  it("a resumed session wraps h from 2^32 − 1 to 0 in both directions", () => {
    const w = new World();
    // An earlier session, as the server's table and the client's export would hold it.
    const state: SmState = { v: 1, id: "wrap-id", jid: `juliet@${DOMAIN}/balcony`, inbound: 0xffff_ffff, acked: 0xffff_ffff, unacked: [], max: 60 };
    w.detached.detach(state, 0);
    w.connect(state);
    w.run();
    expect(w.link!.client.state).toBe("online");
    w.serverSends("s1");
    w.clientSends("c1");
    w.run();
    w.advance(2000);
    const c = smClient(w.link!.client)!.exportState()!;
    expect(c.inbound).toBe(0); // 0xffffffff + 1
    expect(c.acked).toBe(0);
    expect(w.clientAcked).toEqual(["c1"]);
  });
});

describe("XEP-0198: resumption", () => {
  it("resumes after a cut: exactly the unacknowledged stanzas are sent again, both ways", () => {
    const w = onlineWorld({ client: LAZY, server: LAZY });
    w.clientSends("c1");
    w.serverSends("s1");
    w.run();
    w.cut();
    expect(w.serverEvents.some((e) => e.type === "sm-detached")).toBe(true);
    w.serverSends("s2"); // held for the detached session
    w.clientSends("c2"); // queued by the client application while offline
    const state = w.clientState()!;
    expect(state.unacked.length).toBe(1);
    w.connect(JSON.parse(JSON.stringify(state)) as SmState); // a process restart in between
    w.run();
    const online = w.clientEvents.filter((e) => e.type === "online").at(-1);
    expect(online).toMatchObject({ resumed: true, jid: parseJid(`juliet@${DOMAIN}/balcony`) });
    expect(w.receivedByServer).toEqual(["c1", "c2"]);
    expect(w.receivedByClient).toEqual(["s1", "s2"]);
    expect(w.clientReportedFailed).toEqual([]);
    expect(w.serverReportedUndelivered).toEqual([]);
  });

  it("a cut between <a/> and the next stanza loses and duplicates nothing", () => {
    const w = onlineWorld({ client: { ackEvery: 1 } });
    w.clientSends("c1");
    w.run();
    expect(w.clientAcked).toEqual(["c1"]);
    w.cut();
    w.clientSends("c2");
    w.connect(w.clientState());
    w.run();
    expect(w.receivedByServer).toEqual(["c1", "c2"]);
  });

  it("a second resumption of the same id wins; the first connection is closed with <conflict/>", () => {
    const w = onlineWorld();
    const first = w.link!;
    const state = smClient(first.client)!.exportState()!;
    // The client believes the link is dead and resumes on a new one; the server has not noticed yet.
    w.connect(state);
    w.run();
    expect(w.link!.client.state).toBe("online");
    const closedFirst = first.server.pollEvent();
    expect(first.server.state).toBe("closed");
    expect(dec(first.server.pollTransmit()!)).toContain("<conflict");
    void closedFirst;
  });

  it("a failed resumption reports what the server handled (h) as acked and the rest as not delivered, then binds", () => {
    const w = onlineWorld({ client: LAZY });
    w.clientSends("c1");
    w.clientSends("c2");
    w.run();
    w.cut();
    const state = w.clientState()!;
    // The server expired the session; its tombstone knows h = 2.
    w.advance(61_000);
    w.connect({ ...state, unacked: [...state.unacked, "<message xmlns='jabber:client' id='never-sent'/>"] });
    w.run();
    expect(w.clientEvents.some((e) => e.type === "sm-failed" && e.resume)).toBe(true);
    expect(w.clientAcked).toEqual(["c1", "c2"]);
    expect(w.clientReportedFailed).toEqual(["never-sent"]);
    expect(w.link!.client.state).toBe("online");
    expect(w.clientEvents.filter((e) => e.type === "online").at(-1)).not.toHaveProperty("resumed");
  });

  it("only the owning account may resume a session (another account gets item-not-found)", () => {
    const sm = streamManagement();
    const s = new ServerSession({ tls: "none", random: seededRandom(3), features: [sm] });
    const c = new ClientSession({
      jid: "romeo@im.example.com",
      password: "s3cr3t",
      tls: "none",
      mechanisms: ["SCRAM-SHA-1"],
      minScramIterations: 1,
      random: seededRandom(4),
      features: [streamManagement({ resume: { v: 1, id: "juliets", jid: `juliet@${DOMAIN}/balcony`, inbound: 0, acked: 0, unacked: [] } })],
    });
    c.start(0);
    s.start(0);
    let answered = false;
    for (let i = 0; i < 50; i++) {
      for (let b = c.pollTransmit(); b; b = c.pollTransmit()) s.receive(b, 0);
      for (let b = s.pollTransmit(); b; b = s.pollTransmit()) c.receive(b, 0);
      for (let ev = s.pollEvent(); ev; ev = s.pollEvent()) {
        if (ev.type === "host-check") s.answerHost(true);
        if (ev.type === "scram-credentials") s.answerScramCredentials(scramFor("SHA-1", "s3cr3t"));
        if (ev.type === "bind-request") s.answerBind({ accept: ev.resource });
        if (ev.type === "resume-request") {
          answered = true;
          smServer(s)!.answerResume({ state: { v: 1, id: "juliets", jid: `juliet@${DOMAIN}/balcony`, inbound: 0, acked: 0, unacked: [] } });
        }
      }
      while (c.pollEvent()) {}
    }
    expect(answered).toBe(true);
    expect(c.state).toBe("online");
    expect(c.jid.toString()).toMatch(/^romeo@im\.example\.com\//);
  });

  it("without SM on the server, a client with saved state binds and reports the saved stanzas", () => {
    const w = new World({ server: false });
    w.connect({ v: 1, id: "x", jid: `juliet@${DOMAIN}/balcony`, inbound: 0, acked: 0, unacked: ["<message xmlns='jabber:client' id='old'/>"] });
    w.run();
    expect(w.link!.client.state).toBe("online");
    expect(w.clientReportedFailed).toEqual(["old"]);
    expect(w.clientEvents.find((e) => e.type === "sm-failed")).toMatchObject({ condition: "feature-not-implemented", resume: true });
  });
});

describe("XEP-0198: what happens to stanzas that cannot be delivered", () => {
  it("a clean close reports the client's unacknowledged stanzas and hands the server's to the application", () => {
    const w = onlineWorld({ client: LAZY, server: LAZY });
    w.clientSends("c1");
    w.serverSends("s1");
    w.run();
    // Both sides' last <a/> travel with the close (XEP-0198 §7): what was handled is acknowledged.
    w.link!.client.close(w.now);
    w.run();
    expect(w.clientAcked).toEqual(["c1"]);
    expect(w.clientReportedFailed).toEqual([]);
    expect(w.serverReportedUndelivered).toEqual([]);
    expect(w.receivedByClient).toEqual(["s1"]);
  });

  it("a stanza still in flight when the client closes is not handled by it and goes back to its sender", () => {
    const w = onlineWorld({ client: LAZY, server: LAZY });
    w.serverSends("s1"); // written, not yet read by the client
    w.link!.client.close(w.now); // RFC 6120 §4.4: the closing side processes nothing more
    w.run();
    expect(w.receivedByClient).toEqual([]);
    expect(w.serverReportedUndelivered).toEqual(["s1"]);
  });

  it("an expired detached session returns its stanzas to their senders (XEP-0198 §6)", () => {
    const w = onlineWorld({ server: LAZY });
    w.serverSends("s1");
    w.cut(); // s1 was written but never reached juliet's client
    w.serverSends("s2"); // held meanwhile
    expect(w.detached.size).toBe(1);
    w.advance(60_000);
    expect(w.detached.size).toBe(0);
    expect(w.serverReportedUndelivered).toEqual(["s1", "s2"]);
  });

  it("bounds the unacknowledged queue: past maxUnacked the stream breaks (resumable, nothing lost)", () => {
    const w = onlineWorld({ server: { ackEvery: 1000, ackAfterMs: 1e9, maxUnacked: 3 } });
    // juliet's client stops answering (we drop what it writes)
    const l = w.link!;
    for (let i = 0; i < 4; i++) w.serverSends(`s${i}`);
    expect(l.server.state).toBe("closed");
    w.run();
    expect(w.serverEvents.some((e) => e.type === "sm-detached")).toBe(true);
  });

  it("a session probed for a take-over of another id keeps its SM and answers for its stanzas", () => {
    const w = onlineWorld({ server: LAZY });
    w.serverSends("s1");
    w.run();
    const s = w.link!.server;
    expect(smServer(s)!.takeOver(s.jid, "not-this-one")).toBeUndefined();
    w.cut();
    expect(w.serverEvents.some((e) => e.type === "sm-detached")).toBe(true);
  });

  it("DetachedSessions.end keeps the tombstone for a late resumption", () => {
    const d = new DetachedSessions();
    d.detach({ v: 1, id: "a", jid: "j@d/1", inbound: 3, acked: 0, unacked: ["<message xmlns='jabber:client' id='m'/>"], max: 10 }, 0);
    expect(d.end("a", 1)?.stanzas.map((x) => x.attr("id"))).toEqual(["m"]);
    expect(d.take("a", 2)).toEqual({ expired: true, h: 3 });
  });

  it("DetachedSessions: replacing, eviction, tombstones, bounded holds", () => {
    const d = new DetachedSessions({ maxSessions: 2, maxStanzas: 1, tombstoneMs: 100 });
    const st = (id: string, jid: string): SmState => ({ v: 1, id, jid, inbound: 7, acked: 0, unacked: [], max: 10 });
    expect(d.detach(st("a", "j@d/1"), 0)).toEqual([]);
    expect(d.hold("j@d/1", xml("message", { id: "x" }))).toBe(true);
    expect(d.hold("j@d/1", xml("message", { id: "y" }))).toBe(false);
    expect(d.detach(st("b", "j@d/1"), 1).map((x) => x.state.id)).toEqual(["a"]);
    d.detach(st("c", "k@d/1"), 2);
    expect(d.detach(st("e", "l@d/1"), 3).map((x) => x.state.id)).toEqual(["b"]);
    expect(d.take("b", 4)).toEqual({ expired: true, h: 7 });
    expect(d.take("b", 200)).toBeUndefined();
    expect(d.nextTimeout()).toBe(10_002);
    expect(d.expire(10_002).map((x) => x.state.id)).toEqual(["c"]);
    expect(d.take("e", 10_003)).toMatchObject({ state: { id: "e" } });
    expect(d.size).toBe(0);
  });
});

describe("keepalive: probes find dead peers, quiet peers stay", () => {
  it("with SM, an idle session is probed with <r/>; a peer that answers stays online", () => {
    const w = onlineWorld();
    w.advance(10 * 60_000); // 10 minutes of silence: the client probed (240 s), the server answered
    expect(w.link!.client.state).toBe("online");
    expect(w.link!.server.state).toBe("online");
  });

  it("a probe that stays unanswered ends the stream with <connection-timeout/> (resumable)", () => {
    const w = onlineWorld();
    const l = w.link!;
    l.blackhole = "c2s"; // the server never hears from the client again
    w.advance(20 * 60_000);
    expect(w.serverEvents.some((e) => e.type === "stream-error" && e.condition === "connection-timeout")).toBe(true);
  });

  it("without SM the client pings (XEP-0199) and the server writes whitespace", () => {
    const c = new ClientSession({ jid: "juliet@im.example.com", password: "x", tls: "none", minScramIterations: 1, random: seededRandom(1), timeouts: { keepaliveMs: 1000 } });
    const s = new ServerSession({ tls: "none", random: seededRandom(2), timeouts: { keepaliveMs: 1000 } });
    // Drive both to online through a minimal PLAIN-free SCRAM login.
    c.start(0);
    s.start(0);
    for (let i = 0; i < 50; i++) {
      for (let b = c.pollTransmit(); b; b = c.pollTransmit()) s.receive(b, 0);
      for (let b = s.pollTransmit(); b; b = s.pollTransmit()) c.receive(b, 0);
      for (let ev = s.pollEvent(); ev; ev = s.pollEvent()) {
        if (ev.type === "host-check") s.answerHost(true);
        if (ev.type === "scram-credentials") s.answerScramCredentials(scramFor("SHA-512", "x"));
        if (ev.type === "bind-request") s.answerBind({ accept: "r" });
      }
      while (c.pollEvent()) {}
    }
    expect(c.state).toBe("online");
    expect(c.nextTimeout()).toBe(1000);
    c.handleTimeout(1000);
    expect(dec(c.pollTransmit()!)).toMatch(/<iq type='get' id='[^']+' to='im\.example\.com'><ping xmlns='urn:xmpp:ping'\/><\/iq>/);
    s.handleTimeout(1000);
    expect(dec(s.pollTransmit()!)).toBe(" ");
    expect(s.nextTimeout()).toBe(2000); // whitespace expects no answer: probe again later
    expect(c.nextTimeout()).toBe(61_000); // the ping must be answered within keepaliveAnswerMs
    c.handleTimeout(61_000);
    expect(c.state).toBe("closed");
  });
});

describe("nonzas without their feature", () => {
  it("a client without SM does not hand a server's <r/> to the application as a stanza", () => {
    const p = makePair({ client: { tls: "none" }, server: { tls: "none" } });
    p.client.start(0);
    p.server.start(0);
    p.run();
    expect(p.client.state).toBe("online");
    p.client.receive(enc(`<r xmlns='${SM}'/>`), 0);
    expect(p.client.pollEvent()).toMatchObject({ type: "stream-error", condition: "unsupported-stanza-type" });
  });

  it("a client with SM loaded but not enabled refuses <r/> too; a server without SM refuses <enable/>", () => {
    const w = onlineWorld({ server: false });
    w.link!.client.receive(enc(`<r xmlns='${SM}'/>`), 0);
    expect(w.link!.client.pollEvent()).toMatchObject({ type: "stream-error", condition: "unsupported-stanza-type", text: "XEP-0198 <r/> before Stream Management was enabled" });
    const p = makePair({ client: { tls: "none" }, server: { tls: "none" } });
    p.client.start(0);
    p.server.start(0);
    p.run();
    p.server.receive(enc(`<enable xmlns='${SM}'/>`), 0);
    expect(p.server.pollEvent()).toMatchObject({ type: "stream-error", condition: "unsupported-stanza-type" });
  });
});
