import type { XmlError } from "./errors.js";
import type { ParseEvent, XmlLimits } from "./parser-types.js";
import { HEADER_STACK, NO_BINDINGS, ROOT_SCOPE } from "./scope.js";
import { CONTINUE, EMPTY, NEED_MORE, NO_WORDS, SCAN_NONE, SLOW, type Step } from "./parser-shared.js";
import { mergeLimits } from "./parser-input.js";
import { ParserReplay } from "./parser-replay.js";

/**
 * The whole parser: the layers' state and code, with the operations {@link StreamParser} forwards to. Kept
 * behind that class so that its protected members and their internal types stay out of the published
 * declarations.
 */
export class ParserCore extends ParserReplay {
  get error(): XmlError | undefined {
    return this.failure;
  }

  get offset(): number {
    return this.base + this.pos;
  }

  get lastElementStart(): number {
    return this.elementStart;
  }

  get lastElementEnd(): number {
    return this.elementEnd;
  }

  get bufferedBytes(): number {
    return this.end - this.pos;
  }

  get streamClosed(): boolean {
    return this.closed;
  }

  setLimits(limits: Partial<XmlLimits>): void {
    this.limits = mergeLimits(this.limits, limits);
    this.scanned = undefined; // scanned under the old limits
    this.fastStart = -1;
    this.fast?.forget(this.owner);
  }

  push(bytes: Uint8Array): void {
    if (this.detached) throw new TypeError("StreamParser: push() after takeUnparsed()");
    if (this.failure !== undefined || bytes.length === 0) return;
    this.viewEnd = -1; // the buffer changes: the view is stale
    const keep = this.end - this.pos;
    if (keep === 0) {
      this.base += this.end;
      this.buf = bytes;
      this.owned = false;
      this.pos = 0;
      this.end = bytes.length;
      this.setWords();
      return;
    }
    const need = keep + bytes.length;
    if (this.owned && this.buf.length - this.end >= bytes.length) {
      this.buf.set(bytes, this.end);
      this.end += bytes.length;
      return;
    }
    if (this.owned && this.pos > 0 && this.buf.length >= need) {
      this.buf.copyWithin(0, this.pos, this.end);
    } else {
      const grown = new Uint8Array(Math.max(need * 2, 4096));
      grown.set(this.buf.subarray(this.pos, this.end));
      this.buf = grown;
      this.owned = true;
      this.setWords();
    }
    this.base += this.pos;
    this.pos = 0;
    this.end = keep;
    this.buf.set(bytes, keep);
    this.end = need;
  }

  next(): ParseEvent | undefined {
    if (this.failure !== undefined || this.detached) return undefined;
    for (;;) {
      const r = this.step();
      if (r === CONTINUE || r === SLOW) continue;
      if (r === NEED_MORE) {
        if (this.end - this.pos > this.limits.maxBufferedBytes) {
          return this.fail("policy-violation", `more than ${this.limits.maxBufferedBytes} bytes buffered for one token`, this.base + this.end);
        }
        if (this.pos === this.end && this.scanKind === SCAN_NONE) {
          // Everything consumed: let go of the chunk (or our buffer) so an idle parser holds no bytes.
          this.base += this.end;
          this.buf = EMPTY;
          this.owned = false;
          this.pos = this.end = 0;
          this.view = "";
          this.viewEnd = -1;
          this.words = NO_WORDS;
        }
        return undefined;
      }
      return r;
    }
  }

  trim(): void {
    const stack = this.stack;
    if (this.depth > this.top || stack.length <= this.depth * 3) return;
    // The shared header stack, or a copy of exactly the open levels (shortening keeps spare capacity).
    if (this.depth === 1 && stack[0] === HEADER_STACK[0] && stack[1] === HEADER_STACK[1] && stack[2] === HEADER_STACK[2]) this.stack = HEADER_STACK;
    else this.stack = stack.slice(0, this.depth * 3);
  }

  reset(): void {
    this.depth = 0;
    if (this.stack === HEADER_STACK) this.stack = [];
    else this.stack.length = 0;
    this.scope = ROOT_SCOPE;
    this.bindings = NO_BINDINGS;
    this.bindingCount = 0;
    this.bindingIndex = undefined;
    this.text = "";
    this.crPending = false;
    this.bracketCarry = 0;
    this.closed = false;
    this.streamStart = this.base + this.pos;
    this.bomTaken = false;
    this.windowStart = -1;
    this.scanKind = SCAN_NONE;
    this.scanned = undefined;
    this.fastStart = -1;
    this.fast?.forget(this.owner);
  }

  takeUnparsed(): Uint8Array {
    const rest = this.buf.slice(this.pos, this.end);
    this.detached = true;
    this.scanned = undefined;
    this.fast?.forget(this.owner);
    this.buf = EMPTY;
    this.pos = this.end = 0;
    return rest;
  }

  // ---------------------------------------------------------------------------------------------------
  // Dispatch

  protected step(): Step {
    if (this.pendingClose) {
      this.pendingClose = false;
      return { kind: "stream-close" };
    }
    if (this.scanKind !== SCAN_NONE) return this.resumeScan();
    if (this.scanned !== undefined) return this.replay();
    if (this.pos >= this.end) return NEED_MORE;
    if (this.fast !== null && this.depth === this.top && !this.closed) {
      const r = this.fastScan();
      if (r !== SLOW) return r;
    }
    const buf = this.buf;
    const pos = this.pos;
    const c = buf[pos]!;
    if (c !== 0x3c) {
      if (this.depth > this.top) return this.parseText();
      return this.parseOutsideText();
    }
    if (this.closed) return this.fail("not-well-formed", "data after the end of the stream");
    if (this.depth <= this.top) this.windowStart = this.base + pos;
    this.tokenStart = this.base + pos;
    if (pos + 1 >= this.end) return this.needMore();
    const c1 = buf[pos + 1]!;
    if (c1 === 0x2f) return this.endTag();
    if (c1 === 0x21) return this.markupDeclaration();
    if (c1 === 0x3f) return this.processingInstruction();
    return this.startTag();
  }
}
