import { attrSpecial, decodeCodePoint, decodeValidated, isNameCodePoint, isNameStartCodePoint, isSpace, nameCharAscii, nameStartAscii, UTF8_TRUNCATED, utf8Sequence } from "./chars.js";
import { FAILED, hex, INCOMPLETE, INTERNER, R, RAW_ATTRS, SCAN_TAG, type Step } from "./parser-shared.js";
import { ParserTree } from "./parser-tree.js";

/**
 * Start and end tags: names, attribute values and the checks on them.
 */
export abstract class ParserTags extends ParserTree {
  /**
   * Scans a (possibly prefixed) name at `i`. Returns the index after it, INCOMPLETE, or FAILED. Sets
   * `nameColon` (index of the colon or -1) and `nameAscii`.
   */
  protected scanName(i: number, end: number): number {
    const buf = this.buf;
    const start = i;
    const maxEnd = Math.min(end, i + this.limits.maxNameLength + 1);
    // Fast path: an ASCII name without a colon, ended by an ASCII byte within the limits.
    if (i < maxEnd && nameStartAscii[buf[i]!] === 1) {
      i++;
      while (i < maxEnd && nameCharAscii[buf[i]!] === 1) i++;
      if (i < maxEnd) {
        const c = buf[i]!;
        if (c !== 0x3a && c < 0x80) {
          R.nameColon = -1;
          R.nameAscii = true;
          return i;
        }
      }
      i = start;
    }
    let colon = -1;
    let ascii = true;
    let atStart = true;
    while (i < maxEnd) {
      const c = buf[i]!;
      if (c < 0x80) {
        if (atStart ? nameStartAscii[c] : nameCharAscii[c]) {
          i++;
          atStart = false;
          continue;
        }
        if (c === 0x3a && !atStart && colon < 0) {
          colon = i;
          i++;
          atStart = true;
          continue;
        }
        break;
      }
      const n = utf8Sequence(buf, i, end);
      if (n === UTF8_TRUNCATED) return INCOMPLETE;
      if (n < 0) {
        this.badUtf8(n, i);
        return FAILED;
      }
      const cp = decodeCodePoint(buf, i, n);
      if (!(atStart ? isNameStartCodePoint(cp) : isNameCodePoint(cp))) break;
      ascii = false;
      atStart = false;
      i += n;
    }
    if (i - start > this.limits.maxNameLength) {
      this.fail("policy-violation", `name longer than ${this.limits.maxNameLength} bytes`, this.base + start);
      return FAILED;
    }
    if (i >= end) return INCOMPLETE;
    if (i === start) {
      const c = buf[i]!;
      this.fail(
        "not-well-formed",
        isSpace(c) ? "whitespace where a name must start" : c >= 0x30 && c <= 0x39 ? "a name cannot start with a digit" : "invalid name",
        this.base + i,
      );
      return FAILED;
    }
    if (atStart) {
      this.fail("not-well-formed", colon === i - 1 ? "a name cannot end with ':'" : "invalid name", this.base + i);
      return FAILED;
    }
    R.nameColon = colon;
    R.nameAscii = ascii;
    return i;
  }

  protected nameString(start: number, end: number): string {
    return R.nameAscii ? this.intern(start, end) : decodeValidated(this.buf, start, end, false);
  }

  /** The string for validated ASCII bytes, from the shared cache, else sliced from the view and cached. */
  protected intern(start: number, end: number): string {
    return INTERNER.find(this.buf, start, end) ?? INTERNER.put(this.str(start, end, true));
  }

  protected startTag(): Step {
    const buf = this.buf;
    const end = this.windowEnd();
    const limits = this.limits;
    const tagStart = this.pos;
    let i = this.scanName(tagStart + 1, end);
    if (i < 0) return i === INCOMPLETE ? this.incomplete(SCAN_TAG) : this.errorEvent();
    const qname = this.nameString(tagStart + 1, i);
    // The colon's byte offset is its index in the string only for an ASCII name.
    const elColon = R.nameColon < 0 ? -1 : R.nameAscii ? R.nameColon - tagStart - 1 : qname.indexOf(":");
    const elPrefix = elColon < 0 ? "" : qname.slice(0, elColon);
    const elLocal = elColon < 0 ? qname : qname.slice(elColon + 1);
    const raw = RAW_ATTRS;
    let n = 0; // raw entries used (3 per attribute); stale ones beyond are ignored
    let selfClosing = false;
    for (;;) {
      if (i >= end) return this.incomplete(SCAN_TAG);
      let c = buf[i]!;
      if (c === 0x3e) {
        i++;
        break;
      }
      if (c === 0x2f) {
        if (i + 1 >= end) return this.incomplete(SCAN_TAG);
        if (buf[i + 1] !== 0x3e) return this.fail("not-well-formed", "'/' not followed by '>' in a tag", this.base + i);
        i += 2;
        selfClosing = true;
        break;
      }
      if (!isSpace(c)) {
        return this.fail("not-well-formed", n > 0 ? "attributes must be separated by whitespace" : "malformed start tag", this.base + i);
      }
      do i++;
      while (i < end && isSpace(buf[i]!));
      if (i >= end) return this.incomplete(SCAN_TAG);
      c = buf[i]!;
      if (c === 0x3e || c === 0x2f) continue;
      // Attribute name.
      const nameStart = i;
      i = this.scanName(i, end);
      if (i < 0) return i === INCOMPLETE ? this.incomplete(SCAN_TAG) : this.errorEvent();
      if (n >= limits.maxAttributes * 3) {
        return this.fail("policy-violation", `more than ${limits.maxAttributes} attributes on one element`, this.base + nameStart);
      }
      const colon = R.nameColon;
      const nameEnd = i;
      // Interned in byte order (the view cursor only moves forward).
      let prefix = "";
      let local: string;
      if (colon < 0) local = this.nameString(nameStart, nameEnd);
      else if (R.nameAscii) {
        prefix = this.intern(nameStart, colon);
        local = this.intern(colon + 1, nameEnd);
      } else {
        const qname = decodeValidated(buf, nameStart, nameEnd, false);
        prefix = qname.slice(0, qname.indexOf(":"));
        local = qname.slice(prefix.length + 1);
      }
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      if (buf[i] !== 0x3d) return this.fail("not-well-formed", `attribute '${prefix === "" ? local : `${prefix}:${local}`}' has no value`, this.base + i);
      i++;
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      const q = buf[i]!;
      if (q !== 0x22 && q !== 0x27) return this.fail("not-well-formed", `value of attribute '${prefix === "" ? local : `${prefix}:${local}`}' is not quoted`, this.base + i);
      i++;
      const valueStart = i;
      i = this.attrScan(i, end);
      if (i >= end) return this.incomplete(SCAN_TAG);
      let value: string;
      if (buf[i] === q) {
        value = i - valueStart <= 16 ? this.intern(valueStart, i) : this.str(valueStart, i, true);
        i++;
      } else {
        const r = this.attributeValue(valueStart, i, end, q);
        if (r < 0) return r === INCOMPLETE ? this.incomplete(SCAN_TAG) : this.errorEvent();
        value = R.attrValue;
        i = r;
      }
      raw[n] = prefix;
      raw[n + 1] = local;
      raw[n + 2] = value;
      n += 3;
    }
    return this.openElement(qname, elPrefix, elLocal, selfClosing, i, n);
  }

  /**
   * Slow path of an attribute value: `valueStart` is after the opening quote, `i` the first byte that
   * needs a look. Leaves the value in `R.attrValue`; returns the index after the closing quote,
   * INCOMPLETE or FAILED.
   */
  protected attributeValue(valueStart: number, i: number, end: number, q: number): number {
    const buf = this.buf;
    let value = this.str(valueStart, i, true);
    let start = i;
    let ascii = true;
    for (;;) {
      if (i >= end) return INCOMPLETE;
      const c = buf[i]!;
      if (attrSpecial[c] === 0 || (c === 0x22 && q !== 0x22) || (c === 0x27 && q !== 0x27)) {
        i++;
        continue;
      }
      if (c >= 0x80) {
        const n = utf8Sequence(buf, i, end);
        if (n > 0) {
          ascii = false;
          i += n;
          continue;
        }
        if (n === UTF8_TRUNCATED) return INCOMPLETE;
        this.badUtf8(n, i);
        return FAILED;
      }
      if (start < i) value += this.str(start, i, ascii);
      ascii = true;
      if (c === q) {
        R.attrValue = value;
        return i + 1;
      }
      if (c === 0x3c) return this.refFail(i, "not-well-formed", "'<' in an attribute value");
      if (c === 0x26) {
        const r = this.reference(i, end);
        if (r < 0) return r;
        value += R.refValue;
        i = r;
      } else if (c === 0x09 || c === 0x0a) {
        // Attribute-value normalisation (XML 1.0 §3.3.3): literal whitespace becomes a space.
        value += " ";
        i++;
      } else if (c === 0x0d) {
        value += " ";
        i++;
        if (i < end && buf[i] === 0x0a) i++;
      } else {
        return this.refFail(i, "not-well-formed", `control character U+${hex(c)} in an attribute value`);
      }
      start = i;
    }
  }

  protected endTag(): Step {
    const buf = this.buf;
    const end = this.windowEnd();
    const p = this.pos;
    const depth = this.depth;
    let i = -1;
    if (depth > 0) {
      // Fast path: the bytes are exactly the (ASCII) name of the open element, then `>`. That name was
      // validated by its start tag; anything else goes through the full check below.
      const expected = this.stack[(depth - 1) * 3 + 1] as string;
      const n = expected.length;
      const j = p + 2 + n;
      if (j < end && buf[j] === 0x3e && n <= this.limits.maxNameLength) {
        let k = 0;
        while (k < n && buf[p + 2 + k] === expected.charCodeAt(k) && expected.charCodeAt(k) < 0x80) k++;
        if (k === n) i = j + 1;
      }
    }
    if (i < 0) {
      i = this.scanName(p + 2, end);
      if (i < 0) return i === INCOMPLETE ? this.incomplete(SCAN_TAG) : this.errorEvent();
      const qname = this.nameString(p + 2, i);
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      if (buf[i] !== 0x3e) return this.fail("not-well-formed", "malformed end tag", this.base + i);
      i++;
      if (depth === 0) {
        return this.fail("not-well-formed", this.closed ? "data after the end of the stream" : `end tag '</${qname}>' without a start tag`, this.tokenStart);
      }
      const expected = this.stack[(depth - 1) * 3 + 1] as string;
      if (qname !== expected) {
        return this.fail("not-well-formed", `end tag '</${qname}>' does not match '<${expected}>'`, this.tokenStart);
      }
    }
    return this.closeElement(i);
  }
}
