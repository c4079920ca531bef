/**
 * The server-side mechanism contract: steps, questions and options.
 *
 * @module
 */
import type { AdvertisedMechanisms } from "./downgrade.js";
import type { SaslCondition, SaslErrorReason } from "./errors.js";
import type { AuthzidPolicy, ChannelBinding, MechanismName, RandomBytes, SaslIdentity, ScramHash } from "./types.js";

/**
 * SCRAM credentials as a server stores them (RFC 5802 §3): never the password.
 * Create them with {@link deriveScramCredentials}.
 */
export interface ScramCredentials {
  /** The per-account salt. */
  readonly salt: Uint8Array;
  /** The PBKDF2 iteration count. */
  readonly iterations: number;
  /** StoredKey = H(HMAC(SaltedPassword, "Client Key")). */
  readonly storedKey: Uint8Array;
  /** ServerKey = HMAC(SaltedPassword, "Server Key"). */
  readonly serverKey: Uint8Array;
}

/** Send this challenge (possibly empty) to the client. */
export interface ServerChallengeStep {
  /** Discriminant. */
  readonly kind: "challenge";
  /** The challenge bytes (empty when the client sent no initial response). */
  readonly data: Uint8Array;
}

/** Authentication succeeded. Send `<success/>` with `data` as additional data if present. */
export interface ServerSuccessStep {
  /** Discriminant. */
  readonly kind: "success";
  /** Additional data for `<success/>` (SCRAM: the server-final-message `v=…`). */
  readonly data?: Uint8Array;
  /** Who authenticated, and as whom they want to act. */
  readonly identity: SaslIdentity;
}

/** Authentication failed. Send `<failure/>` with `condition` (and `text`, which reveals nothing). */
export interface ServerFailureStep {
  /** Discriminant. */
  readonly kind: "failure";
  /** The RFC 6120 §6.5 condition to send. */
  readonly condition: SaslCondition;
  /** Finer reason, for logs and tests; may reveal more than `text` (e.g. `unknown-user`). */
  readonly reason: SaslErrorReason;
  /** A human-readable English text for `<text/>`; reveals no more than the condition. */
  readonly text: string;
  /** SCRAM: the RFC 5802 `server-error-value`, for profiles that can carry it (XEP-0388). */
  readonly scramError?: string;
}

/**
 * SCRAM asks for the stored credentials of `username`. Answer with
 * {@link ServerMechanism.supplyCredentials} (`null` for an unknown user: the exchange then continues
 * with fake credentials and fails at the proof, so user existence is not revealed), or refuse with
 * {@link ServerMechanism.refuse}.
 */
export interface CredentialsNeededQuestion {
  /** Discriminant. */
  readonly kind: "credentials-needed";
  /** The SCRAM mechanism in use. */
  readonly mechanism: MechanismName;
  /** Its hash: the stored keys must be for this hash. */
  readonly hash: ScramHash;
  /** The username as the client sent it (saslname unescaped, otherwise unprepared). */
  readonly username: string;
  /** The authorization identity the client asked for (already checked against `allowAuthzid`). */
  readonly authzid: string | undefined;
}

/**
 * PLAIN asks the application to check a password. Answer with {@link ServerMechanism.verdict}.
 */
export interface VerifyPasswordQuestion {
  /** Discriminant. */
  readonly kind: "verify-password";
  /** Always `"PLAIN"`. */
  readonly mechanism: "PLAIN";
  /** The authcid as sent. */
  readonly username: string;
  /** The password exactly as sent. */
  readonly password: string;
  /** The password prepared with PRECIS OpaqueString, or `undefined` if the profile rejects it. */
  readonly preparedPassword: string | undefined;
  /** The authorization identity (already checked against `allowAuthzid`). */
  readonly authzid: string | undefined;
}

/** Questions a server mechanism asks the application. */
export type ServerQuestion = CredentialsNeededQuestion | VerifyPasswordQuestion;

/** The result of every server-side call. */
export type ServerStep = ServerChallengeStep | ServerSuccessStep | ServerFailureStep | ServerQuestion;

/** Where a server mechanism is. */
export type ServerMechanismState =
  | "initial"
  | "awaiting-response"
  | "awaiting-answer"
  | "succeeded"
  | "failed";

/**
 * A server-side SASL mechanism. Every call returns the next {@link ServerStep}; peer errors become
 * `failure` steps, application misuse throws `TypeError`. After `success` or `failure`, the mechanism
 * is finished and further calls throw.
 */
export interface ServerMechanism {
  /** The mechanism name. */
  readonly name: string;
  /** The current state. */
  readonly state: ServerMechanismState;
  /**
   * The client chose this mechanism. `null` = no initial response: the step is an empty challenge
   * and the client's next response is treated as the initial response.
   */
  start(initialResponse: Uint8Array | null): ServerStep;
  /** A `<response/>` from the client, decoded. */
  response(data: Uint8Array): ServerStep;
  /** Answer a `credentials-needed` question (SCRAM). */
  supplyCredentials(credentials: ScramCredentials | null): ServerStep;
  /**
   * Answer a `verify-password` question (PLAIN): `true` accepts, `false` fails with
   * `not-authorized`, a condition fails with that condition (e.g. `account-disabled`).
   */
  verdict(result: boolean | SaslCondition): ServerStep;
  /** Refuse a pending question with a condition (e.g. `account-disabled`, `temporary-auth-failure`). */
  refuse(condition: SaslCondition, text?: string): ServerStep;
  /** The client sent `<abort/>`: returns a failure step with `aborted`. */
  abort(): ServerStep;
}

/** SCRAM's hash primitives, when the platform has faster ones than the pure-JS defaults. */
export interface ScramCrypto {
  /** H(data): the digest of `data` with `hash`. */
  digest(hash: ScramHash, data: Uint8Array): Uint8Array;
  /** HMAC(key, data) with `hash`. */
  hmac(hash: ScramHash, key: Uint8Array, data: Uint8Array): Uint8Array;
}

/** Options for {@link createServerMechanism}. */
export interface ServerMechanismOptions {
  /**
   * Channel-binding data for this connection, one entry per type the server supports (the adapter
   * supplies it). `-PLUS` mechanisms check the client's data byte for byte against the entry of the
   * type the client names.
   */
  readonly channelBindings?: readonly ChannelBinding[];
  /**
   * Whether the server offered any `-PLUS` mechanism on this stream. A non-PLUS SCRAM exchange whose
   * client sent the GS2 flag `y` is then a downgrade and fails. Default: `true` when
   * `channelBindings` is non-empty.
   */
  readonly offeredPlus?: boolean;
  /**
   * Who may act as whom when the client sends an authzid different from its authcid. `false`
   * (default) refuses with `invalid-authzid`; `true` allows everything (then the application must
   * authorize `identity.authzid` itself); a function decides.
   */
  readonly allowAuthzid?: boolean | AuthzidPolicy;
  /** Random source for the server nonce and fake salts (default `globalThis.crypto`). */
  readonly random?: RandomBytes;
  /** A fixed server nonce part (test vectors only). Printable ASCII without `,`. */
  readonly nonce?: string;
  /** XEP-0474: what the server advertised; adds `h=` to the server-first-message. */
  readonly downgradeProtection?: AdvertisedMechanisms;
  /**
   * Unknown users get fake SCRAM parameters. With a secret, the fake salt is
   * HMAC-SHA-256(secret, username), so it stays the same across attempts (as a real one would).
   */
  readonly fakeSaltSecret?: Uint8Array;
  /** Iteration count announced for unknown users (default 4096). */
  readonly fakeIterations?: number;
  /**
   * SCRAM's H and HMAC for the exchange (RFC 5802 §2.2), e.g. a platform's native ones (the Node server
   * passes `node:crypto`'s: ≈3.5 µs per HMAC-SHA-1 against ≈8 µs in pure JS). Default: this package's. PBKDF2
   * is never run by the server for a SCRAM exchange (it has the stored keys).
   */
  readonly crypto?: ScramCrypto;
  /**
   * EXTERNAL: the identities established outside SASL for this connection (e.g. the XmppAddr/JIDs of
   * a verified client certificate). An empty authzid selects the only identity; with several, the
   * client must name one as authzid.
   */
  readonly externalIdentities?: readonly string[];
}
