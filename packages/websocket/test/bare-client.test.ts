// connectBareClient: the core's LeanClientSession on one WebSocket, against our WebSocket server over loopback
// (`ws` as the WHATWG WebSocket on Node 20). Login, messages both ways, its own IQ, IQ requests it answers and
// those it does not (service-unavailable, RFC 6120 §8.4), and each way the connection can fail.
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { type ClientEvent, parseStanzaError, sha256Hash } from "@xmpp-sansio/core";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { type BareClientOptions, type ConnectionError, connectBareClient, type WebSocketConstructor, WebSocketClient } from "../src/index.js";
import { ACCOUNTS, DOMAIN, startDemoServer } from "./support/demo-server.js";
import { MemorySocket, pair } from "./support/memory-socket.js";

/** Timers the test fires by hand: `pending()` lists the delays armed, `runAll()` runs them in order. */
function manualTimers() {
  const armed = new Map<number, { fn: () => void; ms: number }>();
  let next = 1;
  return {
    setTimeout(fn: () => void, ms: number): unknown {
      armed.set(next, { fn, ms });
      return next++;
    },
    clearTimeout(handle: unknown) {
      armed.delete(handle as number);
    },
    pending: () => [...armed.values()].map((t) => t.ms),
    runAll() {
      for (const [h, t] of [...armed]) {
        armed.delete(h);
        t.fn();
      }
    },
  };
}

const WS = WebSocket as unknown as WebSocketConstructor;

/** Runs a bare client until it ends; resolves with its events, what it wrote and the end's error. */
function bare(options: Omit<BareClientOptions, "onEvent" | "onEnd" | "jid" | "password"> & Partial<Pick<BareClientOptions, "onEvent" | "jid" | "password">>) {
  const events: ClientEvent[] = [];
  let onEvent = options.onEvent;
  let ended!: (e: ConnectionError | undefined) => void;
  const end = new Promise<ConnectionError | undefined>((resolve) => (ended = resolve));
  const waiters: { test: (ev: ClientEvent) => boolean; resolve: (ev: ClientEvent) => void }[] = [];
  const client = connectBareClient({
    jid: `juliet@${DOMAIN}/bare`,
    password: ACCOUNTS.juliet!,
    mechanisms: ["SCRAM-SHA-256"],
    parts: { hashes: [sha256Hash] },
    WebSocket: WS,
    ...options,
    onEvent(ev, session) {
      events.push(ev);
      for (const w of waiters.splice(0)) if (w.test(ev)) w.resolve(ev);
      else waiters.push(w);
      return onEvent?.(ev, session);
    },
    onEnd: (e) => ended(e),
  });
  const next = <T extends ClientEvent["type"]>(type: T, test: (ev: Extract<ClientEvent, { type: T }>) => boolean = () => true) =>
    new Promise<Extract<ClientEvent, { type: T }>>((resolve) => {
      const found = events.find((e) => e.type === type && test(e as Extract<ClientEvent, { type: T }>));
      if (found !== undefined) return resolve(found as Extract<ClientEvent, { type: T }>);
      waiters.push({ test: (e) => e.type === type && test(e as Extract<ClientEvent, { type: T }>), resolve: (e) => resolve(e as Extract<ClientEvent, { type: T }>) });
    });
  return { client, events, end, next, setHandler: (h: BareClientOptions["onEvent"]) => (onEvent = h) };
}

describe("connectBareClient against our WebSocket server", () => {
  let demo: Awaited<ReturnType<typeof startDemoServer>>;
  let romeo: WebSocketClient;
  beforeAll(async () => {
    demo = await startDemoServer();
    romeo = new WebSocketClient({ jid: `romeo@${DOMAIN}/hall`, password: ACCOUNTS.romeo!, service: demo.url, WebSocket: WS, reconnect: false, parts: { hashes: [sha256Hash] } });
    await romeo.online();
  });
  afterAll(async () => {
    await romeo?.close();
    await demo?.close();
  });

  it("logs in with SCRAM-SHA-256, exchanges messages, tracks its own IQ and closes cleanly", async () => {
    const b = bare({ service: demo.url });
    const online = await b.next("online");
    expect(online.jid.toString()).toBe(`juliet@${DOMAIN}/bare`);
    expect(b.client.session.state).toBe("online");

    // romeo → juliet, answered from inside onEvent (what the handler queues is written when it returns).
    b.setHandler((ev, session) => {
      if (ev.type === "stanza" && ev.stanza.name === "message") session.send(xml("message", { to: ev.stanza.attr("from"), type: "chat" }, xml("body", {}, `re: ${ev.stanza.getChildText("body")}`)));
    });
    const reply = new Promise<XmlElement>((resolve) => romeo.once("message", resolve));
    romeo.send(xml("message", { to: `juliet@${DOMAIN}/bare`, type: "chat" }, xml("body", {}, "wherefore")));
    expect((await reply).getChildText("body")).toBe("re: wherefore");

    // Outside onEvent, through the handle.
    const got = new Promise<XmlElement>((resolve) => romeo.once("message", resolve));
    b.client.send(xml("message", { to: `romeo@${DOMAIN}/hall`, type: "chat" }, xml("body", {}, "from the handle")));
    expect((await got).getChildText("body")).toBe("from the handle");

    const id = b.client.sendIq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    const response = await b.next("iq-response", (e) => e.id === id);
    expect(response.stanza.attr("type")).toBe("result");

    b.client.close();
    expect(await b.end).toBeUndefined();
    const closed = b.events.find((e) => e.type === "closed");
    expect(closed).toMatchObject({ type: "closed", reason: "closed" });
    expect(b.events.at(-1)?.type).toBe("closed");
  });

  it("answers an IQ request it does not take with service-unavailable, and leaves one it takes to the handler", async () => {
    const b = bare({ service: demo.url, jid: `juliet@${DOMAIN}/iq` });
    await b.next("online");
    b.setHandler((ev, session) => {
      if (ev.type !== "stanza" || ev.stanza.name !== "iq" || ev.stanza.getChild("query", "jabber:iq:version") === undefined) return;
      session.send(xml("iq", { type: "result", id: ev.stanza.attr("id"), to: ev.stanza.attr("from") }, xml("query", { xmlns: "jabber:iq:version" }, xml("name", {}, "bare"))));
      return true;
    });
    const target = `juliet@${DOMAIN}/iq`;
    const refused = await romeo.iq(xml("iq", { type: "get", to: target }, xml("ping", { xmlns: "urn:xmpp:ping" }))).then(
      () => undefined,
      (e: { stanza?: XmlElement; condition?: string }) => e,
    );
    expect(refused?.condition).toBe("service-unavailable");
    const version = await romeo.iq(xml("iq", { type: "get", to: target }, xml("query", { xmlns: "jabber:iq:version" })));
    expect(version.getChild("query", "jabber:iq:version")?.getChildText("name")).toBe("bare");
    b.client.close();
    await b.end;
  });

  it("delivers a stream error from the server as events, then ends", async () => {
    const b = bare({ service: demo.url, jid: `juliet@${DOMAIN}/err` });
    await b.next("online");
    // The server refuses a stanza addressed from someone else (RFC 6120 §8.1.2.1 invalid-from).
    b.client.run((s) => s.send(xml("message", { from: `romeo@${DOMAIN}/hall`, to: `romeo@${DOMAIN}` }, xml("body", {}, "x"))));
    const err = await b.next("stream-error");
    expect(err.condition).toBe("invalid-from");
    expect(await b.end).toBeUndefined();
    expect(b.client.session.state).toBe("closed");
  });

  it("fails a wrong password with auth-failed and a closed session", async () => {
    const b = bare({ service: demo.url, password: "not-the-password", maxAuthAttempts: 1 });
    const failed = await b.next("auth-failed");
    expect(failed.condition).toBe("not-authorized");
    await b.end;
    expect(b.events.at(-1)).toMatchObject({ type: "closed" });
  });
});

describe("connectBareClient: connections that fail", () => {
  it("refuses an endpoint that is not acceptable before it opens anything", () => {
    expect(() => connectBareClient({ jid: "a@example.com", password: "p", service: "ws://example.com/xmpp", WebSocket: WS, onEvent() {} })).toThrow(TypeError);
    expect(() => connectBareClient({ jid: "a@example.com", password: "p", service: "https://example.com/", WebSocket: WS, onEvent() {} })).toThrow(/not an acceptable WebSocket endpoint/);
  });

  it("ends with connect-failed when the server does not select the xmpp subprotocol (RFC 7395 §3.1)", async () => {
    const httpServer = http.createServer();
    const wss = new WebSocketServer({ server: httpServer, handleProtocols: () => false });
    httpServer.listen(0, "127.0.0.1");
    await once(httpServer, "listening");
    try {
      const { port } = httpServer.address() as AddressInfo;
      const b = bare({ service: `ws://127.0.0.1:${port}/xmpp` });
      const error = await b.end;
      expect(error?.code).toBe("connect-failed");
      // `ws` fails the handshake itself when no subprotocol comes back; browsers open, and the binding refuses.
      expect(error?.message).toMatch(/could not connect|did not accept the "xmpp" WebSocket subprotocol/);
      expect(b.events).toEqual([]); // the session never started
    } finally {
      wss.close();
      httpServer.close();
    }
  });

  it("closes a socket opened without the xmpp subprotocol, as a browser would open it", async () => {
    const b = bare({ service: "wss://example.com/xmpp", WebSocket: MemorySocket as unknown as WebSocketConstructor });
    const socket = MemorySocket.last!;
    expect([socket.url, socket.protocols, socket.binaryType]).toEqual(["wss://example.com/xmpp", "xmpp", "arraybuffer"]);
    socket.protocol = ""; // a server that selected no subprotocol
    socket.open();
    const error = await b.end;
    expect(error?.code).toBe("connect-failed");
    expect(error?.message).toBe('wss://example.com/xmpp did not accept the "xmpp" WebSocket subprotocol');
    expect(socket.sent).toEqual([]); // nothing was written: no <open/> to a server that is not XMPP
    expect(socket.closes).toBe(1);
    expect(b.events).toEqual([]);
  });

  it("ends with connect-failed when nothing listens", async () => {
    const httpServer = http.createServer();
    httpServer.listen(0, "127.0.0.1");
    await once(httpServer, "listening");
    const { port } = httpServer.address() as AddressInfo;
    await new Promise((resolve) => httpServer.close(resolve));
    const error = await bare({ service: `ws://127.0.0.1:${port}/xmpp` }).end;
    expect(error?.code).toBe("connect-failed");
  });

  it("ends with timeout when the opening handshake does not finish (injected timers)", async () => {
    const timers = manualTimers();
    const b = bare({ service: "wss://example.com/xmpp", WebSocket: MemorySocket as unknown as WebSocketConstructor, timers, connectTimeoutMs: 7_000 });
    expect(timers.pending()).toEqual([7_000]);
    timers.runAll();
    const error = await b.end;
    expect(error?.code).toBe("timeout");
    expect(error?.message).toBe("WebSocket handshake with wss://example.com/xmpp timed out");
    expect(MemorySocket.last?.closes).toBe(1);
    expect(b.events).toEqual([]);
  });

  it("hands onEvent's exception to onError and answers the IQ it threw on with internal-server-error", () => {
    const errors: unknown[] = [];
    const boom = new Error("handler bug");
    const p = pair(9, {
      onEvent(ev) {
        if (ev.type === "stanza" && ev.stanza.attr("id") === "boom") throw boom;
        if (ev.type === "online") throw new Error("not an IQ");
      },
      onError: (e) => errors.push(e),
    });
    p.socket.open();
    p.pump();
    expect(p.client.session.state).toBe("online"); // the exception on `online` changed nothing
    p.server.send(xml("iq", { type: "get", id: "boom", from: "romeo@localhost/hall", to: "juliet@localhost/page" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    p.pump();
    expect(errors).toEqual([new Error("not an IQ"), boom]);
    const replies = p.fromPage.filter((s) => s.name === "iq");
    expect(replies).toHaveLength(1);
    expect(replies[0]!.attr("id")).toBe("boom");
    expect(parseStanzaError(replies[0]!).condition).toBe("internal-server-error");
    p.client.close();
    p.pump();
    expect(p.ends).toBe(1);
  });

  it("delivers iq-timeout at the session's deadline through the injected clock and timers", () => {
    const timers = manualTimers();
    let clock = 50_000;
    const p = pair(7, { now: () => clock, timers });
    p.socket.open();
    p.pump();
    expect(p.client.session.state).toBe("online");
    const id = p.client.sendIq(xml("iq", { type: "get", to: "romeo@localhost/hall" }, xml("ping", { xmlns: "urn:xmpp:ping" })), 5_000);
    p.pump();
    expect(p.fromPage.map((s) => s.attr("id"))).toContain(id);
    // One timer, armed for the earliest deadline: the IQ's, 5 s from now.
    expect(timers.pending()).toEqual([5_000]);
    clock += 5_000;
    timers.runAll();
    expect(p.events.filter((e) => e.type === "iq-timeout")).toEqual([{ type: "iq-timeout", id }]);
    expect(p.client.session.state).toBe("online");
    p.client.close();
    p.pump();
    expect(p.ends).toBe(1);
    expect(timers.pending()).toEqual([]); // nothing left armed once closed
  });

  it("reports a connection the server drops as transport-closed", async () => {
    const httpServer = http.createServer();
    const wss = new WebSocketServer({ server: httpServer, handleProtocols: () => "xmpp" });
    wss.on("connection", (socket) => socket.once("message", () => socket.terminate()));
    httpServer.listen(0, "127.0.0.1");
    await once(httpServer, "listening");
    try {
      const { port } = httpServer.address() as AddressInfo;
      const b = bare({ service: `ws://127.0.0.1:${port}/xmpp` });
      await b.end;
      expect(b.events.at(-1)).toMatchObject({ type: "closed", reason: "transport-closed" });
      expect(b.client.session.state).toBe("closed");
    } finally {
      wss.close();
      httpServer.close();
    }
  });
});
