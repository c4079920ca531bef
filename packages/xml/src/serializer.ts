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

// Strings that need no escaping and hold nothing XML forbids take the fast path: a native regex test.
const TEXT_CHECK = /[&<>\r\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
const ATTR_CHECK = /[&<'\t\n\r\x00-\x1F\uFFFE\uFFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function"
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !LONE_SURROGATE.test(s);
const ENCODER = new TextEncoder();

/**
 * Escapes `s` for text (`table` = TEXT_ESCAPE) or a single-quoted attribute value (ATTR_ESCAPE), refusing
 * what XML cannot carry. Most strings need nothing and are returned as they are.
 */
function escapeFor(s: string, check: RegExp, table: Uint8Array): string {
  if (!isWellFormed(s)) throw new XmlSerializeError("lone surrogate in a string: it has no UTF-8 encoding");
  if (!check.test(s)) return s;
  let out = "";
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      const k = table[c]!;
      if (k === 0) continue;
      if (k === 2) throw new XmlSerializeError(`U+${c.toString(16).padStart(4, "0").toUpperCase()} cannot appear in XML`);
      out += s.slice(start, i) + ESCAPES[c]!;
      start = i + 1;
    } else if (c >= 0xfffe) {
      throw new XmlSerializeError(`U+${c.toString(16).toUpperCase()} cannot appear in XML`);
    }
  }
  return out + s.slice(start);
}

/**
 * Writes XML into a growing byte buffer: names checked, text and attribute values escaped, namespace
 * declarations minimal for the given context. Markup is assembled as a string (escaping only the strings
 * that need it, found by one native regex test each) and UTF-8-encoded once per call, natively, straight
 * into the buffer with `TextEncoder.encodeInto`. Reuse one writer per connection; {@link take} hands out
 * the bytes written so far.
 *
 * Lone surrogates, C0 control characters, U+FFFE/U+FFFF and invalid names are refused with an
 * {@link XmlSerializeError}; a call that throws writes nothing, so the output is always well-formed.
 */
export class XmlWriter {
  private out: Uint8Array;
  private len = 0;
  /** Markup written but not yet encoded into `out`. */
  private acc = "";
  private readonly validNames = new Set<string>();

  constructor(initialCapacity = 4096) {
    this.out = new Uint8Array(initialCapacity);
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    this.flush();
    return this.len;
  }

  /** Discards what was written and not taken. */
  reset(): void {
    this.len = 0;
    this.acc = "";
  }

  /** Returns a copy of the bytes written so far and empties the writer. */
  take(): Uint8Array {
    this.flush();
    const bytes = this.out.slice(0, this.len);
    this.len = 0;
    return bytes;
  }

  /** Writes a string of markup as is (ASCII only; for fixed protocol text such as `</stream:stream>`). */
  raw(ascii: string): this {
    if (/[^\x00-\x7F]/.test(ascii)) throw new XmlSerializeError("raw() takes ASCII only");
    this.acc += ascii;
    return this;
  }

  /** Writes escaped character data. */
  text(s: string): this {
    this.acc += escapeFor(s, TEXT_CHECK, TEXT_ESCAPE);
    return this;
  }

  /** Writes an element and its descendants. Iterative: depth is bounded by memory, not the call stack. */
  element(el: XmlElement, context: NamespaceContext = EMPTY_CONTEXT): this {
    const before = this.acc;
    try {
      const stack: Frame[] = [];
      let frame: Frame | undefined = this.open(el, contextScope(context), stack);
      while (frame !== undefined) {
        const children = frame.el.children;
        if (frame.index < children.length) {
          const child = children[frame.index++]!;
          if (typeof child === "string") this.acc += escapeFor(child, TEXT_CHECK, TEXT_ESCAPE);
          else {
            const next = this.open(child, frame.scope, stack);
            if (next !== undefined) frame = next;
          }
          continue;
        }
        this.acc += `</${frame.qname}>`;
        stack.pop();
        frame = stack[stack.length - 1];
      }
    } catch (error) {
      this.acc = before;
      throw error;
    }
    return this;
  }

  /**
   * Writes a start tag only (no children, no end tag): for a stream header, whose end tag comes when the
   * stream closes. `declare` lists namespace declarations to write on it; the returned context is what is
   * in scope for its children.
   */
  startTag(el: XmlElement, declare: NamespaceContext, prefix = ""): NamespaceContext {
    const before = this.acc;
    try {
      const qname = prefix === "" ? this.checkName(el.name) : `${this.checkName(prefix)}:${this.checkName(el.name)}`;
      this.acc += `<${qname}`;
      const prefixes = new Map(declare.prefixes ?? []);
      if (declare.defaultNs !== "") this.attr("xmlns", declare.defaultNs);
      for (const [p, uri] of prefixes) this.attr(`xmlns:${this.checkName(p)}`, uri);
      const bindings: string[] = [];
      for (const [p, uri] of prefixes) bindings.push(p, uri);
      this.attributes(el, bindings);
      this.acc += ">";
      return { defaultNs: declare.defaultNs, prefixes };
    } catch (error) {
      this.acc = before;
      throw error;
    }
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
    this.acc += `<${qname}`;
    if (declareDefault) this.attr("xmlns", el.ns);
    let bindings = scope.bindings;
    if (el._attrs.length > 0) bindings = this.attributes(el, bindings);
    if (el.children.length === 0) {
      this.acc += "/>";
      return undefined;
    }
    this.acc += ">";
    const childScope: WriteScope =
      defaultNs === scope.defaultNs && bindings === scope.bindings ? scope : { defaultNs, bindings };
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
        this.attr(name, value);
        continue;
      }
      if (ns === NS_XML) {
        this.attr(`xml:${name}`, value);
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
        this.attr(`xmlns:${prefix}`, ns);
      }
      this.attr(`${prefix}:${name}`, value);
    }
    return bindings;
  }

  private attr(qname: string, value: string): void {
    this.acc += ` ${qname}='${escapeFor(value, ATTR_CHECK, ATTR_ESCAPE)}'`;
  }

  private checkName(name: string): string {
    if (this.validNames.has(name)) return name;
    if (!NCNAME.test(name)) throw new XmlSerializeError(`'${name}' is not a valid XML name`);
    if (this.validNames.size > 4096) this.validNames.clear();
    this.validNames.add(name);
    return name;
  }

  /** Encodes pending markup into the byte buffer. */
  private flush(): void {
    const s = this.acc;
    if (s === "") return;
    this.acc = "";
    const need = this.len + s.length * 3; // UTF-8 needs at most 3 bytes per UTF-16 unit
    if (need > this.out.length) {
      const grown = new Uint8Array(Math.max(need, this.out.length * 2));
      grown.set(this.out.subarray(0, this.len));
      this.out = grown;
    }
    this.len += ENCODER.encodeInto(s, this.out.subarray(this.len)).written;
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
