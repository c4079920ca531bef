/**
 * Client-side mechanisms behind one factory: the SCRAM family ({@link createScramClientMechanism}) and the
 * one-message mechanisms PLAIN, ANONYMOUS and EXTERNAL (`client-one-shot.ts`).
 *
 * @module
 */
import { createOneShotClientMechanism } from "./client-one-shot.js";
import type { ClientMechanism, ClientMechanismOptions } from "./client-types.js";
import { SCRAM_HASH_FUNCTIONS } from "./hash.js";
import { ScramClient } from "./scram-client.js";
import { isMechanismName, isScramMechanism, type MechanismName, type ScramMechanismName } from "./types.js";

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
  return isScramMechanism(name) ? new ScramClient(name, options) : createOneShotClientMechanism(name, options);
}

/**
 * The SCRAM part of {@link createLeanClientMechanism}: a SCRAM mechanism with the hash function of
 * `options.scramHashes`, and nothing else — what the core's client sessions build SCRAM with, so that a
 * SCRAM-only bundle carries no PLAIN, ANONYMOUS or EXTERNAL code.
 * @param name - a SCRAM mechanism name (`SCRAM-SHA-256`, `SCRAM-SHA-256-PLUS`…)
 * @param options - credentials and policy, as for {@link createClientMechanism}
 * @returns a fresh mechanism in state `"initial"`
 * @throws TypeError for a name that is not a SCRAM mechanism, or one whose hash is not in `scramHashes`
 */
export function createScramClientMechanism(name: ScramMechanismName, options: ClientMechanismOptions = {}): ClientMechanism {
  if (typeof name !== "string" || !isScramMechanism(name)) throw new TypeError(`${String(name)} is not a SCRAM mechanism`);
  return new ScramClient(name, options);
}
