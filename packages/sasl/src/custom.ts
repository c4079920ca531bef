/**
 * The mechanism set is open: an application brings its own mechanism (a token scheme, a newer SCRAM
 * variant) to either side as a value, without editing this package. It speaks the same small state
 * machine as the built-in ones ({@link ClientMechanism}, {@link ServerMechanism}); a server-side one may
 * ask the application the same questions (`verify-password`, `credentials-needed`) or decide alone.
 *
 * @module
 */
import type { ClientMechanism, ClientMechanismOptions } from "./client-types.js";
import type { ServerMechanism, ServerMechanismOptions } from "./server-types.js";

/** A client-side mechanism the application registers with a session (`customMechanisms`). */
export interface CustomClientMechanism {
  /** The SASL name (RFC 4422 §3.1: up to 20 of `A-Z 0-9 - _`). */
  readonly name: string;
  /** A fresh mechanism for one exchange (credentials, random source and policy in `options`). */
  create(options: ClientMechanismOptions): ClientMechanism;
}

/** A server-side mechanism the application registers with a session (`customMechanisms`). */
export interface CustomServerMechanism {
  /** The SASL name offered in `<mechanisms/>`. */
  readonly name: string;
  /** Whether it may be offered before TLS. Default false (like PLAIN). */
  readonly allowInClear?: boolean;
  /** A fresh mechanism for one exchange. */
  create(options: ServerMechanismOptions): ServerMechanism;
}

/** RFC 4422 §3.1 mechanism names. */
export function isValidMechanismName(name: string): boolean {
  return /^[A-Z0-9_-]{1,20}$/.test(name);
}
