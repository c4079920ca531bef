import { nameCharAscii, nameStartAscii } from "./chars.js";
import type { XmlElement } from "./element.js";
import { NS_XML, NS_XMLNS } from "./namespaces.js";

/**
 * The namespaces the receiver already has in scope where the element is written — for stanzas, those
 * declared on the stream header. Elements in `defaultNs` are written without `xmlns`; elements in a
 * namespace bound here to a prefix (e.g. `stream` → `http://etherx.jabber.org/streams`) use the prefix.
 */
export interface NamespaceContext {
  /** The default namespace in scope (`xmlns='…'`, e.g. `jabber:client` on a c2s stream); `""` for none. */
  readonly defaultNs: string;
  /** prefix → namespace URI */
  readonly prefixes?: ReadonlyMap<string, string>;
}

/** No namespaces in scope: what a standalone document or an RFC 7395 message starts from. */
export const EMPTY_CONTEXT: NamespaceContext = Object.freeze({ defaultNs: "" });

// Escape classes for ASCII: 0 = copy, 1 = escape, 2 = forbidden (C0 controls other than TAB/LF/CR).
const TEXT_ESCAPE = new Uint8Array(128);
const ATTR_ESCAPE = new Uint8Array(128);
/** The bytes of each escape, by the escaped character's code. */
const ESCAPES: Uint8Array[] = [];
for (let c = 0; c < 0x20; c++) TEXT_ESCAPE[c] = ATTR_ESCAPE[c] = 2;
TEXT_ESCAPE[0x09] = TEXT_ESCAPE[0x0a] = 0;
for (const [c, e] of [
  [0x26, "&amp;"],
  [0x3c, "&lt;"],
  [0x3e, "&gt;"],
  [0x27, "&apos;"],
  [0x09, "&#x9;"],
  [0x0a, "&#xA;"],
  [0x0d, "&#xD;"],
] as const) {
  ESCAPES[c] = Uint8Array.from(e, (ch) => ch.charCodeAt(0));
  ATTR_ESCAPE[c] = 1;
}
// Text: `>` is escaped so `]]>` can never appear; CR as a reference so it survives line-end normalisation.
TEXT_ESCAPE[0x26] = TEXT_ESCAPE[0x3c] = TEXT_ESCAPE[0x3e] = TEXT_ESCAPE[0x0d] = 1;
// Attribute values are written in single quotes; `"` and `>` need no escape there.
ATTR_ESCAPE[0x3e] = 0;
/** The longest escape: what one UTF-16 unit can grow to at most (UTF-8 needs 3 bytes for one unit). */
const MAX_EXPANSION = 6;

const NCNAME =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: code point ranges (XML NameChar), not composed characters
  /^[A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}][A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\u{10000}-\u{EFFFF}\-.0-9\u00B7\u0300-\u036F\u203F-\u2040]*$/u;

/** Error thrown when the application asks to serialize something that is not XML (a programming error). */
export class XmlSerializeError extends TypeError {
  override readonly name = "XmlSerializeError";
}

const NO_BINDINGS: readonly string[] = [];
/** The most a writer's buffer grows beyond what it must hold once {@link XmlWriter.takeShared} is used. */
const SHARED_SLAB_BYTES = 16 * 1024;
const NO_BYTES = new Uint8Array(0);

/**
 * The namespace bindings in scope while {@link XmlWriter.element} writes a tree, and its element stack.
 * Lookups take constant time and every declaration is undone in constant time when its element ends, so
 * writing stays linear in the output however many prefixes are in scope (scanning a list of bindings per
 * attribute made 60 levels × 32 declarations take seconds).
 *
 * Why this gives exactly what scanning `[prefix, uri, …]` from the innermost binding gave: the context's
 * prefixes are distinct (a map's keys), and the writer declares a prefix only for a URI that has none in
 * scope, taking `ns<n>` for the smallest `n` whose prefix is bound nowhere in scope — so no binding is
 * ever shadowed, and a URI has a declared prefix or context prefixes, never both. Declarations are undone
 * in reverse order, so the ones in scope always use the first `k` numbers the context does not, and the
 * next one is the first such number after the last.
 */
class WriterState {
  /** Five slots per open element: the element, the index of its next child, the default namespace and undo mark for its children, its prefix. */
  readonly stack: unknown[] = [];
  /** The context's bindings, flat `[prefix, uri, …]` (prefixes checked); the last one for a URI wins. */
  context: readonly string[] = NO_BINDINGS;
  /** The context's bindings by URI, when there are more than a few (else `context` is scanned). */
  contextByUri: Map<string, string> | undefined;
  /** The `n` of the context's own `ns<n>` prefixes, if it has any: declarations skip them. */
  taken: Set<number> | undefined;
  /** The writer's declarations in scope, URI → prefix. */
  readonly declared = new Map<string, string>();
  /** The URIs of the declarations in scope, in order, and their `n`; `top` of them. */
  readonly undo: Array<string | undefined> = [];
  readonly numbers: number[] = [];
  top = 0;
  /** The context map the base was made from (see {@link XmlWriter.contextBindings}). */
  lastPrefixes: ReadonlyMap<string, string> | undefined;

  /** Makes the context's bindings (flat `[prefix, uri, …]`, prefixes checked) the base; nothing may be declared. */
  setContext(bindings: readonly string[]): void {
    this.context = bindings;
    this.contextByUri = undefined;
    this.taken = undefined;
    if (bindings.length > 2 * 8) {
      const byUri = (this.contextByUri = new Map());
      for (let k = 0; k < bindings.length; k += 2) byUri.set(bindings[k + 1]!, bindings[k]!);
    }
    for (let k = 0; k < bindings.length; k += 2) {
      const n = generatedNumber(bindings[k]!);
      if (n > 0) (this.taken ??= new Set()).add(n);
    }
  }

  /** The innermost prefix bound to `uri`, if any. */
  prefixFor(uri: string): string | undefined {
    if (this.top > 0) {
      const p = this.declared.get(uri);
      if (p !== undefined) return p;
    }
    const byUri = this.contextByUri;
    if (byUri !== undefined) return byUri.get(uri);
    const c = this.context;
    for (let k = c.length - 1; k > 0; k -= 2) if (c[k] === uri) return c[k - 1];
    return undefined;
  }

  /** Declares a fresh prefix for `uri`, which has none in scope, and returns it. */
  declare(uri: string): string {
    const top = this.top;
    let n = top === 0 ? 1 : this.numbers[top - 1]! + 1;
    const taken = this.taken;
    if (taken !== undefined) while (taken.has(n)) n++;
    const prefix = `ns${n}`;
    this.undo[top] = uri;
    this.numbers[top] = n;
    this.top = top + 1;
    this.declared.set(uri, prefix);
    return prefix;
  }

  /** Undoes the declarations made after the first `mark`. */
  revert(mark: number): void {
    const undo = this.undo;
    for (let k = this.top - 1; k >= mark; k--) {
      this.declared.delete(undo[k]!);
      undo[k] = undefined;
    }
    this.top = mark;
  }
}

/** `n` if `p` is `ns<n>` as the writer spells it (`n` ≥ 1, no leading zero), else 0. */
function generatedNumber(p: string): number {
  if (p.length < 3 || p.charCodeAt(0) !== 0x6e || p.charCodeAt(1) !== 0x73) return 0;
  const digits = p.slice(2);
  return /^[1-9][0-9]{0,14}$/.test(digits) ? Number(digits) : 0;
}
/** Strings longer than this are escaped in pieces, so the buffer never grows to six times a huge string. */
const PIECE = 8192;

function forbidden(c: number): XmlSerializeError {
  if (c >= 0xd800 && c <= 0xdfff) return new XmlSerializeError("lone surrogate in a string: it has no UTF-8 encoding");
  return new XmlSerializeError(`U+${c.toString(16).padStart(4, "0").toUpperCase()} cannot appear in XML`);
}

function invalidName(s: string): XmlSerializeError {
  return new XmlSerializeError(`'${s}' is not a valid XML name`);
}

/**
 * Writes XML into a growing byte buffer: names checked, text and attribute values escaped, namespace
 * declarations minimal for the given context. Every string is escaped, checked and UTF-8-encoded in one
 * pass straight into the buffer. Reuse one writer per connection; {@link take} hands out the bytes
 * written so far.
 *
 * Lone surrogates, C0 control characters, U+FFFE/U+FFFF and invalid names are refused with an
 * {@link XmlSerializeError}; a call that throws writes nothing, so the output is always well-formed.
 */
export class XmlWriter {
  private out: Uint8Array;
  /** Where the next byte goes in `out`. */
  private len = 0;
  /**
   * Where the bytes not yet taken start in `out`: what lies before was handed out by {@link takeShared}
   * and is never written again. Positions move when the buffer is replaced (see {@link reserve}), so a
   * position kept across a write is kept relative to `base`.
   */
  private base = 0;
  private readonly initialCapacity: number;
  /**
   * Bindings in scope and the element stack of {@link element}; kept between calls (undefined during one,
   * and after {@link release}: made again when needed).
   */
  private state: WriterState | undefined;

  constructor(initialCapacity = 4096) {
    this.initialCapacity = initialCapacity;
    this.out = new Uint8Array(initialCapacity);
  }

  /**
   * Lets go of the output buffer and the namespace bookkeeping, if nothing is pending: for a connection
   * that has gone idle (an idle session then holds no output bytes). Writing again allocates them anew at
   * the initial capacity — also the way to shrink a buffer that grew for one large element.
   */
  release(): void {
    if (this.len !== this.base) return;
    this.out = NO_BYTES;
    this.len = this.base = 0;
    this.state = undefined;
  }

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.len - this.base;
  }

  /** Discards what was written and not taken. */
  reset(): void {
    this.len = this.base;
  }

  /** Returns a copy of the bytes written so far and empties the writer. */
  take(): Uint8Array {
    const bytes = this.out.slice(this.base, this.len);
    this.len = this.base;
    return bytes;
  }

  /**
   * Returns the bytes written so far without copying them — a view of the writer's buffer, whose bytes the
   * writer never writes again — and empties the writer. For output that is written out and dropped soon
   * (a connection's): the view keeps the buffer alive while it is held, and the writer moves on in the
   * rest of it, so a burst of small elements costs one buffer of up to 16 KiB, not one
   * allocation each.
   */
  takeShared(): Uint8Array {
    const bytes = this.out.subarray(this.base, this.len);
    this.base = this.len;
    return bytes;
  }

  /** Writes a string of markup as is (ASCII only; for fixed protocol text such as `</stream:stream>`). */
  raw(ascii: string): this {
    const n = ascii.length;
    const out = this.reserve(n);
    let p = this.len;
    for (let i = 0; i < n; i++) {
      const c = ascii.charCodeAt(i);
      if (c > 0x7f) throw new XmlSerializeError("raw() takes ASCII only");
      out[p++] = c;
    }
    this.len = p;
    return this;
  }

  /** Writes escaped character data. */
  text(s: string): this {
    this.len = this.escaped(s, TEXT_ESCAPE, 0);
    return this;
  }

  /** Writes an element and its descendants. Iterative: depth is bounded by memory, not the call stack. */
  element(el: XmlElement, context: NamespaceContext = EMPTY_CONTEXT): this {
    const start = this.len - this.base;
    // A fresh state if this call is nested in another (it cannot be, short of getters on the tree).
    const state = this.state ?? new WriterState();
    this.state = undefined;
    const st = state.stack;
    let top = 0;
    try {
      this.contextBindings(state, context.prefixes);
      top = this.open(el, context.defaultNs, state, 0);
      while (top > 0) {
        const f = top - 5;
        const parent = st[f] as XmlElement;
        const children = parent.children;
        const i = st[f + 1] as number;
        if (i < children.length) {
          st[f + 1] = i + 1;
          const child = children[i]!;
          if (typeof child === "string") this.len = this.escaped(child, TEXT_ESCAPE, 0);
          else top = this.open(child, st[f + 2] as string, state, top);
          continue;
        }
        this.endTag(st[f + 4] as string, parent.name);
        if (state.top > (st[f + 3] as number)) state.revert(st[f + 3] as number);
        st[f] = st[f + 2] = undefined;
        top = f;
      }
    } catch (error) {
      this.len = this.base + start;
      for (let k = 0; k < top; k += 5) st[k] = st[k + 2] = undefined;
      state.revert(0);
      throw error;
    } finally {
      this.state = state;
    }
    return this;
  }

  /**
   * Writes a start tag only (no children, no end tag): for a stream header, whose end tag comes when the
   * stream closes. `declare` lists namespace declarations to write on it; the returned context is what is
   * in scope for its children.
   */
  startTag(el: XmlElement, declare: NamespaceContext, prefix = ""): NamespaceContext {
    const start = this.len - this.base;
    try {
      if (prefix !== "") checkName(prefix);
      const prefixes = new Map(declare.prefixes ?? []);
      const bindings: string[] = [];
      for (const [p, uri] of prefixes) bindings.push(checkName(p), uri);
      this.tagStart(prefix, el.name);
      if (declare.defaultNs !== "") this.attr("", "xmlns", declare.defaultNs);
      for (let k = 0; k < bindings.length; k += 2) this.attr("xmlns", bindings[k]!, bindings[k + 1]!);
      const state = new WriterState();
      state.setContext(bindings);
      this.attributes(el, state);
      this.reserve(1)[this.len++] = 0x3e;
      return { defaultNs: declare.defaultNs, prefixes };
    } catch (error) {
      this.len = this.base + start;
      throw error;
    }
  }

  /**
   * Writes the start tag of `el` (or all of it, when it has no children) in the scope of its parent
   * (`defaultNs`, the bindings in `state`); pushes a level for its children at `top` and returns the new
   * top. The declarations it makes stay in `state` for its children, or are undone if it has none.
   */
  private open(el: XmlElement, defaultNs: string, state: WriterState, top: number): number {
    const ns = el.ns;
    let prefix = "";
    let declareDefault = false;
    if (ns === NS_XML) {
      // The XML namespace is always bound to `xml` and may not be declared otherwise (Namespaces §3).
      prefix = "xml";
    } else if (ns === NS_XMLNS) {
      throw new XmlSerializeError("no element can be in the xmlns namespace (Namespaces §3)");
    } else if (ns !== defaultNs) {
      const bound = ns === "" ? undefined : state.prefixFor(ns);
      if (bound !== undefined) prefix = bound;
      else {
        declareDefault = true;
        defaultNs = ns;
      }
    } else {
      // Equal, maybe not identical: children then compare with the element's own string (the same object
      // as theirs, for parsed trees), which is quicker.
      defaultNs = ns;
    }
    this.tagStart(prefix, el.name);
    if (declareDefault) this.attr("", "xmlns", ns);
    const mark = state.top;
    if (el._attrs.length > 0) this.attributes(el, state);
    if (el.children.length === 0) {
      const out = this.reserve(2);
      out[this.len] = 0x2f;
      out[this.len + 1] = 0x3e;
      this.len += 2;
      if (state.top > mark) state.revert(mark);
      return top;
    }
    this.reserve(1)[this.len++] = 0x3e;
    const st = state.stack;
    st[top] = el;
    st[top + 1] = 0;
    st[top + 2] = defaultNs;
    st[top + 3] = mark;
    st[top + 4] = prefix;
    return top + 5;
  }

  /** Writes the attributes, declaring prefixes (in `state`) for namespaced ones that have none in scope. */
  private attributes(el: XmlElement, state: WriterState): void {
    const a = el._attrs;
    for (let i = 0; i < a.length; i += 3) {
      const ns = a[i]!;
      const name = a[i + 1]!;
      const value = a[i + 2]!;
      if (ns === "") {
        this.attr("", name, value);
        continue;
      }
      if (ns === NS_XML) {
        this.attr("xml", name, value);
        continue;
      }
      // Declarations are made by the writer, never taken from attributes: that could rebind prefixes.
      if (ns === NS_XMLNS) throw new XmlSerializeError("attributes in the xmlns namespace cannot be serialized");
      let prefix = state.prefixFor(ns);
      if (prefix === undefined) {
        prefix = state.declare(ns);
        this.attr("xmlns", prefix, ns);
      }
      this.attr(prefix, name, value);
    }
  }

  /**
   * Makes the context's prefix bindings (prefixes checked) the base of `state`. The last ones are kept
   * and reused while the map holds exactly them (a connection passes the same context with every stanza).
   */
  private contextBindings(state: WriterState, prefixes: ReadonlyMap<string, string> | undefined): void {
    if (prefixes === undefined || prefixes.size === 0) {
      if (state.context.length !== 0) state.setContext(NO_BINDINGS);
      state.lastPrefixes = undefined;
      return;
    }
    const bindings = state.context;
    if (prefixes === state.lastPrefixes && prefixes.size * 2 === bindings.length) {
      let k = 0;
      while (k < bindings.length && prefixes.get(bindings[k]!) === bindings[k + 1]) k += 2;
      if (k === bindings.length) return;
    }
    const fresh: string[] = [];
    // A bad prefix throws before anything changes.
    for (const [p, uri] of prefixes) fresh.push(checkName(p), uri);
    // Where two prefixes share a URI the map's order picks one; the map could be reordered unseen.
    let unique = true;
    if (fresh.length <= 32) {
      for (let k = 1; k < fresh.length && unique; k += 2) unique = fresh.indexOf(fresh[k]!, k + 1) === -1;
    } else unique = new Set(prefixes.values()).size === prefixes.size;
    state.lastPrefixes = unique ? prefixes : undefined;
    state.setContext(fresh);
  }

  /** Writes `<prefix:name` (`<name` for an empty prefix), checking the name (the prefix is known valid). */
  private tagStart(prefix: string, name: string): void {
    const out = this.reserve(2 + 3 * (prefix.length + name.length));
    let p = this.len;
    out[p++] = 0x3c;
    if (prefix !== "") {
      p = writeName(out, p, prefix);
      out[p++] = 0x3a;
    }
    this.len = writeCheckedName(out, p, name);
  }

  /** Writes ` prefix:name='value'` (` name='value'` for an empty prefix), checking the name and escaping the value. */
  private attr(prefix: string, name: string, value: string): void {
    const n = value.length;
    const out = this.reserve(5 + 3 * (prefix.length + name.length) + (n <= PIECE ? n * MAX_EXPANSION : 0));
    let p = this.len;
    out[p++] = 0x20;
    if (prefix !== "") {
      p = writeName(out, p, prefix);
      out[p++] = 0x3a;
    }
    p = writeCheckedName(out, p, name);
    out[p++] = 0x3d;
    out[p++] = 0x27;
    if (n <= PIECE) {
      // The loop of writeEscaped, written out here: whether V8 inlines a call varies from process to
      // process, and this is the serializer's hottest loop.
      let i = 0;
      for (; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80 || ATTR_ESCAPE[c] !== 0) break;
        out[p++] = c;
      }
      if (i < n) p = writeEscapedRest(out, p, value, i, n, ATTR_ESCAPE);
      out[p] = 0x27;
    } else {
      p = this.escaped(value, ATTR_ESCAPE, p - this.len);
      const ahead = p - this.len;
      const buf = this.reserve(ahead + 1); // may move `len`
      p = this.len + ahead;
      buf[p] = 0x27;
    }
    this.len = p + 1;
  }

  private endTag(prefix: string, name: string): void {
    const out = this.reserve(4 + 3 * (prefix.length + name.length));
    let p = this.len;
    out[p++] = 0x3c;
    out[p++] = 0x2f;
    if (prefix !== "") {
      p = writeName(out, p, prefix);
      out[p++] = 0x3a;
    }
    p = writeName(out, p, name);
    out[p++] = 0x3e;
    this.len = p;
  }

  /**
   * The buffer, grown if needed to hold `n` more bytes after what is written. Growing copies everything
   * from `base` on (a call may have written ahead of `len`). After {@link takeShared} handed bytes out the
   * new buffer starts at `base` (`len` and `base` move; what was handed out stays in the old buffer), and
   * its size doubles up to `SHARED_SLAB_BYTES` beyond what it must hold.
   */
  private reserve(n: number): Uint8Array {
    const out = this.out;
    return this.len + n <= out.length ? out : this.grow(n);
  }

  /** {@link reserve} when the buffer is too small (kept apart so that `reserve` stays small enough to inline). */
  private grow(n: number): Uint8Array {
    const need = this.len + n;
    const old = this.out;
    const base = this.base;
    let grown: Uint8Array;
    if (base === 0) {
      grown = new Uint8Array(Math.max(need, old.length * 2, this.initialCapacity));
      grown.set(old);
    } else {
      grown = new Uint8Array(Math.max(need - base, Math.min(old.length * 2, SHARED_SLAB_BYTES), this.initialCapacity));
      grown.set(old.subarray(base));
      this.len -= base;
      this.base = 0;
    }
    this.out = grown;
    return grown;
  }

  /**
   * Writes `s` escaped by `table` (TEXT_ESCAPE or ATTR_ESCAPE) `ahead` bytes after what is written, and
   * returns where it ends; `len` is not moved, so a throw leaves the output as it was.
   */
  private escaped(s: string, table: Uint8Array, ahead: number): number {
    const n = s.length;
    if (n <= PIECE) return writeEscaped(this.reserve(ahead + n * MAX_EXPANSION), this.len + ahead, s, 0, n, table);
    let p = this.len + ahead;
    for (let i = 0; i < n; ) {
      let end = Math.min(n, i + PIECE);
      // A surrogate pair is not split between pieces.
      if (end < n && (s.charCodeAt(end - 1) & 0xfc00) === 0xd800) end++;
      const written = p - this.len;
      const buf = this.reserve(written + (end - i) * MAX_EXPANSION); // may move `len`
      p = writeEscaped(buf, this.len + written, s, i, end, table);
      i = end;
    }
    return p;
  }
}

/** Checks that `s` is an XML name without a colon (an NCName); returns it. */
function checkName(s: string): string {
  const n = s.length;
  if (n === 0 || s.charCodeAt(0) >= 0x80 || nameStartAscii[s.charCodeAt(0)] === 0) {
    if (!NCNAME.test(s)) throw invalidName(s);
    return s;
  }
  for (let i = 1; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      if (!NCNAME.test(s)) throw invalidName(s);
      return s;
    }
    if (nameCharAscii[c] === 0) throw invalidName(s);
  }
  return s;
}

/** Writes `s` at `p` if it is an XML name without a colon (an NCName), else throws; returns the end. */
function writeCheckedName(out: Uint8Array, p: number, s: string): number {
  const n = s.length;
  let c = n === 0 ? 0 : s.charCodeAt(0);
  if (c >= 0x80) return writeName(out, p, checkName(s));
  if (nameStartAscii[c] === 0) throw invalidName(s);
  out[p] = c;
  for (let i = 1; i < n; i++) {
    c = s.charCodeAt(i);
    if (c >= 0x80) return writeName(out, p, checkName(s));
    if (nameCharAscii[c] === 0) throw invalidName(s);
    out[p + i] = c;
  }
  return p + n;
}

/** Writes a checked name at `p` (room for three bytes a unit); returns the end. */
function writeName(out: Uint8Array, p: number, s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return writeEscaped(out, p - i, s, 0, n, TEXT_ESCAPE);
    out[p++] = c;
  }
  return p;
}

/**
 * Writes `s[from..to)` at `p`, escaped by `table` (TEXT_ESCAPE or ATTR_ESCAPE) and UTF-8-encoded,
 * refusing what XML cannot carry; returns the end. The caller has made room for six bytes a unit. Small,
 * so that V8 inlines it: the loop over ASCII that needs no escape is most of the work.
 */
function writeEscaped(out: Uint8Array, p: number, s: string, from: number, to: number, table: Uint8Array): number {
  let i = from;
  for (; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80 || table[c] !== 0) break;
    out[p++] = c;
  }
  return i === to ? p : writeEscapedRest(out, p, s, i, to, table);
}

/** {@link writeEscaped} from the first unit that is not plain ASCII. */
function writeEscapedRest(out: Uint8Array, p: number, s: string, from: number, to: number, table: Uint8Array): number {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      const k = table[c];
      if (k === 0) out[p++] = c;
      else if (k === 1) {
        const e = ESCAPES[c]!;
        for (let j = 0; j < e.length; j++) out[p++] = e[j]!;
      } else throw forbidden(c);
    } else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || (c >= 0xe000 && c < 0xfffe)) {
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    } else {
      const d = c < 0xdc00 && i + 1 < to ? s.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) throw forbidden(c);
      const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
      out[p++] = 0xf0 | (cp >> 18);
      out[p++] = 0x80 | ((cp >> 12) & 0x3f);
      out[p++] = 0x80 | ((cp >> 6) & 0x3f);
      out[p++] = 0x80 | (cp & 0x3f);
      i++;
    }
  }
  return p;
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
