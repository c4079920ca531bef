/**
 * The client-side mechanism contract and its options.
 *
 * @module
 */
import type { AdvertisedMechanisms } from "./downgrade.js";
import type { SaslError } from "./errors.js";
import type { ScramHashFunction } from "./hash.js";
import type { ChannelBinding, RandomBytes, ScramHash } from "./types.js";

/** Where a client mechanism is in its exchange. */
export type ClientMechanismState =
  | "initial" // nothing sent yet
  | "in-progress" // initial response sent, waiting for challenges or the outcome
  | "verified" // SCRAM: the server signature arrived in a challenge and verified
  | "succeeded" // finish() returned true
  | "failed"; // a SaslError was returned; every later call returns the same error

/**
 * A client-side SASL mechanism: a small synchronous state machine over raw bytes. The session core
 * base64-encodes its output into `<auth/>`/`<response/>` and feeds it the decoded payloads of
 * `<challenge/>` and `<success/>`.
 *
 * Errors the server causes are returned as {@link SaslError} values, and they are sticky: once one
 * is returned, every further call returns it again. Calling methods out of order (e.g. `challenge`
 * before `initialResponse`, or anything after success) throws `TypeError`.
 */
export interface ClientMechanism {
  /** The mechanism name to put in `<auth mechanism='…'>`. */
  readonly name: string;
  /** The current state. */
  readonly state: ClientMechanismState;
  /**
   * The initial response, to send with `<auth/>`. An empty array means "empty initial response"
   * (XMPP writes `=`); `null` would mean "no initial response" (none of the mechanisms here uses it).
   * Call exactly once, first.
   */
  initialResponse(): Uint8Array | null;
  /**
   * Handle a server challenge; returns the response to send, or an error (the core then sends
   * `<abort/>`).
   *
   * @param data - the decoded challenge
   */
  challenge(data: Uint8Array): Uint8Array | SaslError | KeyDerivationRequest;
  /**
   * SCRAM with `deriveKey: "ask"`: the SaltedPassword the application computed for the
   * {@link KeyDerivationRequest} that `challenge` returned. Returns the response to send, or an error.
   */
  supplySaltedPassword?(saltedPassword: Uint8Array): Uint8Array | SaslError;
  /**
   * The server sent `<success/>`. Pass its additional data, if any. Returns `true` only when the
   * mechanism is complete and — for SCRAM — the server proved knowledge of the credentials (`v=`);
   * otherwise an error, and the client must treat the session as unauthenticated.
   *
   * @param additionalData - the decoded `<success/>` payload, if there was one
   */
  finish(additionalData?: Uint8Array): true | SaslError;
}

/**
 * A cache of SCRAM SaltedPassword values so reconnects can skip PBKDF2. Entries are
 * password-equivalent for SCRAM: keep the cache in memory, per account, and drop it on logout.
 */
export interface SaltedPasswordCache {
  /** Look up a SaltedPassword. */
  get(key: SaltedPasswordCacheKey): Uint8Array | undefined;
  /** Store a SaltedPassword. */
  set(key: SaltedPasswordCacheKey, saltedPassword: Uint8Array): void;
}

/** What a SaltedPassword depends on. */
export interface SaltedPasswordCacheKey {
  /** The hash of the SCRAM mechanism. */
  readonly hash: ScramHash;
  /** The prepared (OpaqueString) password. */
  readonly password: string;
  /** The salt the server sent. */
  readonly salt: Uint8Array;
  /** The iteration count the server sent. */
  readonly iterations: number;
}

/** XEP-0474 options for the SCRAM client. */
export interface ClientDowngradeProtection extends AdvertisedMechanisms {
  /**
   * Fail when the server sends no `h` attribute. Default `false` (most servers do not implement
   * XEP-0474 yet); set it once you know (pinned) that the server does.
   */
  readonly required?: boolean;
}

/** Options for {@link createClientMechanism}. Which fields are required depends on the mechanism. */
export interface ClientMechanismOptions {
  /** Authentication identity (PLAIN, SCRAM). Sent as given; see the package docs on preparation. */
  readonly username?: string;
  /** Password (PLAIN, SCRAM). Prepared with PRECIS OpaqueString (RFC 8265). */
  readonly password?: string;
  /** Authorization identity (PLAIN, SCRAM, EXTERNAL). Empty string = none. */
  readonly authzid?: string;
  /** ANONYMOUS trace information (RFC 4505), at most 255 characters. */
  readonly trace?: string;
  /** Channel-binding data; required for `-PLUS` mechanisms, ignored otherwise. */
  readonly channelBinding?: ChannelBinding;
  /**
   * Non-PLUS SCRAM only: send the GS2 flag `y` ("I support channel binding but think you do not")
   * instead of `n`. Set it when the client has channel-binding data but the server offered no
   * `-PLUS` mechanism; {@link selectMechanism} computes it.
   */
  readonly clientSupportsChannelBinding?: boolean;
  /** Random source for the client nonce (default: 24 bytes from `globalThis.crypto`). */
  readonly random?: RandomBytes;
  /** A fixed client nonce (test vectors, interop tests). Printable ASCII without `,`. */
  readonly nonce?: string;
  /** Refuse a server iteration count below this (default 4096, RFC 5802 §5.1 / RFC 7677 §4). */
  readonly minIterations?: number;
  /** Refuse a server iteration count above this, which bounds PBKDF2 work (default 1_000_000). */
  readonly maxIterations?: number;
  /** XEP-0474 downgrade protection: what the server advertised. */
  readonly downgradeProtection?: ClientDowngradeProtection;
  /** Optional SaltedPassword cache. */
  readonly saltedPasswordCache?: SaltedPasswordCache;
  /**
   * SCRAM's hash functions as values ({@link sha256Hash}…): a SCRAM mechanism needs its own.
   * {@link createClientMechanism} defaults to all three ({@link SCRAM_HASH_FUNCTIONS});
   * {@link createLeanClientMechanism} has no default, so a bundle carries only the hashes named.
   */
  readonly scramHashes?: readonly ScramHashFunction[];
  /**
   * SCRAM's PBKDF2 (RFC 5802 §3 `Hi()`): `"inline"` (default) computes it in `challenge()` with the
   * package's pure-JS code; `"ask"` makes `challenge()` return a {@link KeyDerivationRequest} so the
   * application derives the key where it is fast and off the event loop (`node:crypto`, WebCrypto) and
   * answers with `supplySaltedPassword()`.
   */
  readonly deriveKey?: "inline" | "ask";
}

/**
 * SCRAM asks for `SaltedPassword := Hi(Normalize(password), salt, i)` — PBKDF2 with HMAC-`hash`, output
 * the hash's length (RFC 5802 §2.2, §3). Answer with {@link ClientMechanism.supplySaltedPassword}.
 */
export interface KeyDerivationRequest {
  readonly kind: "derive-key";
  /** The HMAC hash of the SCRAM variant (SCRAM-SHA-1, -256, -512; RFC 5802, RFC 7677). */
  readonly hash: "SHA-1" | "SHA-256" | "SHA-512";
  /** The prepared password, UTF-8 (RFC 8265 OpaqueString). Password-equivalent: do not keep it. */
  readonly password: Uint8Array;
  /** The salt the server sent in its first message (`s=`, base64-decoded), raw bytes. */
  readonly salt: Uint8Array;
  /** The iteration count `i` the server asked for, already checked against the mechanism's minimum and maximum. */
  readonly iterations: number;
  /** Output length in bytes (20, 32 or 64). */
  readonly length: number;
  /** The mechanism's hash function, for a pure-JS derivation (`hashFunction.pbkdf2(password, salt, iterations)`). */
  readonly hashFunction: ScramHashFunction;
}

/** Whether a `challenge()` result is a {@link KeyDerivationRequest}. */
export function isKeyDerivationRequest(x: unknown): x is KeyDerivationRequest {
  return typeof x === "object" && x !== null && (x as { kind?: unknown }).kind === "derive-key";
}
