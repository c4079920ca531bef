/**
 * Strict streaming XML for XMPP: a byte-level, namespace-aware pull parser for RFC 6120 streams
 * ({@link StreamParser}) and RFC 7395 WebSocket messages ({@link FramedParser}), the element model
 * ({@link XmlElement}, {@link xml}) and a serializer that writes UTF-8 bytes. Every malformed input ends in
 * the RFC 6120 §4.9.3 stream error condition it calls for — see `docs/xml.md`.
 *
 * @module @xmpp-sansio/xml
 */
export { type XmlAttribute, type XmlChildInput, XmlElement, type XmlNode, xml } from "./element.js";
export type { XmlError, XmlErrorCondition } from "./errors.js";
export { FramedParser } from "./framing.js";
export { NS_CLIENT, NS_FRAMING, NS_SERVER, NS_STREAMS, NS_XML, NS_XMLNS } from "./namespaces.js";
export {
  DEFAULT_XML_LIMITS,
  type ElementEvent,
  type ErrorEvent,
  type ParseEvent,
  type StreamCloseEvent,
  StreamParser,
  type StreamOpenEvent,
  type StreamParserOptions,
  type XmlLimits,
} from "./parser.js";
export { EMPTY_CONTEXT, type NamespaceContext, serialize, toXmlString, XmlSerializeError, XmlWriter } from "./serializer.js";
