import { describe, expect, it } from "vitest";
import {
  EMPTY_CONTEXT,
  NS_CLIENT,
  NS_STREAMS,
  NS_XML,
  serialize,
  toXmlString,
  XmlElement,
  XmlSerializeError,
  XmlWriter,
  xml,
} from "../src/index.js";
import { elements, HDR, lastError, parseWhole, stream } from "./helpers.js";
import { prefixHeavyExpected, prefixHeavyMessage } from "./shapes.js";

const STREAM_CONTEXT = { defaultNs: NS_CLIENT, prefixes: new Map([["stream", NS_STREAMS]]) };

describe("serialize", () => {
  it("escapes & < ' and CR/TAB/LF in attribute values (single-quoted)", () => {
    const el = new XmlElement("m", "", { a: `&<>'"\r\t\n` });
    expect(toXmlString(el)).toBe(`<m a='&amp;&lt;>&apos;"&#xD;&#x9;&#xA;'/>`);
  });

  it("escapes & < > and CR in text, so ']]>' never appears", () => {
    const el = new XmlElement("m", "", null, [`a]]>b&<'"\r\n\t`]);
    expect(toXmlString(el)).toBe(`<m>a]]&gt;b&amp;&lt;'"&#xD;\n\t</m>`);
  });

  it("encodes non-ASCII and non-BMP characters as UTF-8", () => {
    const el = new XmlElement("m", "", { a: "é€😀" }, ["é€😀"]);
    expect(serialize(el)).toEqual(new TextEncoder().encode("<m a='é€😀'>é€😀</m>"));
  });

  it("writes stanzas in the stream's namespaces without redundant declarations", () => {
    const msg = xml("message", { xmlns: NS_CLIENT, to: "a" }, xml("body", {}, "hi"));
    expect(toXmlString(msg, STREAM_CONTEXT)).toBe("<message to='a'><body>hi</body></message>");
    expect(toXmlString(msg)).toBe("<message xmlns='jabber:client' to='a'><body>hi</body></message>");
  });

  it("uses the stream: prefix from the context", () => {
    const err = new XmlElement("error", NS_STREAMS, null, [
      new XmlElement("conflict", "urn:ietf:params:xml:ns:xmpp-streams"),
      new XmlElement("text", "urn:ietf:params:xml:ns:xmpp-streams", { "xml:lang": "en" }, ["Replaced"]),
    ]);
    expect(toXmlString(err, STREAM_CONTEXT)).toBe(
      "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" +
        "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams' xml:lang='en'>Replaced</text></stream:error>",
    );
  });

  it("writes xmlns='' for an element in no namespace below a default namespace", () => {
    const el = xml("message", { xmlns: NS_CLIENT }, new XmlElement("raw", "", null, [new XmlElement("inner")]));
    expect(toXmlString(el, STREAM_CONTEXT)).toBe("<message><raw xmlns=''><inner/></raw></message>");
    expect(toXmlString(new XmlElement("raw"))).toBe("<raw/>");
  });

  it("declares generated prefixes for namespaced attributes, once per scope, without clashes", () => {
    const el = new XmlElement("m", NS_CLIENT);
    el.setAttr("a", "1", "urn:a").setAttr("b", "2", "urn:b").setAttr("c", "3");
    const child = new XmlElement("c", NS_CLIENT);
    child.setAttr("x", "4", "urn:a");
    el.append(child);
    expect(toXmlString(el, STREAM_CONTEXT)).toBe(
      "<m xmlns:ns1='urn:a' ns1:a='1' xmlns:ns2='urn:b' ns2:b='2' c='3'><c ns1:x='4'/></m>",
    );
    // A prefix in the context is used for attributes in its namespace.
    const s = new XmlElement("m", NS_CLIENT);
    s.setAttr("a", "1", NS_STREAMS);
    expect(toXmlString(s, STREAM_CONTEXT)).toBe("<m stream:a='1'/>");
  });

  it("writes xml:lang with the reserved prefix", () => {
    expect(toXmlString(xml("body", { "xml:lang": "de" }, "x"))).toBe("<body xml:lang='de'>x</body>");
  });

  it("refuses what XML cannot carry, with XmlSerializeError", () => {
    const bad: Array<() => XmlElement> = [
      () => xml("m", {}, "a\uD800b"),
      () => xml("m", {}, "a\uDC00"),
      () => xml("m", { a: "\uD83D" }),
      () => xml("m", {}, "a\u0001b"),
      () => xml("m", { a: "\u0000" }),
      () => xml("m", {}, "\uFFFE"),
      () => xml("m", {}, "\uFFFF"),
      () => xml("1m"),
      () => xml("a b"),
      () => xml("a:b"),
      () => xml(""),
      () => xml("m", { "1a": "x" }),
      () => xml("m", { "a:b": "x" }),
    ];
    for (const make of bad) {
      expect(() => serialize(make())).toThrow(XmlSerializeError);
    }
    // The shared writer is usable after a refusal, and nothing of the failed element leaks into it.
    expect(toXmlString(xml("ok"))).toBe("<ok/>");
    expect(new XmlSerializeError("x")).toBeInstanceOf(TypeError);
  });

  it("round-trips through the parser in a stream", () => {
    const el = xml(
      "message",
      { xmlns: NS_CLIENT, to: "a&b", "xml:lang": "en" },
      xml("body", {}, "<>&\r\n\t\"' 😀"),
      new XmlElement("x", "jabber:x:data", { type: "form" }, [new XmlElement("field", "jabber:x:data", { var: "v" })]),
    );
    el.setAttr("q", "\t\n\r", "urn:q");
    const events = parseWhole(stream(serialize(el, STREAM_CONTEXT)));
    expect(lastError(events)).toBeUndefined();
    expect(elements(events)[0]!.equals(el)).toBe(true);
  });

  it("serializes deep trees iteratively", () => {
    let el = xml("leaf");
    for (let i = 0; i < 50_000; i++) el = xml("a", {}, el);
    expect(serialize(el).length).toBe(50_000 * 7 + "<leaf/>".length);
  });
});

describe("XmlWriter", () => {
  it("writes a stream header, stanzas and the closing tag into one buffer", () => {
    const w = new XmlWriter(8);
    const header = new XmlElement("stream", NS_STREAMS, { to: "example.com", version: "1.0" });
    const ctx = w.startTag(header, STREAM_CONTEXT, "stream");
    expect(ctx.defaultNs).toBe(NS_CLIENT);
    w.element(xml("message", { xmlns: NS_CLIENT }, xml("body", {}, "x")), ctx);
    w.text(" ");
    w.raw("</stream:stream>");
    expect(w.length).toBeGreaterThan(0);
    const out = new TextDecoder().decode(w.take());
    expect(out).toBe(
      `<stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}' to='example.com' version='1.0'>` +
        "<message><body>x</body></message> </stream:stream>",
    );
    expect(w.length).toBe(0);
    expect(parseWhole(new TextEncoder().encode(out)).map((e) => e.kind)).toEqual(["stream-open", "element", "stream-close"]);
    expect(HDR.startsWith("<stream:stream")).toBe(true);
  });

  it("refuses non-ASCII raw() input and can be reset after an error", () => {
    const w = new XmlWriter();
    expect(() => w.raw("é")).toThrow(XmlSerializeError);
    w.reset();
    expect(() => w.element(xml("m", {}, "\u0002"))).toThrow(XmlSerializeError);
    w.reset();
    w.element(xml("ok"), EMPTY_CONTEXT);
    expect(new TextDecoder().decode(w.take())).toBe("<ok/>");
  });

  it("follows changes to a context's prefix map between calls", () => {
    const prefixes = new Map([["p", "urn:p"]]);
    const ctx = { defaultNs: NS_CLIENT, prefixes };
    const w = new XmlWriter();
    const write = (el: XmlElement) => new TextDecoder().decode(w.element(el, ctx).take());
    expect(write(new XmlElement("x", "urn:p"))).toBe("<p:x/>");
    prefixes.set("p", "urn:q");
    expect(write(new XmlElement("x", "urn:p"))).toBe("<x xmlns='urn:p'/>");
    expect(write(new XmlElement("x", "urn:q"))).toBe("<p:x/>");
    prefixes.delete("p");
    prefixes.set("r", "urn:q");
    expect(write(new XmlElement("x", "urn:q"))).toBe("<r:x/>");
    prefixes.set("s", "urn:s");
    expect(write(new XmlElement("x", "urn:s"))).toBe("<s:x/>");
    // Two prefixes for one URI: the one the map lists last, even after the map is reordered.
    prefixes.clear();
    prefixes.set("a", "urn:a").set("b", "urn:a");
    expect(write(new XmlElement("x", "urn:a"))).toBe("<b:x/>");
    prefixes.delete("a");
    prefixes.set("a", "urn:a");
    expect(write(new XmlElement("x", "urn:a"))).toBe("<a:x/>");
    // A bad prefix in the context is refused, and writes nothing.
    prefixes.set("1p", "urn:p");
    expect(() => w.element(new XmlElement("x"), ctx)).toThrow(XmlSerializeError);
    expect(w.length).toBe(0);
    // Another context, then the first again.
    expect(new TextDecoder().decode(w.element(new XmlElement("x", "urn:a"), STREAM_CONTEXT).take())).toBe("<x xmlns='urn:a'/>");
    prefixes.delete("1p");
    expect(write(new XmlElement("x", "urn:a"))).toBe("<a:x/>");
  });

  it("keeps what was written before a call that throws, also when the buffer grew during the call", () => {
    const w = new XmlWriter(4);
    w.raw("<a>").text("é");
    const bad = new XmlElement("m", "", { v: "x".repeat(100) }, [new XmlElement("n", "", { w: "y".repeat(5000) }), "\u0001"]);
    expect(() => w.element(bad)).toThrow(XmlSerializeError);
    expect(() => w.text("ok\uD800")).toThrow(XmlSerializeError);
    expect(() => w.raw("ok\u00e9")).toThrow(XmlSerializeError);
    w.element(new XmlElement("b", "", { v: "z".repeat(3000) }));
    expect(new TextDecoder().decode(w.take())).toBe(`<a>é<b v='${"z".repeat(3000)}'/>`);
  });

  it("checks names with and without non-ASCII characters", () => {
    expect(toXmlString(new XmlElement("é-1", "", { "名前": "v", "_x.y": "w" }, [new XmlElement("a\u00B7\u0300")]))).toBe(
      "<é-1 名前='v' _x.y='w'><a\u00B7\u0300/></é-1>",
    );
    for (const bad of ["\u00B7a", "a\u00D7", "\u0300", "a\uD800", "a\u2000", "a\u0000"]) {
      expect(() => serialize(new XmlElement(bad))).toThrow(XmlSerializeError);
      expect(() => serialize(new XmlElement("a", "", { [bad]: "v" }))).toThrow(XmlSerializeError);
    }
    const w = new XmlWriter();
    expect(() => w.startTag(new XmlElement("stream"), { defaultNs: "", prefixes: new Map([["a b", "urn:x"]]) }, "stream")).toThrow(
      XmlSerializeError,
    );
    expect(() => w.startTag(new XmlElement("stream"), EMPTY_CONTEXT, "1")).toThrow(XmlSerializeError);
    expect(w.length).toBe(0);
  });

  it("refuses the xmlns namespace for elements and attributes, and writes the XML namespace with its prefix", () => {
    expect(() => serialize(new XmlElement("a", "http://www.w3.org/2000/xmlns/"))).toThrow(XmlSerializeError);
    expect(() => serialize(new XmlElement("a").setAttr("p", "x", "http://www.w3.org/2000/xmlns/"))).toThrow(XmlSerializeError);
    expect(toXmlString(new XmlElement("space", NS_XML))).toBe("<xml:space/>");
  });

  it("writes a parsed message 60 levels deep with 32 prefixes declared per level (the linear-time shape)", () => {
    // Every level's namespaces are new, so the writer declares 1920 prefixes, each in scope below its
    // element only; a writer that scans a list of bindings per attribute took seconds here.
    const input = stream(prefixHeavyMessage(60, 32));
    expect(input.length).toBeLessThan(256 * 1024);
    const events = parseWhole(input);
    expect(lastError(events)).toBeUndefined();
    const [msg] = elements(events);
    const want = prefixHeavyExpected(60, 32);
    expect(toXmlString(msg!, STREAM_CONTEXT)).toBe(want);
    const w = new XmlWriter(16);
    w.element(msg!, STREAM_CONTEXT).element(msg!, STREAM_CONTEXT);
    expect(new TextDecoder().decode(w.take())).toBe(want + want);
    // Read back, it is the same tree.
    const again = elements(parseWhole(stream(want)))[0]!;
    expect(again.equals(msg!)).toBe(true);
    // Siblings reuse the numbers their earlier siblings' subtrees gave back; a context's own `ns<n>`
    // prefixes are skipped and, where they are bound to the namespace, used.
    const two = new XmlElement("m", NS_CLIENT, null, [msg!.firstElement()!, msg!.firstElement()!]);
    const ctx = { defaultNs: NS_CLIENT, prefixes: new Map([["ns2", "urn:0:5"], ["ns4", "urn:x"]]) };
    const out = toXmlString(two, ctx);
    expect(out.startsWith("<m><e xmlns:ns1='urn:0:0' ns1:a='v0' xmlns:ns3='urn:0:1' ns3:a='v1' xmlns:ns5='urn:0:2' ns5:a='v2'")).toBe(true);
    expect(out).toContain("xmlns:ns6='urn:0:3' ns6:a='v3' xmlns:ns7='urn:0:4' ns7:a='v4' ns2:a='v5' xmlns:ns8='urn:0:6'");
    const [a, b] = out.slice(3, -4).split(/(?=<e xmlns:ns1=)/);
    expect(a).toBe(b);
    expect(elements(parseWhole(stream(out.replace("<m>", "<m xmlns:ns2='urn:0:5' xmlns:ns4='urn:x'>"))))[0]!.equals(two)).toBe(true);
  });
});
