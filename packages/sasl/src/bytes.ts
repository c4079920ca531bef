/**
 * Byte helpers: the strict UTF-8 codec (`utf8.ts`), constant-time comparison and concatenation.
 *
 * @module
 */
import { utf8Encode } from "./utf8.js";

export { utf8Decode, utf8Encode } from "./utf8.js";

/** Like {@link utf8Encode} but throws a `TypeError` (for application-supplied strings). @internal */
export function utf8EncodeOrThrow(text: string, what: string): Uint8Array {
  const b = utf8Encode(text);
  if (b === undefined) throw new TypeError(`${what} contains a lone surrogate and cannot be encoded as UTF-8`);
  return b;
}

/**
 * Compare two byte arrays in time that depends only on their lengths (which are public: digests of a
 * known hash), not on where they first differ.
 *
 * @param a - first array
 * @param b - second array
 * @returns `true` when both have the same length and contents
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Concatenate byte arrays. @internal */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/** The byte arrays one after another, in one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Byte-wise equality (not constant time; for public data). @internal */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** ASCII-only encoder for protocol text that is known to be ASCII. @internal */
export function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}
