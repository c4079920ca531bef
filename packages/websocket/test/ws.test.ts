import { once } from "node:events";
import type { Socket } from "node:net";
import { LeanClientLifecycle, ServerSession, sha256Hash } from "@xmpp-sansio/core";
import type { ServerSessionLike } from "../src/server.js";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { ConnectionError, StanzaErrorException, StreamErrorException, type WebSocketConstructor, WebSocketClient, XmppClient } from "../src/index.js";
import { ACCOUNTS, DOMAIN, startDemoServer } from "./support/demo-server.js";

const WS = WebSocket as unknown as WebSocketConstructor;

/** A raw `ws` client speaking RFC 7395 by hand; collects every received message. */
async function rawClient(url: string, protocols: string[] = ["xmpp"]) {
  const ws = new WebSocket(url, protocols);
  const messages: Array<{ text: string; binary: boolean }> = [];
  const waiters: Array<() => void> = [];
  ws.on("message", (data: Buffer, binary: boolean) => {
    messages.push({ text: data.toString("utf8"), binary });
    for (const w of waiters.splice(0)) w();
  });
  const closed = once(ws as unknown as NodeJS.EventEmitter, "close");
  await once(ws, "open");
  const waitFor = async (pred: (m: string) => boolean): Promise<string> => {
    for (let i = 0; i < 100; i++) {
      const found = messages.find((m) => pred(m.text));
      if (found) return found.text;
      await new Promise<void>((r) => waiters.push(r));
    }
    throw new Error("message not seen");
  };
  return { ws, messages, waitFor, closed };
}

const OPEN = `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='${DOMAIN}' version='1.0'/>`;

describe("WebSocket client ↔ WebSocket server (Node, ws, loopback)", () => {
  let demo: Awaited<ReturnType<typeof startDemoServer>>;
  beforeAll(async () => {
    demo = await startDemoServer();
  });
  afterAll(async () => {
    await demo?.close();
  });

  it("two clients log in with SCRAM and exchange a message; iq errors are typed", async () => {
    const juliet = new XmppClient({ jid: `juliet@${DOMAIN}/balcony`, password: ACCOUNTS.juliet!, service: demo.url, WebSocket: WS });
    const romeo = new XmppClient({ jid: `romeo@${DOMAIN}`, password: ACCOUNTS.romeo!, service: demo.url, WebSocket: WS });
    const [jj, rj] = await Promise.all([juliet.online(), romeo.online()]);
    expect(jj.toString()).toBe(`juliet@${DOMAIN}/balcony`);
    expect(rj.bare.toString()).toBe(`romeo@${DOMAIN}`);
    expect(demo.server.connectionFor(jj)?.mechanism).toBe("SCRAM-SHA-512");

    const iter = romeo.stanzas();
    const got = new Promise<[XmlElement]>((resolve) => romeo.once("message", (m) => resolve([m])));
    juliet.send(xml("message", { to: rj.toString(), type: "chat" }, xml("body", {}, "Wherefore art thou, Romeo? ☃")));
    const [msg] = await got;
    expect(msg.getChildText("body")).toBe("Wherefore art thou, Romeo? ☃");
    expect(msg.attr("from")).toBe(jj.toString());
    const first = await iter.next();
    expect(first.value?.getChildText("body")).toBe("Wherefore art thou, Romeo? ☃");
    await iter.return?.();

    const pong = await juliet.iq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(pong.attr("type")).toBe("result");
    const err = await juliet.iq(xml("iq", { type: "get", to: DOMAIN }, xml("query", { xmlns: "jabber:iq:version" }))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StanzaErrorException);
    expect((err as StanzaErrorException).condition).toBe("service-unavailable");

    const closes: unknown[] = [];
    juliet.on("close", (info) => closes.push(info));
    await Promise.all([juliet.close(), romeo.close()]);
    expect(closes).toEqual([{ reason: "closed", willReconnect: false }]);
    expect(juliet.isOnline).toBe(false);
  });

  it("discovers the endpoint with XEP-0156 host-meta (real fetch, loopback http) when no service is given", async () => {
    const http = await import("node:http");
    const xrd = `<?xml version='1.0' encoding='utf-8'?><XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='urn:xmpp:alt-connections:websocket' href='${demo.url}'/></XRD>`;
    const site = http.createServer((req, res) => {
      if (req.url === "/.well-known/host-meta") res.writeHead(200, { "content-type": "application/xrd+xml" }).end(xrd);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => site.listen(0, "127.0.0.1", r));
    try {
      const base = `http://127.0.0.1:${(site.address() as { port: number }).port}`;
      const c = new XmppClient({ jid: `juliet@${DOMAIN}`, password: ACCOUNTS.juliet!, allowInsecure: true, discovery: { baseUrl: base }, WebSocket: WS });
      await c.online();
      expect(c.endpoint).toBe(demo.url);
      await c.close();
      // Without allowInsecure the ws: link (and the http: base) are refused.
      const d = new XmppClient({ jid: `juliet@${DOMAIN}`, password: ACCOUNTS.juliet!, discovery: { baseUrl: base }, WebSocket: WS });
      await expect(d.online()).rejects.toThrow(/https/);
    } finally {
      site.closeAllConnections();
      await new Promise<void>((r) => site.close(() => r()));
    }
  });

  it("WebSocketClient: no discovery unless injected (no-service without service/discover); an injected discover is used", async () => {
    const none = new WebSocketClient({ jid: `juliet@${DOMAIN}`, password: ACCOUNTS.juliet!, WebSocket: WS, reconnect: false, parts: { hashes: [sha256Hash] } });
    const err = await none.online().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe("no-service");
    expect((err as Error).message).toMatch(/discover/);
    const asked: string[] = [];
    const c = new WebSocketClient({
      jid: `juliet@${DOMAIN}`,
      password: ACCOUNTS.juliet!,
      allowInsecure: true,
      WebSocket: WS,
      parts: { hashes: [sha256Hash] },
      discover: async (domain) => {
        asked.push(domain);
        return [demo.url];
      },
    });
    await c.online();
    expect(asked).toEqual([DOMAIN]);
    expect(c.endpoint).toBe(demo.url);
    await c.close();
  });

  it("wss: over an https server: the session counts as TLS on both sides (PLAIN allowed, no -PLUS)", async () => {
    const { execFileSync } = await import("node:child_process");
    const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const https = await import("node:https");
    const dir = mkdtempSync(path.join(tmpdir(), "xmpp-ws-cert-"));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", path.join(dir, "k.pem"), "-out", path.join(dir, "c.pem")], { stdio: "pipe" });
    const key = readFileSync(path.join(dir, "k.pem"), "utf8");
    const cert = readFileSync(path.join(dir, "c.pem"), "utf8");
    rmSync(dir, { recursive: true, force: true });
    const site = https.createServer({ key, cert });
    await new Promise<void>((r) => site.listen(0, "127.0.0.1", r));
    const secure = await startDemoServer({ httpServer: site as unknown as import("node:http").Server, session: { mechanisms: ["PLAIN"] } });
    class TrustingWebSocket extends WebSocket {
      constructor(url: string, protocols: string | string[]) {
        super(url, protocols, { ca: cert });
      }
    }
    try {
      const url = `wss://localhost:${(site.address() as { port: number }).port}/xmpp-websocket`;
      const c = new XmppClient({ jid: `juliet@${DOMAIN}`, password: ACCOUNTS.juliet!, service: url, WebSocket: TrustingWebSocket as unknown as WebSocketConstructor });
      const jid = await c.online();
      const conn = secure.server.connectionFor(jid);
      expect(conn?.secure).toBe(true);
      expect(conn?.mechanism).toBe("PLAIN");
      await c.close();
    } finally {
      await secure.close();
      site.closeAllConnections();
      await new Promise<void>((r) => site.close(() => r()));
    }
  });

  it("a wrong password rejects online() with AuthError", async () => {
    const c = new XmppClient({ jid: `juliet@${DOMAIN}`, password: "wrong", service: demo.url, WebSocket: WS });
    await expect(c.online()).rejects.toMatchObject({ name: "AuthError", condition: "not-authorized" });
  });

  it("refuses ws: to a non-loopback host unless allowed, and a server without the xmpp subprotocol", async () => {
    const c = new XmppClient({ jid: `juliet@${DOMAIN}`, password: "x", service: "ws://example.com/xmpp-websocket", WebSocket: WS });
    await expect(c.online()).rejects.toBeInstanceOf(ConnectionError);
    const raw = new WebSocket(demo.url, ["not-xmpp"]);
    const [err] = (await once(raw, "error")) as [Error];
    expect(err.message).toMatch(/400/);
  });

  it("the server refuses a binary frame with <unsupported-encoding/> (RFC 7395 §3.2)", async () => {
    const c = await rawClient(demo.url);
    c.ws.send(OPEN);
    await c.waitFor((m) => m.includes("<stream:features") || m.includes("features"));
    c.ws.send(Buffer.from("<message xmlns='jabber:client'/>"), { binary: true });
    await c.waitFor((m) => m.includes("unsupported-encoding"));
    await c.waitFor((m) => m.startsWith("<close"));
    await c.closed;
    expect(c.messages.every((m) => !m.binary)).toBe(true);
  });

  it("invalid UTF-8 in a text frame is a stream error from our parser (ws does not validate a second time)", async () => {
    for (const bad of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff]]) {
      const c = await rawClient(demo.url);
      c.ws.send(OPEN);
      await c.waitFor((m) => m.includes("features"));
      c.ws.send(Buffer.concat([Buffer.from("<message xmlns='jabber:client'><body>"), Buffer.from(bad), Buffer.from("</body></message>")]), { binary: false });
      await c.waitFor((m) => /<(not-well-formed|unsupported-encoding) /.test(m));
      await c.waitFor((m) => m.startsWith("<close"));
      await c.closed;
    }
  });

  it("the server refuses a message that is not exactly one element (RFC 7395 §3.3.3)", async () => {
    const c = await rawClient(demo.url);
    c.ws.send(`${OPEN}<message xmlns='jabber:client'/>`);
    await c.waitFor((m) => m.includes("not-well-formed"));
    await c.closed;
  });

  it("the messages of one socket read reach the session in one call; a bad one among them fails as it would alone", async () => {
    const calls: number[] = [];
    const spied = await startDemoServer({
      createSession: (options) => {
        const s = new ServerSession(options);
        const receiveMessages = s.receiveMessages.bind(s);
        s.receiveMessages = (messages, now) => {
          calls.push(messages.length);
          receiveMessages(messages, now);
        };
        return s;
      },
    });
    try {
      const c = await rawClient(spied.url);
      // Three frames in one write (one read at the server): a header, a message that is not one element,
      // and a second header that must never be answered.
      const socket = (c.ws as unknown as { _socket: Socket })._socket;
      socket.cork();
      c.ws.send(OPEN);
      c.ws.send("<message xmlns='jabber:client'><body>");
      c.ws.send(OPEN);
      socket.uncork();
      await c.closed;
      expect(calls).toEqual([3]);
      const texts = c.messages.map((m) => m.text);
      expect(texts[0]).toMatch(/^<open /);
      expect(texts[1]).toContain("features");
      expect(texts[2]).toContain("<not-well-formed ");
      expect(texts[2]).toContain("not one complete XML element");
      expect(texts[3]).toMatch(/^<close /);
      expect(texts).toHaveLength(4);
    } finally {
      await spied.close();
    }
  });

  it("client frames: plain text frames on the fast path, then a ping (answered), a fragmented message and more text through ws", async () => {
    const got: string[] = [];
    const recorder = await startDemoServer({
      createSession: () =>
        ({
          state: "negotiating",
          start() {},
          tlsEstablished() {},
          receiveMessage: (m: Uint8Array, binary: boolean) => got.push(`${binary ? "binary " : ""}${Buffer.from(m).toString()}`),
          receiveMessages: (ms: Uint8Array[]) => got.push(...ms.map((m) => Buffer.from(m).toString())),
          transportClosed() {},
          pollTransmit: () => undefined,
          pollEvent: () => undefined,
          nextTimeout: () => undefined,
          handleTimeout() {},
          abort() {},
          close() {},
        }) as unknown as ServerSessionLike,
    });
    try {
      const c = await rawClient(recorder.url);
      const pong = once(c.ws as unknown as NodeJS.EventEmitter, "pong");
      const socket = (c.ws as unknown as { _socket: Socket })._socket;
      socket.cork();
      c.ws.send("one");
      c.ws.send("two ☃".repeat(40));
      c.ws.ping("p");
      c.ws.send("three");
      c.ws.send("fo", { fin: false });
      c.ws.send("ur", { fin: true });
      c.ws.send("five");
      socket.uncork();
      await pong;
      for (let i = 0; i < 100 && got.length < 5; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got).toEqual(["one", "two ☃".repeat(40), "three", "four", "five"]);
      c.ws.close();
      await c.closed;
    } finally {
      await recorder.close();
    }
  });

  it("limits: an oversized stanza before authentication is a stream error; an oversized frame is cut by ws", async () => {
    const c = await rawClient(demo.url);
    c.ws.send(OPEN);
    await c.waitFor((m) => m.includes("features"));
    c.ws.send(`<message xmlns='jabber:client'><body>${"x".repeat(20_000)}</body></message>`);
    await c.waitFor((m) => /policy-violation|resource-constraint/.test(m));
    await c.closed;

    const d = await rawClient(demo.url);
    d.ws.send(`<message xmlns='jabber:client'><body>${"x".repeat(300 * 1024)}</body></message>`);
    const [code] = (await d.closed) as [number];
    expect(code).toBe(1009); // RFC 6455 "message too big": never buffered whole
  });

  it("deadlines: a client that never negotiates gets <connection-timeout/> (timer via SessionPump)", async () => {
    const slow = await startDemoServer({ session: { timeouts: { negotiationMs: 150 } } });
    try {
      const c = await rawClient(slow.url);
      c.ws.send(OPEN);
      await c.waitFor((m) => m.includes("connection-timeout"));
      await c.closed;
    } finally {
      await slow.close();
    }
  });

  it("the client refuses a binary frame from the server", async () => {
    const { WebSocketServer } = await import("ws");
    const evil = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: () => "xmpp" });
    await once(evil, "listening");
    const received: string[] = [];
    evil.on("connection", (ws) => {
      ws.on("message", (d: Buffer) => {
        received.push(d.toString());
        if (d.toString().startsWith("<open")) ws.send(Buffer.from(`<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='${DOMAIN}' id='x' version='1.0'/>`), { binary: true });
      });
    });
    try {
      const port = (evil.address() as { port: number }).port;
      const c = new XmppClient({ jid: `juliet@${DOMAIN}`, password: "x", service: `ws://127.0.0.1:${port}/`, WebSocket: WS });
      const err = await c.online().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StreamErrorException);
      expect((err as StreamErrorException).condition).toBe("unsupported-encoding");
      expect((err as StreamErrorException).origin).toBe("local");
      expect(received.some((m) => m.includes("unsupported-encoding"))).toBe(true);
    } finally {
      for (const ws of evil.clients) ws.terminate();
      await new Promise<void>((r) => evil.close(() => r()));
    }
  });

  it("the client hands the messages of one read to the session together; a bad one among them fails as it would alone", async () => {
    const { WebSocketServer } = await import("ws");
    const peer = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: () => "xmpp" });
    await once(peer, "listening");
    const received: string[] = [];
    /** An unmasked server text frame (RFC 6455 §5.2), payload under 126 bytes. */
    const frame = (text: string) => Buffer.concat([Buffer.from([0x81, Buffer.byteLength(text)]), Buffer.from(text)]);
    peer.on("connection", (ws) => {
      ws.on("message", (d: Buffer) => {
        received.push(d.toString());
        // The answer to <open/> and a message of two elements, in one socket write (one read at the client).
        if (received.length === 1) (ws as unknown as { _socket: Socket })._socket.write(Buffer.concat([frame(`<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='${DOMAIN}' id='x' version='1.0'/>`), frame("<a xmlns='x'/><b xmlns='x'/>")]));
      });
    });
    const spy = vi.spyOn(LeanClientLifecycle.prototype, "receiveMessages");
    try {
      const port = (peer.address() as { port: number }).port;
      const c = new XmppClient({ jid: `juliet@${DOMAIN}`, password: "x", service: `ws://127.0.0.1:${port}/`, WebSocket: WS, reconnect: false });
      const err = await c.online().catch((e: unknown) => e);
      expect(spy.mock.calls.map(([m]) => m.length)).toEqual([2]);
      expect(err).toBeInstanceOf(StreamErrorException);
      expect((err as StreamErrorException).condition).toBe("not-well-formed");
      expect(received.some((m) => m.includes("not-well-formed"))).toBe(true);
    } finally {
      spy.mockRestore();
      for (const ws of peer.clients) ws.terminate();
      await new Promise<void>((r) => peer.close(() => r()));
    }
  });

  it("invalid UTF-8 in a server text frame is a stream error from the client's parser (its own decoding does not check)", async () => {
    const { WebSocketServer } = await import("ws");
    const peer = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: () => "xmpp" });
    await once(peer, "listening");
    const received: string[] = [];
    const frame = (bytes: Buffer) => Buffer.concat([Buffer.from([0x81, bytes.length]), bytes]);
    peer.on("connection", (ws) => {
      ws.on("message", (d: Buffer) => {
        received.push(d.toString());
        if (received.length === 1) (ws as unknown as { _socket: Socket })._socket.write(Buffer.concat([frame(Buffer.from(`<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='${DOMAIN}' id='x' version='1.0'/>`)), frame(Buffer.concat([Buffer.from("<a xmlns='x'>"), Buffer.from([0xff, 0xfe]), Buffer.from("</a>")]))]));
      });
    });
    try {
      const port = (peer.address() as { port: number }).port;
      const c = new XmppClient({ jid: `juliet@${DOMAIN}`, password: "x", service: `ws://127.0.0.1:${port}/`, WebSocket: WS, reconnect: false });
      const err = await c.online().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StreamErrorException);
      expect(["not-well-formed", "unsupported-encoding"]).toContain((err as StreamErrorException).condition);
      expect(received.some((m) => /not-well-formed|unsupported-encoding/.test(m))).toBe(true);
    } finally {
      for (const ws of peer.clients) ws.terminate();
      await new Promise<void>((r) => peer.close(() => r()));
    }
  });

  it("follows <close see-other-uri/> to an equally secure URI, and refuses a downgrade", async () => {
    const { WebSocketServer } = await import("ws");
    const redirector = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: () => "xmpp" });
    await once(redirector, "listening");
    let target = demo.url;
    redirector.on("connection", (ws) => {
      ws.on("message", () => ws.send(`<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='${target}'/>`));
    });
    try {
      const port = (redirector.address() as { port: number }).port;
      const c = new XmppClient({ jid: `juliet@${DOMAIN}`, password: ACCOUNTS.juliet!, service: `ws://127.0.0.1:${port}/`, WebSocket: WS });
      const closes: unknown[] = [];
      c.on("close", (i) => closes.push(i));
      await c.online();
      expect(c.endpoint).toBe(demo.url);
      expect(closes).toEqual([{ reason: "peer-closed", willReconnect: true }]);
      await c.close();

      target = "http://127.0.0.1:1/evil";
      const d = new XmppClient({ jid: `juliet@${DOMAIN}`, password: ACCOUNTS.juliet!, service: `ws://127.0.0.1:${port}/`, WebSocket: WS });
      await expect(d.online()).rejects.toThrow(/redirect .* refused/);
    } finally {
      for (const ws of redirector.clients) ws.terminate();
      await new Promise<void>((r) => redirector.close(() => r()));
    }
  });

  it("exchanges stanzas alike through ws's own API (bytes, corked turns) and through the WHATWG API alone", async () => {
    // Only the WHATWG surface of a `ws` WebSocket (as in a browser): no `on`, `pause` or `terminate`, so
    // the client takes its string path (decode before send, strings received).
    class WhatwgOnly {
      readonly #ws: WebSocket;
      constructor(url: string, protocols: string | string[]) {
        this.#ws = new WebSocket(url, protocols);
      }
      get protocol() {
        return this.#ws.protocol;
      }
      get readyState() {
        return this.#ws.readyState;
      }
      get binaryType() {
        return this.#ws.binaryType;
      }
      set binaryType(t: string) {
        this.#ws.binaryType = t as "arraybuffer";
      }
      send(data: string) {
        if (typeof data !== "string") throw new TypeError("the WHATWG path sends strings");
        this.#ws.send(data);
      }
      close(code?: number, reason?: string) {
        this.#ws.close(code, reason);
      }
      addEventListener(type: string, listener: (event: never) => void) {
        this.#ws.addEventListener(type as "open", listener as () => void);
      }
    }
    for (const [label, Ctor] of [["ws", WS], ["WHATWG only", WhatwgOnly as unknown as WebSocketConstructor]] as const) {
      const juliet = new XmppClient({ jid: `juliet@${DOMAIN}/${label}`, password: ACCOUNTS.juliet!, service: demo.url, WebSocket: Ctor });
      const romeo = new XmppClient({ jid: `romeo@${DOMAIN}/${label}`, password: ACCOUNTS.romeo!, service: demo.url, WebSocket: Ctor });
      const [, rj] = await Promise.all([juliet.online(), romeo.online()]);
      const bodies: string[] = [];
      const all = new Promise<void>((resolve) =>
        romeo.on("message", (m) => {
          bodies.push(m.getChildText("body") ?? "");
          if (bodies.length === 300) resolve();
        }),
      );
      // 300 stanzas in one turn (one corked write on the fast path), multi-byte text, one of 60 KB (a
      // 16-bit frame length), one of 80 KB (a 64-bit frame length).
      const sent = Array.from({ length: 300 }, (_, i) => (i === 150 ? "☃".repeat(20_000) : i === 200 ? "é".repeat(40_000) : `${label} #${i} ☃ é 𝄞`));
      for (const body of sent) juliet.send(xml("message", { to: rj.toString(), type: "chat" }, xml("body", {}, body)));
      await all;
      expect(bodies).toEqual(sent);
      await Promise.all([juliet.close(), romeo.close()]);
    }
  });
});
