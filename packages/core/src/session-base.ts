/**
 * What both roles of the session share: the sans-IO surface (receive → events → pollTransmit →
 * nextTimeout), the stream open/restart/close machinery over either framing, fatal (sticky) stream
 * errors, timers, and the helpers both state machines use.
 *
 * @module
 */
import { base64Encode } from "@xmpp-sansio/sasl";
import { DEFAULT_XML_LIMITS, NS_CLIENT, NS_STREAMS, XmlElement, type XmlLimits } from "@xmpp-sansio/xml";
import { type Framing, type HeaderAttributes, type InputEvent, StreamFraming, WebSocketFraming } from "./session-framing.js";
import type {
  ChannelBindingData,
  ClosedEvent,
  SessionOptions,
  SessionState,
  SessionTimeouts,
  StreamErrorEvent,
  TlsInfo,
} from "./session-types.js";
import { buildStreamError, parseStreamError, type StreamErrorCondition } from "./stream-errors.js";

/** `urn:ietf:params:xml:ns:xmpp-tls` (RFC 6120 §5.4). */
export const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
/** `urn:ietf:params:xml:ns:xmpp-sasl` (RFC 6120 §6.4). */
export const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
/** `urn:ietf:params:xml:ns:xmpp-bind` (RFC 6120 §7). */
export const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";
/** `urn:ietf:params:xml:ns:xmpp-session` (RFC 3921 §3, kept by draft-cridland-xmpp-session as optional). */
export const NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session";
/** `urn:xmpp:sasl-cb:0` (XEP-0440: SASL channel-binding type capability). */
export const NS_SASL_CB = "urn:xmpp:sasl-cb:0";

/**
 * The application called a method in a state where it is not allowed (e.g. `send` before the session
 * is online, an answer to a question that was not asked). A programming error, never caused by the peer.
 */
export class SessionStateError extends TypeError {
  override readonly name = "SessionStateError";
}

/** Default timeouts (milliseconds). */
export const DEFAULT_TIMEOUTS: Readonly<SessionTimeouts> = Object.freeze({ negotiationMs: 60_000, closeMs: 5_000, iqMs: 30_000 });

/**
 * Default cap on output the session holds for the transport (1 MiB): see
 * {@link SessionOptions.maxPendingOutputBytes}.
 */
export const DEFAULT_MAX_PENDING_OUTPUT_BYTES = 1024 * 1024;

/** Default limits before authentication: 16 KiB and 64 elements per top-level element (see docs/xml.md, Limits), the rest as after. */
export const DEFAULT_PRE_AUTH_LIMITS: Readonly<Partial<XmlLimits>> = Object.freeze({ maxStanzaBytes: 16 * 1024, maxElements: 64 });

/** Version of a stream header, parsed per RFC 6120 §4.7.5. */
export interface StreamVersion {
  readonly major: number;
  readonly minor: number;
}

/**
 * Parses a `version` attribute ("major.minor", each an integer, leading zeros ignored — RFC 6120
 * §4.7.5). `undefined` for a missing attribute (a pre-1.0 peer) or a malformed value.
 */
export function parseStreamVersion(value: string | undefined): StreamVersion | undefined {
  if (value === undefined) return undefined;
  const m = /^([0-9]{1,9})\.([0-9]{1,9})$/.exec(value);
  if (m === null) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** Channel-binding data as the list the sasl package takes, in the XEP-0440 preference order. */
export function channelBindingList(data: ChannelBindingData | undefined): { type: "tls-exporter" | "tls-unique" | "tls-server-end-point"; data: Uint8Array }[] {
  const out: { type: "tls-exporter" | "tls-unique" | "tls-server-end-point"; data: Uint8Array }[] = [];
  if (data === undefined) return out;
  for (const type of ["tls-exporter", "tls-unique", "tls-server-end-point"] as const) {
    const d = data[type];
    if (d instanceof Uint8Array && d.length > 0) out.push({ type, data: d });
  }
  return out;
}

/**
 * The machinery both {@link ClientSession} and {@link ServerSession} are built on. Not exported from the
 * package: use the two role classes.
 * @internal
 */
export abstract class SessionBase<E extends { readonly type: string }> {
  protected _state: SessionState = "idle";
  protected readonly framing: Framing;
  protected readonly lang: string;
  protected readonly timeouts: SessionTimeouts;
  protected readonly fullLimits: Partial<XmlLimits>;
  protected readonly preAuthLimits: Partial<XmlLimits>;
  private readonly randomFill: (bytes: Uint8Array) => void;
  private readonly maxPendingOutput: number;
  /** Output taken from the framing to be measured, not yet polled (oldest first; `outHead` is the next). */
  private readonly outQueue: Uint8Array[] = [];
  private outHead = 0;
  private outBytes = 0;

  private readonly events: E[] = [];
  private eventHead = 0;

  /** The latest `now` we were given. */
  protected now = 0;
  protected negotiationDeadline: number | undefined;
  protected closeDeadline: number | undefined;
  /** Questions pending with the application, or a hand-over: input stays buffered, unparsed. */
  protected paused = false;
  /** Our stream header for the current stream has been written. */
  protected headerSent = false;
  /** Whether the transport is protected by TLS (STARTTLS completed, Direct TLS, or wss:). */
  protected secured = false;
  protected tls: TlsInfo | undefined;
  private pumping = false;

  constructor(options: SessionOptions) {
    this.lang = options.lang ?? "en";
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
    this.fullLimits = { ...DEFAULT_XML_LIMITS, ...options.limits };
    this.preAuthLimits = { ...this.fullLimits, ...DEFAULT_PRE_AUTH_LIMITS, ...options.preAuthLimits };
    this.randomFill = options.random ?? defaultRandom;
    this.maxPendingOutput = options.maxPendingOutputBytes ?? DEFAULT_MAX_PENDING_OUTPUT_BYTES;
    if (!(this.maxPendingOutput > 0)) throw new RangeError("maxPendingOutputBytes must be a positive number");
    this.framing = options.framing === "websocket" ? new WebSocketFraming(this.preAuthLimits) : new StreamFraming(this.preAuthLimits);
  }

  /** Where the session stands. */
  get state(): SessionState {
    return this._state;
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
    if (this._state === "closed") return;
    this.tick(now);
    if (binary) {
      this.fatal("unsupported-encoding", "RFC 7395 §3.2: XMPP over WebSocket uses text frames only");
      return;
    }
    this.input(typeof message === "string" ? new TextEncoder().encode(message) : message, now);
  }

  private input(bytes: Uint8Array, now: number): void {
    if (this._state === "closed") return;
    if (this._state === "tls-handshake") {
      throw new SessionStateError("receive() during the STARTTLS hand-over: these bytes belong to TLS; call tlsEstablished() first");
    }
    this.tick(now);
    this.beforeInput();
    if ((this._state as SessionState) === "closed") return;
    this.framing.push(bytes);
    const max = this.fullLimits.maxBufferedBytes ?? DEFAULT_XML_LIMITS.maxBufferedBytes;
    if (this.paused && this.framing.bufferedBytes > max) {
      this.fatal("policy-violation", `more than ${max} bytes buffered while waiting for the application`);
      return;
    }
    this.pump();
    this.checkPendingOutput();
  }

  /**
   * The output cap (RFC 6120 §4.9.3.17): measured after each input, when a peer can have made us produce
   * output (answers, errors, and whatever the application sent since). A peer that keeps sending but
   * never reads would otherwise grow our output without bound; past `maxPendingOutputBytes` the stream
   * ends with `<resource-constraint/>` (the stream error and `</stream:stream>` are still queued and
   * drainable, so the cap is exceeded by at most their size).
   */
  private checkPendingOutput(): void {
    if (this._state === "closed" || !this.framing.hasOutput) return;
    for (let out = this.framing.poll(); out !== undefined; out = this.framing.poll()) {
      this.outQueue.push(out);
      this.outBytes += out.length;
    }
    if (this.outBytes > this.maxPendingOutput) {
      this.fatal("resource-constraint", `more than ${this.maxPendingOutput} bytes of output not read by the peer`);
    }
  }

  /** Bytes of output held for the transport (not yet returned by `pollTransmit`), as last measured. */
  get pendingOutputBytes(): number {
    return this.outBytes;
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
    if (!beforeStart && this._state !== "tls-handshake") throw new SessionStateError("tlsEstablished() without a starttls event");
    this.secured = true;
    this.tls = info;
    if (beforeStart) return false;
    this.framing.renew(this.preAuthLimits);
    this._state = "negotiating";
    return true;
  }

  /** The transport was closed by the peer or failed. */
  transportClosed(now: number): void {
    if (this._state === "closed") return;
    this.tick(now);
    this.finish("transport-closed");
  }

  /** Next output: for stream framing all pending bytes, for WebSocket one message. */
  pollTransmit(): Uint8Array | undefined {
    if (this.outHead >= this.outQueue.length) return this.framing.poll();
    if (this.framing.kind === "websocket") {
      // One message per call.
      const message = this.outQueue[this.outHead]!;
      this.outQueue[this.outHead++] = EMPTY_BYTES;
      this.outBytes -= message.length;
      if (this.outHead === this.outQueue.length) this.resetOutQueue();
      return message;
    }
    const rest = this.framing.poll();
    if (rest !== undefined) {
      this.outQueue.push(rest);
      this.outBytes += rest.length;
    }
    if (this.outQueue.length === 1) {
      const only = this.outQueue[0]!;
      this.resetOutQueue();
      return only;
    }
    // Stream framing: everything pending as one chunk (its size is known: outBytes).
    const joined = new Uint8Array(this.outBytes);
    this.outQueue.reduce((at, chunk) => {
      joined.set(chunk, at);
      return at + chunk.length;
    }, 0);
    this.resetOutQueue();
    return joined;
  }

  private resetOutQueue(): void {
    this.outQueue.length = 0;
    this.outHead = 0;
    this.outBytes = 0;
  }

  /** Next event, in order. */
  pollEvent(): E | undefined {
    if (this.eventHead >= this.events.length) return undefined;
    const ev = this.events[this.eventHead]!;
    this.events[this.eventHead++] = undefined as unknown as E;
    if (this.eventHead === this.events.length) {
      this.events.length = 0;
      this.eventHead = 0;
    }
    return ev;
  }

  /** Earliest `now` at which `handleTimeout` must be called, if any. */
  nextTimeout(): number | undefined {
    if (this._state === "closed") return undefined;
    return minDefined(minDefined(this.negotiationDeadline, this.closeDeadline), this.extraDeadline());
  }

  /** Hook for role-specific deadlines (tracked IQs). */
  protected extraDeadline(): number | undefined {
    return undefined;
  }

  /** Call at (or after) the instant `nextTimeout()` gave. */
  handleTimeout(now: number): void {
    if (this._state === "closed") return;
    this.tick(now);
    if (this.closeDeadline !== undefined && now >= this.closeDeadline) {
      this.finish("timeout");
      return;
    }
    if (this.negotiationDeadline !== undefined && now >= this.negotiationDeadline) {
      this.fatal("connection-timeout", `stream negotiation did not complete within ${this.timeouts.negotiationMs} ms`);
      return;
    }
    this.onTimeout(now);
  }

  /** Hook for role-specific timers. */
  protected onTimeout(_now: number): void {}

  /**
   * Starts a graceful close: `</stream:stream>` (or `<close/>`), then waits up to `closeMs` for the peer's.
   * Does nothing if the session is already closing or closed.
   */
  close(now: number): void {
    if (this._state === "closed" || this._state === "closing") return;
    this.tick(now);
    if (this._state === "idle" && !this.headerSent) {
      this.finish("closed");
      return;
    }
    if (!this.headerSent) this.writeHeader();
    this.framing.writeClose();
    this._state = "closing";
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
    if (this._state === "closed") return;
    this.tick(now);
    this.fatal(condition, text);
  }

  // ---------------------------------------------------------------------------------------------------
  // For the roles

  protected tick(now: number): void {
    if (typeof now !== "number" || Number.isNaN(now)) throw new SessionStateError("`now` must be a number (milliseconds on a monotonic clock)");
    if (now > this.now) this.now = now;
  }

  protected emit(ev: E | StreamErrorEvent | ClosedEvent): void {
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
    return base64Encode(this.randomBytes(bytes)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  }

  /** Our stream header for the current stream. */
  protected abstract headerAttributes(): HeaderAttributes;

  protected writeHeader(): void {
    this.framing.writeOpen(this.headerAttributes());
    this.headerSent = true;
  }

  /** Writes one element; stanzas built without a namespace get `jabber:client`. */
  protected write(el: XmlElement): void {
    if (el.ns === "") el.adoptNamespace(NS_CLIENT);
    this.framing.writeElement(el);
  }

  /** Parses buffered input until it runs out, the session pauses (question, hand-over) or ends. */
  protected pump(): void {
    if (this.pumping) return; // re-entrancy: an answer given while dispatching resumes in the outer loop
    this.pumping = true;
    try {
      while (!this.paused && this._state !== "closed" && this._state !== "tls-handshake") {
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
        if (this._state === "closing") {
          // RFC 6120 §4.4: after our close, the peer may still send data; it is not processed.
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
      if (namespaces.get("") !== NS_CLIENT) {
        this.fatal("invalid-namespace", `the content namespace must be '${NS_CLIENT}' (RFC 6120 §4.8.2)`);
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
    if (this._state !== "closing") {
      // RFC 6120 §4.4: answer the close with ours.
      if (!this.headerSent) this.writeHeader();
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
  protected fatal(condition: StreamErrorCondition, text?: string): void {
    if (this._state === "closed") return;
    if (this._state !== "closing") {
      if (!this.headerSent) this.writeHeader();
      this.framing.writeElement(buildStreamError(text === undefined ? { condition } : { condition, text, lang: "en" }));
      this.framing.writeClose();
    }
    this.emit(text === undefined ? { type: "stream-error", condition, byPeer: false } : { type: "stream-error", condition, text, byPeer: false });
    this.finish("stream-error");
  }

  /** Ends the session: `closed` event, no more input, no more timers. */
  protected finish(reason: ClosedEvent["reason"], seeOtherUri?: string): void {
    if (this._state === "closed") return;
    this._state = "closed";
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

const EMPTY_BYTES = new Uint8Array(0);

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}

function defaultRandom(bytes: Uint8Array): void {
  const c = (globalThis as { crypto?: { getRandomValues(a: Uint8Array): Uint8Array } }).crypto;
  if (c === undefined) throw new TypeError("globalThis.crypto.getRandomValues is not available; inject `random`");
  c.getRandomValues(bytes);
}

/** Whether `el` is a stanza of the content namespace (`message`, `presence`, `iq`). */
export function isStanza(el: XmlElement): boolean {
  return el.ns === NS_CLIENT && (el.name === "message" || el.name === "presence" || el.name === "iq");
}

/** The text of an element with surrounding XML whitespace removed. */
export function trimmedText(el: XmlElement | undefined): string {
  return el === undefined ? "" : el.text().replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
}

/** Builds `<name xmlns=ns>text</name>`. */
export function el(name: string, ns: string, attrs?: Record<string, string | undefined> | null, ...children: (XmlElement | string)[]): XmlElement {
  return new XmlElement(name, ns, attrs ?? null, children);
}

/** Drops properties whose value is `undefined` (for `exactOptionalPropertyTypes`). */
export function definedOnly<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]: Exclude<T[K], undefined> };
}
