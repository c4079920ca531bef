import type { XmlElement } from "./element.js";
import type { XmlError } from "./errors.js";

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
