import { AsciiInterner } from "./chars.js";
import type { XmlElement } from "./element.js";
import type { ParseEvent } from "./parser-types.js";

// Internal step results; events are objects, so these numbers never collide with them.
export const NEED_MORE = 0;
export const CONTINUE = 1;
export const SLOW = 2; // the fast path declined: parse the next token in JavaScript
export type Step = typeof NEED_MORE | typeof CONTINUE | typeof SLOW | ParseEvent;

// Token kinds that are being scanned for their end across calls.
export const SCAN_NONE = 0;
export const SCAN_TAG = 1; // start tag, end tag or XML declaration: looking for `>` outside quotes
export const SCAN_CDATA = 2; // looking for `]]>`

// Results of the direct token parsers.
export const INCOMPLETE = -1;
export const FAILED = -2;

export const CDATA_OPEN = [0x3c, 0x21, 0x5b, 0x43, 0x44, 0x41, 0x54, 0x41, 0x5b]; // <![CDATA[
export const XML_DECL_OPEN = [0x3c, 0x3f, 0x78, 0x6d, 0x6c]; // <?xml

export const EMPTY = new Uint8Array(0);
/** Shared by all parsers: it only caches immutable strings, and keeps idle parsers small. */
export const INTERNER = new AsciiInterner();
export const NO_WORDS = new Int32Array(0);
/**
 * Scratch space for the attributes of the tag being parsed (raw prefix, local name, value), shared by all
 * parsers: a tag is parsed within one synchronous call that nothing can re-enter, and idle parsers then
 * carry no array of their own.
 */
export const RAW_ATTRS: string[] = [];

/**
 * The results the token scanners hand back besides their return value — scanName: the colon's index (or
 * -1) and whether the name is ASCII; reference(): the character; attributeValue(): the value. Shared by all
 * parsers (a token is parsed within one synchronous call nothing can re-enter): idle parsers carry none.
 */
export const R = { nameColon: -1, nameAscii: true, refValue: "", attrValue: "" };
/** Longest reference considered; `&#x10FFFF;` needs 10, the rest is room for leading zeros. */
export const MAX_REFERENCE_BYTES = 32;

/**
 * Index of the second of two triples `[ns-or-prefix, name, value]` with equal first two fields, or -1.
 * Pairwise for the usual handful of attributes; a set beyond that, so that an element with very many
 * attributes (when `maxAttributes` allows them) costs linear time, not quadratic.
 */
export function findDuplicate(t: readonly string[], n: number): number {
  if (n <= 16 * 3) {
    for (let k = 3; k < n; k += 3) {
      for (let m = 0; m < k; m += 3) if (t[m + 1] === t[k + 1] && t[m] === t[k]) return k;
    }
    return -1;
  }
  // NUL cannot occur in names or values, so it separates the two parts unambiguously.
  const seen = new Set<string>();
  for (let k = 0; k < n; k += 3) {
    const key = `${t[k]}\u0000${t[k + 1]}`;
    if (seen.has(key)) return k;
    seen.add(key);
  }
  return -1;
}

/** Appends a parsed child; a first child gets an array of its own size (a push would reserve 17 slots). */
export function appendChild(parent: XmlElement, child: XmlElement | string): void {
  const children = parent.children;
  if (children.length === 0) parent.children = [child];
  else children.push(child);
}

export function predefinedEntity(buf: Uint8Array, start: number, end: number): string | undefined {
  const n = end - start;
  const a = buf[start];
  const b = buf[start + 1];
  if (n === 2 && b === 0x74) {
    if (a === 0x6c) return "<";
    if (a === 0x67) return ">";
  }
  if (n === 3 && a === 0x61 && b === 0x6d && buf[start + 2] === 0x70) return "&";
  if (n === 4) {
    const c = buf[start + 2];
    const d = buf[start + 3];
    if (a === 0x71 && b === 0x75 && c === 0x6f && d === 0x74) return '"';
    if (a === 0x61 && b === 0x70 && c === 0x6f && d === 0x73) return "'";
  }
  return undefined;
}

export function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

export function hex(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, "0");
}
