// Browser builds (package.json "browser" maps framing.js to this file): RFC 7395 messages are parsed by
// the compact parser of one complete element (element-parser.ts), which gives the same elements and
// error conditions as the streaming parser (a differential property test holds the two together) without
// its streaming machinery. Same API as framing.ts.
import type { XmlElement } from "./element.js";
import { parseElementMessage } from "./element-parser.js";
import type { XmlError } from "./errors.js";
import { DEFAULT_XML_LIMITS, type XmlLimits } from "./parser.js";

/**
 * Parses RFC 7395 WebSocket messages: each message must be exactly one complete element (`<open/>`,
 * `<close/>` or a stanza), with the same strictness and limits as the stream parser.
 */
export class FramedParser {
  private readonly limits: Readonly<XmlLimits>;

  constructor(limits: Partial<XmlLimits> = {}) {
    this.limits = { ...DEFAULT_XML_LIMITS, ...limits };
  }

  /** One message in, its element or the error out. Never throws for bad input. */
  parse(message: Uint8Array): XmlElement | XmlError {
    return parseElementMessage(message, this.limits);
  }

  /** Several messages in, each one's element or error out, in order (each parsed alone). */
  parseEach(messages: readonly Uint8Array[]): Array<XmlElement | XmlError> {
    return messages.map((m) => parseElementMessage(m, this.limits));
  }
}
