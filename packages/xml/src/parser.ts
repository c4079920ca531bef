import type { XmlError } from "./errors.js";
import type { ParseEvent, XmlLimits } from "./parser-types.js";
import { HEADER_STACK, NO_BINDINGS, ROOT_SCOPE } from "./scope.js";
import { CONTINUE, EMPTY, NEED_MORE, NO_WORDS, SCAN_NONE, SLOW, type Step } from "./parser-shared.js";
import { mergeLimits } from "./parser-input.js";
import { ParserReplay } from "./parser-replay.js";

// The public types and defaults the parser takes and gives (the package index exports them from here).
export * from "./parser-types.js";

/**
 * A strict, streaming, namespace-aware parser for XMPP's restricted XML (RFC 6120 §11), working on bytes.
 *
 * Feed bytes with {@link push} in chunks of any size, then pull events with {@link next} until it returns
 * `undefined` (more input needed). Pulling is what makes exact byte boundaries possible: after the event
 * for `<proceed/>` the caller can {@link takeUnparsed} the bytes that belong to TLS, and after `<success/>`
 * it can {@link reset} so the next bytes start a new stream.
 *
 * Everything the peer can get wrong ends in an {@link ErrorEvent} carrying an RFC 6120 stream error
 * condition — the parser never throws for bad input, never expands an entity, and never holds more than
 * the configured limits. Work is linear in the input however it is chunked.
 *
 * @example
 * ```ts
 * const parser = new StreamParser();
 * parser.push(new TextEncoder().encode("<stream:stream xmlns='jabber:client' " +
 *   "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><message><body>hi</body></message>"));
 * for (let ev = parser.next(); ev; ev = parser.next()) console.log(ev.kind); // stream-open, element
 * ```
 */
export class StreamParser extends ParserReplay {
  /** The error that ended parsing, if any. */
  get error(): XmlError | undefined {
    return this.failure;
  }

  /** Absolute offset (bytes since creation) of the next byte not yet consumed. */
  get offset(): number {
    return this.base + this.pos;
  }

  /**
   * Absolute offsets of the last top-level element reported (an {@link ElementEvent}): its `<`, and
   * {@link lastElementEnd}, the byte after its `>`; -1 before the first. With `"fragments"` framing they
   * tell which of several concatenated messages an element came from (`FramedParser.parseEach`).
   */
  get lastElementStart(): number {
    return this.elementStart;
  }

  /** The byte after the last top-level element's `>` (absolute; see {@link lastElementStart}). */
  get lastElementEnd(): number {
    return this.elementEnd;
  }

  /** Bytes pushed but not yet consumed. */
  get bufferedBytes(): number {
    return this.end - this.pos;
  }

  /** True between the root element's end tag (`</stream:stream>`) and a {@link reset}. */
  get streamClosed(): boolean {
    return this.closed;
  }

  /** Changes limits from now on, e.g. to raise the stanza size once the peer has authenticated. */
  setLimits(limits: Partial<XmlLimits>): void {
    this.limits = mergeLimits(this.limits, limits);
    this.scanned = undefined; // scanned under the old limits
    this.fastStart = -1;
    this.fast?.forget(this);
  }

  /**
   * Adds input. The parser may keep a reference to `bytes` until it has consumed them, so do not modify
   * them afterwards. After an error the input is ignored.
   * @throws TypeError after {@link takeUnparsed}.
   */
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

  /**
   * The next event, or `undefined` when more input is needed (or parsing has ended). An
   * {@link ErrorEvent} is returned once; after it, `undefined`.
   */
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

  /**
   * Lets go of spare capacity while between top-level elements (for a connection that has gone idle): the
   * element stack keeps only the open stream's level. The next element grows it again.
   */
  trim(): void {
    const stack = this.stack;
    if (this.depth > this.top || stack.length <= this.depth * 3) return;
    // The shared header stack, or a copy of exactly the open levels (shortening keeps spare capacity).
    if (this.depth === 1 && stack[0] === HEADER_STACK[0] && stack[1] === HEADER_STACK[1] && stack[2] === HEADER_STACK[2]) this.stack = HEADER_STACK;
    else this.stack = stack.slice(0, this.depth * 3);
  }

  /**
   * Starts a new stream at the current byte (RFC 6120 §4.3.3 restarts after STARTTLS and SASL). Input
   * already pushed but not consumed is kept and parsed as the start of the new stream; a new XML
   * declaration is allowed there.
   */
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
    this.fast?.forget(this);
  }

  /**
   * Stops parsing and returns the bytes pushed but not consumed — after `<proceed/>` these belong to the
   * TLS handshake and must never be read as XML (the STARTTLS injection class, CVE-2011-0411).
   * The parser accepts no more input afterwards.
   */
  takeUnparsed(): Uint8Array {
    const rest = this.buf.slice(this.pos, this.end);
    this.detached = true;
    this.scanned = undefined;
    this.fast?.forget(this);
    this.buf = EMPTY;
    this.pos = this.end = 0;
    return rest;
  }

  // ---------------------------------------------------------------------------------------------------
  // Dispatch

  /** @internal */
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
