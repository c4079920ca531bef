import fc from "fast-check";
import { NS_CLIENT, NS_STREAMS, NS_XML, XmlElement } from "@xmpp-sansio/xml";
import { NS_XMPP_SASL, NS_XMPP_STANZAS, NS_XMPP_STREAMS, SASL_FAILURE_CONDITIONS, STANZA_ERROR_CONDITIONS, STREAM_ERROR_CONDITIONS } from "../src/index.js";

/** Names that matter to the error parsers, mixed with arbitrary strings. */
const names = fc.oneof(
  fc.constantFrom("error", "text", "iq", "message", "failure", ...STREAM_ERROR_CONDITIONS, ...STANZA_ERROR_CONDITIONS, ...SASL_FAILURE_CONDITIONS),
  fc.string({ maxLength: 12 }),
);
const namespaces = fc.oneof(
  fc.constantFrom("", NS_CLIENT, NS_STREAMS, NS_XMPP_STREAMS, NS_XMPP_STANZAS, NS_XMPP_SASL, "urn:example:app"),
  fc.string({ maxLength: 8 }),
);
const attrNames = fc.oneof(fc.constantFrom("type", "code", "by", "id", "from", "to", "xml:lang"), fc.string({ maxLength: 6 }));
const values = fc.oneof(
  fc.constantFrom("error", "result", "cancel", "auth", "wait", "404", "302", "999", "abc", "", "[::1]:5222", "example.org:0"),
  fc.string({ maxLength: 12 }),
);

/**
 * Arbitrary element trees shaped like what the error parsers look at, plus junk children (numbers, null,
 * plain objects) smuggled into `children` to check that nothing throws even on a corrupted model.
 */
export const garbageElement: fc.Arbitrary<XmlElement> = fc.letrec<{ el: XmlElement }>((tie) => ({
  el: fc
    .record({
      name: names,
      ns: namespaces,
      attrs: fc.array(fc.tuple(attrNames, values), { maxLength: 4 }),
      children: fc.array(
        fc.oneof(
          { depthSize: "small", withCrossShrink: true },
          fc.string({ maxLength: 10 }),
          tie("el"),
          fc.constantFrom<unknown>(null, 42, {}, { name: "text" }, undefined),
        ),
        { maxLength: 5 },
      ),
    })
    .map(({ name, ns, attrs, children }) => {
      const el = new XmlElement(name, ns);
      for (const [k, v] of attrs) {
        if (k === "xml:lang") el.setAttr("lang", v, NS_XML);
        else if (k !== "xmlns") el.setAttr(k, v);
      }
      (el.children as unknown[]).push(...children);
      return el;
    }),
})).el;
