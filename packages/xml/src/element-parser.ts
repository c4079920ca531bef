// A compact parser of one complete element (an RFC 7395 WebSocket message), for browser builds: the same
// rules, limits and error conditions as StreamParser in "fragments" framing, in one left-to-right pass over
// the message's bytes with none of the streaming machinery (chunk resumption, the fast path, buffer views).
// Every check is made at the byte where StreamParser makes it, so the first error found is the same one; a
// differential property test (test/element-parser.property.test.ts) holds the two to the same trees and
// the same conditions.
import {
  decodeCodePoint,
  isNameCodePoint,
  isNameStartCodePoint,
  isSpace,
  isXmlChar,
  nameCharAscii,
  nameStartAscii,
  UTF8_DECODER,
  UTF8_NONCHARACTER,
  UTF8_TRUNCATED,
  utf8Sequence,
} from "./chars.js";
import { createElement, type XmlElement } from "./element.js";
import type { XmlError, XmlErrorCondition } from "./errors.js";
import { NS_XML, NS_XMLNS } from "./namespaces.js";
import type { XmlLimits } from "./parser.js";

/** Thrown inside the parser when the message (or the element's byte window) ends inside a token. */
const MORE = 0;
/** A reference longer than this many bytes is refused (as in StreamParser). */
const MAX_REFERENCE = 32;
const CDATA_OPEN = "<![CDATA[";
const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

/**
 * Parses one RFC 7395 WebSocket message: exactly one complete element (`<open/>`, `<close/>` or a stanza),
 * optionally after a byte-order mark and an XML declaration, with whitespace around it. Returns the
 * element, or the error with the RFC 6120 §4.9.3 condition StreamParser gives for the same bytes (its
 * offset counts from the message's start). Never throws for bad input; linear in the message's length.
 */
export function parseElementMessage(buf: Uint8Array, limits: Readonly<XmlLimits>): XmlElement | XmlError {
  const len = buf.length;
  let i = 0;
  // The current top-level token's byte window: from its `<` (-1: none) to `end` = min(len, start + cap).
  let windowStart = -1;
  let end = len;
  // Where the token being read began: what a streaming parser would still hold when the input ran out.
  let token = 0;
  let first: XmlElement | undefined;
  let refValue = "";

  const fail = (condition: XmlErrorCondition, text: string, at = i): never => {
    throw { condition, text, offset: at } satisfies XmlError;
  };
  const more = (): never => {
    throw MORE;
  };
  // Strings are sliced from the message decoded once: a byte index maps to its UTF-16 index through a
  // cursor that counts lead bytes (a 4-byte lead is a surrogate pair), exact over the validated bytes
  // before it; slices are taken in (nearly always) increasing order.
  const whole = UTF8_DECODER.decode(buf);
  let cursorByte = 0;
  let cursorUnit = 0;
  const unit = (b: number): number => {
    if (b < cursorByte) cursorByte = cursorUnit = 0;
    for (; cursorByte < b; cursorByte++) {
      const c = buf[cursorByte]!;
      if (c < 0x80 || c >= 0xc0) cursorUnit += c >= 0xf0 ? 2 : 1;
    }
    return cursorUnit;
  };
  const str = (from: number, to: number): string => (from >= to ? "" : whole.slice(unit(from), unit(to)));
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(4, "0");
  const badUtf8 = (code: number, at: number): never =>
    fail("not-well-formed", code === UTF8_NONCHARACTER ? "U+FFFE/U+FFFF is not an XML character" : "invalid UTF-8", at);
  const spaces = (limit: number): void => {
    while (i < limit && isSpace(buf[i]!)) i++;
  };

  /** A (possibly prefixed) name at `i`; returns the index of its colon or -1, with `i` after the name. */
  const name = (): number => {
    const start = i;
    const maxEnd = Math.min(end, i + limits.maxNameLength + 1);
    let colon = -1;
    let atStart = true;
    while (i < maxEnd) {
      const c = buf[i]!;
      if (c < 0x80) {
        if (atStart ? nameStartAscii[c] : nameCharAscii[c]) atStart = false;
        else if (c === 0x3a && !atStart && colon < 0) {
          colon = i;
          atStart = true;
        } else break;
        i++;
        continue;
      }
      const n = utf8Sequence(buf, i, end);
      if (n === UTF8_TRUNCATED) more();
      if (n < 0) badUtf8(n, i);
      const cp = decodeCodePoint(buf, i, n);
      if (!(atStart ? isNameStartCodePoint(cp) : isNameCodePoint(cp))) break;
      atStart = false;
      i += n;
    }
    if (i - start > limits.maxNameLength) fail("policy-violation", `name longer than ${limits.maxNameLength} bytes`, start);
    if (i >= end) more();
    if (i === start) {
      const c = buf[i]!;
      fail("not-well-formed", isSpace(c) ? "whitespace where a name must start" : c >= 0x30 && c <= 0x39 ? "a name cannot start with a digit" : "invalid name");
    }
    if (atStart) fail("not-well-formed", colon === i - 1 ? "a name cannot end with ':'" : "invalid name");
    return colon;
  };

  /** The reference `&…;` at `at` into `refValue`; returns the index after it. */
  const reference = (at: number): number => {
    const maxEnd = Math.min(end, at + MAX_REFERENCE);
    const cut = maxEnd === end && maxEnd < at + MAX_REFERENCE;
    let j = at + 1;
    if (j >= maxEnd) return maxEnd === end ? more() : fail("not-well-formed", "malformed reference", at);
    if (buf[j] === 0x23) {
      const hexForm = ++j < maxEnd && buf[j] === 0x78;
      if (hexForm) j++;
      const digits = j;
      let cp = 0;
      for (; j < maxEnd; j++) {
        const d = buf[j]!;
        const v = d >= 0x30 && d <= 0x39 ? d - 0x30 : hexForm && d >= 0x61 && d <= 0x66 ? d - 0x57 : hexForm && d >= 0x41 && d <= 0x46 ? d - 0x37 : -1;
        if (v < 0) break;
        cp = Math.min(cp * (hexForm ? 16 : 10) + v, 0x110000);
      }
      if (j >= maxEnd && cut) more();
      if (j >= maxEnd || j === digits || buf[j] !== 0x3b) fail("not-well-formed", "malformed character reference", at);
      if (!isXmlChar(cp)) fail("not-well-formed", `character reference to ${cp > 0x10ffff ? "beyond U+10FFFF" : `U+${hex(cp)}`}, which is not an XML character`, at);
      refValue = String.fromCodePoint(cp);
      return j + 1;
    }
    const from = j;
    if (!nameStartAscii[buf[j]!] && buf[j]! < 0x80) fail("not-well-formed", "'&' that does not start a reference", at);
    while (j < maxEnd && buf[j] !== 0x3b && (nameCharAscii[buf[j]!] || buf[j] === 0x3a || buf[j]! >= 0x80)) j++;
    if (j >= maxEnd && cut) more();
    if (j < maxEnd && buf[j] !== 0x3b) fail("not-well-formed", "'&' that does not start a reference", at);
    // Compared byte by byte (the five names are ASCII): the bytes of an unknown name are not validated.
    const key = j < maxEnd ? String.fromCharCode(...buf.subarray(from, j)) : "";
    if (!Object.hasOwn(ENTITIES, key)) fail("restricted-xml", "entity references other than the predefined five are not allowed (RFC 6120 §11.1)", at);
    refValue = ENTITIES[key]!;
    return j + 1;
  };

  /** An attribute value after its opening quote `q` (XML 1.0 §3.3.3 normalisation); `i` ends after the closing quote. */
  const attrValue = (q: number): string => {
    let value = "";
    let start = i;
    for (;;) {
      if (i >= end) more();
      const c = buf[i]!;
      if (c >= 0x80) {
        const n = utf8Sequence(buf, i, end);
        if (n === UTF8_TRUNCATED) more();
        if (n < 0) badUtf8(n, i);
        i += n;
        continue;
      }
      if (c >= 0x20 && c !== 0x3c && c !== 0x26 && c !== q) {
        i++;
        continue;
      }
      value += str(start, i);
      if (c === q) {
        i++;
        return value;
      }
      if (c === 0x3c) fail("not-well-formed", "'<' in an attribute value");
      if (c === 0x26) {
        i = reference(i);
        value += refValue;
      } else if (c === 0x09 || c === 0x0a || c === 0x0d) {
        value += " ";
        i++;
        if (c === 0x0d && i < end && buf[i] === 0x0a) i++;
      } else fail("not-well-formed", `control character U+${hex(c)} in an attribute value`);
      start = i;
    }
  };

  /** The markup at `i` (a `<` with `i + 1` in the message) that is not a start or end tag; returns after a CDATA section. */
  const markup = (depth: number): string => {
    const p = i;
    if (buf[p + 1] === 0x3f) {
      for (let k = 2; k <= 5; k++) {
        if (p + k >= len) more();
        const c = buf[p + k]!;
        if (k === 5 ? !isSpace(c) && c !== 0x3f : c !== "<?xml".charCodeAt(k)) fail("restricted-xml", "processing instructions are not allowed (RFC 6120 §11.1)");
      }
      return fail("not-well-formed", "an XML declaration is only allowed at the start of a stream");
    }
    if (p + 2 >= len) more();
    const c2 = buf[p + 2]!;
    if (c2 === 0x2d) fail("restricted-xml", "comments are not allowed (RFC 6120 §11.1)");
    if (c2 !== 0x5b) {
      fail(nameStartAscii[c2] ? "restricted-xml" : "not-well-formed", nameStartAscii[c2] ? "document type declarations are not allowed (RFC 6120 §11.1)" : "malformed markup declaration");
    }
    for (let k = 3; k < 9; k++) {
      if (p + k >= len) more();
      if (buf[p + k] !== CDATA_OPEN.charCodeAt(k)) fail("not-well-formed", "malformed CDATA section");
    }
    if (depth === 0) fail("not-well-formed", "CDATA section outside an element");
    let close = p + 9;
    while (close + 2 < end && !(buf[close] === 0x5d && buf[close + 1] === 0x5d && buf[close + 2] === 0x3e)) close++;
    if (close + 2 >= end) more();
    let text = "";
    let start = p + 9;
    for (i = start; i < close; ) {
      const c = buf[i]!;
      if (c >= 0x80) {
        const n = utf8Sequence(buf, i, close);
        if (n <= 0) badUtf8(n, i);
        i += n;
      } else if (c < 0x20 && c !== 0x09 && c !== 0x0a) {
        if (c !== 0x0d) fail("not-well-formed", `control character U+${hex(c)} in CDATA`);
        text += `${str(start, i)}\n`;
        i++;
        if (i < close && buf[i] === 0x0a) i++;
        start = i;
      } else i++;
    }
    i = close + 3;
    return text + str(start, close);
  };

  /**
   * Out of bytes inside the declaration. As the streaming parser's scanner decides, the declaration is
   * malformed at once if its end can already be seen (a `>` or `<` outside quotes, or a `<` inside them:
   * no value may hold one) — whatever the buffer limit, though not past the element's byte window
   * (`maxStanzaBytes`, checked first); otherwise the message ends inside it.
   */
  const incomplete = (): never => {
    if (end < len) more(); // the element's byte window ends first: over the limit, as the streaming parser says
    let q = 0;
    for (let k = token + 1; k < end; k++) {
      const c = buf[k]!;
      if (q !== 0) {
        if (c === q) q = 0;
        else if (c === 0x3c) fail("not-well-formed", "malformed XML declaration", token);
      } else if (c === 0x3e || c === 0x3c) fail("not-well-formed", "malformed XML declaration", token);
      else if (c === 0x22 || c === 0x27) q = c;
    }
    return more();
  };

  /** `<?xml version='1.0' encoding='UTF-8' standalone='yes'?>` at `i` (the message's start). */
  const declaration = (): void => {
    i += 5;
    let seen = 0; // 1 version, 2 encoding, 3 standalone: in this order
    for (;;) {
      const ws = i;
      spaces(end);
      if (i >= end) incomplete();
      if (buf[i] === 0x3f) {
        if (i + 1 >= end) incomplete();
        if (buf[i + 1] !== 0x3e || seen === 0) break;
        i += 2;
        return;
      }
      if (i === ws) break;
      const from = i;
      while (i < end && nameCharAscii[buf[i]!]) i++;
      const key = str(from, i);
      spaces(end);
      if (i >= end) incomplete();
      if (buf[i] !== 0x3d) break;
      i++;
      spaces(end);
      if (i >= end) incomplete();
      const q = buf[i]!;
      if (q !== 0x22 && q !== 0x27) break;
      const at = ++i;
      while (i < end && buf[i] !== q && buf[i]! < 0x80 && buf[i]! >= 0x20) i++;
      if (i >= end) incomplete();
      if (buf[i] !== q) break;
      const value = str(at, i++);
      if (key === "version" && seen === 0) {
        if (value !== "1.0") fail("not-well-formed", `XML version '${value}' is not supported; XMPP uses XML 1.0`);
        seen = 1;
      } else if (key === "encoding" && seen === 1) {
        if (value.toLowerCase() !== "utf-8") fail("unsupported-encoding", `encoding '${value}' is not supported; XMPP streams are UTF-8 (RFC 6120 §11.6)`);
        seen = 2;
      } else if (key === "standalone" && seen >= 1 && seen < 3 && (value === "yes" || value === "no")) seen = 3;
      else break;
    }
    fail("not-well-formed", "malformed XML declaration");
  };

  /** The element whose start tag is at `i`, with its content: returns it with `i` after its end tag. */
  /** The end tag at `token` (`</` at `i`): its qualified name, with `i` at its closing `>`. */
  const endTag = (): string => {
    i += 2;
    name();
    const qname = str(token + 2, i);
    spaces(end);
    if (i >= end) more();
    if (buf[i] !== 0x3e) fail("not-well-formed", "malformed end tag");
    return qname;
  };

  const element = (): XmlElement => {
    // Open elements: [element, qname, declared prefixes] per level; bindings: prefix → URIs, innermost last.
    const open: Array<[XmlElement, string, string[] | undefined, string]> = [];
    const bindings = new Map<string, string[]>();
    const lookup = (prefix: string): string | undefined => (prefix === "xml" ? NS_XML : bindings.get(prefix)?.at(-1));
    let defaultNs = "";
    let text = "";
    let count = 0;
    const close = (): XmlElement => {
      const [el, , declared, outerNs] = open.pop()!;
      for (const p of declared ?? []) bindings.get(p)!.pop();
      defaultNs = outerNs;
      if (text !== "") el.children.length === 0 ? (el.children = [text]) : el.children.push(text);
      text = "";
      return el;
    };
    for (;;) {
      token = i;
      if (buf[i + 1] === 0x2f) {
        const qname = endTag();
        i++;
        const expected = open.at(-1)![1];
        if (qname !== expected) fail("not-well-formed", `end tag '</${qname}>' does not match '<${expected}>'`, token);
        const el = close();
        if (open.length === 0) return el;
      } else if (buf[i + 1] === 0x21 || buf[i + 1] === 0x3f) text += markup(open.length);
      else {
        // Start tag: name, attributes, then namespaces (declarations first), duplicates and limits.
        i++;
        const colon = name();
        const qname = str(token + 1, i);
        const at = colon < 0 ? -1 : qname.indexOf(":");
        const raw: string[] = [];
        let selfClosing = false;
        for (;;) {
          if (i >= end) more();
          let c = buf[i]!;
          if (c === 0x3e) {
            i++;
            break;
          }
          if (c === 0x2f) {
            if (i + 1 >= end) more();
            if (buf[i + 1] !== 0x3e) fail("not-well-formed", "'/' not followed by '>' in a tag");
            i += 2;
            selfClosing = true;
            break;
          }
          if (!isSpace(c)) fail("not-well-formed", raw.length > 0 ? "attributes must be separated by whitespace" : "malformed start tag");
          spaces(end);
          if (i >= end) more();
          c = buf[i]!;
          if (c === 0x3e || c === 0x2f) continue;
          const from = i;
          const attrColon = name();
          if (raw.length >= limits.maxAttributes * 3) fail("policy-violation", `more than ${limits.maxAttributes} attributes on one element`, from);
          const attrName = str(from, i);
          const split = attrColon < 0 ? -1 : attrName.indexOf(":");
          spaces(end);
          if (i >= end) more();
          if (buf[i] !== 0x3d) fail("not-well-formed", `attribute '${attrName}' has no value`);
          i++;
          spaces(end);
          if (i >= end) more();
          const q = buf[i]!;
          if (q !== 0x22 && q !== 0x27) fail("not-well-formed", `value of attribute '${attrName}' is not quoted`);
          i++;
          raw.push(split < 0 ? "" : attrName.slice(0, split), attrName.slice(split + 1), attrValue(q));
        }
        let ns = defaultNs;
        let declared: string[] | undefined;
        let prefixed = false;
        for (let k = 0; k < raw.length; k += 3) {
          const p = raw[k]!;
          const local = raw[k + 1]!;
          const uri = raw[k + 2]!;
          if (p === "" && local === "xmlns") {
            if (uri === NS_XML || uri === NS_XMLNS) fail("not-well-formed", `namespace '${uri}' cannot be the default namespace`, token);
            ns = uri;
          } else if (p === "xmlns") {
            if (local === "xmlns") fail("not-well-formed", "the 'xmlns' prefix cannot be declared", token);
            if (local === "xml" ? uri !== NS_XML : uri === NS_XML || uri === NS_XMLNS) fail("not-well-formed", `prefix '${local}' cannot be bound to '${uri}'`, token);
            if (uri === "") fail("not-well-formed", `prefix '${local}' cannot be undeclared in XML 1.0`, token);
            (declared ??= []).push(local);
          } else if (p !== "") prefixed = true;
        }
        duplicate(raw, token, fail, false);
        for (let k = 0; k < raw.length; k += 3) {
          if (raw[k] === "xmlns") {
            const uris = bindings.get(raw[k + 1]!);
            uris === undefined ? bindings.set(raw[k + 1]!, [raw[k + 2]!]) : uris.push(raw[k + 2]!);
          }
        }
        const outerNs = defaultNs;
        defaultNs = ns;
        if (at >= 0) {
          const uri = lookup(qname.slice(0, at));
          if (uri === undefined) fail("not-well-formed", `undeclared namespace prefix '${qname.slice(0, at)}'`, token);
          ns = uri!;
        }
        const attrs: string[] = [];
        for (let k = 0; k < raw.length; k += 3) {
          const p = raw[k]!;
          if (p === "xmlns" || (p === "" && raw[k + 1] === "xmlns")) continue;
          const uri = p === "" ? "" : lookup(p);
          if (uri === undefined) fail("not-well-formed", `undeclared namespace prefix '${p}' on attribute '${raw[k + 1]}'`, token);
          attrs.push(uri!, raw[k + 1]!, raw[k + 2]!);
        }
        if (prefixed) duplicate(attrs, token, fail, true);
        const el = createElement(qname.slice(at + 1), ns, attrs);
        if (open.length + 1 > limits.maxDepth) fail("policy-violation", `elements nested deeper than ${limits.maxDepth}`, token);
        if (++count > limits.maxElements) fail("policy-violation", `more than ${limits.maxElements} elements in one stanza`, token);
        const parent = open.at(-1)?.[0];
        if (parent !== undefined) {
          if (text !== "") parent.children.length === 0 ? (parent.children = [text]) : parent.children.push(text);
          text = "";
          parent.children.length === 0 ? (parent.children = [el]) : parent.children.push(el);
        }
        open.push([el, qname, declared, outerNs]);
        if (selfClosing) {
          close();
          if (open.length === 0) return el;
        }
      }
      // Character data up to the next `<` (XML 1.0 §2.4: no literal `]]>`; §2.11: line ends become LF).
      const run = i;
      let start = i;
      while (i < end) {
        const c = buf[i]!;
        if (c === 0x3c) break;
        if (c >= 0x80) {
          const n = utf8Sequence(buf, i, end);
          if (n > 0) {
            i += n;
            continue;
          }
          if (n !== UTF8_TRUNCATED) badUtf8(n, i);
          token = i;
          more();
        }
        if (c === 0x3e && i - 2 >= run && buf[i - 1] === 0x5d && buf[i - 2] === 0x5d) fail("not-well-formed", "']]>' in character data");
        if ((c >= 0x20 && c !== 0x26) || c === 0x09 || c === 0x0a) {
          i++;
          continue;
        }
        text += str(start, i);
        if (c === 0x26) {
          token = i;
          i = reference(i);
          text += refValue;
        } else if (c === 0x0d) {
          text += "\n";
          i++;
          if (i < len && buf[i] === 0x0a) i++;
        } else fail("not-well-formed", `control character U+${hex(c)} in character data`);
        start = i;
      }
      text += str(start, Math.min(i, end));
      if (!(i < len && buf[i] === 0x3c)) {
        token = i;
        more();
      }
      if (i + 1 >= len) {
        token = i;
        more();
      }
    }
  };

  try {
    // A byte-order mark may open the message, once (XML 1.0 §4.3.3); UTF-16/32 marks are refused.
    let bom = false;
    for (;;) {
      const c = buf[i];
      if (c === 0xef && !bom) {
        if (i + 3 > len) more();
        if (buf[i + 1] === 0xbb && buf[i + 2] === 0xbf) {
          i += 3;
          bom = true;
          continue;
        }
      } else if (c === 0xfe || c === 0xff || c === 0x00) fail("unsupported-encoding", "the stream is not UTF-8 encoded (RFC 6120 §11.6)");
      break;
    }
    const streamStart = i;
    for (;;) {
      spaces(len);
      token = i;
      windowStart = -1;
      end = len;
      if (i >= len) break;
      if (buf[i] !== 0x3c) fail("not-well-formed", "character data outside an element");
      windowStart = i;
      end = Math.min(len, i + limits.maxStanzaBytes);
      if (i + 1 >= len) more();
      const c1 = buf[i + 1];
      if (c1 === 0x3f && i === streamStart && len > i + 5 && buf.subarray(i, i + 5).every((b, k) => b === "<?xml".charCodeAt(k)) && (isSpace(buf[i + 5]!) || buf[i + 5] === 0x3f)) {
        declaration();
        continue;
      }
      if (c1 === 0x21 || c1 === 0x3f) markup(0);
      if (c1 === 0x2f) fail("not-well-formed", `end tag '</${endTag()}>' without a start tag`, token);
      const el = element();
      if (first !== undefined) fail("not-well-formed", "a WebSocket message must carry exactly one element (RFC 7395 §3.3.3)", windowStart);
      first = el;
    }
  } catch (e) {
    if (e !== MORE) return e as XmlError;
    if (windowStart >= 0 && windowStart + limits.maxStanzaBytes < len) {
      return { condition: "policy-violation", text: `element exceeds the limit of ${limits.maxStanzaBytes} bytes`, offset: windowStart + limits.maxStanzaBytes };
    }
    if (len - token > limits.maxBufferedBytes) {
      return { condition: "policy-violation", text: `more than ${limits.maxBufferedBytes} bytes buffered for one token`, offset: len };
    }
  }
  return first !== undefined && windowStart < 0
    ? first
    : { condition: "not-well-formed", text: first === undefined ? "the message is not one complete XML element (RFC 7395 §3.3.3)" : "a WebSocket message must carry exactly one element (RFC 7395 §3.3.3)", offset: 0 };
}

/** Fails on the first attribute whose (namespace or prefix, local name) pair came before (XML 1.0 §3.1; Namespaces §6.3). */
function duplicate(t: readonly string[], at: number, fail: (c: XmlErrorCondition, text: string, at: number) => never, expanded: boolean): void {
  const seen = t.length > 48 ? new Set<string>() : undefined;
  for (let k = 0; k < t.length; k += 3) {
    let dup = false;
    if (seen === undefined) for (let m = 0; m < k && !dup; m += 3) dup = t[m] === t[k] && t[m + 1] === t[k + 1];
    else {
      const key = `${t[k]}\u0000${t[k + 1]}`;
      dup = seen.has(key);
      seen.add(key);
    }
    if (dup) {
      fail("not-well-formed", expanded ? `duplicate attribute '{${t[k]}}${t[k + 1]}' after namespace expansion` : `duplicate attribute '${t[k] ? `${t[k]}:` : ""}${t[k + 1]}'`, at);
    }
  }
}
