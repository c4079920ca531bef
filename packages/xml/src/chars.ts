// Byte classification tables and UTF-8 checks shared by the parser. Everything works on bytes: the parser
// never decodes a chunk to a string before it has validated it.

/** Character classes of ASCII bytes for the text scanner: 0 = plain, anything else needs a look. */
export const TEXT_PLAIN = 0;
export const TEXT_LT = 1;
export const TEXT_AMP = 2;
export const TEXT_GT = 3;
export const TEXT_CR = 4;
export const TEXT_FORBIDDEN = 5;
export const TEXT_HIGH = 6;
export const TEXT_RBRACKET = 7;

/** Class of every byte in character data. */
export const textClass: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 0x20; c++) t[c] = TEXT_FORBIDDEN;
  t[0x09] = TEXT_PLAIN;
  t[0x0a] = TEXT_PLAIN;
  t[0x0d] = TEXT_CR;
  t[0x3c] = TEXT_LT;
  t[0x26] = TEXT_AMP;
  t[0x3e] = TEXT_GT;
  t[0x5d] = TEXT_RBRACKET;
  for (let c = 0x80; c < 0x100; c++) t[c] = TEXT_HIGH;
  return t;
})();

/** Attribute-value classes: 0 plain; 1 needs a look (quote, `<`, `&`, whitespace to normalise, control, ≥ 0x80). */
export const attrSpecial: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 0x20; c++) t[c] = 1;
  t[0x22] = 1;
  t[0x27] = 1;
  t[0x3c] = 1;
  t[0x26] = 1;
  for (let c = 0x80; c < 0x100; c++) t[c] = 1;
  return t;
})();

/** 1 for ASCII bytes that may start an XML name (without the colon: names are namespace-aware). */
export const nameStartAscii: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0x41; c <= 0x5a; c++) t[c] = 1;
  for (let c = 0x61; c <= 0x7a; c++) t[c] = 1;
  t[0x5f] = 1;
  return t;
})();

/** 1 for ASCII bytes that may continue an XML name (the colon is handled by the caller). */
export const nameCharAscii: Uint8Array = (() => {
  const t = nameStartAscii.slice();
  for (let c = 0x30; c <= 0x39; c++) t[c] = 1;
  t[0x2d] = 1;
  t[0x2e] = 1;
  return t;
})();

/** XML whitespace: space, tab, LF, CR. */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** Result of {@link utf8Sequence} when the sequence runs past the available bytes. */
export const UTF8_TRUNCATED = 0;
/** Result of {@link utf8Sequence} for bytes that are not UTF-8 (overlong, surrogate, > U+10FFFF, stray). */
export const UTF8_INVALID = -1;
/** Result of {@link utf8Sequence} for U+FFFE / U+FFFF: valid UTF-8, but not an XML character. */
export const UTF8_NONCHARACTER = -2;

/**
 * Checks the multi-byte UTF-8 sequence starting at `buf[i]` (a byte ≥ 0x80). Returns its length (2–4),
 * {@link UTF8_TRUNCATED} if the bytes present are a valid prefix but `end` cuts it, or a negative code.
 * Bytes are checked as they are reached, so `\xEB<` is refused without waiting for more input.
 */
export function utf8Sequence(buf: Uint8Array, i: number, end: number): number {
  const c = buf[i]!;
  if (c < 0xc2) return UTF8_INVALID; // continuation byte, or C0/C1 (overlong)
  if (i + 1 >= end) return c < 0xf5 ? UTF8_TRUNCATED : UTF8_INVALID;
  const c1 = buf[i + 1]!;
  if ((c1 & 0xc0) !== 0x80) return UTF8_INVALID;
  if (c < 0xe0) return 2;
  if (c < 0xf0) {
    if (c === 0xe0 && c1 < 0xa0) return UTF8_INVALID; // overlong
    if (c === 0xed && c1 >= 0xa0) return UTF8_INVALID; // UTF-16 surrogate
    if (i + 2 >= end) return UTF8_TRUNCATED;
    const c2 = buf[i + 2]!;
    if ((c2 & 0xc0) !== 0x80) return UTF8_INVALID;
    if (c === 0xef && c1 === 0xbf && c2 >= 0xbe) return UTF8_NONCHARACTER;
    return 3;
  }
  if (c >= 0xf5) return UTF8_INVALID; // beyond U+10FFFF
  if (c === 0xf0 && c1 < 0x90) return UTF8_INVALID; // overlong
  if (c === 0xf4 && c1 >= 0x90) return UTF8_INVALID; // beyond U+10FFFF
  if (i + 2 >= end) return UTF8_TRUNCATED;
  if ((buf[i + 2]! & 0xc0) !== 0x80) return UTF8_INVALID;
  if (i + 3 >= end) return UTF8_TRUNCATED;
  if ((buf[i + 3]! & 0xc0) !== 0x80) return UTF8_INVALID;
  return 4;
}

/** Decodes the code point of a sequence already checked by {@link utf8Sequence}. */
export function decodeCodePoint(buf: Uint8Array, i: number, len: number): number {
  const c = buf[i]!;
  if (len === 2) return ((c & 0x1f) << 6) | (buf[i + 1]! & 0x3f);
  if (len === 3) return ((c & 0x0f) << 12) | ((buf[i + 1]! & 0x3f) << 6) | (buf[i + 2]! & 0x3f);
  return ((c & 0x07) << 18) | ((buf[i + 1]! & 0x3f) << 12) | ((buf[i + 2]! & 0x3f) << 6) | (buf[i + 3]! & 0x3f);
}

/** XML 1.0 (5th ed.) NameStartChar for code points ≥ 0x80. */
export function isNameStartCodePoint(cp: number): boolean {
  return (
    (cp >= 0xc0 && cp <= 0xd6) ||
    (cp >= 0xd8 && cp <= 0xf6) ||
    (cp >= 0xf8 && cp <= 0x2ff) ||
    (cp >= 0x370 && cp <= 0x37d) ||
    (cp >= 0x37f && cp <= 0x1fff) ||
    (cp >= 0x200c && cp <= 0x200d) ||
    (cp >= 0x2070 && cp <= 0x218f) ||
    (cp >= 0x2c00 && cp <= 0x2fef) ||
    (cp >= 0x3001 && cp <= 0xd7ff) ||
    (cp >= 0xf900 && cp <= 0xfdcf) ||
    (cp >= 0xfdf0 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0xeffff)
  );
}

/** XML 1.0 (5th ed.) NameChar for code points ≥ 0x80. */
export function isNameCodePoint(cp: number): boolean {
  return isNameStartCodePoint(cp) || cp === 0xb7 || (cp >= 0x300 && cp <= 0x36f) || (cp >= 0x203f && cp <= 0x2040);
}

/** XML 1.0 Char, for code points produced by character references. */
export function isXmlChar(cp: number): boolean {
  if (cp < 0x20) return cp === 0x09 || cp === 0x0a || cp === 0x0d;
  if (cp < 0xd800) return true;
  if (cp < 0xe000) return false;
  if (cp < 0x10000) return cp !== 0xfffe && cp !== 0xffff;
  return cp <= 0x10ffff;
}

/** The one-shot UTF-8 decoder; `ignoreBOM` keeps a leading U+FEFF as content. */
export const UTF8_DECODER = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Decodes bytes that were already validated. Measured on Node 20 (bench/parse.bench.ts and a micro
 * benchmark): a native `TextDecoder.decode` call costs about 0.1 µs whatever the length up to hundreds of
 * bytes, while building a string in JS costs about 0.01 µs per byte (`String.fromCharCode.apply` about
 * 0.003 µs per byte plus a typed-array view). So only very short ASCII runs are built in JS. `ignoreBOM`
 * keeps a leading U+FEFF in text (it is content, not a byte-order mark).
 */
export function decodeValidated(buf: Uint8Array, start: number, end: number, ascii: boolean): string {
  if (ascii && end - start <= 8) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
    return s;
  }
  return UTF8_DECODER.decode(buf.subarray(start, end));
}

/**
 * Interns short ASCII strings (element names, attribute names, common attribute values) so that a stream
 * of similar stanzas allocates no new string for them. Direct-mapped by a hash the caller computed while
 * scanning; a collision just replaces the slot.
 */
export class AsciiInterner {
  private readonly slots: Array<string | undefined>;
  private readonly mask: number;

  constructor(size = 2048) {
    this.slots = new Array(size).fill(undefined);
    this.mask = size - 1;
  }

  private lastSlot = 0;

  /**
   * The cached string for the ASCII bytes `buf[start..end)`, or `undefined`; a miss remembers the slot
   * for {@link put}. The slot is chosen from the length and a few sampled bytes (cheaper than hashing
   * every byte while scanning; the full comparison decides anyway).
   */
  find(buf: Uint8Array, start: number, end: number): string | undefined {
    const n = end - start;
    const h = n === 0 ? 0 : n * 0x9e3 + buf[start]! * 31 + buf[end - 1]! * 977 + buf[start + (n >> 1)]! * 7919 + buf[start + (n >> 2)]! * 131;
    const slot = (h ^ (h >>> 11)) & this.mask;
    const cached = this.slots[slot];
    if (cached !== undefined && cached.length === n) {
      let i = 0;
      while (i < n && cached.charCodeAt(i) === buf[start + i]) i++;
      if (i === n) return cached;
    }
    this.lastSlot = slot;
    return undefined;
  }

  /** Caches `s`, the string for the bytes of the last {@link find} that missed. */
  put(s: string): string {
    this.slots[this.lastSlot] = s;
    return s;
  }

  /** The string for the ASCII bytes `buf[start..end)`, from the cache or decoded and cached. */
  get(buf: Uint8Array, start: number, end: number): string {
    return this.find(buf, start, end) ?? this.put(decodeValidated(buf, start, end, true));
  }
}
