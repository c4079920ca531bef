import { createElement } from "./element.js";
import { NAME_DEFAULT_NS, NAME_OTHER, NAME_XML, R_ATTR, R_MIXED, R_START, R_TEXT, SCAN_NEED_MORE, SCAN_TAPE_FULL, splitName, type TapeName } from "./fast-scan.js";
import { NS_XML, NS_XMLNS } from "./namespaces.js";
import { CONTINUE, NEED_MORE, RAW_ATTRS, SLOW, type Step } from "./parser-shared.js";
import { ParserTags } from "./parser-tags.js";

/**
 * The fast path's glue: runs the WebAssembly scanner between top-level elements (see fast-scan.ts) and
 * replays the elements it put on the tape through the tree and namespace code of {@link ParserTree}.
 */
export abstract class ParserReplay extends ParserTags {
  // ---------------------------------------------------------------------------------------------------
  // Fast path

  /**
   * Between top-level elements: lets the WebAssembly scanner validate the elements that follow and put
   * them on the tape. Returns SLOW when the JavaScript parser should take the next token (an element the
   * scanner declined, the end of the stream, anything that is not an element).
   */
  protected fastScan(): Step {
    const pos = this.pos;
    const end = this.end;
    const base = this.base;
    if (base + pos === this.fastStart) {
      // The slow path holds less of an incomplete element: let it take one the buffer limit would refuse.
      if (end - pos > this.limits.maxBufferedBytes) return SLOW;
      if (base + end === this.fastEnd) return NEED_MORE; // nothing new since it ran out of input here
      const from = this.fast!.canResume(this.owner, this.fastStart) ? this.fastFrom : this.fastStart;
      if (base + end - from < 1.5 * (this.fastEnd - from)) return SLOW;
    }
    const fast = this.fast!;
    let status: number;
    try {
      status = fast.scan(this.buf, pos, end, this.limits, false, this.owner, base);
      if (status === SCAN_NEED_MORE && fast.windowCut && fast.scanned === undefined && fast.consumed === pos) {
        // The window ended inside the first element: once more with all the room the limits give it.
        status = fast.scan(this.buf, pos, end, this.limits, true, this.owner, base);
      }
    } catch {
      return SLOW; // cannot happen with a correct module; the JavaScript parser is always right
    }
    // Only whitespace lies between `pos` and the first element (or `consumed`): skip it as parseOutsideText would.
    const scanned = fast.scanned;
    if (scanned !== undefined) {
      this.scanned = scanned;
      this.tapeAt = 0;
      this.tapeShift = fast.addressToIndex + base;
      this.tapeThrough = base + fast.consumed;
    } else this.pos = fast.consumed;
    if (status === SCAN_NEED_MORE) {
      if (fast.windowCut) {
        // The window ended, not the input. Without progress even the widest window holds no whole element:
        // leave it to the JavaScript parser.
        return scanned !== undefined || fast.consumed > pos ? CONTINUE : SLOW;
      }
      if (fast.suspect) {
        // A complete start tag of the cut element needs the namespace checks that the tape's replay
        // would make only once the element is complete: the JavaScript parser takes the element now,
        // so that an error in that tag is reported at once, as with any other chunking.
        this.fastStart = -1;
        return scanned !== undefined ? CONTINUE : SLOW;
      }
      this.fastStart = base + fast.consumed;
      this.fastFrom = fast.resumeAt < 0 ? this.fastStart : fast.resumeAt;
      this.fastEnd = base + end;
      if (scanned !== undefined) return CONTINUE;
      return end - fast.consumed > this.limits.maxBufferedBytes ? SLOW : NEED_MORE;
    }
    if (status === SCAN_TAPE_FULL || scanned !== undefined) return CONTINUE;
    return SLOW;
  }

  /** Builds the next element on the tape, with the slow path's own namespace and tree code. */
  protected replay(): Step {
    const scanned = this.scanned!;
    const { tape, length, ascii, mixed, names } = scanned;
    const shift = this.tapeShift;
    const base = this.base;
    let r = this.tapeAt;
    // An R_STANZA record: the element's byte range and where its values begin in the pools.
    const start = tape[r + 1]! + shift;
    const end = tape[r + 2]! + shift;
    const asciiBase = tape[r + 3]!;
    const mixedBase = tape[r + 4]!;
    const after = end - base;
    this.windowStart = start;
    const raw = RAW_ATTRS;
    r += 5;
    for (;;) {
      const head = tape[r]!;
      const kind = head & 15;
      let step: Step = CONTINUE;
      if (kind === R_TEXT) {
        this.text += tapeValue(head, tape[r + 1]!, tape[r + 2]!, ascii, asciiBase, mixed, mixedBase);
        r += 3;
      } else if (kind === R_START) {
        const id = head >>> 8;
        const name = id !== 0 ? names[id]! : splitName(ascii.slice(asciiBase + tape[r + 2]!, asciiBase + tape[r + 3]!));
        const selfClosing = (head & (1 << 4)) !== 0;
        this.tokenStart = start + tape[r + 1]!;
        r += id !== 0 ? 2 : 4;
        // The attributes' heads first: their kinds, and whether one is not interned or comes twice.
        const first = r;
        let count = 0;
        let mask = 0;
        while (r < length && (tape[r]! & 15) === R_ATTR) {
          const attrId = tape[r]! >>> 8;
          if (attrId !== 0) {
            mask |= names[attrId]!.kind;
            for (let q = first; q < r; q += 3) if (tape[q]! >>> 8 === attrId) mask |= NAME_OTHER;
            r += 3;
          } else {
            mask |= NAME_OTHER;
            r += 5;
          }
          count++;
        }
        step = name.prefix === "" && mask < NAME_OTHER && this.depth > 0 ? this.openCommon(name, selfClosing, after, first, count, mask, asciiBase, mixedBase) : SLOW;
        if (step === SLOW) {
          let n = 0;
          for (let q = first; q < r; n += 3) {
            const h = tape[q]!;
            const attrId = h >>> 8;
            raw[n + 2] = tapeValue(h, tape[q + 1]!, tape[q + 2]!, ascii, asciiBase, mixed, mixedBase);
            const attr = attrId !== 0 ? names[attrId]! : splitName(ascii.slice(asciiBase + tape[q + 3]!, asciiBase + tape[q + 4]!));
            raw[n] = attr.prefix;
            raw[n + 1] = attr.local;
            q += attrId !== 0 ? 3 : 5;
          }
          step = this.openElement(name.qname, name.prefix, name.local, selfClosing, after, n);
        }
      } else {
        // R_END
        step = this.closeElement(after);
        r += 1;
      }
      if (step !== CONTINUE) {
        this.tapeAt = r;
        if (typeof step === "object" && step.kind === "error") this.scanned = undefined;
        else if (r >= length) {
          // Also past the whitespace the scanner skipped: the next scan begins where this one stopped.
          this.scanned = undefined;
          this.fast!.recycle(scanned);
          this.pos = this.tapeThrough - base;
        }
        return step;
      }
    }
  }

  /**
   * openElement for the usual element from the tape: no prefix on its name, and `count` attributes from
   * record `first` on, each interned, none twice, unprefixed, `xml:`-prefixed or the default namespace
   * declaration (`mask`: the kinds seen, see TapeName.kind). Anything else — and every error — is left
   * to openElement (SLOW).
   */
  protected openCommon(name: TapeName, selfClosing: boolean, after: number, first: number, count: number, mask: number, asciiBase: number, mixedBase: number): Step {
    const { tape, ascii, mixed, names } = this.scanned!;
    let scope = this.scope;
    let size = count * 3;
    if ((mask & NAME_DEFAULT_NS) !== 0) {
      let uri = "";
      for (let k = 0, r = first; k < count; k++, r += 3) {
        const h = tape[r]!;
        if (names[h >>> 8]!.kind === NAME_DEFAULT_NS) uri = tapeValue(h, tape[r + 1]!, tape[r + 2]!, ascii, asciiBase, mixed, mixedBase);
      }
      if (uri === NS_XML || uri === NS_XMLNS) return SLOW;
      // The same namespace as the parent's: share its scope, and its string.
      if (uri !== scope.defaultNs) scope = { defaultNs: uri, top: scope.top };
      size -= 3;
    }
    const attrs: string[] = new Array(size);
    for (let k = 0, r = first, j = 0; k < count; k++, r += 3) {
      const h = tape[r]!;
      const attr = names[h >>> 8]!;
      if (attr.kind === NAME_DEFAULT_NS) continue;
      attrs[j] = attr.kind === NAME_XML ? NS_XML : "";
      attrs[j + 1] = attr.local;
      attrs[j + 2] = tapeValue(h, tape[r + 1]!, tape[r + 2]!, ascii, asciiBase, mixed, mixedBase);
      j += 3;
    }
    this.pos = after;
    return this.place(createElement(name.local, scope.defaultNs, attrs), name.qname, scope, selfClosing, this.tokenStart);
  }
}

/** A value on the tape: [start, end) in its pool (by R_MIXED in its record's head), from the element's base. */
function tapeValue(head: number, start: number, end: number, ascii: string, asciiBase: number, mixed: string, mixedBase: number): string {
  return (head & R_MIXED) === 0 ? ascii.slice(asciiBase + start, asciiBase + end) : mixed.slice(mixedBase + start, mixedBase + end);
}
