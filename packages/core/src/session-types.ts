// The public contract of the session core: options, events, and the sans-IO surface shared by both roles.
// Adapters (Node, Deno, WebSocket) are written against this file only.
import type { Jid } from "@xmpp-sansio/jid";
import type { XmlElement, XmlLimits } from "@xmpp-sansio/xml";
import type { StreamFeature } from "./features/types.js";
import type { StreamErrorCondition } from "./stream-errors.js";

/** How bytes are framed on the transport: an RFC 6120 XML stream, or RFC 7395 WebSocket messages. */
export type Framing = "stream" | "websocket";

/**
 * Channel-binding data the adapter extracted from the TLS connection (RFC 5929, RFC 9266). Only the types
 * present are offered/used; browsers have none, so SCRAM-*-PLUS is never chosen there.
 */
export interface ChannelBindingData {
  /** RFC 9266, TLS 1.3 (and 1.2 with extended master secret). */
  "tls-exporter"?: Uint8Array;
  /** RFC 5929 §3, TLS ≤ 1.2 only. */
  "tls-unique"?: Uint8Array;
  /** RFC 5929 §4: hash of the server certificate. */
  "tls-server-end-point"?: Uint8Array;
}

/** What the adapter reports once TLS is up (STARTTLS done, or Direct TLS from the start). */
export interface TlsInfo {
  readonly channelBinding: ChannelBindingData;
  /**
   * Server role, SASL EXTERNAL: the identities the client certificate was verified for (e.g. xmppAddr
   * or dNSName), if the adapter verified one. Undefined when there is no client certificate.
   */
  readonly peerIdentities?: readonly string[];
}

/** Where a session stands. */
export type SessionState =
  | "idle" // created; start() not called yet (client) / waiting for the stream header (server)
  | "negotiating" // stream open, features being negotiated
  | "tls-handshake" // STARTTLS hand-over: waiting for tlsEstablished()
  | "online" // bound: stanzas flow
  | "closing" // our </stream:stream> is out, waiting for the peer's (with a deadline)
  | "closed"; // over: drain output, then close the transport

/** Timeouts in milliseconds. `now` values given to the session are milliseconds on any monotonic clock. */
export interface SessionTimeouts {
  /** From start until online; exceeded → `<connection-timeout/>`. Default 60 000. */
  negotiationMs: number;
  /** Waiting for the peer's `</stream:stream>` after ours. Default 5 000. */
  closeMs: number;
  /** Client: default timeout of tracked IQ requests. Default 30 000. */
  iqMs: number;
}

/** Options common to both roles. */
export interface SessionOptions {
  /** Default `"stream"`. */
  framing?: Framing;
  /** Fills the array with random bytes. Default `globalThis.crypto.getRandomValues`. Inject for tests. */
  random?: (bytes: Uint8Array) => void;
  timeouts?: Partial<SessionTimeouts>;
  /** XML limits once authenticated. Default: `DEFAULT_XML_LIMITS` of `@xmpp-sansio/xml`. */
  limits?: Partial<XmlLimits>;
  /** XML limits before authentication (smaller). Default: 16 KiB stanzas, other limits as above. */
  preAuthLimits?: Partial<XmlLimits>;
  /** `xml:lang` of our stream header. Default `"en"`. */
  lang?: string;
  /**
   * Cap on output held for the transport (bytes not yet taken with `pollTransmit`), measured after each
   * input. A peer that keeps sending requests but never reads the answers makes it grow; past the cap the
   * stream ends with `<resource-constraint/>` (RFC 6120 §4.9.3.17: the stream would need more resources
   * than we give it). Default 1 MiB.
   */
  maxPendingOutputBytes?: number;
}

/**
 * TLS policy.
 * - `"required"`: STARTTLS must be negotiated; a client aborts if the offer is missing (no stripping),
 *   a server refuses anything but `<starttls/>` before it.
 * - `"optional"`: use/offer STARTTLS when possible.
 * - `"direct"`: the transport is TLS already (XEP-0368, `wss:`); call `tlsEstablished` before `start`.
 * - `"none"`: no TLS at all (tests, loopback, a custom secure transport).
 */
export type TlsPolicy = "required" | "optional" | "direct" | "none";

/** Client (initiating entity) options. */
export interface ClientOptions extends SessionOptions {
  /** Our address. Bare (`juliet@example.com`) or full (requests that resource). */
  jid: string | Jid;
  /** The password; if absent, the session asks with a `credentials-needed` event. */
  password?: string;
  /** SASL authorization identity, if different from the account. */
  authzid?: string;
  /** Default `"required"`. */
  tls?: TlsPolicy;
  /** Allow PLAIN over an unencrypted stream. Default false. */
  allowPlainInClear?: boolean;
  /** Mechanisms we may use, in preference order. Default: SCRAM-SHA-512/256/1 (-PLUS first), PLAIN. */
  mechanisms?: readonly string[];
  /** Minimum SCRAM iteration count accepted from the server. Default 4096. */
  minScramIterations?: number;
  /**
   * Maximum SCRAM iteration count accepted from the server: bounds the PBKDF2 work a server can make the
   * client do. Default 1 000 000 (`DEFAULT_MAX_ITERATIONS` of `@xmpp-sansio/sasl`).
   */
  maxScramIterations?: number;
  /**
   * Stream features of the application, negotiated after SASL and before resource binding, in this
   * order (e.g. `streamManagement()`). See `docs/core.md`.
   */
  features?: readonly StreamFeature[];
}

/** Server (receiving entity) options. */
export interface ServerOptions extends SessionOptions {
  /** Default `"required"`. */
  tls?: TlsPolicy;
  /** Mechanisms offered, in order. -PLUS variants are added when channel binding data exists. */
  mechanisms?: readonly string[];
  /** Allow PLAIN before TLS. Default false. */
  allowPlainInClear?: boolean;
  /** Offer the legacy `<session/>` feature (RFC 3921) as optional. Default true. */
  offerLegacySession?: boolean;
  /** Client `to` missing: RFC 6120 §4.7.1 lets a server pick its default host. Undefined → error. */
  defaultDomain?: string;
  /**
   * Stream features of the application, offered after SASL's and before resource binding's, in this
   * order (e.g. `streamManagement()`). See `docs/core.md`.
   */
  features?: readonly StreamFeature[];
}

/** Stored SCRAM credentials of one account (never the password). */
export interface ScramStoredCredentials {
  readonly salt: Uint8Array;
  readonly iterations: number;
  readonly storedKey: Uint8Array;
  readonly serverKey: Uint8Array;
}

/** RFC 6120 §7.7.2.2: what to do when a client asks for a resource that is already in use. */
export type ResourceConflictPolicy = "override" | "refuse" | "assign-new";

/** The application's answer to a `bind-request`. */
export type BindAnswer =
  | { readonly accept: string } // bind this resource (may differ from the requested one: assign-new)
  | { readonly refuse: "conflict" | "not-allowed" | "bad-request" | "resource-constraint"; readonly text?: string };

// -------------------------------------------------------------------------------------------------
// Events. Drained with pollEvent() in order. Questions are events; answers are calls on the session.

export interface StreamOpenedEvent {
  readonly type: "stream-opened";
  /** Attributes of the peer's stream header. */
  readonly header: { readonly to?: string; readonly from?: string; readonly id?: string; readonly version?: string; readonly lang?: string };
}

/**
 * Start TLS on the transport now. First write everything `pollTransmit()` still has; then hand
 * `tlsBytes` (bytes that arrived after the STARTTLS boundary — they belong to TLS, never to XML) to the
 * TLS layer, and call `tlsEstablished()` when the handshake is done.
 */
export interface StartTlsEvent {
  readonly type: "starttls";
  readonly tlsBytes: Uint8Array;
}

/** Negotiation is complete: `jid` is the full JID bound to this session. */
export interface OnlineEvent {
  readonly type: "online";
  readonly jid: Jid;
  /** True when the session came back through XEP-0198 resumption (same JID, same presence). */
  readonly resumed?: boolean;
}

/** An incoming stanza (message, presence, or an iq that is not the answer to a tracked request). */
export interface StanzaEvent {
  readonly type: "stanza";
  readonly stanza: XmlElement;
}

/** Client: the answer to an IQ sent with `sendIq` (type result or error). */
export interface IqResponseEvent {
  readonly type: "iq-response";
  readonly id: string;
  readonly stanza: XmlElement;
}

/** Client: a tracked IQ got no answer in time. */
export interface IqTimeoutEvent {
  readonly type: "iq-timeout";
  readonly id: string;
}

/** SASL failed (client: the server said `<failure/>`; server: we refused the client). */
export interface AuthFailedEvent {
  readonly type: "auth-failed";
  readonly condition: string;
  readonly text?: string;
  /** Client: whether `supplyCredentials()` may be called to try again. */
  readonly canRetry: boolean;
}

/** Client: SASL succeeded (the stream restarts next). */
export interface AuthenticatedEvent {
  readonly type: "authenticated";
  readonly mechanism: string;
  /** Server role: the authenticated account (localpart) and requested authzid. */
  readonly username?: string;
}

/** Client: no password configured; answer with `supplyCredentials()`. */
export interface CredentialsNeededEvent {
  readonly type: "credentials-needed";
  readonly mechanism: string;
}

/** Server: does this session serve `domain` (the client's `to`)? Answer with `answerHost()`. */
export interface HostQuestionEvent {
  readonly type: "host-check";
  readonly domain: string;
}

/** Server, SCRAM: the stored credentials for `username`. Answer with `answerScramCredentials()`. */
export interface ScramCredentialsQuestionEvent {
  readonly type: "scram-credentials";
  readonly mechanism: string;
  readonly username: string;
  readonly authzid?: string;
}

/** Server, PLAIN: is this password right? Answer with `answerPassword()`. */
export interface PasswordQuestionEvent {
  readonly type: "verify-password";
  readonly username: string;
  readonly password: string;
  readonly authzid?: string;
}

/** Server, EXTERNAL: which account do these certificate identities map to? Answer with `answerExternal()`. */
export interface ExternalQuestionEvent {
  readonly type: "external-identity";
  readonly peerIdentities: readonly string[];
  readonly authzid?: string;
}

/** Server: the client wants to bind `resource` (generated by us if it asked for none). Answer with `answerBind()`. */
export interface BindQuestionEvent {
  readonly type: "bind-request";
  readonly username: string;
  readonly resource: string;
  /** True when the client sent no resource and `resource` was generated. */
  readonly generated: boolean;
}

/** A stream error ended the session (sent by us, or received from the peer). */
export interface StreamErrorEvent {
  readonly type: "stream-error";
  readonly condition: string;
  readonly text?: string;
  readonly byPeer: boolean;
  /** Peer's `<see-other-host/>` (RFC 6120 §4.9.3.19): the validated `host[:port]` to reconnect to. */
  readonly seeOtherHost?: string;
  /** Peer's application-specific condition element (RFC 6120 §4.9.4), if any. */
  readonly applicationCondition?: XmlElement;
}

/** The session is over. Write what `pollTransmit()` still has, then close the transport. */
export interface ClosedEvent {
  readonly type: "closed";
  readonly reason: "closed" | "peer-closed" | "stream-error" | "transport-closed" | "timeout" | "auth-failed";
  /** WebSocket framing: the peer's `<close see-other-uri='…'/>` (RFC 7395 §3.7), a URI to reconnect to. */
  readonly seeOtherUri?: string;
}

/** Client: resource binding (or the legacy session request) was refused (RFC 6120 §7.7.2); the stream closes. */
export interface BindFailedEvent {
  readonly type: "bind-failed";
  /** The stanza error condition from the server, e.g. `conflict`, `not-allowed`. */
  readonly condition: string;
  readonly text?: string;
}

export type ClientEvent =
  | StreamOpenedEvent
  | StartTlsEvent
  | CredentialsNeededEvent
  | AuthenticatedEvent
  | AuthFailedEvent
  | OnlineEvent
  | StanzaEvent
  | IqResponseEvent
  | IqTimeoutEvent
  | BindFailedEvent
  | StreamErrorEvent
  | ClosedEvent;

export type ServerEvent =
  | StreamOpenedEvent
  | HostQuestionEvent
  | StartTlsEvent
  | ScramCredentialsQuestionEvent
  | PasswordQuestionEvent
  | ExternalQuestionEvent
  | AuthenticatedEvent
  | AuthFailedEvent
  | BindQuestionEvent
  | OnlineEvent
  | StanzaEvent
  | StreamErrorEvent
  | ClosedEvent;

/** The sans-IO surface both roles share. Nothing here blocks, reads a clock, or does I/O. */
export interface SansIoSession<E> {
  readonly state: SessionState;
  /** Stream framing: bytes from the transport, in any chunking. */
  receive(bytes: Uint8Array, now: number): void;
  /**
   * WebSocket framing: one received message. `binary` frames are refused (RFC 7395 §3.2); text frames
   * may be given as a string or as its UTF-8 bytes.
   */
  receiveMessage(message: string | Uint8Array, binary: boolean, now: number): void;
  /** The transport was closed by the peer or failed; the session ends with a `closed` event. */
  transportClosed(now: number): void;
  /** TLS is up (after a `starttls` event, or before start for `tls: "direct"`). */
  tlsEstablished(info: TlsInfo, now: number): void;
  /** Next output: for stream framing all pending bytes, for WebSocket one message. */
  pollTransmit(): Uint8Array | undefined;
  /** Next event, in order. */
  pollEvent(): E | undefined;
  /** Earliest `now` at which `handleTimeout` must be called, if any. */
  nextTimeout(): number | undefined;
  handleTimeout(now: number): void;
  /** Sends a stanza. Only when online; otherwise throws `SessionStateError` (a programming error). */
  send(stanza: XmlElement): void;
  /** Starts a graceful close: `</stream:stream>` (or `<close/>`), then waits for the peer's. */
  close(now: number): void;
  /**
   * Ends the stream at once with a stream error of ours: queues `<stream:error/>` and the end of the
   * stream, emits `stream-error` (`byPeer: false`) and `closed`. Sticky.
   */
  abort(condition: StreamErrorCondition, text: string | undefined, now: number): void;
}
