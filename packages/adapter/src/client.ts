/**
 * The transport-independent half of a client adapter: promises (`online`, `iq`, `close`), typed events,
 * `for await` over stanzas, typed errors and redirects, over the core's `ClientLifecycle` — which decides
 * everything about reconnecting, backoff, XEP-0198 resumption and queueing. The controller only does IO:
 * it opens a transport when the lifecycle asks (`connect` event), feeds bytes, writes `pollTransmit()`,
 * answers `derive-key` asynchronously, and arms ONE timer at `nextTimeout()`.
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
  ClientLifecycle,
  type ClientOptions,
  LIFECYCLE_RECONNECT_DEFAULTS,
  type LifecycleEvent,
  type LifecycleState,
  parseStanzaError,
  parseStanzas,
  type ReconnectPolicyOptions,
  type SansIoSession,
  type SessionState,
  type StanzaFailedEvent,
  type StreamErrorCondition,
  type StreamManagementOptions,
  type TlsInfo,
} from "@xmpp-sansio/core";
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import { type DeriveKeyFunction, deriveSaltedPassword } from "./derive-key.js";
import { TypedEmitter } from "./emitter.js";
import { AuthError, BindError, ConnectionError, IqTimeoutError, StanzaErrorException, StreamErrorException } from "./errors.js";
import { globalTimers, monotonicNow, type PumpIo, type PumpTimers, SessionPump } from "./pump.js";

/** The client session surface an adapter drives (the core's `ClientSession`). */
export interface ClientSessionLike extends SansIoSession<ClientEvent> {
  /**
   * Sends the stream header (RFC 6120 §4.2); called once, right after the transport connected. `now`: monotonic ms.
   */
  start(now: number): void;
  /**
   * Sends an IQ `get`/`set` and tracks its answer: returns the id; the answer comes as `iq-response`, or
   * `iq-timeout` after `timeoutMs` (default: the session's `timeouts.iqMs`). Only online.
   */
  sendIq(iq: XmlElement, now: number, timeoutMs?: number): string;
  /** Answers a `credentials-needed` event with the account password (SASL then continues). */
  supplyCredentials(credentials: { password: string }): void;
}

/** Why a connection ended, as reported by the `close` event. */
export interface ClientCloseInfo {
  /** The core's `closed` reason, or `transport-closed` if the transport went first. */
  reason: string;
  /** The error behind it, if the close was not asked for. */
  error?: Error;
  /** Whether a reconnection (or a redirect) is scheduled. */
  willReconnect: boolean;
}

/** Why a stanza was not delivered (`failed` event). */
export type StanzaFailureReason = StanzaFailedEvent["reason"] | "not-sent";

/** Events of a client, for `on`/`once`/`off` (the same on every transport). */
export interface XmppClientEvents {
  /** Online: the full JID bound; `resumed` when XEP-0198 resumption brought the old session back. */
  online: [jid: Jid, info: { resumed: boolean }];
  /** Every incoming stanza (message, presence, and IQ requests). */
  stanza: [stanza: XmlElement];
  /** Incoming messages. */
  message: [stanza: XmlElement];
  /** Incoming presence. */
  presence: [stanza: XmlElement];
  /** Incoming IQ requests (`get`/`set`); answers to `iq()` go to its promise instead. */
  iq: [stanza: XmlElement];
  /** XEP-0198: the server acknowledged this stanza we sent (it was handled). */
  acked: [stanza: XmlElement];
  /**
   * This stanza we sent (or queued) is lost for good: the session ended before the server acknowledged it
   * and could not be resumed (`closed`, `not-resumable`, `resume-failed`), or the client stopped with it
   * still queued (`not-sent`). The application may send it again.
   */
  failed: [stanza: XmlElement, reason: StanzaFailureReason];
  /** An error while online (stream error, lost connection, failed reconnection). Only emitted when someone listens. */
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
   * `conflict`/`not-authorized`/`policy-violation`/… stream error), resuming the XEP-0198 session when the
   * server allows it. Default on, with the core's `LIFECYCLE_RECONNECT_DEFAULTS` (first delay below 1 s,
   * doubling up to 8 s, full jitter); an object tunes them (`initialDelayMs`, `maxDelayMs`, `factor`,
   * `jitter`, `random`, and `stableAfterMs`: online this long resets the backoff, default 60 000).
   * `false`: a drop ends the client.
   */
  reconnect?: boolean | (ReconnectPolicyOptions & { stableAfterMs?: number });
  /** XEP-0198 Stream Management: `false` to not use it, or its settings (acking policy…). Default on, resumable. */
  sm?: boolean | Omit<StreamManagementOptions, "resume">;
  /** Stanzas `send()` queues while not online (reconnecting). Default 1000; past it `send()` throws `QueueFullError`. */
  maxQueued?: number;
  /** State exported by an earlier process (`ClientController.exportState`): resume its session, send its queue. */
  resume?: LifecycleState;
  /**
   * SCRAM key derivation (PBKDF2 with the server's iteration count): a function answering the core's
   * `derive-key` question asynchronously (default: the adapter's native one — WebCrypto, or `node:crypto`
   * on Node), or `"inline"` for the core's synchronous pure-JS path.
   */
  deriveKey?: "inline" | DeriveKeyFunction;
  /** Highest SCRAM iteration count accepted from a server. Default: the core's (1 000 000). */
  maxScramIterations?: number;
}

/** Where a {@link ClientController} emits its events (an `EventEmitter`, a {@link TypedEmitter}…). */
export interface ClientEventSink {
  /** Emits `event` with its arguments to the listeners (like `EventEmitter.emit`). */
  emit<K extends keyof XmppClientEvents>(event: K, ...args: XmppClientEvents[K]): unknown;
  /** How many listeners `event` has: `error` is only emitted when someone listens. */
  listenerCount(event: keyof XmppClientEvents): number;
}

/** The transport side of a client: opens connections. */
export interface ClientTransport {
  /**
   * Opens one connection and calls {@link ClientController.attach}. `redirect` is a target given by the
   * previous connection (`see-other-uri`, `see-other-host`), already accepted by `redirectTarget`.
   * Rejects with a `ConnectionError` if the transport cannot be opened.
   */
  connect(redirect: string | undefined): Promise<void>;
  /**
   * Decides whether a redirect is followed: a WebSocket `see-other-uri` (RFC 7395 §3.7) or a stream
   * error's `see-other-host` (RFC 6120 §4.9.3.19, `host[:port]`, given as `xmpp:host[:port]`); returns the
   * target to connect to, or undefined. Absent: never.
   */
  redirectTarget?(target: string): string | undefined;
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

/** Maximum redirects followed in a row. */
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

/** One transport connection and what the controller knows of it. */
interface Connection {
  pump: SessionPump<ClientEvent>;
  io: ClientIo;
  /** The lifecycle's session on this connection, once started. */
  session: ClientSessionLike | undefined;
  /** `tlsEstablished` before `start` (Direct TLS, `wss:`). */
  earlyTls: TlsInfo | undefined;
  open: boolean;
  reason: string;
  error: Error | undefined;
  wasOnline: boolean;
  /** The session ended with a redirect that is being followed. */
  redirected: boolean;
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
  private readonly derive: DeriveKeyFunction | undefined;
  private readonly reconnectEnabled: boolean;
  /** The lifecycle of the current run (from `online()` until stopped). */
  private life: ClientLifecycle | undefined;
  /** The session options the lifecycle reads at each connection (set per connection by `attach`). */
  private readonly sessionOptions: Record<string, unknown> = {};
  private conn: Connection | undefined;
  private readonly connections = new Set<Connection>();
  private onlineWaiters: Array<{ resolve(jid: Jid): void; reject(err: Error): void }> = [];
  private boundJid: Jid | undefined;
  private lastError: Error | undefined;
  private redirectTo: string | undefined;
  private nextRedirect: string | undefined;
  private redirects = 0;
  private userClosed = false;
  private everOnline = false;
  private closeWaiters: Array<() => void> = [];
  private readonly pending = new Map<string, Pending>();
  private readonly subscribers = new Set<Subscriber>();
  private timer: unknown;
  private timerAt: number | undefined;
  private draining = false;
  private drainAgain = false;
  private saslMechanism: string | undefined;
  /** The run stopped: `online()` and `stanzas()` settle once the transport is closed. */
  private stopped = false;

  /**
   * @param sink where events go (the adapter's emitter)
   * @param transport opens connections
   * @param env timers and clock (inject in tests); `deriveKey`: the runtime's native derivation (default WebCrypto)
   * @throws JidError for an invalid `jid`, TypeError for a JID without localpart
   */
  constructor(options: O, sink: ClientEventSink, transport: ClientTransport, env: { timers?: PumpTimers; now?: () => number; deriveKey?: DeriveKeyFunction } = {}) {
    this.options = options;
    this.sink = sink;
    this.transport = transport;
    this.timers = env.timers ?? globalTimers;
    this.clock = env.now ?? monotonicNow;
    this.address = parseJid(options.jid);
    if (this.address.local === "") throw new TypeError(`the client JID needs a localpart (the account), got ${JSON.stringify(options.jid)}`);
    this.reconnectEnabled = options.reconnect !== false;
    this.derive = options.deriveKey === "inline" ? undefined : (options.deriveKey ?? env.deriveKey ?? deriveSaltedPassword);
  }

  /** The full JID while online, else undefined. */
  get jid(): Jid | undefined {
    return this.boundJid;
  }

  /** Whether the session is online (stanzas are sent at once). */
  get isOnline(): boolean {
    return this.life?.sessionState === "online";
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
    return this.conn?.pump;
  }

  /** The lifecycle of the current run, for inspection (`state`, `queued`, `session`). */
  get lifecycle(): ClientLifecycle | undefined {
    return this.life;
  }

  /**
   * Connects (on the first call) and resolves with the bound full JID once online. Rejects with
   * `AuthError`, `BindError`, `StreamErrorException` or `ConnectionError` if the first connection fails
   * (reconnection only applies once the client has been online).
   */
  online(): Promise<Jid> {
    if (this.boundJid !== undefined && this.isOnline) return Promise.resolve(this.boundJid);
    const promise = new Promise<Jid>((resolve, reject) => this.onlineWaiters.push({ resolve, reject }));
    if (this.life === undefined || this.life.state === "stopped") this.startRun();
    return promise;
  }

  /**
   * Sends a stanza: at once while online, else queued (bounded by `maxQueued`) and sent after the
   * session is resumed or bound again. With SM on, the `acked` event tells when the server has it, the
   * `failed` event if it is lost for good.
   * @throws ConnectionError before `online()` or after the client stopped; `QueueFullError` (core) when the queue is full
   */
  send(stanza: XmlElement): void {
    const life = this.life;
    if (life === undefined || life.state === "stopped" || this.userClosed) throw new ConnectionError("closed", "not connected: await client.online() first");
    this.drive(() => life.send(stanza));
  }

  /**
   * Sends an IQ request (`get`/`set`; an `id` is assigned if missing) and resolves with the `result`.
   * Rejects with `StanzaErrorException` for `type='error'`, `IqTimeoutError` on timeout (default from the
   * core, 30 s), `ConnectionError` if not online or if the connection ends first (IQs are not queued).
   */
  iq(iq: XmlElement, options: { timeoutMs?: number } = {}): Promise<XmlElement> {
    const session = this.life?.session as ClientSessionLike | undefined;
    if (session === undefined || session.state !== "online") return Promise.reject(new ConnectionError("closed", "not online: await client.online() first"));
    return new Promise<XmlElement>((resolve, reject) => {
      this.drive((_life, now) => {
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
   * deadline, then closes the transport). Resolves once the lifecycle has stopped and the transport is
   * closed. Cancels a pending reconnection; stanzas still queued are reported `failed` (`not-sent`).
   */
  close(): Promise<void> {
    this.userClosed = true;
    const life = this.life;
    if (life === undefined || (life.state === "stopped" && this.openConnections() === 0)) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    if (life.state !== "stopped") this.drive((l, now) => l.close(now));
    return done;
  }

  /**
   * What a new process needs to resume this client's session and send its queue (JSON-safe): pass it as
   * the `resume` option. Undefined before `online()`.
   */
  exportState(): LifecycleState | undefined {
    return this.life?.exportState();
  }

  /**
   * For transports: a connection is open. Sets this connection's session options (TLS policy, framing…;
   * our JID, password and derivation settings are added) and returns the pump that writes with `io`,
   * through which the transport feeds input (`pump.guarded((s, now) => s.receive(…))`) and then calls
   * `start` (after `tlsEstablished` for a secure transport).
   * @throws ConnectionError if the client stopped meanwhile
   */
  attach(sessionOptions: Omit<ClientOptions, "jid" | "password">, io: ClientIo): SessionPump<ClientEvent> {
    if (this.life === undefined || this.life.state !== "connecting") throw new ConnectionError("closed", "the client stopped before the connection was established");
    for (const key of Object.keys(this.sessionOptions)) delete this.sessionOptions[key];
    Object.assign(this.sessionOptions, sessionOptions, {
      jid: this.options.jid,
      password: this.options.password,
      deriveKey: this.derive === undefined ? "inline" : "ask",
      ...(this.options.maxScramIterations === undefined ? {} : { maxScramIterations: this.options.maxScramIterations }),
    });
    this.saslMechanism = undefined;
    const conn = { io, session: undefined, earlyTls: undefined, open: true, reason: "transport-closed", error: undefined, wasOnline: false, redirected: false } as unknown as Connection;
    conn.pump = new SessionPump<ClientEvent>({
      session: this.facade(conn),
      write: io.write,
      onEvent: (ev) => this.onPumpEvent(conn, ev),
      onClosed: (ev) => io.closeTransport(ev as ClientEvent & { type: "closed" }),
      ...(io.onStartTls === undefined ? {} : { onStartTls: io.onStartTls }),
      ...(io.onError === undefined ? {} : { onError: io.onError }),
      now: this.clock,
      timers: this.timers,
    });
    this.conn = conn;
    this.connections.add(conn);
    return conn.pump;
  }

  /** For transports: records the first error of the current connection (for the close report). */
  transportError(error: Error): void {
    if (this.conn !== undefined) this.conn.error ??= error;
    this.lastError ??= error;
  }

  /**
   * For transports: the transport of `pump`'s connection has closed (for any reason). Tells the
   * lifecycle (which schedules a reconnection or stops), settles IQ promises, emits `close`.
   */
  transportEnded(pump: SessionPump<ClientEvent>, transportError?: Error): void {
    const conn = [...this.connections].find((c) => c.pump === pump);
    if (conn === undefined || !conn.open) return;
    pump.transportClosed();
    conn.open = false;
    this.connections.delete(conn);
    if (this.conn === conn) this.conn = undefined;
    let error = conn.error;
    const asked = this.userClosed || conn.reason === "closed";
    if (error === undefined && !asked && !conn.redirected) {
      error = new ConnectionError(
        "connection-lost",
        `connection lost (${conn.reason})${transportError ? `: ${transportError.message}` : ""}`,
        transportError === undefined ? undefined : { cause: transportError },
      );
    }
    if (error !== undefined) this.lastError ??= error;
    for (const [, p] of this.pending) p.reject(new ConnectionError("closed", "the connection closed before the answer", error === undefined ? undefined : { cause: error }));
    this.pending.clear();
    const state = this.life?.state;
    const willReconnect = state === "backoff" || state === "connecting";
    if (error !== undefined && conn.wasOnline && this.sink.listenerCount("error") > 0) this.sink.emit("error", error);
    const info: ClientCloseInfo = { reason: conn.reason, willReconnect };
    if (error !== undefined) info.error = error;
    this.sink.emit("close", info);
    this.drive();
    this.settleClose();
  }

  // ------------------------------------------------------------------------------------------------
  // Driving the lifecycle

  private startRun(): void {
    this.userClosed = false;
    this.redirects = 0;
    this.redirectTo = undefined;
    this.nextRedirect = undefined;
    this.lastError = undefined;
    this.everOnline = false;
    const o = this.options;
    const reconnect = o.reconnect === undefined || o.reconnect === true || o.reconnect === false ? {} : o.reconnect;
    const { stableAfterMs, ...policy } = reconnect;
    const previous = this.life;
    this.life = new ClientLifecycle({
      session: this.sessionOptions as unknown as ClientOptions,
      sm: o.sm === false ? false : o.sm === true || o.sm === undefined ? {} : o.sm,
      // The lifecycle always has a policy: redirects use it too; `reconnect: false` is decided here.
      reconnect: { ...LIFECYCLE_RECONNECT_DEFAULTS, ...policy },
      ...(stableAfterMs === undefined ? {} : { stableAfterMs }),
      ...(o.maxQueued === undefined ? {} : { maxQueued: o.maxQueued }),
      ...(previous === undefined && o.resume !== undefined ? { resume: o.resume } : {}),
    });
    this.drive((l, now) => l.start(now));
  }

  /**
   * Calls into the lifecycle, then writes output, dispatches events and re-arms the one timer — through
   * the current connection's pump when there is one (output goes to it), else directly.
   */
  private drive(fn?: (life: ClientLifecycle, now: number) => void): void {
    const life = this.life;
    if (life === undefined) return;
    const conn = this.conn;
    if (conn?.open) {
      conn.pump.interact((_s, now) => fn?.(life, now));
      return;
    }
    try {
      fn?.(life, this.clock());
    } finally {
      this.drain();
    }
  }

  /** No transport: dispatch events, drop output (nowhere to write it), re-arm the timer. */
  private drain(): void {
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.drainAgain = false;
        const life = this.life;
        if (life === undefined) return;
        while (life.pollTransmit() !== undefined) {
          // the session is closed: its last bytes have no transport
        }
        for (let ev = life.pollEvent(); ev !== undefined; ev = life.pollEvent()) this.dispatch(ev);
      } while (this.drainAgain);
    } finally {
      this.draining = false;
      this.rearm();
    }
  }

  private rearm(): void {
    const at = this.life?.state === "stopped" ? undefined : this.life?.nextTimeout();
    if (at === this.timerAt) return;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === undefined) return;
    this.timer = this.timers.setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = undefined;
        const conn = this.conn;
        if (conn?.open) conn.pump.guarded(() => this.life?.handleTimeout(this.clock()));
        else this.drive((l, now) => l.handleTimeout(now));
      },
      Math.max(0, Math.ceil(at - this.clock())),
    );
  }

  /** The per-connection view of the lifecycle the pump drives: inert once another connection is current. */
  private facade(conn: Connection): SansIoSession<ClientEvent> & { start(now: number): void } {
    const current = () => this.life !== undefined && conn.session !== undefined && this.life.session === (conn.session as unknown);
    return {
      get state(): SessionState {
        return current() ? conn.session!.state : "closed";
      },
      start: (now) => {
        const life = this.life!;
        life.connected(now, conn.earlyTls);
        conn.session = life.session as unknown as ClientSessionLike;
      },
      receive: (bytes, now) => {
        if (current()) this.life!.receive(bytes, now);
      },
      receiveMessage: (message, binary, now) => {
        if (current()) this.life!.receiveMessage(message, binary, now);
      },
      transportClosed: (now) => {
        if (current()) this.life!.transportClosed(now);
      },
      tlsEstablished: (info, now) => {
        if (conn.session === undefined) conn.earlyTls = info;
        else if (current()) this.life!.tlsEstablished(info, now);
      },
      pollTransmit: () => (current() ? this.life!.pollTransmit() : undefined),
      pollEvent: () => this.pollFor(conn),
      nextTimeout: () => {
        this.rearm();
        return undefined;
      },
      handleTimeout: (now) => this.life?.handleTimeout(now),
      send: (stanza) => this.life?.send(stanza),
      close: (now) => this.life?.close(now),
      abort: (condition, text, now) => {
        if (current()) conn.session!.abort(condition, text, now);
      },
    };
  }

  /**
   * The pump of `conn` asks for its next event: the lifecycle's, while `conn` is the current connection
   * (the pump dispatches it to {@link ClientController.onPumpEvent}, then writes what it produced).
   */
  private pollFor(conn: Connection): ClientEvent | undefined {
    const life = this.life;
    if (life === undefined || conn !== this.conn) return undefined;
    const ev = life.pollEvent();
    if (ev === undefined) this.rearm();
    return ev as ClientEvent | undefined;
  }

  private onPumpEvent(conn: Connection, ev: LifecycleEvent): void {
    if (ev.type === "closed" && conn.session !== undefined && this.life?.session === (conn.session as unknown)) conn.reason = ev.reason;
    this.dispatch(ev);
  }

  private dispatch(ev: LifecycleEvent): void {
    switch (ev.type) {
      case "connect":
        this.openTransport();
        return;
      case "reconnecting":
        this.onReconnecting(ev.attempt, ev.delayMs);
        return;
      case "stopped":
        this.onStopped();
        return;
      case "online": {
        this.boundJid = ev.jid;
        this.everOnline = true;
        this.redirects = 0;
        this.lastError = undefined;
        if (this.conn !== undefined) this.conn.wasOnline = true;
        const waiters = this.onlineWaiters;
        this.onlineWaiters = [];
        for (const w of waiters) w.resolve(ev.jid);
        this.emitToUser("online", ev.jid, { resumed: ev.resumed === true });
        return;
      }
      case "stanza": {
        const s = ev.stanza;
        this.emitToUser("stanza", s);
        if (s.name === "message" || s.name === "presence" || s.name === "iq") this.emitToUser(s.name, s);
        for (const sub of this.subscribers) sub.push(s);
        return;
      }
      case "stanza-acked":
        this.emitToUser("acked", ev.stanza);
        return;
      case "stanza-failed":
        this.emitToUser("failed", ev.stanza, ev.reason);
        return;
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
        if (this.life?.sessionState === "closed") p.reject(new ConnectionError("closed", `the connection closed before the answer to iq ${JSON.stringify(ev.id)}`));
        else p.reject(new IqTimeoutError(ev.id, p.timeoutMs));
        return;
      }
      case "auth-failed": {
        this.setError(new AuthError(ev.condition, ev.text));
        // Not retrying with the same password: end the session (the core may already have).
        const s = this.life?.session;
        if (s !== undefined && s.state !== "closed" && s.state !== "closing") s.close(this.clock());
        return;
      }
      case "authenticated":
        this.saslMechanism = ev.mechanism;
        return;
      case "bind-failed":
        if (this.conn !== undefined) this.conn.error ??= new BindError(ev.condition, ev.text);
        return;
      case "credentials-needed":
        this.life?.session?.supplyCredentials({ password: this.options.password });
        return;
      case "derive-key":
        this.deriveKey(ev);
        return;
      case "stream-error": {
        if (ev.seeOtherHost !== undefined) this.redirectTo = `xmpp:${ev.seeOtherHost}`;
        if (!(this.conn?.error instanceof AuthError)) {
          const se = ev.text === undefined ? { condition: ev.condition as StreamErrorCondition } : { condition: ev.condition as StreamErrorCondition, text: ev.text };
          this.setError(new StreamErrorException(se, ev.byPeer ? "remote" : "local"));
        }
        return;
      }
      case "closed":
        if (ev.seeOtherUri !== undefined) this.redirectTo = ev.seeOtherUri;
        return;
      default:
        return;
    }
  }

  private setError(error: Error): void {
    if (this.conn !== undefined) this.conn.error = error;
    this.lastError = error;
  }

  private deriveKey(ev: ClientEvent & { type: "derive-key" }): void {
    const life = this.life;
    const session = life?.session;
    const derive = this.derive;
    if (life === undefined || session === undefined || derive === undefined) return;
    derive(ev).then(
      (key) => {
        // A late answer (the session closed, another one started) is ignored by the core / here.
        if (life === this.life && life.session === session) this.drive(() => session.supplyDerivedKey(key));
      },
      (err: unknown) => {
        if (life !== this.life || life.session !== session) return;
        this.setError(new ConnectionError("closed", `SCRAM key derivation failed: ${(err as Error)?.message ?? String(err)}`, { cause: err }));
        this.drive((_l, now) => session.abort("undefined-condition", "key derivation failed", now));
      },
    );
  }

  private openTransport(): void {
    const life = this.life!;
    const redirect = this.nextRedirect;
    this.nextRedirect = undefined;
    this.transport.connect(redirect).then(
      () => {
        // The transport attached and started a session; if it gave up silently, that is a failure.
        if (this.life === life && life.state === "connecting") this.connectFailed(life, new ConnectionError("connect-failed", "the transport opened no session"));
      },
      (err: Error) => {
        if (this.life === life && life.state === "connecting") this.connectFailed(life, err);
      },
    );
  }

  private connectFailed(life: ClientLifecycle, err: Error): void {
    this.lastError = err;
    if (this.everOnline && !this.userClosed && this.sink.listenerCount("error") > 0) this.sink.emit("error", err);
    this.drive((_l, now) => life.connectFailed(now));
  }

  private onReconnecting(attempt: number, delayMs: number): void {
    const life = this.life!;
    const target = this.redirectTo;
    this.redirectTo = undefined;
    const follow = this.userClosed || target === undefined || this.redirects >= MAX_REDIRECTS ? undefined : this.transport.redirectTarget?.(target);
    if (follow !== undefined) {
      if (this.conn !== undefined) this.conn.redirected = true;
      this.redirects++;
      this.nextRedirect = follow;
      return;
    }
    if (target !== undefined && this.lastError === undefined) {
      this.lastError = new ConnectionError("connect-failed", `redirect to ${JSON.stringify(target)} refused (not equally secure, invalid, or too many)`);
    }
    const fatal = this.lastError instanceof AuthError || (this.lastError instanceof StreamErrorException && FATAL_STREAM_ERRORS.has(this.lastError.condition));
    if (this.userClosed || !this.reconnectEnabled || !this.everOnline || fatal) {
      life.close(this.clock());
      return;
    }
    this.sink.emit("reconnecting", { attempt, delayMs });
  }

  private onStopped(): void {
    const life = this.life!;
    this.boundJid = undefined;
    // Stanzas still queued will never be sent by this run: say so.
    const state = life.exportState();
    for (const stanza of parseStanzas(state.queued, "queued stanzas")) this.emitToUser("failed", stanza, "not-sent");
    this.stopped = true;
    this.settleClose();
  }

  private openConnections(): number {
    return this.connections.size;
  }

  private settleClose(): void {
    if (this.life !== undefined && this.life.state !== "stopped") return;
    if (this.openConnections() > 0) return;
    // Promises settle once the last transport is closed (its final output is out).
    if (this.stopped) {
      this.stopped = false;
      // The error known now includes the transport's (a lost connection is reported when it closes).
      const error = this.userClosed ? undefined : this.lastError;
      this.failOnline(error ?? new ConnectionError("closed", this.userClosed ? "closed by the application" : "connection closed before online"));
      this.endSubscribers(error);
    }
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Emits to application listeners. A listener that throws does not disturb the session (the pump is
   * mid-dispatch): the exception is re-thrown on its own, as Node does for throwing socket listeners.
   */
  private emitToUser<K extends "online" | "stanza" | "message" | "presence" | "iq" | "acked" | "failed">(name: K, ...args: XmppClientEvents[K]): void {
    try {
      this.sink.emit(name, ...args);
    } catch (err) {
      microtask(() => {
        throw err;
      });
    }
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
