/**
 * PBKDF2 cost per SCRAM SaltedPassword derivation, at the RFC 5802 / RFC 7677 minimum of 4096
 * iterations: the server's (`@noble/hashes`, crypto.ts) and the clients' compact one (hash.ts, the
 * package's `pbkdf2` export). Prints figures; asserts nothing. Run from the repo root with
 *   node --conditions=source --import tsx packages/sasl/bench/scram.bench.ts
 */
import { pbkdf2 as serverPbkdf2 } from "../src/crypto.js";
import { pbkdf2, type ScramHash } from "../src/index.js";

const ITERATIONS = Number(process.env.ITERATIONS ?? 4096);
const password = new TextEncoder().encode("correct horse battery staple");
const salt = new TextEncoder().encode("0123456789abcdef");

for (const [label, fn] of [
  ["server (noble)", serverPbkdf2],
  ["client (compact)", pbkdf2],
] as const) {
  for (const hash of ["SHA-1", "SHA-256", "SHA-512"] as ScramHash[]) {
    fn(hash, password, salt, ITERATIONS); // warm-up
    const runs = 10;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) fn(hash, password, salt, ITERATIONS);
    const ms = (performance.now() - t0) / runs;
    console.log(`${label.padEnd(16)} PBKDF2-HMAC-${hash.padEnd(7)} i=${ITERATIONS}: ${ms.toFixed(2)} ms per derivation`);
  }
}
