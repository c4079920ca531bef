/**
 * `XmppClient`: the core's `ClientSession` over Node TCP/TLS, with discovery, STARTTLS, Direct TLS,
 * channel binding, timers, back-pressure, reconnect, promises and typed events.
 *
 * @module
 */
import { EventEmitter, once } from "node:events";
import * as net from "node:net";
import * as tls from "node:tls";
import {
  type ClientEvent,
  type ClientOptions,
  ClientSession,
  type ConnectionCandidate,
  parseStanzaError,
  ReconnectPolicy,
  type ReconnectPolicyOptions,
  type SansIoSession,
  type StreamErrorCondition,
  type TlsPolicy,
} from "@xmpp-sansio/core";
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import { channelBindingFromTlsSocket } from "./channel-binding.js";
import { discoverEndpoints, type SrvResolver } from "./discovery.js";
import { SocketDriver } from "./driver.js";
import { AuthError, BindError, ConnectionError, IqTimeoutError, StanzaErrorException, StreamErrorException } from "./errors.js";

/** The client session surface the adapter drives (the core's `ClientSession`). */
export interface ClientSessionLike extends SansIoSession<ClientEvent> {
  start(now: number): void;
  sendIq(iq: XmlElement, now: number, timeoutMs?: number): string;
  supplyCredentials(credentials: { password: string }): void;
}

/** TLS settings of the client (passed to `tls.connect`). The certificate is always checked against the JID's domain. */
export interface ClientTlsOptions {
  /** Trusted CA certificates (PEM), replacing Node's default bundle. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Default `true`. Turning it off makes the connection open to interception: tests only. */
  rejectUnauthorized?: boolean;
  /** Client certificate and key (SASL EXTERNAL). */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** TLS version bounds, e.g. `"TLSv1.2"` to get `tls-unique`. */
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  /** Anything else `tls.connect` accepts (`servername` and `socket` are set by the client). */
  extra?: Omit<tls.ConnectionOptions, "socket" | "servername" | "host" | "port">;
}

/** Options of {@link XmppClient}. */
export interface XmppClientOptions {
  /** Our address: bare, or full to ask for that resource. */
  jid: string;
  /** The account password. */
  password: string;
  /** Connect here instead of discovering (RFC 6120 §3.2): host name or IP. */
  host?: string;
  /** Port with `host`. Default 5222, or 5223 with `directTls`. */
  port?: number;
  /** With `host`: TLS from the first byte (XEP-0368) instead of STARTTLS. */
  directTls?: boolean;
  /** TLS settings. */
  tls?: ClientTlsOptions;
  /**
   * STARTTLS policy: `"required"` (default; a missing offer aborts, no stripping), `"optional"`, or
   * `"none"` (never TLS: a loopback test server). Ignored for Direct TLS.
   */
  starttls?: Exclude<TlsPolicy, "direct">;
  /** Further core options (mechanisms, timeouts, limits, `lang`, `random`…). */
  session?: Omit<ClientOptions, "jid" | "password" | "tls">;
  /** SRV lookups (inject for tests). Default `node:dns/promises`. */
  resolveSrv?: SrvResolver;
  /** XEP-0368: `true` tries `_xmpps-client` targets first, `false` `_xmpp-client` first; default mixed by priority. */
  preferDirectTls?: boolean;
  /** TCP connect (and Direct TLS handshake) timeout per candidate, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /**
   * Reconnect after a connection that was online drops (not after `close()`, an auth failure, or a
   * `conflict`/`not-authorized`/`policy-violation` stream error). `true` uses the core's RFC 6120 §3.3
   * defaults; an object tunes the {@link ReconnectPolicy}. Default off.
   */
  reconnect?: boolean | (ReconnectPolicyOptions & { stableAfterMs?: number });
  /** Socket `highWaterMark` for writes (bytes). Node's default if absent. */
  writableHighWaterMark?: number;
  /** Builds the session (inject a scripted fake in tests). Default `new ClientSession(options)`. */
  createSession?: (options: ClientOptions) => ClientSessionLike;
  /**
   * Sees every chunk of XML read (`"in"`) and written (`"out"`), after TLS decryption — for logs and
   * transcripts. Called synchronously; do not keep or modify the bytes.
   */
  trace?: (direction: "in" | "out", bytes: Uint8Array) => void;
  /** Called when STARTTLS or Direct TLS has secured the connection, with the TLS socket. */
  onSecure?: (socket: tls.TLSSocket) => void;
}

/** Why a connection ended, as reported by the `close` event. */
export interface ClientCloseInfo {
  /** The core's `closed` reason, or `transport-closed` if the socket went first. */
  reason: string;
  /** The error behind it, if the close was not asked for. */
  error?: Error;
  /** Whether a reconnection is scheduled. */
  willReconnect: boolean;
}

/** Events of {@link XmppClient}, for `on`/`once`/`off`. */
export interface XmppClientEvents {
  /** Online: the full JID bound. */
  online: [jid: Jid];
  /** Every incoming stanza (message, presence, and IQ requests). */
  stanza: [stanza: XmlElement];
  message: [stanza: XmlElement];
  presence: [stanza: XmlElement];
  /** Incoming IQ requests (`get`/`set`); answers to `iq()` go to its promise instead. */
  iq: [stanza: XmlElement];
  /** An error while online (stream error, lost connection). Only emitted when someone listens. */
  error: [error: Error];
  /** A connection ended. */
  close: [info: ClientCloseInfo];
  /** A reconnection is scheduled. */
  reconnecting: [info: { attempt: number; delayMs: number }];
}

/** Stream errors after which reconnecting would only repeat the failure. */
const FATAL_STREAM_ERRORS: ReadonlySet<StreamErrorCondition> = new Set(["conflict", "not-authorized", "policy-violation", "host-unknown", "unsupported-version", "invalid-namespace"]);

interface Pending {
  resolve(stanza: XmlElement): void;
  reject(error: Error): void;
  timeoutMs: number | undefined;
}

interface Subscriber {
  push(stanza: XmlElement): void;
  end(error?: Error): void;
}

/**
 * An XMPP client connection over TCP/TLS.
 *
 * @example
 * ```ts
 * const client = new XmppClient({ jid: "juliet@example.com", password: "r0m30myr0m30" });
 * client.on("message", (m) => console.log(m.getChildText("body")));
 * const me = await client.online();
 * client.send(xml("message", { to: "romeo@example.net", type: "chat" }, xml("body", {}, "Art thou not Romeo?")));
 * await client.close();
 * ```
 */
export class XmppClient extends EventEmitter<XmppClientEvents> {
  /** Our address as configured (prepared). */
  readonly address: Jid;
  private readonly options: XmppClientOptions;
  private driver: SocketDriver<ClientEvent> | undefined;
  private session: ClientSessionLike | undefined;
  /** A connection is being made, is up, or a reconnection is scheduled. */
  private active = false;
  private onlineWaiters: Array<{ resolve(jid: Jid): void; reject(err: Error): void }> = [];
  private boundJid: Jid | undefined;
  private onlineAt: number | undefined;
  private connectionError: Error | undefined;
  private closeReason = "transport-closed";
  private userClosed = false;
  private closeWaiters: Array<() => void> = [];
  private readonly pending = new Map<string, Pending>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly policy: ReconnectPolicy | undefined;
  private readonly stableAfterMs: number;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private everOnline = false;
  private saslMechanism: string | undefined;

  /** @throws JidError for an invalid `jid`, TypeError for a JID without localpart */
  constructor(options: XmppClientOptions) {
    super();
    this.options = options;
    this.address = parseJid(options.jid);
    if (this.address.local === "") throw new TypeError(`the client JID needs a localpart (the account), got ${JSON.stringify(options.jid)}`);
    if (options.reconnect !== undefined && options.reconnect !== false) {
      const { stableAfterMs, ...policy } = options.reconnect === true ? {} : options.reconnect;
      this.policy = new ReconnectPolicy(policy);
      this.stableAfterMs = stableAfterMs ?? 60_000;
    } else this.stableAfterMs = 60_000;
  }

  /** The full JID while online, else undefined. */
  get jid(): Jid | undefined {
    return this.boundJid;
  }

  /** The SASL mechanism of the current connection, once authenticated (e.g. `SCRAM-SHA-1-PLUS`). */
  get mechanism(): string | undefined {
    return this.saslMechanism;
  }

  /** The current socket (a `tls.TLSSocket` once TLS is up), for inspection. */
  get socket(): net.Socket | undefined {
    return this.driver?.socket;
  }

  /** Whether the session is online (stanzas may be sent). */
  get isOnline(): boolean {
    return this.session?.state === "online";
  }

  /**
   * Connects (on the first call) and resolves with the bound full JID once online. Rejects with
   * {@link AuthError}, {@link StreamErrorException} or {@link ConnectionError} if the first connection
   * fails (reconnection only applies to connections that were online).
   */
  online(): Promise<Jid> {
    if (this.boundJid !== undefined && this.isOnline) return Promise.resolve(this.boundJid);
    const promise = new Promise<Jid>((resolve, reject) => this.onlineWaiters.push({ resolve, reject }));
    if (!this.active) {
      this.userClosed = false;
      this.active = true;
      this.connect().catch((err: Error) => {
        this.active = false;
        this.failOnline(err);
      });
    }
    return promise;
  }

  /** Sends a stanza. @throws SessionStateError (from the core) when not online */
  send(stanza: XmlElement): void {
    const driver = this.requireDriver();
    driver.interact((s) => s.send(stanza));
  }

  /**
   * Sends an IQ request (`get`/`set`; an `id` is assigned if missing) and resolves with the `result`.
   * Rejects with {@link StanzaErrorException} for `type='error'`, {@link IqTimeoutError} on timeout (default
   * from the core, 30 s), {@link ConnectionError} if the connection ends first.
   */
  iq(iq: XmlElement, options: { timeoutMs?: number } = {}): Promise<XmlElement> {
    const driver = this.requireDriver();
    const session = this.session!;
    return new Promise<XmlElement>((resolve, reject) => {
      driver.interact((_s, now) => {
        const id = options.timeoutMs === undefined ? session.sendIq(iq, now) : session.sendIq(iq, now, options.timeoutMs);
        this.pending.set(id, { resolve, reject, timeoutMs: options.timeoutMs });
      });
    });
  }

  /**
   * Incoming stanzas as an async iterable, from now on. Ends when the client is closed for good (after
   * `close()`, or a drop without reconnection — then it throws that error). Stop early with `break`.
   */
  stanzas(): AsyncIterableIterator<XmlElement> {
    const queue: XmlElement[] = [];
    let waiter: { resolve(r: IteratorResult<XmlElement>): void; reject(e: Error): void } | undefined;
    let done = false;
    let failure: Error | undefined;
    const sub: Subscriber = {
      push(stanza) {
        if (waiter !== undefined) {
          const w = waiter;
          waiter = undefined;
          w.resolve({ value: stanza, done: false });
        } else queue.push(stanza);
      },
      end(error) {
        done = true;
        failure = error;
        if (waiter !== undefined) {
          const w = waiter;
          waiter = undefined;
          if (error !== undefined) w.reject(error);
          else w.resolve({ value: undefined, done: true });
        }
      },
    };
    this.subscribers.add(sub);
    const stop = () => {
      this.subscribers.delete(sub);
      done = true;
      queue.length = 0;
    };
    const iterator: AsyncIterableIterator<XmlElement> = {
      next: () => {
        if (queue.length > 0) return Promise.resolve({ value: queue.shift()!, done: false });
        if (done) {
          if (failure !== undefined) {
            const f = failure;
            failure = undefined;
            return Promise.reject(f);
          }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => (waiter = { resolve, reject }));
      },
      return: () => {
        stop();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /**
   * Closes gracefully: `</stream:stream>`, then waits for the peer's (or the core's close deadline), then
   * ends the socket. Resolves once the socket is closed. Cancels a pending reconnection.
   */
  close(): Promise<void> {
    this.userClosed = true;
    if (this.reconnectTimer !== undefined) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      this.active = false;
      this.failOnline(new ConnectionError("closed", "closed by the application"));
      this.endSubscribers(undefined);
    }
    const driver = this.driver;
    if (driver === undefined || driver.closed) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    driver.interact((s, now) => s.close(now));
    return done;
  }

  private requireDriver(): SocketDriver<ClientEvent> {
    if (this.driver === undefined || this.session === undefined || this.driver.closed) {
      throw new ConnectionError("closed", "not connected: await client.online() first");
    }
    return this.driver;
  }

  private async candidates(): Promise<ConnectionCandidate[]> {
    const o = this.options;
    if (o.host !== undefined) return [{ host: o.host, port: o.port ?? (o.directTls ? 5223 : 5222), directTls: o.directTls === true }];
    const found = await discoverEndpoints(this.address.domain, {
      ...(o.resolveSrv === undefined ? {} : { resolveSrv: o.resolveSrv }),
      ...(o.preferDirectTls === undefined ? {} : { preferDirectTls: o.preferDirectTls }),
    });
    return found.candidates;
  }

  private hwm(): { highWaterMark?: number } {
    return this.options.writableHighWaterMark === undefined ? {} : { highWaterMark: this.options.writableHighWaterMark };
  }

  private tlsOptions(): tls.ConnectionOptions {
    const t = this.options.tls ?? {};
    const domain = this.address.domain;
    // The certificate is checked against the JID's domain, never the host we resolved or were given.
    // SNI cannot carry an IP literal (RFC 6066 §3): then only the identity check names it.
    const out: tls.ConnectionOptions = net.isIP(domain.replace(/^\[|\]$/g, ""))
      ? { ...(t.extra ?? {}), checkServerIdentity: (_host, cert) => tls.checkServerIdentity(domain.replace(/^\[|\]$/g, ""), cert) }
      : { ...(t.extra ?? {}), servername: domain };
    if (t.ca !== undefined) out.ca = t.ca;
    if (t.rejectUnauthorized !== undefined) out.rejectUnauthorized = t.rejectUnauthorized;
    if (t.cert !== undefined) out.cert = t.cert;
    if (t.key !== undefined) out.key = t.key;
    if (t.minVersion !== undefined) out.minVersion = t.minVersion;
    if (t.maxVersion !== undefined) out.maxVersion = t.maxVersion;
    return out;
  }

  /** Opens a socket to the first candidate that answers (TCP, plus the TLS handshake for Direct TLS). */
  private async open(candidates: ConnectionCandidate[]): Promise<{ socket: net.Socket; candidate: ConnectionCandidate }> {
    if (candidates.length === 0) throw new ConnectionError("no-service", `${this.address.domain} offers no XMPP client service (SRV target ".")`);
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    let lastError: unknown;
    for (const candidate of candidates) {
      const endpoint = `${candidate.host}:${candidate.port}`;
      const hwm = this.hwm();
      let socket: net.Socket;
      if (candidate.directTls) {
        socket = tls.connect({ ...this.tlsOptions(), host: candidate.host, port: candidate.port, ALPNProtocols: ["xmpp-client"], ...hwm });
      } else socket = net.connect({ host: candidate.host, port: candidate.port, allowHalfOpen: true, ...hwm });
      try {
        await once(socket, candidate.directTls ? "secureConnect" : "connect", { signal: AbortSignal.timeout(timeoutMs) });
        return { socket, candidate };
      } catch (err) {
        socket.on("error", () => {});
        socket.destroy();
        const code = (err as { name?: string }).name === "AbortError" ? "timeout" : candidate.directTls && isTlsError(err) ? "tls-failed" : "connect-failed";
        lastError = new ConnectionError(code, `could not connect to ${endpoint}: ${(err as Error).message}`, { cause: err, endpoint });
        if (code === "tls-failed") break; // a certificate problem is not solved by another address
      }
    }
    throw lastError instanceof Error ? lastError : new ConnectionError("connect-failed", "could not connect");
  }

  private async connect(): Promise<void> {
    const { socket, candidate } = await this.open(await this.candidates());
    if (this.userClosed) {
      socket.destroy();
      throw new ConnectionError("closed", "closed before the connection was established");
    }
    this.connectionError = undefined;
    this.saslMechanism = undefined;
    this.closeReason = "transport-closed";
    const tlsPolicy: TlsPolicy = candidate.directTls ? "direct" : (this.options.starttls ?? "required");
    const sessionOptions: ClientOptions = { ...(this.options.session ?? {}), jid: this.options.jid, password: this.options.password, tls: tlsPolicy };
    let session: ClientSessionLike;
    try {
      session = this.options.createSession?.(sessionOptions) ?? (new ClientSession(sessionOptions) as ClientSessionLike);
    } catch (err) {
      socket.destroy(); // invalid options (e.g. a JID without localpart): nothing to say on the wire
      throw err;
    }
    this.session = session;
    const driver: SocketDriver<ClientEvent> = new SocketDriver<ClientEvent>({
      session,
      socket,
      side: "client",
      onEvent: (ev) => this.onSessionEvent(ev),
      upgrade: (plain) => tls.connect({ ...this.tlsOptions(), ...this.hwm(), socket: plain }),
      onTlsError: (err) => {
        this.connectionError ??= new ConnectionError("tls-failed", `TLS handshake failed: ${err.message}`, { cause: err, endpoint: `${candidate.host}:${candidate.port}` });
      },
      onSocketClose: (err) => this.onSocketClose(driver, err),
      ...(this.options.trace ? { trace: this.options.trace } : {}),
      ...(this.options.onSecure ? { onSecure: this.options.onSecure } : {}),
      onInternalError: (err) => {
        this.connectionError ??= new ConnectionError("closed", `internal error: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      },
    });
    this.driver = driver;
    driver.interact((s, now) => {
      if (candidate.directTls) this.options.onSecure?.(socket as tls.TLSSocket);
      if (candidate.directTls) s.tlsEstablished({ channelBinding: channelBindingFromTlsSocket(socket as tls.TLSSocket, "client") }, now);
      (s as ClientSessionLike).start(now);
    });
  }

  private onSessionEvent(ev: ClientEvent): void {
    switch (ev.type) {
      case "online": {
        this.boundJid = ev.jid;
        this.onlineAt = performance.now();
        this.everOnline = true;
        const waiters = this.onlineWaiters;
        this.onlineWaiters = [];
        for (const w of waiters) w.resolve(ev.jid);
        this.emitToUser("online", ev.jid);
        return;
      }
      case "stanza": {
        const s = ev.stanza;
        this.emitToUser("stanza", s);
        if (s.name === "message" || s.name === "presence" || s.name === "iq") this.emitToUser(s.name, s);
        for (const sub of this.subscribers) sub.push(s);
        return;
      }
      case "iq-response": {
        const p = this.pending.get(ev.id);
        if (p === undefined) return;
        this.pending.delete(ev.id);
        if (ev.stanza.attr("type") === "error") p.reject(new StanzaErrorException(parseStanzaError(ev.stanza), ev.stanza));
        else p.resolve(ev.stanza);
        return;
      }
      case "iq-timeout": {
        const p = this.pending.get(ev.id);
        if (p === undefined) return;
        this.pending.delete(ev.id);
        // The core also reports tracked IQs as timed out when the session ends: that is a lost connection.
        if (this.session?.state === "closed") p.reject(new ConnectionError("closed", `the connection closed before the answer to iq ${JSON.stringify(ev.id)}`));
        else p.reject(new IqTimeoutError(ev.id, p.timeoutMs));
        return;
      }
      case "auth-failed":
        this.connectionError = new AuthError(ev.condition, ev.text);
        // Not retrying with the same password: end the session (the core may already have).
        if (this.session !== undefined && this.session.state !== "closed" && this.session.state !== "closing") {
          this.driver?.interact((s, now) => s.close(now));
        }
        return;
      case "authenticated":
        this.saslMechanism = ev.mechanism;
        return;
      case "bind-failed":
        this.connectionError ??= new BindError(ev.condition, ev.text);
        return;
      case "credentials-needed":
        this.session?.supplyCredentials({ password: this.options.password });
        return;
      case "stream-error":
        if (!(this.connectionError instanceof AuthError)) {
          this.connectionError = new StreamErrorException(ev.text === undefined ? { condition: ev.condition as StreamErrorCondition } : { condition: ev.condition as StreamErrorCondition, text: ev.text }, ev.byPeer ? "remote" : "local");
        }
        return;
      case "closed":
        this.closeReason = ev.reason;
        return;
      default:
        return;
    }
  }

  /**
   * Emits to application listeners. A listener that throws does not disturb the session (the driver is
   * mid-dispatch): the exception is re-thrown on its own, as Node does for throwing socket listeners.
   */
  private emitToUser<K extends "online" | "stanza" | "message" | "presence" | "iq">(name: K, ...args: XmppClientEvents[K]): void {
    try {
      (this.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }

  private onSocketClose(driver: SocketDriver<ClientEvent>, socketError: Error | undefined): void {
    if (driver !== this.driver) return;
    const wasOnline = this.boundJid !== undefined && this.onlineAt !== undefined;
    let error = this.connectionError;
    if (error === undefined && !this.userClosed && this.closeReason !== "closed") {
      error = new ConnectionError("connection-lost", `connection lost (${this.closeReason})${socketError ? `: ${socketError.message}` : ""}`, socketError === undefined ? undefined : { cause: socketError });
    }
    for (const [, p] of this.pending) p.reject(new ConnectionError("closed", "the connection closed before the answer", error === undefined ? undefined : { cause: error }));
    this.pending.clear();
    this.boundJid = undefined;
    const willReconnect = this.shouldReconnect(error);
    if (!willReconnect) {
      this.active = false;
      this.failOnline(error ?? new ConnectionError("closed", `connection closed before online (${this.closeReason})`));
    }
    if (error !== undefined && wasOnline && this.listenerCount("error") > 0) this.emit("error", error);
    const info: ClientCloseInfo = { reason: this.closeReason, willReconnect };
    if (error !== undefined) info.error = error;
    this.emit("close", info);
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const w of waiters) w();
    if (wasOnline && this.onlineAt !== undefined && performance.now() - this.onlineAt >= this.stableAfterMs) this.policy?.reset();
    this.onlineAt = undefined;
    if (willReconnect) this.scheduleReconnect();
    else this.endSubscribers(this.userClosed ? undefined : error);
  }

  private shouldReconnect(error: Error | undefined): boolean {
    if (this.policy === undefined || this.userClosed || !this.everOnline) return false;
    if (error instanceof AuthError) return false;
    if (error instanceof StreamErrorException && FATAL_STREAM_ERRORS.has(error.condition)) return false;
    return this.closeReason !== "closed";
  }

  private scheduleReconnect(): void {
    const policy = this.policy!;
    const attempt = policy.attempts + 1;
    const delayMs = policy.nextDelay();
    this.emit("reconnecting", { attempt, delayMs });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.userClosed) return;
      this.connect().catch((err: Error) => {
        if (this.userClosed) {
          this.active = false;
          return;
        }
        if (err instanceof AuthError) {
          this.active = false;
          this.failOnline(err);
          this.endSubscribers(err);
          return;
        }
        if (this.listenerCount("error") > 0) this.emit("error", err);
        this.scheduleReconnect();
      });
    }, delayMs);
  }

  private failOnline(error: Error): void {
    const waiters = this.onlineWaiters;
    this.onlineWaiters = [];
    for (const w of waiters) w.reject(error);
  }

  private endSubscribers(error: Error | undefined): void {
    for (const sub of this.subscribers) sub.end(error);
    this.subscribers.clear();
  }
}

function isTlsError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? "";
  return code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME/.test(code);
}
