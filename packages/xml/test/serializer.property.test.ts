// The byte serializer against a plain string-building reference (regex escaping, TextEncoder), on random
// trees with and without content XML cannot carry, in random namespace contexts.
import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import {
  EMPTY_CONTEXT,
  type NamespaceContext,
  NS_XML,
  NS_XMLNS,
  serialize,
  XmlElement,
  XmlSerializeError,
  XmlWriter,
} from "../src/index.js";
import { BAD, CONTEXTS, damagedTree, EDGE, xmlTree } from "./arbitraries.js";

const NCNAME =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: code point ranges (XML NameChar), not composed characters
  /^[A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}][A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}\-.0-9\u00B7\u0300-\u036F\u203F-\u2040]*$/u;

class Refused extends Error {}

function name(s: string): string {
  if (!NCNAME.test(s)) throw new Refused(`name ${s}`);
  return s;
}

function checkChars(s: string): void {
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) throw new Refused("lone surrogate");
    if (cp < 0x20 && cp !== 0x09 && cp !== 0x0a && cp !== 0x0d) throw new Refused("control");
    if (cp === 0xfffe || cp === 0xffff) throw new Refused("noncharacter");
  }
}

function text(s: string): string {
  checkChars(s);
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r/g, "&#xD;");
}

function attrValue(s: string): string {
  checkChars(s);
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/'/g, "&apos;")
    .replace(/\t/g, "&#x9;")
    .replace(/\n/g, "&#xA;")
    .replace(/\r/g, "&#xD;");
}

interface Scope {
  defaultNs: string;
  /** In declaration order; prefixes are never rebound (generated ones avoid those in scope). */
  prefixes: Array<[string, string]>;
}

/** The last-declared prefix for `uri`. */
function prefixOf(scope: Scope, uri: string): string | undefined {
  let found: string | undefined;
  for (const [p, u] of scope.prefixes) if (u === uri) found = p;
  return found;
}

/** Straightforward recursive serialization to a string; throws `Refused` where XML cannot carry the tree. */
function reference(el: XmlElement, outer: Scope): string {
  if (el.ns === NS_XMLNS) throw new Refused("element in xmlns namespace");
  const scope: Scope = { defaultNs: outer.defaultNs, prefixes: [...outer.prefixes] };
  let qname = name(el.name);
  let decls = "";
  if (el.ns === NS_XML) qname = `xml:${qname}`;
  else if (el.ns !== outer.defaultNs) {
    const p = el.ns === "" ? undefined : prefixOf(outer, el.ns);
    if (p !== undefined) qname = `${p}:${qname}`;
    else {
      decls += ` xmlns='${attrValue(el.ns)}'`;
      scope.defaultNs = el.ns;
    }
  }
  let attrs = "";
  for (const a of el.attributes()) {
    if (a.ns === "") attrs += ` ${name(a.name)}='${attrValue(a.value)}'`;
    else if (a.ns === NS_XML) attrs += ` xml:${name(a.name)}='${attrValue(a.value)}'`;
    else if (a.ns === NS_XMLNS) throw new Refused("attribute in xmlns namespace");
    else {
      let p = prefixOf(scope, a.ns);
      if (p === undefined) {
        let n = 1;
        while (scope.prefixes.some(([q]) => q === `ns${n}`)) n++;
        p = `ns${n}`;
        scope.prefixes.push([p, a.ns]);
        attrs += ` xmlns:${p}='${attrValue(a.ns)}'`;
      }
      attrs += ` ${p}:${name(a.name)}='${attrValue(a.value)}'`;
    }
  }
  if (el.children.length === 0) return `<${qname}${decls}${attrs}/>`;
  let inner = "";
  for (const c of el.children) inner += typeof c === "string" ? text(c) : reference(c, scope);
  return `<${qname}${decls}${attrs}>${inner}</${qname}>`;
}

function expected(el: XmlElement, ctx: NamespaceContext): Uint8Array | "refused" {
  try {
    const prefixes = [...(ctx.prefixes ?? [])];
    for (const [p] of prefixes) name(p);
    return new TextEncoder().encode(reference(el, { defaultNs: ctx.defaultNs, prefixes }));
  } catch (error) {
    if (error instanceof Refused) return "refused";
    throw error;
  }
}

function actual(el: XmlElement, ctx: NamespaceContext): Uint8Array | "refused" {
  try {
    return serialize(el, ctx);
  } catch (error) {
    if (error instanceof XmlSerializeError) return "refused";
    throw error;
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Asserts that the serializer and the reference agree (compared as strings, which is quicker; valid UTF-8 decodes one way). */
function same(el: XmlElement, ctx: NamespaceContext): void {
  const got = actual(el, ctx);
  const want = expected(el, ctx);
  if (got === "refused" || want === "refused") expect(got).toBe(want);
  else {
    expect(decoder.decode(got)).toBe(decoder.decode(want));
    expect(got.length).toBe(want.length);
  }
}

describe("serializer against a reference", () => {
  it("writes the same bytes as a straightforward string serializer, for valid trees in any context", () => {
    fc.assert(
      fc.property(xmlTree, fc.constantFrom(...CONTEXTS), (tree, ctx) => {
        expect(expected(tree, ctx)).not.toBe("refused");
        same(tree, ctx);
      }),
      fuzz(500),
    );
  });

  it("refuses exactly what the reference refuses, and otherwise writes the same bytes", () => {
    fc.assert(
      fc.property(damagedTree, fc.constantFrom(...CONTEXTS), (tree, ctx) => {
        same(tree, ctx);
      }),
      fuzz(1000),
    );
  });

  it("a writer that grows from nothing holds exactly the calls that did not throw", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(xmlTree, damagedTree), fc.constantFrom(...CONTEXTS)), { maxLength: 8 }), (items) => {
        const w = new XmlWriter(0);
        const parts: Uint8Array[] = [];
        for (const [tree, ctx] of items) {
          const want = expected(tree, ctx);
          if (want === "refused") expect(() => w.element(tree, ctx)).toThrow(XmlSerializeError);
          else {
            w.element(tree, ctx);
            parts.push(want);
          }
        }
        const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const p of parts) {
          all.set(p, at);
          at += p.length;
        }
        expect(w.length).toBe(all.length);
        expect(decoder.decode(w.take())).toBe(decoder.decode(all));
      }),
      fuzz(300),
    );
  });

  it("release() between writes changes no byte, and keeps what is pending", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(xmlTree, fc.constantFrom(...CONTEXTS), fc.constantFrom("take", "release", "take+release", "none")), { maxLength: 8 }), (items) => {
        const w = new XmlWriter(16);
        let got = "";
        let want = "";
        for (const [tree, ctx, after] of items) {
          const bytes = expected(tree, ctx);
          if (bytes === "refused") continue;
          w.element(tree, ctx);
          want += decoder.decode(bytes);
          if (after === "take" || after === "take+release") got += decoder.decode(w.take());
          // With output pending, release() must keep it; without, it drops the buffer and the state.
          if (after === "release" || after === "take+release") w.release();
        }
        got += decoder.decode(w.take());
        expect(got).toBe(want);
      }),
      fuzz(300),
    );
  });

  it("agrees on long strings, whatever falls where they are cut into pieces", () => {
    // Long strings are escaped in pieces of 8192 UTF-16 units; put every odd character around a cut.
    for (const at of [8190, 8191, 8192, 8193]) {
      for (const ch of [...BAD, ...EDGE, "&", "'", "\r", "\n", "\t", ">", "<"]) {
        for (const tail of ["", "b".repeat(10)]) {
          const s = "a".repeat(at) + ch + tail;
          for (const el of [new XmlElement("m", "", { v: s }), new XmlElement("m", "", null, [s])]) {
            same(el, EMPTY_CONTEXT);
          }
        }
      }
    }
  });
});
