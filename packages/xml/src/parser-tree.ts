import { createElement, type XmlElement } from "./element.js";
import { NS_STREAMS, NS_XML, NS_XMLNS } from "./namespaces.js";
import type { StreamOpenEvent } from "./parser-types.js";
import { HEADER_PLACEHOLDER, HEADER_STACK, headerScope, ROOT_SCOPE, SCAN_BINDINGS, type Scope, STREAM_BINDINGS, UNUSED } from "./scope.js";
import { appendChild, CONTINUE, findDuplicate, RAW_ATTRS, type Step } from "./parser-shared.js";
import { ParserText } from "./parser-text.js";

/**
 * The element tree and namespace scope: resolving a parsed tag's names against the bindings in scope,
 * placing the element in its parent (or reporting it), and closing it.
 */
export abstract class ParserTree extends ParserText {
  /** Resolves namespaces for the tag just parsed and puts the element in place. */
  protected openElement(qname: string, prefix: string, local: string, selfClosing: boolean, after: number, n: number): Step {
    const raw = RAW_ATTRS;
    // Do not keep many strings alive through the shared scratch array after an unusually large tag.
    if (raw.length > 3 * 64) raw.length = n;
    const tagOffset = this.tokenStart;
    // Namespace declarations first: they apply to the element's own name and attributes.
    let scope = this.scope;
    let declared: string[] | undefined;
    let defaultNs = scope.defaultNs;
    let hasPrefixedAttr = false;
    for (let k = 0; k < n; k += 3) {
      const p = raw[k]!;
      const name = raw[k + 1]!;
      if (p === "" && name === "xmlns") {
        const uri = raw[k + 2]!;
        if (uri === NS_XML || uri === NS_XMLNS) return this.fail("not-well-formed", `namespace '${uri}' cannot be the default namespace`, tagOffset);
        defaultNs = uri;
        (declared ??= []).push("", uri);
      } else if (p === "xmlns") {
        const uri = raw[k + 2]!;
        if (name === "xmlns") return this.fail("not-well-formed", "the 'xmlns' prefix cannot be declared", tagOffset);
        if (name === "xml" ? uri !== NS_XML : uri === NS_XML || uri === NS_XMLNS) {
          return this.fail("not-well-formed", `prefix '${name}' cannot be bound to '${uri}'`, tagOffset);
        }
        if (uri === "") return this.fail("not-well-formed", `prefix '${name}' cannot be undeclared in XML 1.0`, tagOffset);
        (declared ??= []).push(name, uri);
      } else if (p !== "") hasPrefixedAttr = true;
    }
    // Duplicate raw names (XML 1.0 §3.1, "Unique Att Spec").
    const dupRaw = findDuplicate(raw, n);
    if (dupRaw >= 0) {
      return this.fail("not-well-formed", `duplicate attribute '${raw[dupRaw] ? `${raw[dupRaw]}:` : ""}${raw[dupRaw + 1]}'`, tagOffset);
    }
    if (declared !== undefined) {
      for (let k = 0; k < declared.length; k += 2) if (declared[k] !== "") this.bind(declared[k]!, declared[k + 1]!);
      scope = { defaultNs, top: this.bindingCount };
    }

    let ns: string;
    if (prefix === "") ns = scope.defaultNs;
    else {
      const uri = this.lookupPrefix(prefix);
      if (uri === undefined) {
        return this.depth === 0 && this.top === 1
          ? this.fail("bad-namespace-prefix", `the stream header uses the undeclared prefix '${prefix}'`, tagOffset)
          : this.fail("not-well-formed", `undeclared namespace prefix '${prefix}'`, tagOffset);
      }
      if (prefix === "xmlns") return this.fail("not-well-formed", "elements cannot use the 'xmlns' prefix", tagOffset);
      ns = uri;
    }

    const attrs: string[] = [];
    for (let k = 0; k < n; k += 3) {
      const p = raw[k]!;
      const name = raw[k + 1]!;
      if (p === "") {
        if (name !== "xmlns") attrs.push("", name, raw[k + 2]!);
        continue;
      }
      if (p === "xmlns") continue;
      const uri = this.lookupPrefix(p);
      if (uri === undefined) return this.fail("not-well-formed", `undeclared namespace prefix '${p}' on attribute '${name}'`, tagOffset);
      attrs.push(uri, name, raw[k + 2]!);
    }
    if (hasPrefixedAttr) {
      // Duplicates after expansion: `a:x` and `b:x` with a and b bound to one URI (Namespaces §6.3).
      const dup = findDuplicate(attrs, attrs.length);
      if (dup >= 0) {
        return this.fail("not-well-formed", `duplicate attribute '{${attrs[dup]}}${attrs[dup + 1]}' after namespace expansion`, tagOffset);
      }
    }
    const el = createElement(local, ns, attrs);
    this.pos = after;

    const depth = this.depth;
    if (depth === 0 && this.top === 1) {
      // The stream header. Its children are reported one by one, never kept.
      const namespaces = new Map<string, string>();
      if (declared) for (let k = 0; k < declared.length; k += 2) namespaces.set(declared[k]!, declared[k + 1]!);
      this.windowStart = -1;
      const event: StreamOpenEvent = { kind: "stream-open", element: el, prefix, namespaces };
      if (selfClosing) {
        this.closed = true;
        this.pendingClose = true;
        this.unbind(this.scope.top);
        return event;
      }
      // The header is the caller's (in the event); the stack only needs its name and scope — an array of
      // exactly those (an idle parser keeps it), with the usual header scope shared.
      this.stack = qname === HEADER_STACK[1] && this.scope === ROOT_SCOPE ? HEADER_STACK : [HEADER_PLACEHOLDER, qname, this.scope];
      this.scope = headerScope(scope);
      this.depth = 1;
      return event;
    }
    const step = this.place(el, qname, scope, selfClosing, tagOffset);
    // A self-closing element's declarations end with it.
    if (selfClosing && this.bindingCount > this.scope.top) this.unbind(this.scope.top);
    return step;
  }

  /** The URI bound to `prefix` where the tag being parsed is, or undefined. */
  protected lookupPrefix(prefix: string): string | undefined {
    if (prefix === "xml") return NS_XML;
    const b = this.bindings;
    const index = this.bindingIndex;
    if (index !== undefined) {
      const k = index.innermost.get(prefix);
      return k === undefined ? undefined : b[2 * k + 1];
    }
    for (let k = 2 * this.bindingCount - 2; k >= 0; k -= 2) if (b[k] === prefix) return b[k + 1];
    return undefined;
  }

  /** Binds `prefix` to `uri` (innermost). */
  protected bind(prefix: string, uri: string): void {
    const k = this.bindingCount++;
    let b = this.bindings;
    if (2 * k + 2 > b.length) {
      // Grown by hand: an idle parser keeps an array of exactly the header's bindings.
      const grown: string[] = new Array(Math.max(2, 4 * k));
      for (let j = 0; j < 2 * k; j++) grown[j] = b[j]!;
      b = this.bindings = grown;
    }
    if (k === 0 && uri === NS_STREAMS && prefix === "stream" && this.bindingIndex === undefined) {
      // The usual stream header: the shared array (the constants, not slices of the input).
      this.bindings = STREAM_BINDINGS;
      return;
    }
    b[2 * k] = prefix;
    // The stream header's bindings live as long as the stream: keep the constant, not a slice of the input.
    b[2 * k + 1] = uri === NS_STREAMS ? NS_STREAMS : uri;
    const index = this.bindingIndex;
    if (index !== undefined) {
      index.shadowed[k] = index.innermost.get(prefix) ?? -1;
      index.innermost.set(prefix, k);
    } else if (k >= SCAN_BINDINGS) {
      // Many bindings in scope: index them all, once (until few are left, see closeElement).
      const innermost = new Map<string, number>();
      const shadowed: number[] = [];
      for (let j = 0; j <= k; j++) {
        shadowed[j] = innermost.get(b[2 * j]!) ?? -1;
        innermost.set(b[2 * j]!, j);
      }
      this.bindingIndex = { innermost, shadowed };
    }
  }

  /** Undoes the bindings above the first `top` (an element's declarations, as it ends). */
  protected unbind(top: number): void {
    if (this.bindings === STREAM_BINDINGS) this.bindings = STREAM_BINDINGS.slice(); // never written to
    const b = this.bindings;
    const index = this.bindingIndex;
    for (let k = this.bindingCount - 1; k >= top; k--) {
      if (index !== undefined) {
        const prev = index.shadowed[k]!;
        if (prev < 0) index.innermost.delete(b[2 * k]!);
        else index.innermost.set(b[2 * k]!, prev);
      }
      b[2 * k] = b[2 * k + 1] = UNUSED;
    }
    this.bindingCount = top;
  }

  /** After a top-level element: gives back what its many bindings took. */
  protected shrinkBindings(): void {
    const n = this.bindingCount;
    if (this.bindings.length > Math.max(4 * SCAN_BINDINGS, 4 * n)) this.bindings = this.bindings.slice(0, 2 * n);
    const index = this.bindingIndex;
    if (n <= SCAN_BINDINGS) this.bindingIndex = undefined;
    else if (index !== undefined && index.shadowed.length > 2 * n) index.shadowed.length = n;
  }

  /** Puts a new element (not the stream header) into the tree: appended to its parent, or reported. */
  protected place(el: XmlElement, qname: string, scope: Scope, selfClosing: boolean, tagOffset: number): Step {
    const depth = this.depth;
    if (depth - this.top + 1 > this.limits.maxDepth) {
      return this.fail("policy-violation", `elements nested deeper than ${this.limits.maxDepth}`, tagOffset);
    }
    if (depth === this.top) this.elementCount = 0;
    if (++this.elementCount > this.limits.maxElements) {
      return this.fail("policy-violation", `more than ${this.limits.maxElements} elements in one stanza`, tagOffset);
    }
    if (depth > this.top) {
      const parent = this.stack[(depth - 1) * 3] as XmlElement;
      if (this.text !== "") {
        appendChild(parent, this.text);
        this.text = "";
      }
      appendChild(parent, el);
    }
    this.bracketCarry = 0;
    this.crPending = false;
    if (selfClosing) {
      if (depth === this.top) {
        this.elementStart = this.windowStart;
        this.elementEnd = this.base + this.pos;
        this.windowStart = -1;
        return { kind: "element", element: el };
      }
      return CONTINUE;
    }
    this.push1(el, qname, scope);
    return CONTINUE;
  }

  protected push1(el: XmlElement, qname: string, scope: Scope): void {
    let stack = this.stack;
    if (stack === HEADER_STACK) stack = this.stack = HEADER_STACK.slice(); // shared: never written to
    const at = this.depth * 3;
    stack[at] = el;
    stack[at + 1] = qname;
    stack[at + 2] = this.scope;
    this.scope = scope;
    this.depth++;
  }

  /** Closes the innermost open element; the next byte to parse is at `after`. */
  protected closeElement(after: number): Step {
    const depth = this.depth;
    const stack = this.stack;
    // Slots above the depth are cleared, not removed: the stack keeps its length for the next element.
    const at = (depth - 1) * 3;
    const el = stack[at] as XmlElement;
    const scope = stack[at + 2] as Scope;
    this.scope = scope;
    if (this.bindingCount > scope.top) this.unbind(scope.top);
    if (stack === HEADER_STACK) this.stack = []; // the stream's end: the shared stack is never written to
    else stack[at] = stack[at + 1] = stack[at + 2] = UNUSED;
    this.depth = depth - 1;
    this.pos = after;
    if (this.text !== "") {
      appendChild(el, this.text);
      this.text = "";
    }
    this.bracketCarry = 0;
    this.crPending = false;
    if (depth - 1 === this.top) {
      this.elementStart = this.windowStart;
      this.elementEnd = this.base + after;
      this.windowStart = -1;
      // Give back what an unusually deep element took.
      if (stack.length > 3 * 16) stack.length = depth * 3;
      if (this.bindingIndex !== undefined || this.bindings.length > 4 * SCAN_BINDINGS) this.shrinkBindings();
      return { kind: "element", element: el };
    }
    if (depth === 1 && this.top === 1) {
      this.closed = true;
      this.windowStart = -1;
      return { kind: "stream-close" };
    }
    return CONTINUE;
  }
}
