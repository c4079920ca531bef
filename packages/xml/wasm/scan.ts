// The parser's fast path, compiled to WebAssembly by AssemblyScript (`pnpm -F @xmpp-sansio/xml build:wasm`,
// which regenerates src/fast-scan-module.ts). It validates complete top-level elements on bytes and writes
// a tape of their tokens; the JavaScript side builds the elements from the tape.
//
// It accepts a strict subset of well-formed XML and never decides an error: on anything outside the
// subset — any malformed input, but also CDATA, non-ASCII names, a reference cut by the end of the input,
// deep nesting or many attributes — it stops with BAIL and the JavaScript parser, which knows every rule
// and every error text, parses that element instead. Namespaces, duplicate attributes and the `xml`/
// `xmlns` rules are checked by the JavaScript side on the tape (parser.ts: openCommon for the usual
// element, the slow path's openElement for the rest).
//
// Memory: byte tables at 0, the open-element stack at 1024, the tape at TAPE, the interned names, the input
// at INPUT, the two pools of values (see R_STANZA) wherever the caller puts them after the input.

const T_TEXT: usize = 0; // class of a byte in character data
const T_ATTR: usize = 256; // class of a byte in an attribute value
const T_NAME: usize = 512; // bit 0: may start a name (ASCII, no colon); bit 1: may continue one
const STACK: usize = 1024; // (start, end) of the open elements' names, byte offsets from the element's start
const MAX_DEPTH: i32 = 64; // STACK holds this many; deeper elements bail
const MAX_ATTRS: i32 = 64;

/** Tape: records of one to five i32 (see R_STANZA), TAPE_INTS in all. */
export const TAPE: usize = 2048;
export const TAPE_INTS: i32 = 49152;
const MAX_RECORD: usize = 5 * 4; // bytes

// Names (of elements and attributes) are interned: each distinct name gets an id, recorded in its
// record's first field (bits 8 and up), so that the JavaScript side makes each name's string once and
// compares names as ids. NAME_SLOTS is an open-addressing table of ids (0: empty, at most half full),
// NAME_ENTRIES holds (address, length) per id, NAME_BYTES the names themselves. When the ids or the bytes
// run out, further new names get id 0 (the JavaScript side slices those) and `namesFull` is set; the
// caller then starts a new id space with resetNames() once it has taken the tape.
const NAME_SLOTS_LOG2: u32 = 12;
const MAX_NAMES: i32 = 2047;
const MAX_NAME_BYTES: usize = 32768;
const MAX_INTERNED_LENGTH: usize = 64;
const NAME_SLOTS: usize = TAPE + <usize>TAPE_INTS * 4;
const NAME_ENTRIES: usize = NAME_SLOTS + (<usize>4 << NAME_SLOTS_LOG2);
const NAME_BYTES: usize = NAME_ENTRIES + <usize>(MAX_NAMES + 1) * 8;
/** Input bytes are copied here by the caller. */
export const INPUT: usize = NAME_BYTES + MAX_NAME_BYTES;

let nameBytesUsed: usize = 0;
export let namesFull: i32 = 0;

export function resetNames(): void {
  memory.fill(NAME_SLOTS, 0, <usize>4 << NAME_SLOTS_LOG2);
  nameCount = 0;
  nameBytesUsed = 0;
  namesFull = 0;
}

// Whether the `n` bytes at a and b are equal, eight at a time. It may read up to seven bytes beyond
// either run: names lie within the input, which the caller pads, or before it, in NAME_BYTES.
@inline function sameBytes(a: usize, b: usize, n: usize): bool {
  let k: usize = 0;
  for (; k + 8 <= n; k += 8) if (load<u64>(a + k) != load<u64>(b + k)) return false;
  return k == n || ((load<u64>(a + k) ^ load<u64>(b + k)) & ((<u64>1 << (<u64>(n - k) << 3)) - 1)) == 0;
}

// The id of the name of `n` bytes at p, added if new; 0 if it is not interned.
@inline function intern(p: usize, n: usize): i32 {
  if (n > MAX_INTERNED_LENGTH) return 0;
  // Hash the first and last four bytes (within the name) and the length: constant time per name.
  let h: u32;
  if (n >= 4) h = (load<u32>(p) * 0x9e3779b1) ^ (load<u32>(p + n - 4) * 0x85ebca6b);
  else {
    let w = <u32>load<u8>(p);
    if (n > 1) w |= <u32>load<u8>(p + 1) << 8;
    if (n > 2) w |= <u32>load<u8>(p + 2) << 16;
    h = w * 0x9e3779b1;
  }
  h ^= <u32>n;
  h ^= h >> 16;
  const mask: u32 = (1 << NAME_SLOTS_LOG2) - 1;
  let slot = h & mask;
  for (;;) {
    const id = load<i32>(NAME_SLOTS + (<usize>slot << 2));
    if (id == 0) break;
    const e = NAME_ENTRIES + (<usize>id << 3);
    if (<usize>load<i32>(e, 4) == n && sameBytes(<usize>load<i32>(e), p, n)) return id;
    slot = (slot + 1) & mask;
  }
  if (nameCount >= MAX_NAMES || nameBytesUsed + n > MAX_NAME_BYTES) {
    namesFull = 1;
    return 0;
  }
  const id = ++nameCount;
  const at = NAME_BYTES + nameBytesUsed;
  memory.copy(at, p, n);
  nameBytesUsed += n;
  store<i32>(NAME_ENTRIES + (<usize>id << 3), <i32>at);
  store<i32>(NAME_ENTRIES + (<usize>id << 3), <i32>n, 4);
  store<i32>(NAME_SLOTS + (<usize>slot << 2), id);
  return id;
}

// Record kinds (low 4 bits of the first field; bit 4 a flag, bits 8 and up a name's id, 0: not interned).
//
// Values — attribute values and runs of character data — are written to two pools with references
// replaced and line ends and attribute whitespace normalised (XML 1.0 §2.11, §3.3.3): the ASCII pool
// takes the values that are all ASCII, the mixed pool the others, so that the JavaScript side decodes
// each pool with one call per scan and the decoder that suits it, and ASCII values become one-byte
// strings. Markup is never decoded: names are interned (the JavaScript side reads new ones from
// NAME_ENTRIES), and a name that is not goes to the ASCII pool. A value's offsets are UTF-16 indices into
// its pool's string, relative to where its element's values begin there (R_STANZA), so that an element
// keeps its offsets when resuming moves it.
const R_STANZA: i32 = 5; // [5, byte start, byte end, ASCII pool base, mixed pool base (UTF-16)]: opens an element's records
const R_START: i32 = 1; // [1 | selfClosing << 4 | id << 8, '<' byte offset from the element's start] (+ name)
const R_ATTR: i32 = 2; // [2 | mixed << 4 | id << 8, value start, value end] (+ name)
const R_TEXT: i32 = 3; // [3 | mixed << 4, start, end]
const R_END: i32 = 4; // [4]: end of the innermost open element
const MIXED: i32 = 1 << 4;
// (+ name): when the id is 0, two more fields: the name's start and end in the ASCII pool.

// scan() results.
const NEED_MORE: i32 = 0; // every byte is a valid prefix: wait for more input (`consumed` = its start)
const BAIL: i32 = 1; // the element at `consumed` is for the JavaScript parser
const OTHER: i32 = 2; // `consumed` is not the start of an element (end tag, markup declaration, text)
const TAPE_FULL: i32 = 3; // call again from `consumed` after using the tape (or the pools)

// The pools hold at most this much before a scan stops after an element (TAPE_FULL): a value the caller
// keeps may keep its pool's string alive, which should be small.
const POOL_BATCH: usize = 4096;

export let consumed: i32 = 0;
export let tapeLength: i32 = 0;
/** The pools' ends after the last recorded element (addresses). */
export let asciiEnd: i32 = 0;
export let mixedEnd: i32 = 0;
/** Ids given out so far in the current id space (their names are at NAME_ENTRIES). */
export let nameCount: i32 = 0;
export const NAMES: usize = NAME_ENTRIES;

// Resuming an element the input cut (so that the bytes before its last token are not scanned again).
// When scan() returns NEED_MORE inside an element, it keeps the state at the start of the token the input
// cut — a tag, or a run of character data — and sets `resumable`; `resumeFrom` is that token's offset from
// the element's start. A later scan(…, resume = 1) whose input begins with the same element (the same
// bytes, and more) goes on from there instead of from the element's start. Its records and values so far
// stay where the last scan left them and are moved to the start of the tape and the pools, so the caller
// must pass the same pools and must not have let another scan run in between. Kept offsets are relative
// to the element's start, as are the open names on STACK and R_START's tag offset.
export let resumable: i32 = 0;
export let resumeFrom: i32 = 0;
// With `resumable`: how many i32 of records the kept element has so far (its R_STANZA slot, not yet
// filled in, and the records of its complete tokens), from TAPE + 4 * tapeLength. The JavaScript side
// looks at their start tags so that it can report an error in one at once rather than when the element
// is complete (see `suspect` in fast-scan.ts).
export let keptLength: i32 = 0;
let keptRecords: usize = 0; // the element's R_STANZA slot, then its records up to the token
let keptRecordsLength: usize = 0;
let keptAscii: usize = 0; // the element's values so far in the pools
let keptAsciiLength: usize = 0;
let keptMixed: usize = 0;
let keptMixedLength: usize = 0;
let keptDepth: i32 = 0;
let keptInText: bool = false;
let keptElements: i32 = 0;

export function init(): void {
  for (let c = 0; c < 256; c++) {
    let t: u8 = 0; // 0 plain, 1 '<', 2 '&', 3 '>', 4 CR, 5 forbidden control, 6 ≥ 0x80
    if (c == 13) t = 4;
    else if (c < 0x20 && c != 9 && c != 10) t = 5;
    else if (c == 0x3c) t = 1;
    else if (c == 0x26) t = 2;
    else if (c == 0x3e) t = 3;
    else if (c >= 0x80) t = 6;
    store<u8>(T_TEXT + c, t);
    let a: u8 = 0; // 0 plain, 1 '<', 2 '&', 3 quote, 5 TAB/LF/CR, 6 forbidden control, 7 ≥ 0x80
    if (c == 9 || c == 10 || c == 13) a = 5;
    else if (c < 0x20) a = 6;
    else if (c == 0x3c) a = 1;
    else if (c == 0x26) a = 2;
    else if (c == 0x27 || c == 0x22) a = 3;
    else if (c >= 0x80) a = 7;
    store<u8>(T_ATTR + c, a);
    let n: u8 = 0;
    if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f) n = 3;
    else if ((c >= 0x30 && c <= 0x39) || c == 0x2d || c == 0x2e) n = 2;
    store<u8>(T_NAME + c, n);
  }
}

@inline function isSpace(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x09 || c == 0x0d;
}

// Length (2–4) of the UTF-8 sequence at p (lead ≥ 0x80); 0 if invalid or U+FFFE/U+FFFF; -1 if `end`
// cuts a valid prefix. Two- and three-byte sequences that `end` does not cut are checked here, the rest
// by utf8Rest.
@inline function utf8(p: usize, end: usize): i32 {
  const c = <u32>load<u8>(p);
  if (c >= 0xc2 && c < 0xe0 && p + 2 <= end) return (load<u8>(p + 1) & 0xc0) == 0x80 ? 2 : 0;
  if (c >= 0xe0 && c < 0xf0 && p + 3 <= end) {
    const b1 = <u32>load<u8>(p + 1);
    const b2 = <u32>load<u8>(p + 2);
    if ((b1 & 0xc0) != 0x80 || (b2 & 0xc0) != 0x80) return 0;
    if (c == 0xe0) return b1 >= 0xa0 ? 3 : 0; // else overlong
    if (c == 0xed) return b1 < 0xa0 ? 3 : 0; // else a surrogate
    return c == 0xef && b1 == 0xbf && b2 >= 0xbe ? 0 : 3; // U+FFFE, U+FFFF
  }
  return utf8Rest(p, end);
}

function utf8Rest(p: usize, end: usize): i32 {
  const c = <u32>load<u8>(p);
  if (c < 0xc2 || c > 0xf4) return 0;
  const n: i32 = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
  for (let k: i32 = 1; k < n; k++) {
    const q = p + <usize>k;
    if (q >= end) return -1;
    const b = <u32>load<u8>(q);
    if ((b & 0xc0) != 0x80) return 0;
    if (k == 1) {
      if (c == 0xe0 && b < 0xa0) return 0; // overlong
      if (c == 0xed && b >= 0xa0) return 0; // surrogate
      if (c == 0xf0 && b < 0x90) return 0; // overlong
      if (c == 0xf4 && b >= 0x90) return 0; // beyond U+10FFFF
    }
    if (k == 2 && c == 0xef && load<u8>(p + 1) == 0xbf && b >= 0xbe) return 0; // U+FFFE, U+FFFF
  }
  return n;
}

// The character of the last reference() that returned a length.
let refChar: u32 = 0;

// Length of the reference at p ('&'), its character in `refChar`; 0 to bail (not one of the forms
// below); -1 if `end` cuts one of them, so that nothing is wrong yet (the JavaScript parser would wait
// for more input there too).
function reference(p: usize, end: usize): i32 {
  let q = p + 1;
  if (q + 3 > end) return referencePrefix(p, end);
  if (load<u8>(q) == 0x23) {
    q++;
    let hex = false;
    if (load<u8>(q) == 0x78) {
      hex = true;
      q++;
    }
    const digits = q;
    let cp: u32 = 0;
    while (q < end && q - digits < 7) {
      const d = <u32>load<u8>(q);
      let v: u32 = 0;
      if (d >= 0x30 && d <= 0x39) v = d - 0x30;
      else if (hex && d >= 0x61 && d <= 0x66) v = d - 0x57;
      else if (hex && d >= 0x41 && d <= 0x46) v = d - 0x37;
      else break;
      cp = cp * (hex ? 16 : 10) + v;
      q++;
    }
    if (q >= end) return q - digits < 7 ? -1 : 0;
    if (q == digits || load<u8>(q) != 0x3b) return 0;
    const ok = cp < 0x20 ? cp == 9 || cp == 10 || cp == 13 : cp < 0xd800 || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
    refChar = cp;
    return ok ? <i32>(q + 1 - p) : 0;
  }
  if (load<u8>(q + 2) == 0x3b) {
    const w = <u32>load<u16>(q);
    refChar = w == 0x746c ? 0x3c : 0x3e;
    return w == 0x746c || w == 0x7467 ? 4 : 0; // lt gt
  }
  if (q + 4 > end) return referencePrefix(p, end);
  if (load<u8>(q + 3) == 0x3b) {
    refChar = 0x26;
    return load<u8>(q) == 0x61 && load<u8>(q + 1) == 0x6d && load<u8>(q + 2) == 0x70 ? 5 : 0; // amp
  }
  if (q + 5 > end) return referencePrefix(p, end);
  if (load<u8>(q + 4) != 0x3b) return 0;
  const w = load<u32>(q);
  refChar = w == 0x746f7571 ? 0x22 : 0x27;
  return w == 0x746f7571 || w == 0x736f7061 ? 6 : 0; // quot apos
}

// -1 if the bytes from p ('&') to `end` begin one of the five predefined entity references or a
// character reference, else 0.
function referencePrefix(p: usize, end: usize): i32 {
  const n = end - p;
  if (n == 1) return -1;
  const c = load<u8>(p + 1);
  if (c == 0x23) {
    const hex = n > 2 && load<u8>(p + 2) == 0x78;
    for (let q = p + (hex ? 3 : 2); q < end; q++) {
      const d = load<u8>(q);
      if (!((d >= 0x30 && d <= 0x39) || (hex && ((d >= 0x61 && d <= 0x66) || (d >= 0x41 && d <= 0x46))))) return 0;
    }
    return -1;
  }
  // The entity names packed little-endian into a u32 (no string constants: the module has no data).
  const second = n > 2 ? load<u8>(p + 2) : 0;
  const word: u32 = c == 0x6c ? 0x746c : c == 0x67 ? 0x7467 : c == 0x71 ? 0x746f7571 : c == 0x61 ? (second == 0x70 ? 0x736f7061 : 0x706d61) : 0;
  const length: usize = word > 0xffffff ? 4 : word > 0xffff ? 3 : word != 0 ? 2 : 0;
  if (length < n - 1) return 0;
  for (let k: usize = 1; k < n; k++) if (<u32>load<u8>(p + k) != ((word >> (<u32>(k - 1) << 3)) & 0xff)) return 0;
  return -1;
}

// What the token scanners below return instead of a token's end: CUT, the input ends inside a valid
// prefix (wait for more); INVALID, the token is outside the scanner's subset (bail).
const CUT: isize = -1;
const INVALID: isize = -2;

// An ASCII name (one optional colon, not first or last) at p: its end, CUT or INVALID. A name
// shorter than sixteen bytes, followed by an ASCII byte, is classified sixteen bytes at once; the rest
// byte by byte (scanNameRest).
@inline function scanName(p: usize, end: usize, maxLen: usize): isize {
  if (p + 16 <= end) {
    const v = v128.load(p);
    const lower = v128.or(v, i8x16.splat(0x20));
    const alpha = v128.and(i8x16.ge_u(lower, i8x16.splat(0x61)), i8x16.le_u(lower, i8x16.splat(0x7a)));
    const digit = v128.and(i8x16.ge_u(v, i8x16.splat(0x30)), i8x16.le_u(v, i8x16.splat(0x39)));
    const first = v128.or(alpha, i8x16.eq(v, i8x16.splat(0x5f))); // may start a name (or follow its colon)
    const colons = i8x16.eq(v, i8x16.splat(0x3a));
    const other = v128.or(v128.or(digit, colons), v128.or(i8x16.eq(v, i8x16.splat(0x2d)), i8x16.eq(v, i8x16.splat(0x2e))));
    const length = ctz(~i8x16.bitmask(v128.or(first, other)));
    if (length > 0 && length < 16 && <usize>length <= maxLen && load<u8>(p + <usize>length) < 0x80) {
      const starts = i8x16.bitmask(first);
      const colonBits = i8x16.bitmask(colons) & ((1 << length) - 1);
      if ((starts & 1) != 0) {
        const c = ctz(colonBits);
        if (colonBits == 0 || (colonBits == 1 << c && c + 1 < length && ((starts >> (c + 1)) & 1) != 0)) {
          return <isize>(p + <usize>length);
        }
      }
    }
  }
  return scanNameRest(p, end, maxLen);
}

function scanNameRest(p: usize, end: usize, maxLen: usize): isize {
  const start = p;
  const stop = min(end, p + maxLen + 1);
  let colon = false;
  let atStart = true;
  for (; p < stop; p++) {
    const c = <u32>load<u8>(p);
    const k = load<u8>(T_NAME + c);
    if (atStart ? (k & 1) != 0 : k != 0) {
      atStart = false;
      continue;
    }
    if (c == 0x3a && !atStart && !colon) {
      colon = true;
      atStart = true;
      continue;
    }
    if (atStart || c >= 0x80 || c == 0x3a) return INVALID;
    return <isize>p;
  }
  return p - start > maxLen ? INVALID : CUT;
}

// The end of the run of non-ASCII characters at p (a word in another script, taken at once), CUT or
// INVALID (see utf8).
@inline function nonAsciiRun(p: usize, end: usize): isize {
  do {
    const n = utf8(p, end);
    if (n <= 0) return n < 0 ? CUT : INVALID;
    p += <usize>n;
  } while (p < end && load<u8>(p) >= 0x80);
  return <isize>p;
}

// The end of the reference at p, its character in `refChar`; CUT or INVALID (see reference).
@inline function referenceEnd(p: usize, end: usize): isize {
  const n = reference(p, end);
  return n > 0 ? <isize>(p + <usize>n) : n < 0 ? CUT : INVALID;
}

// Writes three fields at t; returns the end.
@inline function record3(t: usize, a: i32, b: i32, c: i32): usize {
  store<i32>(t, a);
  store<i32>(t, b, 4);
  store<i32>(t, c, 8);
  return t + 12;
}

// Pool write pointers. The ASCII pool holds bytes (one per character), the mixed pool UTF-16 code units.
let aOut: usize = 0;
let mOut: usize = 0;
// Where the value emit() wrote, relative to its element's pool bases, and whether to the mixed pool.
let vStart: i32 = 0;
let vEnd: i32 = 0;
let vMixed: i32 = 0;

// Copies the ASCII value at [s, e) to `at` with references replaced, CR LF and CR made LF, and in an
// attribute value TAB, LF and CR (or CR LF) made a space; returns the end. The value has been scanned whole, so
// every reference in it is complete and valid.
function transform(at: usize, s: usize, e: usize, attr: bool): usize {
  const AMP = i8x16.splat(0x26);
  const CR = i8x16.splat(0x0d);
  const TAB = i8x16.splat(attr ? 0x09 : 0x0d);
  const LF = i8x16.splat(attr ? 0x0a : 0x0d);
  let q = s;
  while (q < e) {
    // Runs of other bytes sixteen at a time (stored whole: what lies beyond the run is overwritten).
    while (q + 16 <= e) {
      const v = v128.load(q);
      v128.store(at, v);
      const bits = i8x16.bitmask(v128.or(v128.or(i8x16.eq(v, AMP), i8x16.eq(v, CR)), v128.or(i8x16.eq(v, TAB), i8x16.eq(v, LF))));
      if (bits != 0) {
        const k = <usize>ctz(bits);
        q += k;
        at += k;
        break;
      }
      q += 16;
      at += 16;
    }
    if (q >= e) break;
    const c = <u32>load<u8>(q);
    if (c == 0x26) {
      const n = reference(q, e);
      store<u8>(at, <u8>refChar); // ASCII: a value with other references goes to the mixed pool
      at++;
      q += <usize>n;
      continue;
    }
    if (c == 0x0d) {
      if (q + 1 < e && load<u8>(q + 1) == 0x0a) q++;
      store<u8>(at, attr ? 0x20 : 0x0a);
    } else if (attr && (c == 0x09 || c == 0x0a)) store<u8>(at, 0x20);
    else store<u8>(at, <u8>c);
    at++;
    q++;
  }
  return at;
}

// Copies n bytes from the input to a pool. Short runs go sixteen at a time (a call to memory.copy costs
// more than the copying): that may read and write up to 15 bytes beyond both, which the caller's padding
// allows, and what it writes beyond the run is overwritten or never read.
@inline function copyOut(dst: usize, src: usize, n: usize): void {
  if (n <= 64) {
    for (let k: usize = 0; k < n; k += 16) v128.store(dst + k, v128.load(src + k));
  } else memory.copy(dst, src, n);
}

// Writes the valid UTF-8 value at [s, e) to `at` as UTF-16 (little-endian), with references replaced and
// whitespace normalised as transform() does; returns the end. ASCII goes sixteen bytes at a time.
function toUtf16(at: usize, s: usize, e: usize, attr: bool): usize {
  const HIGH = i8x16.splat(0);
  const AMP = i8x16.splat(0x26);
  const CR = i8x16.splat(0x0d);
  const TAB = i8x16.splat(attr ? 0x09 : 0x0d);
  const LF = i8x16.splat(attr ? 0x0a : 0x0d);
  let q = s;
  while (q < e) {
    while (q + 16 <= e) {
      const v = v128.load(q);
      // Widened whole: what lies beyond the ASCII run is overwritten.
      v128.store(at, i16x8.extend_low_i8x16_u(v));
      v128.store(at, i16x8.extend_high_i8x16_u(v), 16);
      const special = v128.or(v128.or(i8x16.lt_s(v, HIGH), i8x16.eq(v, AMP)), v128.or(i8x16.eq(v, CR), v128.or(i8x16.eq(v, TAB), i8x16.eq(v, LF))));
      const bits = i8x16.bitmask(special);
      if (bits != 0) {
        const k = <usize>ctz(bits);
        q += k;
        at += k << 1;
        break;
      }
      q += 16;
      at += 32;
    }
    if (q >= e) break;
    const c = <u32>load<u8>(q);
    let cp = c;
    if (c < 0x80) {
      q++;
      if (c == 0x26) {
        const n = reference(q - 1, e);
        cp = refChar;
        q += <usize>(n - 1);
      } else if (c == 0x0d) {
        if (q < e && load<u8>(q) == 0x0a) q++;
        cp = attr ? 0x20 : 0x0a;
      } else if (attr && (c == 0x09 || c == 0x0a)) cp = 0x20;
    } else if (c < 0xe0) {
      cp = ((c & 0x1f) << 6) | (<u32>load<u8>(q + 1) & 0x3f);
      q += 2;
    } else if (c < 0xf0) {
      cp = ((c & 0x0f) << 12) | ((<u32>load<u8>(q + 1) & 0x3f) << 6) | (<u32>load<u8>(q + 2) & 0x3f);
      q += 3;
    } else {
      cp = ((c & 0x07) << 18) | ((<u32>load<u8>(q + 1) & 0x3f) << 12) | ((<u32>load<u8>(q + 2) & 0x3f) << 6) | (<u32>load<u8>(q + 3) & 0x3f);
      q += 4;
    }
    if (cp < 0x10000) {
      store<u16>(at, <u16>cp);
      at += 2;
    } else {
      cp -= 0x10000;
      store<u16>(at, <u16>(0xd800 | (cp >> 10)));
      store<u16>(at, <u16>(0xdc00 | (cp & 0x3ff)), 2);
      at += 4;
    }
  }
  return at;
}

// Writes the value at [s, e) to its pool — the ASCII pool as is (or through transform()), the mixed
// pool as UTF-16 — and sets vStart, vEnd and vMixed.
@inline function emit(s: usize, e: usize, nonAscii: bool, changed: bool, attr: bool, aBase: usize, mBase: usize): void {
  if (!nonAscii) {
    vStart = <i32>(aOut - aBase);
    if (changed) aOut = transform(aOut, s, e, attr);
    else {
      copyOut(aOut, s, e - s);
      aOut += e - s;
    }
    vEnd = <i32>(aOut - aBase);
    vMixed = 0;
    return;
  }
  vStart = <i32>((mOut - mBase) >> 1);
  mOut = toUtf16(mOut, s, e, attr);
  vEnd = <i32>((mOut - mBase) >> 1);
  vMixed = MIXED;
}

// Copies a name that is not interned to the ASCII pool; returns its start there (from the element's base).
@inline function poolName(ns: usize, ne: usize, aBase: usize): i32 {
  const at = <i32>(aOut - aBase);
  copyOut(aOut, ns, ne - ns);
  aOut += ne - ns;
  return at;
}

/**
 * Scans top-level elements from `pos` up to `end` (offsets in memory), skipping whitespace between them,
 * and records each complete one on the tape, its values in the pools at `asciiAt` and `mixedAt` (each with
 * room for as many bytes as the input). `stanzaLimit` is the byte limit of one element. Returns a status;
 * `consumed` is where scanning stopped (after the last recorded element or whitespace). With `resume`,
 * the input at `pos` is the element the last scan kept (see `resumable`). An element with more than
 * `maxElements` start tags (itself included) bails at the tag that is one too many, so nothing past the
 * cap is scanned.
 */
export function scan(pos: i32, endAt: i32, asciiAt: i32, mixedAt: i32, maxDepth: i32, maxAttributes: i32, maxName: i32, stanzaLimit: i32, resume: i32, maxElements: i32): i32 {
  const end = <usize>endAt;
  const depthLimit = min(maxDepth, MAX_DEPTH);
  const attrLimit = min(maxAttributes, MAX_ATTRS);
  const nameLimit = <usize>maxName;
  const tapeEnd = TAPE + <usize>TAPE_INTS * 4;
  const aTop = <usize>asciiAt;
  const mTop = <usize>mixedAt;
  const SP = i8x16.splat(0x20);
  const LT = i8x16.splat(0x3c);
  const AMP = i8x16.splat(0x26);
  const GT = i8x16.splat(0x3e);
  const APOS = i8x16.splat(0x27);
  const QUOT = i8x16.splat(0x22);
  let p = <usize>pos;
  let t = TAPE;
  aOut = aTop;
  mOut = mTop;
  asciiEnd = asciiAt;
  mixedEnd = mixedAt;
  let resuming = resume != 0 && resumable != 0;
  resumable = 0;
  keptLength = 0;
  for (;;) {
    let s0 = p; // the element's start
    let stanzaRecord = t;
    let depth: i32 = 0;
    let elements: i32 = 0; // start tags so far
    let inText = false;
    // Where the element's values begin in the pools.
    let aBase = aOut;
    let mBase = mOut;
    if (resuming) {
      resuming = false;
      aBase = aTop;
      mBase = mTop;
      memory.copy(TAPE, keptRecords, keptRecordsLength);
      t = TAPE + keptRecordsLength;
      memory.copy(aTop, keptAscii, keptAsciiLength);
      aOut = aTop + keptAsciiLength;
      memory.copy(mTop, keptMixed, keptMixedLength);
      mOut = mTop + keptMixedLength;
      depth = keptDepth;
      inText = keptInText;
      elements = keptElements;
      p = s0 + <usize>resumeFrom;
    } else {
      while (p < end && isSpace(load<u8>(p))) p++;
      consumed = <i32>p;
      tapeLength = <i32>((t - TAPE) >> 2);
      if (p >= end) return NEED_MORE;
      if (aOut - aTop + (mOut - mTop) >= POOL_BATCH) return TAPE_FULL;
      if (load<u8>(p) != 0x3c) return OTHER;
      if (p + 1 >= end) return NEED_MORE;
      if ((load<u8>(T_NAME + load<u8>(p + 1)) & 1) == 0) return OTHER;
      s0 = p;
      stanzaRecord = t;
      t += 20;
    }
    const lim = min(end, s0 + <usize>stanzaLimit);
    // The start of the token being scanned: where to resume if the input cuts it.
    let keepP = p;
    let keepT = t;
    let keepA = aOut;
    let keepM = mOut;
    let keepDepth = depth;
    let keepInText = inText;
    let keepElements = elements;
    let r = 0; // 0 going on, 1 out of bytes, 2 bail
    for (;;) {
      if (inText) inText = false;
      else {
        // At '<'.
        keepP = p;
        keepT = t;
        keepA = aOut;
        keepM = mOut;
        keepDepth = depth;
        keepInText = false;
        keepElements = elements;
        if (t + 2 * MAX_RECORD > tapeEnd) {
          r = 2;
          break;
        }
        if (p + 1 >= lim) {
          r = 1;
          break;
        }
        if (load<u8>(p + 1) == 0x2f) {
          // An end tag must repeat the open element's name: compare the bytes with it, then expect `>`
          // (after optional spaces). Anything else — another name, a longer one — is the JavaScript
          // parser's to report.
          if (depth == 0) {
            r = 2;
            break;
          }
          const os = s0 + <usize>load<i32>(STACK + (<usize>(depth - 1) << 3));
          const n = <usize>load<i32>(STACK + (<usize>(depth - 1) << 3) + 4) - (os - s0);
          const ns = p + 2;
          if (ns + n >= lim) {
            // Out of input within the name or just after it: wait, unless what has arrived already
            // differs from the name (then the tag may be complete, and its error due now).
            r = sameBytes(os, ns, min(n, lim - ns)) ? 1 : 2;
            break;
          }
          if (!sameBytes(os, ns, n)) {
            r = 2;
            break;
          }
          let q = ns + n;
          while (q < lim && isSpace(load<u8>(q))) q++;
          if (q >= lim) {
            r = 1;
            break;
          }
          if (load<u8>(q) != 0x3e) {
            r = 2;
            break;
          }
          depth--;
          store<i32>(t, R_END);
          t += 4;
          p = q + 1;
          if (depth == 0) break;
        } else {
          const ns = p + 1;
          const ne = scanName(ns, lim, nameLimit);
          if (ne < 0) {
            r = ne == CUT ? 1 : 2;
            break;
          }
          if (depth >= depthLimit || ++elements > maxElements) {
            r = 2;
            break;
          }
          const startRecord = t;
          const id = intern(ns, <usize>ne - ns);
          store<i32>(t, R_START | (id << 8));
          store<i32>(t, <i32>(p - s0), 4);
          t += 8;
          if (id == 0) {
            const at = poolName(ns, <usize>ne, aBase);
            store<i32>(t, at);
            store<i32>(t, at + <i32>(<usize>ne - ns), 4);
            t += 8;
          }
          let q = <usize>ne;
          let attributes = 0;
          let selfClosing = false;
          for (;;) {
            if (q >= lim) {
              r = 1;
              break;
            }
            let b = <u32>load<u8>(q);
            if (b == 0x3e) {
              q++;
              break;
            }
            if (b == 0x2f) {
              if (q + 1 >= lim) {
                r = 1;
                break;
              }
              if (load<u8>(q + 1) != 0x3e) {
                r = 2;
                break;
              }
              q += 2;
              selfClosing = true;
              break;
            }
            if (!isSpace(b)) {
              r = 2;
              break;
            }
            do q++;
            while (q < lim && isSpace(load<u8>(q)));
            if (q >= lim) {
              r = 1;
              break;
            }
            b = load<u8>(q);
            if (b == 0x3e || b == 0x2f) continue;
            const as = q;
            const ae = scanName(as, lim, nameLimit);
            if (ae < 0) {
              r = ae == CUT ? 1 : 2;
              break;
            }
            q = <usize>ae;
            let quote: u32 = 0;
            // Usually `='` or `="` right after the name.
            if (q + 1 < lim && load<u8>(q) == 0x3d) quote = <u32>load<u8>(q + 1);
            if (quote == 0x27 || quote == 0x22) q += 2;
            else {
              while (q < lim && isSpace(load<u8>(q))) q++;
              if (q >= lim) {
                r = 1;
                break;
              }
              if (load<u8>(q) != 0x3d) {
                r = 2;
                break;
              }
              q++;
              while (q < lim && isSpace(load<u8>(q))) q++;
              if (q >= lim) {
                r = 1;
                break;
              }
              quote = <u32>load<u8>(q);
              if (quote != 0x27 && quote != 0x22) {
                r = 2;
                break;
              }
              q++;
            }
            const vs = q;
            let nonAscii = false;
            let changed = false;
            for (;;) {
              while (q + 16 <= lim) {
                const v = v128.load(q);
                const m = v128.or(v128.or(i8x16.lt_s(v, SP), i8x16.eq(v, LT)), v128.or(i8x16.eq(v, AMP), v128.or(i8x16.eq(v, APOS), i8x16.eq(v, QUOT))));
                const bits = i8x16.bitmask(m);
                if (bits != 0) {
                  q += <usize>ctz(bits);
                  break;
                }
                q += 16;
              }
              if (q >= lim) {
                r = 1;
                break;
              }
              const v = <u32>load<u8>(q);
              const k = load<u8>(T_ATTR + v);
              if (k == 0) {
                q++;
                continue;
              }
              if (k == 3) {
                if (v == quote) break;
                q++;
                continue;
              }
              if (k == 7 || k == 2) {
                const e = k == 7 ? nonAsciiRun(q, lim) : referenceEnd(q, lim);
                if (e < 0) {
                  r = e == CUT ? 1 : 2;
                  break;
                }
                nonAscii = nonAscii || k == 7 || refChar >= 0x80;
                changed = changed || k == 2;
                q = <usize>e;
                continue;
              }
              if (k == 5) {
                changed = true;
                q++;
                continue;
              }
              r = 2;
              break;
            }
            if (r != 0) break;
            if (++attributes > attrLimit) {
              r = 2;
              break;
            }
            const attrId = intern(as, <usize>ae - as);
            const nameAt = attrId == 0 ? poolName(as, <usize>ae, aBase) : 0;
            emit(vs, q, nonAscii, changed, true, aBase, mBase);
            t = record3(t, R_ATTR | vMixed | (attrId << 8), vStart, vEnd);
            if (attrId == 0) {
              store<i32>(t, nameAt);
              store<i32>(t, nameAt + <i32>(<usize>ae - as), 4);
              t += 8;
            }
            if (t + 2 * MAX_RECORD > tapeEnd) {
              r = 2;
              break;
            }
            q++;
          }
          if (r != 0) break;
          p = q;
          if (selfClosing) {
            store<i32>(startRecord, load<i32>(startRecord) | (1 << 4));
            if (depth == 0) break;
          } else {
            store<i32>(STACK + (<usize>depth << 3), <i32>(ns - s0));
            store<i32>(STACK + (<usize>depth << 3) + 4, <i32>(<usize>ne - s0));
            depth++;
          }
        }
      }
      // Character data up to the next '<'.
      keepP = p;
      keepT = t;
      keepA = aOut;
      keepM = mOut;
      keepDepth = depth;
      keepInText = true;
      keepElements = elements;
      const textStart = p;
      let nonAscii = false;
      let changed = false;
      for (;;) {
        while (p + 16 <= lim) {
          const v = v128.load(p);
          const m = v128.or(v128.or(i8x16.lt_s(v, SP), i8x16.eq(v, LT)), v128.or(i8x16.eq(v, AMP), i8x16.eq(v, GT)));
          const bits = i8x16.bitmask(m);
          if (bits != 0) {
            p += <usize>ctz(bits);
            break;
          }
          p += 16;
        }
        if (p >= lim) {
          r = 1;
          break;
        }
        const v = <u32>load<u8>(p);
        const k = load<u8>(T_TEXT + v);
        if (k == 0) {
          p++;
          continue;
        }
        if (k == 1) break;
        if (k == 6 || k == 2) {
          const e = k == 6 ? nonAsciiRun(p, lim) : referenceEnd(p, lim);
          if (e < 0) {
            r = e == CUT ? 1 : 2;
            break;
          }
          nonAscii = nonAscii || k == 6 || refChar >= 0x80;
          changed = changed || k == 2;
          p = <usize>e;
          continue;
        }
        if (k == 3) {
          // `]]>` may not appear in character data (XML 1.0 §2.4).
          if (p >= textStart + 2 && load<u8>(p - 1) == 0x5d && load<u8>(p - 2) == 0x5d) {
            r = 2;
            break;
          }
          p++;
          continue;
        }
        if (k == 4) {
          changed = true;
          p++;
          continue;
        }
        r = 2;
        break;
      }
      if (r != 0) break;
      if (p > textStart) {
        emit(textStart, p, nonAscii, changed, false, aBase, mBase);
        t = record3(t, R_TEXT | vMixed, vStart, vEnd);
      }
    }
    if (r == 0) {
      store<i32>(stanzaRecord, R_STANZA);
      store<i32>(stanzaRecord, <i32>s0, 4);
      store<i32>(stanzaRecord, <i32>p, 8);
      store<i32>(stanzaRecord, <i32>(aBase - aTop), 12);
      store<i32>(stanzaRecord, <i32>((mBase - mTop) >> 1), 16);
      asciiEnd = <i32>aOut;
      mixedEnd = <i32>mOut;
      continue;
    }
    consumed = <i32>s0;
    tapeLength = <i32>((stanzaRecord - TAPE) >> 2);
    if (r == 1 && lim == end) {
      resumable = 1;
      resumeFrom = <i32>(keepP - s0);
      keptRecords = stanzaRecord;
      keptRecordsLength = keepT - stanzaRecord;
      keptLength = <i32>(keptRecordsLength >> 2);
      keptAscii = aBase;
      keptAsciiLength = keepA - aBase;
      keptMixed = mBase;
      keptMixedLength = keepM - mBase;
      keptDepth = keepDepth;
      keptInText = keepInText;
      keptElements = keepElements;
      return NEED_MORE;
    }
    return tapeLength > 0 && r == 2 && t + 2 * MAX_RECORD > tapeEnd ? TAPE_FULL : BAIL;
  }
}
