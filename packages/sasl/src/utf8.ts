/**
 * A strict UTF-8 codec written out (no `TextEncoder`/`TextDecoder` needed, so the package runs on any
 * ES2022 runtime). Browser builds map this file to `utf8.browser.ts` (the same answers from the
 * runtime's own codec).
 *
 * @module
 */

/**
 * Encode a string as UTF-8. Returns `undefined` when the string contains a lone surrogate (which has
 * no UTF-8 encoding); callers decide whether that is misuse (throw) or peer data (error value).
 *
 * @param text - the string to encode
 * @returns the UTF-8 bytes, or `undefined` for a lone surrogate
 */
export function utf8Encode(text: string): Uint8Array | undefined {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      out.push(c);
    } else if (c < 0x800) {
      out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    } else if (c >= 0xd800 && c <= 0xdfff) {
      const d = text.charCodeAt(i + 1);
      if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return undefined;
      c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      i++;
      out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    } else {
      out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
  }
  return Uint8Array.from(out);
}

/**
 * Decode strict UTF-8 (RFC 3629): overlong forms, surrogates (U+D800–DFFF), code points above
 * U+10FFFF, stray continuation bytes and truncated sequences all give `undefined`. Never substitutes
 * U+FFFD. A leading BOM is kept as U+FEFF (SASL data has no BOM convention).
 *
 * @param bytes - the bytes to decode
 * @returns the string, or `undefined` when `bytes` is not valid UTF-8
 */
export function utf8Decode(bytes: Uint8Array): string | undefined {
  let out = "";
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      // Fast path for ASCII runs.
      let j = i + 1;
      while (j < n && j - i < 4096 && bytes[j]! < 0x80) j++;
      out += String.fromCharCode(...bytes.subarray(i, j));
      i = j;
      continue;
    }
    let cp: number;
    let need: number;
    let min: number;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      cp = b0 & 0x1f;
      need = 1;
      min = 0x80;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      cp = b0 & 0x0f;
      need = 2;
      min = 0x800;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      cp = b0 & 0x07;
      need = 3;
      min = 0x10000;
    } else {
      return undefined;
    }
    if (i + need >= n) return undefined;
    for (let k = 1; k <= need; k++) {
      const b = bytes[i + k];
      if (b === undefined || (b & 0xc0) !== 0x80) return undefined;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}
