import type { XmlElement } from "./element.js";
import type { XmlError } from "./errors.js";
import { StreamParser, type XmlLimits } from "./parser.js";

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
    let parser = this.parser;
    this.parser = undefined;
    if (parser === undefined) parser = new StreamParser({ framing: "fragments", limits: this.limits });
    else parser.reset();
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
    if (second !== undefined || parser.bufferedBytes > 0) {
      return { condition: "not-well-formed", text: "a WebSocket message must carry exactly one element (RFC 7395 §3.3.3)", offset: parser.offset - start };
    }
    this.parser = parser;
    return first.element;
  }
}

function relative(error: XmlError, start: number): XmlError {
  return start === 0 ? error : { condition: error.condition, text: error.text, offset: error.offset - start };
}
