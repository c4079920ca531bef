// What the core benchmarks share: a fast deterministic random source (xorshift32).
let seed = 1;

/** Fills `b` with xorshift32 bytes (deterministic across runs; not for anything but benchmarks). */
export function random(b: Uint8Array): void {
  for (let i = 0; i < b.length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    b[i] = seed & 0xff;
  }
}
