/**
 * `@xmpp-sansio/websocket/server`: an RFC 7395 XMPP-over-WebSocket server for Node on `ws`. One core
 * `ServerSession` (WebSocket framing) per connection, with the same limits, deadlines and application
 * hooks as `@xmpp-sansio/node`'s TCP `XmppServer`. It can share an existing `http`/`https` server
 * (upgrades on one path) or create its own. Node only: not part of the browser entry point.
 *
 * @module @xmpp-sansio/websocket/server
 */
/// <reference types="node" />
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import {
  AddressGate,
  type HookedConnection,
  type IqHandlers,
  monotonicNow,
  OutboundQueue,
  ReadLimiter,
  ServerHooksCore,
  type ServerLimits,
  type ServerSessionLike,
  SessionPump,
  serverEventsOf,
  TypedEmitter,
  type XmppConnection,
  type XmppServerHooks,
} from "@xmpp-sansio/adapter";
import { type ServerEvent, type ServerOptions, ServerSession, type StreamErrorCondition } from "@xmpp-sansio/core";
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import { type WebSocket, WebSocketServer } from "ws";
import { frameHeaderBytes, writeTextFrameHeader } from "./frames.js";
import { takeOverTextFrames } from "./server-frames.js";

export type { HookedConnection, ServerSessionLike, XmppConnection, XmppServerHooks } from "@xmpp-sansio/adapter";
export {
  authFailureLine,
  type OnlineInfo,
  ServerHooksCore,
  type ServerHooksCoreOptions,
  type ServerLimits,
  streamManagementOf,
} from "@xmpp-sansio/adapter";

export { XMPP_SUBPROTOCOL } from "./socket-rules.js";

/** Options of {@link XmppWebSocketServer}. */
export interface XmppWebSocketServerOptions {
  /** The domain(s) served. The first is the default for clients that send no `to`. */
  domains: string | readonly string[];
  /** Share this `http`/`https` server (upgrades on `path`). Without it the server creates a plain `http` one. */
  server?: http.Server | https.Server;
  /** Listening address when the server creates its own. Default `"::"`; tests use `"127.0.0.1"`. */
  host?: string;
  /** Port when the server creates its own. Default 5280; 0 for an ephemeral port. */
  port?: number;
  /** The upgrade path. Default `"/xmpp-websocket"`. */
  path?: string;
  /**
   * Whether the transport counts as TLS (`wss:`; the session then uses `tls: "direct"`). Default: true for
   * an `https.Server`, false otherwise — then `ws:` clients get the core's no-TLS policy (no PLAIN unless
   * `session.allowPlainInClear`), which is meant for loopback and for TLS terminated by a proxy.
   */
  secure?: boolean;
  /** Browsers send `Origin`; return false to refuse a page's origin (cross-site WebSocket hijacking). Default: all. */
  allowOrigin?(origin: string | undefined): boolean;
  /** Further core options (mechanisms, timeouts, limits…). */
  session?: Omit<ServerOptions, "tls" | "defaultDomain" | "framing"> & { maxAuthAttempts?: number };
  /** RFC 6120 §7.7.2.2, for the default bind hook. Default `"assign-new"`. */
  resourceConflict?: "override" | "refuse" | "assign-new";
  /** The application (the same hooks object as for `@xmpp-sansio/node`'s `XmppServer` works). */
  hooks?: XmppServerHooks<ServerConnection>;
  /** `close()` waits this long for clients to end their streams. Default 5 000 ms. */
  shutdownTimeoutMs?: number;
  /**
   * Load limits, as for `@xmpp-sansio/node`'s `XmppServer`: the outbound queue is the WebSocket's
   * `bufferedAmount`; read rates pause the WebSocket (`ws.pause()`); connections and login attempts per IP.
   */
  limits?: ServerLimits;
  /** Largest WebSocket message accepted by `ws` (bytes). Default: the session's stanza limit + 4 KiB. */
  maxPayload?: number;
  /** Builds a session (inject a scripted fake in tests). Default `new ServerSession(options)`. */
  createSession?: (options: ServerOptions) => ServerSessionLike;
}

/** Events of {@link XmppWebSocketServer} (as `@xmpp-sansio/node`'s `XmppServerEvents`). */
export interface XmppWebSocketServerEvents {
  [event: string]: unknown[];
  /**
   * A client connected (WebSocket upgrade accepted, subprotocol `xmpp`): a place to log it or attach per-connection
   * state.
   */
  connection: [connection: ServerConnection];
  /** A hook threw or rejected; that connection was ended with `<internal-server-error/>`. */
  hookError: [error: unknown, connection: ServerConnection];
  /** Reserved for server-level failures (as on the TCP server); listen errors reject `listen()` instead. */
  error: [error: Error];
  /** A SASL exchange failed (see `@xmpp-sansio/node`'s `authFailed`). */
  authFailed: [connection: ServerConnection, username: string | undefined, condition: string];
  /** A connection is being ended for a limit. */
  limit: [connection: ServerConnection, condition: StreamErrorCondition, text: string];
  /** A stream error ended a session (see `@xmpp-sansio/node`'s `streamError`). */
  streamError: [connection: ServerConnection, condition: string, text: string | undefined, byPeer: boolean];
}

let nextConnectionId = 1;

/** One WebSocket client connection as the application sees it. */
export class ServerConnection implements XmppConnection, HookedConnection {
  readonly id: number;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Whether the transport counts as TLS (`wss:` or a TLS-terminating proxy the server was told about). */
  readonly secure: boolean;
  /** The `Origin` header of the upgrade request (browsers), if any. */
  readonly origin: string | undefined;
  username: string | undefined;
  mechanism: string | undefined;
  jid: Jid | undefined;
  /** @internal */
  readonly pump: SessionPump<ServerEvent>;
  /** @internal */
  readonly closedPromise: Promise<void>;
  /** @internal */
  readonly socket: WebSocket;
  /** @internal the bounded outbound queue (`bufferedAmount`) */
  readonly outbound: OutboundQueue;
  /** @internal */
  readsPausedFlag = false;
  private ended = false;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly sendVia: (c: ServerConnection, stanza: XmlElement) => void;
  /** Writes the messages framed but not yet written (before anything `ws` writes itself, e.g. a close). */
  private readonly sendFrames: () => void;

  /** @internal */
  constructor(
    pump: SessionPump<ServerEvent>,
    socket: WebSocket,
    request: http.IncomingMessage,
    secure: boolean,
    closedPromise: Promise<void>,
    outbound: OutboundQueue,
    sendVia: (c: ServerConnection, stanza: XmlElement) => void,
    sendFrames: () => void,
  ) {
    this.id = nextConnectionId++;
    this.sendFrames = sendFrames;
    this.pump = pump;
    this.socket = socket;
    this.outbound = outbound;
    this.sendVia = sendVia;
    this.remoteAddress = request.socket.remoteAddress;
    this.remotePort = request.socket.remotePort;
    this.origin = request.headers.origin;
    this.secure = secure;
    this.closedPromise = closedPromise;
  }

  get isOnline(): boolean {
    return this.pump.session.state === "online";
  }

  get closed(): boolean {
    return this.socket.readyState === this.socket.CLOSED;
  }

  /**
   * Sends a stanza to the client through the bounded outbound queue (past its caps: `<resource-constraint/>`
   * and the `undeliverable` hook). @throws SessionStateError (from the core) when not online
   */
  send(stanza: XmlElement): void {
    this.sendVia(this, stanza);
  }

  /** Bytes queued on the WebSocket and not yet taken by the operating system. */
  get heldBytes(): number {
    return this.outbound.heldBytes;
  }

  /** Whether reads are paused by the rate limit. */
  get readsPaused(): boolean {
    return this.readsPausedFlag;
  }

  /** @internal after the overflow's stream error: terminate the WebSocket if it has not closed within `ms` */
  closeAfterGrace(ms: number): void {
    if (this.graceTimer !== undefined || this.closed) return;
    this.graceTimer = setTimeout(() => this.socket.terminate(), ms);
    this.graceTimer.unref();
    void this.closedPromise.then(() => clearTimeout(this.graceTimer));
  }

  /** Closes the stream gracefully (`<close/>`, then waits for the client's). Resolves when the WebSocket is closed. */
  close(): Promise<void> {
    if (!this.closed) this.pump.interact((s, now) => s.close(now));
    return this.closedPromise;
  }

  /** Ends the stream with a stream error (e.g. `conflict`, `system-shutdown`). Resolves when the WebSocket is closed. */
  closeWithError(condition: StreamErrorCondition, text?: string): Promise<void> {
    this.abort(condition, text);
    return this.closedPromise;
  }

  /**
   * @internal Ends the stream with a stream error through the core (`<stream:error/>` and `<close/>` as two
   * messages); the session's `closed` then closes the WebSocket.
   */
  abort(condition: StreamErrorCondition, text?: string): void {
    if (this.ended || this.closed) return;
    this.pump.abort(condition, text);
  }

  /** @internal Closes the WebSocket (close frame), and terminates it if the peer does not answer. */
  endSocket(): void {
    this.ended = true;
    if (this.socket.readyState === this.socket.CLOSED) return;
    this.sendFrames(); // the last messages (<stream:error/>, <close/>) before the close frame
    this.socket.close(1000);
    const t = setTimeout(() => this.socket.terminate(), 5_000);
    t.unref();
    this.socket.once("close", () => clearTimeout(t));
  }
}

/**
 * An XMPP-over-WebSocket server (RFC 7395) for Node.
 *
 * @example
 * ```ts
 * import { XmppWebSocketServer } from "@xmpp-sansio/websocket/server";
 * const server = new XmppWebSocketServer({ domains: "example.com", server: httpsServer, hooks });
 * await server.listen(); // only needed when it created its own http server
 * // wss://example.com/xmpp-websocket
 * await server.close();
 * ```
 */
export class XmppWebSocketServer extends TypedEmitter<XmppWebSocketServerEvents> {
  private readonly options: XmppWebSocketServerOptions;
  private readonly domains: readonly string[];
  private readonly core: ServerHooksCore<ServerConnection>;
  private readonly gate: AddressGate;
  private readonly http: http.Server | https.Server;
  private readonly ownsHttp: boolean;
  private readonly wss: WebSocketServer;
  private readonly path: string;
  private readonly secure: boolean;
  private readonly maxPayload: number;
  private closing = false;
  private readonly onUpgrade = (req: http.IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head);

  constructor(options: XmppWebSocketServerOptions) {
    super();
    this.options = options;
    const list = typeof options.domains === "string" ? [options.domains] : options.domains;
    if (list.length === 0) throw new TypeError("XmppWebSocketServer needs at least one domain");
    this.domains = list.map((d) => parseJid(d).domain);
    this.core = new ServerHooksCore<ServerConnection>({
      domains: this.domains,
      hooks: options.hooks ?? {},
      ...(options.resourceConflict === undefined ? {} : { resourceConflict: options.resourceConflict }),
      onHookError: (err, conn) => {
        if (this.listenerCount("hookError") > 0) this.emit("hookError", err, conn);
      },
      addressGate: (this.gate = new AddressGate(options.limits?.address)),
      ...serverEventsOf(this),
    });
    this.path = options.path ?? "/xmpp-websocket";
    this.ownsHttp = options.server === undefined;
    this.http = options.server ?? http.createServer((_req, res) => res.writeHead(426, { upgrade: "websocket" }).end());
    this.secure = options.secure ?? this.http instanceof https.Server;
    const stanzaLimit = options.session?.limits?.maxStanzaBytes ?? 256 * 1024;
    this.maxPayload = options.maxPayload ?? stanzaLimit + 4096;
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.maxPayload,
      perMessageDeflate: false,
      // Our parser validates UTF-8 in every byte of a message (and answers invalid UTF-8 with a stream
      // error, as over TCP, where `ws` would only close with 1007): no second pass over each message.
      skipUTF8Validation: true,
      handleProtocols: (protocols) => (protocols.has("xmpp") ? "xmpp" : false),
    });
    this.http.on("upgrade", this.onUpgrade);
  }

  /** Starts listening when the server created its own http server; otherwise resolves at once. */
  async listen(): Promise<{ port: number }> {
    if (this.ownsHttp && !this.http.listening) {
      await new Promise<void>((resolve, reject) => {
        this.http.once("error", reject);
        this.http.listen(this.options.port ?? 5280, this.options.host ?? "::", () => {
          this.http.off("error", reject);
          resolve();
        });
      });
    }
    return this.address();
  }

  /** The port of the underlying http server (0 if it is not listening). */
  address(): { port: number } {
    const a = this.http.address() as AddressInfo | string | null;
    return { port: a !== null && typeof a === "object" ? a.port : 0 };
  }

  /** Connections currently open. */
  get connections(): ReadonlySet<ServerConnection> {
    return this.core.live;
  }

  /**
   * Handlers of IQ requests addressed to the server (`to` a served domain, or no `to`), answered before
   * the `stanza` hook: `server.iqHandlers.on("get", ns, name, (iq, payload) => result)` — the client's
   * `onIq` API (return the payload, nothing, or a `StanzaError`; async allowed).
   */
  get iqHandlers(): IqHandlers {
    return this.core.iqHandlers;
  }

  /** The online connection bound to this full JID, if any. */
  connectionFor(fullJid: string | Jid): ServerConnection | undefined {
    return this.core.connectionFor(fullJid);
  }

  /** The online connections of an account (bare JID). */
  connectionsOf(bareJid: string | Jid): ServerConnection[] {
    return this.core.connectionsOf(bareJid);
  }

  /**
   * Graceful shutdown: stops accepting upgrades, ends every stream with `<system-shutdown/>`, waits up to
   * `shutdownTimeoutMs`, terminates the rest, and closes the http server if it created it.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.http.off("upgrade", this.onUpgrade);
    for (const c of await this.core.shutdown(this.options.shutdownTimeoutMs ?? 5_000)) c.socket.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
    if (this.ownsHttp && this.http.listening) {
      this.http.closeAllConnections();
      await new Promise<void>((r) => this.http.close(() => r()));
    }
  }

  private upgrade(req: http.IncomingMessage, socket: Socket, head: Buffer): void {
    const pathname = (req.url ?? "/").split("?")[0];
    if (pathname !== this.path) {
      // Someone else's path: leave it to the other upgrade listeners, if any.
      if (this.http.listenerCount("upgrade") <= 1) refuse(socket, 404, "Not Found");
      return;
    }
    socket.on("error", () => {});
    if (this.closing) {
      refuse(socket, 503, "Service Unavailable");
      return;
    }
    const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
    // RFC 7395 §3.1: only clients that ask for the xmpp subprotocol.
    if (!offered.includes("xmpp")) {
      refuse(socket, 400, "Bad Request");
      return;
    }
    if (this.options.allowOrigin !== undefined && !this.options.allowOrigin(req.headers.origin)) {
      refuse(socket, 403, "Forbidden");
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req));
  }

  private accept(ws: WebSocket, req: http.IncomingMessage): void {
    if (this.closing) {
      ws.terminate();
      return;
    }
    const sessionOptions: ServerOptions = {
      ...(this.options.session ?? {}),
      framing: "websocket",
      tls: this.secure ? "direct" : "none",
      defaultDomain: this.domains[0]!,
    };
    let session: ServerSessionLike;
    try {
      session = this.options.createSession?.(sessionOptions) ?? (new ServerSession(sessionOptions) as ServerSessionLike);
    } catch {
      ws.terminate();
      return;
    }
    let resolveClosed!: () => void;
    const closedPromise = new Promise<void>((r) => (resolveClosed = r));
    let conn!: ServerConnection;
    const address = req.socket.remoteAddress;
    const admitted = this.gate.open(address, monotonicNow());
    const limiter = new ReadLimiter(this.options.limits?.rate, monotonicNow());
    let resumeTimer: ReturnType<typeof setTimeout> | undefined;
    // Every stanza is a WebSocket message of its own (RFC 7395 §3.3.3). The messages the session writes in
    // one turn of the event loop are framed together on the next tick into one buffer, one socket write
    // (`ws.send` costs two socket writes and a few objects per message). Nothing of `ws` can write to the
    // socket in between: its own frames (pongs, closes) come from socket reads and from our calls, and a
    // turn's messages are written before the next read; `endSocket` writes them before `ws.close()`.
    const socket = req.socket;
    let frames: Uint8Array[] | undefined;
    let framesBytes = 0;
    const sendFrames = () => {
      const list = frames;
      if (list === undefined) return;
      frames = undefined;
      const bytes = framesBytes;
      framesBytes = 0;
      if (ws.readyState === ws.OPEN) socket.write(textFrames(list, bytes));
    };
    const pump = new SessionPump<ServerEvent>({
      session,
      // RFC 7395 §3.2: text frames — the writer's UTF-8 bytes as they are, no decoding to a string for
      // `ws` to encode again. No back-pressure: the outbound queue measures what is held (below).
      write: (data) => {
        if (ws.readyState === ws.OPEN) {
          if (frames === undefined) {
            frames = [];
            process.nextTick(sendFrames);
          }
          frames.push(data);
          framesBytes += frameHeaderBytes(data.length, false) + data.length;
        }
        this.core.wrote(conn, data.length);
      },
      onEvent: (ev) => {
        if (ev.type === "authenticated") limiter.authenticated(monotonicNow());
        this.core.onEvent(conn, ev);
      },
      onClosed: () => conn.endSocket(),
      // A throwing session or hook (socket/timer-driven: nobody to throw to) ends only this connection.
      onError: (err) => {
        if (this.listenerCount("hookError") > 0) this.emit("hookError", err, conn);
        if (!conn.closed) conn.abort("internal-server-error");
      },
    });
    const outbound = new OutboundQueue(() => ws.bufferedAmount + framesBytes, this.options.limits?.outbound);
    conn = new ServerConnection(pump, ws, req, this.secure, closedPromise, outbound, (c, stanza) => this.core.send(c, stanza), sendFrames);
    this.core.live.add(conn);
    const consume = (bytes: number) => {
      // Read rate: in debt, the WebSocket stops reading until the bucket has refilled.
      const wait = limiter.consume(bytes, monotonicNow());
      if (wait > 0 && resumeTimer === undefined) {
        ws.pause();
        conn.readsPausedFlag = true;
        resumeTimer = setTimeout(() => {
          resumeTimer = undefined;
          conn.readsPausedFlag = false;
          if (ws.readyState === ws.OPEN || ws.readyState === ws.CLOSING) ws.resume();
        }, Math.ceil(wait));
      }
    };
    // `ws` emits the messages of one socket read one by one, synchronously: they are collected and handed
    // to the session together on the next tick (receiveMessages: one pass of the session, the parser and
    // the pump per read instead of per message, as over TCP; each message must still be one element).
    let batch: Uint8Array[] | undefined;
    let batchBytes = 0;
    const flush = () => {
      const messages = batch;
      if (messages === undefined) return;
      batch = undefined;
      const bytes = batchBytes;
      batchBytes = 0;
      pump.guarded((s, now) => {
        if (messages.length === 1) s.receiveMessage(messages[0]!, false, now);
        else if (s.receiveMessages !== undefined) s.receiveMessages(messages, now);
        else for (const m of messages) s.receiveMessage(m, false, now);
      });
      consume(bytes);
    };
    const onText = (bytes: Uint8Array) => {
      if (batch === undefined) {
        batch = [];
        process.nextTick(flush);
      }
      batch.push(bytes);
      batchBytes += bytes.length;
    };
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
      if (!isBinary) return onText(bytes);
      flush(); // what came before it, first
      pump.guarded((s, now) => s.receiveMessage(bytes, true, now));
      consume(bytes.length);
    });
    // Plain text frames are decoded here, anything else by `ws` (server-frames.ts).
    takeOverTextFrames(socket, this.maxPayload, onText);
    ws.on("error", () => {});
    ws.on("close", () => {
      flush();
      if (resumeTimer !== undefined) clearTimeout(resumeTimer);
      if (admitted) this.gate.close(address, monotonicNow());
      pump.transportClosed();
      this.core.closed(conn);
      resolveClosed();
    });
    this.emit("connection", conn);
    pump.interact((s, now) => {
      if (this.secure) s.tlsEstablished({ channelBinding: {} }, now);
      (s as ServerSessionLike).start(now);
    });
    if (!admitted) {
      const text = `too many connections from ${address} (limit ${this.gate.limits.maxConnectionsPerIp})`;
      if (this.listenerCount("limit") > 0) this.emit("limit", conn, "policy-violation", text);
      conn.abort("policy-violation", text);
    }
  }
}

/**
 * The messages as consecutive RFC 6455 text frames (FIN, opcode 1, unmasked: a server's), in one buffer
 * of `bytes` (their headers and payloads).
 */
function textFrames(messages: readonly Uint8Array[], bytes: number): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let at = 0;
  for (const m of messages) {
    at = writeTextFrameHeader(out, at, m.length);
    out.set(m, at);
    at += m.length;
  }
  return out;
}

function refuse(socket: Socket, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}
