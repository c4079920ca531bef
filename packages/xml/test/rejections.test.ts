// Every input here must be refused with exactly this stream error condition, whether it arrives in one
// chunk or one byte at a time. These are the inputs where lenient parsers let stanza smuggling through.
import { describe, expect, it } from "vitest";
import type { XmlErrorCondition } from "../src/index.js";
import { bytes, lastError, parseBytewise, parseChunks, parseWhole, stream } from "./helpers.js";

type Row = [string, Uint8Array, XmlErrorCondition];

const NS_STREAMS = "http://etherx.jabber.org/streams";
const msg = (body: string | number[]) => stream("<message><body>", typeof body === "string" ? body : body, "</body></message>");
const text = (raw: number[]) => stream("<message><body>a", raw, "b</body></message>");
const attr = (raw: number[]) => stream("<message to='a", raw, "b'/>");

const rows: Row[] = [
  ["mismatched end tag", stream("<message><body>x</bodx></message>"), "not-well-formed"],
  ["mismatched end tag (prefix differs, same namespace)", stream("<a:x xmlns:a='urn:a' xmlns:b='urn:a'></b:x>"), "not-well-formed"],
  ["end tag extending the open element's name", stream("<message><body>x</bodyx></message>"), "not-well-formed"],
  ["end tag shorter than the open element's name", stream("<message><body>x</bod></message>"), "not-well-formed"],
  ["end tag with the open name followed by a stray byte", stream("<message><body>x</body/></message>"), "not-well-formed"],
  ["end tag with the Latin-1 byte of a non-ASCII name", stream("<message><\u00e9>x</", [0xe9], "></message>"), "not-well-formed"],
  ["end tag with a different non-ASCII name", stream("<message><\u00e9>x</\u00ea></message>"), "not-well-formed"],
  ["end tag closing the stream inside a stanza", stream("<message></stream:stream>"), "not-well-formed"],
  ["unquoted attribute value", stream("<message to=romeo/>"), "not-well-formed"],
  ["missing attribute value", stream("<message to/>"), "not-well-formed"],
  ["empty attribute value after =", stream("<message to=/>"), "not-well-formed"],
  ["duplicate attribute", stream("<message to='a' to='b'/>"), "not-well-formed"],
  ["duplicate attribute after namespace expansion", stream("<message xmlns:a='urn:x' xmlns:b='urn:x' a:t='1' b:t='2'/>"), "not-well-formed"],
  ["duplicate namespace declaration", stream("<message xmlns:a='urn:x' xmlns:a='urn:y'/>"), "not-well-formed"],
  ["duplicate default namespace declaration", stream("<message><x xmlns='urn:x' a='1' xmlns='urn:y'/></message>"), "not-well-formed"],
  ["duplicate xml: attribute", stream("<message><x xml:lang='en' a='1' xml:lang='de'/></message>"), "not-well-formed"],
  ["'<' in an attribute value", stream("<message to='a<b'/>"), "not-well-formed"],
  ["bare '&' in text", msg("fish & chips"), "not-well-formed"],
  ["bare '&' in an attribute value", stream("<message to='a&b'/>"), "not-well-formed"],
  ["'&' followed by '<'", msg("&amp<x/>"), "not-well-formed"],
  ["undefined entity in text", msg("&nbsp;"), "restricted-xml"],
  ["undefined entity in an attribute value", stream("<message to='&foo;'/>"), "restricted-xml"],
  ["C0 control raw in text", text([0x01]), "not-well-formed"],
  ["NUL raw in text", text([0x00]), "not-well-formed"],
  ["ESC raw in an attribute value", attr([0x1b]), "not-well-formed"],
  ["C0 control as a decimal char ref", msg("&#1;"), "not-well-formed"],
  ["NUL as a hex char ref", msg("&#x0;"), "not-well-formed"],
  ["C0 control char ref in an attribute value", stream("<message to='&#x1F;'/>"), "not-well-formed"],
  ["&#xD800; (surrogate)", msg("&#xD800;"), "not-well-formed"],
  ["&#xDFFF; in an attribute value", stream("<message to='&#xDFFF;'/>"), "not-well-formed"],
  ["&#x110000; (beyond Unicode)", msg("&#x110000;"), "not-well-formed"],
  ["&#xFFFE;", msg("&#xFFFE;"), "not-well-formed"],
  ["char ref with no digits", msg("&#x;"), "not-well-formed"],
  ["char ref with a bad digit", msg("&#12a;"), "not-well-formed"],
  ["']]>' in text", msg("a]]>b"), "not-well-formed"],
  ["']]]>' in text", msg("]]]>"), "not-well-formed"],
  ["no space between attributes", stream("<message to='a'from='b'/>"), "not-well-formed"],
  ["element name starting with a digit", stream("<1message/>"), "not-well-formed"],
  ["attribute name starting with a digit", stream("<message 1to='a'/>"), "not-well-formed"],
  ["element name starting with '-'", stream("<-message/>"), "not-well-formed"],
  ["space after '<'", stream("< message/>"), "not-well-formed"],
  ["space after '</'", stream("<message></ message>"), "not-well-formed"],
  ["name ending with ':'", stream("<message: />"), "not-well-formed"],
  ["name with two colons", stream("<a:b:c xmlns:a='urn:a'/>"), "not-well-formed"],
  ["element after </stream:stream>", stream("</stream:stream><message/>"), "not-well-formed"],
  ["text after </stream:stream>", stream("</stream:stream>x"), "not-well-formed"],
  ["end tag without a start tag (fragments are not streams)", bytes("</stream:stream>"), "not-well-formed"],
  ["unbound prefix on the stream header", bytes("<stream:stream xmlns='jabber:client' version='1.0'>"), "bad-namespace-prefix"],
  ["unbound prefix on a stanza", stream("<foo:message/>"), "not-well-formed"],
  ["unbound prefix on an attribute", stream("<message foo:bar='x'/>"), "not-well-formed"],
  ["prefix used outside its declaring element", stream("<a xmlns:p='urn:p'/><p:b/>"), "not-well-formed"],
  ["rebinding the xml prefix", stream("<message xmlns:xml='urn:x'/>"), "not-well-formed"],
  ["binding another prefix to the XML namespace", stream("<message xmlns:foo='http://www.w3.org/XML/1998/namespace'/>"), "not-well-formed"],
  ["the XML namespace as default namespace", stream("<message xmlns='http://www.w3.org/XML/1998/namespace'/>"), "not-well-formed"],
  ["declaring the xmlns prefix", stream("<message xmlns:xmlns='urn:x'/>"), "not-well-formed"],
  ["binding a prefix to the xmlns namespace", stream("<message xmlns:foo='http://www.w3.org/2000/xmlns/'/>"), "not-well-formed"],
  ["the xmlns namespace as default namespace", stream("<message xmlns='http://www.w3.org/2000/xmlns/'/>"), "not-well-formed"],
  ["an element with the xmlns prefix", stream("<xmlns:message/>"), "not-well-formed"],
  ["undeclaring a prefix (XML 1.0 namespaces)", stream("<message xmlns:p=''/>"), "not-well-formed"],
  ["comment between stanzas", stream("<!-- hi -->"), "restricted-xml"],
  ["comment inside a stanza", stream("<message><!-- hi --></message>"), "restricted-xml"],
  ["comment before the stream header", bytes("<!-- hi -->", "<stream:stream/>"), "restricted-xml"],
  ["processing instruction between stanzas", stream("<?foo bar?>"), "restricted-xml"],
  ["processing instruction inside a stanza", stream("<message><?php x ?></message>"), "restricted-xml"],
  ["processing instruction at stream start", bytes("<?foo?><stream:stream/>"), "restricted-xml"],
  ["DOCTYPE", bytes("<?xml version='1.0'?><!DOCTYPE stream [<!ENTITY x 'y'>]>"), "restricted-xml"],
  ["DOCTYPE inside a stanza", stream("<message><!DOCTYPE x></message>"), "restricted-xml"],
  ["XML declaration after the stream header", stream("<?xml version='1.0'?>"), "not-well-formed"],
  ["XML declaration inside a stanza", stream("<message><?xml version='1.0'?></message>"), "not-well-formed"],
  ["XML declaration after a BOM and whitespace", bytes([0xef, 0xbb, 0xbf], " <?xml version='1.0'?><stream:stream/>"), "not-well-formed"],
  ["second XML declaration", bytes("<?xml version='1.0'?><?xml version='1.0'?>"), "not-well-formed"],
  ["XML 1.1 declaration", bytes("<?xml version='1.1'?><stream:stream/>"), "not-well-formed"],
  ["malformed XML declaration", bytes("<?xml encoding='UTF-8'?><stream:stream/>"), "not-well-formed"],
  ["UTF-8: overlong C0 AF in text", text([0xc0, 0xaf]), "not-well-formed"],
  ["UTF-8: overlong E0 80 AF in text", text([0xe0, 0x80, 0xaf]), "not-well-formed"],
  ["UTF-8: overlong F0 80 80 AF", text([0xf0, 0x80, 0x80, 0xaf]), "not-well-formed"],
  ["UTF-8: surrogate ED A0 80 in text", text([0xed, 0xa0, 0x80]), "not-well-formed"],
  ["UTF-8: surrogate ED BF BF in an attribute value", attr([0xed, 0xbf, 0xbf]), "not-well-formed"],
  ["UTF-8: > U+10FFFF F4 90 80 80", text([0xf4, 0x90, 0x80, 0x80]), "not-well-formed"],
  ["UTF-8: truncated E2 82 then '<'", stream("<message><body>", [0xe2, 0x82], "</body></message>"), "not-well-formed"],
  ["UTF-8: truncated F0 9F 98 then '<' in an attribute value", stream("<message to='", [0xf0, 0x9f, 0x98], "<'/>"), "not-well-formed"],
  ...[0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff].map(
    (b): Row => [`UTF-8: byte ${b.toString(16).toUpperCase()} in text`, text([b, 0x80, 0x80, 0x80]), "not-well-formed"],
  ),
  ["UTF-8: byte FF in an attribute value", attr([0xff]), "not-well-formed"],
  ["UTF-8: stray continuation 80 in text", text([0x80]), "not-well-formed"],
  ["UTF-8: stray continuation BF in an attribute value", attr([0xbf]), "not-well-formed"],
  ["UTF-8: stray continuation in a name", stream("<mess", [0x80], "age/>"), "not-well-formed"],
  ["UTF-8: continuation missing in a 2-byte sequence", text([0xc3, 0x41]), "not-well-formed"],
  ["UTF-8: invalid bytes in CDATA", stream("<message><body><![CDATA[", [0xc0, 0xaf], "]]></body></message>"), "not-well-formed"],
  ["U+FFFE raw in text", text([0xef, 0xbf, 0xbe]), "not-well-formed"],
  ["U+FFFF raw in text", text([0xef, 0xbf, 0xbf]), "not-well-formed"],
  ["U+FFFF raw in an attribute value", attr([0xef, 0xbf, 0xbf]), "not-well-formed"],
  ["Zoom: <aaa\\xEB/>", stream("<aaa", [0xeb], "/>"), "not-well-formed"],
  ["Zoom: <?\\xEB?> in a stream", stream("<?", [0xeb], "?>"), "restricted-xml"],
  ["Zoom: <?\\xEB?> at stream start", bytes("<?", [0xeb], "?>"), "restricted-xml"],
  ["Zoom: <body>\\xEB\\x3C\\x3E</body>", stream("<message><body>", [0xeb, 0x3c, 0x3e], "</body></message>"), "not-well-formed"],
  ["Zoom: \\xEB before a tag in an attribute value", stream("<message to='", [0xeb], "'/>"), "not-well-formed"],
  ["UTF-16 BE byte-order mark", bytes([0xfe, 0xff, 0x00, 0x3c, 0x00, 0x61]), "unsupported-encoding"],
  ["UTF-16 LE byte-order mark", bytes([0xff, 0xfe, 0x3c, 0x00, 0x61, 0x00]), "unsupported-encoding"],
  ["UTF-16 without a byte-order mark", bytes([0x00, 0x3c, 0x00, 0x61]), "unsupported-encoding"],
  ["encoding='ISO-8859-1'", bytes("<?xml version='1.0' encoding='ISO-8859-1'?>", "<stream:stream/>"), "unsupported-encoding"],
  ["encoding='UTF-16'", bytes('<?xml version="1.0" encoding="UTF-16"?>', "<stream:stream/>"), "unsupported-encoding"],
  ["non-whitespace text between stanzas", stream("<message/>hello<message/>"), "bad-format"],
  ["CDATA between stanzas", stream("<![CDATA[x]]>"), "bad-format"],
  ["text before the stream header", bytes("hello", HDR_ONLY()), "not-well-formed"],
  ["BOM in the middle of a stream", stream([0xef, 0xbb, 0xbf]), "bad-format"],
  ["two byte-order marks at the start", bytes([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], HDR_ONLY()), "not-well-formed"],
  ["a C0 control between stanzas (RFC 6120 §4.9.3.13, as inside one)", stream("<message/>", [0x01], "<message/>"), "not-well-formed"],
  ["invalid UTF-8 between stanzas", stream("<message/>", [0xc0, 0x80]), "not-well-formed"],
  ["more elements in a stanza than maxElements", stream(`<message>${"<a/>".repeat(60_000)}</message>`), "policy-violation"],
  ["'/' not followed by '>'", stream("<message/ >"), "not-well-formed"],
  ["garbage in an end tag", stream("<message></message x>"), "not-well-formed"],
  ["malformed CDATA opener", stream("<message><![CDAT[x]]></message>"), "not-well-formed"],
  ["'<!' with garbage", stream("<message><!x></message>"), "restricted-xml"],
  ["'<!' with a digit", stream("<message><!1></message>"), "not-well-formed"],
];

function HDR_ONLY(): string {
  return `<stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}' version='1.0'>`;
}

describe("StreamParser refuses", () => {
  it.each(rows)("%s (whole)", (_name, input, condition) => {
    const events = parseWhole(input);
    expect(lastError(events)?.condition).toBe(condition);
  });

  it.each(rows)("%s (byte by byte)", (_name, input, condition) => {
    const events = parseBytewise(input);
    expect(lastError(events)?.condition).toBe(condition);
  });

  it.each([
    ["]", "]>"],
    ["]]", ">"],
    ["a]", "]", ">b"],
    ["]", "]", ">"],
  ])("']]>' split across chunks: %j %j %j", (...parts) => {
    const chunks = [stream("<message><body>x"), ...parts.filter((p) => p !== undefined).map((p) => bytes(p)), bytes("</body></message>")];
    const { events } = parseChunks(chunks);
    expect(lastError(events)?.condition).toBe("not-well-formed");
  });

  it("accepts ']]' and ']>' that do not form ']]>' across chunks", () => {
    for (const parts of [
      ["]", "x]>"],
      ["]]", "]"],
      ["]", "&amp;]>"],
      ["]]", "&gt;"],
    ]) {
      const { events } = parseChunks([stream("<message><body>"), ...parts.map((p) => bytes(p)), bytes("</body></message>")]);
      expect(lastError(events)).toBeUndefined();
      expect(events.at(-1)?.kind).toBe("element");
    }
  });

  it("stops at the error and ignores further input", () => {
    const { events, parser } = parseChunks([stream("<message to='a' to='b'/>"), bytes("<message/>")]);
    expect(events.map((e) => e.kind)).toEqual(["stream-open", "error"]);
    parser.push(bytes("<message/>"));
    expect(parser.next()).toBeUndefined();
    expect(parser.error?.condition).toBe("not-well-formed");
  });

  it("reports the offset of the offending byte", () => {
    const input = stream("<message><body>ab", [0xc0, 0xaf], "</body></message>");
    const at = input.indexOf(0xc0);
    expect(lastError(parseWhole(input))?.offset).toBe(at);
    expect(lastError(parseBytewise(input))?.offset).toBe(at);
  });
});
