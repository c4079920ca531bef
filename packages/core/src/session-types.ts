// The public contract of the session core: options, events, and the sans-IO surface shared by both roles.
// Adapters (Node, Deno, WebSocket) are written against this file only.
import type { Jid } from "@xmpp-sansio/jid";
import type { CustomClientMechanism, CustomServerMechanism, ScramCrypto, ScramHashFunction } from "@xmpp-sansio/sasl";
import type { XmlElement, XmlLimits } from "@xmpp-sansio/xml";
import type { Sasl2ClientSettings, Sasl2ServerSettings } from "./features/sasl2/common.js";
import type { FeatureEvent, StreamFeature } from "./features/types.js";
import type { SessionFraming } from "./framings.js";
import type { ComponentSecretQuestionEvent } from "./component/types.js";
import type { CertIdentity } from "./s2s/identity.js";
import type { S2SEvent } from "./s2s/types.js";
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
  /**
   * Channel-binding data extracted from the TLS connection (RFC 5929, RFC 9266): what SCRAM-*-PLUS binds to. Empty
   * (`{}`) when the adapter cannot extract any; then no -PLUS mechanism is used or offered.
   */
  readonly channelBinding: ChannelBindingData;
  /**
   * Server role, SASL EXTERNAL: the identities the client certificate was verified for (e.g. xmppAddr
   * or dNSName), if the adapter verified one. Undefined when there is no client certificate.
   */
  readonly peerIdentities?: readonly string[];
  /**
   * Server-to-server: the verified certificate's identities by type (DNS-ID, SRV-ID, XmppAddr), for the
   * RFC 6125 checks of `matchesXmppServerIdentity`. Plain `peerIdentities` count as DNS-IDs.
   */
  readonly peerCertIdentities?: readonly CertIdentity[];
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
  /**
   * Keepalive (online): after this long without a byte from the peer, probe it — XEP-0198 `<r/>` when
   * Stream Management is on; otherwise a XEP-0199 ping (client) or a whitespace keepalive (server, as
   * Prosody's `read_timeout`). A quiet peer that answers stays; see `keepaliveAnswerMs`.
   * Default: client 240 000 (4 min), server 840 000 (14 min, Prosody's default).
   */
  keepaliveMs: number;
  /**
   * How long a probe that expects an answer (`<r/>`, ping) may stay unanswered — no byte at all — before
   * the peer is declared dead: the stream ends with `<connection-timeout/>` (a broken stream: an SM
   * session stays resumable). Default 60 000.
   */
  keepaliveAnswerMs: number;
}

/** Options common to both roles. */
export interface SessionOptions {
  /**
   * The framing: `"stream"` (the default) or `"websocket"`, or a framing value (`streamFraming`,
   * `webSocketFraming`). `LeanClientSession` and `LeanClientLifecycle` take a value only (so that a bundle
   * holds only the framing it uses) and throw a `TypeError` without one.
   */
  framing?: Framing | SessionFraming;
  /** Fills the array with random bytes. Default `globalThis.crypto.getRandomValues`. Inject for tests. */
  random?: (bytes: Uint8Array) => void;
  /**
   * Deadlines in milliseconds, each overriding the default of its role (`DEFAULT_TIMEOUTS`,
   * `DEFAULT_KEEPALIVE_MS`): connection, negotiation, close, IQ, keepalive.
   */
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
  /**
   * The application's own SASL mechanisms (`CustomClientMechanism` of `@xmpp-sansio/sasl`), preferred
   * in this order over the built-in ones when the server offers them.
   */
  customMechanisms?: readonly CustomClientMechanism[];
  /**
   * SCRAM's PBKDF2 (up to `maxScramIterations` rounds of HMAC chosen by the server): `"inline"` (default)
   * computes it inside `receive()` with pure JS; `"ask"` emits `derive-key` and waits for
   * `supplyDerivedKey()`, so the adapter derives it with `node:crypto`/WebCrypto, off the event loop.
   * The adapters of this project use `"ask"`.
   */
  deriveKey?: "inline" | "ask";
  /** Minimum SCRAM iteration count accepted from the server. Default 4096. */
  minScramIterations?: number;
  /**
   * Maximum SCRAM iteration count accepted from the server: bounds the PBKDF2 work a server can make the
   * client do. Default 100 000 (`DEFAULT_CLIENT_MAX_ITERATIONS`): 10–25× what servers use (4096 in
   * ejabberd and RFC 7677's minimum, 10 000 in Prosody's default store), and at most ~1 s of pure-JS
   * SHA-512 or ~0.1 s native. Above it the exchange ends with `<malformed-request/>`, never a hang.
   */
  maxScramIterations?: number;
  /**
   * Stream features of the application, negotiated after SASL and before resource binding, in this
   * order (e.g. `streamManagement()`). See `docs/core.md`.
   */
  features?: readonly StreamFeature[];
  /**
   * XEP-0388 SASL2 (with Bind2, FAST, inline SM): preferred when the server offers it, else RFC 6120
   * SASL. Default on with no user agent (so no FAST, no stable Bind2 resource); `false` turns it off.
   * See `docs/sasl2.md`.
   */
  sasl2?: Sasl2ClientSettings | false;
  /**
   * Force the channel-binding type of SCRAM-*-PLUS. Default: the server's XEP-0440 list, else the binding
   * of the TLS version in use (`tls-unique` up to 1.2, `tls-exporter` on 1.3).
   */
  channelBindingType?: "tls-exporter" | "tls-unique" | "tls-server-end-point";
}

/** Server (receiving entity) options. */
export interface ServerOptions extends SessionOptions {
  /** Default `"required"`. */
  tls?: TlsPolicy;
  /** Mechanisms offered, in order. -PLUS variants are added when channel binding data exists. */
  mechanisms?: readonly string[];
  /** Allow PLAIN before TLS. Default false. */
  allowPlainInClear?: boolean;
  /** The application's own SASL mechanisms (`CustomServerMechanism`), offered before the built-in ones. */
  customMechanisms?: readonly CustomServerMechanism[];
  /** Offer XEP-0388 SASL2 (Bind2, FAST, tasks) beside RFC 6120 SASL. Default off. See `docs/sasl2.md`. */
  sasl2?: Sasl2ServerSettings;
  /**
   * Channel binding a client asks for that this connection lacks (`tls-unique` on TLS 1.3): `lenient`
   * (default) refuses without counting a failed credential and takes a later GS2 `y` on the same stream
   * as honest; `strict` treats both as failures. See `docs/sasl.md`.
   */
  channelBindingPolicy?: "lenient" | "strict";
  /**
   * SCRAM's H and HMAC for SASL and SASL2 exchanges, e.g. a platform's native ones (the Node server adapter
   * passes `node:crypto`'s). Default: the pure-JS ones of `@xmpp-sansio/sasl`.
   */
  scramCrypto?: ScramCrypto;
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
  /** The account's random salt, raw bytes (the `s=` of RFC 5802 §5.1, base64 on the wire). */
  readonly salt: Uint8Array;
  /** The PBKDF2 iteration count the keys were derived with (`i=`; RFC 7677 asks for at least 4096). */
  readonly iterations: number;
  /** `StoredKey := H(ClientKey)` (RFC 5802 §3), raw bytes: verifies the client's proof. */
  readonly storedKey: Uint8Array;
  /** `ServerKey := HMAC(SaltedPassword, "Server Key")` (RFC 5802 §3), raw bytes: signs the server's answer. */
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

/**
 * The peer's stream header arrived (RFC 6120 §4.7): its attributes, for logging and the application's checks (the
 * session already validated them).
 */
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
  /**
   * Bytes received after the STARTTLS boundary (`<proceed/>`'s `>`): the start of the TLS handshake. Feed them to
   * TLS first; never parse them as XML (CVE-2011-0411 class).
   */
  readonly tlsBytes: Uint8Array;
}

/** Negotiation is complete: `jid` is the full JID bound to this session. */
export interface OnlineEvent {
  readonly type: "online";
  /** The full JID bound to this session (RFC 6120 §7), possibly with a resource the server chose. */
  readonly jid: Jid;
  /** True when the session came back through XEP-0198 resumption (same JID, same presence). */
  readonly resumed?: boolean;
}

/** An incoming stanza (message, presence, or an iq that is not the answer to a tracked request). */
export interface StanzaEvent {
  readonly type: "stanza";
  /**
   * The stanza as received; on the server its `from` is already stamped with the client's full JID (RFC 6120
   * §8.1.2.1).
   */
  readonly stanza: XmlElement;
}

/** Client: the answer to an IQ sent with `sendIq` (type result or error). */
export interface IqResponseEvent {
  readonly type: "iq-response";
  /** The id `sendIq` returned for the request. */
  readonly id: string;
  /** The `<iq type='result'/>` or `<iq type='error'/>` answer (see `parseStanzaError` for the error). */
  readonly stanza: XmlElement;
}

/** Client: a tracked IQ got no answer in time. */
export interface IqTimeoutEvent {
  readonly type: "iq-timeout";
  /**
   * The id `sendIq` returned for the request that got no answer within its timeout (or before the session closed).
   */
  readonly id: string;
}

/** SASL failed (client: the server said `<failure/>`; server: we refused the client). */
export interface AuthFailedEvent {
  readonly type: "auth-failed";
  /** The SASL failure condition (RFC 6120 §6.5, e.g. `not-authorized`, `aborted`) — see `docs/errors.md`. */
  readonly condition: string;
  /** The `<text/>` of the failure, if any: human-readable, for logs (never show a server's text as trusted). */
  readonly text?: string;
  /** Client: whether `supplyCredentials()` may be called to try again. */
  readonly canRetry: boolean;
}

/** Client: SASL succeeded (the stream restarts next). */
export interface AuthenticatedEvent {
  readonly type: "authenticated";
  /** The SASL mechanism that succeeded, e.g. `SCRAM-SHA-256-PLUS`. */
  readonly mechanism: string;
  /** Server role: the authenticated account (localpart) and requested authzid. */
  readonly username?: string;
}

/** Client: no password configured; answer with `supplyCredentials()`. */
export interface CredentialsNeededEvent {
  readonly type: "credentials-needed";
  /**
   * The mechanism chosen, so the application knows what kind of secret to supply (a password for PLAIN and SCRAM).
   */
  readonly mechanism: string;
}

/**
 * Client, `deriveKey: "ask"`: compute `PBKDF2-HMAC-hash(password, salt, iterations, length)` (SCRAM's
 * SaltedPassword, RFC 5802 §3) and answer with `supplyDerivedKey()`. Input is held until then.
 * `password` is the prepared password in UTF-8: password-equivalent, do not keep it.
 */
export interface DeriveKeyEvent {
  readonly type: "derive-key";
  /** The HMAC hash of the SCRAM variant. */
  readonly hash: "SHA-1" | "SHA-256" | "SHA-512";
  /** The prepared password (RFC 8265 OpaqueString), UTF-8. Password-equivalent: do not keep it. */
  readonly password: Uint8Array;
  /** The server's salt, raw bytes. */
  readonly salt: Uint8Array;
  /** The server's iteration count, already checked against `minScramIterations`/`maxScramIterations`. */
  readonly iterations: number;
  /** Output length in bytes: the hash's size (20, 32 or 64). */
  readonly length: number;
  /** The mechanism's hash function, for a pure-JS derivation where no native one exists (`hashFunction.pbkdf2(password, salt, iterations)`). */
  readonly hashFunction: ScramHashFunction;
}

/** Server: does this session serve `domain` (the client's `to`)? Answer with `answerHost()`. */
export interface HostQuestionEvent {
  readonly type: "host-check";
  /** The domain the client addressed (the stream header's `to`), already prepared (RFC 7622 §3.2). */
  readonly domain: string;
}

/** Server, SCRAM: the stored credentials for `username`. Answer with `answerScramCredentials()`. */
export interface ScramCredentialsQuestionEvent {
  readonly type: "scram-credentials";
  /** The SCRAM mechanism in use (e.g. `SCRAM-SHA-256`): pick the stored keys of its hash. */
  readonly mechanism: string;
  /** The account (SASL authcid), prepared with PRECIS UsernameCaseMapped (RFC 8265 §3.3). */
  readonly username: string;
  /** The authorization identity the client asked for, if any; refuse it unless the account may act as it. */
  readonly authzid?: string;
}

/** Server, PLAIN: is this password right? Answer with `answerPassword()`. */
export interface PasswordQuestionEvent {
  readonly type: "verify-password";
  /** The account (SASL authcid), prepared with PRECIS UsernameCaseMapped (RFC 8265 §3.3). */
  readonly username: string;
  /** The password the client sent, prepared (RFC 8265 OpaqueString). Compare in constant time; never log it. */
  readonly password: string;
  /** The authorization identity the client asked for, if any. */
  readonly authzid?: string;
}

/** Server, EXTERNAL: which account do these certificate identities map to? Answer with `answerExternal()`. */
export interface ExternalQuestionEvent {
  readonly type: "external-identity";
  /**
   * The identities the client certificate was verified for (from `TlsInfo.peerIdentities`), e.g. xmppAddr or
   * dNSName values.
   */
  readonly peerIdentities: readonly string[];
  /** The authorization identity the client asked for, if any (XEP-0178: the account to log in as). */
  readonly authzid?: string;
}

/** Server: the client wants to bind `resource` (generated by us if it asked for none). Answer with `answerBind()`. */
export interface BindQuestionEvent {
  readonly type: "bind-request";
  /** The authenticated account (localpart). */
  readonly username: string;
  /** The resource to bind: the client's, prepared (RFC 7622 §3.4), or one we generated. */
  readonly resource: string;
  /** True when the client sent no resource and `resource` was generated. */
  readonly generated: boolean;
}

/** A stream error ended the session (sent by us, or received from the peer). */
export interface StreamErrorEvent {
  readonly type: "stream-error";
  /** The stream error condition (RFC 6120 §4.9.3, e.g. `not-well-formed`, `conflict`) — see `docs/errors.md`. */
  readonly condition: string;
  /** The `<text/>` of the error, if any. */
  readonly text?: string;
  /** True when the peer sent the error; false when we did (our own `abort`, or a fault of the peer we detected). */
  readonly byPeer: boolean;
  /** Peer's `<see-other-host/>` (RFC 6120 §4.9.3.19): the validated `host[:port]` to reconnect to. */
  readonly seeOtherHost?: string;
  /** Peer's application-specific condition element (RFC 6120 §4.9.4), if any. */
  readonly applicationCondition?: XmlElement;
}

/** The session is over. Write what `pollTransmit()` still has, then close the transport. */
export interface ClosedEvent {
  readonly type: "closed";
  /**
   * Why: `closed` (we closed gracefully), `peer-closed`, `stream-error`, `transport-closed` (the adapter reported
   * it), `timeout` (a deadline passed), `auth-failed` (SASL gave up).
   */
  readonly reason: "closed" | "peer-closed" | "stream-error" | "transport-closed" | "timeout" | "auth-failed";
  /** WebSocket framing: the peer's `<close see-other-uri='…'/>` (RFC 7395 §3.7), a URI to reconnect to. */
  readonly seeOtherUri?: string;
}

/** Client: resource binding (or the legacy session request) was refused (RFC 6120 §7.7.2); the stream closes. */
export interface BindFailedEvent {
  readonly type: "bind-failed";
  /** The stanza error condition from the server, e.g. `conflict`, `not-allowed`. */
  readonly condition: string;
  /** The `<text/>` of the error, if any. */
  readonly text?: string;
}

// -------------------------------------------------------------------------------------------------
// XEP-0198 Stream Management events (only with the `streamManagement()` feature loaded).

/** SM is on: the peer answered `<enable/>` with `<enabled/>` (XEP-0198 §3). */
export interface SmEnabledEvent {
  readonly type: "sm-enabled";
  /** The resumption id, when the session is resumable. */
  readonly id?: string;
  /** Whether the session can be resumed after a disconnection (XEP-0198 §5). */
  readonly resumable: boolean;
  /** Seconds the server keeps a detached session (its `max`). */
  readonly max?: number;
  /** Client: the server's preferred reconnection address for resumption (`location`). */
  readonly location?: string;
}

/** Client: the server refused to enable SM, or to resume (then `resume: true`; binding follows). */
export interface SmFailedEvent {
  readonly type: "sm-failed";
  /** The stanza error condition of `<failed/>` (XEP-0198 §3, §5), e.g. `item-not-found` for an expired session. */
  readonly condition: string;
  /** True when resumption failed (the client binds a new session next); false when enabling failed. */
  readonly resume: boolean;
}

/** Client: the server acknowledged this stanza (XEP-0198 `<a h/>`): it was handled. */
export interface StanzaAckedEvent {
  readonly type: "stanza-acked";
  /** The stanza we sent, now acknowledged. */
  readonly stanza: XmlElement;
}

/**
 * Client: this stanza was sent but is lost for good: the stream was closed, or the session could not be
 * resumed, before the server acknowledged it (XEP-0198 §6). The application may send it again.
 */
export interface StanzaFailedEvent {
  readonly type: "stanza-failed";
  /** The stanza we sent that is lost. */
  readonly stanza: XmlElement;
  /**
   * `closed`: the stream was closed cleanly (by us or the peer) before the ack; `not-resumable`: the stream broke
   * and the session was not resumable; `resume-failed`: the server refused to resume it (`<failed/>`).
   */
  readonly reason: "closed" | "not-resumable" | "resume-failed";
}

/** Server: the client asks to resume `previd` (XEP-0198 §5). Answer with `answerResume()` on the SM half. */
export interface ResumeRequestEvent {
  readonly type: "resume-request";
  /** The resumption id of the session the client wants back (`<resume previd/>`). */
  readonly previd: string;
  /** The client's `h`: stanzas it handled of the old session's. */
  readonly h: number;
}

/**
 * Server: the session ended while resumable (transport lost, timeout, stream error): keep `state` for
 * `state.max` seconds (`DetachedSessions`), deliver stanzas for the JID into it, and resume it when asked.
 */
export interface SmDetachedEvent {
  readonly type: "sm-detached";
  /** The session's state (JSON-serializable): keep it for `state.max` seconds and pass it to `answerResume`. */
  readonly state: SmState;
}

/**
 * Server: stanzas the client never acknowledged, on a session that ended for good. XEP-0198 §6: treat
 * them as stanzas to an unavailable resource — an error to the sender, or offline storage.
 */
export interface UndeliveredEvent {
  readonly type: "undelivered";
  /** The unacknowledged stanzas, in the order they were sent. */
  readonly stanzas: readonly XmlElement[];
}

/**
 * The state of an XEP-0198 session as plain JSON: what resumption needs after the transport — or the
 * whole process — is gone. Client: `streamManagement({ resume: state })`; server: `answerResume`.
 */
export interface SmState {
  /** Format version of this JSON; 1 is the only one. */
  readonly v: 1;
  /** The resumption id (`<enabled id/>`). */
  readonly id: string;
  /** The full JID bound to the session. */
  readonly jid: string;
  /** Stanzas we handled of the peer's (our `h`, modulo 2^32). */
  readonly inbound: number;
  /** The peer's last `h`: our stanzas it acknowledged (modulo 2^32). */
  readonly acked: number;
  /** Our stanzas sent after `acked`, serialized, oldest first. */
  readonly unacked: readonly string[];
  /** Seconds the server keeps the detached session. */
  readonly max?: number;
  /** Client: the server's `location` for resumption. */
  readonly location?: string;
}

/** Every event a `ClientSession` emits, discriminated by `type` (see `docs/core.md`, "Events"). */
export type ClientEvent =
  | StreamOpenedEvent
  | StartTlsEvent
  | CredentialsNeededEvent
  | DeriveKeyEvent
  | AuthenticatedEvent
  | AuthFailedEvent
  | OnlineEvent
  | StanzaEvent
  | IqResponseEvent
  | IqTimeoutEvent
  | BindFailedEvent
  | SmEnabledEvent
  | SmFailedEvent
  | StanzaAckedEvent
  | StanzaFailedEvent
  | FeatureEvent
  | S2SEvent
  | StreamErrorEvent
  | ClosedEvent;

/** Every event a `ServerSession` emits, discriminated by `type` (see `docs/core.md`, "Events"). */
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
  | SmEnabledEvent
  | ResumeRequestEvent
  | SmDetachedEvent
  | UndeliveredEvent
  | FeatureEvent
  | S2SEvent
  | ComponentSecretQuestionEvent
  | StreamErrorEvent
  | ClosedEvent;

/** The sans-IO surface both roles share. Nothing here blocks, reads a clock, or does I/O. */
export interface SansIoSession<E> {
  /**
   * The coarse state: `idle`, `negotiating`, `tls-handshake`, `online`, `closing` or `closed` (see `docs/core.md`,
   * "State machine").
   */
  readonly state: SessionState;
  /** Stream framing: bytes from the transport, in any chunking. */
  receive(bytes: Uint8Array, now: number): void;
  /**
   * WebSocket framing: one received message. `binary` frames are refused (RFC 7395 §3.2); text frames
   * may be given as a string or as its UTF-8 bytes.
   */
  receiveMessage(message: string | Uint8Array, binary: boolean, now: number): void;
  /**
   * WebSocket framing: the text messages of one transport read, in order — the same as one
   * `receiveMessage(m, false, now)` per message, in one pass (clean messages are parsed together; the
   * output cap is measured once). Optional for other implementations: adapters fall back to
   * `receiveMessage` per message.
   */
  receiveMessages?(messages: readonly (string | Uint8Array)[], now: number): void;
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
  /** Runs what is due at `now` (deadlines, keepalive probes, IQ timeouts); call it at or after `nextTimeout()`. */
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
