/**
 * `XmppServer` for Deno: a c2s listener on `Deno.listen` (plain TCP) and/or `Deno.listenTls` (XEP-0368
 * Direct TLS, ALPN `xmpp-client`), one core `ServerSession` per connection, with the same application
 * hooks as `@xmpp-sansio/node`'s `XmppServer`.
 *
 * Deno has no server-side TLS upgrade of an accepted connection, so the plain port cannot offer
 * STARTTLS: it runs with `tls: "none"` (loopback, tests, or behind a TLS-terminating proxy). Use the
 * Direct TLS port for encrypted clients. No channel binding is available (Deno exposes none), so
 * SCRAM-*-PLUS is not offered.
 *
 * @module
 */
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
import { type DenoConn, type DenoListener, deno, writeAll } from "./deno-api.js";

/** Options of the Deno {@link XmppServer}. */
export interface XmppServerOptions {
  /** The domain(s) served. The first is the default for clients that send no `to`. */
  domains: string | readonly string[];
  /** Listening address. Default `"0.0.0.0"`; tests use `"127.0.0.1"`. */
  host?: string;
  /** Plain TCP port (no TLS; see the module notes). 0 for an ephemeral port; `null` (default) for none. */
  port?: number | null;
  /** Direct TLS port (XEP-0368). 0 for an ephemeral port; needs `tls`. Default none. */
  directTlsPort?: number;
  /** Certificate and key (PEM) for the Direct TLS port. */
  tls?: { cert: string; key: string };
  /** Further core options (mechanisms, timeouts, limits…). */
  session?: Omit<ServerOptions, "tls" | "defaultDomain" | "framing"> & { maxAuthAttempts?: number };
  /** RFC 6120 §7.7.2.2, for the default bind hook. Default `"assign-new"`. */
  resourceConflict?: "override" | "refuse" | "assign-new";
  /** The application (the same hooks object as for the Node and WebSocket servers works). */
  hooks?: XmppServerHooks<ServerConnection>;
  /** `close()` waits this long for clients to end their streams. Default 5 000 ms. */
  shutdownTimeoutMs?: number;
  /** Builds a session (inject a scripted fake in tests). Default `new ServerSession(options)`. */
  createSession?: (options: ServerOptions) => ServerSessionLike;
  /**
   * Load limits, as for `@xmpp-sansio/node`'s `XmppServer`: the outbound queue is the bytes in the write
   * chain; read rates delay the next read; connections and login attempts per IP.
   */
  limits?: ServerLimits;
}

/** Events of the Deno {@link XmppServer}. */
export interface XmppServerEvents {
  [event: string]: unknown[];
  /** A client connected (before any byte of XMPP): a place to log it or attach per-connection state. */
  connection: [connection: ServerConnection];
  /** A hook threw or rejected; that connection was ended with `<internal-server-error/>`. */
  hookError: [error: unknown, connection: ServerConnection];
  /** The listener failed (accept error); connections already open are not affected. */
  error: [error: Error];
  /** A SASL exchange failed (see `@xmpp-sansio/node`'s `authFailed`). */
  authFailed: [connection: ServerConnection, username: string | undefined, condition: string];
  /** A connection is being ended for a limit. */
  limit: [connection: ServerConnection, condition: StreamErrorCondition, text: string];
  /** A stream error ended a session (see `@xmpp-sansio/node`'s `streamError`). */
  streamError: [connection: ServerConnection, condition: string, text: string | undefined, byPeer: boolean];
}

let nextConnectionId = 1;
const READ_SIZE = 16 * 1024;

/** One client connection as the application sees it. */
export class ServerConnection implements XmppConnection, HookedConnection {
  readonly id: number;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Whether the connection came in on the Direct TLS port. */
  readonly directTls: boolean;
  username: string | undefined;
  mechanism: string | undefined;
  jid: Jid | undefined;
  /** @internal */
  pump!: SessionPump<ServerEvent>;
  /** @internal */
  readonly closedPromise: Promise<void>;
  private readonly conn: DenoConn;
  private writeChain: Promise<void> = Promise.resolve();
  private pending = 0;
  /** @internal the bounded outbound queue (bytes in the write chain) */
  readonly outbound: OutboundQueue;
  /** @internal */
  limiter: ReadLimiter | undefined;
  /** @internal */
  sendVia: ((c: ServerConnection, stanza: XmlElement) => void) | undefined;
  private paused = false;
  private graceTimer: ReturnType<typeof setTimeout> | undefined;
  private ended = false;
  private connClosed = false;
  private resolveClosed!: () => void;

  /** @internal */
  constructor(conn: DenoConn, directTls: boolean, limits?: ServerLimits) {
    this.outbound = new OutboundQueue(() => this.pending, limits?.outbound);
    this.id = nextConnectionId++;
    this.conn = conn;
    this.directTls = directTls;
    this.remoteAddress = conn.remoteAddr.hostname;
    this.remotePort = conn.remoteAddr.port;
    this.closedPromise = new Promise<void>((r) => (this.resolveClosed = r));
  }

  get secure(): boolean {
    return this.directTls;
  }

  get isOnline(): boolean {
    return this.pump.session.state === "online";
  }

  get closed(): boolean {
    return this.connClosed;
  }

  /**
   * Sends a stanza through the bounded outbound queue (past its caps: `<resource-constraint/>` and the
   * `undeliverable` hook). @throws SessionStateError (from the core) when not online
   */
  send(stanza: XmlElement): void {
    if (this.sendVia !== undefined) this.sendVia(this, stanza);
    else this.pump.interact((s) => s.send(stanza));
  }

  /** Bytes written and not yet taken by the operating system. */
  get heldBytes(): number {
    return this.pending;
  }

  /** Whether reads are paused by the rate limit. */
  get readsPaused(): boolean {
    return this.paused;
  }

  /** @internal after the overflow's stream error: close the connection if it has not closed within `ms` */
  closeAfterGrace(ms: number): void {
    if (this.graceTimer !== undefined || this.connClosed) return;
    this.graceTimer = setTimeout(() => this.destroy(), ms);
    void this.closedPromise.then(() => clearTimeout(this.graceTimer));
  }

  /** Closes the stream gracefully. Resolves when the connection is closed. */
  close(): Promise<void> {
    if (!this.connClosed) this.pump.interact((s, now) => s.close(now));
    return this.closedPromise;
  }

  /** Ends the stream with a stream error. Resolves when the connection is closed. */
  closeWithError(condition: StreamErrorCondition, text?: string): Promise<void> {
    this.abort(condition, text);
    return this.closedPromise;
  }

  /** @internal */
  write(data: Uint8Array): void {
    if (this.ended) return;
    const copy = data.slice();
    this.pending += copy.length;
    this.writeChain = this.writeChain
      .then(() => writeAll(this.conn, copy))
      .then(
        () => {
          this.pending -= copy.length;
        },
        () => this.destroy(),
      );
  }

  /** @internal Ends the stream with a stream error through the core; its `closed` then closes the connection. */
  abort(condition: StreamErrorCondition, text?: string): void {
    if (this.ended || this.connClosed) return;
    this.pump.abort(condition, text);
  }

  /** @internal Closes once queued writes are out. */
  endConn(): void {
    this.ended = true;
    void this.writeChain.then(() => this.destroy());
  }

  /** @internal */
  destroy(): void {
    if (this.connClosed) return;
    this.connClosed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }

  /** @internal Reads until EOF, feeding the session. */
  async readLoop(onClosed: () => void): Promise<void> {
    const buf = new Uint8Array(READ_SIZE);
    for (;;) {
      let n: number | null;
      try {
        n = await this.conn.read(buf);
      } catch {
        n = null;
      }
      if (n === null) break;
      const chunk = buf.slice(0, n);
      this.pump.guarded((s, now) => s.receive(chunk, now));
      // Read rate: in debt, the next read waits until the bucket has refilled.
      const wait = this.limiter?.consume(n, monotonicNow()) ?? 0;
      if (wait > 0 && !this.connClosed) {
        this.paused = true;
        await new Promise((r) => setTimeout(r, Math.ceil(wait)));
        this.paused = false;
      }
    }
    this.pump.transportClosed();
    this.destroy();
    onClosed();
    this.resolveClosed();
  }
}

/**
 * A c2s XMPP server on Deno.
 *
 * @example
 * ```ts
 * import { XmppServer } from "@xmpp-sansio/deno";
 * const server = new XmppServer({ domains: "example.com", directTlsPort: 5223, tls: { cert, key }, hooks });
 * await server.listen();
 * ```
 */
export class XmppServer extends TypedEmitter<XmppServerEvents> {
  private readonly options: XmppServerOptions;
  private readonly domains: readonly string[];
  private readonly core: ServerHooksCore<ServerConnection>;
  private readonly gate: AddressGate;
  private sockets: Array<{ listener: DenoListener; directTls: boolean; loop: Promise<void> }> = [];
  private closing = false;

  constructor(options: XmppServerOptions) {
    super();
    this.options = options;
    const list = typeof options.domains === "string" ? [options.domains] : options.domains;
    if (list.length === 0) throw new TypeError("XmppServer needs at least one domain");
    if (options.directTlsPort !== undefined && options.tls === undefined) throw new TypeError("XmppServer: directTlsPort needs `tls` (cert and key)");
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
  }

  /** Starts listening. Resolves with the bound ports. */
  listen(): Promise<{ port?: number; directTlsPort?: number }> {
    const d = deno();
    const hostname = this.options.host ?? "0.0.0.0";
    if (this.options.port !== undefined && this.options.port !== null) {
      const listener = d.listen({ hostname, port: this.options.port });
      this.sockets.push({ listener, directTls: false, loop: this.acceptLoop(listener, false) });
    }
    if (this.options.directTlsPort !== undefined) {
      const listener = d.listenTls({ hostname, port: this.options.directTlsPort, cert: this.options.tls!.cert, key: this.options.tls!.key, alpnProtocols: ["xmpp-client"] });
      this.sockets.push({ listener, directTls: true, loop: this.acceptLoop(listener, true) });
    }
    return Promise.resolve(this.address());
  }

  /** The ports listened on. */
  address(): { port?: number; directTlsPort?: number } {
    const out: { port?: number; directTlsPort?: number } = {};
    for (const l of this.sockets) {
      if (l.listener.addr.port === undefined) continue;
      if (l.directTls) out.directTlsPort = l.listener.addr.port;
      else out.port = l.listener.addr.port;
    }
    return out;
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

  /** Graceful shutdown: stops accepting, `<system-shutdown/>` to every client, waits, closes the rest. */
  async close(): Promise<void> {
    this.closing = true;
    for (const l of this.sockets) {
      try {
        l.listener.close();
      } catch {
        // already closed
      }
    }
    await Promise.all(this.sockets.map((l) => l.loop));
    const all = [...this.core.live];
    for (const c of await this.core.shutdown(this.options.shutdownTimeoutMs ?? 5_000)) c.destroy();
    await Promise.all(all.map((c) => c.closedPromise));
  }

  private async acceptLoop(listener: DenoListener, directTls: boolean): Promise<void> {
    for (;;) {
      let conn: DenoConn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (this.closing) return;
        if (this.listenerCount("error") > 0) this.emit("error", err as Error);
        return;
      }
      if (this.closing) {
        conn.close();
        continue;
      }
      this.accept(conn, directTls);
    }
  }

  private accept(conn: DenoConn, directTls: boolean): void {
    const sessionOptions: ServerOptions = { ...(this.options.session ?? {}), tls: directTls ? "direct" : "none", defaultDomain: this.domains[0]! };
    let session: ServerSessionLike;
    try {
      session = this.options.createSession?.(sessionOptions) ?? (new ServerSession(sessionOptions) as ServerSessionLike);
    } catch {
      conn.close();
      return;
    }
    const c = new ServerConnection(conn, directTls, this.options.limits);
    const address = c.remoteAddress;
    const admitted = this.gate.open(address, monotonicNow());
    const limiter = new ReadLimiter(this.options.limits?.rate, monotonicNow());
    c.limiter = limiter;
    c.sendVia = (conn, stanza) => this.core.send(conn, stanza);
    c.pump = new SessionPump<ServerEvent>({
      session,
      write: (data) => {
        c.write(data);
        this.core.wrote(c, data.length);
      },
      onEvent: (ev) => {
        if (ev.type === "authenticated") limiter.authenticated(monotonicNow());
        this.core.onEvent(c, ev);
      },
      onClosed: () => c.endConn(),
      // A throwing session or hook (input/timer-driven: nobody to throw to) ends only this connection.
      onError: (err) => {
        if (this.listenerCount("hookError") > 0) this.emit("hookError", err, c);
        if (!c.closed) c.abort("internal-server-error");
      },
    });
    this.core.live.add(c);
    this.emit("connection", c);
    c.pump.interact((s, now) => {
      if (directTls) s.tlsEstablished({ channelBinding: {} }, now);
      (s as ServerSessionLike).start(now);
    });
    if (!admitted) {
      const text = `too many connections from ${address} (limit ${this.gate.limits.maxConnectionsPerIp})`;
      if (this.listenerCount("limit") > 0) this.emit("limit", c, "policy-violation", text);
      c.abort("policy-violation", text);
    }
    void c.readLoop(() => {
      if (admitted) this.gate.close(address, monotonicNow());
      this.core.closed(c);
    });
  }
}
