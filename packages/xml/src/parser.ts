import type { XmlError } from "./errors.js";
import { ParserCore } from "./parser-core.js";
import type { ParseEvent, StreamParserOptions, XmlLimits } from "./parser-types.js";

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
export class StreamParser {
  /** The parser itself (see parser-core.ts); this class is its public face. */
  private readonly core: ParserCore;

  constructor(options: StreamParserOptions = {}) {
    this.core = new ParserCore(options, this);
  }

  /** The error that ended parsing, if any. */
  get error(): XmlError | undefined {
    return this.core.error;
  }

  /** Absolute offset (bytes since creation) of the next byte not yet consumed. */
  get offset(): number {
    return this.core.offset;
  }

  /**
   * Absolute offsets of the last top-level element reported (an {@link ElementEvent}): its `<`, and
   * {@link lastElementEnd}, the byte after its `>`; -1 before the first. With `"fragments"` framing they
   * tell which of several concatenated messages an element came from (`FramedParser.parseEach`).
   */
  get lastElementStart(): number {
    return this.core.lastElementStart;
  }

  /** The byte after the last top-level element's `>` (absolute; see {@link lastElementStart}). */
  get lastElementEnd(): number {
    return this.core.lastElementEnd;
  }

  /** Bytes pushed but not yet consumed. */
  get bufferedBytes(): number {
    return this.core.bufferedBytes;
  }

  /** True between the root element's end tag (`</stream:stream>`) and a {@link reset}. */
  get streamClosed(): boolean {
    return this.core.streamClosed;
  }

  /** Changes limits from now on, e.g. to raise the stanza size once the peer has authenticated. */
  setLimits(limits: Partial<XmlLimits>): void {
    this.core.setLimits(limits);
  }

  /**
   * Adds input. The parser may keep a reference to `bytes` until it has consumed them, so do not modify
   * them afterwards. After an error the input is ignored.
   * @throws TypeError after {@link takeUnparsed}.
   */
  push(bytes: Uint8Array): void {
    this.core.push(bytes);
  }

  /**
   * The next event, or `undefined` when more input is needed (or parsing has ended). An
   * {@link ErrorEvent} is returned once; after it, `undefined`.
   */
  next(): ParseEvent | undefined {
    return this.core.next();
  }

  /**
   * Lets go of spare capacity while between top-level elements (for a connection that has gone idle): the
   * element stack keeps only the open stream's level. The next element grows it again.
   */
  trim(): void {
    this.core.trim();
  }

  /**
   * Starts a new stream at the current byte (RFC 6120 §4.3.3 restarts after STARTTLS and SASL). Input
   * already pushed but not consumed is kept and parsed as the start of the new stream; a new XML
   * declaration is allowed there.
   */
  reset(): void {
    this.core.reset();
  }

  /**
   * Stops parsing and returns the bytes pushed but not consumed — after `<proceed/>` these belong to the
   * TLS handshake and must never be read as XML (the STARTTLS injection class, CVE-2011-0411).
   * The parser accepts no more input afterwards.
   */
  takeUnparsed(): Uint8Array {
    return this.core.takeUnparsed();
  }
}
