/**
 * Options and events of XEP-0114 (Jabber Component Protocol) sessions.
 *
 * @module
 */
import type { SessionOptions, TlsPolicy } from "../session-types.js";

/** `jabber:component:accept` (XEP-0114): the content namespace of a component stream. */
export const NS_COMPONENT_ACCEPT = "jabber:component:accept";

/** Options of a component connecting to a server. */
export interface ComponentOptions extends SessionOptions {
  /** The component's domain (the stream header's `to`). */
  domain: string;
  /** The shared secret (password-equivalent: keep it out of logs). */
  secret: string;
  /**
   * Default `"none"`: XEP-0114 has no STARTTLS; protect the connection by other means (loopback, a
   * Direct TLS port: `"direct"`).
   */
  tls?: "none" | "direct";
}

/** Options of a server accepting components. */
export interface ComponentServerOptions extends SessionOptions {
  /** Default `"none"` (see {@link ComponentOptions.tls}). */
  tls?: Extract<TlsPolicy, "none" | "direct">;
}

/**
 * Server: the component for `domain` sent its handshake; answer with `answerComponentSecret(secret)`
 * (or `null` for an unknown component). Input is held meanwhile.
 */
export interface ComponentSecretQuestionEvent {
  readonly type: "component-secret";
  /** The component's domain (the `to` of its stream header, XEP-0114 §3), prepared. */
  readonly domain: string;
}
