/**
 * The open feature model: a stream feature is one unit that both roles load. It **offers** itself
 * (server: a child of `<stream:features/>`), **negotiates** from the offer (client), owns the top-level
 * elements of its namespaces (nonzas such as `<r/>`, `<a/>`, `<enable/>`, in every state), and may
 * observe and hold stanzas. The RFC 6120 set (STARTTLS, SASL, resource binding, legacy session) is built
 * on this model exactly like Stream Management (XEP-0198) or an application's own feature.
 *
 * In the spirit of mellium's `StreamFeature` (offer / parse / negotiate) and Prosody's `stream-features`
 * event, with the sans-IO rule that a feature never blocks: it writes elements, emits events, asks the
 * application questions (the session pauses parsing until the answer), and says when its step is done.
 *
 * @module
 */
import type { Jid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import type { Framing, TlsInfo } from "../session-types.js";
import type { StanzaErrorCondition } from "../stanza-errors.js";
import type { StreamErrorCondition } from "../stream-errors.js";

/** What a stream has achieved so far. Each flag, once set, stays set for the session. */
export interface StreamFlags {
  /** TLS protects the transport (STARTTLS done, Direct TLS, `wss:`). */
  readonly secure: boolean;
  /** SASL (or another authentication feature) succeeded. */
  readonly authenticated: boolean;
  /** A full JID is bound: stanzas flow (the session is online). */
  readonly bound: boolean;
}

/**
 * When a feature may be offered and negotiated: every flag given `true` in `requires` must be set, and
 * the flag named by `until` must not be set yet. The session checks it before calling `offer` (server)
 * and `negotiate` (client); elements of the feature's namespaces reach it in every state, so it answers
 * an out-of-order element itself (with the error its specification asks for).
 */
export interface FeatureAvailability {
  /** Flags that must all be set, e.g. `{ authenticated: true }`. */
  readonly requires?: Partial<StreamFlags>;
  /** The flag that ends availability once set, e.g. `"bound"`. */
  readonly until?: keyof StreamFlags;
}

/** The role-independent part of what a feature may do on the session it belongs to. */
export interface FeatureContext<E> {
  /** Which side of the stream this session is. */
  readonly role: "client" | "server";
  /** The latest `now` given to the session (milliseconds, any monotonic clock). */
  readonly now: number;
  /** The session's framing: RFC 6120 stream or RFC 7395 WebSocket. */
  readonly framing: Framing;
  /** What the stream has achieved so far (`secure`, `authenticated`, `bound`). */
  readonly flags: StreamFlags;
  /** TLS facts (channel binding, verified peer identities), once TLS is up. */
  readonly tls: TlsInfo | undefined;
  /** The bound full JID (online), else `undefined`. */
  readonly jid: Jid | undefined;
  /**
   * The id of the current stream (RFC 6120 §4.7.3): the server's own, or the one the client received;
   * `undefined` before the header. Fresh at every restart (XEP-0078 digests are bound to it).
   */
  readonly streamId: string | undefined;
  /** Writes one top-level element (a nonza or a stanza) now. */
  write(el: XmlElement): void;
  /** Queues an event for the application (in order with the session's own events). */
  emit(ev: E): void;
  /** Ends the stream with a stream error of ours (RFC 6120 §4.9): sticky, the output stays drainable. */
  fatal(condition: StreamErrorCondition, text?: string, applicationCondition?: XmlElement): void;
  /** `n` bytes from the session's (injectable) random source. */
  randomBytes(n: number): Uint8Array;
  /** A random identifier (base64url, `bytes` of entropy; default 16 = 128 bits). */
  randomId(bytes?: number): string;
  /**
   * This feature's negotiation step is over. `restart: true` when the stream restarts at the current
   * input byte (RFC 6120 §6.4.6 after SASL); `features: true` when the stream goes on *without* a restart
   * but with a new `<stream:features/>` (XEP-0388 SASL2 success without inline binding: the server sends
   * one, the client waits for it); otherwise the session goes on with the next feature of the same
   * `<stream:features/>` (client) or waits for the next request (server).
   */
  done(outcome?: FeatureOutcome): void;
  /**
   * A question to the application is pending: input stays buffered, unparsed, until {@link resume}
   * (bounded by `maxBufferedBytes`). The feature emits the question event itself.
   */
  pause(): void;
  /** The application answered: parsing goes on (also when called from within the answer). */
  resume(): void;
  /** Whether the session has ended (an asynchronous answer may arrive after that: ignore it). */
  readonly ended: boolean;
  /**
   * This session's half of another loaded feature (by name), e.g. SASL2 reaching the `sm` half to enable
   * or resume Stream Management inline. `undefined` when not loaded.
   */
  feature(name: string): unknown;
}

/** How a feature's negotiation step ended (see {@link FeatureContext.done}). */
export interface FeatureOutcome {
  /** The stream restarts at the current input byte (RFC 6120 §6.4.6). */
  readonly restart?: boolean;
  /** No restart, but the server sends (server: send; client: wait for) a new `<stream:features/>`. */
  readonly features?: boolean;
}

/**
 * Privileged steps the built-in features take (and that features of the same weight — SASL2, Bind2,
 * in-band registration — need): the TLS hand-over, authentication, binding.
 */
export interface NegotiationControl {
  /**
   * STARTTLS hand-over (RFC 6120 §5.4.3.3): call right after writing (server) or reading (client) the
   * boundary element. Every byte after it is taken from the parser for TLS; the `starttls` event is
   * emitted; parsing stops until `tlsEstablished()`.
   */
  handOverTls(): void;
  /** Authentication succeeded: sets the flag and switches to the post-authentication XML limits. */
  setAuthenticated(identity: { readonly mechanism: string; readonly username?: string }): void;
  /**
   * A full JID is bound. The server goes online at once (emits `online`); the client once no feature is
   * left to negotiate on this stream.
   */
  setBound(jid: Jid, extra?: { readonly resumed?: boolean }): void;
  /**
   * Ends the session after a negotiation the peer ended (a STARTTLS `<failure/>`, a SASL failure we give
   * up on): writes our end of the stream, no stream error element, and closes with `reason`.
   */
  end(reason: "stream-error" | "auth-failed"): void;
  /** Starts a graceful close (as the application's `close()`). */
  close(): void;
}

/** The client-side context. */
export interface ClientFeatureContext<E> extends FeatureContext<E>, NegotiationControl {
  /** The configured account (bare JID). */
  readonly account: Jid;
}

/** The server-side context. */
export interface ServerFeatureContext<E> extends FeatureContext<E>, NegotiationControl {
  /** The domain this stream serves (from the client's `to`, or the default domain). */
  readonly domain: string;
  /** The authenticated account (localpart), once authenticated. */
  readonly username: string | undefined;
  /** The peer's `from` on its stream header, if it was a valid JID. */
  readonly peerFrom: string | undefined;
  /**
   * Answers a stanza with a stanza error (RFC 6120 §8.3), addressed to the bound JID if the stanza had no
   * `from`. Nothing is sent for a stanza of type `error`.
   */
  replyError(stanza: XmlElement, condition: StanzaErrorCondition, text?: string): void;
}

/** Hooks both halves may implement. */
export interface FeatureHooks<C> {
  /**
   * A top-level element of one of the feature's namespaces (a nonza), in any state after the stream
   * header. Also, on the client, every element while this feature is the one negotiating (e.g. the IQ
   * result of resource binding).
   */
  handleElement(el: XmlElement, ctx: C): void;
  /**
   * Observes every stanza received while online, before anything else looks at it (XEP-0198 counts
   * here: a stanza the session then refuses with an error was still received).
   */
  handleInbound?(stanza: XmlElement, ctx: C): void;
  /** Observes every stanza written while online (XEP-0198 counts it and holds a copy until acknowledged). */
  handleOutbound?(stanza: XmlElement, ctx: C): void;
  /**
   * Takes a received stanza before the application sees it: return `true` to consume it. Online, after
   * the session's own checks (RFC 6120 §8: addresses validated, `from` stamped on the server); on the
   * server also before resource binding (the bind IQ). Features are asked in order.
   *
   * **Before authentication** (server only) an IQ is offered to the features whose `availability`
   * allows them on the stream's current flags (XEP-0077 registration, XEP-0078 `jabber:iq:auth`): only
   * an IQ without `to` or addressed to the stream's domain, with its `from` and `to` removed (an
   * unauthenticated peer has no address; replies carry no `to`). One no feature takes ends the stream
   * with `<not-authorized/>` (RFC 6120 §4.9.3.12), as any other stanza before authentication.
   */
  handleStanza?(stanza: XmlElement, ctx: C): boolean;
  /** The earliest instant this feature wants `handleTimeout`, if any. */
  nextTimeout?(): number | undefined;
  /** Called at or after the instant `nextTimeout` gave. */
  handleTimeout?(now: number, ctx: C): void;
  /**
   * The stream restarted (after TLS or SASL): everything learned from the previous stream's features is
   * void (RFC 6120 §4.3.3).
   */
  handleRestart?(): void;
  /** Our end of the stream is about to be written (a graceful close, ours or in answer to the peer's). */
  handleClosing?(ctx: C): void;
  /**
   * Keepalive (RFC 6120 §4.6.1): the peer was silent for `keepaliveMs`. Write a probe the peer must
   * answer and return `true` (XEP-0198 `<r/>`), or return `false` to leave it to the session.
   */
  handleProbe?(ctx: C): boolean;
  /**
   * The session ends. `clean` when both sides closed the stream with `</stream:stream>` (or the
   * application asked), false for a lost transport, a timeout or a stream error. Called before `closed`
   * is emitted, so the feature can still emit events (e.g. stanzas it must report as not delivered).
   */
  handleEnd?(clean: boolean, ctx: C): void;
}

/** The client half of a feature (one instance per session). */
export interface ClientFeature<E = unknown> extends FeatureHooks<ClientFeatureContext<E>> {
  /**
   * The server's `<stream:features/>` (or the same element again after an earlier feature's step was
   * done): start negotiating if this feature applies now — write the first element and return `true`
   * (the session waits; elements go to {@link FeatureHooks.handleElement} until `done`). Return `false`
   * if there is nothing to do now. A feature may also write something and return `false` when it does
   * not need to wait (XEP-0198 `<enable/>` pipelined after binding).
   */
  negotiate(features: XmlElement, ctx: ClientFeatureContext<E>): boolean;
}

/** The server half of a feature (one instance per session). */
export interface ServerFeature<E = unknown> extends FeatureHooks<ServerFeatureContext<E>> {
  /**
   * The child of `<stream:features/>` for this stream (given its flags), or `undefined` when not offered.
   * Called each time features are sent (after every stream header of ours).
   */
  offer(ctx: ServerFeatureContext<E>): XmlElement | readonly XmlElement[] | undefined;
  /**
   * Optional: lets the session reuse the serialised `<stream:features/>` of an earlier stream of a
   * session with the same options (a server's per-login cost). Does to this half what {@link offer}
   * would (e.g. remember the mechanisms offered) and returns a string that, for the same session
   * options and stream flags, determines the elements `offer` would return — equal strings, equal
   * elements; `undefined` when it cannot tell (then `offer` is called). Keep the strings to a small set
   * (the session keeps at most a few dozen per options object). Without it, features are always built.
   */
  offerKey?(ctx: ServerFeatureContext<E>): string | undefined;
}

/**
 * A stream feature both roles load. Register the same object with `ClientSession` and `ServerSession`
 * (`features` option); each session creates its own half with `client()` / `server()`.
 *
 * A feature that greets once the client is authenticated (see `docs/core.md`):
 *
 * @example
 * ```ts
 * const hello: StreamFeature = {
 *   name: "hello", namespaces: ["urn:example:hello"], availability: { requires: { authenticated: true }, until: "bound" },
 *   restarts: false, mandatory: false,
 *   server: () => ({ offer: () => xml("hello", { xmlns: "urn:example:hello" }), handleElement(el, ctx) { ... } }),
 *   client: () => ({ negotiate(features, ctx) { ... }, handleElement(el, ctx) { ... } }),
 * };
 * ```
 */
export interface StreamFeature<CE = unknown, SE = unknown> {
  /** A unique name (`starttls`, `sasl`, `bind`, `session`, `sm`, …). */
  readonly name: string;
  /** Namespaces of the top-level elements this feature owns. */
  readonly namespaces: readonly string[];
  /** When it may be offered / negotiated. */
  readonly availability: FeatureAvailability;
  /** Whether a successful negotiation restarts the stream (STARTTLS and SASL do). */
  readonly restarts: boolean;
  /** Whether the peer must negotiate it before anything that comes after it (RFC 6120 §4.3.2). */
  readonly mandatory: boolean;
  /** Creates this feature's client half for one session (absent: the feature is server-only). */
  client?(): ClientFeature<CE>;
  /** Creates this feature's server half for one session (absent: the feature is client-only). */
  server?(): ServerFeature<SE>;
}

/** Whether `availability` allows the feature on a stream with `flags`. */
export function isAvailable(availability: FeatureAvailability, flags: StreamFlags): boolean {
  const r = availability.requires;
  if (r !== undefined) {
    if (r.secure === true && !flags.secure) return false;
    if (r.authenticated === true && !flags.authenticated) return false;
    if (r.bound === true && !flags.bound) return false;
  }
  return availability.until === undefined || !flags[availability.until];
}

/**
 * Splits the application's features into those of the authentication phase (`until: "authenticated"`:
 * XEP-0077 registration, XEP-0078, SASL2 — negotiated and offered before SASL) and the rest (after SASL),
 * each with this session's half.
 */
export function featuresByPhase<H>(
  features: readonly StreamFeature[],
  half: (def: StreamFeature) => H | undefined,
): [(readonly [StreamFeature, H | undefined])[], (readonly [StreamFeature, H | undefined])[]] {
  const auth: (readonly [StreamFeature, H | undefined])[] = [];
  const later: (readonly [StreamFeature, H | undefined])[] = [];
  for (const def of features) (def.availability.until === "authenticated" ? auth : later).push([def, half(def)]);
  return [auth, later];
}

/** An event a custom feature emits (built-in features have typed events of their own). */
export interface FeatureEvent {
  readonly type: "feature";
  /** The feature's name. */
  readonly feature: string;
  /** What happened, in the feature's words. */
  readonly name: string;
  /** The event's payload, in the feature's terms. */
  readonly data?: unknown;
}
