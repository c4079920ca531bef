import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import { base64Decode, base64Encode, utf8Decode, utf8Encode } from "../src/index.js";

describe("base64", () => {
  it("RFC 4648 §10 vectors", () => {
    const v: [string, string][] = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ];
    for (const [plain, b64] of v) {
      expect(base64Encode(new TextEncoder().encode(plain))).toBe(b64);
      expect(new TextDecoder().decode(base64Decode(b64)!)).toBe(plain);
    }
  });
  it.each([
    "Zg", // missing padding
    "Zg=", // short padding
    "Zh==", // non-zero pad bits
    "Zm9=", // non-zero pad bits
    "Zg==Zg==", // padding in the middle
    "Z===",
    "====",
    "Zm9v\n",
    " Zm9v",
    "Zm 9v",
    "Zm9v-_==",
    "Zm9vé===",
    "Zm9\u0000",
  ])("rejects %j", (s) => {
    expect(base64Decode(s)).toBeUndefined();
  });
  it("roundtrips and agrees with Buffer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = base64Encode(bytes);
        expect(text).toBe(Buffer.from(bytes).toString("base64"));
        expect(base64Decode(text)).toEqual(bytes);
      }),
      fuzz(100),
    );
  });
  it("accepts only canonical text: decode ∘ encode is identity where defined", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \n-_";
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 16 }), (s) => {
        const d = base64Decode(s);
        if (d !== undefined) expect(base64Encode(d)).toBe(s);
      }),
      fuzz(2000),
    );
  });
  it("any single-character corruption of canonical text is rejected or decodes to other bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), fc.constantFrom(" ", "\n", "=", "-", "*", "é"), (bytes, pos, ch) => {
        const text = base64Encode(bytes);
        const i = pos % (text.length + 1);
        const bad = text.slice(0, i) + ch + text.slice(i);
        expect(base64Decode(bad)).toBeUndefined();
      }),
      fuzz(100),
    );
  });
});

describe("strict UTF-8", () => {
  it("roundtrips well-formed strings and agrees with TextDecoder", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 50 }), (s) => {
        const b = utf8Encode(s)!;
        expect(b).toEqual(new TextEncoder().encode(s));
        expect(utf8Decode(b)).toBe(s);
      }),
      fuzz(100),
    );
  });
  it("agrees with a fatal TextDecoder on arbitrary bytes", () => {
    const td = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        let want: string | undefined;
        try {
          want = td.decode(bytes);
        } catch {
          want = undefined;
        }
        expect(utf8Decode(bytes)).toBe(want);
      }),
      fuzz(5000),
    );
  });
  it("rejects overlongs, surrogates, > U+10FFFF, truncation; encoder rejects lone surrogates", () => {
    for (const bad of [[0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xff]]) {
      expect(utf8Decode(new Uint8Array(bad))).toBeUndefined();
    }
    expect(utf8Encode("a\ud800b")).toBeUndefined();
    expect(utf8Encode("\udc00")).toBeUndefined();
  });
});
