import { attrSpecial, UTF8_DECODER, UTF8_NONCHARACTER } from "./chars.js";
import type { XmlElement } from "./element.js";
import type { XmlError, XmlErrorCondition } from "./errors.js";
import type { FastScanner, Scanned } from "./fast-scan.js";
import { fastScanner } from "./fast-scan-load.js";
import { DEFAULT_XML_LIMITS, type ErrorEvent, type StreamParserOptions, type XmlLimits } from "./parser-types.js";
import { type BindingIndex, NO_BINDINGS, ROOT_SCOPE, type Scope } from "./scope.js";
import { CDATA_OPEN, EMPTY, FAILED, NEED_MORE, NO_WORDS, SCAN_NONE, SCAN_TAG, type Step } from "./parser-shared.js";

const limitMerges = new WeakMap<object, WeakMap<object, Readonly<XmlLimits>>>();

/**
 * `{ ...base, ...over }`: for frozen overrides (a server's shared options) one frozen object per pair, so
 * that thousands of parsers with the same limits hold one object, not a copy each.
 */
export function mergeLimits(base: Readonly<XmlLimits>, over: Partial<XmlLimits> | undefined): Readonly<XmlLimits> {
  if (over === undefined) return base;
  if (!Object.isFrozen(over) || !Object.isFrozen(base)) return { ...base, ...over };
  let byOver = limitMerges.get(base);
  if (byOver === undefined) limitMerges.set(base, (byOver = new WeakMap()));
  let merged = byOver.get(over);
  if (merged === undefined) byOver.set(over, (merged = Object.freeze({ ...base, ...over })));
  return merged;
}

/**
 * The input side of {@link StreamParser}: its state, the byte buffer and the UTF-8 view strings are sliced
 * from, finding the end of a cut token, and failure. The layers above add the tokens; the class is split
 * by concept only (one object, one prototype chain).
 */
export abstract class ParserInput {
  protected limits: Readonly<XmlLimits>;
  protected readonly top: number; // depth at which complete elements are reported
  protected buf: Uint8Array = EMPTY;
  protected owned = false; // whether `buf` is ours (may be written to) or the caller's chunk
  protected pos = 0;
  protected end = 0;
  protected base = 0; // absolute offset of buf[0]
  // UTF-8 view of buf[viewStart..viewEnd) for slicing strings, and a cursor mapping a byte index to its
  // UTF-16 index in the view: utf16(viewCursor) = viewCursor - viewStart - viewAdjust.
  protected view = "";
  protected viewStart = 0;
  protected viewEnd = -1;
  protected viewCursor = 0;
  protected viewAdjust = 0;
  // The buffer as aligned 32-bit words from buf[wordBase], for scanning four bytes at a time (NO_WORDS
  // for small chunks); only words wholly before `end` are ever read.
  protected words: Int32Array = NO_WORDS;
  protected wordBase = 0;

  protected depth = 0;
  // Open elements as flat triples [element, qname, enclosing scope, …]: one array, so an idle parser
  // holds one small backing store rather than three.
  protected stack: Array<XmlElement | string | Scope> = [];
  protected scope: Scope = ROOT_SCOPE;
  // Prefix bindings in scope, innermost last: flat [prefix, uri, …], `bindingCount` of them. Past
  // SCAN_BINDINGS they are also indexed, so that lookups and undoing an element's declarations take
  // constant time however many bindings are in scope.
  protected bindings: string[] = NO_BINDINGS;
  protected bindingCount = 0;
  protected bindingIndex: BindingIndex | undefined;
  protected text = "";
  protected crPending = false; // a CR ended the last text run: a following LF is part of it
  protected bracketCarry = 0; // literal `]` bytes ending the last text run (for `]]>`)
  protected closed = false;
  protected streamStart = 0; // absolute offset where the current stream (or message) began
  protected bomTaken = false; // a byte-order mark opened the current stream: another is character data
  protected elementCount = 0; // elements so far in the current top-level element
  protected windowStart = -1; // absolute offset of the current top-level element's `<`, or -1
  protected elementStart = -1; // absolute offsets of the last top-level element reported: its `<` …
  protected elementEnd = -1; // … and the byte after its `>` (see lastElementStart)

  protected scanKind = SCAN_NONE;
  protected tokenStart = 0; // absolute
  protected scanPos = 0; // absolute
  protected scanQuote = 0;

  protected pendingClose = false; // a self-closing stream header: report the close next
  protected endKnown = false; // re-parsing a token whose end the scanner has seen

  protected failure: XmlError | undefined;
  protected detached = false;

  // Fast path (see fast-scan.ts). `scanned` holds scanned top-level elements not yet reported; `tapeAt`
  // is the next record; `tapeShift` turns a byte address on the tape into an absolute offset.
  protected readonly fast: FastScanner | null;
  /** Who the fast path keeps input for: the public parser object (see FastScanner.canResume). */
  protected readonly owner: object;
  protected scanned: Scanned | undefined;
  protected tapeAt = 0;
  protected tapeShift = 0;
  protected tapeThrough = 0; // absolute offset where the scan stopped: after the tape's elements and whitespace
  // Where the fast path last ran out of input (absolute offsets of the element's start, of where a new
  // scan would begin — the start again, or the cut token's when the scanner can resume — and of the
  // input's end): it retries there only once the bytes it would scan again have grown by half, else the
  // JavaScript parser takes the element — so however the input is chunked, the fast path scans each byte
  // at most three times.
  protected fastStart = -1;
  protected fastFrom = -1;
  protected fastEnd = -1;


  constructor(options: StreamParserOptions, owner: object) {
    // Idle parsers should be small: share the frozen defaults unless something is overridden.
    this.limits = mergeLimits(DEFAULT_XML_LIMITS, options.limits);
    this.top = options.framing === "fragments" ? 0 : 1;
    this.fast = options.fastPath === false ? null : fastScanner();
    this.owner = owner;
  }

  protected abstract step(): Step;

  /**
   * The input ends inside a token: wait for more, unless what has arrived already runs past the stanza
   * size cap (a token that starts at or crosses the cap is refused now, whatever its remaining bytes).
   */
  protected needMore(): Step {
    return this.windowEnd() < this.end ? this.tooBig() : NEED_MORE;
  }

  /** Resumes looking for the end of a token that was incomplete; re-parses it once the end is there. */
  protected resumeScan(): Step {
    const found = this.scanKind === SCAN_TAG ? this.scanTagEnd() : this.scanCdataEnd();
    if (found === NEED_MORE) return NEED_MORE;
    if (typeof found === "object") return found;
    this.scanKind = SCAN_NONE;
    this.pos = this.tokenStart - this.base;
    this.endKnown = true;
    const r = this.step();
    this.endKnown = false;
    return r;
  }

  /** The index past which the current top-level element would exceed `maxStanzaBytes`. */
  protected windowEnd(): number {
    if (this.windowStart < 0) return this.end;
    const limit = this.windowStart - this.base + this.limits.maxStanzaBytes;
    return Math.min(limit, this.end);
  }

  /** Called when a direct parser ran out of bytes: over the limit it is an error, else scan onward. */
  protected incomplete(kind: number): Step {
    if (this.windowEnd() < this.end) return this.tooBig();
    // The scanner saw where this token ends, yet the parser wants more: the markup is malformed.
    if (this.endKnown) return this.fail("not-well-formed", "malformed markup", this.tokenStart);
    this.scanKind = kind;
    this.scanPos = this.tokenStart + 1; // past the token's own `<`
    this.scanQuote = 0;
    return this.resumeScan();
  }

  protected tooBig(): ErrorEvent {
    return this.fail(
      "policy-violation",
      `element exceeds the limit of ${this.limits.maxStanzaBytes} bytes`,
      this.windowStart + this.limits.maxStanzaBytes,
    );
  }

  protected scanTagEnd(): Step | true {
    const buf = this.buf;
    const limit = this.windowEnd();
    let i = this.scanPos - this.base;
    let q = this.scanQuote;
    for (; i < limit; i++) {
      const c = buf[i]!;
      if (q !== 0) {
        if (c === q) q = 0;
        else if (c === 0x3c) return true;
      } else if (c === 0x3e || c === 0x3c) return true;
      else if (c === 0x22 || c === 0x27) q = c;
    }
    if (limit < this.end) return this.tooBig();
    this.scanPos = this.base + i;
    this.scanQuote = q;
    return NEED_MORE;
  }

  protected scanCdataEnd(): Step | true {
    const buf = this.buf;
    const limit = this.windowEnd();
    const from = this.tokenStart - this.base + CDATA_OPEN.length;
    let i = Math.max(this.scanPos - this.base - 2, from);
    for (; i + 2 < limit; i++) {
      if (buf[i] === 0x5d && buf[i + 1] === 0x5d && buf[i + 2] === 0x3e) return true;
    }
    if (limit < this.end) return this.tooBig();
    this.scanPos = this.base + limit;
    return NEED_MORE;
  }

  protected fail(condition: XmlErrorCondition, text: string, offset: number = this.base + this.pos): ErrorEvent {
    const error: XmlError = { condition, text, offset };
    this.failure = error;
    return { kind: "error", error };
  }

  protected badUtf8(code: number, at: number): ErrorEvent {
    return code === UTF8_NONCHARACTER
      ? this.fail("not-well-formed", "U+FFFE/U+FFFF is not an XML character", this.base + at)
      : this.fail("not-well-formed", "invalid UTF-8", this.base + at);
  }

  protected refFail(at: number, condition: XmlErrorCondition, text: string): number {
    this.fail(condition, text, this.base + at);
    return FAILED;
  }

  /**
   * The string for validated bytes `buf[start..end)` (`ascii`: none of them is ≥ 0x80). Strings are
   * sliced from a UTF-8 view of the buffer, decoded once per buffer: a `TextDecoder` call costs ~0.1 µs
   * plus 0.1–1.6 ns a byte, so one call per buffer beats one per value by far. Byte indices map to
   * UTF-16 indices through a forward-moving cursor that counts continuation bytes (one unit less each)
   * and 4-byte leads (one unit more: a surrogate pair), four bytes at a time where the buffer is aligned.
   * The view starts at a validated character boundary and every byte before `end` has been validated, so
   * the mapping is exact there; what the decoder makes of an incomplete sequence at the buffer's end lies
   * beyond any slice. Slices keep the view alive while they live — bounded by the input they came from,
   * as with any string-slicing parser.
   */
  protected str(start: number, end: number, ascii: boolean): string {
    if (start < this.viewCursor || end > this.viewEnd) this.newView(start);
    const from = this.advance(start);
    if (ascii) {
      this.viewCursor = end;
      return this.view.slice(from, from + end - start);
    }
    return this.view.slice(from, this.advance(end));
  }

  protected newView(start: number): void {
    const buf = this.buf;
    this.viewStart = this.viewCursor = start;
    this.viewEnd = this.end;
    this.viewAdjust = 0;
    this.view = UTF8_DECODER.decode(buf.subarray(start, this.end));
  }

  /** Sets up {@link words} for a new `buf` (our own buffer: its whole capacity, as appends go in place). */
  protected setWords(): void {
    const buf = this.buf;
    const lead = (4 - (buf.byteOffset & 3)) & 3;
    const n = (buf.length - lead) >> 2;
    if (n >= 8) {
      this.wordBase = lead;
      this.words = new Int32Array(buf.buffer, buf.byteOffset + lead, n);
    } else {
      this.wordBase = 0;
      this.words = NO_WORDS;
    }
  }

  /**
   * Index of the first byte in `[i, end)` that needs a look in an attribute value (see `attrSpecial`),
   * or `end`. Whole aligned words are tested at once: a byte < 0x20, `<`, `&`/`'` (0x26/0x27 differ in
   * the last bit), `"`, or ≥ 0x80 — with the exact "has a zero/lesser byte" bit tricks, so a word passes
   * only if none of its bytes is special.
   */
  protected attrScan(i: number, end: number): number {
    const buf = this.buf;
    const wordBase = this.wordBase;
    const last = Math.min((end - wordBase) >> 2, this.words.length);
    let k = (i - wordBase + 3) >> 2;
    if (i >= wordBase && k < last) {
      const wordStart = wordBase + (k << 2);
      for (; i < wordStart; i++) if (attrSpecial[buf[i]!] !== 0) return i;
      const words = this.words;
      for (; k < last; k++) {
        const w = words[k]!;
        const a = w ^ 0x3c3c3c3c;
        const b = (w | 0x01010101) ^ 0x27272727;
        const c = w ^ 0x22222222;
        const t = (((w - 0x20202020) | 0) & ~w) | (((a - 0x01010101) | 0) & ~a) | (((b - 0x01010101) | 0) & ~b) | (((c - 0x01010101) | 0) & ~c) | w;
        if ((t & 0x80808080) !== 0) break;
      }
      i = wordBase + (k << 2);
    }
    while (i < end && attrSpecial[buf[i]!] === 0) i++;
    return i;
  }

  /** Moves the view cursor to byte index `p` (≥ the cursor) and returns its UTF-16 index in the view. */
  protected advance(p: number): number {
    const buf = this.buf;
    let i = this.viewCursor;
    let adjust = this.viewAdjust;
    const wordBase = this.wordBase;
    const wordsEnd = wordBase + (this.words.length << 2);
    if (p - i >= 8 && i >= wordBase && p <= wordsEnd) {
      for (; ((i - wordBase) & 3) !== 0; i++) {
        const c = buf[i]!;
        if (c >= 0x80) adjust += c < 0xc0 ? 1 : c >= 0xf0 ? -1 : 0;
      }
      const words = this.words;
      const last = (p - wordBase) >> 2;
      for (let k = (i - wordBase) >> 2; k < last; k++) {
        const w = words[k]!;
        if ((w & 0x80808080) === 0) continue;
        // Continuation bytes (10xxxxxx) and 4-byte leads (11110xxx), counted with a byte-wise popcount.
        const cont = w & ~(w << 1) & 0x80808080;
        const four = w & (w << 1) & (w << 2) & (w << 3) & 0x80808080;
        adjust += (Math.imul(cont >>> 7, 0x01010101) >>> 24) - (Math.imul(four >>> 7, 0x01010101) >>> 24);
      }
      i = wordBase + (last << 2);
    }
    for (; i < p; i++) {
      const c = buf[i]!;
      if (c >= 0x80) adjust += c < 0xc0 ? 1 : c >= 0xf0 ? -1 : 0;
    }
    this.viewCursor = p;
    this.viewAdjust = adjust;
    return p - this.viewStart - adjust;
  }

  protected errorEvent(): ErrorEvent {
    return { kind: "error", error: this.failure! };
  }
}
