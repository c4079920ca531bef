// The public abort() of both roles, and the cap on output a peer never reads (maxPendingOutputBytes).
import { serialize, xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { type ClientSession, ServerSession, serviceUnavailable } from "../src/index.js";
import { DEFAULT_MAX_PENDING_OUTPUT_BYTES } from "../src/index.js";
import { dec, enc, makePair, type PairOptions } from "./harness.js";

function online(opts: PairOptions = {}) {
  const p = makePair(opts);
  if (opts.client?.framing === "websocket") {
    // wss: TLS from the start
    p.client.tlsEstablished({ channelBinding: {} }, 0);
    p.server.tlsEstablished({ channelBinding: {} }, 0);
  }
  p.client.start(0);
  p.server.start(0);
  p.run();
  expect(p.client.state).toBe("online");
  expect(p.server.state).toBe("online");
  return p;
}

function drain(s: ClientSession | ServerSession): string {
  let out = "";
  for (let b = s.pollTransmit(); b !== undefined; b = s.pollTransmit()) out += dec(b);
  return out;
}

function events(s: ClientSession | ServerSession) {
  const out = [];
  for (let ev = s.pollEvent(); ev !== undefined; ev = s.pollEvent()) out.push(ev);
  return out;
}

describe("abort(condition, text, now)", () => {
  for (const role of ["server", "client"] as const) {
    it(`${role}: queues <stream:error/> + </stream:stream>, emits stream-error (ours) and closed, sticky`, () => {
      const p = online();
      const s = p[role];
      drain(s);
      events(s);
      s.abort("system-shutdown", "going down", 10);
      expect(s.state).toBe("closed");
      const out = drain(s);
      expect(out).toMatch(/^<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>going down<\/text><\/stream:error><\/stream:stream>$/);
      expect(events(s)).toEqual([
        { type: "stream-error", condition: "system-shutdown", text: "going down", byPeer: false },
        { type: "closed", reason: "stream-error" },
      ]);
      // Sticky: input, a second abort and close do nothing.
      s.receive(enc("<message/>"), 11);
      s.abort("conflict", undefined, 12);
      s.close(13);
      expect(drain(s)).toBe("");
      expect(events(s)).toEqual([]);
      expect(s.nextTimeout()).toBeUndefined();
    });
  }

  it("the peer sees our condition; without text no <text/>", () => {
    const p = online();
    p.server.abort("conflict", undefined, 1);
    p.run();
    const ev = p.clientEvents.find((e) => e.type === "stream-error");
    expect(ev).toEqual({ type: "stream-error", condition: "conflict", byPeer: true });
    expect(p.client.state).toBe("closed");
  });

  it("server: before its own header (host check pending) the header goes first (RFC 6120 §4.9.1.2)", () => {
    const server = new ServerSession({ defaultDomain: "im.example.com", tls: "none" });
    server.start(0);
    server.receive(enc("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='im.example.com' version='1.0'>"), 0);
    expect(events(server).map((e) => e.type)).toContain("host-check");
    expect(drain(server)).toBe("");
    server.abort("internal-server-error", undefined, 1);
    const out = drain(server);
    expect(out.startsWith("<?xml version='1.0'?><stream:stream ")).toBe(true);
    expect(out).toContain("from='im.example.com'");
    expect(out.endsWith("<stream:error><internal-server-error xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>")).toBe(true);
  });

  it("after our </stream:stream> (closing) nothing more is written, but the session ends", () => {
    const p = online();
    p.server.close(1);
    expect(drain(p.server)).toBe("</stream:stream>");
    p.server.abort("system-shutdown", undefined, 2);
    expect(drain(p.server)).toBe("");
    expect(p.server.state).toBe("closed");
  });

  it("WebSocket framing: <stream:error/> and <close/> as two messages", () => {
    const p = online({ client: { framing: "websocket" }, server: { framing: "websocket" } });
    drain(p.server);
    p.server.abort("policy-violation", undefined, 1);
    const messages = [];
    for (let b = p.server.pollTransmit(); b !== undefined; b = p.server.pollTransmit()) messages.push(dec(b));
    expect(messages).toHaveLength(2);
    expect(messages[0]).toContain("<policy-violation ");
    expect(messages[1]).toMatch(/^<close /);
  });
});

describe("maxPendingOutputBytes", () => {
  it("defaults to 1 MiB", () => {
    expect(DEFAULT_MAX_PENDING_OUTPUT_BYTES).toBe(1024 * 1024);
  });

  function iq(i: number): Uint8Array {
    // Explicit jabber:client: RFC 7395 messages need it, the stream accepts it.
    return serialize(xml("iq", { xmlns: "jabber:client", type: "get", id: `q${i}`, to: "im.example.com" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
  }

  it("server: a client flooding IQs whose replies it never reads ends with <resource-constraint/>", () => {
    const cap = 16 * 1024;
    const p = online({ server: { maxPendingOutputBytes: cap } });
    const server = p.server;
    drain(server);
    events(server);
    let sent = 0;
    let total = 0;
    // The application answers every request; nobody drains the server's output.
    while (server.state !== "closed" && sent < 10_000) {
      server.receive(iq(sent++), 1);
      for (let ev = server.pollEvent(); ev !== undefined; ev = server.pollEvent()) {
        if (ev.type === "stanza" && server.state === "online") {
          const reply = serviceUnavailable(ev.stanza);
          if (reply !== undefined) server.send(reply);
        } else if (ev.type === "stream-error") {
          expect(ev).toMatchObject({ condition: "resource-constraint", byPeer: false });
        }
      }
      expect(server.pendingOutputBytes).toBeLessThanOrEqual(cap + 2048);
    }
    expect(server.state).toBe("closed");
    expect(sent).toBeLessThan(10_000);
    const out = drain(server);
    total = out.length;
    // Bounded: the cap, one reply that crossed it, the stream error and the end tag.
    expect(total).toBeGreaterThan(cap);
    expect(total).toBeLessThan(cap + 2048);
    expect(out).toContain("<resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
    expect(out.endsWith("</stream:stream>")).toBe(true);
    expect(server.pendingOutputBytes).toBe(0);
    // Sticky: more input is ignored.
    server.receive(iq(0), 2);
    expect(drain(server)).toBe("");
  });

  it("a peer that reads keeps the session up however much it sends", () => {
    const cap = 4 * 1024;
    const p = online({ server: { maxPendingOutputBytes: cap } });
    for (let i = 0; i < 2_000; i++) {
      p.server.receive(iq(i), 1);
      for (let ev = p.server.pollEvent(); ev !== undefined; ev = p.server.pollEvent()) {
        if (ev.type === "stanza") p.server.send(serviceUnavailable(ev.stanza)!);
      }
      drain(p.server);
    }
    expect(p.server.state).toBe("online");
  });

  it("client: the core's own answers count too (unanswered IQ requests from the server)", () => {
    const cap = 8 * 1024;
    const p = online({ client: { maxPendingOutputBytes: cap } });
    const client = p.client;
    drain(client);
    events(client);
    let i = 0;
    while (client.state !== "closed" && i < 5_000) {
      client.receive(serialize(xml("iq", { type: "get", id: `s${i++}`, from: "im.example.com", to: "juliet@im.example.com/balcony" }, xml("ping", { xmlns: "urn:xmpp:ping" }))), 1);
      for (let ev = client.pollEvent(); ev !== undefined; ev = client.pollEvent()) {
        if (ev.type === "stanza" && client.state === "online") client.send(serviceUnavailable(ev.stanza)!);
      }
    }
    expect(client.state).toBe("closed");
    expect(drain(client)).toContain("<resource-constraint ");
  });

  it("WebSocket framing: messages stay separate and in order after being measured", () => {
    const p = online({ client: { framing: "websocket" }, server: { framing: "websocket", maxPendingOutputBytes: 2048 } });
    const server = p.server;
    drain(server);
    let i = 0;
    while (server.state !== "closed" && i < 1_000) {
      server.receiveMessage(iq(i++), false, 1);
      for (let ev = server.pollEvent(); ev !== undefined; ev = server.pollEvent()) {
        if (ev.type === "stanza" && server.state === "online") server.send(serviceUnavailable(ev.stanza)!);
      }
    }
    const messages = [];
    for (let b = server.pollTransmit(); b !== undefined; b = server.pollTransmit()) messages.push(dec(b));
    expect(i).toBeGreaterThan(5);
    // The last request was measured over, so not answered: i - 1 replies, then <stream:error/> and <close/>.
    expect(messages.length).toBe(i + 1);
    expect(messages[0]).toContain("id='q0'");
    expect(messages[i - 2]).toContain(`id='q${i - 2}'`);
    expect(messages.at(-2)).toContain("<resource-constraint ");
    expect(messages.at(-1)).toMatch(/^<close /);
  });

  it("rejects a non-positive cap", () => {
    expect(() => new ServerSession({ maxPendingOutputBytes: 0 })).toThrow(RangeError);
  });
});
