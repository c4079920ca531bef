/**
 * Strict RFC 4648 §4 base64 (standard alphabet, with padding).
 *
 * The decoder accepts exactly one spelling per byte string: length a multiple of 4, `=` only as
 * final padding (at most two), no whitespace, no characters outside the alphabet, and the unused
 * low bits of the last symbol must be zero (RFC 4648 §3.5 "canonical encoding"). Anything else is
 * refused by returning `undefined` — never a throw, because base64 text always comes from the peer.
 *
 * @module
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const LOOKUP = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

/**
 * Encode bytes as standard base64 with `=` padding (RFC 4648 §4). The empty input gives `""`.
 *
 * @param bytes - the bytes to encode
 * @returns the canonical base64 text
 */
export function base64Encode(bytes: Uint8Array): string {
  let out = "";
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out +=
      ALPHABET[v >> 18]! + ALPHABET[(v >> 12) & 63]! + ALPHABET[(v >> 6) & 63]! + ALPHABET[v & 63]!;
  }
  if (n - i === 1) {
    const v = bytes[i]! << 16;
    out += `${ALPHABET[v >> 18]!}${ALPHABET[(v >> 12) & 63]!}==`;
  } else if (n - i === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += `${ALPHABET[v >> 18]!}${ALPHABET[(v >> 12) & 63]!}${ALPHABET[(v >> 6) & 63]!}=`;
  }
  return out;
}

function sym(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c < 128 ? LOOKUP[c]! : -1;
}

/**
 * Decode strict, canonical base64 (RFC 4648 §4 alphabet, mandatory padding).
 *
 * Returns `undefined` — it never throws — for: a length that is not a multiple of 4, any character
 * outside `A–Z a–z 0–9 + /`, whitespace or line breaks, `=` anywhere but the last one or two
 * positions, and non-zero padding bits (so `"QQ=="` decodes but `"QR=="` does not). `""` decodes to
 * an empty array.
 *
 * @param text - base64 text exactly as received
 * @returns the decoded bytes, or `undefined` when `text` is not canonical base64
 */
export function base64Decode(text: string): Uint8Array | undefined {
  const len = text.length;
  if (len % 4 !== 0) return undefined;
  if (len === 0) return new Uint8Array(0);
  let pad = 0;
  if (text.charCodeAt(len - 1) === 61) pad = text.charCodeAt(len - 2) === 61 ? 2 : 1;
  const out = new Uint8Array((len / 4) * 3 - pad);
  let o = 0;
  const full = pad === 0 ? len : len - 4;
  for (let i = 0; i < full; i += 4) {
    const a = sym(text, i);
    const b = sym(text, i + 1);
    const c = sym(text, i + 2);
    const d = sym(text, i + 3);
    if ((a | b | c | d) < 0) return undefined;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 255;
    out[o++] = v & 255;
  }
  if (pad > 0) {
    const i = len - 4;
    const a = sym(text, i);
    const b = sym(text, i + 1);
    if ((a | b) < 0) return undefined;
    if (pad === 2) {
      if ((b & 15) !== 0) return undefined;
      out[o++] = (a << 2) | (b >> 4);
    } else {
      const c = sym(text, i + 2);
      if (c < 0 || (c & 3) !== 0) return undefined;
      const v = (a << 18) | (b << 12) | (c << 6);
      out[o++] = v >> 16;
      out[o++] = (v >> 8) & 255;
    }
  }
  return out;
}
