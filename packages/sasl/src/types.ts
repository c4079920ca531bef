/**
 * Shared data model: mechanism names, channel bindings, randomness, identities.
 *
 * @module
 */

/** The SCRAM hash functions this package implements (RFC 5802, RFC 7677, and SHA-512 as registered by IANA). */
export type ScramHash = "SHA-1" | "SHA-256" | "SHA-512";

/** Every SCRAM mechanism name, with and without channel binding. */
export type ScramMechanismName =
  | "SCRAM-SHA-1"
  | "SCRAM-SHA-1-PLUS"
  | "SCRAM-SHA-256"
  | "SCRAM-SHA-256-PLUS"
  | "SCRAM-SHA-512"
  | "SCRAM-SHA-512-PLUS";

/** The one-message mechanisms (PLAIN, ANONYMOUS, EXTERNAL): an initial response, no challenge. */
export type OneShotMechanismName = "PLAIN" | "ANONYMOUS" | "EXTERNAL";

/** Every mechanism name this package implements. */
export type MechanismName = OneShotMechanismName | ScramMechanismName;

/** All implemented mechanism names, strongest SCRAM first. */
export const MECHANISM_NAMES: readonly MechanismName[] = Object.freeze([
  "SCRAM-SHA-512-PLUS",
  "SCRAM-SHA-256-PLUS",
  "SCRAM-SHA-1-PLUS",
  "SCRAM-SHA-512",
  "SCRAM-SHA-256",
  "SCRAM-SHA-1",
  "PLAIN",
  "EXTERNAL",
  "ANONYMOUS",
] as const);

/**
 * TLS channel-binding types (IANA "Channel-Binding Types" registry): `tls-unique` and
 * `tls-server-end-point` (RFC 5929), `tls-exporter` (RFC 9266, TLS 1.3).
 */
export type ChannelBindingType = "tls-unique" | "tls-server-end-point" | "tls-exporter";

/** All channel-binding types this package knows, strongest first (XEP-0440 recommends `tls-exporter`). */
export const CHANNEL_BINDING_TYPES: readonly ChannelBindingType[] = Object.freeze([
  "tls-exporter",
  "tls-unique",
  "tls-server-end-point",
] as const);

/** Channel-binding data for one type, as the transport adapter obtained it from the TLS layer. */
export interface ChannelBinding {
  /** The channel-binding type. */
  readonly type: ChannelBindingType;
  /** The raw channel-binding data (e.g. 32 bytes of TLS exporter output for `tls-exporter`). */
  readonly data: Uint8Array;
}

/**
 * A source of randomness: returns `length` fresh random bytes. The default reads
 * `globalThis.crypto.getRandomValues`; tests inject a deterministic one.
 */
export type RandomBytes = (length: number) => Uint8Array;

/** The identity a server-side mechanism established on success. */
export interface SaslIdentity {
  /** The mechanism that authenticated the client. */
  readonly mechanism: string;
  /**
   * The authentication identity: the SCRAM/PLAIN username as sent (SCRAM `saslname` unescaped), the
   * identity the application supplied for EXTERNAL, and `""` for ANONYMOUS.
   */
  readonly authcid: string;
  /** The authorization identity the client asked for, or `undefined` if it sent none. */
  readonly authzid: string | undefined;
  /** ANONYMOUS only: the trace information the client sent, if any. */
  readonly trace?: string;
}

/**
 * Decide whether `authcid` may act as `authzid`. Called only when the client sent an authzid that is
 * not byte-for-byte equal to the authcid. Must be synchronous and side-effect free; for XMPP a typical
 * policy is `(authcid, authzid) => authzid === \`${authcid}@${domain}\``.
 */
export type AuthzidPolicy = (authcid: string, authzid: string) => boolean;

interface CryptoLike {
  getRandomValues(array: Uint8Array): Uint8Array;
}

/**
 * The default {@link RandomBytes}: `globalThis.crypto.getRandomValues`, which exists in browsers,
 * workers, Deno and Node ≥ 19. Throws a `TypeError` if the runtime has no Web Crypto.
 *
 * @param length - how many bytes
 * @returns `length` random bytes
 */
export const defaultRandomBytes: RandomBytes = (length) => {
  const c = (globalThis as { crypto?: CryptoLike }).crypto;
  if (c === undefined || typeof c.getRandomValues !== "function") {
    throw new TypeError("globalThis.crypto.getRandomValues is not available; inject a `random` function");
  }
  return c.getRandomValues(new Uint8Array(length));
};

/** Whether `name` is a SCRAM mechanism name this package implements. */
export function isScramMechanism(name: string): name is ScramMechanismName {
  return /^SCRAM-SHA-(1|256|512)(-PLUS)?$/.test(name);
}

/** Whether `name` is any mechanism name this package implements. */
export function isMechanismName(name: string): name is MechanismName {
  return (MECHANISM_NAMES as readonly string[]).includes(name);
}

/** Whether `type` is a channel-binding type this package implements. */
export function isChannelBindingType(type: string): type is ChannelBindingType {
  return (CHANNEL_BINDING_TYPES as readonly string[]).includes(type);
}
