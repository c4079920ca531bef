/**
 * PBKDF2 cost per SCRAM SaltedPassword derivation, at the RFC 5802 / RFC 7677 minimum of 4096
 * iterations. Prints figures; asserts nothing. Run from the repo root with
 *   node --conditions=source --import tsx packages/sasl/bench/scram.bench.ts
 */
import { pbkdf2, type ScramHash } from "../src/index.js";

const ITERATIONS = Number(process.env.ITERATIONS ?? 4096);
const password = new TextEncoder().encode("correct horse battery staple");
const salt = new TextEncoder().encode("0123456789abcdef");

for (const hash of ["SHA-1", "SHA-256", "SHA-512"] as ScramHash[]) {
  pbkdf2(hash, password, salt, ITERATIONS); // warm-up
  const runs = 10;
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) pbkdf2(hash, password, salt, ITERATIONS);
  const ms = (performance.now() - t0) / runs;
  console.log(`PBKDF2-HMAC-${hash.padEnd(7)} i=${ITERATIONS}: ${ms.toFixed(2)} ms per derivation`);
}
