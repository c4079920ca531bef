// Browser builds (package.json "browser" maps serializer.js to this file): a compact serializer that builds
// a string and encodes it once per take, with none of the byte writer's speed machinery (escape tables,
// slab buffers, bindings kept between calls). Same API, same bytes and the same refusals, in the same
// order, as serializer.ts — a differential property test (test/serializer-browser.property.test.ts) holds
// the two together.
import { isNameCodePoint, isNameStartCodePoint, nameCharAscii, nameStartAscii } from "./chars.js";
import type { XmlElement } from "./element.js";
import { NS_XML, NS_XMLNS } from "./namespaces.js";

/** See serializer.ts. */
export interface NamespaceContext {
  /** The default namespace in scope (`xmlns='…'`); `""` for none. */
  readonly defaultNs: string;
  /** prefix → namespace URI */
  readonly prefixes?: ReadonlyMap<string, string>;
}

/** No namespaces in scope. */
export const EMPTY_CONTEXT: NamespaceContext = Object.freeze({ defaultNs: "" });

/** Error thrown when the application asks to serialize something that is not XML (a programming error). */
export class XmlSerializeError extends TypeError {
  override readonly name = "XmlSerializeError";
}

/** The first character XML cannot carry: C0 controls but TAB/LF/CR, U+FFFE/U+FFFF, a lone surrogate. */
const FORBIDDEN = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const TEXT_SPECIAL = /[&<>\r]/g;
const ATTR_SPECIAL = /[&<'\t\n\r]/g;
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "'": "&apos;", "\t": "&#x9;", "\n": "&#xA;", "\r": "&#xD;" };
const encoder = new TextEncoder();

function escaped(s: string, special: RegExp): string {
  const bad = FORBIDDEN.exec(s);
  if (bad !== null) {
    const c = bad[0].charCodeAt(0);
    throw new XmlSerializeError(c >= 0xd800 && c <= 0xdfff ? "lone surrogate in a string: it has no UTF-8 encoding" : `U+${c.toString(16).padStart(4, "0").toUpperCase()} cannot appear in XML`);
  }
  return s.replace(special, (ch) => ESCAPES[ch]!);
}

/** Checks that `s` is an XML name without a colon (an NCName), with the parser's character classes; returns it. */
function checkName(s: string): string {
  let ok = s !== "";
  let first = true;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80 ? (first ? nameStartAscii : nameCharAscii)[c] === 0 : !(first ? isNameStartCodePoint : isNameCodePoint)(c)) ok = false;
    first = false;
  }
  if (!ok) throw new XmlSerializeError(`'${s}' is not a valid XML name`);
  return s;
}

const qname = (prefix: string, name: string): string => (prefix === "" ? name : `${prefix}:${name}`);
const attr = (prefix: string, name: string, value: string): string => ` ${qname(prefix, name)}='${escaped(value, ATTR_SPECIAL)}'`;

/**
 * The bindings in scope: the context's (checked), then the declarations of the open elements. The innermost
 * binding of a URI wins; no prefix is ever bound twice (declarations take `ns<n>` for the smallest `n` after
 * the last declaration's that the context does not use), as in serializer.ts. Lookups go through a map with
 * an undo log, so serializing stays linear in the output however many bindings are in scope.
 */
class Scope {
  /** The context's bindings, flat `[prefix, uri, …]` (a stream header writes them out). */
  readonly context: string[] = [];
  /** uri → its innermost prefix in scope. */
  private readonly prefixes = new Map<string, string>();
  /** Per declaration in scope: its `n`, its URI and the prefix the URI had before. */
  private readonly declared: Array<[number, string, string | undefined]> = [];

  constructor(prefixes: ReadonlyMap<string, string> | undefined) {
    for (const [p, uri] of prefixes ?? []) {
      this.context.push(checkName(p), uri);
      this.prefixes.set(uri, p);
    }
  }

  prefixFor(uri: string): string | undefined {
    return this.prefixes.get(uri);
  }

  /** How many declarations are in scope (a mark for {@link revert}). */
  get mark(): number {
    return this.declared.length;
  }

  /** Declares a fresh prefix for `uri`, which has none in scope, and returns it. */
  declare(uri: string): string {
    let n = (this.declared.at(-1)?.[0] ?? 0) + 1;
    // Skip the context's own `ns<n>` prefixes (declared ones are all below `n`).
    while (this.context.some((p, k) => k % 2 === 0 && p === `ns${n}`)) n++;
    this.declared.push([n, uri, this.prefixes.get(uri)]);
    this.prefixes.set(uri, `ns${n}`);
    return `ns${n}`;
  }

  /** Undoes the declarations after the first `mark`. */
  revert(mark: number): void {
    const d = this.declared;
    while (d.length > mark) {
      const [, uri, before] = d.pop()!;
      if (before === undefined) this.prefixes.delete(uri);
      else this.prefixes.set(uri, before);
    }
  }

  /** Writes `el`'s attributes, declaring prefixes for namespaced ones that have none in scope. */
  attributes(el: XmlElement): string {
    let s = "";
    const a = el._attrs;
    for (let i = 0; i < a.length; i += 3) {
      const ns = a[i]!;
      let prefix = ns === "" ? "" : ns === NS_XML ? "xml" : this.prefixFor(ns);
      if (ns === NS_XMLNS) throw new XmlSerializeError("attributes in the xmlns namespace cannot be serialized");
      if (prefix === undefined) {
        prefix = this.declare(ns);
        s += attr("xmlns", prefix, ns);
      }
      s += attr(prefix, checkName(a[i + 1]!), a[i + 2]!);
    }
    return s;
  }
}

/** The markup of `el` in `context`; throws (an {@link XmlSerializeError}) for what XML cannot carry. */
function markup(el: XmlElement, context: NamespaceContext): string {
  const scope = new Scope(context.prefixes);
  let out = "";
  // Per open element: the element, its next child, the default namespace of its children, the bindings mark, its qualified name.
  const stack: Array<[XmlElement, number, string, number, string]> = [];
  let next: XmlElement | undefined = el;
  let defaultNs = context.defaultNs;
  for (;;) {
    if (next !== undefined) {
      const ns = next.ns;
      let prefix: string | undefined = "";
      if (ns === NS_XML) prefix = "xml";
      else if (ns === NS_XMLNS) throw new XmlSerializeError("no element can be in the xmlns namespace (Namespaces §3)");
      else if (ns !== defaultNs) prefix = ns === "" ? undefined : scope.prefixFor(ns);
      const name = qname(prefix ?? "", checkName(next.name));
      if (prefix === undefined) defaultNs = ns;
      const mark = scope.mark;
      out += `<${name}${prefix === undefined ? attr("", "xmlns", ns) : ""}${scope.attributes(next)}`;
      if (next.children.length === 0) {
        out += "/>";
        scope.revert(mark);
      } else {
        out += ">";
        stack.push([next, 0, defaultNs, mark, name]);
      }
      next = undefined;
    }
    const top = stack.at(-1);
    if (top === undefined) return out;
    const child = top[0].children[top[1]++];
    defaultNs = top[2];
    if (child === undefined) {
      out += `</${top[4]}>`;
      scope.revert(top[3]);
      stack.pop();
    } else if (typeof child === "string") out += escaped(child, TEXT_SPECIAL);
    else next = child;
  }
}

/** See serializer.ts: the same API (the constructor's capacity is ignored), building a string that is encoded when taken. */
export class XmlWriter {
  private s = "";

  /** Nothing to let go of (no buffer, no bindings kept between calls). */
  release(): void {}

  /** Bytes written and not yet taken. */
  get length(): number {
    return encoder.encode(this.s).length;
  }

  /** Discards what was written and not taken. */
  reset(): void {
    this.s = "";
  }

  /** Returns the bytes written so far and empties the writer. */
  take(): Uint8Array {
    const bytes = encoder.encode(this.s);
    this.s = "";
    return bytes;
  }

  /** {@link take}: every taken array is fresh here. */
  takeShared(): Uint8Array {
    return this.take();
  }

  /** Writes a string of markup as is (ASCII only). */
  raw(ascii: string): this {
    if (/[^\0-\x7f]/.test(ascii)) throw new XmlSerializeError("raw() takes ASCII only");
    this.s += ascii;
    return this;
  }

  /** Writes escaped character data. */
  text(s: string): this {
    this.s += escaped(s, TEXT_SPECIAL);
    return this;
  }

  /** Writes an element and its descendants. Iterative: depth is bounded by memory, not the call stack. */
  element(el: XmlElement, context: NamespaceContext = EMPTY_CONTEXT): this {
    this.s += markup(el, context);
    return this;
  }

  /** Writes a start tag only (a stream header); returns the context in scope for its children. */
  startTag(el: XmlElement, declare: NamespaceContext, prefix = ""): NamespaceContext {
    if (prefix !== "") checkName(prefix);
    const scope = new Scope(declare.prefixes);
    let s = `<${qname(prefix, checkName(el.name))}`;
    if (declare.defaultNs !== "") s += attr("", "xmlns", declare.defaultNs);
    const b = scope.context;
    for (let k = 0; k < b.length; k += 2) s += attr("xmlns", b[k]!, b[k + 1]!);
    this.s += `${s + scope.attributes(el)}>`;
    return { defaultNs: declare.defaultNs, prefixes: new Map(declare.prefixes ?? []) };
  }
}

/** Serializes one element to UTF-8 bytes. */
export function serialize(el: XmlElement, context: NamespaceContext = EMPTY_CONTEXT): Uint8Array {
  return encoder.encode(markup(el, context));
}

/** Serializes one element to a string. */
export function toXmlString(el: XmlElement, context: NamespaceContext = EMPTY_CONTEXT): string {
  return markup(el, context);
}
