/**
 * Options and events of the server-to-server roles (RFC 6120 with `jabber:server`, XEP-0220 dialback).
 *
 * @module
 */
import type { SessionOptions, TlsPolicy } from "../session-types.js";

/** `jabber:server:dialback` (XEP-0220): the namespace of `<db:result/>` and `<db:verify/>`. */
export const NS_DIALBACK = "jabber:server:dialback";
/** `urn:xmpp:features:dialback` (XEP-0220 §2.1): the stream feature that offers dialback. */
export const NS_DIALBACK_FEATURE = "urn:xmpp:features:dialback";

/** Options of the initiating server's session. */
export interface S2SInitiatorOptions extends SessionOptions {
  /** Our domain: the stream header's `from` (RFC 6120 §4.7.1: required on s2s). */
  from: string;
  /** The peer's domain: the stream header's `to`. */
  to: string;
  /** Default `"required"` (RFC 6120 §5.3.1: mandatory-to-negotiate by local policy, §13.7.2 for s2s). */
  tls?: TlsPolicy;
  /**
   * The dialback secret (XEP-0185 keys). Without it the session authenticates only with SASL EXTERNAL.
   * Password-equivalent for the domain: keep it out of logs.
   */
  dialbackSecret?: string;
  /**
   * `"authenticate"` (default): authenticate `from` to `to` (EXTERNAL, else dialback) and go online.
   * `"verify"`: a connection to an authoritative server only to send `<db:verify/>`
   * ({@link S2SInitiatorSession.sendDialbackVerify}); it never goes online and never authenticates.
   */
  purpose?: "authenticate" | "verify";
  /** Disable SASL EXTERNAL (always use dialback). Default false. */
  noExternal?: boolean;
  /**
   * Ask for a bidirectional stream (XEP-0288) when the receiving server offers it: it may then send
   * stanzas back over this stream (they arrive as `stanza` events). Default false.
   */
  bidi?: boolean;
}

/** Options of the receiving server's session. */
export interface S2SReceiverOptions extends SessionOptions {
  /** Default `"required"`. */
  tls?: TlsPolicy;
  /**
   * The dialback secret: answers `<db:verify/>` as the authoritative server (XEP-0220 §2.2). Without it
   * every `<db:verify/>` is answered `invalid`.
   */
  dialbackSecret?: string;
  /** Offer dialback (XEP-0220). Default true. */
  dialback?: boolean;
  /** Offer SASL EXTERNAL when the peer's certificate authenticates its domain. Default true. */
  external?: boolean;
  /** Offer XEP-0288 bidirectional streams. Default true. */
  bidi?: boolean;
  /** Dialback requests waiting for the application at once (beyond → `<policy-violation/>`). Default 16. */
  maxPendingDialback?: number;
}

/**
 * Receiving server: the originating server sent `<db:result from to>key</db:result>` (XEP-0220 §2.1.1).
 * Verify the key with the authoritative server of `from` (open or reuse an outbound stream to it and
 * send `<db:verify/>`), then answer with `answerDialbackResult(from, to, …)`. Input is not held
 * meanwhile: other domain pairs go on. Also check that this server serves `to`.
 */
export interface DialbackResultRequestEvent {
  readonly type: "dialback-result-request";
  /** The originating domain (the sender's). */
  readonly from: string;
  /** The receiving domain (ours). */
  readonly to: string;
  /** The dialback key to verify (XEP-0185). */
  readonly key: string;
  /** The id of our stream header, which the key was computed for (the `id` of the `<db:verify/>`). */
  readonly streamId: string;
}

/** Initiating server: the outcome of a `<db:result/>` we sent (the first, or a piggybacked pair). */
export interface DialbackResultEvent {
  readonly type: "dialback-result";
  /** The originating domain (ours). */
  readonly from: string;
  /** The receiving domain (the peer's). */
  readonly to: string;
  /** Whether the peer accepted the key: stanzas for this pair may flow. */
  readonly valid: boolean;
  /** For `type='error'` (XEP-0220 §2.4): the stanza error condition. */
  readonly condition?: string;
}

/** Initiating server (a connection to an authoritative server): the answer to our `<db:verify/>`. */
export interface DialbackVerifyResultEvent {
  readonly type: "dialback-verify-result";
  /** The receiving server (us), as we sent it. */
  readonly from: string;
  /** The originating domain whose key was checked. */
  readonly to: string;
  /** The stream id the key was computed for, as we sent it. */
  readonly id: string;
  /** Whether the authoritative server confirmed the key. */
  readonly valid: boolean;
}

/** Receiving server: a domain pair is authenticated on this stream (SASL EXTERNAL or dialback). */
export interface DomainAuthenticatedEvent {
  readonly type: "domain-authenticated";
  /** The originating domain. */
  readonly from: string;
  /** The receiving domain (ours). */
  readonly to: string;
  /** How: SASL EXTERNAL with a certificate (RFC 6120 §13.7), or Server Dialback (XEP-0220). */
  readonly method: "EXTERNAL" | "dialback";
}

/** The application's answer to a {@link DialbackResultRequestEvent}. */
export type DialbackAnswer =
  | { readonly valid: true }
  | { readonly valid: false; readonly condition?: "item-not-found" | "remote-server-not-found" | "remote-server-timeout" | "not-authorized" };

/** Events of the server-to-server roles (on top of the role's usual events). */
export type S2SEvent = DialbackResultRequestEvent | DialbackResultEvent | DialbackVerifyResultEvent | DomainAuthenticatedEvent;
