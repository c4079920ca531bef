import { describe, expect, it } from "vitest";
import { NS_CLIENT, NS_XML, XmlElement, xml } from "../src/index.js";

describe("xml() builder", () => {
  it("sets the namespace from xmlns and lets children inherit it", () => {
    const msg = xml("message", { xmlns: NS_CLIENT, to: "romeo@example.net", type: "chat" }, xml("body", {}, "Art thou not Romeo?"));
    expect(msg.is("message", NS_CLIENT)).toBe(true);
    expect(msg.getChild("body")!.ns).toBe(NS_CLIENT);
    expect(msg.getChildText("body")).toBe("Art thou not Romeo?");
    expect(msg.attr("xmlns")).toBeUndefined();
    expect(msg.attrCount).toBe(2);
  });

  it("passes the namespace through nested builders, stopping at explicit namespaces", () => {
    const iq = xml(
      "iq",
      { type: "set" },
      xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: "a@b" }, xml("group", {}, "Friends"))),
      xml("x", {}, xml("y")),
    );
    const item = iq.getChild("query", "jabber:iq:roster")!.getChild("item")!;
    expect(item.ns).toBe("jabber:iq:roster");
    expect(item.getChild("group")!.ns).toBe("jabber:iq:roster");
    expect(iq.ns).toBe("");
    // Still waiting for a namespace: adopting one (as the core does when sending) fills the whole chain.
    iq.adoptNamespace(NS_CLIENT);
    expect(iq.ns).toBe(NS_CLIENT);
    expect(iq.getChild("x")!.getChild("y")!.ns).toBe(NS_CLIENT);
    expect(item.ns).toBe("jabber:iq:roster");
    // An element appended later to a namespaced parent adopts too, with its own inheriting children.
    const parent = xml("message", { xmlns: NS_CLIENT });
    parent.append(xml("a", {}, xml("b")));
    expect(parent.getChild("a")!.getChild("b")!.ns).toBe(NS_CLIENT);
  });

  it("adopts a namespace on a flat stanza's childless children as on deeper ones, once", () => {
    const msg = xml("message", { to: "a@b" }, xml("body", {}, "hi"), xml("active", { xmlns: "urn:x" }), xml("thread"), "text");
    msg.adoptNamespace(NS_CLIENT);
    expect(msg.elements().map((e) => e.ns)).toEqual([NS_CLIENT, "urn:x", NS_CLIENT]);
    expect(msg.getChildText("body")).toBe("hi");
    // Adopted for good: a second adoption changes nothing, at either depth.
    msg.adoptNamespace("urn:other");
    expect([msg.ns, ...msg.elements().map((e) => e.ns)]).toEqual([NS_CLIENT, NS_CLIENT, "urn:x", NS_CLIENT]);
    expect(String(msg)).toBe("<message xmlns='jabber:client' to='a@b'><body>hi</body><active xmlns='urn:x'/><thread/>text</message>");
  });

  it("keeps an explicit empty namespace (new XmlElement) instead of inheriting", () => {
    const parent = xml("message", { xmlns: NS_CLIENT }, new XmlElement("raw"));
    expect(parent.firstElement()!.ns).toBe("");
  });

  it("accepts arrays, skips null/undefined/false and merges adjacent text", () => {
    const el = xml("a", null, "x", null, ["y", false, undefined, xml("b")], "", "z", "w");
    expect(el.children.length).toBe(3);
    expect(el.children[0]).toBe("xy");
    expect(el.children[2]).toBe("zw");
    expect(el.text()).toBe("xyzw");
  });

  it("skips undefined attribute values and stores xml:lang in the XML namespace", () => {
    const el = xml("message", { to: undefined, "xml:lang": "en" });
    expect(el.hasAttr("to")).toBe(false);
    expect(el.attr("lang", NS_XML)).toBe("en");
    expect(el.attr("xml:lang")).toBe("en");
    expect(el.attributes()).toEqual([{ ns: NS_XML, name: "lang", value: "en" }]);
  });

  it("builds with the constructor too", () => {
    const el = new XmlElement("body", NS_CLIENT, { a: "1" }, ["t"]);
    expect(el.is("body")).toBe(true);
    expect(el.is("body", "")).toBe(false);
    expect(el.attr("a")).toBe("1");
    expect(el.text()).toBe("t");
  });
});

describe("XmlElement", () => {
  const tree = () =>
    xml(
      "message",
      { xmlns: NS_CLIENT, to: "a" },
      xml("body", {}, "one"),
      "text",
      xml("body", {}, "two"),
      xml("x", { xmlns: "jabber:x:data" }, xml("field")),
      xml("body", { xmlns: "urn:other" }, "other"),
    );

  it("finds children by name and namespace", () => {
    const el = tree();
    expect(el.getChild("body")!.text()).toBe("one");
    expect(el.getChildren("body").map((c) => c.text())).toEqual(["one", "two"]);
    expect(el.getChild("body", "urn:other")!.text()).toBe("other");
    expect(el.getChild("x")).toBeUndefined();
    expect(el.getChild("x", "jabber:x:data")).toBeDefined();
    expect(el.getChildByNs("jabber:x:data")!.name).toBe("x");
    expect(el.getChildText("missing")).toBeUndefined();
    expect(el.elements().length).toBe(4);
    expect(el.firstElement()!.name).toBe("body");
    expect(el.text()).toBe("text");
    expect(xml("a").text()).toBe("");
  });

  it("reads, sets, replaces and removes attributes", () => {
    const el = tree();
    expect(el.attr("to")).toBe("a");
    el.setAttr("to", "b").setAttr("from", "c").setAttr("a", "1", "urn:p");
    expect(el.attr("to")).toBe("b");
    expect(el.attr("a", "urn:p")).toBe("1");
    expect(el.attr("a")).toBeUndefined();
    el.removeAttr("to");
    expect(el.hasAttr("to")).toBe(false);
    el.setAttr("from", undefined);
    expect(el.attributes()).toEqual([{ ns: "urn:p", name: "a", value: "1" }]);
    expect(el.attrsObject()).toEqual({});
    el.setAttr("xmlns", "urn:new");
    expect(el.ns).toBe("urn:new");
  });

  it("compares structurally: attribute order ignored, text merged", () => {
    const a = xml("m", { a: "1", b: "2" }, "x", "y");
    const b = xml("m", { b: "2", a: "1" }, "xy");
    b.children = ["x", "", "y"];
    expect(a.equals(b)).toBe(true);
    expect(a.equals(xml("m", { a: "1", b: "3" }, "xy"))).toBe(false);
    expect(a.equals(xml("m", { a: "1" }, "xy"))).toBe(false);
    expect(a.equals(xml("m", { a: "1", b: "2" }, "xz"))).toBe(false);
    expect(a.equals(xml("m", { a: "1", b: "2", xmlns: "urn:x" }, "xy"))).toBe(false);
    expect(tree().equals(tree())).toBe(true);
    const t = tree();
    t.getChild("x", "jabber:x:data")!.getChild("field")!.setAttr("var", "v");
    expect(t.equals(tree())).toBe(false);
  });

  it("clones deeply", () => {
    const a = tree();
    const b = a.clone();
    expect(b.equals(a)).toBe(true);
    b.getChild("body")!.children = ["changed"];
    b.setAttr("to", "z");
    expect(a.getChildText("body")).toBe("one");
    expect(a.attr("to")).toBe("a");
    // The inherit flag is kept, so a cloned template still adopts the stream namespace.
    const tpl = xml("iq", {}, xml("ping", { xmlns: "urn:xmpp:ping" }));
    expect(tpl.clone().adoptNamespace(NS_CLIENT).ns).toBe(NS_CLIENT);
  });
});

describe("XmlElement prints as XML", () => {
  it("String(el), template literals and toString() give the serialized form, not [object Object]", () => {
    const m = xml("message", { to: "romeo@example.net", type: "chat" }, xml("body", {}, "a < b & c"));
    expect(String(m)).toBe("<message to='romeo@example.net' type='chat'><body>a &lt; b &amp; c</body></message>");
    expect(`${m}`).toBe(m.toString());
    expect(String(new XmlElement("query", "jabber:iq:roster"))).toBe("<query xmlns='jabber:iq:roster'/>");
  });

  it("a tree the serializer refuses gives a description instead of throwing", () => {
    const bad = new XmlElement("x", "urn:x", null, ["\ud800"]);
    expect(String(bad)).toMatch(/^\[XmlElement <x> not serializable: /);
  });

  it("toString lives on the prototype: no per-instance property", () => {
    const el = new XmlElement("a", "urn:a");
    expect(Object.hasOwn(el, "toString")).toBe(false);
    expect(Object.keys(el).sort()).toEqual(["_attrs", "_inheritNs", "children", "name", "ns"]);
  });
});
