/**
 * The SCRAM primitives (RFC 5802 §2.2, §3) over `@noble/hashes`: H, HMAC, Hi (= PBKDF2) — the server's
 * (`scram-server.ts`), where speed counts. Clients and the package's exports use the compact `hash.ts`.
 *
 * @module
 */
import { hmac as nobleHmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { pbkdf2 as noblePbkdf2 } from "@noble/hashes/pbkdf2.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import type { CHash } from "@noble/hashes/utils.js";
import type { ScramHash } from "./types.js";

type NobleHash = CHash;

const HASHES: Record<ScramHash, { fn: NobleHash; len: number }> = {
  "SHA-1": { fn: sha1, len: 20 },
  "SHA-256": { fn: sha256, len: 32 },
  "SHA-512": { fn: sha512, len: 64 },
};

/** Output length in bytes of a SCRAM hash (20, 32, 64). */
export function hashLength(hash: ScramHash): number {
  return HASHES[hash].len;
}

/** H(data): the SHA-1, SHA-256 or SHA-512 digest of `data` (SCRAM's H; also XEP-0078's digest). */
export function digest(hash: ScramHash, data: Uint8Array): Uint8Array {
  return HASHES[hash].fn(data);
}

/** HMAC(key, data). */
export function hmac(hash: ScramHash, key: Uint8Array, data: Uint8Array): Uint8Array {
  return nobleHmac(HASHES[hash].fn, key, data);
}

/**
 * PBKDF2-HMAC (RFC 8018), i.e. SCRAM's `Hi(str, salt, i)` when `length` is the hash length.
 *
 * @param hash - the hash function
 * @param password - the (already prepared) password bytes
 * @param salt - the salt
 * @param iterations - iteration count, at least 1
 * @param length - derived key length in bytes; defaults to the hash length
 * @returns the derived key
 */
export function pbkdf2(
  hash: ScramHash,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  length: number = HASHES[hash].len,
): Uint8Array {
  if (!Number.isSafeInteger(iterations) || iterations < 1) {
    throw new TypeError(`PBKDF2 iteration count must be a positive integer, got ${iterations}`);
  }
  return noblePbkdf2(HASHES[hash].fn, password, salt, { c: iterations, dkLen: length });
}

export { xor } from "./hash.js";
