/**
 * Client-side mechanisms: PLAIN (RFC 4616), ANONYMOUS (RFC 4505), EXTERNAL (RFC 4422 App. A) and the
 * SCRAM family, behind one factory.
 *
 * @module
 */
import { utf8EncodeOrThrow } from "./bytes.js";
import type { ClientMechanism, ClientMechanismOptions, ClientMechanismState } from "./client-types.js";
import { type SaslError, saslError } from "./errors.js";
import { preparePasswordOrThrow } from "./prep.js";
import { SCRAM_HASH_FUNCTIONS } from "./hash.js";
import { ScramClient } from "./scram-client.js";
import { isMechanismName, isScramMechanism, type MechanismName } from "./types.js";

/** A one-message mechanism: sends its initial response, expects no challenge and no additional data. */
class OneShotClient implements ClientMechanism {
  private phase: ClientMechanismState = "initial";
  private error: SaslError | undefined;

  constructor(
    readonly name: MechanismName,
    private readonly message: Uint8Array,
  ) {}

  get state(): ClientMechanismState {
    return this.phase;
  }

  initialResponse(): Uint8Array {
    if (this.phase !== "initial") throw new TypeError("initialResponse() may be called only once, first");
    this.phase = "in-progress";
    return this.message;
  }

  challenge(_data: Uint8Array): SaslError {
    if (this.phase === "initial") throw new TypeError("challenge() before initialResponse()");
    if (this.phase === "succeeded") throw new TypeError("challenge() after the exchange succeeded");
    if (this.phase === "failed") return this.error!;
    return this.fail(saslError("malformed-request", "unexpected-message", `${this.name} expects no challenge`));
  }

  finish(additionalData?: Uint8Array): true | SaslError {
    if (this.phase === "initial") throw new TypeError("finish() before initialResponse()");
    if (this.phase === "succeeded") throw new TypeError("finish() called twice");
    if (this.phase === "failed") return this.error!;
    if (additionalData !== undefined && additionalData.length > 0) {
      return this.fail(saslError("malformed-request", "unexpected-additional-data", `${this.name} expects no additional data with success`));
    }
    this.phase = "succeeded";
    return true;
  }

  private fail(error: SaslError): SaslError {
    this.phase = "failed";
    this.error = error;
    return error;
  }
}

function plainMessage(options: ClientMechanismOptions): Uint8Array {
  const { username, password, authzid } = options;
  if (typeof username !== "string" || username.length === 0) throw new TypeError("PLAIN needs a non-empty username");
  if (typeof password !== "string") throw new TypeError("PLAIN needs a password");
  const prepared = preparePasswordOrThrow(password);
  for (const [what, v] of [["username", username], ["password", prepared], ["authzid", authzid ?? ""]] as const) {
    if (v.includes("\u0000")) throw new TypeError(`the PLAIN ${what} must not contain NUL`);
  }
  return utf8EncodeOrThrow(`${authzid ?? ""}\u0000${username}\u0000${prepared}`, "the PLAIN message");
}

function anonymousMessage(options: ClientMechanismOptions): Uint8Array {
  const trace = options.trace ?? "";
  if ([...trace].length > 255) throw new TypeError("ANONYMOUS trace information is limited to 255 characters (RFC 4505)");
  if (/[\u0000-\u001f\u007f]/.test(trace)) throw new TypeError("ANONYMOUS trace information must not contain control characters");
  return utf8EncodeOrThrow(trace, "the ANONYMOUS trace");
}

function externalMessage(options: ClientMechanismOptions): Uint8Array {
  const authzid = options.authzid ?? "";
  if (authzid.includes("\u0000")) throw new TypeError("the EXTERNAL authzid must not contain NUL");
  return utf8EncodeOrThrow(authzid, "the EXTERNAL authzid");
}

/**
 * Create a client-side mechanism.
 *
 * - `PLAIN` needs `username`, `password`; `authzid` optional.
 * - `ANONYMOUS` takes an optional `trace`.
 * - `EXTERNAL` takes an optional `authzid` (empty: "derive it from my certificate").
 * - `SCRAM-SHA-{1,256,512}` need `username`, `password`; the `-PLUS` variants also
 *   `channelBinding`. See {@link ClientMechanismOptions} for nonce, iteration bounds, XEP-0474 and
 *   the SaltedPassword cache.
 *
 * Throws `TypeError` for an unknown name or missing/invalid options (application misuse).
 *
 * @example
 * ```ts
 * const m = createClientMechanism("SCRAM-SHA-256", { username: "juliet", password: "r0m30myr0m30" });
 * send(m.initialResponse());
 * const r = m.challenge(serverFirst);
 * if (isSaslError(r)) abort(r); else send(r);
 * const ok = m.finish(successData); // true only if v= verified
 * ```
 *
 * @param name - the mechanism name
 * @param options - credentials and policy
 * @returns a fresh mechanism in state `"initial"`
 */
export function createClientMechanism(name: MechanismName, options: ClientMechanismOptions = {}): ClientMechanism {
  return createLeanClientMechanism(name, options.scramHashes === undefined ? { ...options, scramHashes: SCRAM_HASH_FUNCTIONS } : options);
}

/**
 * {@link createClientMechanism} without default hash functions: a SCRAM mechanism uses the one of
 * `options.scramHashes` for its hash (`[sha256Hash]` for SCRAM-SHA-256), so that a bundle carries only the
 * hashes it names (what the core's lean client sessions use).
 * @throws TypeError for an unknown mechanism, or a SCRAM mechanism whose hash is not in `scramHashes`
 */
export function createLeanClientMechanism(name: MechanismName, options: ClientMechanismOptions = {}): ClientMechanism {
  if (typeof name !== "string" || !isMechanismName(name)) throw new TypeError(`unknown SASL mechanism ${String(name)}`);
  if (isScramMechanism(name)) return new ScramClient(name, options);
  switch (name) {
    case "PLAIN":
      return new OneShotClient(name, plainMessage(options));
    case "ANONYMOUS":
      return new OneShotClient(name, anonymousMessage(options));
    case "EXTERNAL":
      return new OneShotClient(name, externalMessage(options));
  }
}
