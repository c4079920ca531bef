// Generators shared by the property tests: random element trees, and a writer that renders a tree with
// randomly varied (but always well-formed) syntax, so that parsing is exercised beyond what our own
// serializer produces.
import fc from "fast-check";
import { EMPTY_CONTEXT, type NamespaceContext, NS_CLIENT, NS_STREAMS, NS_XML, XmlElement } from "../src/index.js";

const SPECIAL = ["&", "<", ">", "'", '"', "\r", "\n", "\t", "]", "]]>", "\r\n", " ", "&amp;", "é", "\u00a0", "\ufeff"];

function isXmlChar(cp: number): boolean {
  return cp === 0x09 || cp === 0x0a || cp === 0x0d || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || cp >= 0x10000;
}

/** Strings of XML characters, heavy on the ones that need escaping, with BMP and non-BMP characters. */
export const xmlText = (maxLength = 12): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.oneof(
      { arbitrary: fc.constantFrom(...SPECIAL), weight: 3 },
      { arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), weight: 6 },
      { arbitrary: fc.integer({ min: 0x80, max: 0xfffd }).filter(isXmlChar).map((c) => String.fromCodePoint(c)), weight: 2 },
      { arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)), weight: 1 },
    ),
    maxLength,
  });

const NAMES = ["message", "body", "x", "item", "a", "b", "query", "é", "名前", "x-y.z", "_u", "stream", "😀x", "lang"];
export const xmlName: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...NAMES), weight: 4 },
  { arbitrary: fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_.-]{0,10}$/).filter((n) => n !== "xmlns"), weight: 1 },
);

const NAMESPACES = ["", NS_CLIENT, "urn:a", "urn:b", "http://jabber.org/protocol/pubsub", "urn:é:ü"];
const ATTR_NAMESPACES = ["", "", "", "urn:a", "urn:c", "urn:d", "urn:e", NS_XML];

interface TreeSpec {
  name: string;
  ns: string;
  attrs: Array<{ ns: string; name: string; value: string }>;
  children: Array<TreeSpec | string>;
}

const { tree } = fc.letrec<{ tree: TreeSpec; node: TreeSpec | string }>((tie) => ({
  tree: fc.record({
    name: xmlName,
    ns: fc.constantFrom(...NAMESPACES),
    attrs: fc.array(fc.record({ ns: fc.constantFrom(...ATTR_NAMESPACES), name: xmlName, value: xmlText(10) }), { maxLength: 4 }),
    children: fc.array(tie("node"), { maxLength: 4 }),
  }),
  node: fc.oneof({ depthSize: "small", withCrossShrink: true }, xmlText(16), tie("tree")),
}));

function build(spec: TreeSpec): XmlElement {
  const el = new XmlElement(spec.name, spec.ns);
  for (const a of spec.attrs) el.setAttr(a.name, a.value, a.ns);
  for (const c of spec.children) el.append(typeof c === "string" ? c : build(c));
  return el;
}

/** Random element trees (namespaces, namespaced attributes, xml:lang-like attributes, tricky text). */
export const xmlTree: fc.Arbitrary<XmlElement> = tree.map(build);

/** Namespace contexts that exercise the serializer's prefix bookkeeping. */
export const CONTEXTS: NamespaceContext[] = [
  EMPTY_CONTEXT,
  { defaultNs: NS_CLIENT, prefixes: new Map([["stream", NS_STREAMS]]) },
  { defaultNs: "urn:a", prefixes: new Map([["ns1", "urn:c"], ["p", "urn:b"]]) },
  // Two prefixes for one URI: the later one is used.
  { defaultNs: "", prefixes: new Map([["a", "urn:a"], ["b", "urn:a"]]) },
  // Generated-looking prefixes in the context: declarations skip ns2 and ns3, and use ns3 for urn:a.
  { defaultNs: NS_CLIENT, prefixes: new Map([["ns2", "urn:x"], ["ns3", "urn:a"], ["ns01", "urn:y"]]) },
  // More than eight: looked up through a map.
  { defaultNs: "", prefixes: new Map(Array.from({ length: 12 }, (_, i) => [`p${i}`, i === 7 ? "urn:c" : `urn:p${i}`] as [string, string])) },
];

/** What XML cannot carry, and characters around the boundaries of the escape and UTF-8 classes. */
export const BAD = [
  "\uD800",
  "\uDC00",
  "x\uDBFF",
  "\uDFFFx",
  "\uDE00\uD83D",
  "\uDC00\uDC00",
  "\uD800\uD800",
  "\u0000",
  "\u0001",
  "\u001F",
  "\u000B",
  "\uFFFE",
  "\uFFFF",
];
export const EDGE = ["\u007F", "\u0080", "\u07FF", "\u0800", "\uD7FF", "\uE000", "\uFFFD", "\u{10000}", "\u{10FFFF}", "\uD83D\uDE00"];
const BAD_NAMES = ["", "1a", "a:b", "a b", "-a", ".a", "\u00B7a", "a\u00D7", "é\uD800", "xmlns:a", "a\u0000"];
const odd = fc.oneof(fc.constantFrom(...BAD), fc.constantFrom(...EDGE), fc.string({ maxLength: 6 }));

/** A tree with one string somewhere replaced by an arbitrary one: a name, an attribute value or a text. */
export const damagedTree = fc
  .tuple(xmlTree, fc.nat(), fc.nat(2), odd, fc.constantFrom(...BAD_NAMES), fc.boolean())
  .map(([tree, pick, where, value, badName, useBadName]) => {
    const all: XmlElement[] = [];
    const stack = [tree];
    for (let el = stack.pop(); el !== undefined; el = stack.pop()) {
      all.push(el);
      for (const c of el.children) if (typeof c !== "string") stack.push(c);
    }
    const el = all[pick % all.length]!;
    if (where === 0) el.name = useBadName ? badName : el.name + value;
    else if (where === 1) el.setAttr(useBadName ? badName : "v", value);
    else el.children.push(value);
    return tree;
  });

import { prng } from "./prng.js";

export { prng };

const ref = (cp: number, r: () => number) => (r() < 0.5 ? `&#${cp};` : `&#x${cp.toString(r() < 0.5 ? 16 : 16).toUpperCase()};`);
const ws = (r: () => number) => [" ", "  ", "\n", "\t", "\r\n", " \n "][Math.floor(r() * 6)]!;

function variedText(s: string, r: () => number): string {
  let out = "";
  const cps = Array.from(s);
  for (let i = 0; i < cps.length; i++) {
    const ch = cps[i]!;
    const cp = ch.codePointAt(0)!;
    const roll = r();
    if (ch === "&") out += roll < 0.8 ? "&amp;" : ref(cp, r);
    else if (ch === "<") out += roll < 0.8 ? "&lt;" : ref(cp, r);
    else if (ch === ">") out += roll < 0.7 ? "&gt;" : ref(cp, r); // never raw: it could complete ']]>'
    else if (ch === "\r") out += ref(cp, r); // a raw CR would be normalised away
    else if (ch === "\n") out += roll < 0.2 ? "\r\n" : roll < 0.4 ? ref(cp, r) : "\n";
    else if (roll < 0.1) out += ref(cp, r);
    else if (roll < 0.15 && ch !== "]") out += `<![CDATA[${ch}]]>`;
    else out += ch;
  }
  return out;
}

function variedAttr(s: string, q: string, r: () => number): string {
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === "&") out += "&amp;";
    else if (ch === "<") out += "&lt;";
    else if (ch === q) out += q === "'" ? "&apos;" : "&quot;";
    else if (ch === "\r" || ch === "\n" || ch === "\t") out += ref(cp, r); // literal ones become spaces
    else if (r() < 0.1) out += ref(cp, r);
    else out += ch;
  }
  return out;
}

interface Scope {
  defaultNs: string;
  prefixes: Map<string, string>;
}

/**
 * Renders `el` as well-formed XML with random but equivalent syntax: prefixes or default declarations,
 * either quote, whitespace around `=`, character references, CDATA, CR LF line ends, `<a></a>` for
 * empty elements. `scope` is what is in effect around it (the stream header's declarations).
 */
export function writeVaried(root: XmlElement, seed: number, scope: Scope = { defaultNs: NS_CLIENT, prefixes: new Map() }): string {
  const r = prng(seed);
  let out = "";
  let counter = 0;
  // Explicit stack of work items: open an element, write text, or close a tag.
  type Item = { el: XmlElement; scope: Scope } | { close: string } | { text: string };
  const stack: Item[] = [{ el: root, scope }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if ("close" in item) {
      out += `</${item.close}${r() < 0.2 ? ws(r) : ""}>`;
      continue;
    }
    if ("text" in item) {
      out += variedText(item.text, r);
      continue;
    }
    const { el } = item;
    const outer = item.scope;
    const inner: Scope = { defaultNs: outer.defaultNs, prefixes: new Map(outer.prefixes) };
    const decls: string[] = [];
    let qname: string;
    if (el.ns !== "" && r() < 0.4) {
      const p = `p${counter++}`;
      inner.prefixes.set(p, el.ns);
      decls.push(`xmlns:${p}`, el.ns);
      qname = `${p}:${el.name}`;
    } else {
      if (el.ns !== outer.defaultNs || r() < 0.2) decls.push("xmlns", el.ns);
      inner.defaultNs = el.ns;
      qname = el.name;
    }
    const attrs: string[] = [];
    for (const a of el.attributes()) {
      if (a.ns === "") attrs.push(a.name, a.value);
      else if (a.ns === NS_XML) attrs.push(`xml:${a.name}`, a.value);
      else {
        const p = `q${counter++}`;
        inner.prefixes.set(p, a.ns);
        decls.push(`xmlns:${p}`, a.ns);
        attrs.push(`${p}:${a.name}`, a.value);
      }
    }
    const all = [...decls, ...attrs];
    let tag = `<${qname}`;
    for (let i = 0; i < all.length; i += 2) {
      const q = r() < 0.5 ? "'" : '"';
      tag += `${ws(r)}${all[i]}${r() < 0.2 ? ws(r) : ""}=${r() < 0.2 ? ws(r) : ""}${q}${variedAttr(all[i + 1]!, q, r)}${q}`;
    }
    if (r() < 0.2) tag += ws(r);
    if (el.children.length === 0 && r() < 0.7) {
      out += `${tag}/>`;
      continue;
    }
    out += `${tag}>`;
    stack.push({ close: qname });
    for (let i = el.children.length - 1; i >= 0; i--) {
      const c = el.children[i]!;
      stack.push(typeof c === "string" ? { text: c } : { el: c, scope: inner });
    }
  }
  return out;
}

/** One edit of a byte string, as the mutation properties draw them (`at` is taken modulo the length + 1). */
export interface ByteMutation {
  readonly kind: "flip" | "set" | "insert" | "delete" | "truncate" | "snippet";
  readonly at: number;
  /** The byte set or inserted. */
  readonly byte: number;
  /** The bit a `flip` toggles. */
  readonly bit?: number;
  /** The bytes a `snippet` inserts. */
  readonly snippet?: readonly number[];
}

/** `input` with the `mutations` applied in order (a position past the end is a no-op for set and flip). */
export function mutateBytes(input: Uint8Array | readonly number[], mutations: readonly ByteMutation[]): Uint8Array {
  let data = Array.from(input);
  for (const m of mutations) {
    const at = m.at % (data.length + 1);
    if (m.kind === "flip" && at < data.length) data[at]! ^= 1 << (m.bit ?? 0);
    else if (m.kind === "set" && at < data.length) data[at] = m.byte;
    else if (m.kind === "insert") data.splice(at, 0, m.byte);
    else if (m.kind === "delete") data.splice(at, 1);
    else if (m.kind === "truncate") data = data.slice(0, at);
    else if (m.kind === "snippet") data.splice(at, 0, ...(m.snippet ?? []));
  }
  return Uint8Array.from(data);
}
