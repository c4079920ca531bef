/**
 * The client's whole life as a pure state machine: connect → negotiate → online → lost → reconnect
 * with backoff → resume (XEP-0198) or bind again → online, with `now` passed in. The adapter only does
 * IO: it opens a transport when asked (`connect` event), feeds bytes, writes what `pollTransmit` gives,
 * and calls `handleTimeout` at `nextTimeout`. While the session is not online, `send()` queues (bounded)
 * instead of throwing; the queue is flushed after resumption or binding.
 *
 * @module
 */
import type { XmlElement } from "@xmpp-sansio/xml";
import { type ClientParts, DEFAULT_CLIENT_PARTS, type ReconnectClientPart } from "./client-parts.js";
import { requirePart } from "./require-part.js";
import type { StreamManagementOptions } from "./features/sm/sm.js";
import { parseStanzas, serializeStanzas } from "./features/sm/state.js";
import type { ReconnectPolicyOptions } from "./reconnect.js";
import { SessionStateError } from "./session-base.js";
import { type ClientExtraOptions, ClientSession, LeanClientSession } from "./session-client.js";
import type { ClientEvent, ClientOptions, SessionState, SmState, TlsInfo } from "./session-types.js";
import type { StreamErrorCondition } from "./stream-errors.js";
import { minDefined } from "./util.js";

/** Redirects a lifecycle without the reconnection part follows in a row (RFC 6120 §4.9.3.19: 2 to 5). */
const MAX_REDIRECTS_IN_A_ROW = 5;

/** Stream errors after which reconnecting would only repeat the refusal (or fight another session). */
const FINAL_STREAM_ERRORS: ReadonlySet<string> = new Set<StreamErrorCondition>([
  "conflict",
  "not-authorized",
  "policy-violation",
  "host-unknown",
  "invalid-namespace",
  "unsupported-version",
  "unsupported-encoding",
  "invalid-from",
  "improper-addressing",
]);

/** Settings of {@link ClientLifecycle}. */
export interface ClientLifecycleOptions {
  /**
   * Options of each session (a fresh session per connection). Its `parts` decide what is loaded: with
   * {@link LeanClientLifecycle} only the parts given (`parts: { sm: smClientPart }` for Stream Management);
   * {@link ClientLifecycle} adds the missing ones of `DEFAULT_CLIENT_PARTS`.
   */
  session: ClientOptions & ClientExtraOptions;
  /** XEP-0198 settings, or `false` to not use Stream Management. Default: on, resumable (when its part is loaded). */
  sm?: Omit<StreamManagementOptions, "resume"> | false;
  /**
   * Reconnection policy, or `false` to stop when a connection is lost. Default `LIFECYCLE_RECONNECT_DEFAULTS`
   * when the reconnection part is loaded (`session.parts.reconnect`: {@link ClientLifecycle} loads it;
   * {@link LeanClientLifecycle} without it does not reconnect and throws when given settings here). A
   * `see-other-host`/`see-other-uri` redirect is followed either way: after the backoff delay with the
   * part, at once without it (RFC 6120 §4.9.3.19: the client "SHOULD simply reconnect").
   */
  reconnect?: ReconnectPolicyOptions | false;
  /** A session online this long resets the backoff. Default 60 000 ms. */
  stableAfterMs?: number;
  /** Stanzas `send()` queues while not online. Default 1000; past it `send()` throws `QueueFullError`. */
  maxQueued?: number;
  /** State exported by an earlier process (`exportState()`): resume its session, send its queue. */
  resume?: LifecycleState;
}

/** What a restarted process needs to carry on: the SM session and the stanzas still queued. */
export interface LifecycleState {
  /** Format version of this JSON; 1 is the only one. */
  readonly v: 1;
  /** The XEP-0198 session to resume, when there was a resumable one. */
  readonly sm?: SmState;
  /** Stanzas queued but never sent, serialized (`jabber:client`). */
  readonly queued: readonly string[];
}

/** Open a transport now; then call `connected(now)`, or `connectFailed(now)` if it could not be opened. */
export interface ConnectRequestEvent {
  readonly type: "connect";
  /** 0 for the first connection, then 1, 2, … since the last stable session. */
  readonly attempt: number;
}

/**
 * The connection was lost; the next attempt comes in `delayMs`. Without the reconnection part only a
 * redirect offered by the lost session (`see-other-host`, `see-other-uri`) is followed, with `delayMs` 0.
 */
export interface ReconnectingEvent {
  readonly type: "reconnecting";
  /** 1, 2, … since the last stable session. */
  readonly attempt: number;
  /** Milliseconds until the next `connect` event (backoff with full jitter). */
  readonly delayMs: number;
}

/** The lifecycle is over: the application closed it, or reconnecting cannot help (`reason`). */
export interface StoppedEvent {
  readonly type: "stopped";
  /**
   * `closed`: `close()` was called; `auth-failed`, `bind-failed`: the account or resource was refused;
   * `stream-error`: one that reconnecting would repeat (`conflict`, `policy-violation`, …); `no-reconnect`:
   * reconnection is off.
   */
  readonly reason: "closed" | "auth-failed" | "bind-failed" | "stream-error" | "no-reconnect";
  /** The SASL, stanza or stream error condition behind `reason`, if any. */
  readonly condition?: string;
}

/** Events of the lifecycle: the current session's, plus its own. */
export type LifecycleEvent = ClientEvent | ConnectRequestEvent | ReconnectingEvent | StoppedEvent;

/** Where a lifecycle stands. */
export type LifecycleStateKind = "idle" | "connecting" | "session" | "backoff" | "stopped";

/** `send()` while the queue is full: the application must slow down (a programming-level signal). */
export class QueueFullError extends TypeError {
  override readonly name = "QueueFullError";
}

/**
 * The lifecycle with only the optional parts given in `session.parts` (Stream Management with
 * `smClientPart`, SASL2 with `sasl2ClientPart`): what a small bundle uses. {@link ClientLifecycle} loads them all.
 *
 * @example
 * ```ts
 * const life = new ClientLifecycle({ session: { jid: "bot@example.com", password } });
 * life.start(now);
 * // loop: on "connect" open a socket, then life.connected(now); bytes → life.receive(bytes, now);
 * // write life.pollTransmit(); handle life.pollEvent() (stanzas, online, …); timer at life.nextTimeout().
 * life.send(xml("message", { to: "juliet@example.com" }, xml("body", {}, "hi"))); // queued until online
 * ```
 */
export class LeanClientLifecycle {
  private kind: LifecycleStateKind = "idle";
  private current: LeanClientSession | undefined;
  private readonly policy: ReturnType<ReconnectClientPart> | undefined;
  private readonly maxQueued: number;
  private readonly stableAfterMs: number;
  private queue: XmlElement[];
  private sm: SmState | undefined;
  private readonly events: LifecycleEvent[] = [];
  private reconnectAt: number | undefined;
  private stableAt: number | undefined;
  private closing = false;
  private now = 0;

  /**
   * @param defaultParts - the parts loaded when `session.parts` does not name them (none here;
   *   `DEFAULT_CLIENT_PARTS` with {@link ClientLifecycle}). `session` is read at each connection.
   */
  constructor(
    private readonly options: ClientLifecycleOptions,
    private readonly defaultParts: ClientParts = {},
  ) {
    requirePart(this.parts.sm, options.sm, ["sm", "smClientPart"], "ClientLifecycle", "session.parts");
    const reconnect = this.parts.reconnect;
    requirePart(reconnect, options.reconnect, ["reconnect", "reconnectClientPart"], "ClientLifecycle", "session.parts");
    this.policy = options.reconnect === false ? undefined : reconnect?.(options.reconnect ?? {});
    this.maxQueued = options.maxQueued ?? 1000;
    this.stableAfterMs = options.stableAfterMs ?? 60_000;
    this.queue = parseStanzas(options.resume?.queued ?? [], "lifecycle state: queued");
    this.sm = options.resume?.sm;
  }

  /**
   * The session of one connection: a {@link LeanClientSession}, whose `framing` must be a value
   * (`streamFraming`, `webSocketFraming`); {@link ClientLifecycle} makes a full `ClientSession`.
   */
  protected createSession(options: ClientOptions & ClientExtraOptions): LeanClientSession {
    return new LeanClientSession(options);
  }

  /** The parts loaded: `session.parts` over the defaults. */
  private get parts(): ClientParts {
    return { ...this.defaultParts, ...this.options.session.parts };
  }

  /** Where the lifecycle stands. */
  get state(): LifecycleStateKind {
    return this.kind;
  }

  /** The current session (a new one per connection), if any. */
  get session(): LeanClientSession | undefined {
    return this.current;
  }

  /** The current session's state, or `closed` between sessions. */
  get sessionState(): SessionState {
    return this.current?.state ?? "closed";
  }

  /** Stanzas waiting for the session to be online. */
  get queued(): number {
    return this.queue.length;
  }

  /** Starts: asks for the first connection. */
  start(now: number): void {
    if (this.kind !== "idle") throw new SessionStateError("start() was already called");
    this.now = now;
    this.kind = "connecting";
    this.events.push({ type: "connect", attempt: 0 });
  }

  /** The adapter opened the transport (after a `connect` event): a new session starts on it. */
  connected(now: number, tls?: TlsInfo): void {
    if (this.kind !== "connecting") throw new SessionStateError("connected() without a pending connect event");
    this.now = now;
    const features = [...(this.options.session.features ?? [])];
    const parts = this.parts;
    if (parts.sm !== undefined && this.options.sm !== false) features.unshift(parts.sm.feature({ ...this.options.sm, ...(this.sm === undefined ? {} : { resume: this.sm }) }));
    this.sm = undefined;
    this.current = this.createSession({ ...this.options.session, features, parts });
    if (tls !== undefined) this.current.tlsEstablished(tls, now);
    this.kind = "session";
    this.current.start(now);
  }

  /** The transport could not be opened. */
  connectFailed(now: number): void {
    if (this.kind !== "connecting") throw new SessionStateError("connectFailed() without a pending connect event");
    this.now = now;
    this.lost(undefined);
  }

  /** Bytes from the transport. */
  receive(bytes: Uint8Array, now: number): void {
    this.now = now;
    this.current?.receive(bytes, now);
  }

  /** One WebSocket message. */
  receiveMessage(message: string | Uint8Array, binary: boolean, now: number): void {
    this.now = now;
    this.current?.receiveMessage(message, binary, now);
  }

  /**
   * The text messages of one WebSocket read, in order: what one {@link receiveMessage} per message does,
   * in one pass of the session (see the session's `receiveMessages`).
   */
  receiveMessages(messages: readonly (string | Uint8Array)[], now: number): void {
    this.now = now;
    this.current?.receiveMessages(messages, now);
  }

  /** TLS is up after a `starttls` event. */
  tlsEstablished(info: TlsInfo, now: number): void {
    this.now = now;
    this.current?.tlsEstablished(info, now);
  }

  /** The transport closed or failed. */
  transportClosed(now: number): void {
    this.now = now;
    this.current?.transportClosed(now);
  }

  /** Output for the transport. */
  pollTransmit(): Uint8Array | undefined {
    return this.current?.pollTransmit();
  }

  /** Next event: the session's (in order), with the lifecycle's own among them. */
  pollEvent(): LifecycleEvent | undefined {
    for (;;) {
      const own = this.events.shift();
      if (own !== undefined) return own;
      const s = this.current;
      const ev = s?.pollEvent();
      if (ev === undefined) return undefined;
      this.observe(s!, ev);
      return ev;
    }
  }

  /** When `handleTimeout` must be called. */
  nextTimeout(): number | undefined {
    // Asked after every call into the client (twice per sent stanza): no arrays.
    return minDefined(minDefined(this.current?.nextTimeout(), this.reconnectAt), this.stableAt);
  }

  /** Runs what is due at `now`: the session's timers, the reconnection delay, the stable-session reset. */
  handleTimeout(now: number): void {
    this.now = now;
    if (this.stableAt !== undefined && now >= this.stableAt) {
      this.stableAt = undefined;
      this.policy?.reset();
    }
    if (this.kind === "backoff" && this.reconnectAt !== undefined && now >= this.reconnectAt) {
      this.reconnectAt = undefined;
      this.kind = "connecting";
      this.events.push({ type: "connect", attempt: this.policy?.attempts ?? this.redirects });
      return;
    }
    this.current?.handleTimeout(now);
  }

  /**
   * Sends a stanza now if online, else queues it (bounded) for after resumption or binding.
   * @throws QueueFullError when `maxQueued` stanzas wait; SessionStateError after `stop`.
   */
  send(stanza: XmlElement): void {
    if (this.kind === "stopped" || this.closing) throw new SessionStateError("send() after close()");
    if (this.current?.state === "online") {
      this.current.send(stanza);
      return;
    }
    if (this.queue.length >= this.maxQueued) throw new QueueFullError(`${this.maxQueued} stanzas already wait for the session`);
    this.queue.push(stanza);
  }

  /** Ends for good: closes the session gracefully (or stops waiting to reconnect). */
  close(now: number): void {
    this.now = now;
    this.closing = true;
    this.reconnectAt = undefined;
    if (this.current !== undefined && this.current.state !== "closed") this.current.close(now);
    else this.stop("closed");
  }

  /**
   * What a new process needs to carry on (JSON-safe after serializing the stanzas): the resumable SM
   * state and the queued stanzas. Stanzas the session reported as not delivered are the application's.
   */
  exportState(): LifecycleState {
    const sm = this.sm ?? (this.current === undefined ? undefined : this.parts.sm?.state(this.current));
    return { v: 1, ...(sm === undefined ? {} : { sm }), queued: serializeStanzas(this.queue) };
  }

  private observe(s: LeanClientSession, ev: ClientEvent): void {
    switch (ev.type) {
      case "online": {
        this.stableAt = this.now + this.stableAfterMs;
        this.redirects = 0;
        const queued = this.queue;
        this.queue = [];
        for (const stanza of queued) {
          if (s.state !== "online") {
            this.queue.push(stanza);
            continue;
          }
          s.send(stanza);
        }
        return;
      }
      case "closed": {
        this.stableAt = undefined;
        if (ev.seeOtherUri !== undefined) this.redirected = true;
        if (this.closing) {
          this.stop("closed");
          return;
        }
        this.sm = this.parts.sm?.state(s);
        if (ev.reason === "auth-failed") this.stop("auth-failed");
        else if (this.lastError !== undefined && FINAL_STREAM_ERRORS.has(this.lastError)) this.stop("stream-error", this.lastError);
        else if (this.bindFailed) this.stop("bind-failed");
        else this.lost(this.lastError);
        this.lastError = undefined;
        return;
      }
      case "stream-error":
        this.lastError = ev.condition;
        if (ev.seeOtherHost !== undefined) this.redirected = true;
        return;
      case "bind-failed":
        this.bindFailed = true;
        return;
      default:
    }
  }

  private lastError: string | undefined;
  private bindFailed = false;
  /** The lost session offered a redirect (`see-other-host`, `see-other-uri`). */
  private redirected = false;
  /** Redirects followed in a row without the reconnection part (reset online). */
  private redirects = 0;

  private lost(_condition: string | undefined): void {
    const policy = this.policy;
    const redirected = this.redirected;
    this.redirected = false;
    // Without a policy only a redirect is followed, at once, and at most MAX_REDIRECTS_IN_A_ROW times in
    // a row (RFC 6120 §4.9.3.19: give up after a few; the adapters allow fewer).
    if (policy === undefined && (!redirected || this.redirects >= MAX_REDIRECTS_IN_A_ROW)) {
      this.stop("no-reconnect");
      return;
    }
    const delayMs = policy === undefined ? 0 : policy.nextDelay();
    this.kind = "backoff";
    this.reconnectAt = this.now + delayMs;
    this.events.push({ type: "reconnecting", attempt: policy === undefined ? ++this.redirects : policy.attempts, delayMs });
  }

  private stop(reason: StoppedEvent["reason"], condition?: string): void {
    if (this.kind === "stopped") return;
    this.kind = "stopped";
    this.reconnectAt = undefined;
    this.events.push(condition === undefined ? { type: "stopped", reason } : { type: "stopped", reason, condition });
  }
}

/**
 * The client's lifecycle with every optional part loaded: {@link LeanClientLifecycle} with the parts of
 * `DEFAULT_CLIENT_PARTS` not given in `session.parts` (Stream Management and SASL2; switch them off with
 * `sm: false`, `session.sasl2: false`).
 */
export class ClientLifecycle extends LeanClientLifecycle {
  constructor(options: ClientLifecycleOptions) {
    super(options, DEFAULT_CLIENT_PARTS);
  }

  /** A full {@link ClientSession}: the `framing` option may name the framing (`"stream"`, `"websocket"`). */
  protected override createSession(options: ClientOptions & ClientExtraOptions): LeanClientSession {
    return new ClientSession(options);
  }
}
