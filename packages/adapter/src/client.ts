/**
 * The transport-independent half of a client adapter: promises (`online`, `iq`, `close`), typed events,
 * `for await` over stanzas, typed errors, reconnection and redirects, over the core's `ClientSession`.
 *
 * - {@link ClientController} holds all of it and emits through a {@link ClientEventSink} — so the Node
 *   client can stay a real `node:events` `EventEmitter` while sharing the logic.
 * - {@link SessionClient} is the same on a {@link TypedEmitter}, for runtimes without `node:events`
 *   (the WebSocket and Deno clients subclass it).
 *
 * A transport only opens a connection ({@link ClientTransport.connect}), then calls
 * {@link ClientController.attach} with its writer, feeds input through the returned pump, and calls
 * {@link ClientController.transportEnded} once the connection is closed.
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
import { globalTimers, monotonicNow, type PumpIo, type PumpTimers, SessionPump } from "./pump.js";

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

/** Events of a client, for `on`/`once`/`off` (the same on every transport). */
export interface XmppClientEvents {
  /** Online: the full JID bound. */
  online: [jid: Jid];
  /** Every incoming stanza (message, presence, and IQ requests). */
  stanza: [stanza: XmlElement];
  /** Incoming messages. */
  message: [stanza: XmlElement];
  /** Incoming presence. */
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
   * defaults; an object tunes the `ReconnectPolicy`. Default off.
   */
  reconnect?: boolean | (ReconnectPolicyOptions & { stableAfterMs?: number });
  /** Builds the session (inject a scripted fake in tests). Default `new ClientSession(options)`. */
  createSession?: (options: ClientOptions) => ClientSessionLike;
}

/** Where a {@link ClientController} emits its events (an `EventEmitter`, a {@link TypedEmitter}…). */
export interface ClientEventSink {
  emit<K extends keyof XmppClientEvents>(event: K, ...args: XmppClientEvents[K]): unknown;
  listenerCount(event: keyof XmppClientEvents): number;
}

/** The transport side of a client: opens connections. */
export interface ClientTransport {
  /**
   * Opens one connection and calls {@link ClientController.attach}. `redirect` is a target given by the
   * previous connection (`see-other-uri`), already accepted by `redirectTarget`. Rejects with a
   * `ConnectionError` if the transport cannot be opened.
   */
  connect(redirect: string | undefined): Promise<void>;
  /**
   * Decides whether a `see-other-uri` (RFC 7395 §3.7) is followed; returns the URI to connect to, or
   * undefined. Absent: never (stream transports have no such thing).
   */
  redirectTarget?(uri: string): string | undefined;
}

/** The writer a transport gives {@link ClientController.attach}. */
export interface ClientIo extends Omit<PumpIo<ClientEvent>, "onClosed"> {
  /** The session is over and its output written: close the transport (gracefully, unless `reason` says otherwise). */
  closeTransport(event: ClientEvent & { type: "closed" }): void;
}

/** Stream errors after which reconnecting would only repeat the failure. */
export const FATAL_STREAM_ERRORS: ReadonlySet<StreamErrorCondition> = new Set([
  "conflict",
  "not-authorized",
  "policy-violation",
  "host-unknown",
  "unsupported-version",
  "invalid-namespace",
]);

/** Maximum `see-other-uri` redirects followed in a row. */
const MAX_REDIRECTS = 3;

interface Pending {
  resolve(stanza: XmlElement): void;
  reject(error: Error): void;
  timeoutMs: number | undefined;
}

interface Subscriber {
  push(stanza: XmlElement): void;
  end(error?: Error): void;
}

const microtask = (fn: () => void): void => (globalThis as unknown as { queueMicrotask(fn: () => void): void }).queueMicrotask(fn);

/**
 * The client logic of every adapter, independent of the transport and of the event emitter.
 *
 * @example
 * ```ts
 * class MyClient extends EventEmitter<XmppClientEvents> {
 *   private readonly core = new ClientController(options, this, { connect: (redirect) => this.open() });
 *   online() { return this.core.online(); }
 *   // open(): connect, then this.core.attach(sessionOptions, io), feed input via the pump,
 *   // this.core.transportEnded(pump) when the connection is gone.
 * }
 * ```
 */
export class ClientController<O extends BaseClientOptions = BaseClientOptions> {
  /** Our address as configured (prepared). */
  readonly address: Jid;
  /** The options given. */
  readonly options: O;
  private readonly sink: ClientEventSink;
  private readonly transport: ClientTransport;
  private readonly timers: PumpTimers;
  private readonly clock: () => number;
  private pumpRef: SessionPump<ClientEvent> | undefined;
  private session: ClientSessionLike | undefined;
  /** A connection is being made, is up, or a reconnection is scheduled. */
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
  private saslMechanism: string | undefined;

  /**
   * @param sink where events go (the adapter's emitter)
   * @param transport opens connections
   * @throws JidError for an invalid `jid`, TypeError for a JID without localpart
   */
  constructor(options: O, sink: ClientEventSink, transport: ClientTransport, env: { timers?: PumpTimers; now?: () => number } = {}) {
    this.options = options;
    this.sink = sink;
    this.transport = transport;
    this.timers = env.timers ?? globalTimers;
    this.clock = env.now ?? monotonicNow;
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

  /** Whether the session is online (stanzas may be sent). */
  get isOnline(): boolean {
    return this.session?.state === "online";
  }

  /** The SASL mechanism of the current connection, once authenticated (e.g. `SCRAM-SHA-1-PLUS`). */
  get mechanism(): string | undefined {
    return this.saslMechanism;
  }

  /** Whether `close()` was called (transports stop connecting). */
  get closedByUser(): boolean {
    return this.userClosed;
  }

  /** The pump of the current (or last) connection. */
  get pump(): SessionPump<ClientEvent> | undefined {
    return this.pumpRef;
  }

  /**
   * Connects (on the first call) and resolves with the bound full JID once online. Rejects with
   * `AuthError`, `BindError`, `StreamErrorException` or `ConnectionError` if the first connection fails
   * (reconnection only applies to connections that were online).
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

  /** Sends a stanza. @throws ConnectionError when not connected, SessionStateError (core) when not online */
  send(stanza: XmlElement): void {
    this.requirePump().interact((s) => s.send(stanza));
  }

  /**
   * Sends an IQ request (`get`/`set`; an `id` is assigned if missing) and resolves with the `result`.
   * Rejects with `StanzaErrorException` for `type='error'`, `IqTimeoutError` on timeout (default from the
   * core, 30 s), `ConnectionError` if the connection ends first.
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
   * Incoming stanzas as an async iterable, from now on, buffered until read, surviving reconnects. Ends
   * when the client is closed for good (after `close()`, or a drop without reconnection — then it throws
   * that error). Stop early with `break`.
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
      this.timers.clearTimeout(this.reconnectTimer);
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

  /**
   * For transports: a connection is open. Creates the session with `sessionOptions` (plus our JID and
   * password) and the pump that writes with `io`; returns the pump, through which the transport feeds
   * input (`pump.guarded((s, now) => s.receive(…))`) and then calls `start` (after `tlsEstablished` for
   * a secure transport). @throws whatever `createSession` throws (invalid options)
   */
  attach(sessionOptions: Omit<ClientOptions, "jid" | "password">, io: ClientIo): SessionPump<ClientEvent> {
    const full: ClientOptions = { ...sessionOptions, jid: this.options.jid, password: this.options.password };
    const session = this.options.createSession?.(full) ?? (new ClientSession(full) as ClientSessionLike);
    this.session = session;
    this.connectionError = undefined;
    this.saslMechanism = undefined;
    this.closeReason = "transport-closed";
    this.redirectTo = undefined;
    this.transportOpen = true;
    const pump: SessionPump<ClientEvent> = new SessionPump<ClientEvent>({
      session,
      write: io.write,
      onEvent: (ev) => this.onSessionEvent(pump, ev),
      onClosed: (ev) => io.closeTransport(ev as ClientEvent & { type: "closed" }),
      ...(io.onStartTls === undefined ? {} : { onStartTls: io.onStartTls }),
      ...(io.onError === undefined ? {} : { onError: io.onError }),
      now: this.clock,
      timers: this.timers,
    });
    this.pumpRef = pump;
    return pump;
  }

  /** For transports: records the first error of the current connection (for the close report). */
  transportError(error: Error): void {
    this.connectionError ??= error;
  }

  /**
   * For transports: the transport of `pump`'s connection has closed (for any reason). Tells the session,
   * settles promises, emits `close`, and reconnects or follows a redirect if due.
   */
  transportEnded(pump: SessionPump<ClientEvent>, transportError?: Error): void {
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
    const follow = this.userClosed || this.redirectTo === undefined || this.redirects >= MAX_REDIRECTS ? undefined : this.transport.redirectTarget?.(this.redirectTo);
    if (this.redirectTo !== undefined && follow === undefined && error === undefined) {
      error = new ConnectionError("connect-failed", `redirect to ${JSON.stringify(this.redirectTo)} refused (see-other-uri: not equally secure, invalid, or too many)`);
    }
    const willReconnect = follow !== undefined || this.shouldReconnect(error);
    if (!willReconnect) {
      this.active = false;
      this.failOnline(error ?? new ConnectionError("closed", `connection closed before online (${this.closeReason})`));
    }
    if (error !== undefined && wasOnline && this.sink.listenerCount("error") > 0) this.sink.emit("error", error);
    const info: ClientCloseInfo = { reason: this.closeReason, willReconnect };
    if (error !== undefined) info.error = error;
    this.sink.emit("close", info);
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const w of waiters) w();
    if (wasOnline && this.onlineAt !== undefined && this.clock() - this.onlineAt >= this.stableAfterMs) this.policy?.reset();
    this.onlineAt = undefined;
    if (follow !== undefined) {
      this.redirects++;
      this.startConnect(follow).catch((err: Error) => {
        this.active = false;
        this.failOnline(err);
        this.endSubscribers(err);
      });
    } else if (willReconnect) this.scheduleReconnect();
    else this.endSubscribers(this.userClosed ? undefined : error);
  }

  private async startConnect(redirect: string | undefined): Promise<void> {
    if (this.userClosed) throw new ConnectionError("closed", "closed by the application");
    await this.transport.connect(redirect);
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
        this.onlineAt = this.clock();
        this.everOnline = true;
        this.redirects = 0;
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
        if (pump.session.state === "closed") p.reject(new ConnectionError("closed", `the connection closed before the answer to iq ${JSON.stringify(ev.id)}`));
        else p.reject(new IqTimeoutError(ev.id, p.timeoutMs));
        return;
      }
      case "auth-failed":
        this.connectionError = new AuthError(ev.condition, ev.text);
        // Not retrying with the same password: end the session (the core may already have).
        if (pump.session.state !== "closed" && pump.session.state !== "closing") pump.session.close(pump.now());
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

  /**
   * Emits to application listeners. A listener that throws does not disturb the session (the pump is
   * mid-dispatch): the exception is re-thrown on its own, as Node does for throwing socket listeners.
   */
  private emitToUser<K extends "online" | "stanza" | "message" | "presence" | "iq">(name: K, ...args: XmppClientEvents[K]): void {
    try {
      this.sink.emit(name, ...args);
    } catch (err) {
      microtask(() => {
        throw err;
      });
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
    this.sink.emit("reconnecting", { attempt, delayMs });
    this.reconnectTimer = this.timers.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.userClosed) return;
      this.startConnect(undefined).catch((err: Error) => {
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
        if (this.sink.listenerCount("error") > 0) this.sink.emit("error", err);
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

/**
 * Base class of the client adapters that have no `node:events` (WebSocket, Deno): a {@link TypedEmitter}
 * with the {@link ClientController} API. Subclasses implement {@link SessionClient.connectOnce}: open the
 * transport, then call {@link SessionClient.attach}, feed input through the returned pump, and call
 * {@link SessionClient.transportEnded} once the transport is closed.
 */
export abstract class SessionClient<O extends BaseClientOptions = BaseClientOptions> extends TypedEmitter<XmppClientEvents> {
  /** Our address as configured (prepared). */
  readonly address: Jid;
  /** The options given. */
  protected readonly options: O;
  private readonly controller: ClientController<O>;

  /** @throws JidError for an invalid `jid`, TypeError for a JID without localpart */
  constructor(options: O) {
    super();
    this.options = options;
    this.controller = new ClientController(options, this, {
      connect: (redirect) => this.connectOnce(redirect),
      redirectTarget: (uri) => this.redirectTarget(uri),
    });
    this.address = this.controller.address;
  }

  /** Opens one connection (see {@link ClientTransport.connect}). */
  protected abstract connectOnce(redirect: string | undefined): Promise<void>;

  /** Whether a `see-other-uri` is followed (see {@link ClientTransport.redirectTarget}). Default: never. */
  protected redirectTarget(_uri: string): string | undefined {
    return undefined;
  }

  /** The full JID while online, else undefined. */
  get jid(): Jid | undefined {
    return this.controller.jid;
  }

  /** Whether the session is online (stanzas may be sent). */
  get isOnline(): boolean {
    return this.controller.isOnline;
  }

  /** The SASL mechanism of the current connection, once authenticated. */
  get mechanism(): string | undefined {
    return this.controller.mechanism;
  }

  /** See {@link ClientController.online}. */
  online(): Promise<Jid> {
    return this.controller.online();
  }

  /** See {@link ClientController.send}. */
  send(stanza: XmlElement): void {
    this.controller.send(stanza);
  }

  /** See {@link ClientController.iq}. */
  iq(iq: XmlElement, options: { timeoutMs?: number } = {}): Promise<XmlElement> {
    return this.controller.iq(iq, options);
  }

  /** See {@link ClientController.stanzas}. */
  stanzas(): AsyncIterableIterator<XmlElement> {
    return this.controller.stanzas();
  }

  /** See {@link ClientController.close}. */
  close(): Promise<void> {
    return this.controller.close();
  }

  /** Whether `close()` was called (subclasses stop connecting). */
  protected get closedByUser(): boolean {
    return this.controller.closedByUser;
  }

  /** See {@link ClientController.attach}. */
  protected attach(sessionOptions: Omit<ClientOptions, "jid" | "password">, io: ClientIo): SessionPump<ClientEvent> {
    return this.controller.attach(sessionOptions, io);
  }

  /** See {@link ClientController.transportError}. */
  protected transportError(error: Error): void {
    this.controller.transportError(error);
  }

  /** See {@link ClientController.transportEnded}. */
  protected transportEnded(pump: SessionPump<ClientEvent>, transportError?: Error): void {
    this.controller.transportEnded(pump, transportError);
  }
}
