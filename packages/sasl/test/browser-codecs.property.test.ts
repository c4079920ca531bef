// The codecs of browser builds (src/utf8.browser.ts, src/base64.browser.ts: the runtime's TextEncoder,
// fatal TextDecoder, btoa and atob) against the written-out ones (src/utf8.ts, src/base64.ts): the same
// answer for every input — bytes, strings, and `undefined` for what is refused.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import * as browser64 from "../src/base64.browser.js";
import * as written64 from "../src/base64.js";
import * as browser8 from "../src/utf8.browser.js";
import * as written8 from "../src/utf8.js";

const hex = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString("hex"));

/** Strings of any UTF-16 units, heavy on surrogates (paired, lone, reversed) and the UTF-8 length boundaries. */
const anyString = fc.string({
  unit: fc.oneof(
    fc.constantFrom("\uD800", "\uDBFF", "\uDC00", "\uDFFF", "\uD83D\uDE00", "\uDE00\uD83D", "\u007F", "\u0080", "\u07FF", "\u0800", "\uFEFF", "\uFFFE", "\uFFFF", "\u0000"),
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }),
  ),
  maxLength: 24,
});

/** Byte strings: valid UTF-8 of any string, then maybe damaged (a byte changed, inserted, or cut off). */
const utf8ish = fc
  .tuple(fc.string({ unit: "binary", maxLength: 16 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(2)), { maxLength: 2 }))
  .map(([s, edits]) => {
    const bytes = [...new TextEncoder().encode(s)];
    for (const [at, value, kind] of edits) {
      const i = bytes.length === 0 ? 0 : at % bytes.length;
      if (kind === 0 && bytes.length > 0) bytes[i] = value;
      else if (kind === 1) bytes.splice(i, 0, value);
      else bytes.length = i;
    }
    return Uint8Array.from(bytes);
  });
const rawBytes = fc.uint8Array({ maxLength: 40 });

/** Text near base64: valid encodings with a unit changed, padding moved, whitespace, other characters. */
const base64ish = fc.oneof(
  fc.string({ unit: fc.constantFrom(..."AQgw+/=_-= \n\tZz09é"), maxLength: 16 }),
  fc
    .tuple(rawBytes, fc.nat(), fc.constantFrom(..."AQRSgw+/=- \n"), fc.boolean())
    .map(([b, at, c, replace]) => {
      const t = written64.base64Encode(b);
      const i = t.length === 0 ? 0 : at % t.length;
      return replace ? t.slice(0, i) + c + t.slice(i + 1) : t.slice(0, i) + c + t.slice(i);
    }),
);

describe("browser codecs against the written-out ones", () => {
  it("utf8Encode: the same bytes, or undefined for the same strings", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        expect(hex(browser8.utf8Encode(s))).toBe(hex(written8.utf8Encode(s)));
      }),
      fuzz(2000),
    );
  });

  it("utf8Decode: the same string, or undefined for the same bytes", () => {
    fc.assert(
      fc.property(fc.oneof(utf8ish, rawBytes), (b) => {
        expect(browser8.utf8Decode(b)).toBe(written8.utf8Decode(b));
      }),
      fuzz(2000),
    );
    // Overlong forms, surrogates, beyond U+10FFFF, truncated and stray bytes, a BOM kept.
    for (const b of [[0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf0, 0x9f, 0x98], [0x80], [0xef, 0xbb, 0xbf, 0x41], [0xef, 0xbf, 0xbe]]) {
      expect(browser8.utf8Decode(Uint8Array.from(b))).toBe(written8.utf8Decode(Uint8Array.from(b)));
    }
  });

  it("base64Encode: the same text; base64Decode: the same bytes, or undefined for the same text", () => {
    fc.assert(
      fc.property(rawBytes, base64ish, (b, t) => {
        expect(browser64.base64Encode(b)).toBe(written64.base64Encode(b));
        expect(hex(browser64.base64Decode(t))).toBe(hex(written64.base64Decode(t)));
      }),
      fuzz(3000),
    );
    for (const t of ["", "QQ==", "QR==", "QUE=", "QUF=", "QUFB", "Q===", "====", "=QQ=", "QQ", "QQ=", "Q Q=", "QQ==\n", "QQ==QQ==", "-_8="]) {
      expect(hex(browser64.base64Decode(t))).toBe(hex(written64.base64Decode(t)));
    }
    // Large inputs go through String.fromCharCode in pieces.
    const big = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) & 255);
    expect(browser64.base64Encode(big)).toBe(written64.base64Encode(big));
    expect(hex(browser64.base64Decode(written64.base64Encode(big)))).toBe(hex(big));
  });
});
