/**
 * Random bytes for the sessions' stream ids, SCRAM nonces and resource tags, from `node:crypto`'s CSPRNG
 * drawn 4 KiB at a time: `crypto.getRandomValues` (the core's default) costs ≈8 µs a call whatever the
 * size, and a login draws four or five small values. Every byte is handed out once and zeroed in the
 * pool when taken; requests above 1 KiB are filled directly.
 *
 * @module
 */
import { randomFillSync } from "node:crypto";

const POOL_BYTES = 4096;
let pool: Uint8Array | undefined;
let used = POOL_BYTES;

/** Fills `bytes` with cryptographically strong random bytes (the core's `random` option). */
export function pooledRandom(bytes: Uint8Array): void {
  const n = bytes.length;
  if (n > POOL_BYTES / 4) {
    randomFillSync(bytes);
    return;
  }
  if (used + n > POOL_BYTES) {
    pool ??= new Uint8Array(POOL_BYTES);
    randomFillSync(pool);
    used = 0;
  }
  const taken = pool!.subarray(used, used + n);
  bytes.set(taken);
  taken.fill(0);
  used += n;
}
