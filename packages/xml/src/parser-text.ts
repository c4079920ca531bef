import { isSpace, isXmlChar, nameCharAscii, nameStartAscii, TEXT_AMP, TEXT_CR, TEXT_GT, TEXT_HIGH, TEXT_LT, TEXT_PLAIN, TEXT_RBRACKET, textClass, UTF8_TRUNCATED, utf8Sequence } from "./chars.js";
import { CDATA_OPEN, CONTINUE, FAILED, hex, INCOMPLETE, latin1, MAX_REFERENCE_BYTES, NEED_MORE, predefinedEntity, R, SCAN_CDATA, SCAN_TAG, type Step, XML_DECL_OPEN } from "./parser-shared.js";
import { ParserInput } from "./parser-input.js";

/**
 * Character data, references and the markup that is not a tag: CDATA sections, the XML declaration,
 * and the refusal of comments, DTDs and processing instructions (RFC 6120 §11.1).
 */
export abstract class ParserText extends ParserInput {
  // ---------------------------------------------------------------------------------------------------
  // Character data

  /** Character data outside any stanza: only whitespace is allowed (keepalives between stanzas). */
  protected parseOutsideText(): Step {
    const buf = this.buf;
    const end = this.end;
    let i = this.pos;
    // A byte-order mark may open a stream (UTF-8 only), once, and never appear later: a second one is
    // U+FEFF as character data before the root element, which is not well-formed (XML 1.0 §2.1, §4.3.3).
    if (this.depth === 0 && this.base + i === this.streamStart) {
      const c = buf[i]!;
      if (c === 0xef && !this.bomTaken) {
        if (i + 3 > end) return NEED_MORE;
        if (buf[i + 1] === 0xbb && buf[i + 2] === 0xbf) {
          this.pos = i + 3;
          this.streamStart = this.base + this.pos;
          this.bomTaken = true;
          return CONTINUE;
        }
      } else if (c === 0xfe || c === 0xff || c === 0x00) {
        return this.fail("unsupported-encoding", "the stream is not UTF-8 encoded (RFC 6120 §11.6)");
      }
    }
    while (i < end && isSpace(buf[i]!)) i++;
    this.pos = i;
    if (i >= end) return NEED_MORE;
    if (buf[i] === 0x3c) return CONTINUE;
    if (this.closed) return this.fail("not-well-formed", "data after the end of the stream");
    if (this.depth === 0) {
      return this.top === 0
        ? this.fail("not-well-formed", "character data outside an element")
        : this.fail("not-well-formed", "character data before the stream header");
    }
    // Between stanzas. What is no XML character at all breaks well-formedness, as it would inside a
    // stanza: RFC 6120 §11.4 (rule 2) asks for <not-well-formed/> (§4.9.3.13), and §4.9.3.1 recommends the
    // specific conditions over <bad-format/>. Characters XML allows are well-formed XML that XMPP does
    // not allow there: <bad-format/>.
    const c = buf[i]!;
    if (c < 0x20) return this.fail("not-well-formed", `control character U+${hex(c)} at stream level`, this.base + i);
    if (c >= 0x80) {
      const n = utf8Sequence(buf, i, end);
      if (n === UTF8_TRUNCATED) return NEED_MORE;
      if (n < 0) return this.badUtf8(n, i);
    }
    return this.fail("bad-format", "character data at stream level (only whitespace is allowed between stanzas)");
  }

  /** Character data inside a stanza: validated byte by byte, decoded once per run. */
  protected parseText(): Step {
    const buf = this.buf;
    const end = this.windowEnd();
    const callStart = this.pos;
    let i = callStart;
    if (this.crPending) {
      this.crPending = false;
      if (buf[i] === 0x0a) i++;
    }
    let start = i;
    let ascii = true;
    while (i < end) {
      while (i < end && textClass[buf[i]!] === TEXT_PLAIN) i++;
      if (i >= end) break;
      const c = buf[i]!;
      const k = textClass[c]!;
      if (k === TEXT_RBRACKET) {
        i++;
        continue;
      }
      if (k === TEXT_LT) break;
      if (k === TEXT_HIGH) {
        const n = utf8Sequence(buf, i, end);
        if (n > 0) {
          ascii = false;
          i += n;
          continue;
        }
        if (n !== UTF8_TRUNCATED) return this.badUtf8(n, i);
        if (end < this.end) return this.tooBig();
        break;
      }
      if (k === TEXT_GT) {
        // `]]>` may not appear literally in character data (XML 1.0 §2.4).
        const b1 = i - 1 >= callStart ? buf[i - 1] === 0x5d : this.bracketCarry >= 1;
        const b2 = i - 2 >= callStart ? buf[i - 2] === 0x5d : i - 1 >= callStart ? this.bracketCarry >= 1 : this.bracketCarry >= 2;
        if (b1 && b2) return this.fail("not-well-formed", "']]>' in character data", this.base + i);
        i++;
        continue;
      }
      if (start < i) this.text += this.str(start, i, ascii);
      ascii = true;
      if (k === TEXT_AMP) {
        const r = this.reference(i, end);
        if (r === INCOMPLETE) {
          start = i;
          break;
        }
        if (r === FAILED) return this.errorEvent();
        this.text += R.refValue;
        i = r;
      } else if (k === TEXT_CR) {
        // Line-end normalisation (XML 1.0 §2.11): CR LF and lone CR become LF.
        this.text += "\n";
        i++;
        if (i >= this.end) this.crPending = true;
        else if (buf[i] === 0x0a) i++;
      } else {
        return this.fail("not-well-formed", `control character U+${hex(c)} in character data`, this.base + i);
      }
      start = i;
    }
    if (start < i) this.text += this.str(start, i, ascii);
    // Remember literal `]` bytes at the end of the run for a `>` that arrives in the next chunk.
    let brackets = 0;
    let j = i - 1;
    while (brackets < 2 && j >= callStart && buf[j] === 0x5d) {
      brackets++;
      j--;
    }
    this.bracketCarry = j < callStart ? Math.min(2, brackets + this.bracketCarry) : brackets;
    this.pos = i;
    if (i < this.end && buf[i] === 0x3c) return CONTINUE;
    if (end < this.end) return this.tooBig();
    return NEED_MORE;
  }

  /**
   * Parses the reference `&…;` at `i` into `R.refValue`. Returns the index after `;`, INCOMPLETE when
   * input ends inside it, or FAILED (failure recorded). Only the five predefined entities exist here, and
   * nothing is ever expanded (RFC 6120 §11.1).
   */
  protected reference(i: number, end: number): number {
    const buf = this.buf;
    const maxEnd = Math.min(end, i + MAX_REFERENCE_BYTES);
    let j = i + 1;
    if (j >= maxEnd) return maxEnd === end ? INCOMPLETE : this.refFail(i, "not-well-formed", "malformed reference");
    if (buf[j] === 0x23) {
      j++;
      const hexForm = j < maxEnd && buf[j] === 0x78;
      if (hexForm) j++;
      const digitsStart = j;
      let cp = 0;
      for (; j < maxEnd; j++) {
        const d = buf[j]!;
        let v: number;
        if (d >= 0x30 && d <= 0x39) v = d - 0x30;
        else if (hexForm && d >= 0x61 && d <= 0x66) v = d - 0x57;
        else if (hexForm && d >= 0x41 && d <= 0x46) v = d - 0x37;
        else break;
        cp = Math.min(cp * (hexForm ? 16 : 10) + v, 0x110000);
      }
      if (j >= maxEnd) {
        return maxEnd === end && maxEnd < i + MAX_REFERENCE_BYTES ? INCOMPLETE : this.refFail(i, "not-well-formed", "malformed character reference");
      }
      if (j === digitsStart || buf[j] !== 0x3b) return this.refFail(i, "not-well-formed", "malformed character reference");
      if (!isXmlChar(cp)) {
        return this.refFail(i, "not-well-formed", `character reference to ${cp > 0x10ffff ? "beyond U+10FFFF" : `U+${hex(cp)}`}, which is not an XML character`);
      }
      R.refValue = String.fromCodePoint(cp);
      return j + 1;
    }
    const nameStart = j;
    if (!nameStartAscii[buf[j]!] && buf[j]! < 0x80) return this.refFail(i, "not-well-formed", "'&' that does not start a reference");
    while (j < maxEnd && buf[j] !== 0x3b && (nameCharAscii[buf[j]!] || buf[j] === 0x3a || buf[j]! >= 0x80)) j++;
    if (j >= maxEnd) {
      if (maxEnd === end && maxEnd < i + MAX_REFERENCE_BYTES) return INCOMPLETE;
      return this.refFail(i, "restricted-xml", "entity references other than the predefined five are not allowed (RFC 6120 §11.1)");
    }
    if (buf[j] !== 0x3b) return this.refFail(i, "not-well-formed", "'&' that does not start a reference");
    const ch = predefinedEntity(buf, nameStart, j);
    if (ch === undefined) return this.refFail(i, "restricted-xml", "entity references other than the predefined five are not allowed (RFC 6120 §11.1)");
    R.refValue = ch;
    return j + 1;
  }

  // ---------------------------------------------------------------------------------------------------
  // Markup

  protected markupDeclaration(): Step {
    const buf = this.buf;
    const p = this.pos;
    if (p + 2 >= this.end) return this.needMore();
    const c2 = buf[p + 2]!;
    if (c2 === 0x2d) return this.fail("restricted-xml", "comments are not allowed (RFC 6120 §11.1)");
    if (c2 !== 0x5b) {
      return nameStartAscii[c2]
        ? this.fail("restricted-xml", "document type declarations are not allowed (RFC 6120 §11.1)")
        : this.fail("not-well-formed", "malformed markup declaration");
    }
    for (let k = 3; k < CDATA_OPEN.length; k++) {
      if (p + k >= this.end) return this.needMore();
      if (buf[p + k] !== CDATA_OPEN[k]) return this.fail("not-well-formed", "malformed CDATA section");
    }
    if (this.depth <= this.top) {
      return this.depth === 0
        ? this.fail("not-well-formed", "CDATA section outside an element")
        : this.fail("bad-format", "character data at stream level (only whitespace is allowed between stanzas)");
    }
    return this.cdata();
  }

  protected cdata(): Step {
    const buf = this.buf;
    const end = this.windowEnd();
    const from = this.pos + CDATA_OPEN.length;
    let close = -1;
    for (let i = from; i + 2 < end; i++) {
      if (buf[i] === 0x5d && buf[i + 1] === 0x5d && buf[i + 2] === 0x3e) {
        close = i;
        break;
      }
    }
    if (close < 0) return this.incomplete(SCAN_CDATA);
    let start = from;
    let ascii = true;
    for (let i = from; i < close; ) {
      const c = buf[i]!;
      if (c >= 0x80) {
        const n = utf8Sequence(buf, i, close);
        if (n <= 0) return this.badUtf8(n, i);
        ascii = false;
        i += n;
      } else if (c < 0x20 && c !== 0x09 && c !== 0x0a) {
        if (c !== 0x0d) return this.fail("not-well-formed", `control character U+${hex(c)} in CDATA`, this.base + i);
        if (start < i) this.text += this.str(start, i, ascii);
        ascii = true;
        this.text += "\n";
        i++;
        if (i < close && buf[i] === 0x0a) i++;
        start = i;
      } else i++;
    }
    if (start < close) this.text += this.str(start, close, ascii);
    this.bracketCarry = 0;
    // A CR that ended the text before this section was already normalised; an LF after the section is
    // a new line, not the second half of that CR LF.
    this.crPending = false;
    this.pos = close + 3;
    return CONTINUE;
  }

  protected processingInstruction(): Step {
    const buf = this.buf;
    const p = this.pos;
    // Is this `<?xml` followed by whitespace or `?` (the XML declaration, whose target is reserved)?
    // Compared byte by byte as input arrives: a mismatch is decided at once, without waiting for more
    // bytes than the token has (a lone `<?\xEB?>` must not wait forever).
    for (let k = 2; k <= XML_DECL_OPEN.length; k++) {
      if (p + k >= this.end) return this.windowEnd() < this.end ? this.tooBig() : NEED_MORE;
      const c = buf[p + k]!;
      if (k === XML_DECL_OPEN.length ? !isSpace(c) && c !== 0x3f : c !== XML_DECL_OPEN[k]) {
        return this.fail("restricted-xml", "processing instructions are not allowed (RFC 6120 §11.1)");
      }
    }
    if (this.base + p === this.streamStart && this.depth === 0) return this.xmlDeclaration();
    // Not a processing instruction at all: XML allows the declaration only at the start of the entity.
    return this.fail("not-well-formed", "an XML declaration is only allowed at the start of a stream");
  }

  /** `<?xml version='1.0' encoding='UTF-8' standalone='yes'?>`, only at the very start of a stream. */
  protected xmlDeclaration(): Step {
    const buf = this.buf;
    const end = this.windowEnd();
    let i = this.pos + 5;
    let seen = 0; // 1 = version, 2 = encoding, 3 = standalone: pseudo-attributes come in this order
    for (;;) {
      const ws = i;
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      if (buf[i] === 0x3f) {
        if (i + 1 >= end) return this.incomplete(SCAN_TAG);
        if (buf[i + 1] !== 0x3e || seen === 0) break;
        this.pos = i + 2;
        this.windowStart = -1;
        return CONTINUE;
      }
      if (i === ws) break;
      const nameStart = i;
      while (i < end && nameCharAscii[buf[i]!]) i++;
      const name = latin1(buf, nameStart, i);
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      if (buf[i] !== 0x3d) break;
      i++;
      while (i < end && isSpace(buf[i]!)) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      const q = buf[i]!;
      if (q !== 0x22 && q !== 0x27) break;
      const valueStart = ++i;
      while (i < end && buf[i] !== q && buf[i]! < 0x80 && buf[i]! >= 0x20) i++;
      if (i >= end) return this.incomplete(SCAN_TAG);
      if (buf[i] !== q) break;
      const value = latin1(buf, valueStart, i);
      i++;
      if (name === "version" && seen === 0) {
        if (value !== "1.0") return this.fail("not-well-formed", `XML version '${value}' is not supported; XMPP uses XML 1.0`);
        seen = 1;
      } else if (name === "encoding" && seen === 1) {
        if (value.toLowerCase() !== "utf-8") {
          return this.fail("unsupported-encoding", `encoding '${value}' is not supported; XMPP streams are UTF-8 (RFC 6120 §11.6)`);
        }
        seen = 2;
      } else if (name === "standalone" && seen >= 1 && seen < 3) {
        if (value !== "yes" && value !== "no") break;
        seen = 3;
      } else break;
    }
    return this.fail("not-well-formed", "malformed XML declaration");
  }
}
