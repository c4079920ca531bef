import {
  AsciiInterner,
  attrSpecial,
  decodeCodePoint,
  decodeValidated,
  isNameCodePoint,
  isNameStartCodePoint,
  isSpace,
  isXmlChar,
  nameCharAscii,
  nameStartAscii,
  TEXT_AMP,
  TEXT_CR,
  TEXT_GT,
  TEXT_HIGH,
  TEXT_LT,
  TEXT_PLAIN,
  TEXT_RBRACKET,
  textClass,
  UTF8_NONCHARACTER,
  UTF8_TRUNCATED,
  UTF8_DECODER,
  utf8Sequence,
} from "./chars.js";
import { createElement, XmlElement } from "./element.js";
import { fastScanner } from "./fast-scan-load.js";
import {
  type FastScanner,
  R_ATTR,
  R_MIXED,
  R_START,
  R_TEXT,
  SCAN_NEED_MORE,
  SCAN_TAPE_FULL,
  NAME_DEFAULT_NS,
  NAME_OTHER,
  NAME_XML,
  type Scanned,
  splitName,
  type TapeName,
} from "./fast-scan.js";
import type { XmlError, XmlErrorCondition } from "./errors.js";
import { NS_STREAMS, NS_XML, NS_XMLNS } from "./namespaces.js";

/**
 * Limits that bound memory and work per stream. Exceeding one ends parsing with `policy-violation`
 * at once, in the middle of a token if need be.
 */
export interface XmlLimits {
  /**
   * Bytes of one top-level element (a stanza, or the stream header), counted on the raw bytes from its
   * `<` on, including a token still being read. Default 256 KiB, as Prosody and ejabberd use for c2s.
   */
  maxStanzaBytes: number;
  /** Nesting depth inside one top-level element (the stanza itself is depth 1). Default 64. */
  maxDepth: number;
  /**
   * Elements in one top-level element, itself included (the stream header is not counted; its stanzas
   * are, each on its own). Default 16,384: one per 16 bytes of the default `maxStanzaBytes`, more than a
   * real stanza comes near (a roster item takes ~80 bytes), while `<a/>` repeated 65,000 times in
   * 256 KiB would be 65,000 objects. Checked as each start tag is parsed. Before authentication the
   * session uses a much lower cap (core's `DEFAULT_PRE_AUTH_LIMITS`).
   */
  maxElements: number;
  /** Attributes on one element, namespace declarations included. Default 64. */
  maxAttributes: number;
  /** Bytes in one element or attribute name, prefix included. Default 256. */
  maxNameLength: number;
  /** Bytes the parser may hold for an incomplete token between calls. Default 512 KiB. */
  maxBufferedBytes: number;
}

/** The defaults of {@link XmlLimits}. */
export const DEFAULT_XML_LIMITS: Readonly<XmlLimits> = Object.freeze({
  maxStanzaBytes: 256 * 1024,
  maxDepth: 64,
  maxElements: 16384,
  maxAttributes: 64,
  maxNameLength: 256,
  maxBufferedBytes: 512 * 1024,
});

/** The stream header arrived: `<stream:stream …>` (or whatever root element the peer sent). */
export interface StreamOpenEvent {
  readonly kind: "stream-open";
  /** The root element's name, namespace and attributes; it never gets children. */
  readonly element: XmlElement;
  /** The prefix the root element was written with (`"stream"` conventionally, `""` for none). */
  readonly prefix: string;
  /** Namespace declarations made on the root element: prefix (`""` for the default) → URI. */
  readonly namespaces: ReadonlyMap<string, string>;
}

/** A complete top-level element: a stanza or other depth-1 element of the stream, or one framed message. */
export interface ElementEvent {
  readonly kind: "element";
  /** The element, complete with its children; its namespace is resolved against the stream header's declarations. */
  readonly element: XmlElement;
}

/** The peer closed the stream (`</stream:stream>`). */
export interface StreamCloseEvent {
  readonly kind: "stream-close";
}

/** Parsing failed; the parser is finished and accepts no more input. */
export interface ErrorEvent {
  readonly kind: "error";
  /** Why parsing stopped, with the stream error condition to send (`error.condition`) and the text for `<text/>`. */
  readonly error: XmlError;
}

/** What {@link StreamParser.next} yields. */
export type ParseEvent = StreamOpenEvent | ElementEvent | StreamCloseEvent | ErrorEvent;

/** Options for {@link StreamParser}. */
export interface StreamParserOptions {
  /** Overrides of {@link DEFAULT_XML_LIMITS}. */
  limits?: Partial<XmlLimits>;
  /**
   * `"stream"` (default): one root element (the stream header) whose children are reported one by one.
   * `"fragments"`: a sequence of complete top-level elements, as in RFC 7395 WebSocket messages.
   */
  framing?: "stream" | "fragments";
  /**
   * Use the WebAssembly fast path where the runtime allows it (default `true`). It validates complete
   * stanzas natively and hands anything unusual back to the JavaScript parser, so the events are the same
   * either way; `false` is for comparisons and for runtimes that should not compile WebAssembly.
   */
  fastPath?: boolean;
}

/**
 * Namespaces in effect below an element. Elements that declare nothing share their parent's. The prefix
 * bindings themselves are on the parser's binding stack (see {@link StreamParser.lookupPrefix}); `top` is
 * how many of them are in effect here.
 */
interface Scope {
  readonly defaultNs: string;
  readonly top: number;
}

const ROOT_SCOPE: Scope = { defaultNs: "", top: 0 };
const limitMerges = new WeakMap<object, WeakMap<object, Readonly<XmlLimits>>>();

/**
 * `{ ...base, ...over }`: for frozen overrides (a server's shared options) one frozen object per pair, so
 * that thousands of parsers with the same limits hold one object, not a copy each.
 */
function mergeLimits(base: Readonly<XmlLimits>, over: Partial<XmlLimits> | undefined): Readonly<XmlLimits> {
  if (over === undefined) return base;
  if (!Object.isFrozen(over) || !Object.isFrozen(base)) return { ...base, ...over };
  let byOver = limitMerges.get(base);
  if (byOver === undefined) limitMerges.set(base, (byOver = new WeakMap()));
  let merged = byOver.get(over);
  if (merged === undefined) byOver.set(over, (merged = Object.freeze({ ...base, ...over })));
  return merged;
}

/** A cleared slot of the element stack. */
const UNUSED = "";
/** Up to this many prefix bindings in scope, a lookup scans them; beyond, they are indexed by a map. */
const SCAN_BINDINGS = 8;
/** No bindings (shared: never written to; {@link StreamParser.bind} makes a parser its own array). */
const NO_BINDINGS: string[] = [];
/**
 * The stream header's usual binding, `stream` → `http://etherx.jabber.org/streams`, alone in scope: shared
 * by every parser (never written to: a further binding grows a parser its own array, unbinding copies it).
 */
const STREAM_BINDINGS: string[] = ["stream", NS_STREAMS];
/** The default namespaces of the usual stream headers: their scopes are shared ({@link headerScope}). */
const HEADER_NAMESPACES = ["jabber:client", "jabber:server", "jabber:component:accept", ""];
const HEADER_SCOPES: Scope[][] = HEADER_NAMESPACES.map(() => []);

/**
 * The stream header's scope: for the usual default namespaces and few bindings, one shared object per
 * (namespace, binding count) instead of one per parser — it lives as long as the stream.
 */
function headerScope(scope: Scope): Scope {
  const i = HEADER_NAMESPACES.indexOf(scope.defaultNs);
  if (i < 0 || scope.top > 4) return scope;
  const shared = HEADER_SCOPES[i]!;
  return (shared[scope.top] ??= Object.freeze({ defaultNs: HEADER_NAMESPACES[i]!, top: scope.top }));
}

/** The index of many prefix bindings: prefix → its innermost binding; per binding the one it shadows, or -1. */
interface BindingIndex {
  readonly innermost: Map<string, number>;
  readonly shadowed: number[];
}

// Internal step results; events are objects, so these numbers never collide with them.
const NEED_MORE = 0;
const CONTINUE = 1;
const SLOW = 2; // the fast path declined: parse the next token in JavaScript
type Step = typeof NEED_MORE | typeof CONTINUE | typeof SLOW | ParseEvent;

// Token kinds that are being scanned for their end across calls.
const SCAN_NONE = 0;
const SCAN_TAG = 1; // start tag, end tag or XML declaration: looking for `>` outside quotes
const SCAN_CDATA = 2; // looking for `]]>`

// Results of the direct token parsers.
const INCOMPLETE = -1;
const FAILED = -2;

const CDATA_OPEN = [0x3c, 0x21, 0x5b, 0x43, 0x44, 0x41, 0x54, 0x41, 0x5b]; // <![CDATA[
const XML_DECL_OPEN = [0x3c, 0x3f, 0x78, 0x6d, 0x6c]; // <?xml

const EMPTY = new Uint8Array(0);
/** Shared by all parsers: it only caches immutable strings, and keeps idle parsers small. */
const INTERNER = new AsciiInterner();
const NO_WORDS = new Int32Array(0);
/**
 * Scratch space for the attributes of the tag being parsed (raw prefix, local name, value), shared by all
 * parsers: a tag is parsed within one synchronous call that nothing can re-enter, and idle parsers then
 * carry no array of their own.
 */
const RAW_ATTRS: string[] = [];
/** Stands in for the stream header on the element stack: its children are never attached to it. */
const HEADER_PLACEHOLDER = new XmlElement("stream", "");
/**
 * The element stack of a parser inside the usual stream header and between stanzas: shared by every such
 * parser, never written to (the first element copies it; see push1, closeElement, reset, trim).
 */
const HEADER_STACK: Array<XmlElement | string | Scope> = [HEADER_PLACEHOLDER, "stream:stream", ROOT_SCOPE];
/**
 * The results the token scanners hand back besides their return value — scanName: the colon's index (or
 * -1) and whether the name is ASCII; reference(): the character; attributeValue(): the value. Shared by all
 * parsers (a token is parsed within one synchronous call nothing can re-enter): idle parsers carry none.
 */
const R = { nameColon: -1, nameAscii: true, refValue: "", attrValue: "" };
/** Longest reference considered; `&#x10FFFF;` needs 10, the rest is room for leading zeros. */
const MAX_REFERENCE_BYTES = 32;

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
export class StreamParser {
  private limits: Readonly<XmlLimits>;
  private readonly top: number; // depth at which complete elements are reported
  private buf: Uint8Array = EMPTY;
  private owned = false; // whether `buf` is ours (may be written to) or the caller's chunk
  private pos = 0;
  private end = 0;
  private base = 0; // absolute offset of buf[0]
  // UTF-8 view of buf[viewStart..viewEnd) for slicing strings, and a cursor mapping a byte index to its
  // UTF-16 index in the view: utf16(viewCursor) = viewCursor - viewStart - viewAdjust.
  private view = "";
  private viewStart = 0;
  private viewEnd = -1;
  private viewCursor = 0;
  private viewAdjust = 0;
  // The buffer as aligned 32-bit words from buf[wordBase], for scanning four bytes at a time (NO_WORDS
  // for small chunks); only words wholly before `end` are ever read.
  private words: Int32Array = NO_WORDS;
  private wordBase = 0;

  private depth = 0;
  // Open elements as flat triples [element, qname, enclosing scope, …]: one array, so an idle parser
  // holds one small backing store rather than three.
  private stack: Array<XmlElement | string | Scope> = [];
  private scope: Scope = ROOT_SCOPE;
  // Prefix bindings in scope, innermost last: flat [prefix, uri, …], `bindingCount` of them. Past
  // SCAN_BINDINGS they are also indexed, so that lookups and undoing an element's declarations take
  // constant time however many bindings are in scope.
  private bindings: string[] = NO_BINDINGS;
  private bindingCount = 0;
  private bindingIndex: BindingIndex | undefined;
  private text = "";
  private crPending = false; // a CR ended the last text run: a following LF is part of it
  private bracketCarry = 0; // literal `]` bytes ending the last text run (for `]]>`)
  private closed = false;
  private streamStart = 0; // absolute offset where the current stream (or message) began
  private bomTaken = false; // a byte-order mark opened the current stream: another is character data
  private elementCount = 0; // elements so far in the current top-level element
  private windowStart = -1; // absolute offset of the current top-level element's `<`, or -1
  private elementStart = -1; // absolute offsets of the last top-level element reported: its `<` …
  private elementEnd = -1; // … and the byte after its `>` (see lastElementStart)

  private scanKind = SCAN_NONE;
  private tokenStart = 0; // absolute
  private scanPos = 0; // absolute
  private scanQuote = 0;

  private pendingClose = false; // a self-closing stream header: report the close next
  private endKnown = false; // re-parsing a token whose end the scanner has seen

  private failure: XmlError | undefined;
  private detached = false;

  // Fast path (see fast-scan.ts). `scanned` holds scanned top-level elements not yet reported; `tapeAt`
  // is the next record; `tapeShift` turns a byte address on the tape into an absolute offset.
  private readonly fast: FastScanner | null;
  private scanned: Scanned | undefined;
  private tapeAt = 0;
  private tapeShift = 0;
  private tapeThrough = 0; // absolute offset where the scan stopped: after the tape's elements and whitespace
  // Where the fast path last ran out of input (absolute offsets of the element's start, of where a new
  // scan would begin — the start again, or the cut token's when the scanner can resume — and of the
  // input's end): it retries there only once the bytes it would scan again have grown by half, else the
  // JavaScript parser takes the element — so however the input is chunked, the fast path scans each byte
  // at most three times.
  private fastStart = -1;
  private fastFrom = -1;
  private fastEnd = -1;


  constructor(options: StreamParserOptions = {}) {
    // Idle parsers should be small: share the frozen defaults unless something is overridden.
    this.limits = mergeLimits(DEFAULT_XML_LIMITS, options.limits);
    this.top = options.framing === "fragments" ? 0 : 1;
    this.fast = options.fastPath === false ? null : fastScanner();
  }

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

  private step(): Step {
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

  /**
   * The input ends inside a token: wait for more, unless what has arrived already runs past the stanza
   * size cap (a token that starts at or crosses the cap is refused now, whatever its remaining bytes).
   */
  private needMore(): Step {
    return this.windowEnd() < this.end ? this.tooBig() : NEED_MORE;
  }

  /** Resumes looking for the end of a token that was incomplete; re-parses it once the end is there. */
  private resumeScan(): Step {
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
  private windowEnd(): number {
    if (this.windowStart < 0) return this.end;
    const limit = this.windowStart - this.base + this.limits.maxStanzaBytes;
    return Math.min(limit, this.end);
  }

  /** Called when a direct parser ran out of bytes: over the limit it is an error, else scan onward. */
  private incomplete(kind: number): Step {
    if (this.windowEnd() < this.end) return this.tooBig();
    // The scanner saw where this token ends, yet the parser wants more: the markup is malformed.
    if (this.endKnown) return this.fail("not-well-formed", "malformed markup", this.tokenStart);
    this.scanKind = kind;
    this.scanPos = this.tokenStart + 1; // past the token's own `<`
    this.scanQuote = 0;
    return this.resumeScan();
  }

  private tooBig(): ErrorEvent {
    return this.fail(
      "policy-violation",
      `element exceeds the limit of ${this.limits.maxStanzaBytes} bytes`,
      this.windowStart + this.limits.maxStanzaBytes,
    );
  }

  private scanTagEnd(): Step | true {
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

  private scanCdataEnd(): Step | true {
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

  private fail(condition: XmlErrorCondition, text: string, offset: number = this.base + this.pos): ErrorEvent {
    const error: XmlError = { condition, text, offset };
    this.failure = error;
    return { kind: "error", error };
  }

  // ---------------------------------------------------------------------------------------------------
  // Character data

  /** Character data outside any stanza: only whitespace is allowed (keepalives between stanzas). */
  private parseOutsideText(): Step {
    const buf = this.buf;
    const end = this.end;
    let i = this.pos;
    // A byte-order mark may open a stream (UTF-8 only), once, and never appear later: a second one is
    // U+FEFF as character data before the root element, which is not well-formed (XML 1.0 §2.1, §4.3.3).
    if (this.depth === 0 && this.base + i === this.streamStart) {
      const c = buf[i]!;
      if (c === 0xef && !this.bomTaken) {
        if (i + 3 > end) return NEED_MORE;
        if (buf[i + 1] === 0xbb && buf[i + 2] === 0xbf) {
          this.pos = i + 3;
          this.streamStart = this.base + this.pos;
          this.bomTaken = true;
          return CONTINUE;
        }
      } else if (c === 0xfe || c === 0xff || c === 0x00) {
        return this.fail("unsupported-encoding", "the stream is not UTF-8 encoded (RFC 6120 §11.6)");
      }
    }
    while (i < end && isSpace(buf[i]!)) i++;
    this.pos = i;
    if (i >= end) return NEED_MORE;
    if (buf[i] === 0x3c) return CONTINUE;
    if (this.closed) return this.fail("not-well-formed", "data after the end of the stream");
    if (this.depth === 0) {
      return this.top === 0
        ? this.fail("not-well-formed", "character data outside an element")
        : this.fail("not-well-formed", "character data before the stream header");
    }
    // Between stanzas. What is no XML character at all breaks well-formedness, as it would inside a
    // stanza: RFC 6120 §11.4 (rule 2) asks for <not-well-formed/> (§4.9.3.13), and §4.9.3.1 recommends the
    // specific conditions over <bad-format/>. Characters XML allows are well-formed XML that XMPP does
    // not allow there: <bad-format/>.
    const c = buf[i]!;
    if (c < 0x20) return this.fail("not-well-formed", `control character U+${hex(c)} at stream level`, this.base + i);
    if (c >= 0x80) {
      const n = utf8Sequence(buf, i, end);
      if (n === UTF8_TRUNCATED) return NEED_MORE;
      if (n < 0) return this.badUtf8(n, i);
    }
    return this.fail("bad-format", "character data at stream level (only whitespace is allowed between stanzas)");
  }

  /** Character data inside a stanza: validated byte by byte, decoded once per run. */
  private parseText(): Step {
    const buf = this.buf;
    const end = this.windowEnd();
    const callStart = this.pos;
    let i = callStart;
    if (this.crPending) {
      this.crPending = false;
      if (buf[i] === 0x0a) i++;
    }
    let start = i;
    let ascii = true;
    while (i < end) {
      while (i < end && textClass[buf[i]!] === TEXT_PLAIN) i++;
      if (i >= end) break;
      const c = buf[i]!;
      const k = textClass[c]!;
      if (k === TEXT_RBRACKET) {
        i++;
        continue;
      }
      if (k === TEXT_LT) break;
      if (k === TEXT_HIGH) {
        const n = utf8Sequence(buf, i, end);
        if (n > 0) {
          ascii = false;
          i += n;
          continue;
        }
        if (n !== UTF8_TRUNCATED) return this.badUtf8(n, i);
        if (end < this.end) return this.tooBig();
        break;
      }
      if (k === TEXT_GT) {
        // `]]>` may not appear literally in character data (XML 1.0 §2.4).
        const b1 = i - 1 >= callStart ? buf[i - 1] === 0x5d : this.bracketCarry >= 1;
        const b2 = i - 2 >= callStart ? buf[i - 2] === 0x5d : i - 1 >= callStart ? this.bracketCarry >= 1 : this.bracketCarry >= 2;
        if (b1 && b2) return this.fail("not-well-formed", "']]>' in character data", this.base + i);
        i++;
        continue;
      }
      if (start < i) this.text += this.str(start, i, ascii);
      ascii = true;
      if (k === TEXT_AMP) {
        const r = this.reference(i, end);
        if (r === INCOMPLETE) {
          start = i;
          break;
        }
        if (r === FAILED) return this.errorEvent();
        this.text += R.refValue;
        i = r;
      } else if (k === TEXT_CR) {
        // Line-end normalisation (XML 1.0 §2.11): CR LF and lone CR become LF.
        this.text += "\n";
        i++;
        if (i >= this.end) this.crPending = true;
        else if (buf[i] === 0x0a) i++;
      } else {
        return this.fail("not-well-formed", `control character U+${hex(c)} in character data`, this.base + i);
      }
      start = i;
    }
    if (start < i) this.text += this.str(start, i, ascii);
    // Remember literal `]` bytes at the end of the run for a `>` that arrives in the next chunk.
    let brackets = 0;
    let j = i - 1;
    while (brackets < 2 && j >= callStart && buf[j] === 0x5d) {
      brackets++;
      j--;
    }
    this.bracketCarry = j < callStart ? Math.min(2, brackets + this.bracketCarry) : brackets;
    this.pos = i;
    if (i < this.end && buf[i] === 0x3c) return CONTINUE;
    if (end < this.end) return this.tooBig();
    return NEED_MORE;
  }

  private badUtf8(code: number, at: number): ErrorEvent {
    return code === UTF8_NONCHARACTER
      ? this.fail("not-well-formed", "U+FFFE/U+FFFF is not an XML character", this.base + at)
      : this.fail("not-well-formed", "invalid UTF-8", this.base + at);
  }

  /**
   * Parses the reference `&…;` at `i` into `R.refValue`. Returns the index after `;`, INCOMPLETE when
   * input ends inside it, or FAILED (failure recorded). Only the five predefined entities exist here, and
   * nothing is ever expanded (RFC 6120 §11.1).
   */
  private reference(i: number, end: number): number {
    const buf = this.buf;
    const maxEnd = Math.min(end, i + MAX_REFERENCE_BYTES);
    let j = i + 1;
    if (j >= maxEnd) return maxEnd === end ? INCOMPLETE : this.refFail(i, "not-well-formed", "malformed reference");
    if (buf[j] === 0x23) {
      j++;
      const hexForm = j < maxEnd && buf[j] === 0x78;
      if (hexForm) j++;
      const digitsStart = j;
      let cp = 0;
      for (; j < maxEnd; j++) {
        const d = buf[j]!;
        let v: number;
        if (d >= 0x30 && d <= 0x39) v = d - 0x30;
        else if (hexForm && d >= 0x61 && d <= 0x66) v = d - 0x57;
        else if (hexForm && d >= 0x41 && d <= 0x46) v = d - 0x37;
        else break;
        cp = Math.min(cp * (hexForm ? 16 : 10) + v, 0x110000);
      }
      if (j >= maxEnd) {
        return maxEnd === end && maxEnd < i + MAX_REFERENCE_BYTES ? INCOMPLETE : this.refFail(i, "not-well-formed", "malformed character reference");
      }
      if (j === digitsStart || buf[j] !== 0x3b) return this.refFail(i, "not-well-formed", "malformed character reference");
      if (!isXmlChar(cp)) {
        return this.refFail(i, "not-well-formed", `character reference to ${cp > 0x10ffff ? "beyond U+10FFFF" : `U+${hex(cp)}`}, which is not an XML character`);
      }
      R.refValue = String.fromCodePoint(cp);
      return j + 1;
    }
    const nameStart = j;
    if (!nameStartAscii[buf[j]!] && buf[j]! < 0x80) return this.refFail(i, "not-well-formed", "'&' that does not start a reference");
    while (j < maxEnd && buf[j] !== 0x3b && (nameCharAscii[buf[j]!] || buf[j] === 0x3a || buf[j]! >= 0x80)) j++;
    if (j >= maxEnd) {
      if (maxEnd === end && maxEnd < i + MAX_REFERENCE_BYTES) return INCOMPLETE;
      return this.refFail(i, "restricted-xml", "entity references other than the predefined five are not allowed (RFC 6120 §11.1)");
    }
    if (buf[j] !== 0x3b) return this.refFail(i, "not-well-formed", "'&' that does not start a reference");
    const ch = predefinedEntity(buf, nameStart, j);
    if (ch === undefined) return this.refFail(i, "restricted-xml", "entity references other than the predefined five are not allowed (RFC 6120 §11.1)");
    R.refValue = ch;
    return j + 1;
  }

  private refFail(at: number, condition: XmlErrorCondition, text: string): number {
    this.fail(condition, text, this.base + at);
    return FAILED;
  }

  // ---------------------------------------------------------------------------------------------------
  // Markup

  private markupDeclaration(): Step {
    const buf = this.buf;
    const p = this.pos;
    if (p + 2 >= this.end) return this.needMore();
    const c2 = buf[p + 2]!;
    if (c2 === 0x2d) return this.fail("restricted-xml", "comments are not allowed (RFC 6120 §11.1)");
    if (c2 !== 0x5b) {
      return nameStartAscii[c2]
        ? this.fail("restricted-xml", "document type declarations are not allowed (RFC 6120 §11.1)")
        : this.fail("not-well-formed", "malformed markup declaration");
    }
    for (let k = 3; k < CDATA_OPEN.length; k++) {
      if (p + k >= this.end) return this.needMore();
      if (buf[p + k] !== CDATA_OPEN[k]) return this.fail("not-well-formed", "malformed CDATA section");
    }
    if (this.depth <= this.top) {
      return this.depth === 0
        ? this.fail("not-well-formed", "CDATA section outside an element")
        : this.fail("bad-format", "character data at stream level (only whitespace is allowed between stanzas)");
    }
    return this.cdata();
  }

  private cdata(): Step {
    const buf = this.buf;
    const end = this.windowEnd();
    const from = this.pos + CDATA_OPEN.length;
    let close = -1;
    for (let i = from; i + 2 < end; i++) {
      if (buf[i] === 0x5d && buf[i + 1] === 0x5d && buf[i + 2] === 0x3e) {
        close = i;
        break;
      }
    }
    if (close < 0) return this.incomplete(SCAN_CDATA);
    let start = from;
    let ascii = true;
    for (let i = from; i < close; ) {
      const c = buf[i]!;
      if (c >= 0x80) {
        const n = utf8Sequence(buf, i, close);
        if (n <= 0) return this.badUtf8(n, i);
        ascii = false;
        i += n;
      } else if (c < 0x20 && c !== 0x09 && c !== 0x0a) {
        if (c !== 0x0d) return this.fail("not-well-formed", `control character U+${hex(c)} in CDATA`, this.base + i);
        if (start < i) this.text += this.str(start, i, ascii);
        ascii = true;
        this.text += "\n";
        i++;
        if (i < close && buf[i] === 0x0a) i++;
        start = i;
      } else i++;
    }
    if (start < close) this.text += this.str(start, close, ascii);
    this.bracketCarry = 0;
    // A CR that ended the text before this section was already normalised; an LF after the section is
    // a new line, not the second half of that CR LF.
    this.crPending = false;
    this.pos = close + 3;
    return CONTINUE;
  }

  private processingInstruction(): Step {
    const buf = this.buf;
    const p = this.pos;
    // Is this `<?xml` followed by whitespace or `?` (the XML declaration, whose target is reserved)?
    // Compared byte by byte as input arrives: a mismatch is decided at once, without waiting for more
    // bytes than the token has (a lone `<?\xEB?>` must not wait forever).
    for (let k = 2; k <= XML_DECL_OPEN.length; k++) {
      if (p + k >= this.end) return this.windowEnd() < this.end ? this.tooBig() : NEED_MORE;
      const c = buf[p + k]!;
      if (k === XML_DECL_OPEN.length ? !isSpace(c) && c !== 0x3f : c !== XML_DECL_OPEN[k]) {
        return this.fail("restricted-xml", "processing instructions are not allowed (RFC 6120 §11.1)");
      }
    }
    if (this.base + p === this.streamStart && this.depth === 0) return this.xmlDeclaration();
    // Not a processing instruction at all: XML allows the declaration only at the start of the entity.
    return this.fail("not-well-formed", "an XML declaration is only allowed at the start of a stream");
  }

  /** `<?xml version='1.0' encoding='UTF-8' standalone='yes'?>`, only at the very start of a stream. */
  private xmlDeclaration(): Step {
    const buf = this.buf;
    const end = this.windowEnd();
    let i = this.pos + 5;
    let seen = 0; // 1 = version, 2 = encoding, 3 = standalone: pseudo-attributes come in this order
    for (;;) {
      const ws = i;
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      if (buf[i] === 0x3f) {
        if (i + 1 >= end) return this.incomplete(SCAN_TAG);
        if (buf[i + 1] !== 0x3e || seen === 0) break;
        this.pos = i + 2;
        this.windowStart = -1;
        return CONTINUE;
      }
      if (i === ws) break;
      const nameStart = i;
      while (i < end && nameCharAscii[buf[i]!]) i++;
      const name = latin1(buf, nameStart, i);
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      if (buf[i] !== 0x3d) break;
      i++;
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      const q = buf[i]!;
      if (q !== 0x22 && q !== 0x27) break;
      const valueStart = ++i;
      while (i < end && buf[i] !== q && buf[i]! < 0x80 && buf[i]! >= 0x20) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      if (buf[i] !== q) break;
      const value = latin1(buf, valueStart, i);
      i++;
      if (name === "version" && seen === 0) {
        if (value !== "1.0") return this.fail("not-well-formed", `XML version '${value}' is not supported; XMPP uses XML 1.0`);
        seen = 1;
      } else if (name === "encoding" && seen === 1) {
        if (value.toLowerCase() !== "utf-8") {
          return this.fail("unsupported-encoding", `encoding '${value}' is not supported; XMPP streams are UTF-8 (RFC 6120 §11.6)`);
        }
        seen = 2;
      } else if (name === "standalone" && seen >= 1 && seen < 3) {
        if (value !== "yes" && value !== "no") break;
        seen = 3;
      } else break;
    }
    return this.fail("not-well-formed", "malformed XML declaration");
  }

  /**
   * Scans a (possibly prefixed) name at `i`. Returns the index after it, INCOMPLETE, or FAILED. Sets
   * `nameColon` (index of the colon or -1) and `nameAscii`.
   */
  private scanName(i: number, end: number): number {
    const buf = this.buf;
    const start = i;
    const maxEnd = Math.min(end, i + this.limits.maxNameLength + 1);
    // Fast path: an ASCII name without a colon, ended by an ASCII byte within the limits.
    if (i < maxEnd && nameStartAscii[buf[i]!] === 1) {
      i++;
      while (i < maxEnd && nameCharAscii[buf[i]!] === 1) i++;
      if (i < maxEnd) {
        const c = buf[i]!;
        if (c !== 0x3a && c < 0x80) {
          R.nameColon = -1;
          R.nameAscii = true;
          return i;
        }
      }
      i = start;
    }
    let colon = -1;
    let ascii = true;
    let atStart = true;
    while (i < maxEnd) {
      const c = buf[i]!;
      if (c < 0x80) {
        if (atStart ? nameStartAscii[c] : nameCharAscii[c]) {
          i++;
          atStart = false;
          continue;
        }
        if (c === 0x3a && !atStart && colon < 0) {
          colon = i;
          i++;
          atStart = true;
          continue;
        }
        break;
      }
      const n = utf8Sequence(buf, i, end);
      if (n === UTF8_TRUNCATED) return INCOMPLETE;
      if (n < 0) {
        this.badUtf8(n, i);
        return FAILED;
      }
      const cp = decodeCodePoint(buf, i, n);
      if (!(atStart ? isNameStartCodePoint(cp) : isNameCodePoint(cp))) break;
      ascii = false;
      atStart = false;
      i += n;
    }
    if (i - start > this.limits.maxNameLength) {
      this.fail("policy-violation", `name longer than ${this.limits.maxNameLength} bytes`, this.base + start);
      return FAILED;
    }
    if (i >= end) return INCOMPLETE;
    if (i === start) {
      const c = buf[i]!;
      this.fail(
        "not-well-formed",
        isSpace(c) ? "whitespace where a name must start" : c >= 0x30 && c <= 0x39 ? "a name cannot start with a digit" : "invalid name",
        this.base + i,
      );
      return FAILED;
    }
    if (atStart) {
      this.fail("not-well-formed", colon === i - 1 ? "a name cannot end with ':'" : "invalid name", this.base + i);
      return FAILED;
    }
    R.nameColon = colon;
    R.nameAscii = ascii;
    return i;
  }

  private nameString(start: number, end: number): string {
    return R.nameAscii ? this.intern(start, end) : decodeValidated(this.buf, start, end, false);
  }

  /** The string for validated ASCII bytes, from the shared cache, else sliced from the view and cached. */
  private intern(start: number, end: number): string {
    return INTERNER.find(this.buf, start, end) ?? INTERNER.put(this.str(start, end, true));
  }

  private startTag(): Step {
    const buf = this.buf;
    const end = this.windowEnd();
    const limits = this.limits;
    const tagStart = this.pos;
    let i = this.scanName(tagStart + 1, end);
    if (i < 0) return i === INCOMPLETE ? this.incomplete(SCAN_TAG) : this.errorEvent();
    const qname = this.nameString(tagStart + 1, i);
    // The colon's byte offset is its index in the string only for an ASCII name.
    const elColon = R.nameColon < 0 ? -1 : R.nameAscii ? R.nameColon - tagStart - 1 : qname.indexOf(":");
    const elPrefix = elColon < 0 ? "" : qname.slice(0, elColon);
    const elLocal = elColon < 0 ? qname : qname.slice(elColon + 1);
    const raw = RAW_ATTRS;
    let n = 0; // raw entries used (3 per attribute); stale ones beyond are ignored
    let selfClosing = false;
    for (;;) {
      if (i >= end) return this.incomplete(SCAN_TAG);
      let c = buf[i]!;
      if (c === 0x3e) {
        i++;
        break;
      }
      if (c === 0x2f) {
        if (i + 1 >= end) return this.incomplete(SCAN_TAG);
        if (buf[i + 1] !== 0x3e) return this.fail("not-well-formed", "'/' not followed by '>' in a tag", this.base + i);
        i += 2;
        selfClosing = true;
        break;
      }
      if (!isSpace(c)) {
        return this.fail("not-well-formed", n > 0 ? "attributes must be separated by whitespace" : "malformed start tag", this.base + i);
      }
      do i++;
      while (i < end && isSpace(buf[i]!));
      if (i >= end) return this.incomplete(SCAN_TAG);
      c = buf[i]!;
      if (c === 0x3e || c === 0x2f) continue;
      // Attribute name.
      const nameStart = i;
      i = this.scanName(i, end);
      if (i < 0) return i === INCOMPLETE ? this.incomplete(SCAN_TAG) : this.errorEvent();
      if (n >= limits.maxAttributes * 3) {
        return this.fail("policy-violation", `more than ${limits.maxAttributes} attributes on one element`, this.base + nameStart);
      }
      const colon = R.nameColon;
      const nameEnd = i;
      // Interned in byte order (the view cursor only moves forward).
      let prefix = "";
      let local: string;
      if (colon < 0) local = this.nameString(nameStart, nameEnd);
      else if (R.nameAscii) {
        prefix = this.intern(nameStart, colon);
        local = this.intern(colon + 1, nameEnd);
      } else {
        const qname = decodeValidated(buf, nameStart, nameEnd, false);
        prefix = qname.slice(0, qname.indexOf(":"));
        local = qname.slice(prefix.length + 1);
      }
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      if (buf[i] !== 0x3d) return this.fail("not-well-formed", `attribute '${prefix === "" ? local : `${prefix}:${local}`}' has no value`, this.base + i);
      i++;
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      const q = buf[i]!;
      if (q !== 0x22 && q !== 0x27) return this.fail("not-well-formed", `value of attribute '${prefix === "" ? local : `${prefix}:${local}`}' is not quoted`, this.base + i);
      i++;
      const valueStart = i;
      i = this.attrScan(i, end);
      if (i >= end) return this.incomplete(SCAN_TAG);
      let value: string;
      if (buf[i] === q) {
        value = i - valueStart <= 16 ? this.intern(valueStart, i) : this.str(valueStart, i, true);
        i++;
      } else {
        const r = this.attributeValue(valueStart, i, end, q);
        if (r < 0) return r === INCOMPLETE ? this.incomplete(SCAN_TAG) : this.errorEvent();
        value = R.attrValue;
        i = r;
      }
      raw[n] = prefix;
      raw[n + 1] = local;
      raw[n + 2] = value;
      n += 3;
    }
    return this.openElement(qname, elPrefix, elLocal, selfClosing, i, n);
  }

  /**
   * Slow path of an attribute value: `valueStart` is after the opening quote, `i` the first byte that
   * needs a look. Leaves the value in `R.attrValue`; returns the index after the closing quote,
   * INCOMPLETE or FAILED.
   */
  private attributeValue(valueStart: number, i: number, end: number, q: number): number {
    const buf = this.buf;
    let value = this.str(valueStart, i, true);
    let start = i;
    let ascii = true;
    for (;;) {
      if (i >= end) return INCOMPLETE;
      const c = buf[i]!;
      if (attrSpecial[c] === 0 || (c === 0x22 && q !== 0x22) || (c === 0x27 && q !== 0x27)) {
        i++;
        continue;
      }
      if (c >= 0x80) {
        const n = utf8Sequence(buf, i, end);
        if (n > 0) {
          ascii = false;
          i += n;
          continue;
        }
        if (n === UTF8_TRUNCATED) return INCOMPLETE;
        this.badUtf8(n, i);
        return FAILED;
      }
      if (start < i) value += this.str(start, i, ascii);
      ascii = true;
      if (c === q) {
        R.attrValue = value;
        return i + 1;
      }
      if (c === 0x3c) return this.refFail(i, "not-well-formed", "'<' in an attribute value");
      if (c === 0x26) {
        const r = this.reference(i, end);
        if (r < 0) return r;
        value += R.refValue;
        i = r;
      } else if (c === 0x09 || c === 0x0a) {
        // Attribute-value normalisation (XML 1.0 §3.3.3): literal whitespace becomes a space.
        value += " ";
        i++;
      } else if (c === 0x0d) {
        value += " ";
        i++;
        if (i < end && buf[i] === 0x0a) i++;
      } else {
        return this.refFail(i, "not-well-formed", `control character U+${hex(c)} in an attribute value`);
      }
      start = i;
    }
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
  private str(start: number, end: number, ascii: boolean): string {
    if (start < this.viewCursor || end > this.viewEnd) this.newView(start);
    const from = this.advance(start);
    if (ascii) {
      this.viewCursor = end;
      return this.view.slice(from, from + end - start);
    }
    return this.view.slice(from, this.advance(end));
  }

  private newView(start: number): void {
    const buf = this.buf;
    this.viewStart = this.viewCursor = start;
    this.viewEnd = this.end;
    this.viewAdjust = 0;
    this.view = UTF8_DECODER.decode(buf.subarray(start, this.end));
  }

  /** Sets up {@link words} for a new `buf` (our own buffer: its whole capacity, as appends go in place). */
  private setWords(): void {
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
  private attrScan(i: number, end: number): number {
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
  private advance(p: number): number {
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

  private errorEvent(): ErrorEvent {
    return { kind: "error", error: this.failure! };
  }

  /** Resolves namespaces for the tag just parsed and puts the element in place. */
  private openElement(qname: string, prefix: string, local: string, selfClosing: boolean, after: number, n: number): Step {
    const raw = RAW_ATTRS;
    // Do not keep many strings alive through the shared scratch array after an unusually large tag.
    if (raw.length > 3 * 64) raw.length = n;
    const tagOffset = this.tokenStart;
    // Namespace declarations first: they apply to the element's own name and attributes.
    let scope = this.scope;
    let declared: string[] | undefined;
    let defaultNs = scope.defaultNs;
    let hasPrefixedAttr = false;
    for (let k = 0; k < n; k += 3) {
      const p = raw[k]!;
      const name = raw[k + 1]!;
      if (p === "" && name === "xmlns") {
        const uri = raw[k + 2]!;
        if (uri === NS_XML || uri === NS_XMLNS) return this.fail("not-well-formed", `namespace '${uri}' cannot be the default namespace`, tagOffset);
        defaultNs = uri;
        (declared ??= []).push("", uri);
      } else if (p === "xmlns") {
        const uri = raw[k + 2]!;
        if (name === "xmlns") return this.fail("not-well-formed", "the 'xmlns' prefix cannot be declared", tagOffset);
        if (name === "xml" ? uri !== NS_XML : uri === NS_XML || uri === NS_XMLNS) {
          return this.fail("not-well-formed", `prefix '${name}' cannot be bound to '${uri}'`, tagOffset);
        }
        if (uri === "") return this.fail("not-well-formed", `prefix '${name}' cannot be undeclared in XML 1.0`, tagOffset);
        (declared ??= []).push(name, uri);
      } else if (p !== "") hasPrefixedAttr = true;
    }
    // Duplicate raw names (XML 1.0 §3.1, "Unique Att Spec").
    const dupRaw = findDuplicate(raw, n);
    if (dupRaw >= 0) {
      return this.fail("not-well-formed", `duplicate attribute '${raw[dupRaw] ? `${raw[dupRaw]}:` : ""}${raw[dupRaw + 1]}'`, tagOffset);
    }
    if (declared !== undefined) {
      for (let k = 0; k < declared.length; k += 2) if (declared[k] !== "") this.bind(declared[k]!, declared[k + 1]!);
      scope = { defaultNs, top: this.bindingCount };
    }

    let ns: string;
    if (prefix === "") ns = scope.defaultNs;
    else {
      const uri = this.lookupPrefix(prefix);
      if (uri === undefined) {
        return this.depth === 0 && this.top === 1
          ? this.fail("bad-namespace-prefix", `the stream header uses the undeclared prefix '${prefix}'`, tagOffset)
          : this.fail("not-well-formed", `undeclared namespace prefix '${prefix}'`, tagOffset);
      }
      if (prefix === "xmlns") return this.fail("not-well-formed", "elements cannot use the 'xmlns' prefix", tagOffset);
      ns = uri;
    }

    const attrs: string[] = [];
    for (let k = 0; k < n; k += 3) {
      const p = raw[k]!;
      const name = raw[k + 1]!;
      if (p === "") {
        if (name !== "xmlns") attrs.push("", name, raw[k + 2]!);
        continue;
      }
      if (p === "xmlns") continue;
      const uri = this.lookupPrefix(p);
      if (uri === undefined) return this.fail("not-well-formed", `undeclared namespace prefix '${p}' on attribute '${name}'`, tagOffset);
      attrs.push(uri, name, raw[k + 2]!);
    }
    if (hasPrefixedAttr) {
      // Duplicates after expansion: `a:x` and `b:x` with a and b bound to one URI (Namespaces §6.3).
      const dup = findDuplicate(attrs, attrs.length);
      if (dup >= 0) {
        return this.fail("not-well-formed", `duplicate attribute '{${attrs[dup]}}${attrs[dup + 1]}' after namespace expansion`, tagOffset);
      }
    }
    const el = createElement(local, ns, attrs);
    this.pos = after;

    const depth = this.depth;
    if (depth === 0 && this.top === 1) {
      // The stream header. Its children are reported one by one, never kept.
      const namespaces = new Map<string, string>();
      if (declared) for (let k = 0; k < declared.length; k += 2) namespaces.set(declared[k]!, declared[k + 1]!);
      this.windowStart = -1;
      const event: StreamOpenEvent = { kind: "stream-open", element: el, prefix, namespaces };
      if (selfClosing) {
        this.closed = true;
        this.pendingClose = true;
        this.unbind(this.scope.top);
        return event;
      }
      // The header is the caller's (in the event); the stack only needs its name and scope — an array of
      // exactly those (an idle parser keeps it), with the usual header scope shared.
      this.stack = qname === HEADER_STACK[1] && this.scope === ROOT_SCOPE ? HEADER_STACK : [HEADER_PLACEHOLDER, qname, this.scope];
      this.scope = headerScope(scope);
      this.depth = 1;
      return event;
    }
    const step = this.place(el, qname, scope, selfClosing, tagOffset);
    // A self-closing element's declarations end with it.
    if (selfClosing && this.bindingCount > this.scope.top) this.unbind(this.scope.top);
    return step;
  }

  /** The URI bound to `prefix` where the tag being parsed is, or undefined. */
  private lookupPrefix(prefix: string): string | undefined {
    if (prefix === "xml") return NS_XML;
    const b = this.bindings;
    const index = this.bindingIndex;
    if (index !== undefined) {
      const k = index.innermost.get(prefix);
      return k === undefined ? undefined : b[2 * k + 1];
    }
    for (let k = 2 * this.bindingCount - 2; k >= 0; k -= 2) if (b[k] === prefix) return b[k + 1];
    return undefined;
  }

  /** Binds `prefix` to `uri` (innermost). */
  private bind(prefix: string, uri: string): void {
    const k = this.bindingCount++;
    let b = this.bindings;
    if (2 * k + 2 > b.length) {
      // Grown by hand: an idle parser keeps an array of exactly the header's bindings.
      const grown: string[] = new Array(Math.max(2, 4 * k));
      for (let j = 0; j < 2 * k; j++) grown[j] = b[j]!;
      b = this.bindings = grown;
    }
    if (k === 0 && uri === NS_STREAMS && prefix === "stream" && this.bindingIndex === undefined) {
      // The usual stream header: the shared array (the constants, not slices of the input).
      this.bindings = STREAM_BINDINGS;
      return;
    }
    b[2 * k] = prefix;
    // The stream header's bindings live as long as the stream: keep the constant, not a slice of the input.
    b[2 * k + 1] = uri === NS_STREAMS ? NS_STREAMS : uri;
    const index = this.bindingIndex;
    if (index !== undefined) {
      index.shadowed[k] = index.innermost.get(prefix) ?? -1;
      index.innermost.set(prefix, k);
    } else if (k >= SCAN_BINDINGS) {
      // Many bindings in scope: index them all, once (until few are left, see closeElement).
      const innermost = new Map<string, number>();
      const shadowed: number[] = [];
      for (let j = 0; j <= k; j++) {
        shadowed[j] = innermost.get(b[2 * j]!) ?? -1;
        innermost.set(b[2 * j]!, j);
      }
      this.bindingIndex = { innermost, shadowed };
    }
  }

  /** Undoes the bindings above the first `top` (an element's declarations, as it ends). */
  private unbind(top: number): void {
    if (this.bindings === STREAM_BINDINGS) this.bindings = STREAM_BINDINGS.slice(); // never written to
    const b = this.bindings;
    const index = this.bindingIndex;
    for (let k = this.bindingCount - 1; k >= top; k--) {
      if (index !== undefined) {
        const prev = index.shadowed[k]!;
        if (prev < 0) index.innermost.delete(b[2 * k]!);
        else index.innermost.set(b[2 * k]!, prev);
      }
      b[2 * k] = b[2 * k + 1] = UNUSED;
    }
    this.bindingCount = top;
  }

  /** After a top-level element: gives back what its many bindings took. */
  private shrinkBindings(): void {
    const n = this.bindingCount;
    if (this.bindings.length > Math.max(4 * SCAN_BINDINGS, 4 * n)) this.bindings = this.bindings.slice(0, 2 * n);
    const index = this.bindingIndex;
    if (n <= SCAN_BINDINGS) this.bindingIndex = undefined;
    else if (index !== undefined && index.shadowed.length > 2 * n) index.shadowed.length = n;
  }

  /** Puts a new element (not the stream header) into the tree: appended to its parent, or reported. */
  private place(el: XmlElement, qname: string, scope: Scope, selfClosing: boolean, tagOffset: number): Step {
    const depth = this.depth;
    if (depth - this.top + 1 > this.limits.maxDepth) {
      return this.fail("policy-violation", `elements nested deeper than ${this.limits.maxDepth}`, tagOffset);
    }
    if (depth === this.top) this.elementCount = 0;
    if (++this.elementCount > this.limits.maxElements) {
      return this.fail("policy-violation", `more than ${this.limits.maxElements} elements in one stanza`, tagOffset);
    }
    if (depth > this.top) {
      const parent = this.stack[(depth - 1) * 3] as XmlElement;
      if (this.text !== "") {
        appendChild(parent, this.text);
        this.text = "";
      }
      appendChild(parent, el);
    }
    this.bracketCarry = 0;
    this.crPending = false;
    if (selfClosing) {
      if (depth === this.top) {
        this.elementStart = this.windowStart;
        this.elementEnd = this.base + this.pos;
        this.windowStart = -1;
        return { kind: "element", element: el };
      }
      return CONTINUE;
    }
    this.push1(el, qname, scope);
    return CONTINUE;
  }

  /**
   * openElement for the usual element from the tape: no prefix on its name, and `count` attributes from
   * record `first` on, each interned, none twice, unprefixed, `xml:`-prefixed or the default namespace
   * declaration (`mask`: the kinds seen, see TapeName.kind). Anything else — and every error — is left
   * to openElement (SLOW).
   */
  private openCommon(name: TapeName, selfClosing: boolean, after: number, first: number, count: number, mask: number, asciiBase: number, mixedBase: number): Step {
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

  private push1(el: XmlElement, qname: string, scope: Scope): void {
    let stack = this.stack;
    if (stack === HEADER_STACK) stack = this.stack = HEADER_STACK.slice(); // shared: never written to
    const at = this.depth * 3;
    stack[at] = el;
    stack[at + 1] = qname;
    stack[at + 2] = this.scope;
    this.scope = scope;
    this.depth++;
  }

  private endTag(): Step {
    const buf = this.buf;
    const end = this.windowEnd();
    const p = this.pos;
    const depth = this.depth;
    let i = -1;
    if (depth > 0) {
      // Fast path: the bytes are exactly the (ASCII) name of the open element, then `>`. That name was
      // validated by its start tag; anything else goes through the full check below.
      const expected = this.stack[(depth - 1) * 3 + 1] as string;
      const n = expected.length;
      const j = p + 2 + n;
      if (j < end && buf[j] === 0x3e && n <= this.limits.maxNameLength) {
        let k = 0;
        while (k < n && buf[p + 2 + k] === expected.charCodeAt(k) && expected.charCodeAt(k) < 0x80) k++;
        if (k === n) i = j + 1;
      }
    }
    if (i < 0) {
      i = this.scanName(p + 2, end);
      if (i < 0) return i === INCOMPLETE ? this.incomplete(SCAN_TAG) : this.errorEvent();
      const qname = this.nameString(p + 2, i);
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      if (buf[i] !== 0x3e) return this.fail("not-well-formed", "malformed end tag", this.base + i);
      i++;
      if (depth === 0) {
        return this.fail("not-well-formed", this.closed ? "data after the end of the stream" : `end tag '</${qname}>' without a start tag`, this.tokenStart);
      }
      const expected = this.stack[(depth - 1) * 3 + 1] as string;
      if (qname !== expected) {
        return this.fail("not-well-formed", `end tag '</${qname}>' does not match '<${expected}>'`, this.tokenStart);
      }
    }
    return this.closeElement(i);
  }

  /** Closes the innermost open element; the next byte to parse is at `after`. */
  private closeElement(after: number): Step {
    const depth = this.depth;
    const stack = this.stack;
    // Slots above the depth are cleared, not removed: the stack keeps its length for the next element.
    const at = (depth - 1) * 3;
    const el = stack[at] as XmlElement;
    const scope = stack[at + 2] as Scope;
    this.scope = scope;
    if (this.bindingCount > scope.top) this.unbind(scope.top);
    if (stack === HEADER_STACK) this.stack = []; // the stream's end: the shared stack is never written to
    else stack[at] = stack[at + 1] = stack[at + 2] = UNUSED;
    this.depth = depth - 1;
    this.pos = after;
    if (this.text !== "") {
      appendChild(el, this.text);
      this.text = "";
    }
    this.bracketCarry = 0;
    this.crPending = false;
    if (depth - 1 === this.top) {
      this.elementStart = this.windowStart;
      this.elementEnd = this.base + after;
      this.windowStart = -1;
      // Give back what an unusually deep element took.
      if (stack.length > 3 * 16) stack.length = depth * 3;
      if (this.bindingIndex !== undefined || this.bindings.length > 4 * SCAN_BINDINGS) this.shrinkBindings();
      return { kind: "element", element: el };
    }
    if (depth === 1 && this.top === 1) {
      this.closed = true;
      this.windowStart = -1;
      return { kind: "stream-close" };
    }
    return CONTINUE;
  }

  // ---------------------------------------------------------------------------------------------------
  // Fast path

  /**
   * Between top-level elements: lets the WebAssembly scanner validate the elements that follow and put
   * them on the tape. Returns SLOW when the JavaScript parser should take the next token (an element the
   * scanner declined, the end of the stream, anything that is not an element).
   */
  private fastScan(): Step {
    const pos = this.pos;
    const end = this.end;
    const base = this.base;
    if (base + pos === this.fastStart) {
      // The slow path holds less of an incomplete element: let it take one the buffer limit would refuse.
      if (end - pos > this.limits.maxBufferedBytes) return SLOW;
      if (base + end === this.fastEnd) return NEED_MORE; // nothing new since it ran out of input here
      const from = this.fast!.canResume(this, this.fastStart) ? this.fastFrom : this.fastStart;
      if (base + end - from < 1.5 * (this.fastEnd - from)) return SLOW;
    }
    const fast = this.fast!;
    let status: number;
    try {
      status = fast.scan(this.buf, pos, end, this.limits, false, this, base);
      if (status === SCAN_NEED_MORE && fast.windowCut && fast.scanned === undefined && fast.consumed === pos) {
        // The window ended inside the first element: once more with all the room the limits give it.
        status = fast.scan(this.buf, pos, end, this.limits, true, this, base);
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
  private replay(): Step {
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
}

/** A value on the tape: [start, end) in its pool (by R_MIXED in its record's head), from the element's base. */
function tapeValue(head: number, start: number, end: number, ascii: string, asciiBase: number, mixed: string, mixedBase: number): string {
  return (head & R_MIXED) === 0 ? ascii.slice(asciiBase + start, asciiBase + end) : mixed.slice(mixedBase + start, mixedBase + end);
}

/**
 * Index of the second of two triples `[ns-or-prefix, name, value]` with equal first two fields, or -1.
 * Pairwise for the usual handful of attributes; a set beyond that, so that an element with very many
 * attributes (when `maxAttributes` allows them) costs linear time, not quadratic.
 */
function findDuplicate(t: readonly string[], n: number): number {
  if (n <= 16 * 3) {
    for (let k = 3; k < n; k += 3) {
      for (let m = 0; m < k; m += 3) if (t[m + 1] === t[k + 1] && t[m] === t[k]) return k;
    }
    return -1;
  }
  // NUL cannot occur in names or values, so it separates the two parts unambiguously.
  const seen = new Set<string>();
  for (let k = 0; k < n; k += 3) {
    const key = `${t[k]}\u0000${t[k + 1]}`;
    if (seen.has(key)) return k;
    seen.add(key);
  }
  return -1;
}

/** Appends a parsed child; a first child gets an array of its own size (a push would reserve 17 slots). */
function appendChild(parent: XmlElement, child: XmlElement | string): void {
  const children = parent.children;
  if (children.length === 0) parent.children = [child];
  else children.push(child);
}

function predefinedEntity(buf: Uint8Array, start: number, end: number): string | undefined {
  const n = end - start;
  const a = buf[start];
  const b = buf[start + 1];
  if (n === 2 && b === 0x74) {
    if (a === 0x6c) return "<";
    if (a === 0x67) return ">";
  }
  if (n === 3 && a === 0x61 && b === 0x6d && buf[start + 2] === 0x70) return "&";
  if (n === 4) {
    const c = buf[start + 2];
    const d = buf[start + 3];
    if (a === 0x71 && b === 0x75 && c === 0x6f && d === 0x74) return '"';
    if (a === 0x61 && b === 0x70 && c === 0x6f && d === 0x73) return "'";
  }
  return undefined;
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, "0");
}
