/**
 * SASL failure conditions (RFC 6120 §6.5) and the error value every mechanism returns for anything
 * the peer caused. Peer-caused problems are values; application misuse throws `TypeError`.
 *
 * @module
 */

/** The SASL failure conditions of RFC 6120 §6.5, as element names. */
export type SaslCondition =
  | "aborted"
  | "account-disabled"
  | "credentials-expired"
  | "encryption-required"
  | "incorrect-encoding"
  | "invalid-authzid"
  | "invalid-mechanism"
  | "malformed-request"
  | "mechanism-too-weak"
  | "not-authorized"
  | "temporary-auth-failure";

/** All RFC 6120 §6.5 conditions. */
export const SASL_CONDITIONS: readonly SaslCondition[] = Object.freeze([
  "aborted",
  "account-disabled",
  "credentials-expired",
  "encryption-required",
  "incorrect-encoding",
  "invalid-authzid",
  "invalid-mechanism",
  "malformed-request",
  "mechanism-too-weak",
  "not-authorized",
  "temporary-auth-failure",
] as const);

/** Whether `name` is one of the RFC 6120 §6.5 condition names. */
export function isSaslCondition(name: string): name is SaslCondition {
  return (SASL_CONDITIONS as readonly string[]).includes(name);
}

/**
 * A machine-readable reason, finer than the condition, so that applications and tests can tell
 * refusals apart (several reasons share `malformed-request` or `not-authorized`).
 */
export type SaslErrorReason =
  // generic
  | "invalid-base64"
  | "invalid-utf8"
  | "unexpected-message"
  | "unexpected-additional-data"
  | "aborted"
  // PLAIN / ANONYMOUS / EXTERNAL
  | "malformed-plain-message"
  | "empty-authcid"
  | "empty-password"
  | "authzid-not-allowed"
  | "invalid-trace"
  | "no-external-identity"
  | "credentials-rejected"
  // SCRAM syntax
  | "malformed-scram-message"
  | "invalid-gs2-header"
  | "invalid-saslname"
  | "mandatory-extension"
  | "unknown-attribute-order"
  | "invalid-nonce"
  | "nonce-mismatch"
  | "invalid-salt"
  | "invalid-iteration-count"
  | "iteration-count-too-low"
  | "iteration-count-too-high"
  | "invalid-proof"
  // SCRAM channel binding
  | "channel-binding-required"
  | "channel-binding-not-supported"
  | "unsupported-channel-binding-type"
  | "channel-binding-mismatch"
  | "channel-binding-downgrade"
  // SCRAM outcome
  | "proof-mismatch"
  | "unknown-user"
  | "server-error"
  | "server-signature-missing"
  | "server-signature-mismatch"
  | "premature-success"
  | "downgrade-protection-mismatch"
  | "downgrade-protection-missing";

/**
 * A SASL error value: returned (never thrown) when the peer's data is refused or the peer reported
 * a failure. Discriminate with {@link isSaslError} or `kind === "sasl-error"`.
 */
export interface SaslError {
  /** Discriminant. */
  readonly kind: "sasl-error";
  /** The RFC 6120 §6.5 condition that describes the failure best. */
  readonly condition: SaslCondition;
  /** A finer, machine-readable reason. */
  readonly reason: SaslErrorReason;
  /** A human-readable English explanation. */
  readonly text: string;
  /** SCRAM only: the `e=` server-error-value (RFC 5802 §7) when the server sent one. */
  readonly serverError?: string;
}

/** Build a frozen {@link SaslError}. */
export function saslError(
  condition: SaslCondition,
  reason: SaslErrorReason,
  text: string,
  serverError?: string,
): SaslError {
  return Object.freeze(
    serverError === undefined
      ? { kind: "sasl-error" as const, condition, reason, text }
      : { kind: "sasl-error" as const, condition, reason, text, serverError },
  );
}

/** Type guard for {@link SaslError}. */
export function isSaslError(value: unknown): value is SaslError {
  return (
    typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "sasl-error"
  );
}

/**
 * Map a SCRAM `server-error-value` (RFC 5802 §7) to the RFC 6120 condition a client reports.
 *
 * @param value - the text after `e=`
 * @returns the condition
 */
export function conditionForScramServerError(value: string): SaslCondition {
  switch (value) {
    case "invalid-encoding":
    case "invalid-username-encoding":
      return "incorrect-encoding";
    case "extensions-not-supported":
      return "malformed-request";
    case "no-resources":
      return "temporary-auth-failure";
    default:
      // invalid-proof, channel-bindings-dont-match, server-does-support-channel-binding,
      // channel-binding-not-supported, unsupported-channel-binding-type, unknown-user, other-error, …
      return "not-authorized";
  }
}
