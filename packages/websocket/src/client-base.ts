/**
 * The transport-independent half of a client adapter: promises (`online`, `iq`, `close`), typed events,
 * `for await` over stanzas, typed errors, reconnection and redirects — the same API as
 * `@xmpp-sansio/node`'s `XmppClient`. A transport subclass only opens a connection, feeds its input to
 * the session and writes the session's output. Used by the WebSocket client here and by the Deno client.
 *
 * @module
 */
import {
  type ClientEvent,
  type ClientOptions,
  ClientSession,
  parseStanzaError,
  ReconnectPolicy,
  type ReconnectPolicyOptions,
  type SansIoSession,
  type StreamErrorCondition,
} from "@xmpp-sansio/core";
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import { TypedEmitter } from "./emitter.js";
import { AuthError, BindError, ConnectionError, IqTimeoutError, StanzaErrorException, StreamErrorException } from "./errors.js";
import { monotonicNow, SessionPump } from "./pump.js";

/** The client session surface an adapter drives (the core's `ClientSession`). */
export interface ClientSessionLike extends SansIoSession<ClientEvent> {
  start(now: number): void;
  sendIq(iq: XmlElement, now: number, timeoutMs?: number): string;
  supplyCredentials(credentials: { password: string }): void;
}

/** Why a connection ended, as reported by the `close` event. */
export interface ClientCloseInfo {
  /** The core's `closed` reason, or `transport-closed` if the transport went first. */
  reason: string;
  /** The error behind it, if the close was not asked for. */
  error?: Error;
  /** Whether a reconnection (or a `see-other-uri` redirect) is scheduled. */
  willReconnect: boolean;
}

/** Events of a client, for `on`/`once`/`off` (same as `@xmpp-sansio/node`'s `XmppClientEvents`). */
export interface XmppClientEvents {
  [event: string]: unknown[];
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

/** Options every client adapter shares. */
export interface BaseClientOptions {
  /** Our address: bare, or full to ask for that resource. */
  jid: string;
  /** The account password. */
  password: string;
  /**
   * Reconnect after a connection that was online drops (not after `close()`, an auth failure, or a
   * `conflict`/`not-authorized`/`policy-violation` stream error). `true` uses the core's RFC 6120 §3.3
   * defaults. Default off.
   */
  reconnect?: boolean | (ReconnectPolicyOptions & { stableAfterMs?: number });
  /** Builds the session (inject a scripted fake in tests). Default `new ClientSession(options)`. */
  createSession?: (options: ClientOptions) => ClientSessionLike;
}

/** Stream errors after which reconnecting would only repeat the failure (as in `@xmpp-sansio/node`). */
const FATAL_STREAM_ERRORS: ReadonlySet<string> = new Set(["conflict", "not-authorized", "policy-violation", "host-unknown", "unsupported-version", "invalid-namespace"]);

interface Pending {
  resolve(stanza: XmlElement): void;
  reject(error: Error): void;
  timeoutMs: number | undefined;
}

interface Subscriber {
  push(stanza: XmlElement): void;
  end(error?: Error): void;
}

const timers = globalThis as unknown as { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(h: unknown): void };

/**
 * Base class of the client adapters. Subclasses implement {@link SessionClient.connectOnce}: open the
 * transport, then call {@link SessionClient.attach} with the new session and a writer, feed input through
 * the returned pump, and call {@link SessionClient.transportEnded} once the transport is closed.
 */
export abstract class SessionClient<O extends BaseClientOptions = BaseClientOptions> extends TypedEmitter<XmppClientEvents> {
  /** Our address as configured (prepared). */
  readonly address: Jid;
  protected readonly options: O;
  private pumpRef: SessionPump<ClientEvent> | undefined;
  private session: ClientSessionLike | undefined;
  private active = false;
  private onlineWaiters: Array<{ resolve(jid: Jid): void; reject(err: Error): void }> = [];
  private boundJid: Jid | undefined;
  private onlineAt: number | undefined;
  private connectionError: Error | undefined;
  private closeReason = "transport-closed";
  private redirectTo: string | undefined;
  private redirects = 0;
  private userClosed = false;
  private closeWaiters: Array<() => void> = [];
  private readonly pending = new Map<string, Pending>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly policy: ReconnectPolicy | undefined;
  private readonly stableAfterMs: number;
  private reconnectTimer: unknown;
  private everOnline = false;
  private transportOpen = false;

  /** @throws JidError for an invalid `jid` */
  constructor(options: O) {
    super();
    this.options = options;
    this.address = parseJid(options.jid);
    if (options.reconnect !== undefined && options.reconnect !== false) {
      const { stableAfterMs, ...policy } = options.reconnect === true ? {} : options.reconnect;
      this.policy = new ReconnectPolicy(policy);
      this.stableAfterMs = stableAfterMs ?? 60_000;
    } else this.stableAfterMs = 60_000;
  }

  /**
   * Opens one connection. `redirect` is a target given by the previous connection (`see-other-uri`),
   * already accepted by {@link SessionClient.redirectTarget}. Rejects with a `ConnectionError` if the
   * transport cannot be opened.
   */
  protected abstract connectOnce(redirect: string | undefined): Promise<void>;

  /**
   * Decides whether a `see-other-uri` (RFC 7395 §3.7) is followed; returns the URI to connect to, or
   * undefined. Default: never (stream transports have no such thing).
   */
  protected redirectTarget(_uri: string): string | undefined {
    return undefined;
  }

  /** Maximum `see-other-uri` redirects followed in a row. */
  protected maxRedirects = 3;

  /** The full JID while online, else undefined. */
  get jid(): Jid | undefined {
    return this.boundJid;
  }

  /** Whether the session is online (stanzas may be sent). */
  get isOnline(): boolean {
    return this.session?.state === "online";
  }

  /**
   * Connects (on the first call) and resolves with the bound full JID once online. Rejects with
   * {@link AuthError}, {@link BindError}, {@link StreamErrorException} or {@link ConnectionError} if the
   * first connection fails.
   */
  online(): Promise<Jid> {
    if (this.boundJid !== undefined && this.isOnline) return Promise.resolve(this.boundJid);
    const promise = new Promise<Jid>((resolve, reject) => this.onlineWaiters.push({ resolve, reject }));
    if (!this.active) {
      this.userClosed = false;
      this.active = true;
      this.redirects = 0;
      this.startConnect(undefined).catch((err: Error) => {
        this.active = false;
        this.failOnline(err);
      });
    }
    return promise;
  }

  /** Sends a stanza. @throws SessionStateError (from the core) when not online */
  send(stanza: XmlElement): void {
    this.requirePump().interact((s) => s.send(stanza));
  }

  /**
   * Sends an IQ request (`get`/`set`; an `id` is assigned if missing) and resolves with the `result`.
   * Rejects with {@link StanzaErrorException} for `type='error'`, {@link IqTimeoutError} on timeout,
   * {@link ConnectionError} if the connection ends first.
   */
  iq(iq: XmlElement, options: { timeoutMs?: number } = {}): Promise<XmlElement> {
    const pump = this.requirePump();
    const session = this.session!;
    return new Promise<XmlElement>((resolve, reject) => {
      pump.interact((_s, now) => {
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
        this.subscribers.delete(sub);
        done = true;
        queue.length = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  /**
   * Closes gracefully (`</stream:stream>` or `<close/>`, then waits for the peer's or the core's close
   * deadline, then closes the transport). Resolves once the transport is closed. Cancels a pending
   * reconnection.
   */
  close(): Promise<void> {
    this.userClosed = true;
    if (this.reconnectTimer !== undefined) {
      timers.clearTimeout(this.reconnectTimer);
      this.reconnectTimer = undefined;
      this.active = false;
      this.failOnline(new ConnectionError("closed", "closed by the application"));
      this.endSubscribers(undefined);
    }
    const pump = this.pumpRef;
    if (pump === undefined || !this.transportOpen) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    pump.interact((s, now) => s.close(now));
    return done;
  }

  /** Whether `close()` was called (subclasses stop connecting). */
  protected get closedByUser(): boolean {
    return this.userClosed;
  }

  /**
   * For subclasses: a connection is open. Creates the session with `sessionOptions` and the pump that
   * writes with `write` and calls `closeTransport` when the session is over; returns the pump, through
   * which the subclass feeds input (`pump.interact((s, now) => s.receiveMessage(…))`). The subclass then
   * calls `start` (after `tlsEstablished` for a secure transport) through the pump.
   */
  protected attach(
    sessionOptions: Omit<ClientOptions, "jid" | "password">,
    io: { write(data: Uint8Array): void; closeTransport(): void; onStartTls?(tlsBytes: Uint8Array): void },
  ): SessionPump<ClientEvent> {
    const full: ClientOptions = { ...sessionOptions, jid: this.options.jid, password: this.options.password };
    const session = this.options.createSession?.(full) ?? (new ClientSession(full) as ClientSessionLike);
    this.session = session;
    this.connectionError = undefined;
    this.closeReason = "transport-closed";
    this.redirectTo = undefined;
    this.transportOpen = true;
    const pump: SessionPump<ClientEvent> = new SessionPump<ClientEvent>({
      session,
      write: io.write,
      onEvent: (ev) => this.onSessionEvent(pump, ev),
      onClosed: io.closeTransport,
      ...(io.onStartTls === undefined ? {} : { onStartTls: io.onStartTls }),
    });
    this.pumpRef = pump;
    return pump;
  }

  /** For subclasses: records the first transport error of the current connection (for the close report). */
  protected transportError(error: Error): void {
    this.connectionError ??= error;
  }

  /**
   * For subclasses: the transport of `pump`'s connection has closed (for any reason). Tells the session,
   * settles promises, emits `close`, and reconnects or follows a redirect if due.
   */
  protected transportEnded(pump: SessionPump<ClientEvent>, transportError?: Error): void {
    if (pump !== this.pumpRef || !this.transportOpen) return;
    pump.transportClosed();
    this.transportOpen = false;
    const wasOnline = this.boundJid !== undefined && this.onlineAt !== undefined;
    let error = this.connectionError;
    if (error === undefined && !this.userClosed && this.closeReason !== "closed" && this.redirectTo === undefined) {
      error = new ConnectionError(
        "connection-lost",
        `connection lost (${this.closeReason})${transportError ? `: ${transportError.message}` : ""}`,
        transportError === undefined ? undefined : { cause: transportError },
      );
    }
    for (const [, p] of this.pending) p.reject(new ConnectionError("closed", "the connection closed before the answer", error === undefined ? undefined : { cause: error }));
    this.pending.clear();
    this.boundJid = undefined;
    const redirect = this.userClosed || this.redirectTo === undefined || this.redirects >= this.maxRedirects ? undefined : this.redirectTarget(this.redirectTo);
    if (this.redirectTo !== undefined && redirect === undefined && error === undefined) {
      error = new ConnectionError("connect-failed", `redirect to ${JSON.stringify(this.redirectTo)} refused (see-other-uri: not equally secure, invalid, or too many)`);
    }
    const willReconnect = redirect !== undefined || this.shouldReconnect(error);
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
    if (wasOnline && this.onlineAt !== undefined && monotonicNow() - this.onlineAt >= this.stableAfterMs) this.policy?.reset();
    this.onlineAt = undefined;
    if (redirect !== undefined) {
      this.redirects++;
      this.startConnect(redirect).catch((err: Error) => {
        this.active = false;
        this.failOnline(err);
        this.endSubscribers(err);
      });
    } else if (willReconnect) this.scheduleReconnect();
    else this.endSubscribers(this.userClosed ? undefined : error);
  }

  private async startConnect(redirect: string | undefined): Promise<void> {
    if (this.userClosed) throw new ConnectionError("closed", "closed by the application");
    await this.connectOnce(redirect);
  }

  private requirePump(): SessionPump<ClientEvent> {
    if (this.pumpRef === undefined || this.session === undefined || !this.transportOpen) {
      throw new ConnectionError("closed", "not connected: await client.online() first");
    }
    return this.pumpRef;
  }

  private onSessionEvent(pump: SessionPump<ClientEvent>, ev: ClientEvent): void {
    switch (ev.type) {
      case "online": {
        this.boundJid = ev.jid;
        this.onlineAt = monotonicNow();
        this.everOnline = true;
        this.redirects = 0;
        const waiters = this.onlineWaiters;
        this.onlineWaiters = [];
        for (const w of waiters) w.resolve(ev.jid);
        this.emit("online", ev.jid);
        return;
      }
      case "stanza": {
        const s = ev.stanza;
        this.emit("stanza", s);
        if (s.name === "message" || s.name === "presence" || s.name === "iq") this.emit(s.name, s);
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
        p.reject(new IqTimeoutError(ev.id, p.timeoutMs));
        return;
      }
      case "auth-failed":
        this.connectionError = new AuthError(ev.condition, ev.text);
        if (pump.session.state !== "closed" && pump.session.state !== "closing") pump.session.close(monotonicNow());
        return;
      case "bind-failed":
        this.connectionError ??= new BindError(ev.condition, ev.text);
        return;
      case "credentials-needed":
        this.session?.supplyCredentials({ password: this.options.password });
        return;
      case "stream-error":
        if (!(this.connectionError instanceof AuthError)) {
          const se = ev.text === undefined ? { condition: ev.condition as StreamErrorCondition } : { condition: ev.condition as StreamErrorCondition, text: ev.text };
          this.connectionError = new StreamErrorException(se, ev.byPeer ? "remote" : "local");
        }
        return;
      case "closed":
        this.closeReason = ev.reason;
        if (ev.seeOtherUri !== undefined) this.redirectTo = ev.seeOtherUri;
        return;
      default:
        return;
    }
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
    this.reconnectTimer = timers.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.userClosed) return;
      this.startConnect(undefined).catch((err: Error) => {
        if (this.userClosed) return;
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
