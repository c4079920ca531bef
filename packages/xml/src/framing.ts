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

  constructor(limits: Partial<XmlLimits> = {}) {
    this.limits = limits;
  }

  /** One message in, its element or the error out. Never throws for bad input. */
  parse(message: Uint8Array): XmlElement | XmlError {
    // A fresh parser per message: no state can leak from one message into the next.
    const parser = new StreamParser({ framing: "fragments", limits: this.limits });
    parser.push(message);
    const first = parser.next();
    if (first === undefined) {
      return parser.error ?? { condition: "not-well-formed", text: "the message is not one complete XML element (RFC 7395 §3.3.3)", offset: 0 };
    }
    if (first.kind === "error") return first.error;
    if (first.kind !== "element") {
      return { condition: "not-well-formed", text: "unexpected content in a WebSocket message", offset: 0 };
    }
    const second = parser.next();
    if (second?.kind === "error") return second.error;
    if (second !== undefined || parser.bufferedBytes > 0) {
      return { condition: "not-well-formed", text: "a WebSocket message must carry exactly one element (RFC 7395 §3.3.3)", offset: parser.offset };
    }
    return first.element;
  }
}
