import type { XmlElement } from "./element.js";
import { NS_XML, NS_XMLNS } from "./namespaces.js";

/**
 * The namespaces the receiver already has in scope where the element is written — for stanzas, those
 * declared on the stream header. Elements in `defaultNs` are written without `xmlns`; elements in a
 * namespace bound here to a prefix (e.g. `stream` → `http://etherx.jabber.org/streams`) use the prefix.
 */
export interface NamespaceContext {
  readonly defaultNs: string;
  /** prefix → namespace URI */
  readonly prefixes?: ReadonlyMap<string, string>;
}

/** No namespaces in scope: what a standalone document or an RFC 7395 message starts from. */
export const EMPTY_CONTEXT: NamespaceContext = Object.freeze({ defaultNs: "" });

// Escape classes for ASCII: 0 = copy, 1 = escape, 2 = forbidden (C0 controls other than TAB/LF/CR).
const TEXT_ESCAPE = new Uint8Array(128);
const ATTR_ESCAPE = new Uint8Array(128);
const ESCAPES: string[] = [];
for (let c = 0; c < 0x20; c++) TEXT_ESCAPE[c] = ATTR_ESCAPE[c] = 2;
TEXT_ESCAPE[0x09] = TEXT_ESCAPE[0x0a] = 0;
for (const [c, e] of [
  [0x26, "&amp;"],
  [0x3c, "&lt;"],
  [0x3e, "&gt;"],
  [0x27, "&apos;"],
  [0x22, "&quot;"],
  [0x09, "&#x9;"],
  [0x0a, "&#xA;"],
  [0x0d, "&#xD;"],
] as const) {
  ESCAPES[c] = e;
  ATTR_ESCAPE[c] = 1;
}
// Text: `>` is escaped so `]]>` can never appear; CR as a reference so it survives line-end normalisation.
TEXT_ESCAPE[0x26] = TEXT_ESCAPE[0x3c] = TEXT_ESCAPE[0x3e] = TEXT_ESCAPE[0x0d] = 1;
// Attribute values are written in single quotes; `"` needs no escape there.
ATTR_ESCAPE[0x22] = 0;
ATTR_ESCAPE[0x3e] = 0;

const NCNAME =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: code point ranges (XML NameChar), not composed characters
  /^[A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}][A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}\-.0-9\u00B7\u0300-\u036F\u203F-\u2040]*$/u;

/** Error thrown when the application asks to serialize something that is not XML (a programming error). */
export class XmlSerializeError extends TypeError {
  override readonly name = "XmlSerializeError";
}

/** One level of the namespace scope while writing: bindings as flat `[prefix, uri, …]`. */
interface WriteScope {
  readonly defaultNs: string;
  readonly bindings: readonly string[];
}

interface Frame {
  readonly el: XmlElement;
  index: number;
  readonly scope: WriteScope;
  readonly qname: string;
}

/**
 * Writes XML straight into a growing byte buffer: names checked, text and attribute values escaped and
 * UTF-8 encoded in one pass, namespace declarations minimal for the given context. Reuse one writer per
 * connection; {@link take} hands out the bytes written so far.
 *
 * Lone surrogates, C0 control characters, U+FFFE/U+FFFF and invalid names are refused with an
 * {@link XmlSerializeError} — the output is always well-formed, never silently altered.
 */
export class XmlWriter {
  private out: Uint8Array;
  private len = 0;
  private readonly validNames = new Set<string>();

  constructor(initialCapacity = 4096) {
    this.out = new Uint8Array(initialCapacity);
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.len;
  }

  /** Discards what was written and not taken (e.g. after an {@link XmlSerializeError}). */
  reset(): void {
    this.len = 0;
  }

  /** Returns a copy of the bytes written so far and empties the writer. */
  take(): Uint8Array {
    const bytes = this.out.slice(0, this.len);
    this.len = 0;
    return bytes;
  }

  /** Writes a string of markup as is (ASCII only; for fixed protocol text such as `</stream:stream>`). */
  raw(ascii: string): this {
    this.reserve(ascii.length);
    const out = this.out;
    let len = this.len;
    for (let i = 0; i < ascii.length; i++) {
      const c = ascii.charCodeAt(i);
      if (c >= 0x80) throw new XmlSerializeError("raw() takes ASCII only");
      out[len++] = c;
    }
    this.len = len;
    return this;
  }

  /** Writes escaped character data. */
  text(s: string): this {
    this.escaped(s, TEXT_ESCAPE);
    return this;
  }

  /** Writes an element and its descendants. Iterative: depth is bounded by memory, not the call stack. */
  element(el: XmlElement, context: NamespaceContext = EMPTY_CONTEXT): this {
    const rootScope = contextScope(context);
    const stack: Frame[] = [];
    let frame: Frame | undefined = this.open(el, rootScope, stack);
    while (frame !== undefined) {
      const children = frame.el.children;
      if (frame.index < children.length) {
        const child = children[frame.index++]!;
        if (typeof child === "string") this.escaped(child, TEXT_ESCAPE);
        else {
          const next = this.open(child, frame.scope, stack);
          if (next !== undefined) frame = next;
        }
        continue;
      }
      this.closeTag(frame.qname);
      stack.pop();
      frame = stack[stack.length - 1];
    }
    return this;
  }

  /**
   * Writes a start tag only (no children, no end tag): for a stream header, whose end tag comes when the
   * stream closes. `declare` lists namespace declarations to write on it; the returned context is what is
   * in scope for its children.
   */
  startTag(el: XmlElement, declare: NamespaceContext, prefix = ""): NamespaceContext {
    const qname = prefix === "" ? this.checkName(el.name) : `${this.checkName(prefix)}:${this.checkName(el.name)}`;
    this.byte(0x3c).ascii(qname);
    const prefixes = new Map(declare.prefixes ?? []);
    if (declare.defaultNs !== "") this.attrRaw("xmlns", declare.defaultNs);
    for (const [p, uri] of prefixes) this.attrRaw(`xmlns:${this.checkName(p)}`, uri);
    const bindings: string[] = [];
    for (const [p, uri] of prefixes) bindings.push(p, uri);
    this.attributes(el, bindings);
    this.byte(0x3e);
    return { defaultNs: declare.defaultNs, prefixes };
  }

  private open(el: XmlElement, scope: WriteScope, stack: Frame[]): Frame | undefined {
    const name = this.checkName(el.name);
    let prefix = "";
    let defaultNs = scope.defaultNs;
    let declareDefault = false;
    if (el.ns === NS_XML) {
      // The XML namespace is always bound to `xml` and may not be declared otherwise (Namespaces §3).
      prefix = "xml";
    } else if (el.ns === NS_XMLNS) {
      throw new XmlSerializeError("no element can be in the xmlns namespace (Namespaces §3)");
    } else if (el.ns !== scope.defaultNs) {
      const bound = el.ns === "" ? undefined : prefixFor(scope.bindings, el.ns);
      if (bound !== undefined) prefix = bound;
      else {
        declareDefault = true;
        defaultNs = el.ns;
      }
    }
    const qname = prefix === "" ? name : `${prefix}:${name}`;
    this.byte(0x3c).ascii(qname);
    if (declareDefault) this.attrRaw("xmlns", el.ns);
    let bindings = scope.bindings;
    if (el._attrs.length > 0) bindings = this.attributes(el, bindings);
    const childScope: WriteScope =
      defaultNs === scope.defaultNs && bindings === scope.bindings ? scope : { defaultNs, bindings };
    if (el.children.length === 0) {
      this.byte(0x2f).byte(0x3e);
      return undefined;
    }
    this.byte(0x3e);
    const frame: Frame = { el, index: 0, scope: childScope, qname };
    stack.push(frame);
    return frame;
  }

  /** Writes the attributes, declaring prefixes for namespaced ones; returns the bindings for children. */
  private attributes(el: XmlElement, bindings: readonly string[]): readonly string[] {
    const a = el._attrs;
    for (let i = 0; i < a.length; i += 3) {
      const ns = a[i]!;
      const name = this.checkName(a[i + 1]!);
      const value = a[i + 2]!;
      if (ns === "") {
        this.attrRaw(name, value);
        continue;
      }
      if (ns === NS_XML) {
        this.attrRaw(`xml:${name}`, value);
        continue;
      }
      // Declarations are made by the writer, never taken from attributes: that could rebind prefixes.
      if (ns === NS_XMLNS) throw new XmlSerializeError("attributes in the xmlns namespace cannot be serialized");
      let prefix = prefixFor(bindings, ns);
      if (prefix === undefined) {
        let n = 1;
        while (bindingFor(bindings, `ns${n}`) !== undefined) n++;
        prefix = `ns${n}`;
        bindings = [...bindings, prefix, ns];
        this.attrRaw(`xmlns:${prefix}`, ns);
      }
      this.attrRaw(`${prefix}:${name}`, value);
    }
    return bindings;
  }

  private attrRaw(qname: string, value: string): void {
    this.byte(0x20).ascii(qname).byte(0x3d).byte(0x27);
    this.escaped(value, ATTR_ESCAPE);
    this.byte(0x27);
  }

  private closeTag(qname: string): void {
    this.byte(0x3c).byte(0x2f).ascii(qname).byte(0x3e);
  }

  private checkName(name: string): string {
    if (this.validNames.has(name)) return name;
    if (!NCNAME.test(name)) throw new XmlSerializeError(`'${name}' is not a valid XML name`);
    if (this.validNames.size > 4096) this.validNames.clear();
    this.validNames.add(name);
    return name;
  }

  private byte(b: number): this {
    if (this.len >= this.out.length) this.reserve(1);
    this.out[this.len++] = b;
    return this;
  }

  /** Writes a name already checked by {@link checkName} (possibly non-ASCII). */
  private ascii(s: string): this {
    this.escaped(s, TEXT_ESCAPE);
    return this;
  }

  private reserve(n: number): void {
    const need = this.len + n;
    if (need <= this.out.length) return;
    const grown = new Uint8Array(Math.max(need, this.out.length * 2));
    grown.set(this.out.subarray(0, this.len));
    this.out = grown;
  }

  /** UTF-8 encodes `s` with the given escape table, refusing characters XML cannot carry. */
  private escaped(s: string, table: Uint8Array): void {
    const n = s.length;
    if (this.len + n * 6 > this.out.length) this.reserve(n * 6);
    const out = this.out;
    let len = this.len;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        const k = table[c]!;
        if (k === 0) out[len++] = c;
        else if (k === 1) {
          const e = ESCAPES[c]!;
          for (let j = 0; j < e.length; j++) out[len++] = e.charCodeAt(j);
        } else {
          this.len = len;
          throw new XmlSerializeError(`U+${c.toString(16).padStart(4, "0").toUpperCase()} cannot appear in XML`);
        }
      } else if (c < 0x800) {
        out[len++] = 0xc0 | (c >> 6);
        out[len++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) {
          this.len = len;
          throw new XmlSerializeError("lone surrogate in a string: it has no UTF-8 encoding");
        }
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        out[len++] = 0xf0 | (c >> 18);
        out[len++] = 0x80 | ((c >> 12) & 0x3f);
        out[len++] = 0x80 | ((c >> 6) & 0x3f);
        out[len++] = 0x80 | (c & 0x3f);
      } else {
        if (c >= 0xfffe) {
          this.len = len;
          throw new XmlSerializeError(`U+${c.toString(16).toUpperCase()} cannot appear in XML`);
        }
        out[len++] = 0xe0 | (c >> 12);
        out[len++] = 0x80 | ((c >> 6) & 0x3f);
        out[len++] = 0x80 | (c & 0x3f);
      }
    }
    this.len = len;
  }
}

function contextScope(context: NamespaceContext): WriteScope {
  const bindings: string[] = [];
  if (context.prefixes) for (const [p, uri] of context.prefixes) bindings.push(p, uri);
  return { defaultNs: context.defaultNs, bindings };
}

/** The innermost prefix bound to `uri`, provided no inner binding of that prefix shadows it. */
function prefixFor(bindings: readonly string[], uri: string): string | undefined {
  for (let k = bindings.length - 2; k >= 0; k -= 2) {
    if (bindings[k + 1] === uri && bindingFor(bindings, bindings[k]!) === uri) return bindings[k];
  }
  return undefined;
}

function bindingFor(bindings: readonly string[], prefix: string): string | undefined {
  for (let k = bindings.length - 2; k >= 0; k -= 2) if (bindings[k] === prefix) return bindings[k + 1];
  return undefined;
}

let sharedWriter: XmlWriter | undefined;

/** Serializes one element to UTF-8 bytes. See {@link XmlWriter} for what is refused. */
export function serialize(el: XmlElement, context: NamespaceContext = EMPTY_CONTEXT): Uint8Array {
  const writer = (sharedWriter ??= new XmlWriter());
  try {
    return writer.element(el, context).take();
  } catch (error) {
    writer.reset();
    throw error;
  }
}

const decoder = new TextDecoder();

/** Serializes one element to a string (for logs and transcripts; protocol output should stay bytes). */
export function toXmlString(el: XmlElement, context: NamespaceContext = EMPTY_CONTEXT): string {
  return decoder.decode(serialize(el, context));
}
