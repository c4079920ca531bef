/**
 * `XmppServer`: a client-to-server listener running one core `ServerSession` per TCP connection, with
 * STARTTLS, a Direct TLS port (XEP-0368), channel binding for -PLUS, and async application hooks.
 *
 * @module
 */
import { EventEmitter, once } from "node:events";
import * as net from "node:net";
import * as tls from "node:tls";
import {
  AddressGate,
  DeadlineScheduler,
  type HookedConnection,
  type XmppServerHooks as HooksOf,
  type IqHandlers,
  type OutboundQueue,
  resolveOutboundLimits,
  resolveRateLimits,
  ServerHooksCore,
  type ServerLimits,
  type ServerSessionLike,
  type SessionPump,
  serverEventsOf,
  type XmppConnection,
} from "@xmpp-sansio/adapter";
import { type ResourceConflictPolicy, type ServerEvent, type ServerOptions, ServerSession, type StreamErrorCondition, type TlsPolicy } from "@xmpp-sansio/core";
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import { channelBindingFromTlsSocket, serverEndPointOf } from "./channel-binding.js";
import { monotonicNow } from "./driver.js";
import { peerVerified } from "./s2s-cert.js";
import { pooledRandom } from "./random-pool.js";
import { nodeScramCrypto } from "./scram-crypto.js";
import { type ServerHost, ServerSocketDriver } from "./server-driver.js";

export type { ServerSessionLike } from "@xmpp-sansio/adapter";
export {
  type AddressLimits,
  authFailureLine,
  DEFAULT_ADDRESS_LIMITS,
  DEFAULT_OUTBOUND_LIMITS,
  DEFAULT_RATE_LIMITS,
  type OutboundLimits,
  type RateLimit,
  type RateLimits,
  type ServerLimits,
} from "@xmpp-sansio/adapter";

/**
 * The application side of the server (the shared hooks of `@xmpp-sansio/adapter`, seeing this server's
 * {@link ServerConnection}s). Every hook may be async; an exception (or rejection) ends that connection
 * with `<internal-server-error/>` and is reported through the server's `hookError` event.
 */
export interface XmppServerHooks extends HooksOf<ServerConnection> {}

/** TLS material of the server. */
export interface XmppServerTlsOptions extends tls.SecureContextOptions {
  /** Ask clients for a certificate (SASL EXTERNAL). Unverified certificates are accepted but give no identity. */
  requestCert?: boolean;
}

/** Options of {@link XmppServer}. */
export interface XmppServerOptions {
  /** The domain(s) served. The first is the default for clients that send no `to`. */
  domains: string | readonly string[];
  /** Certificate and key (PEM). Without it, only `starttls: "none"` works. */
  tls?: XmppServerTlsOptions;
  /** Listening address. Default `"::"` (all); tests use `"127.0.0.1"`. */
  host?: string;
  /** STARTTLS port. Default 5222; 0 for an ephemeral port; `null` for none. */
  port?: number | null;
  /** Direct TLS port (XEP-0368, ALPN `xmpp-client`). Default none; 0 for an ephemeral port. */
  directTlsPort?: number;
  /** STARTTLS policy on the plain port. Default `"required"`. */
  starttls?: Exclude<TlsPolicy, "direct">;
  /** Further core options (mechanisms, timeouts, limits…). */
  session?: Omit<ServerOptions, "tls" | "defaultDomain"> & { maxAuthAttempts?: number };
  /** RFC 6120 §7.7.2.2, for the default bind hook. Default `"assign-new"`. */
  resourceConflict?: ResourceConflictPolicy;
  /** The application. */
  hooks?: XmppServerHooks;
  /** `close()` waits this long for clients to end their streams before destroying sockets. Default 5 000 ms. */
  shutdownTimeoutMs?: number;
  /**
   * Load limits: the outbound queue per connection (a client that does not read is closed with
   * `<resource-constraint/>` past 1 MiB or 10 000 stanzas held; the stanzas go to the `undeliverable` hook),
   * read rates (10 KiB/s before authentication, 256 KiB/s after, applied by pausing reads), connections
   * (100) and login attempts (20 per minute) per IP address. See docs/server.md for the table.
   */
  limits?: ServerLimits;
  /** Socket `highWaterMark` for writes (bytes). */
  writableHighWaterMark?: number;
  /**
   * A connection with no traffic for between this long and twice this long has its session's output
   * buffer and serializer state released (the core's `trim()`), so an idle session holds no output bytes;
   * one timer for the whole server checks. Default 10 000 ms; `null`: never.
   */
  idleTrimMs?: number | null;
  /** Builds a session (inject a scripted fake in tests). Default `new ServerSession(options)`. */
  createSession?: (options: ServerOptions) => ServerSessionLike;
}

/** Events of {@link XmppServer}. */
export interface XmppServerEvents {
  /** A client connected (not yet authenticated). */
  connection: [connection: ServerConnection];
  /** A hook threw or rejected; that connection was ended with `<internal-server-error/>`. */
  hookError: [error: unknown, connection: ServerConnection];
  /** A listener failed after start. Only emitted when someone listens. */
  error: [error: Error];
  /**
   * A SASL exchange failed (`username` as the client gave it, if any; `condition` the SASL failure, or
   * `too-many-attempts`). Log it with `authFailureLine()` for fail2ban.
   */
  authFailed: [connection: ServerConnection, username: string | undefined, condition: string];
  /** A connection is being ended for a limit (`policy-violation`: per-IP caps; `resource-constraint`: slow reader). */
  limit: [connection: ServerConnection, condition: StreamErrorCondition, text: string];
  /** A stream error ended a session: sent by us (`byPeer` false) or received from the client. Only emitted when someone listens. */
  streamError: [connection: ServerConnection, condition: string, text: string | undefined, byPeer: boolean];
}

let nextConnectionId = 1;

/** Keeps errors before the driver listens harmless (one shared function, not a closure per socket). */
const ignoreError = (): void => {};

/** One client connection as the application sees it. */
export class ServerConnection implements XmppConnection, HookedConnection {
  /** A process-unique number, for logs. */
  readonly id: number;
  /** The peer's address and port. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Whether the connection came in on the Direct TLS port. */
  readonly directTls: boolean;
  /** The authenticated account (localpart), once authenticated. */
  username: string | undefined;
  /** The SASL mechanism the client authenticated with (e.g. `SCRAM-SHA-256-PLUS`). */
  mechanism: string | undefined;
  /** The bound full JID, once online. */
  jid: Jid | undefined;
  /** @internal the socket driver: pump, read limits, outbound queue */
  readonly driver: ServerSocketDriver;
  private readonly core: ServerHooksCore<ServerConnection>;

  /** @internal */
  constructor(driver: ServerSocketDriver, socket: net.Socket, directTls: boolean, core: ServerHooksCore<ServerConnection>) {
    this.id = nextConnectionId++;
    this.driver = driver;
    this.core = core;
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.directTls = directTls;
  }

  /** @internal the core session */
  get session(): ServerSessionLike {
    return this.driver.session;
  }

  /** @internal settles when the socket has closed */
  get closedPromise(): Promise<void> {
    return this.driver.closedPromise;
  }

  /** @internal the bounded outbound queue */
  get outbound(): OutboundQueue {
    return this.driver.outbound;
  }

  /** @internal the connection's pump (shared with the driver) */
  get pump(): SessionPump<ServerEvent> {
    return this.driver.pump;
  }

  /** Whether the client is bound and stanzas may be sent. */
  get isOnline(): boolean {
    return this.session.state === "online";
  }

  /** Whether the socket has closed. */
  get closed(): boolean {
    return this.driver.closed;
  }

  /** The TLS socket once TLS is up (STARTTLS done or Direct TLS), for inspection. */
  get tlsSocket(): tls.TLSSocket | undefined {
    return this.driver.socket instanceof tls.TLSSocket ? this.driver.socket : undefined;
  }

  /** Whether the transport is TLS (STARTTLS done or Direct TLS). */
  get secure(): boolean {
    return this.driver.socket instanceof tls.TLSSocket;
  }

  /**
   * Sends a stanza to the client, through the bounded outbound queue (past its caps the connection is
   * closed with `<resource-constraint/>` and the stanza goes to the `undeliverable` hook).
   * @throws SessionStateError (from the core) when not online
   */
  send(stanza: XmlElement): void {
    this.core.send(this, stanza);
  }

  /** Bytes written to the socket and not yet taken by the operating system (the outbound queue). */
  get heldBytes(): number {
    return this.driver.writableLength;
  }

  /** Whether reads are paused by the rate limit. */
  get readsPaused(): boolean {
    return this.driver.readsPaused;
  }

  /** @internal after the overflow's stream error: destroy the socket if it has not closed within `ms` */
  closeAfterGrace(ms: number): void {
    this.driver.closeAfterGrace(ms);
  }

  /** Closes the stream gracefully (`</stream:stream>`, then waits for the client's). Resolves when the socket is closed. */
  close(): Promise<void> {
    if (!this.driver.closed) this.driver.interact((s, now) => s.close(now));
    return this.closedPromise;
  }

  /** Ends the stream with a stream error (e.g. `conflict`, `policy-violation`). Resolves when the socket is closed. */
  closeWithError(condition: StreamErrorCondition, text?: string): Promise<void> {
    this.abort(condition, text);
    return this.closedPromise;
  }

  /** @internal Ends the stream with a stream error (the core's `abort`; mid-STARTTLS the socket is destroyed). */
  abort(condition: StreamErrorCondition, text?: string): void {
    this.driver.abort(condition, text);
  }
}

/**
 * A c2s XMPP server listener.
 *
 * @example
 * ```ts
 * const server = new XmppServer({ domains: "example.com", tls: { key, cert }, host: "127.0.0.1", port: 5222, hooks });
 * await server.listen();
 * // … later
 * await server.close(); // <system-shutdown/> to every client
 * ```
 */
export class XmppServer extends EventEmitter<XmppServerEvents> {
  private readonly options: XmppServerOptions;
  private readonly domains: readonly string[];
  private secureContext: tls.SecureContext | undefined;
  private readonly plainServer: net.Server | undefined;
  private readonly tlsServer: tls.Server | undefined;
  /** Hook dispatch, online registry and conflict policy, shared with the other adapters. */
  private readonly core: ServerHooksCore<ServerConnection>;
  private readonly gate: AddressGate;
  /** One timer for every connection's session deadline (keepalive, negotiation, close). */
  private readonly scheduler = new DeadlineScheduler();
  /** What every connection shares (one object per server, its closures included). */
  private readonly host: ServerHost;
  private closing = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** The sessions' options, made at the first connection: [plain port, Direct TLS port]. */
  private readonly sessionOptions: [ServerOptions?, ServerOptions?] = [];

  constructor(options: XmppServerOptions) {
    super();
    this.options = options;
    const list = typeof options.domains === "string" ? [options.domains] : options.domains;
    if (list.length === 0) throw new TypeError("XmppServer needs at least one domain");
    this.domains = list.map((d) => parseJid(d).domain);
    this.core = new ServerHooksCore<ServerConnection>({
      domains: this.domains,
      hooks: options.hooks ?? {},
      ...(options.resourceConflict === undefined ? {} : { resourceConflict: options.resourceConflict }),
      onHookError: (err, conn) => this.emitHookError(err, conn),
      addressGate: (this.gate = new AddressGate(options.limits?.address)),
      ...serverEventsOf(this),
    });
    if (options.tls !== undefined) {
      const { requestCert: _r, ...ctx } = options.tls;
      this.secureContext = tls.createSecureContext(ctx);
    } else if ((options.starttls ?? "required") !== "none" || options.directTlsPort !== undefined) {
      throw new TypeError('XmppServer: `tls` (key and cert) is needed unless starttls is "none" and there is no directTlsPort');
    }
    const hwm = options.writableHighWaterMark === undefined ? {} : { highWaterMark: options.writableHighWaterMark };
    this.host = {
      core: this.core,
      gate: this.gate,
      scheduler: this.scheduler,
      rates: resolveRateLimits(options.limits?.rate),
      outbound: resolveOutboundLimits(options.limits?.outbound),
      endPoint: serverEndPointOf(options.tls),
      upgrade: (plain) =>
        new tls.TLSSocket(plain, {
          isServer: true,
          secureContext: this.secureContext!,
          requestCert: options.tls?.requestCert ?? false,
          rejectUnauthorized: false,
          ...hwm,
        }),
      // Without requestCert no client sends a certificate: nothing to look up per connection.
      tlsInfo: options.tls?.requestCert === true ? peerIdentities : noPeerIdentities,
      hookError: (err, conn) => this.emitHookError(err, conn),
    };
    if (options.port !== null) {
      this.plainServer = net.createServer({ allowHalfOpen: true, ...hwm }, (socket) => this.accept(socket, false));
      this.plainServer.on("error", (err) => this.listenerError(err));
    }
    if (options.directTlsPort !== undefined) {
      this.tlsServer = tls.createServer(
        {
          ...(options.tls ?? {}),
          ALPNProtocols: ["xmpp-client"],
          requestCert: options.tls?.requestCert ?? false,
          rejectUnauthorized: false,
          ...hwm,
        },
        (socket) => this.accept(socket, true),
      );
      this.tlsServer.on("error", (err) => this.listenerError(err));
      // A failed handshake (scanner, wrong CA on the client side…) only concerns that socket.
      this.tlsServer.on("tlsClientError", (_err, socket) => socket.destroy());
    }
  }

  /**
   * Replaces the certificate and key (a renewed certificate, on SIGHUP): connections accepted from now on
   * (STARTTLS and Direct TLS) get it, open ones keep theirs. Throws, changing nothing, when the options do
   * not make a TLS context (unreadable PEM, a key that does not match). Needs `tls` at construction.
   */
  setSecureContext(options: XmppServerTlsOptions): void {
    if (this.secureContext === undefined) throw new TypeError("XmppServer.setSecureContext: the server was made without `tls`");
    const { requestCert: _r, ...ctx } = options;
    const context = tls.createSecureContext(ctx);
    this.tlsServer?.setSecureContext(ctx);
    this.secureContext = context;
    this.host.endPoint = serverEndPointOf(options);
  }

  /** Starts listening. Resolves with the bound ports (useful with port 0). */
  async listen(): Promise<{ port?: number; directTlsPort?: number }> {
    const host = this.options.host ?? "::";
    const tasks: Promise<unknown>[] = [];
    if (this.plainServer !== undefined) {
      this.plainServer.listen(this.options.port ?? 5222, host);
      tasks.push(once(this.plainServer, "listening"));
    }
    if (this.tlsServer !== undefined) {
      this.tlsServer.listen(this.options.directTlsPort, host);
      tasks.push(once(this.tlsServer, "listening"));
    }
    await Promise.all(tasks);
    const trimMs = this.options.idleTrimMs === undefined ? 10_000 : this.options.idleTrimMs;
    if (trimMs !== null && this.sweepTimer === undefined) {
      this.sweepTimer = setInterval(() => this.sweepIdle(), trimMs);
      this.sweepTimer.unref();
    }
    return this.address();
  }

  /** The ports listened on. */
  address(): { port?: number; directTlsPort?: number } {
    const out: { port?: number; directTlsPort?: number } = {};
    const a = this.plainServer?.address();
    if (a !== null && a !== undefined && typeof a === "object") out.port = a.port;
    const b = this.tlsServer?.address();
    if (b !== null && b !== undefined && typeof b === "object") out.directTlsPort = b.port;
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

  /**
   * Graceful shutdown: stops accepting, ends every stream with `<system-shutdown/>`, waits up to
   * `shutdownTimeoutMs` for the sockets to close, then destroys the rest.
   */
  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweepTimer);
    const stopped = [this.plainServer, this.tlsServer].filter((s): s is net.Server => s?.listening === true).map((s) => new Promise<void>((r) => s.close(() => r())));
    for (const c of await this.core.shutdown(this.options.shutdownTimeoutMs ?? 5_000)) c.driver.destroy();
    await Promise.all(stopped);
    this.scheduler.stop();
  }

  /** One timer for all connections: those without traffic for a whole period let go of their buffers. */
  private sweepIdle(): void {
    const now = monotonicNow();
    for (const conn of this.core.live) conn.driver.idle(now);
  }

  private listenerError(err: Error): void {
    if (this.listenerCount("error") > 0) this.emit("error", err);
  }

  private accept(socket: net.Socket, directTls: boolean): void {
    socket.on("error", ignoreError); // the driver records errors; this keeps early ones harmless
    if (this.closing) {
      socket.destroy();
      return;
    }
    // One options object per port kind, shared by its sessions (the core then shares what it derives).
    const sessionOptions = (this.sessionOptions[directTls ? 1 : 0] ??= Object.freeze({
      scramCrypto: nodeScramCrypto,
      random: pooledRandom,
      ...(this.options.session ?? {}),
      tls: directTls ? "direct" : (this.options.starttls ?? "required"),
      defaultDomain: this.domains[0]!,
    }));
    let session: ServerSessionLike;
    try {
      session = this.options.createSession?.(sessionOptions) ?? (new ServerSession(sessionOptions) as ServerSessionLike);
    } catch {
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress;
    const admitted = this.gate.open(address, monotonicNow());
    const driver = new ServerSocketDriver(this.host, socket, session, admitted);
    socket.off("error", ignoreError); // the driver listens now
    const conn = new ServerConnection(driver, socket, directTls, this.core);
    driver.conn = conn;
    this.core.live.add(conn);
    this.emit("connection", conn);
    driver.interact((s, now) => {
      if (directTls) s.tlsEstablished({ channelBinding: channelBindingFromTlsSocket(socket as tls.TLSSocket, "server", this.host.endPoint), ...this.host.tlsInfo(socket as tls.TLSSocket) }, now);
      (s as ServerSessionLike).start(now);
    });
    if (!admitted) {
      const text = `too many connections from ${address} (limit ${this.gate.limits.maxConnectionsPerIp})`;
      if (this.listenerCount("limit") > 0) this.emit("limit", conn, "policy-violation", text);
      conn.abort("policy-violation", text);
    }
  }

  private emitHookError(err: unknown, conn: ServerConnection): void {
    if (this.listenerCount("hookError") > 0) this.emit("hookError", err, conn);
  }
}

function noPeerIdentities(): { peerIdentities?: readonly string[] } {
  return {};
}

/** The identities a verified client certificate carries (dNSName and CN), for SASL EXTERNAL. */
function peerIdentities(socket: tls.TLSSocket): { peerIdentities?: readonly string[] } {
  // After STARTTLS `authorized` is never set (only tls.Server sets it): peerVerified asks the handle.
  if (!peerVerified(socket)) return {};
  const cert = socket.getPeerCertificate(false);
  if (cert === null || Object.keys(cert).length === 0) return {};
  const ids: string[] = [];
  for (const part of (cert.subjectaltname ?? "").split(/,\s*/)) {
    if (part.startsWith("DNS:")) ids.push(part.slice(4));
  }
  const cn = cert.subject?.CN;
  if (typeof cn === "string" && ids.length === 0) ids.push(cn);
  return ids.length === 0 ? {} : { peerIdentities: ids };
}
