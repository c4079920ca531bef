import { isSpace } from "./chars.js";
import type { XmlElement } from "./element.js";
import type { XmlError } from "./errors.js";
import { StreamParser, type XmlLimits } from "./parser.js";

/**
 * Bytes of messages parsed together by {@link FramedParser.parseEach} at most (the fast path's scan window:
 * a longer run would be scanned in pieces anyway). A message longer than this is parsed alone.
 */
const BATCH_BYTES = 64 * 1024;
/** Where a batch is laid out for one scan; shared (a batch is parsed within one call), grown on demand. */
let scratch = new Uint8Array(0);

/**
 * Parses RFC 7395 WebSocket messages: each message must be exactly one complete element (`<open/>`,
 * `<close/>` or a stanza), with the same strictness and limits as the stream parser. Surrounding
 * whitespace is tolerated; a second element, an incomplete one or anything else is an error.
 *
 * @example
 * ```ts
 * const framed = new FramedParser();
 * const r = framed.parse(new TextEncoder().encode("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='example.com' version='1.0'/>"));
 * if ("condition" in r) console.error(r.text); else console.log(r.name); // "open"
 * ```
 */
export class FramedParser {
  private readonly limits: Partial<XmlLimits>;
  /**
   * The parser of the last message, kept only if that message was one clean element: it is then back at
   * depth 0 with nothing buffered, and {@link StreamParser.reset} clears its namespace scopes and stack, so
   * the next message starts exactly as in a fresh parser (a property test compares the two). Anything else
   * (an error, an incomplete or a second element) drops it. A parser per message cost ≈15 % of the
   * WebSocket server's CPU per stanza.
   */
  private parser: StreamParser | undefined;

  constructor(limits: Partial<XmlLimits> = {}) {
    this.limits = limits;
  }

  /** One message in, its element or the error out. Never throws for bad input. */
  parse(message: Uint8Array): XmlElement | XmlError {
    const parser = this.take();
    // Offsets in errors count from the start of this message.
    const start = parser.offset;
    parser.push(message);
    const first = parser.next();
    if (first === undefined) {
      return parser.error === undefined
        ? { condition: "not-well-formed", text: "the message is not one complete XML element (RFC 7395 §3.3.3)", offset: 0 }
        : relative(parser.error, start);
    }
    if (first.kind === "error") return relative(first.error, start);
    if (first.kind !== "element") {
      return { condition: "not-well-formed", text: "unexpected content in a WebSocket message", offset: 0 };
    }
    const second = parser.next();
    if (second?.kind === "error") return relative(second.error, start);
    // Nothing but whitespace may follow: without the fast path a second element left open (`<b>`, `<b>text`)
    // leaves no event and nothing buffered, yet the message is not one element.
    if (second !== undefined || parser.bufferedBytes > 0 || !onlySpace(message, parser.lastElementEnd - start)) {
      return { condition: "not-well-formed", text: "a WebSocket message must carry exactly one element (RFC 7395 §3.3.3)", offset: parser.offset - start };
    }
    this.parser = parser;
    return first.element;
  }

  /**
   * Several messages in (e.g. those of one transport read), each one's element or error out, in order:
   * always exactly what {@link parse} gives for each message alone (a property test compares the two).
   * Clean messages are parsed together, in one pass of the parser over their concatenation (one fast-path
   * scan instead of one per message, which costs three times as much per chat message); each element must
   * then lie within its own message, and from the first message that cannot be shown to be one clean
   * element on (an error, a second or no element, one spanning two messages) the messages are parsed one
   * by one. Never throws for bad input.
   */
  parseEach(messages: readonly Uint8Array[]): Array<XmlElement | XmlError> {
    const out = new Array<XmlElement | XmlError>(messages.length);
    let i = 0;
    while (i < messages.length) {
      let j = i + 1;
      let bytes = messages[i]!.length;
      while (j < messages.length && bytes + messages[j]!.length <= BATCH_BYTES) bytes += messages[j++]!.length;
      if (j - i === 1) out[i] = this.parse(messages[i]!);
      else this.parseRun(messages, i, j, bytes, out);
      i = j;
    }
    return out;
  }

  /** Parses `messages[from..to)` (`bytes` long in all) into `out`, together while they are clean. */
  private parseRun(messages: readonly Uint8Array[], from: number, to: number, bytes: number, out: Array<XmlElement | XmlError>): void {
    if (scratch.length < bytes) scratch = new Uint8Array(Math.max(bytes, Math.min(2 * scratch.length, BATCH_BYTES)));
    const batch = scratch;
    let at = 0;
    for (let k = from; k < to; k++) {
      batch.set(messages[k]!, at);
      at += messages[k]!.length;
    }
    const parser = this.take();
    const batchStart = parser.offset;
    // Message k lies at [start, end) of the parser's absolute offsets.
    let start = batchStart;
    let end = start + messages[from]!.length;
    parser.push(batch.subarray(0, bytes));
    let k = from;
    let clean = false;
    for (;;) {
      const ev = parser.next();
      if (ev === undefined) {
        clean = k === to && parser.error === undefined && parser.bufferedBytes === 0 && onlySpace(batch.subarray(0, bytes), parser.lastElementEnd - batchStart);
        break;
      }
      if (ev.kind !== "element" || k === to) break;
      if (parser.lastElementStart < start || parser.lastElementEnd > end) break;
      out[k++] = ev.element;
      start = end;
      if (k < to) end += messages[k]!.length;
    }
    if (clean) {
      this.parser = parser;
      return;
    }
    // Something other than one element per message: each element so far lay within its message and only
    // whitespace was between them, so the messages before the last one that gave an element were clean
    // (what followed that element is not known yet). The rest, one by one, as parse() would see them.
    for (let m = Math.max(from, k - 1); m < to; m++) out[m] = this.parse(messages[m]!);
  }

  /** The kept parser, reset, or a new one. */
  private take(): StreamParser {
    const parser = this.parser;
    this.parser = undefined;
    if (parser === undefined) return new StreamParser({ framing: "fragments", limits: this.limits });
    parser.reset();
    return parser;
  }
}

/** Whether `bytes` from `from` on are XML whitespace only. */
function onlySpace(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (!isSpace(bytes[i]!)) return false;
  return true;
}

function relative(error: XmlError, start: number): XmlError {
  return start === 0 ? error : { condition: error.condition, text: error.text, offset: error.offset - start };
}
