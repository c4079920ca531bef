import { NS_XML } from "./namespaces.js";
import { toXmlString } from "./serializer.js";

/** A child of an element: another element, or character data. */
export type XmlNode = XmlElement | string;

/** One attribute as seen through {@link XmlElement.attributes}. `ns` is `""` for unprefixed attributes. */
export interface XmlAttribute {
  /**
   * Namespace URI of the attribute: `""` unless it was written with a prefix (e.g. `xml:lang` → the XML namespace).
   */
  readonly ns: string;
  /** Local name, without any prefix. */
  readonly name: string;
  /** The value, with entity and character references already expanded. */
  readonly value: string;
}

/**
 * An XML element with namespace-aware names: `(ns, name)` is the identity, the prefix used on the wire is
 * not kept (the serializer chooses prefixes). Adjacent character data is merged into one string child.
 *
 * Namespace declarations are not attributes here: they are consumed by namespace resolution.
 *
 * @example
 * ```ts
 * const msg = xml("message", { xmlns: "jabber:client", to: "romeo@example.net", type: "chat" },
 *   xml("body", {}, "Art thou not Romeo?"));
 * msg.getChildText("body"); // "Art thou not Romeo?"  (children inherit the parent's namespace)
 * msg.attr("to");           // "romeo@example.net"
 * ```
 */
export class XmlElement {
  // The fields are `declare`d and set by the constructor alone: class fields would first be defined (as
  // undefined) by an initializer, then assigned — twice the work for every parsed element.
  /** Local name (no prefix). */
  declare name: string;
  /** Namespace URI; `""` means no namespace. */
  declare ns: string;
  /**
   * Attribute storage as flat triples `[ns, name, value, ns, name, value, …]`. Prefer the methods; the
   * layout is exposed for the parser and serializer, which are hot paths.
   * @internal
   */
  declare _attrs: string[];
  /** Child nodes in document order. Text nodes are strings; adjacent text is one string. */
  declare children: XmlNode[];
  /**
   * True when the namespace was not given and is taken from the parent this element is appended to
   * (builder convenience). Parsed elements never have it.
   * @internal
   */
  declare _inheritNs: boolean;

  constructor(name: string, ns = "", attrs?: Readonly<Record<string, string | undefined>> | null, children?: readonly XmlNode[]) {
    this.name = name;
    this.ns = ns;
    if (handoff !== undefined) {
      this._attrs = handoff;
      handoff = undefined;
    } else this._attrs = [];
    this.children = [];
    this._inheritNs = false;
    if (attrs) {
      for (const key of Object.keys(attrs)) {
        const value = attrs[key];
        if (value !== undefined) this.setAttr(key, value);
      }
    }
    if (children) this.append(...children);
  }

  /** True when this element has the given local name and namespace. */
  is(name: string, ns: string = this.ns): boolean {
    return this.name === name && this.ns === ns;
  }

  /**
   * The value of an attribute, or `undefined`. `xml:lang` may be asked for as `attr("xml:lang")` or
   * `attr("lang", NS_XML)`.
   */
  attr(name: string, ns = ""): string | undefined {
    if (ns === "" && name === "xml:lang") {
      ns = NS_XML;
      name = "lang";
    }
    const a = this._attrs;
    for (let i = 0; i < a.length; i += 3) {
      if (a[i + 1] === name && a[i] === ns) return a[i + 2];
    }
    return undefined;
  }

  /** True when the attribute is present. */
  hasAttr(name: string, ns = ""): boolean {
    return this.attr(name, ns) !== undefined;
  }

  /**
   * Sets (or with `undefined`, removes) an attribute. The key `xmlns` sets the element's namespace;
   * `xml:lang` is stored in the XML namespace. Returns `this` for chaining.
   */
  setAttr(name: string, value: string | undefined, ns = ""): this {
    if (ns === "") {
      if (name === "xmlns") {
        if (value !== undefined) {
          this.ns = value;
          this._inheritNs = false;
        }
        return this;
      }
      if (name === "xml:lang") {
        ns = NS_XML;
        name = "lang";
      }
    }
    const a = this._attrs;
    for (let i = 0; i < a.length; i += 3) {
      if (a[i + 1] === name && a[i] === ns) {
        if (value === undefined) a.splice(i, 3);
        else a[i + 2] = value;
        return this;
      }
    }
    if (value !== undefined) a.push(ns, name, value);
    return this;
  }

  /** Removes an attribute if present. Returns `this`. */
  removeAttr(name: string, ns = ""): this {
    return this.setAttr(name, undefined, ns);
  }

  /** Number of attributes (namespace declarations are not attributes). */
  get attrCount(): number {
    return this._attrs.length / 3;
  }

  /** All attributes, in document order. */
  attributes(): XmlAttribute[] {
    const out: XmlAttribute[] = [];
    const a = this._attrs;
    for (let i = 0; i < a.length; i += 3) out.push({ ns: a[i]!, name: a[i + 1]!, value: a[i + 2]! });
    return out;
  }

  /** Unprefixed attributes as a plain object (with a `null` prototype, so `__proto__` is an ordinary key). */
  attrsObject(): Record<string, string> {
    const out: Record<string, string> = Object.create(null);
    const a = this._attrs;
    for (let i = 0; i < a.length; i += 3) if (a[i] === "") out[a[i + 1]!] = a[i + 2]!;
    return out;
  }

  /**
   * Appends children. Strings are merged with adjacent text; `null`/`undefined`/`false` are skipped so
   * conditional children read naturally. Elements built without a namespace take this element's.
   */
  append(...nodes: ReadonlyArray<XmlNode | null | undefined | false>): this {
    for (const node of nodes) appendNode(this, node);
    return this;
  }

  /**
   * Gives this element, and every descendant that was built without a namespace, the namespace `ns`.
   * The session core calls this on stanzas built without `xmlns` so they land in the stream's content
   * namespace.
   */
  adoptNamespace(ns: string): this {
    // The stack is made only for a tree with more than one level to visit (a stanza with a payload that
    // has children); a flat one (every stanza sent) costs no array.
    let stack: XmlElement[] | undefined;
    for (let el: XmlElement | undefined = this; el !== undefined; el = stack?.pop()) {
      if (!el._inheritNs) continue;
      el.ns = ns;
      el._inheritNs = false;
      for (const child of el.children) {
        if (typeof child === "string" || !child._inheritNs) continue;
        if (child.children.length === 0) {
          child.ns = ns;
          child._inheritNs = false;
        } else (stack ??= []).push(child);
      }
    }
    return this;
  }

  /** The first child element with this name and namespace (default: this element's namespace). */
  getChild(name: string, ns: string = this.ns): XmlElement | undefined {
    for (const child of this.children) {
      if (typeof child !== "string" && child.name === name && child.ns === ns) return child;
    }
    return undefined;
  }

  /** All child elements with this name and namespace (default: this element's namespace). */
  getChildren(name: string, ns: string = this.ns): XmlElement[] {
    const out: XmlElement[] = [];
    for (const child of this.children) {
      if (typeof child !== "string" && child.name === name && child.ns === ns) out.push(child);
    }
    return out;
  }

  /** The first child element in the given namespace, whatever its name. */
  getChildByNs(ns: string): XmlElement | undefined {
    for (const child of this.children) if (typeof child !== "string" && child.ns === ns) return child;
    return undefined;
  }

  /** Text of the first matching child element, or `undefined` when there is no such child. */
  getChildText(name: string, ns: string = this.ns): string | undefined {
    return this.getChild(name, ns)?.text();
  }

  /** Child elements only, in order. */
  elements(): XmlElement[] {
    const out: XmlElement[] = [];
    for (const child of this.children) if (typeof child !== "string") out.push(child);
    return out;
  }

  /** The first child element, or `undefined`. */
  firstElement(): XmlElement | undefined {
    for (const child of this.children) if (typeof child !== "string") return child;
    return undefined;
  }

  /** Concatenated character data of the direct children (not of descendants). */
  text(): string {
    const c = this.children;
    if (c.length === 1 && typeof c[0] === "string") return c[0];
    let s = "";
    for (const child of c) if (typeof child === "string") s += child;
    return s;
  }

  /** A deep copy. Iterative, so deep trees cannot overflow the stack. */
  clone(): XmlElement {
    const shallow = (el: XmlElement): XmlElement => {
      const copy = createElement(el.name, el.ns, el._attrs.slice());
      copy._inheritNs = el._inheritNs;
      return copy;
    };
    const root = shallow(this);
    const stack: XmlElement[] = [this, root];
    while (stack.length > 0) {
      const copy = stack.pop()!;
      const orig = stack.pop()!;
      const children = orig.children;
      const out: XmlNode[] = new Array(children.length);
      for (let i = 0; i < children.length; i++) {
        const c = children[i]!;
        if (typeof c === "string") out[i] = c;
        else {
          const cc = shallow(c);
          out[i] = cc;
          stack.push(c, cc);
        }
      }
      copy.children = out;
    }
    return root;
  }

  /**
   * The element serialized as XML text (what would go on the wire, with the namespace declarations it
   * needs), so `String(stanza)`, `${stanza}` and `console.log(String(stanza))` show the XML. A tree the
   * serializer refuses (e.g. a lone surrogate in its text) gives a one-line description instead of
   * throwing. Defined on the prototype: parsing stays as fast as before.
   *
   * @example
   * ```ts
   * String(xml("presence", { type: "unavailable" })); // "<presence type='unavailable'/>"
   * ```
   */
  toString(): string {
    try {
      return toXmlString(this);
    } catch (err) {
      return `[XmlElement <${this.name}> not serializable: ${(err as Error)?.message ?? String(err)}]`;
    }
  }

  /**
   * Deep structural equality: names, namespaces, attributes as a set, and children in order (text
   * compared after merging). Iterative, so deep trees cannot overflow the stack.
   */
  equals(other: XmlElement): boolean {
    const stack: Array<[XmlElement, XmlElement]> = [[this, other]];
    for (let pair = stack.pop(); pair !== undefined; pair = stack.pop()) {
      const [a, b] = pair;
      if (a.name !== b.name || a.ns !== b.ns || a._attrs.length !== b._attrs.length) return false;
      for (let i = 0; i < a._attrs.length; i += 3) {
        if (b.attr(a._attrs[i + 1]!, a._attrs[i]!) !== a._attrs[i + 2]) return false;
      }
      const ac = normalizedChildren(a);
      const bc = normalizedChildren(b);
      if (ac.length !== bc.length) return false;
      for (let i = 0; i < ac.length; i++) {
        const x = ac[i]!;
        const y = bc[i]!;
        if (typeof x === "string" || typeof y === "string") {
          if (x !== y) return false;
        } else stack.push([x, y]);
      }
    }
    return true;
  }
}

function normalizedChildren(el: XmlElement): XmlNode[] {
  const out: XmlNode[] = [];
  for (const child of el.children) {
    if (typeof child === "string") {
      if (child === "") continue;
      const last = out.length - 1;
      if (last >= 0 && typeof out[last] === "string") out[last] += child;
      else out.push(child);
    } else out.push(child);
  }
  return out;
}

/** Attribute storage for the next element built by {@link createElement} (saves a throw-away array). */
let handoff: string[] | undefined;

/**
 * An element with the given flat attribute triples as its storage (taken, not copied): the parser's and
 * `clone()`'s fast path. Not exported from the package.
 * @internal
 */
export function createElement(name: string, ns: string, attrs: string[]): XmlElement {
  handoff = attrs;
  return new XmlElement(name, ns);
}

/** Children accepted by {@link xml}: nodes, arrays of nodes, and skipped `null`/`undefined`/`false`. */
export type XmlChildInput = XmlNode | null | undefined | false | ReadonlyArray<XmlNode | null | undefined | false>;

/**
 * Builds an element. `attrs.xmlns` sets the namespace; without it the element takes the namespace of the
 * element it is appended to (or, for a top-level stanza, the stream's content namespace when sent).
 *
 * @example
 * ```ts
 * xml("iq", { type: "get", id: "r1" }, xml("query", { xmlns: "jabber:iq:roster" }));
 * ```
 */
export function xml(name: string, attrs?: Readonly<Record<string, string | undefined>> | null, ...children: XmlChildInput[]): XmlElement {
  const el = new XmlElement(name, "");
  el._inheritNs = true;
  if (attrs) {
    for (const key of Object.keys(attrs)) {
      const value = attrs[key];
      if (value !== undefined) el.setAttr(key, value);
    }
  }
  for (const child of children) {
    if (Array.isArray(child)) el.append(...(child as ReadonlyArray<XmlNode | null | undefined | false>));
    else appendNode(el, child as XmlNode | null | undefined | false);
  }
  return el;
}

/** `el.append(node)` for one node, without the rest-parameter array (what `xml()` does per child). */
function appendNode(el: XmlElement, node: XmlNode | null | undefined | false): void {
  if (node === null || node === undefined || node === false) return;
  const children = el.children;
  if (typeof node === "string") {
    if (node === "") return;
    const last = children.length - 1;
    if (last >= 0 && typeof children[last] === "string") children[last] += node;
    else children.push(node);
    return;
  }
  // A parent that is itself still waiting for a namespace passes it on when it gets one.
  if (node._inheritNs && !el._inheritNs) node.adoptNamespace(el.ns);
  children.push(node);
}
