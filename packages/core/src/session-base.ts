/**
 * What both roles of the session share: the sans-IO surface (receive → events → pollTransmit →
 * nextTimeout), the stream open/restart/close machinery over either framing, fatal (sticky) stream
 * errors, timers, and the helpers both state machines use. The session's features are a `FeatureSet`
 * (feature-set.ts); the context handed to them is made by its base class (feature-context.ts).
 *
 * @module
 */
import { DEFAULT_XML_LIMITS, NS_CLIENT, NS_STREAMS, type XmlElement, type XmlLimits } from "@xmpp-sansio/xml";
import type { Jid } from "@xmpp-sansio/jid";
import { FeatureContextHost } from "./feature-context.js";
import { FeatureSet } from "./feature-set.js";
import type { FeatureContext, FeatureHooks, StreamFeature, StreamFlags } from "./features/types.js";
import type { StanzaErrorCondition } from "./stanza-errors.js";
import { framingOf, type SessionFraming } from "./framings.js";
import type { FramingStrategy, HeaderAttributes, InputEvent } from "./session-framing.js";
import type {
  ClosedEvent,
  SessionOptions,
  SessionState,
  SessionTimeouts,
  StreamErrorEvent,
  TlsInfo,
} from "./session-types.js";
import { OutputQueue } from "./output-queue.js";
import { coarseState, type Transition, transition } from "./state.js";
import { buildStreamError, parseStreamError, type StreamErrorCondition } from "./stream-errors.js";
import { base64url, type SessionConfig, sharedConfig, sharedMerge, withoutChannelBinding } from "./shared-options.js";

export { NS_SASL, NS_SASL_CB } from "./features/sasl.js";
export { NS_TLS } from "./features/starttls.js";
export { definedOnly, el, isStanza, parseStreamVersion, type StreamVersion, trimmedText } from "./util.js";
import { defaultRandom, minDefined } from "./util.js";

export { NS_BIND } from "./features/bind.js";
export { NS_SESSION } from "./features/session.js";
export { DEFAULT_KEEPALIVE_MS, DEFAULT_MAX_PENDING_OUTPUT_BYTES, DEFAULT_PRE_AUTH_LIMITS, DEFAULT_TIMEOUTS, SessionStateError } from "./session-shared.js";
import { defineBitFlags } from "./bit-flags.js";
import { DEFAULT_MAX_PENDING_OUTPUT_BYTES, DEFAULT_PRE_AUTH_LIMITS, FLAGS, NO_HOOKS, ROLE_TIMEOUTS, SECURE, SessionStateError, withFlag } from "./session-shared.js";

/**
 * The machinery both {@link ClientSession} and {@link ServerSession} are built on, given its framing as a
 * value (so that it references neither framing itself: a WebSocket bundle holds only the WebSocket one).
 * Not exported from the package: use the role classes.
 * @internal
 */
export abstract class LeanSessionBase<E extends { readonly type: string }, K extends string, H extends FeatureHooks<C>, C extends FeatureContext<E>> extends FeatureContextHost<C> {
  /** The detailed state (a {@link ClientState} / {@link ServerState} kind); `state` is its coarse form. */
  protected kind: K = "idle" as K;
  /** What the session took from its options: one frozen object shared by the sessions with equal options. */
  private readonly config: SessionConfig;
  /** The framing strategy: RFC 6120 stream or RFC 7395 WebSocket. */
  protected readonly framing: FramingStrategy;
  /** Output taken from the framing to be measured, not yet polled (made when needed, dropped by `trim()` when empty). */
  private out: OutputQueue | undefined;

  // The shared empty array while no event is pending (an idle session holds none of its own).
  private events: E[] = NO_HOOKS;
  private eventHead = 0;

  /** The latest `now` we were given. */
  protected now = 0;
  /** Before authentication: when the stream ends with `<connection-timeout/>` (`timeouts.negotiationMs`). */
  protected negotiationDeadline: number | undefined;
  /** Closing: when we stop waiting for the peer's end of stream. */
  protected closeDeadline: number | undefined;
  /** Questions pending with the application, or a hand-over: input stays buffered, unparsed. */
  declare protected paused: boolean;
  /** Our stream header for the current stream has been written. */
  declare protected headerSent: boolean;
  /**
   * What the stream has achieved (flags only ever go from false to true): one of eight shared frozen
   * objects, replaced as a flag is set (`withFlag`) — no object of its own per session.
   */
  protected flagState: StreamFlags = FLAGS[0]!;
  /** TLS facts once TLS is up (channel binding, peer identities). */
  protected tls: TlsInfo | undefined;
  /** The bound full JID, once online. */
  protected boundJid: Jid | undefined;
  /** Server: the authenticated account (localpart). */
  protected username: string | undefined;
  /** Client: the configured account (bare JID). */
  protected account: Jid | undefined;
  /** Server: the domain this stream serves. */
  protected domain: string | undefined;
  /** Server: the peer's `from` on its stream header, if it was a valid JID. */
  protected peerFrom: string | undefined;
  declare private pumping: boolean;
  /** @internal the boolean fields as bits (`defineBitFlags` below; a role class adds its own from `SESSION_FLAGS` up) */
  protected bits = 0;
  /**
   * The loaded features and this session's half of each, with the hook lists derived from them: a value
   * replaced, never changed (the role constructors load it; online, a server session's is shared).
   */
  protected features: FeatureSet<C, H> = FeatureSet.EMPTY;
  /** Content namespace (RFC 6120 §4.8.2): `jabber:client`; `jabber:server` (s2s), `jabber:component:accept`. */
  protected contentNs: string = NS_CLIENT;
  /** The peer's stream header may lack `version` (XEP-0114 component streams); a given one must still be 1.x. */
  declare protected versionless: boolean;

  /** Keepalive: the last input (online), and the deadline of an unanswered probe. */
  private lastInput = 0;
  private probeDeadline: number | undefined;

  constructor(options: SessionOptions, table: { readonly [S in K]: Partial<Record<Transition, K>> }, role: "client" | "server", framing: SessionFraming) {
    super(role);
    // Shared frozen objects: every session with equal options holds the same ones (not copies of its own).
    const fullLimits = sharedMerge(DEFAULT_XML_LIMITS, options.limits);
    const maxPendingOutput = options.maxPendingOutputBytes ?? DEFAULT_MAX_PENDING_OUTPUT_BYTES;
    if (!(maxPendingOutput > 0)) throw new RangeError("maxPendingOutputBytes must be a positive number");
    this.config = sharedConfig({
      table,
      lang: options.lang ?? "en",
      timeouts: sharedMerge<SessionTimeouts>(ROLE_TIMEOUTS[role], options.timeouts),
      fullLimits,
      preAuthLimits: sharedMerge(sharedMerge(fullLimits, DEFAULT_PRE_AUTH_LIMITS), options.preAuthLimits),
      randomFill: options.random ?? defaultRandom,
      maxPendingOutput,
    });
    this.framing = framing.create(this.preAuthLimits);
  }

  private get table(): { readonly [S in K]: Partial<Record<Transition, K>> } {
    return this.config.table as { readonly [S in K]: Partial<Record<Transition, K>> };
  }
  /** `xml:lang` of our stream header. */
  protected get lang(): string {
    return this.config.lang;
  }
  /** Deadlines (ms), defaults merged with the options. */
  protected get timeouts(): SessionTimeouts {
    return this.config.timeouts;
  }
  /** XML limits once authenticated. */
  protected get fullLimits(): Partial<XmlLimits> {
    return this.config.fullLimits;
  }
  /** XML limits before authentication (smaller). */
  protected get preAuthLimits(): Partial<XmlLimits> {
    return this.config.preAuthLimits;
  }
  private get randomFill(): (bytes: Uint8Array) => void {
    return this.config.randomFill;
  }
  private get maxPendingOutput(): number {
    return this.config.maxPendingOutput;
  }

  /**
   * Lets go of memory kept only for speed — the output buffer, an empty output queue and the serializer's namespace bookkeeping —
   * while no output is pending; the next write allocates them again. For adapters, on a connection that has
   * been idle for a while (an idle session then holds no output bytes). Harmless at any time.
   */
  trim(): void {
    if (!this.framing.hasOutput) this.framing.trim();
    if (this.out?.empty === true) this.out = undefined; // made again when output is held
  }

  /** Where the session stands (coarse; see `docs/core.md` for the detailed states). */
  get state(): SessionState {
    return coarseState(this.kind as never);
  }

  /** The detailed state kind (one of the role's transition table). */
  get detailedState(): K {
    return this.kind;
  }

  /** What the stream has achieved so far. */
  get flags(): StreamFlags {
    return this.flagState;
  }

  /** Whether the transport is protected by TLS (STARTTLS completed, Direct TLS, or wss:). */
  protected get secured(): boolean {
    return this.flagState.secure;
  }

  /**
   * Moves along the role's transition table. An illegal transition is a bug of a feature (never a peer's
   * doing: features check their input first), reported as a `SessionStateError`.
   */
  protected go(t: Transition): void {
    const to = transition(this.table, this.kind, t);
    if (to === undefined) throw new SessionStateError(`illegal transition '${t}' from state '${this.kind}'`);
    this.kind = to;
  }

  /** The loaded features, in negotiation order (of {@link features}). */
  protected get defs(): readonly StreamFeature[] {
    return this.features.defs;
  }

  /** This session's half of each loaded feature, parallel to `defs` (of {@link features}). */
  protected get halves(): readonly H[] {
    return this.features.halves;
  }

  /** Writes a stanza and runs the outbound hooks (counting, holding for acknowledgement). */
  protected writeStanza(stanza: XmlElement): void {
    this.write(stanza);
    this.features.observeOutbound(stanza, this.ctx);
  }

  // ---------------------------------------------------------------------------------------------------
  // The sans-IO surface

  /**
   * Stream framing: bytes from the transport, in any chunking. Ignored once the session is closed (errors
   * are sticky). @throws SessionStateError with WebSocket framing, or during the STARTTLS hand-over
   * (those bytes belong to TLS).
   */
  receive(bytes: Uint8Array, now: number): void {
    if (this.framing.kind !== "stream") throw new SessionStateError("receive() is for stream framing; use receiveMessage() with WebSocket framing");
    this.input(bytes, now);
  }

  /**
   * WebSocket framing: one received message. A binary frame is refused with `<unsupported-encoding/>`
   * (RFC 7395 §3.2 requires text frames). @throws SessionStateError with stream framing.
   */
  receiveMessage(message: string | Uint8Array, binary: boolean, now: number): void {
    if (this.framing.kind !== "websocket") throw new SessionStateError("receiveMessage() is for WebSocket framing; use receive() with stream framing");
    if (this.kind === "closed") return;
    this.tick(now);
    if (binary) {
      this.fatal("unsupported-encoding", "RFC 7395 §3.2: XMPP over WebSocket uses text frames only");
      return;
    }
    this.input(typeof message === "string" ? UTF8.encode(message) : message, now);
  }

  /**
   * WebSocket framing: the text messages of one transport read, in order — what one {@link receiveMessage}
   * per message does, in one pass: their elements are handled in order, clean messages are parsed
   * together (one parser pass instead of one per message; the events are the same, each message still
   * has to be exactly one element), and the output cap is measured once, after all of them, as for a
   * read of stream framing. @throws SessionStateError with stream framing.
   */
  receiveMessages(messages: readonly (string | Uint8Array)[], now: number): void {
    if (this.framing.kind !== "websocket") throw new SessionStateError("receiveMessages() is for WebSocket framing; use receive() with stream framing");
    if (this.kind === "closed" || messages.length === 0) return;
    this.input(messages, now);
  }

  private input(bytes: Uint8Array | readonly (string | Uint8Array)[], now: number): void {
    if (this.kind === "closed") return;
    if (this.kind === "tls-handshake") {
      throw new SessionStateError("receive() during the STARTTLS hand-over: these bytes belong to TLS; call tlsEstablished() first");
    }
    this.tick(now);
    this.lastInput = this.now;
    this.probeDeadline = undefined;
    this.beforeInput();
    if ((this.kind as string) === "closed") return;
    const batch = !(bytes instanceof Uint8Array);
    if (batch) for (const m of bytes) this.framing.push(typeof m === "string" ? UTF8.encode(m) : m);
    else this.framing.push(bytes);
    if (this.overBuffered()) return;
    this.pump();
    // Messages of a batch left waiting when a question paused the session halfway through them: as if
    // they had come one by one, each pushed while paused.
    if (batch && this.overBuffered()) return;
    this.checkPendingOutput();
  }

  /** While waiting for the application, input is only buffered: past `maxBufferedBytes` the stream ends. */
  private overBuffered(): boolean {
    const max = this.fullLimits.maxBufferedBytes ?? DEFAULT_XML_LIMITS.maxBufferedBytes;
    if (!this.paused || this.framing.bufferedBytes <= max) return false;
    this.fatal("policy-violation", `more than ${max} bytes buffered while waiting for the application`);
    return true;
  }

  /**
   * The output cap (RFC 6120 §4.9.3.17): measured after each input, when a peer can have made us produce
   * output (answers, errors, and whatever the application sent since). A peer that keeps sending but
   * never reads would otherwise grow our output without bound; past `maxPendingOutputBytes` the stream
   * ends with `<resource-constraint/>` (the stream error and `</stream:stream>` are still queued and
   * drainable, so the cap is exceeded by at most their size).
   */
  private checkPendingOutput(): void {
    if (this.kind === "closed" || !this.framing.hasOutput) return;
    const out = (this.out ??= new OutputQueue());
    out.take(this.framing);
    if (out.bytes > this.maxPendingOutput) {
      this.fatal("resource-constraint", `more than ${this.maxPendingOutput} bytes of output not read by the peer`);
    }
  }

  /** Bytes of output held for the transport (not yet returned by `pollTransmit`), as last measured. */
  get pendingOutputBytes(): number {
    return this.out?.bytes ?? 0;
  }

  /** Hook: called before input is parsed (the server arms its negotiation timer here). */
  protected beforeInput(): void {}

  /**
   * The part of `tlsEstablished` both roles share. Before the stream has started (Direct TLS, `wss:`) it
   * only records the TLS facts and returns false. After a `starttls` event it also discards the parser
   * state from before TLS (RFC 6120 §5.4.3.3: a fresh parser starts the new stream) and returns true: the
   * role then resets what it had learned and restarts the stream.
   */
  protected acceptTls(info: TlsInfo, beforeStart: boolean): boolean {
    if (!beforeStart && this.kind !== "tls-handshake") throw new SessionStateError("tlsEstablished() without a starttls event");
    this.flagState = withFlag(this.flagState, SECURE);
    this.tls = info;
    if (beforeStart) return false;
    this.framing.renew(this.preAuthLimits);
    this.go("tls-established");
    for (const h of this.halves) h.handleRestart?.();
    return true;
  }

  /** The transport was closed by the peer or failed. */
  transportClosed(now: number): void {
    if (this.kind === "closed") return;
    this.tick(now);
    this.finish("transport-closed");
  }

  /** Next output: for stream framing all pending bytes, for WebSocket one message. */
  pollTransmit(): Uint8Array | undefined {
    return this.out === undefined ? this.framing.poll() : this.out.poll(this.framing);
  }

  /** Next event, in order. */
  pollEvent(): E | undefined {
    if (this.eventHead >= this.events.length) return undefined;
    const ev = this.events[this.eventHead]!;
    this.events[this.eventHead++] = undefined as unknown as E;
    if (this.eventHead === this.events.length) {
      this.events = NO_HOOKS;
      this.eventHead = 0;
    }
    return ev;
  }

  /** Earliest `now` at which `handleTimeout` must be called, if any. */
  nextTimeout(): number | undefined {
    if (this.kind === "closed") return undefined;
    let t = minDefined(minDefined(this.negotiationDeadline, this.closeDeadline), this.extraDeadline());
    if (this.kind === "online") t = minDefined(t, this.probeDeadline ?? this.lastInput + this.timeouts.keepaliveMs);
    for (const h of this.halves) if (h.nextTimeout !== undefined) t = minDefined(t, h.nextTimeout());
    return t;
  }

  /** Hook for role-specific deadlines (tracked IQs). */
  protected extraDeadline(): number | undefined {
    return undefined;
  }

  /** Call at (or after) the instant `nextTimeout()` gave. */
  handleTimeout(now: number): void {
    if (this.kind === "closed") return;
    this.tick(now);
    if (this.closeDeadline !== undefined && now >= this.closeDeadline) {
      this.finish("timeout");
      return;
    }
    if (this.negotiationDeadline !== undefined && now >= this.negotiationDeadline) {
      this.fatal("connection-timeout", `stream negotiation did not complete within ${this.timeouts.negotiationMs} ms`);
      return;
    }
    if (this.kind === "online") {
      if (this.probeDeadline !== undefined && now >= this.probeDeadline) {
        this.fatal("connection-timeout", `no answer to a keepalive probe within ${this.timeouts.keepaliveAnswerMs} ms`);
        return;
      }
      if (this.probeDeadline === undefined && now >= this.lastInput + this.timeouts.keepaliveMs) this.probe();
    }
    this.onTimeout(now);
    for (const h of this.halves) {
      if ((this.kind as string) === "closed") return;
      const due = h.nextTimeout?.();
      if (due !== undefined && now >= due) h.handleTimeout?.(now, this.ctx);
    }
  }

  /** Sends a keepalive probe: a feature's (XEP-0198 `<r/>`) or the role's own. */
  private probe(): void {
    let answered = false;
    for (const h of this.halves) {
      if (h.handleProbe?.(this.ctx) === true) {
        answered = true;
        break;
      }
    }
    if (!answered) answered = this.defaultProbe();
    if (answered) this.probeDeadline = this.now + this.timeouts.keepaliveAnswerMs;
    else this.lastInput = this.now; // nothing will answer: probe again after another idle period
  }

  /**
   * The role's keepalive when no feature probes: writes it and returns whether the peer must answer it
   * (client: a XEP-0199 ping; server: a whitespace keepalive, which no one answers).
   */
  protected abstract defaultProbe(): boolean;

  /** Hook for role-specific timers. */
  protected onTimeout(_now: number): void {}

  /**
   * Starts a graceful close: `</stream:stream>` (or `<close/>`), then waits up to `closeMs` for the peer's.
   * Does nothing if the session is already closing or closed.
   */
  close(now: number): void {
    if (this.kind === "closed" || this.kind === "closing") return;
    this.tick(now);
    if (this.kind === "idle" && !this.headerSent) {
      this.finish("closed");
      return;
    }
    if (!this.headerSent) this.writeHeader();
    this.beforeClosing();
    this.framing.writeClose();
    this.go("close");
    this.negotiationDeadline = undefined;
    this.closeDeadline = now + this.timeouts.closeMs;
  }

  /**
   * Ends the session at once with a stream error of our choosing (RFC 6120 §4.9.1.1) — e.g.
   * `system-shutdown`, `conflict` (a newer session replaced this one), `internal-server-error` (the
   * application failed), `policy-violation`. Queues `<stream:error/>` and `</stream:stream>` (or
   * `<close/>`), preceded by our stream header if none was sent yet (§4.9.1.2); emits `stream-error`
   * (`byPeer: false`) and `closed` (`reason: "stream-error"`). Sticky: further input is ignored; the queued
   * output stays drainable. Nothing is written if we already sent our end of the stream (`closing`); a
   * closed session ignores the call.
   */
  abort(condition: StreamErrorCondition, text: string | undefined, now: number): void {
    if (this.kind === "closed") return;
    this.tick(now);
    this.fatal(condition, text);
  }

  /** Answers a stanza with a stanza error (server; the client role never needs it). */
  protected replyError(_stanza: XmlElement, _condition: StanzaErrorCondition, _text?: string): void {
    throw new SessionStateError("replyError() is for the server role");
  }

  /** Goes online: the `online` event (with `resumed` after XEP-0198 resumption). */
  protected goOnline(resumed: boolean): void {
    const jid = this.boundJid!;
    this.lastInput = this.now;
    if (this.tls !== undefined) this.tls = withoutChannelBinding(this.tls); // authentication is over: ≈0.5 KiB less per session
    this.go("bound");
    this.negotiationDone();
    this.emit((resumed ? { type: "online", jid, resumed: true } : { type: "online", jid }) as never);
  }

  /** Lets the features write their last words before our end of the stream (XEP-0198 `<a/>`). */
  private beforeClosing(): void {
    if (this.kind !== "online") return;
    for (const h of this.halves) h.handleClosing?.(this.ctx);
  }

  /** This session's half of the feature named `name` (e.g. `"sm"`), if loaded. */
  featureHalf(name: string): H | undefined {
    return this.features.half(name);
  }

  /** Resets the parser at the current byte and starts a new stream (RFC 6120 §6.4.6 after SASL). */
  protected restartStream(): void {
    this.framing.restart();
    for (const h of this.halves) h.handleRestart?.();
  }

  // ---------------------------------------------------------------------------------------------------
  // For the roles

  /** Advances the session's clock to `now` (never backwards); a non-number throws `SessionStateError`. */
  protected tick(now: number): void {
    if (typeof now !== "number" || Number.isNaN(now)) throw new SessionStateError("`now` must be a number (milliseconds on a monotonic clock)");
    if (now > this.now) this.now = now;
  }

  /** Queues an event for `pollEvent`. */
  protected emit(ev: E | StreamErrorEvent | ClosedEvent): void {
    if (this.events === NO_HOOKS) this.events = [];
    this.events.push(ev as E);
  }

  /** Fills `n` random bytes from the injected source. */
  protected randomBytes(n: number): Uint8Array {
    const b = new Uint8Array(n);
    this.randomFill(b);
    return b;
  }

  /** A random identifier with 128 bits of entropy (stream ids, RFC 6120 §4.7.3), base64url without padding. */
  protected randomId(bytes = 16): string {
    return base64url(this.randomBytes(bytes));
  }

  /** Our stream header for the current stream. */
  protected abstract headerAttributes(): HeaderAttributes;

  /** Writes our stream header for the current stream. */
  protected writeHeader(): void {
    this.framing.writeOpen(this.headerAttributes());
    this.headerSent = true;
  }

  /** Writes one element; stanzas built without a namespace get the content namespace (`jabber:client`). */
  protected write(el: XmlElement): void {
    if (el.ns === "") el.adoptNamespace(this.contentNs);
    this.framing.writeElement(el);
  }

  /** Parses buffered input until it runs out, the session pauses (question, hand-over) or ends. */
  protected pump(): void {
    if (this.pumping) return; // re-entrancy: an answer given while dispatching resumes in the outer loop
    this.pumping = true;
    try {
      while (!this.paused && this.kind !== "closed" && this.kind !== "tls-handshake") {
        const ev = this.framing.next();
        if (ev === undefined) break;
        this.dispatch(ev);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Resumes parsing after the application answered a question. */
  protected resume(): void {
    this.paused = false;
    this.pump();
  }

  private dispatch(ev: InputEvent): void {
    switch (ev.kind) {
      case "error":
        this.fatal(ev.condition, ev.text);
        return;
      case "close":
        this.onPeerClose(ev.seeOtherUri);
        return;
      case "open":
        this.onOpen(ev.element, ev.namespaces);
        return;
      case "element": {
        const el = ev.element;
        if (el.ns === NS_STREAMS && el.name === "error") {
          this.onPeerStreamError(el);
          return;
        }
        if (this.kind === "closing") {
          // RFC 6120 §4.4: after our close, the peer may still send data; it is not processed — except a
          // feature's nonzas (XEP-0198 §7: the peer's last <a/> tells what it handled).
          this.features.ownerOf(el.ns)?.handleElement(el, this.ctx);
          return;
        }
        this.onElement(el);
      }
    }
  }

  /** Checks the parts of a received stream header that both roles check (RFC 6120 §4.7, §4.8). */
  protected checkHeader(el: XmlElement, namespaces: ReadonlyMap<string, string>): boolean {
    if (this.framing.kind === "stream") {
      if (el.ns !== NS_STREAMS) {
        this.fatal("invalid-namespace", `the stream namespace must be '${NS_STREAMS}' (RFC 6120 §4.8.1)`);
        return false;
      }
      if (el.name !== "stream") {
        this.fatal("bad-format", "the root element must be <stream/> (RFC 6120 §4.7)");
        return false;
      }
      // §4.8.2: the content namespace is declared as the default namespace of the stream header.
      if (namespaces.get("") !== this.contentNs) {
        this.fatal("invalid-namespace", `the content namespace must be '${this.contentNs}' (RFC 6120 §4.8.2)`);
        return false;
      }
    }
    return true;
  }

  /** A received stream header (or `<open/>`). */
  protected abstract onOpen(el: XmlElement, namespaces: ReadonlyMap<string, string>): void;
  /** A received first-level element other than `<stream:error/>`. */
  protected abstract onElement(el: XmlElement): void;

  private onPeerStreamError(el: XmlElement): void {
    const err = parseStreamError(el);
    const ev: StreamErrorEvent & { seeOtherHost?: string; applicationCondition?: XmlElement } = {
      type: "stream-error",
      condition: err.condition,
      byPeer: true,
      ...(err.text === undefined ? {} : { text: err.text }),
      ...(err.seeOtherHost === undefined ? {} : { seeOtherHost: err.seeOtherHost }),
      ...(err.applicationCondition === undefined ? {} : { applicationCondition: err.applicationCondition }),
    };
    this.emit(ev);
    // §4.9.1.1: the peer closes the stream after the error; we close ours and are done.
    if (!this.headerSent) this.writeHeader();
    this.framing.writeClose();
    this.finish("stream-error");
  }

  private onPeerClose(seeOtherUri: string | undefined): void {
    if (this.kind !== "closing") {
      // RFC 6120 §4.4: answer the close with ours.
      if (!this.headerSent) this.writeHeader();
      this.beforeClosing();
      this.framing.writeClose();
      this.finish("peer-closed", seeOtherUri);
    } else {
      this.finish("closed", seeOtherUri);
    }
  }

  /**
   * A fatal stream error detected here (RFC 6120 §4.9.1.1): queues `<stream:error/>` and the end of the
   * stream (preceded by our header if none was sent yet, §4.9.1.2), emits `stream-error` and `closed`,
   * and refuses all further input. The queued output stays drainable.
   */
  protected fatal(condition: StreamErrorCondition, text?: string, applicationCondition?: XmlElement): void {
    if (this.kind === "closed") return;
    if (this.kind !== "closing") {
      if (!this.headerSent) this.writeHeader();
      this.framing.writeElement(
        buildStreamError({ condition, ...(text === undefined ? {} : { text, lang: "en" }), ...(applicationCondition === undefined ? {} : { applicationCondition }) }),
      );
      this.framing.writeClose();
    }
    this.emit(text === undefined ? { type: "stream-error", condition, byPeer: false } : { type: "stream-error", condition, text, byPeer: false });
    this.finish("stream-error");
  }

  /** Ends the session: `closed` event, no more input, no more timers. */
  protected finish(reason: ClosedEvent["reason"], seeOtherUri?: string): void {
    if (this.kind === "closed") return;
    // XEP-0198 §7 (and our reading of RFC 6120 §4.4): a stream both sides closed on purpose is over for
    // good; a lost transport, a timeout or a stream error leaves a resumable session resumable.
    const clean = reason === "closed" || reason === "peer-closed" || reason === "timeout";
    for (const h of this.halves) h.handleEnd?.(clean, this.ctx);
    this.kind = "closed" as K;
    this.paused = true;
    this.negotiationDeadline = undefined;
    this.closeDeadline = undefined;
    this.onFinish();
    this.emit(seeOtherUri === undefined ? { type: "closed", reason } : { type: "closed", reason, seeOtherUri });
  }

  /** Hook: the session ended (drop tracked IQs, …). */
  protected onFinish(): void {}

  /** Negotiation is over (online): the negotiation deadline no longer applies. */
  protected negotiationDone(): void {
    this.negotiationDeadline = undefined;
  }

  /** Switches the parser to the post-authentication limits (RFC 6120 §13.12: smaller limits before). */
  protected authLimits(): void {
    this.framing.setLimits(this.fullLimits);
  }
}

/** One encoder for every session: text WebSocket messages that arrive as strings (browsers) become bytes. */
const UTF8 = new TextEncoder();

/** The first bit of a session's `bits` free for a role class's flags. @internal */
export const SESSION_FLAGS = 4;
defineBitFlags(LeanSessionBase.prototype, "bits", ["paused", "headerSent", "pumping", "versionless"]);

/**
 * {@link LeanSessionBase} with the framing named by the `framing` option (`"stream"`, the default, or
 * `"websocket"`, or a framing value): what the full sessions (server, s2s receiver) are built on.
 * @internal
 */
export abstract class SessionBase<
  E extends { readonly type: string },
  K extends string,
  H extends FeatureHooks<C>,
  C extends FeatureContext<E>,
> extends LeanSessionBase<E, K, H, C> {
  constructor(options: SessionOptions, table: { readonly [S in K]: Partial<Record<Transition, K>> }, role: "client" | "server") {
    super(options, table, role, framingOf(options.framing));
  }
}
