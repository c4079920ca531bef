import { XmlElement } from "./element.js";
import { NS_STREAMS } from "./namespaces.js";

/**
 * Namespaces in effect below an element. Elements that declare nothing share their parent's. The prefix
 * bindings themselves are on the parser's binding stack (see {@link StreamParser.lookupPrefix}); `top` is
 * how many of them are in effect here.
 */
export interface Scope {
  readonly defaultNs: string;
  readonly top: number;
}

export const ROOT_SCOPE: Scope = { defaultNs: "", top: 0 };

/** A cleared slot of the element stack. */
export const UNUSED = "";
/** Up to this many prefix bindings in scope, a lookup scans them; beyond, they are indexed by a map. */
export const SCAN_BINDINGS = 8;
/** No bindings (shared: never written to; {@link StreamParser.bind} makes a parser its own array). */
export const NO_BINDINGS: string[] = [];
/**
 * The stream header's usual binding, `stream` → `http://etherx.jabber.org/streams`, alone in scope: shared
 * by every parser (never written to: a further binding grows a parser its own array, unbinding copies it).
 */
export const STREAM_BINDINGS: string[] = ["stream", NS_STREAMS];
/** The default namespaces of the usual stream headers: their scopes are shared ({@link headerScope}). */
const HEADER_NAMESPACES = ["jabber:client", "jabber:server", "jabber:component:accept", ""];
const HEADER_SCOPES: Scope[][] = HEADER_NAMESPACES.map(() => []);

/**
 * The stream header's scope: for the usual default namespaces and few bindings, one shared object per
 * (namespace, binding count) instead of one per parser — it lives as long as the stream.
 */
export function headerScope(scope: Scope): Scope {
  const i = HEADER_NAMESPACES.indexOf(scope.defaultNs);
  if (i < 0 || scope.top > 4) return scope;
  const shared = HEADER_SCOPES[i]!;
  return (shared[scope.top] ??= Object.freeze({ defaultNs: HEADER_NAMESPACES[i]!, top: scope.top }));
}

/** The index of many prefix bindings: prefix → its innermost binding; per binding the one it shadows, or -1. */
export interface BindingIndex {
  readonly innermost: Map<string, number>;
  readonly shadowed: number[];
}

/** Stands in for the stream header on the element stack: its children are never attached to it. */
export const HEADER_PLACEHOLDER = new XmlElement("stream", "");
/**
 * The element stack of a parser inside the usual stream header and between stanzas: shared by every such
 * parser, never written to (the first element copies it; see push1, closeElement, reset, trim).
 */
export const HEADER_STACK: Array<XmlElement | string | Scope> = [HEADER_PLACEHOLDER, "stream:stream", ROOT_SCOPE];
