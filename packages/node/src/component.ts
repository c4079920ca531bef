/**
 * `XmppComponent`: an external component (XEP-0114, `jabber:component:accept`) over Node TCP (or Direct
 * TLS): the core's `ComponentSession` with promises, typed events, a bounded queue while reconnecting and
 * reconnection with backoff — the application surface of `XmppClient` where it fits.
 *
 * @module
 */
import { EventEmitter, once } from "node:events";
import * as net from "node:net";
import * as tls from "node:tls";
import { ConnectionError, PendingIqs, SessionPump, StreamErrorException } from "@xmpp-sansio/adapter";
import {
  type ClientEvent,
  type ComponentOptions,
  ComponentSession,
  LIFECYCLE_RECONNECT_DEFAULTS,
  QueueFullError,
  ReconnectPolicy,
  type ReconnectPolicyOptions,
  type StreamErrorCondition,
} from "@xmpp-sansio/core";
import type { Jid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import { channelBindingFromTlsSocket } from "./channel-binding.js";
import type { ClientTlsOptions } from "./client.js";
import { monotonicNow, SocketDriver } from "./driver.js";

/** Options of {@link XmppComponent}. */
export interface XmppComponentOptions {
  /** The component's domain (`to` of its stream header), e.g. `"bot.example.com"`. */
  domain: string;
  /** The shared secret configured on the server for that domain (password-equivalent). */
  secret: string;
  /** The server's host name or IP. Default `"localhost"`. */
  host?: string;
  /** The server's component port. Default 5347 (Prosody's `component_ports`, the customary one). */
  port?: number;
  /**
   * TLS from the first byte (XEP-0114 has no STARTTLS). Default false: a plain TCP stream, so keep it
   * on loopback or a private network. The certificate is checked against `host`.
   */
  directTls?: boolean;
  /** TLS settings with `directTls`. */
  tls?: ClientTlsOptions;
  /**
   * Reconnect after a connection that was online drops (not after `close()`, or a `conflict`,
   * `not-authorized`, `host-unknown`, … stream error). Default on, with the client's delays (the core's
   * `LIFECYCLE_RECONNECT_DEFAULTS`: first delay below 1 s, doubling up to 8 s, full jitter); an object
   * tunes them, plus `stableAfterMs` (online this long resets the backoff; default 60 000). `false`: a drop
   * ends the component.
   */
  reconnect?: boolean | (ReconnectPolicyOptions & { stableAfterMs?: number });
  /** Stanzas `send()` queues while reconnecting. Default 1000; past it `send()` throws `QueueFullError`. */
  maxQueued?: number;
  /** TCP connect (and Direct TLS handshake) timeout, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Further core options (timeouts, limits, keepalive, `random`…). */
  session?: Omit<ComponentOptions, "domain" | "secret" | "tls">;
  /** Sees every chunk of XML read (`"in"`) and written (`"out"`). Do not keep or modify the bytes. */
  trace?: (direction: "in" | "out", bytes: Uint8Array) => void;
}

/** Why a component connection ended (`close` event). */
export interface ComponentCloseInfo {
  /** The core's `closed` reason, or `transport-closed` if the socket went first. */
  reason: string;
  /** The error behind it, if the close was not asked for. */
  error?: Error;
  /** Whether a reconnection is scheduled. */
  willReconnect: boolean;
}

/** Events of {@link XmppComponent}. */
export interface XmppComponentEvents {
  /** The server accepted the handshake; `jid` is the component's domain. */
  online: [jid: Jid];
  /** Every incoming stanza (in `jabber:component:accept`). */
  stanza: [stanza: XmlElement];
  /** Incoming messages. */
  message: [stanza: XmlElement];
  /** Incoming presence. */
  presence: [stanza: XmlElement];
  /** Incoming IQ requests (`get`/`set`); answers to `iq()` go to its promise instead. */
  iq: [stanza: XmlElement];
  /**
   * A stanza queued while offline was never sent: the component stopped first (`not-sent`). XEP-0114
   * has no acknowledgements, so stanzas written before a connection dropped are not reported.
   */
  failed: [stanza: XmlElement, reason: "not-sent"];
  /** An error while online (stream error, lost connection, failed reconnection). Only emitted when someone listens. */
  error: [error: Error];
  /** A connection ended. */
  close: [info: ComponentCloseInfo];
  /** A reconnection is scheduled. */
  reconnecting: [info: { attempt: number; delayMs: number }];
}

/** Stream errors after which reconnecting would only repeat the refusal (or fight the other connection). */
const FINAL: ReadonlySet<StreamErrorCondition> = new Set<StreamErrorCondition>([
  "conflict",
  "not-authorized",
  "host-unknown",
  "invalid-namespace",
  "unsupported-version",
  "invalid-from",
  "improper-addressing",
  "policy-violation",
]);

interface Connection {
  readonly driver: SocketDriver<ClientEvent>;
  readonly session: ComponentSession;
  reason: string;
  error: Error | undefined;
  onlineAt: number | undefined;
}

/**
 * An external component (XEP-0114) connected to a server's component port.
 *
 * @example
 * ```ts
 * const bot = new XmppComponent({ domain: "bot.example.com", secret: "s3cr3t", host: "127.0.0.1", port: 5347 });
 * bot.on("message", (m) => {
 *   const reply = xml("message", { from: m.attr("to"), to: m.attr("from"), type: "chat" }, xml("body", {}, "echo: " + m.getChildText("body")));
 *   bot.send(reply);
 * });
 * await bot.online();
 * ```
 */
export class XmppComponent extends EventEmitter<XmppComponentEvents> {
  /** The component's domain, as configured. */
  readonly domain: string;
  private readonly options: XmppComponentOptions;
  private readonly policy: ReconnectPolicy;
  private readonly stableAfterMs: number;
  private readonly maxQueued: number;
  private conn: Connection | undefined;
  private kind: "idle" | "connecting" | "online" | "backoff" | "stopped" = "idle";
  private queue: XmlElement[] = [];
  private everOnline = false;
  private userClosed = false;
  private lastError: Error | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private onlineWaiters: Array<{ resolve(jid: Jid): void; reject(error: Error): void }> = [];
  private closeWaiters: Array<() => void> = [];
  private readonly pending = new PendingIqs();
  private readonly subscribers = new Set<{ push(s: XmlElement): void; end(e?: Error): void }>();
  private boundJid: Jid | undefined;

  /** @throws TypeError when `domain` is not a domain or `secret` is missing (from the core) */
  constructor(options: XmppComponentOptions) {
    super();
    this.options = options;
    // Validates the options once, now, rather than at the first connection.
    new ComponentSession({ ...(options.session ?? {}), domain: options.domain, secret: options.secret });
    this.domain = options.domain;
    const r = options.reconnect;
    const { stableAfterMs, ...policy } = r === undefined || typeof r === "boolean" ? {} : r;
    this.policy = new ReconnectPolicy({ ...LIFECYCLE_RECONNECT_DEFAULTS, ...policy });
    this.stableAfterMs = stableAfterMs ?? 60_000;
    this.maxQueued = options.maxQueued ?? 1000;
  }

  /** The component's domain JID while online, else undefined. */
  get jid(): Jid | undefined {
    return this.boundJid;
  }

  /** Whether the component is online (stanzas are written at once). */
  get isOnline(): boolean {
    return this.kind === "online";
  }

  /** Stanzas waiting for the connection to be back. */
  get queued(): number {
    return this.queue.length;
  }

  /** The current socket, for inspection. */
  get socket(): net.Socket | undefined {
    return this.conn?.driver.socket;
  }

  /**
   * Connects (on the first call) and resolves with the component's domain JID once the server accepted
   * the handshake. Rejects with `StreamErrorException` (`not-authorized`: wrong secret; `conflict`: the
   * domain is already connected; `host-unknown`: not a component of that server) or `ConnectionError` if
   * the first connection fails (reconnection only applies to connections that were online).
   */
  online(): Promise<Jid> {
    if (this.kind === "online" && this.boundJid !== undefined) return Promise.resolve(this.boundJid);
    const p = new Promise<Jid>((resolve, reject) => this.onlineWaiters.push({ resolve, reject }));
    if (this.kind === "idle" || this.kind === "stopped") this.startRun();
    return p;
  }

  /**
   * Sends a stanza; its `from` must be of the component's domain (the server ends the stream with
   * `<invalid-from/>` otherwise). Written at once while online, queued (bounded) while reconnecting.
   * @throws ConnectionError before `online()` or after the component stopped; `QueueFullError` when the queue is full
   */
  send(stanza: XmlElement): void {
    if (this.kind === "idle" || this.kind === "stopped" || this.userClosed) throw new ConnectionError("closed", "not connected: await component.online() first");
    const conn = this.conn;
    if (this.kind === "online" && conn !== undefined && conn.session.state === "online") {
      conn.driver.interact(() => conn.session.send(stanza));
      return;
    }
    if (this.queue.length >= this.maxQueued) throw new QueueFullError(`${this.queue.length} stanzas already queued (maxQueued)`);
    this.queue.push(stanza);
  }

  /**
   * Sends an IQ request (`get`/`set`, with a `from` of our domain; an `id` is assigned if missing) and
   * resolves with the `result`. Rejects with `StanzaErrorException` for `type='error'`, `IqTimeoutError`
   * on timeout (core default 30 s), `ConnectionError` if not online or if the connection ends first.
   */
  iq(iq: XmlElement, options: { timeoutMs?: number } = {}): Promise<XmlElement> {
    const conn = this.conn;
    if (this.kind !== "online" || conn === undefined) return Promise.reject(new ConnectionError("closed", "not online: await component.online() first"));
    return new Promise<XmlElement>((resolve, reject) => {
      conn.driver.interact((_s, now) => {
        const id = conn.session.sendIq(iq, now, options.timeoutMs);
        this.pending.add(id, resolve, reject, options.timeoutMs);
      });
    });
  }

  /**
   * Incoming stanzas as an async iterable, from now on, surviving reconnects. Ends when the component is
   * closed for good (after `close()`; after a drop without reconnection it throws that error).
   */
  stanzas(): AsyncIterableIterator<XmlElement> {
    const buffered: XmlElement[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    let failure: Error | undefined;
    const sub = {
      push: (s: XmlElement) => {
        buffered.push(s);
        wake?.();
      },
      end: (e?: Error) => {
        done = true;
        failure = e;
        wake?.();
      },
    };
    this.subscribers.add(sub);
    const it: AsyncIterableIterator<XmlElement> = {
      next: async (): Promise<IteratorResult<XmlElement>> => {
        for (;;) {
          const s = buffered.shift();
          if (s !== undefined) return { value: s, done: false };
          if (done) {
            if (failure !== undefined) throw failure;
            return { value: undefined, done: true };
          }
          await new Promise<void>((r) => (wake = r));
          wake = undefined;
        }
      },
      return: async (): Promise<IteratorResult<XmlElement>> => {
        this.subscribers.delete(sub);
        done = true;
        return { value: undefined, done: true };
      },
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  /**
   * Closes gracefully (`</stream:stream>`, then waits for the server's), cancels a pending reconnection,
   * and resolves once the socket is closed. Stanzas still queued are reported as `failed` (`not-sent`).
   */
  close(): Promise<void> {
    this.userClosed = true;
    if (this.kind === "idle" || this.kind === "stopped") return Promise.resolve();
    const p = new Promise<void>((r) => this.closeWaiters.push(r));
    if (this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    const conn = this.conn;
    if (conn !== undefined && !conn.driver.closed) conn.driver.interact((s, now) => s.close(now));
    else if (this.kind === "backoff") this.stop(undefined);
    // "connecting" without a socket yet: connect() sees userClosed and stops.
    return p;
  }

  // ------------------------------------------------------------------------------------------------

  private startRun(): void {
    this.userClosed = false;
    this.everOnline = false;
    this.lastError = undefined;
    this.policy.reset();
    void this.connect();
  }

  private async open(): Promise<net.Socket> {
    const o = this.options;
    const host = o.host ?? "localhost";
    const port = o.port ?? 5347;
    const endpoint = `${host}:${port}`;
    let socket: net.Socket;
    if (o.directTls === true) {
      const t = o.tls ?? {};
      const tlsOpts: tls.ConnectionOptions = { ...(t.extra ?? {}), host, port };
      if (!net.isIP(host)) tlsOpts.servername = host;
      if (t.ca !== undefined) tlsOpts.ca = t.ca;
      if (t.rejectUnauthorized !== undefined) tlsOpts.rejectUnauthorized = t.rejectUnauthorized;
      if (t.cert !== undefined) tlsOpts.cert = t.cert;
      if (t.key !== undefined) tlsOpts.key = t.key;
      if (t.minVersion !== undefined) tlsOpts.minVersion = t.minVersion;
      if (t.maxVersion !== undefined) tlsOpts.maxVersion = t.maxVersion;
      socket = tls.connect(tlsOpts);
    } else socket = net.connect({ host, port, allowHalfOpen: true });
    try {
      await once(socket, o.directTls === true ? "secureConnect" : "connect", { signal: AbortSignal.timeout(o.connectTimeoutMs ?? 10_000) });
      return socket;
    } catch (err) {
      socket.on("error", () => {});
      socket.destroy();
      const code = (err as { name?: string }).name === "AbortError" ? "timeout" : "connect-failed";
      throw new ConnectionError(code, `could not connect to ${endpoint}: ${(err as Error).message}`, { cause: err, endpoint });
    }
  }

  private async connect(): Promise<void> {
    this.kind = "connecting";
    let socket: net.Socket;
    try {
      socket = await this.open();
    } catch (err) {
      this.connectFailed(err as Error);
      return;
    }
    if (this.userClosed) {
      socket.destroy();
      this.stop(undefined);
      return;
    }
    const o = this.options;
    const session = new ComponentSession({ ...(o.session ?? {}), domain: o.domain, secret: o.secret, tls: o.directTls === true ? "direct" : "none" });
    let conn!: Connection;
    const driver = new SocketDriver<ClientEvent>({
      socket,
      side: "client",
      createPump: (io) => new SessionPump<ClientEvent>({ session, onEvent: (ev) => this.onEvent(conn, ev), now: monotonicNow, ...io }),
      upgrade: () => {
        throw new Error("a component stream has no STARTTLS");
      },
      onSocketClose: (err) => this.ended(conn, err),
      onInternalError: (err) => {
        conn.error ??= new ConnectionError("closed", `internal error: ${(err as Error)?.message ?? String(err)}`, { cause: err });
      },
      ...(o.trace === undefined ? {} : { trace: o.trace }),
    });
    conn = { driver, session, reason: "transport-closed", error: undefined, onlineAt: undefined };
    this.conn = conn;
    driver.interact((s, now) => {
      if (o.directTls === true) s.tlsEstablished({ channelBinding: channelBindingFromTlsSocket(socket as tls.TLSSocket, "client") }, now);
      session.start(now);
    });
  }

  private onEvent(conn: Connection, ev: ClientEvent): void {
    switch (ev.type) {
      case "online": {
        this.kind = "online";
        this.everOnline = true;
        this.boundJid = ev.jid;
        this.lastError = undefined;
        conn.onlineAt = monotonicNow();
        const queued = this.queue;
        this.queue = [];
        for (const s of queued) conn.session.send(s);
        const waiters = this.onlineWaiters;
        this.onlineWaiters = [];
        for (const w of waiters) w.resolve(ev.jid);
        this.emitUser("online", ev.jid);
        return;
      }
      case "stanza": {
        const s = ev.stanza;
        this.emitUser("stanza", s);
        if (s.name === "message" || s.name === "presence" || s.name === "iq") this.emitUser(s.name, s);
        for (const sub of this.subscribers) sub.push(s);
        return;
      }
      case "iq-response":
        this.pending.handleResponse(ev.id, ev.stanza);
        return;
      case "iq-timeout":
        this.pending.handleTimeout(ev.id, conn.session.state === "closed");
        return;
      case "stream-error": {
        const se = ev.text === undefined ? { condition: ev.condition as StreamErrorCondition } : { condition: ev.condition as StreamErrorCondition, text: ev.text };
        conn.error ??= new StreamErrorException(se, ev.byPeer ? "remote" : "local");
        return;
      }
      case "closed":
        conn.reason = ev.reason;
        return;
      default:
        return;
    }
  }

  /** The socket of `conn` closed: report, then reconnect or stop. */
  private ended(conn: Connection, transportError: Error | undefined): void {
    if (this.conn === conn) this.conn = undefined;
    const wasOnline = conn.onlineAt !== undefined;
    const asked = this.userClosed || conn.reason === "closed";
    let error = conn.error;
    if (error === undefined && !asked) {
      error = new ConnectionError(
        "connection-lost",
        `connection lost (${conn.reason})${transportError ? `: ${transportError.message}` : ""}`,
        transportError === undefined ? undefined : { cause: transportError },
      );
    }
    this.pending.rejectAll(error);
    if (error !== undefined) this.lastError = error;
    if (wasOnline && conn.onlineAt !== undefined && monotonicNow() - conn.onlineAt >= this.stableAfterMs) this.policy.reset();
    this.boundJid = undefined;
    const willReconnect = this.mayReconnect(error);
    if (error !== undefined && wasOnline && this.listenerCount("error") > 0) this.emit("error", error);
    const info: ComponentCloseInfo = { reason: conn.reason, willReconnect };
    if (error !== undefined) info.error = error;
    this.emit("close", info);
    if (willReconnect) this.scheduleRetry();
    else this.stop(this.userClosed ? undefined : error);
  }

  private connectFailed(err: Error): void {
    this.lastError = err;
    if (this.everOnline && !this.userClosed && this.listenerCount("error") > 0) this.emit("error", err);
    if (this.mayReconnect(err)) this.scheduleRetry();
    else this.stop(this.userClosed ? undefined : err);
  }

  private mayReconnect(error: Error | undefined): boolean {
    if (this.userClosed || this.options.reconnect === false || !this.everOnline) return false;
    return !(error instanceof StreamErrorException && FINAL.has(error.condition));
  }

  private scheduleRetry(): void {
    this.kind = "backoff";
    const delayMs = this.policy.nextDelay();
    this.emit("reconnecting", { attempt: this.policy.attempts, delayMs });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.userClosed) void this.connect();
    }, delayMs);
  }

  private stop(error: Error | undefined): void {
    this.kind = "stopped";
    this.boundJid = undefined;
    const queued = this.queue;
    this.queue = [];
    for (const s of queued) this.emitUser("failed", s, "not-sent");
    const failure = error ?? this.lastError ?? new ConnectionError("closed", this.userClosed ? "closed by the application" : "connection closed before online");
    const waiters = this.onlineWaiters;
    this.onlineWaiters = [];
    for (const w of waiters) w.reject(failure);
    for (const sub of this.subscribers) sub.end(this.userClosed ? undefined : error);
    this.subscribers.clear();
    const closers = this.closeWaiters;
    this.closeWaiters = [];
    for (const c of closers) c();
  }

  /** A listener that throws does not disturb the session: the exception is re-thrown on its own. */
  private emitUser<K extends "online" | "stanza" | "message" | "presence" | "iq" | "failed">(name: K, ...args: XmppComponentEvents[K]): void {
    try {
      (this.emit as (n: K, ...a: XmppComponentEvents[K]) => boolean)(name, ...args);
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
}
