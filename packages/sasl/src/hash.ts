/**
 * Compact SHA-1, SHA-256 and SHA-512 (FIPS 180-4) with HMAC (RFC 2104) and PBKDF2 (RFC 8018): SCRAM's H,
 * HMAC and Hi, for both roles: small where bundle size counts (clients), and no slower than a library
 * (`pnpm -F @xmpp-sansio/sasl bench`). The round constants and initial values are computed exactly
 * (integer square and cube roots of the first primes, with `BigInt`) on first use instead of being shipped
 * as tables. Tested against the FIPS/RFC vectors and, for any input, against `node:crypto`.
 *
 * @module
 */
import type { ScramHash } from "./types.js";

/** One compression: absorbs the block of `v` at byte offset `o` into the state `s` (`w`: scratch). */
type Compress = (s: Int32Array, w: Int32Array, v: DataView, o: number) => void;

/** A Merkle–Damgård hash: block length, output length, initial state, compression. */
interface Md {
  /** Block length in bytes (64 or 128). */
  readonly b: number;
  /** Output length in bytes (20, 32, 64) = state length × 4. */
  readonly n: number;
  readonly iv: Int32Array;
  readonly c: Compress;
  readonly w: Int32Array;
}

/** floor(x^(1/k)) for x ≥ 1 (Newton's method from above). */
function iroot(x: bigint, k: bigint): bigint {
  let r = 1n << (BigInt(x.toString(2).length) / k + 1n);
  for (;;) {
    const y = ((k - 1n) * r + x / r ** (k - 1n)) / k;
    if (y >= r) return r;
    r = y;
  }
}

/**
 * The first `count` fractional bits × `words` of the `k`-th roots of the first `n` primes (FIPS 180-4 §4.2,
 * §5.3), as 32-bit words (64-bit values high word first).
 */
function rootWords(n: number, k: bigint, words: number): Int32Array {
  const out = new Int32Array(n * words);
  const bits = BigInt(32 * words);
  for (let p = 2, i = 0; i < n; p++) {
    let prime = true;
    for (let d = 2; d * d <= p; d++) if (p % d === 0) prime = false;
    if (!prime) continue;
    const v = iroot(BigInt(p) << (bits * k), k);
    for (let j = 0; j < words; j++) out[i * words + j] = Number((v >> BigInt(32 * (words - 1 - j))) & 0xffffffffn) | 0;
    i++;
  }
  return out;
}

/** (x >>> n) | (y << (32 − n)), 0 < n < 32: a 32-bit rotation (x = y), or one half of a 64-bit one. */
const r = (x: number, y: number, n: number): number => (x >>> n) | (y << (32 - n));

const sha1Compress: Compress = (s, w, v, o) => {
  for (let i = 0; i < 80; i++) {
    if (i < 16) w[i] = v.getInt32(o + i * 4);
    else {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = r(x, x, 31);
    }
  }
  let a = s[0]!;
  let b = s[1]!;
  let c = s[2]!;
  let d = s[3]!;
  let e = s[4]!;
  for (let i = 0; i < 80; i++) {
    const f = i < 20 ? (b & c) | (~b & d) : i < 40 || i >= 60 ? b ^ c ^ d : (b & c) | (b & d) | (c & d);
    const k = i < 20 ? 0x5a827999 : i < 40 ? 0x6ed9eba1 : i < 60 ? 0x8f1bbcdc : 0xca62c1d6;
    const t = (r(a, a, 27) + f + e + k + w[i]!) | 0;
    e = d;
    d = c;
    c = r(b, b, 2);
    b = a;
    a = t;
  }
  s[0] = (s[0]! + a) | 0;
  s[1] = (s[1]! + b) | 0;
  s[2] = (s[2]! + c) | 0;
  s[3] = (s[3]! + d) | 0;
  s[4] = (s[4]! + e) | 0;
};

let k256: Int32Array | undefined;

const sha256Compress: Compress = (s, w, v, o) => {
  const K = (k256 ??= rootWords(64, 3n, 1));
  for (let i = 0; i < 64; i++) {
    if (i < 16) w[i] = v.getInt32(o + i * 4);
    else {
      const x = w[i - 15]!;
      const y = w[i - 2]!;
      w[i] = ((r(y, y, 17) ^ r(y, y, 19) ^ (y >>> 10)) + w[i - 7]! + (r(x, x, 7) ^ r(x, x, 18) ^ (x >>> 3)) + w[i - 16]!) | 0;
    }
  }
  let a = s[0]!;
  let b = s[1]!;
  let c = s[2]!;
  let d = s[3]!;
  let e = s[4]!;
  let f = s[5]!;
  let g = s[6]!;
  let h = s[7]!;
  for (let i = 0; i < 64; i++) {
    const t1 = (h + (r(e, e, 6) ^ r(e, e, 11) ^ r(e, e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
    const t2 = ((r(a, a, 2) ^ r(a, a, 13) ^ r(a, a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  s[0] = (s[0]! + a) | 0;
  s[1] = (s[1]! + b) | 0;
  s[2] = (s[2]! + c) | 0;
  s[3] = (s[3]! + d) | 0;
  s[4] = (s[4]! + e) | 0;
  s[5] = (s[5]! + f) | 0;
  s[6] = (s[6]! + g) | 0;
  s[7] = (s[7]! + h) | 0;
};

let k512: Int32Array | undefined;
const TWO32 = 4294967296;

/**
 * SHA-512 on pairs of 32-bit words (high, low). A 64-bit rotation right by n < 32 is (r(h, l, n), r(l, h, n));
 * by n ≥ 32 it is (r(l, h, n − 32), r(h, l, n − 32)). Sums add the low words as unsigned numbers and carry.
 */
const sha512Compress: Compress = (s, w, v, o) => {
  const K = (k512 ??= rootWords(80, 3n, 2));
  for (let i = 0; i < 160; i += 2) {
    if (i < 32) {
      w[i] = v.getInt32(o + i * 4);
      w[i + 1] = v.getInt32(o + i * 4 + 4);
      continue;
    }
    const xh = w[i - 30]!; // W[t-15]
    const xl = w[i - 29]!;
    const yh = w[i - 4]!; // W[t-2]
    const yl = w[i - 3]!;
    const s0h = r(xh, xl, 1) ^ r(xh, xl, 8) ^ (xh >>> 7);
    const s0l = r(xl, xh, 1) ^ r(xl, xh, 8) ^ r(xl, xh, 7);
    const s1h = r(yh, yl, 19) ^ r(yl, yh, 29) ^ (yh >>> 6);
    const s1l = r(yl, yh, 19) ^ r(yh, yl, 29) ^ r(yl, yh, 6);
    const l = (s1l >>> 0) + (w[i - 13]! >>> 0) + (s0l >>> 0) + (w[i - 31]! >>> 0);
    w[i] = (s1h + w[i - 14]! + s0h + w[i - 32]! + ((l / TWO32) | 0)) | 0;
    w[i + 1] = l | 0;
  }
  let ah = s[0]!;
  let al = s[1]!;
  let bh = s[2]!;
  let bl = s[3]!;
  let ch = s[4]!;
  let cl = s[5]!;
  let dh = s[6]!;
  let dl = s[7]!;
  let eh = s[8]!;
  let el = s[9]!;
  let fh = s[10]!;
  let fl = s[11]!;
  let gh = s[12]!;
  let gl = s[13]!;
  let hh = s[14]!;
  let hl = s[15]!;
  for (let i = 0; i < 160; i += 2) {
    const S1h = r(eh, el, 14) ^ r(eh, el, 18) ^ r(el, eh, 9);
    const S1l = r(el, eh, 14) ^ r(el, eh, 18) ^ r(eh, el, 9);
    const l1 = (hl >>> 0) + (S1l >>> 0) + (((el & fl) ^ (~el & gl)) >>> 0) + (K[i + 1]! >>> 0) + (w[i + 1]! >>> 0);
    const t1h = (hh + S1h + ((eh & fh) ^ (~eh & gh)) + K[i]! + w[i]! + ((l1 / TWO32) | 0)) | 0;
    const t1l = l1 | 0;
    const S0h = r(ah, al, 28) ^ r(al, ah, 2) ^ r(al, ah, 7);
    const S0l = r(al, ah, 28) ^ r(ah, al, 2) ^ r(ah, al, 7);
    const l2 = (S0l >>> 0) + (((al & bl) ^ (al & cl) ^ (bl & cl)) >>> 0);
    const t2h = (S0h + ((ah & bh) ^ (ah & ch) ^ (bh & ch)) + ((l2 / TWO32) | 0)) | 0;
    const t2l = l2 | 0;
    hh = gh;
    hl = gl;
    gh = fh;
    gl = fl;
    fh = eh;
    fl = el;
    const le = (dl >>> 0) + (t1l >>> 0);
    eh = (dh + t1h + ((le / TWO32) | 0)) | 0;
    el = le | 0;
    dh = ch;
    dl = cl;
    ch = bh;
    cl = bl;
    bh = ah;
    bl = al;
    const la = (t1l >>> 0) + (t2l >>> 0);
    ah = (t1h + t2h + ((la / TWO32) | 0)) | 0;
    al = la | 0;
  }
  const add = (i: number, h: number, l: number): void => {
    const x = (s[i + 1]! >>> 0) + (l >>> 0);
    s[i] = (s[i]! + h + ((x / TWO32) | 0)) | 0;
    s[i + 1] = x | 0;
  };
  add(0, ah, al);
  add(2, bh, bl);
  add(4, ch, cl);
  add(6, dh, dl);
  add(8, eh, el);
  add(10, fh, fl);
  add(12, gh, gl);
  add(14, hh, hl);
};

let SHA1_MD: Md | undefined;
let SHA256_MD: Md | undefined;
let SHA512_MD: Md | undefined;
// One builder per hash (on first use), so that a bundle naming one hash function carries only its compression.
const sha1Md = (): Md =>
  (SHA1_MD ??= { b: 64, n: 20, iv: Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0), c: sha1Compress, w: new Int32Array(80) });
const sha256Md = (): Md => (SHA256_MD ??= { b: 64, n: 32, iv: rootWords(8, 2n, 1), c: sha256Compress, w: new Int32Array(64) });
const sha512Md = (): Md => (SHA512_MD ??= { b: 128, n: 64, iv: rootWords(8, 2n, 2), c: sha512Compress, w: new Int32Array(160) });

/** The hash `name`, built on first use. */
function md(name: ScramHash): Md {
  if (name === "SHA-1") return sha1Md();
  if (name === "SHA-256") return sha256Md();
  if (name === "SHA-512") return sha512Md();
  throw new TypeError(`unknown hash ${String(name)}`);
}

/** Absorbs `data` as the end of a message of `prefix + data.length` bytes (`prefix`: whole blocks already absorbed into `s`), with the padding. */
function finish(m: Md, s: Int32Array, data: Uint8Array, prefix: number): Int32Array {
  const len = data.length;
  const total = prefix + len;
  const n = Math.ceil((len + 1 + m.b / 8) / m.b) * m.b;
  const buf = new Uint8Array(n);
  buf.set(data);
  buf[len] = 0x80;
  const v = new DataView(buf.buffer);
  v.setUint32(n - 8, Math.floor(total / 0x20000000));
  v.setUint32(n - 4, (total * 8) >>> 0);
  for (let o = 0; o < n; o += m.b) m.c(s, m.w, v, o);
  return s;
}

/** The state as bytes, big-endian (FIPS 180-4 §6: the digest is the state's words in order). */
function bytes(s: Int32Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const v = new DataView(out.buffer);
  for (let i = 0; i < n / 4; i++) v.setInt32(i * 4, s[i]!);
  return out;
}

/** The states after absorbing the HMAC key block XOR ipad and XOR opad (RFC 2104 §2). */
function hmacStates(m: Md, key: Uint8Array): [Int32Array, Int32Array] {
  const k = key.length > m.b ? digestWith(m, key) : key;
  const block = new Uint8Array(m.b);
  const v = new DataView(block.buffer);
  const states: [Int32Array, Int32Array] = [m.iv.slice(), m.iv.slice()];
  for (let j = 0; j < 2; j++) {
    const pad = j === 0 ? 0x36 : 0x5c;
    for (let i = 0; i < m.b; i++) block[i] = (k[i] ?? 0) ^ pad;
    m.c(states[j]!, m.w, v, 0);
  }
  return states;
}

/** Output length in bytes of a hash (20, 32, 64). */
export function hashLength(hash: ScramHash): number {
  return md(hash).n;
}

/** H(data): the SHA-1, SHA-256 or SHA-512 digest of `data`. */
export function digest(hash: ScramHash, data: Uint8Array): Uint8Array {
  return digestWith(md(hash), data);
}

function digestWith(m: Md, data: Uint8Array): Uint8Array {
  return bytes(finish(m, m.iv.slice(), data, 0), m.n);
}

/** HMAC(key, data) (RFC 2104) with SHA-1, SHA-256 or SHA-512. */
export function hmac(hash: ScramHash, key: Uint8Array, data: Uint8Array): Uint8Array {
  return hmacWith(md(hash), key, data);
}

function hmacWith(m: Md, key: Uint8Array, data: Uint8Array): Uint8Array {
  const [inner, outer] = hmacStates(m, key);
  return bytes(finish(m, outer, bytes(finish(m, inner, data, m.b), m.n), m.b), m.n);
}

/**
 * PBKDF2-HMAC (RFC 8018 §5.2), i.e. SCRAM's `Hi(str, salt, i)` when `length` is the hash length. Each
 * iteration costs two compressions (the key's padded blocks are absorbed once).
 * @throws TypeError for an iteration count that is not a positive integer
 */
export function pbkdf2(hash: ScramHash, password: Uint8Array, salt: Uint8Array, iterations: number, length?: number): Uint8Array {
  return pbkdf2With(md(hash), password, salt, iterations, length);
}

function pbkdf2With(m: Md, password: Uint8Array, salt: Uint8Array, iterations: number, length?: number): Uint8Array {
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new TypeError(`PBKDF2 iteration count must be a positive integer, got ${iterations}`);
  const n = m.n;
  const dkLen = length ?? n;
  const [inner, outer] = hmacStates(m, password);
  const out = new Uint8Array(dkLen);
  // One block: U (n bytes), 0x80, zeros, the bit length of ipad/opad block + U.
  const block = new Uint8Array(m.b);
  const v = new DataView(block.buffer);
  block[n] = 0x80;
  v.setUint32(m.b - 4, (m.b + n) * 8);
  const s = new Int32Array(n / 4);
  const t = new Uint8Array(n);
  const saltI = new Uint8Array(salt.length + 4);
  saltI.set(salt);
  for (let i = 1, pos = 0; pos < dkLen; i++, pos += n) {
    new DataView(saltI.buffer).setUint32(salt.length, i);
    const u = bytes(finish(m, outer.slice(), bytes(finish(m, inner.slice(), saltI, m.b), n), m.b), n);
    t.set(u);
    block.set(u);
    for (let j = 1; j < iterations; j++) {
      s.set(inner);
      m.c(s, m.w, v, 0);
      for (let k = 0; k < n / 4; k++) v.setInt32(k * 4, s[k]!);
      s.set(outer);
      m.c(s, m.w, v, 0);
      for (let k = 0; k < n / 4; k++) v.setInt32(k * 4, s[k]!);
      for (let k = 0; k < n; k++) t[k]! ^= block[k]!;
    }
    out.set(t.subarray(0, Math.min(n, dkLen - pos)), pos);
  }
  return out;
}

/**
 * One of SCRAM's hash functions as a value ({@link sha1Hash}, {@link sha256Hash}, {@link sha512Hash}): what a
 * lean client is given (`parts: { hashes: [sha256Hash] }`), so that its bundle carries only that
 * compression function.
 */
export interface ScramHashFunction {
  /** The hash's name (`"SHA-256"` for `SCRAM-SHA-256` and `SCRAM-SHA-256-PLUS`). */
  readonly name: ScramHash;
  /** Output length in bytes (20, 32, 64). */
  length(): number;
  /** H(data). */
  digest(data: Uint8Array): Uint8Array;
  /** HMAC(key, data) (RFC 2104). */
  hmac(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** PBKDF2-HMAC (RFC 8018 §5.2), SCRAM's `Hi` (`length` defaults to the hash length). */
  pbkdf2(password: Uint8Array, salt: Uint8Array, iterations: number, length?: number): Uint8Array;
}

/** The {@link ScramHashFunction} of `get`'s hash (built on first use). */
function hashFunction(name: ScramHash, get: () => Md): ScramHashFunction {
  return {
    name,
    length: () => get().n,
    digest: (data) => digestWith(get(), data),
    hmac: (key, data) => hmacWith(get(), key, data),
    pbkdf2: (password, salt, iterations, length) => pbkdf2With(get(), password, salt, iterations, length),
  };
}

/** SHA-1 (FIPS 180-4): SCRAM-SHA-1. */
export const sha1Hash: ScramHashFunction = /* @__PURE__ */ hashFunction("SHA-1", sha1Md);
/** SHA-256 (FIPS 180-4): SCRAM-SHA-256. */
export const sha256Hash: ScramHashFunction = /* @__PURE__ */ hashFunction("SHA-256", sha256Md);
/** SHA-512 (FIPS 180-4): SCRAM-SHA-512. */
export const sha512Hash: ScramHashFunction = /* @__PURE__ */ hashFunction("SHA-512", sha512Md);
/** All three: what `createClientMechanism`, `ClientSession` and the batteries-included clients load. */
export const SCRAM_HASH_FUNCTIONS: readonly ScramHashFunction[] = /* @__PURE__ */ Object.freeze([sha1Hash, sha256Hash, sha512Hash]);

/** XOR two equal-length arrays. @internal */
export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}
