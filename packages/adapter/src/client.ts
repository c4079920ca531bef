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
  type ClientOptions,
  type ClientParts,
  LeanClientLifecycle,
  type LifecycleEvent,
  type LifecycleState,
  mechanismsWithHashes,
  requirePart,
  parseStanzas,
  type SansIoSession,
  type SessionFraming,
  type SessionState,
  type StreamErrorCondition,
  type TlsInfo,
} from "@xmpp-sansio/core";
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { type DeriveKeyFunction, deriveSaltedPasswordOfEvent } from "./derive-key.js";
import type { BaseClientOptions, ClientCloseInfo, ClientEventSink, ClientIo, ClientSessionLike, ClientTransport, XmppClientEvents } from "./client-types.js";
import { FATAL_STREAM_ERRORS } from "./client-types.js";
import { AuthError, BindError, ConnectionError, StreamErrorException } from "./errors.js";
import { SessionPump } from "./pump.js";
import { globalTimers, monotonicNow, type PumpTimers } from "./timers.js";
import { type IqHandler, IqHandlers, type IqRequestType } from "./iq-handlers.js";
import { PendingIqs } from "./pending-iqs.js";
import { Redirects } from "./redirects.js";
import { type StanzaFilter, type StanzaListener, StanzaMatchers } from "./stanza-match.js";
import { ConnectionTranscript, consoleTranscript, type TranscriptFunction } from "./transcript.js";
import { type StanzaSubscriber, stanzaStream } from "./stanza-stream.js";

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
  /** The readable transcript of this connection (`transcript` option). */
  transcript: ConnectionTranscript | undefined;
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
  /** The optional parts loaded: `options.parts` over the client's defaults. */
  private readonly parts: ClientParts;
  /** The framing of the sessions when the transport's session options give none (`env.framing`). */
  private readonly framing: SessionFraming | undefined;
  /** The lifecycle of the current run (from `online()` until stopped). */
  private life: LeanClientLifecycle | undefined;
  /** The session options the lifecycle reads at each connection (set per connection by `attach`). */
  private readonly sessionOptions: Record<string, unknown> = {};
  private conn: Connection | undefined;
  private readonly connections = new Set<Connection>();
  private onlineWaiters: Array<{ resolve(jid: Jid): void; reject(err: Error): void }> = [];
  private boundJid: Jid | undefined;
  private lastError: Error | undefined;
  private readonly redirects = new Redirects();
  private userClosed = false;
  private everOnline = false;
  private closeWaiters: Array<() => void> = [];
  private readonly pending = new PendingIqs();
  /** The handlers answering IQ requests to us (built-ins included); see {@link ClientController.onIq}. */
  readonly iqHandlers: IqHandlers;
  private readonly matchers = new StanzaMatchers();
  private readonly transcript: TranscriptFunction | undefined;
  private readonly subscribers = new Set<StanzaSubscriber>();
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
   * @param env timers and clock (inject in tests); `deriveKey`: the runtime's native derivation (default
   *   WebCrypto); `parts`: the optional parts loaded unless `options.parts` names them (default none:
   *   the batteries-included clients pass `DEFAULT_CLIENT_PARTS`); `framing`: the framing of the sessions
   *   when the transport's session options give none (`streamFraming` for TCP; a WebSocket transport
   *   passes `webSocketFraming`) — a value, so that a bundle holds only the framing it uses
   * @throws JidError for an invalid `jid`, TypeError for a JID without localpart, for `sm` settings
   *   without the Stream Management part, for SCRAM without a hash function (`parts.hashes`), or for
   *   `mechanisms` naming PLAIN, ANONYMOUS or EXTERNAL without `parts.oneShotMechanisms`
   */
  constructor(
    options: O,
    sink: ClientEventSink,
    transport: ClientTransport,
    env: { timers?: PumpTimers; now?: () => number; deriveKey?: DeriveKeyFunction; parts?: ClientParts; framing?: SessionFraming } = {},
  ) {
    this.options = options;
    this.sink = sink;
    this.transport = transport;
    this.timers = env.timers ?? globalTimers;
    this.clock = env.now ?? monotonicNow;
    this.address = parseJid(options.jid);
    if (this.address.local === "") throw new TypeError(`the client JID needs a localpart (the account), got ${JSON.stringify(options.jid)}`);
    this.parts = { ...env.parts, ...options.parts };
    this.framing = env.framing;
    // SCRAM's hash functions are a part too: without any, a lean client may not ask for SCRAM (no silent
    // fall-back to PLAIN); the session checks each named SCRAM mechanism against them.
    // PLAIN, ANONYMOUS and EXTERNAL likewise need their part when `mechanisms` names them.
    mechanismsWithHashes((options as { session?: { mechanisms?: readonly string[] } }).session?.mechanisms, this.parts.hashes ?? [], this.parts.oneShotMechanisms !== undefined);
    requirePart(this.parts.sm, options.sm, ["sm", "smClientPart"], "XmppClient");
    requirePart(this.parts.reconnect, options.reconnect, ["reconnect", "reconnectClientPart"], "XmppClient");
    this.reconnectEnabled = options.reconnect !== false && this.parts.reconnect !== undefined;
    this.derive = options.deriveKey === "inline" ? undefined : (options.deriveKey ?? env.deriveKey ?? deriveSaltedPasswordOfEvent);
    this.iqHandlers = new IqHandlers(options.iqAnswers);
    this.transcript = options.transcript === true ? consoleTranscript : options.transcript === false ? undefined : options.transcript;
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
  get lifecycle(): LeanClientLifecycle | undefined {
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
    // What drive() does, without its wrapper closure (one send per stanza: the hot path of a burst).
    const conn = this.conn;
    if (conn?.open) conn.pump.interact(() => life.send(stanza));
    else this.drive(() => life.send(stanza));
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
        this.pending.add(id, resolve, reject, options.timeoutMs);
      });
    });
  }

  /**
   * Sends `<iq type='get'>` with `payload` (to `to`, default our server/account) and resolves with the
   * result's payload element, or `undefined` for an empty result. Rejects like {@link ClientController.iq}:
   * `StanzaErrorException` (condition, text), `IqTimeoutError`, `ConnectionError`.
   *
   * @example
   * ```ts
   * const roster = await client.iqGet(xml("query", { xmlns: "jabber:iq:roster" }));
   * for (const item of roster?.getChildren("item") ?? []) console.log(item.attr("jid"));
   * ```
   */
  async iqGet(payload: XmlElement, to?: string, options: { timeoutMs?: number } = {}): Promise<XmlElement | undefined> {
    return (await this.iq(xml("iq", { type: "get", to }, payload), options)).firstElement();
  }

  /** Like {@link ClientController.iqGet} with `<iq type='set'>`. */
  async iqSet(payload: XmlElement, to?: string, options: { timeoutMs?: number } = {}): Promise<XmlElement | undefined> {
    return (await this.iq(xml("iq", { type: "set", to }, payload), options)).firstElement();
  }

  /**
   * Answers IQ requests of `type` whose payload is `<name xmlns=ns/>` with `handler` (see
   * {@link IqHandler}: return the result payload, nothing, or a `StanzaError`; throw a
   * `StanzaErrorException`; async allowed). `ns` is announced in disco#info. Returns the function that
   * removes the handler.
   *
   * @example
   * ```ts
   * client.onIq("get", "urn:xmpp:time", "time", () => xml("time", { xmlns: "urn:xmpp:time" }, xml("utc", {}, new Date().toISOString())));
   * ```
   */
  onIq(type: IqRequestType, ns: string, name: string, handler: IqHandler): () => void {
    return this.iqHandlers.on(type, ns, name, handler);
  }

  /**
   * Calls `listener` for each incoming message matching `filter` (type, child element), with the matched
   * child. Returns the function that removes it.
   *
   * @example
   * ```ts
   * client.onMessage({ type: "chat", child: { name: "body" } }, (m, body) => console.log(m.attr("from"), body?.text()));
   * ```
   */
  onMessage(filter: StanzaFilter, listener: StanzaListener): () => void {
    return this.matchers.add("message", filter, listener);
  }

  /** Like {@link ClientController.onMessage}, for presence (`type: "available"` matches presence without `type`). */
  onPresence(filter: StanzaFilter, listener: StanzaListener): () => void {
    return this.matchers.add("presence", filter, listener);
  }

  /**
   * Incoming stanzas as an async iterable, from now on, buffered until read, surviving reconnects. Ends
   * when the client is closed for good (after `close()`, or a drop without reconnection — then it throws
   * that error). Stop early with `break`.
   */
  stanzas(): AsyncIterableIterator<XmlElement> {
    return stanzaStream(this.subscribers);
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
   * @throws ConnectionError if the client stopped meanwhile; TypeError if neither `sessionOptions` nor
   *   the controller's `env` gives the framing as a value (`streamFraming`, `webSocketFraming`)
   */
  attach(sessionOptions: Omit<ClientOptions, "jid" | "password">, io: ClientIo): SessionPump<ClientEvent> {
    const framing = sessionOptions.framing ?? this.framing;
    if (typeof framing !== "object") {
      throw new TypeError("the session framing must be a value: pass env.framing (streamFraming or webSocketFraming from @xmpp-sansio/core) or framing in the session options");
    }
    if (this.life === undefined || this.life.state !== "connecting") throw new ConnectionError("closed", "the client stopped before the connection was established");
    for (const key of Object.keys(this.sessionOptions)) delete this.sessionOptions[key];
    Object.assign(this.sessionOptions, sessionOptions, {
      framing,
      jid: this.options.jid,
      password: this.options.password,
      deriveKey: this.derive === undefined ? "inline" : "ask",
      ...(this.options.maxScramIterations === undefined ? {} : { maxScramIterations: this.options.maxScramIterations }),
    });
    this.saslMechanism = undefined;
    const transcript = this.transcript === undefined ? undefined : new ConnectionTranscript(this.transcript);
    const conn = { io, transcript, session: undefined, earlyTls: undefined, open: true, reason: "transport-closed", error: undefined, wasOnline: false, redirected: false } as unknown as Connection;
    conn.pump = new SessionPump<ClientEvent>({
      session: this.facade(conn),
      write:
        transcript === undefined
          ? io.write
          : (data) => {
              transcript.record("out", data);
              return io.write(data);
            },
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
    this.pending.rejectAll(error);
    const state = this.life?.state;
    // A followed redirect may already have its next connection up when this one's transport reports closing.
    const willReconnect = conn.redirected || state === "backoff" || state === "connecting";
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
    this.redirects.reset();
    this.lastError = undefined;
    this.everOnline = false;
    const o = this.options;
    const reconnect = o.reconnect === undefined || o.reconnect === true || o.reconnect === false ? {} : o.reconnect;
    const { stableAfterMs, ...policy } = reconnect;
    const previous = this.life;
    this.life = new LeanClientLifecycle(
      {
        session: this.sessionOptions as unknown as ClientOptions,
        sm: o.sm === false || this.parts.sm === undefined ? false : o.sm === true || o.sm === undefined ? {} : o.sm,
        // With the reconnection part the lifecycle always has a policy (a redirect waits its delay too) and
        // `reconnect: false` is decided here; without it the lifecycle follows only redirects, at once.
        reconnect: this.parts.reconnect === undefined ? false : policy,
      ...(stableAfterMs === undefined ? {} : { stableAfterMs }),
      ...(o.maxQueued === undefined ? {} : { maxQueued: o.maxQueued }),
        ...(previous === undefined && o.resume !== undefined ? { resume: o.resume } : {}),
      },
      this.parts,
    );
    this.drive((l, now) => l.start(now));
  }

  /**
   * Calls into the lifecycle, then writes output, dispatches events and re-arms the one timer — through
   * the current connection's pump when there is one (output goes to it), else directly.
   */
  private drive(fn?: (life: LeanClientLifecycle, now: number) => void): void {
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
        conn.transcript?.record("in", bytes);
        if (current()) this.life!.receive(bytes, now);
      },
      receiveMessage: (message, binary, now) => {
        conn.transcript?.record("in", message);
        if (current()) this.life!.receiveMessage(message, binary, now);
      },
      receiveMessages: (messages, now) => {
        const transcript = conn.transcript;
        if (transcript !== undefined) for (const m of messages) transcript.record("in", m);
        if (current()) this.life!.receiveMessages(messages, now);
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
    // The pump re-arms through the facade's nextTimeout right after its last poll, unless the session has
    // closed (then it asks no more): only then here, not twice per call into the client.
    if (ev === undefined && conn.pump.closed) this.rearm();
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
        this.redirects.online();
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
        if (s.name === "iq") this.onIqStanza(s);
        else if (s.name === "message" || s.name === "presence") {
          this.emitToUser(s.name, s);
          this.matchers.dispatch(s, (fn) => this.callUser(fn));
        }
        for (const sub of this.subscribers) sub.push(s);
        return;
      }
      case "stanza-acked":
        this.emitToUser("acked", ev.stanza);
        return;
      case "stanza-failed":
        this.emitToUser("failed", ev.stanza, ev.reason);
        return;
      case "iq-response":
        this.pending.handleResponse(ev.id, ev.stanza);
        return;
      case "iq-timeout":
        this.pending.handleTimeout(ev.id, this.life?.sessionState === "closed");
        return;
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
        if (ev.seeOtherHost !== undefined) this.redirects.offered(`xmpp:${ev.seeOtherHost}`);
        if (!(this.conn?.error instanceof AuthError)) {
          const se = ev.text === undefined ? { condition: ev.condition as StreamErrorCondition } : { condition: ev.condition as StreamErrorCondition, text: ev.text };
          this.setError(new StreamErrorException(se, ev.byPeer ? "remote" : "local"));
        }
        return;
      }
      case "closed":
        if (ev.seeOtherUri !== undefined) this.redirects.offered(ev.seeOtherUri);
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
    this.transport.connect(this.redirects.takeNext()).then(
      () => {
        // The transport attached and started a session; if it gave up silently, that is a failure.
        if (this.life === life && life.state === "connecting") this.connectFailed(life, new ConnectionError("connect-failed", "the transport opened no session"));
      },
      (err: Error) => {
        if (this.life === life && life.state === "connecting") this.connectFailed(life, err);
      },
    );
  }

  private connectFailed(life: LeanClientLifecycle, err: Error): void {
    this.lastError = err;
    if (this.everOnline && !this.userClosed && this.sink.listenerCount("error") > 0) this.sink.emit("error", err);
    this.drive((_l, now) => life.connectFailed(now));
  }

  private onReconnecting(attempt: number, delayMs: number): void {
    const life = this.life!;
    const decision = this.redirects.decide(this.userClosed, this.transport);
    if (decision.follow) {
      if (this.conn !== undefined) this.conn.redirected = true;
      return;
    }
    if (decision.refused !== undefined && this.lastError === undefined) this.lastError = decision.refused;
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
      // An error (and its stack trace) only for someone still waiting: after a login, nobody is.
      if (this.onlineWaiters.length > 0) this.failOnline(error ?? new ConnectionError("closed", this.userClosed ? "closed by the application" : "connection closed before online"));
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

  /**
   * An IQ that no `iq()` waits for: a request is shown to `iq` listeners and answered exactly once (by a
   * handler, a built-in or `<service-unavailable/>`); a `result`/`error` is ignored (RFC 6120 §8.2.3).
   */
  private onIqStanza(iq: XmlElement): void {
    const type = iq.attr("type");
    if (type !== "get" && type !== "set") return;
    this.emitToUser("iq", iq);
    const onError = (err: Error) => {
      if (this.sink.listenerCount("error") > 0) this.callUser(() => this.sink.emit("error", err));
    };
    const answer = this.iqHandlers.answer(iq, onError);
    if (answer === undefined) return;
    const send = (reply: XmlElement) => {
      const life = this.life;
      // After the client stopped the answer has nowhere to go (the requester's session is gone too).
      if (life !== undefined && life.state !== "stopped" && !this.userClosed) this.drive(() => life.send(reply));
    };
    if (answer instanceof Promise) void answer.then(send);
    else send(answer);
  }

  /** Runs application code; an exception is re-thrown on its own (see {@link ClientController.emitToUser}). */
  private callUser(fn: () => void): void {
    try {
      fn();
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
