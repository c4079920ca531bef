/**
 * Framing strategies of the session core: an RFC 6120 XML stream over a byte transport, or RFC 7395
 * messages over WebSocket. The session state machine is the same for both; only how the stream is opened
 * and closed, how elements are written, and how input is cut into events differ. Internal.
 *
 * @internal
 * @module
 */
import {
  EMPTY_CONTEXT,
  FramedParser,
  type NamespaceContext,
  NS_CLIENT,
  NS_FRAMING,
  NS_STREAMS,
  StreamParser,
  XmlElement,
  type XmlError,
  type XmlErrorCondition,
  type XmlLimits,
  XmlWriter,
} from "@xmpp-sansio/xml";

/** An input event, the same for both framings. */
export type InputEvent =
  | {
      readonly kind: "open";
      /** `<stream:stream>` (stream framing) or `<open/>` (WebSocket). */
      readonly element: XmlElement;
      /** Namespace declarations on the stream header (empty for WebSocket). */
      readonly namespaces: ReadonlyMap<string, string>;
    }
  | { readonly kind: "element"; readonly element: XmlElement }
  | { readonly kind: "close"; readonly seeOtherUri?: string }
  | { readonly kind: "error"; readonly condition: XmlErrorCondition | "invalid-namespace" | "unsupported-encoding"; readonly text: string };

/** Attributes of a stream header we send. */
export interface HeaderAttributes {
  /** The header's `to`: the peer's domain or JID. */
  readonly to?: string | undefined;
  /** The header's `from`: our domain or JID. */
  readonly from?: string | undefined;
  /** The stream id (receiving entity only, RFC 6120 §4.7.3). */
  readonly id?: string | undefined;
  /** `xml:lang` of the stream. */
  readonly lang: string;
  /** The content namespace (default `jabber:client`; `jabber:server` on s2s, RFC 6120 §4.8.2). */
  readonly contentNs?: string;
  /** Extra prefixes declared on the header (XEP-0220: `db` → `jabber:server:dialback`). */
  readonly prefixes?: ReadonlyMap<string, string>;
  /** Omit `version` (XEP-0114 component streams are pre-1.0 streams). */
  readonly noVersion?: boolean;
}

const STREAM_CONTEXT_PREFIXES: ReadonlyMap<string, string> = new Map([["stream", NS_STREAMS]]);
/** The context after our usual stream header, per content namespace: one object for every session. */
const SHARED_CONTEXTS = new Map<string, NamespaceContext>();
const EMPTY_NAMESPACES: ReadonlyMap<string, string> = new Map();
/** No messages parsed ahead (shared, never written to). */
const NO_RESULTS: Array<XmlElement | XmlError> = [];

/**
 * One framing: writes our side and cuts the peer's side into {@link InputEvent}s.
 * @internal
 */
export interface FramingStrategy {
  readonly kind: "stream" | "websocket";
  /** Writes our stream header (`<stream:stream>` or `<open/>`). */
  writeOpen(attrs: HeaderAttributes): void;
  /** Writes a top-level element (stanza, feature negotiation element, `<stream:error/>`). */
  writeElement(el: XmlElement): void;
  /**
   * Writes a top-level element as {@link writeElement} does and returns the markup written when it is all
   * ASCII (else `undefined`): what {@link writeMarkup} may write again for an equal element.
   */
  writeCapturing(el: XmlElement): string | undefined;
  /** Writes the markup of one top-level element as {@link writeCapturing} returned it. */
  writeMarkup(ascii: string): void;
  /** Writes our end of the stream (`</stream:stream>` or `<close/>`). */
  writeClose(): void;
  /** Writes one space (RFC 6120 §4.6.1 whitespace keepalive); no-op for WebSocket. */
  writeKeepalive(): void;
  /** Next output unit: all pending bytes (stream) or one message (WebSocket). */
  poll(): Uint8Array | undefined;
  /** Whether output is pending. */
  readonly hasOutput: boolean;

  /** Adds input: bytes of the stream, or one WebSocket message. */
  push(bytes: Uint8Array): void;
  /** The next input event, or `undefined` if more input is needed. */
  next(): InputEvent | undefined;
  /** Input held but not yet turned into events. */
  readonly bufferedBytes: number;
  /** Starts a new stream at the exact current input byte (after SASL success, RFC 6120 §6.4.6). */
  restart(): void;
  /** Stops parsing and returns the bytes not yet parsed (after STARTTLS: they belong to TLS). */
  takeUnparsed(): Uint8Array;
  /** A fresh parser (after the TLS handshake: nothing from before it may leak into the new stream). */
  renew(limits: Partial<XmlLimits>): void;
  setLimits(limits: Partial<XmlLimits>): void;
  /** Lets go of the output buffer and serializer state while no output is pending (an idle session). */
  trim(): void;
}

const INITIAL_WRITER_BYTES = 256;

/** The bytes as a string when they are all ASCII, else `undefined`. */
function asciiOf(bytes: Uint8Array): string | undefined {
  let s = "";
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c > 0x7f) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}
const COMPACT_ABOVE = 2048;

/** RFC 6120 XML stream over bytes. */
export class StreamFraming implements FramingStrategy {
  readonly kind = "stream" as const;
  private writer = new XmlWriter(INITIAL_WRITER_BYTES);
  private context: NamespaceContext = EMPTY_CONTEXT;
  private parser: StreamParser;

  constructor(limits: Partial<XmlLimits>) {
    this.parser = new StreamParser({ limits });
  }

  writeOpen(attrs: HeaderAttributes): void {
    const header = new XmlElement("stream", NS_STREAMS, {
      from: attrs.from,
      id: attrs.id,
      to: attrs.to,
      version: attrs.noVersion === true ? undefined : "1.0",
      "xml:lang": attrs.lang,
    });
    this.writer.raw("<?xml version='1.0'?>");
    const prefixes = attrs.prefixes === undefined ? STREAM_CONTEXT_PREFIXES : new Map([...STREAM_CONTEXT_PREFIXES, ...attrs.prefixes]);
    const defaultNs = attrs.contentNs ?? NS_CLIENT;
    const context = this.writer.startTag(header, { defaultNs, prefixes }, "stream");
    if (attrs.prefixes !== undefined) this.context = context;
    else {
      // The usual header: every session's context is the same (read only), so share one.
      let shared = SHARED_CONTEXTS.get(defaultNs);
      if (shared === undefined) SHARED_CONTEXTS.set(defaultNs, (shared = context));
      this.context = shared;
    }
  }

  writeElement(el: XmlElement): void {
    // A serialization error (a lone surrogate in an application's stanza) throws with nothing of this
    // element written (the writer rolls back), and the bytes before it stay.
    this.writer.element(el, this.context);
  }

  writeCapturing(el: XmlElement): string | undefined {
    const bytes = new XmlWriter(INITIAL_WRITER_BYTES).element(el, this.context).take();
    const ascii = asciiOf(bytes);
    if (ascii === undefined) this.writeElement(el);
    else this.writer.raw(ascii);
    return ascii;
  }

  writeMarkup(ascii: string): void {
    this.writer.raw(ascii);
  }

  writeClose(): void {
    this.writer.raw("</stream:stream>");
  }

  writeKeepalive(): void {
    this.writer.raw(" ");
  }

  get hasOutput(): boolean {
    return this.writer.length > 0;
  }

  poll(): Uint8Array | undefined {
    if (this.writer.length === 0) return undefined;
    // No copy: a view of the writer's buffer, which it never writes again (the transport drops it once written).
    const bytes = this.writer.takeShared();
    // The writer's buffer grew for a large element or burst; let it go so an idle session stays small.
    if (bytes.length > COMPACT_ABOVE) this.writer.release();
    return bytes;
  }

  push(bytes: Uint8Array): void {
    this.parser.push(bytes);
  }

  next(): InputEvent | undefined {
    const ev = this.parser.next();
    if (ev === undefined) return undefined;
    switch (ev.kind) {
      case "stream-open":
        return { kind: "open", element: ev.element, namespaces: ev.namespaces };
      case "element":
        return ev;
      case "stream-close":
        return { kind: "close" };
      case "error":
        return { kind: "error", condition: ev.error.condition, text: ev.error.text };
    }
  }

  get bufferedBytes(): number {
    return this.parser.bufferedBytes;
  }

  restart(): void {
    this.parser.reset();
  }

  takeUnparsed(): Uint8Array {
    return this.parser.takeUnparsed();
  }

  renew(limits: Partial<XmlLimits>): void {
    this.parser = new StreamParser({ limits });
  }

  setLimits(limits: Partial<XmlLimits>): void {
    this.parser.setLimits(limits);
  }

  trim(): void {
    this.writer.release();
    this.parser.trim();
  }
}

/** RFC 7395: each message is one element; `<open/>`/`<close/>` replace the stream header and end tag. */
export class WebSocketFraming implements FramingStrategy {
  readonly kind = "websocket" as const;
  private readonly out: Uint8Array[] = [];
  private writer = new XmlWriter(INITIAL_WRITER_BYTES);
  private parser: FramedParser;
  private limits: Partial<XmlLimits>;
  private readonly queue: Uint8Array[] = [];
  private queued = 0;
  /**
   * What the parser made of the queue's first messages, when several were parsed together
   * (`FramedParser.parseEach`, the same results as one by one); dropped when the limits change.
   */
  private parsed: Array<XmlElement | XmlError> = NO_RESULTS;
  private parsedAt = 0;
  private detached = false;

  constructor(limits: Partial<XmlLimits>) {
    this.limits = limits;
    this.parser = new FramedParser(limits);
  }

  writeOpen(attrs: HeaderAttributes): void {
    const open = new XmlElement("open", NS_FRAMING, {
      from: attrs.from,
      id: attrs.id,
      to: attrs.to,
      version: "1.0",
      "xml:lang": attrs.lang,
    });
    this.writer.element(open, EMPTY_CONTEXT);
    this.flush();
  }

  writeElement(el: XmlElement): void {
    try {
      if (el.ns === NS_STREAMS) {
        // RFC 7395 §3.3.3 examples: `<stream:features xmlns:stream='…'>`; children in their own namespaces.
        const shell = new XmlElement(el.name, el.ns);
        shell._attrs = el._attrs.slice();
        const ctx = this.writer.startTag(shell, { defaultNs: "", prefixes: STREAM_CONTEXT_PREFIXES }, "stream");
        for (const child of el.children) {
          if (typeof child === "string") this.writer.text(child);
          else this.writer.element(child, ctx);
        }
        this.writer.raw(`</stream:${el.name}>`);
      } else {
        // Stanzas carry their namespace explicitly (`xmlns='jabber:client'`), RFC 7395 §3.3.3.
        this.writer.element(el, EMPTY_CONTEXT);
      }
    } catch (e) {
      this.writer = new XmlWriter(INITIAL_WRITER_BYTES);
      throw e;
    }
    this.flush();
  }

  writeCapturing(el: XmlElement): string | undefined {
    this.writeElement(el);
    return asciiOf(this.out[this.out.length - 1]!);
  }

  writeMarkup(ascii: string): void {
    this.writer.raw(ascii);
    this.flush();
  }

  writeClose(): void {
    this.writer.element(new XmlElement("close", NS_FRAMING), EMPTY_CONTEXT);
    this.flush();
  }

  writeKeepalive(): void {
    // RFC 7395 §3.5: WebSocket pings replace whitespace keepalives; nothing to write.
  }

  private flush(): void {
    // No copy per message: a view of the writer's buffer, which it never writes again (the transport
    // drops it once written), as for stream framing; a copy cost as much as the rest of the framing.
    const bytes = this.writer.takeShared();
    // The writer's buffer grew for a large element; let it go so an idle session stays small.
    if (bytes.length > COMPACT_ABOVE) this.writer.release();
    this.out.push(bytes);
  }

  get hasOutput(): boolean {
    return this.out.length > 0;
  }

  poll(): Uint8Array | undefined {
    return this.out.shift();
  }

  push(bytes: Uint8Array): void {
    if (this.detached) return;
    this.queue.push(bytes);
    this.queued += bytes.length;
  }

  next(): InputEvent | undefined {
    const queue = this.queue;
    if (queue.length === 0) return undefined;
    let r: XmlElement | XmlError;
    if (this.parsedAt < this.parsed.length) r = this.parsed[this.parsedAt++]!;
    else if (queue.length > 1) {
      // The messages of one read (receiveMessages): one pass of the parser over all of them.
      this.parsed = this.parser.parseEach(queue);
      this.parsedAt = 1;
      r = this.parsed[0]!;
    } else r = this.parser.parse(queue[0]!);
    if (this.parsedAt === this.parsed.length) this.dropParsed();
    this.queued -= queue.shift()!.length;
    if (!(r instanceof XmlElement)) return { kind: "error", condition: r.condition, text: r.text };
    if (r.ns === NS_FRAMING) {
      if (r.name === "open") return { kind: "open", element: r, namespaces: EMPTY_NAMESPACES };
      if (r.name === "close") {
        const uri = r.attr("see-other-uri");
        return uri === undefined ? { kind: "close" } : { kind: "close", seeOtherUri: uri };
      }
    }
    if (r.ns === NS_STREAMS && r.name === "stream") {
      return {
        kind: "error",
        condition: "invalid-namespace",
        text: "RFC 7395 §3.3.2: a WebSocket stream is opened with <open xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>, not <stream:stream>",
      };
    }
    return { kind: "element", element: r };
  }

  get bufferedBytes(): number {
    return this.queued;
  }

  restart(): void {
    // RFC 7395 §3.4: the restart is a new <open/>; nothing is carried over between messages anyway.
  }

  takeUnparsed(): Uint8Array {
    this.detached = true;
    this.queue.length = 0;
    this.queued = 0;
    this.dropParsed();
    return new Uint8Array(0);
  }

  renew(limits: Partial<XmlLimits>): void {
    this.limits = limits;
    this.parser = new FramedParser(limits);
    this.detached = false;
    this.dropParsed();
  }

  setLimits(limits: Partial<XmlLimits>): void {
    this.limits = { ...this.limits, ...limits };
    this.parser = new FramedParser(this.limits);
    // Messages parsed ahead under the old limits (e.g. those after <auth/> in the same read) are parsed
    // again under the new ones when their turn comes.
    this.dropParsed();
  }

  private dropParsed(): void {
    this.parsed = NO_RESULTS;
    this.parsedAt = 0;
  }

  trim(): void {
    this.writer.release(); // every message is taken whole at once: the writer is empty between calls
  }
}
