/** Namespace bound to the reserved `xml` prefix (XML Namespaces §3); carries `xml:lang`. */
export const NS_XML = "http://www.w3.org/XML/1998/namespace";
/** Namespace of namespace declarations themselves; never used for elements or ordinary attributes. */
export const NS_XMLNS = "http://www.w3.org/2000/xmlns/";
/** The XMPP stream namespace (`<stream:stream>`, `<stream:features>`, `<stream:error>`), RFC 6120 §4.8.1. */
export const NS_STREAMS = "http://etherx.jabber.org/streams";
/** Content namespace of client-to-server streams, RFC 6120 §4.8.3. */
export const NS_CLIENT = "jabber:client";
/** Content namespace of server-to-server streams, RFC 6120 §4.8.3. */
export const NS_SERVER = "jabber:server";
/** RFC 7395 WebSocket framing namespace (`<open/>`, `<close/>`). */
export const NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";
