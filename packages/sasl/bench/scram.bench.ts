/**
 * PBKDF2 cost per SCRAM SaltedPassword derivation, at the RFC 5802 / RFC 7677 minimum of 4096 iterations:
 * the package's pure-JS `pbkdf2` (hash.ts: what clients without WebCrypto and `deriveScramCredentials`
 * run) next to `node:crypto`'s native one, for scale. Prints figures; asserts nothing. Run from the repo
 * root with
 *   node --conditions=source --import tsx packages/sasl/bench/scram.bench.ts
 */
import { pbkdf2Sync } from "node:crypto";
import { pbkdf2, type ScramHash } from "../src/index.js";

const ITERATIONS = Number(process.env.ITERATIONS ?? 4096);
const password = new TextEncoder().encode("correct horse battery staple");
const salt = new TextEncoder().encode("0123456789abcdef");
const NODE: Record<ScramHash, [string, number]> = { "SHA-1": ["sha1", 20], "SHA-256": ["sha256", 32], "SHA-512": ["sha512", 64] };

for (const [label, fn] of [
  ["pure JS (hash.ts)", (h: ScramHash) => pbkdf2(h, password, salt, ITERATIONS)],
  ["node:crypto", (h: ScramHash) => pbkdf2Sync(password, salt, ITERATIONS, NODE[h][1], NODE[h][0])],
] as const) {
  for (const hash of ["SHA-1", "SHA-256", "SHA-512"] as ScramHash[]) {
    fn(hash); // warm-up
    const runs = 10;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) fn(hash);
    const ms = (performance.now() - t0) / runs;
    console.log(`${label.padEnd(17)} PBKDF2-HMAC-${hash.padEnd(7)} i=${ITERATIONS}: ${ms.toFixed(2)} ms per derivation`);
  }
}
