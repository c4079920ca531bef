import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import { opaqueString, PrecisError } from "../src/index.js";

function code(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (e instanceof PrecisError) return e.code;
    throw e;
  }
}

describe("OpaqueString (RFC 8265 §4.2)", () => {
  // RFC 8265 §4.3, Table 4: valid passwords.
  it.each([
    ["correct horse battery staple", "correct horse battery staple"],
    ["Correct Horse Battery Staple", "Correct Horse Battery Staple"],
    ["πßå", "πßå"],
    ["Jack of \u2666s", "Jack of \u2666s"],
    ["foo\u1680bar", "foo bar"], // OGHAM SPACE MARK mapped to SPACE
  ])("accepts %j", (input, out) => {
    expect(opaqueString(input)).toBe(out);
  });

  // RFC 8265 §4.3, Table 5: invalid passwords.
  it("rejects the empty string", () => {
    expect(code(() => opaqueString(""))).toBe("empty");
  });
  it("rejects a control character (my cat is a \\u0009by)", () => {
    let err: unknown;
    try {
      opaqueString("my cat is a \u0009by");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PrecisError);
    expect((err as PrecisError).code).toBe("disallowed");
    expect((err as PrecisError).codePoint).toBe(0x09);
  });

  it("normalizes to NFC but keeps case and width", () => {
    expect(opaqueString("e\u0301")).toBe("\u00e9");
    expect(opaqueString("ＡＢＣ")).toBe("ＡＢＣ");
    expect(opaqueString("\u212b")).toBe("\u00c5"); // ANGSTROM SIGN → NFC singleton
  });

  it("maps every non-ASCII space (Zs) to U+0020", () => {
    expect(opaqueString("a\u00a0b\u2003c\u3000d\u202fe")).toBe("a b c d e");
  });

  it("rejects default-ignorables, private use, unassigned, lone surrogates", () => {
    expect(code(() => opaqueString("a\u200bb"))).toBe("disallowed"); // ZERO WIDTH SPACE
    expect(code(() => opaqueString("a\u00adb"))).toBe("disallowed"); // SOFT HYPHEN
    expect(code(() => opaqueString("a\ue000b"))).toBe("disallowed"); // private use
    expect(code(() => opaqueString("a\ud800b"))).toBe("disallowed"); // lone surrogate
    expect(code(() => opaqueString("a\u{10fffd}"))).toBe("disallowed"); // plane 16 private use
    expect(code(() => opaqueString("a\ufdd0"))).toBe("disallowed"); // noncharacter
    expect(code(() => opaqueString("a\u{e0001}"))).toBe("disallowed"); // LANGUAGE TAG, default ignorable
    expect(code(() => opaqueString("a\u{e0080}"))).toBe("unassigned"); // Unassigned is tested before ignorables (RFC 8264 §8)
    expect(code(() => opaqueString("\u{2fffd}"))).toBe("unassigned");
    expect(code(() => opaqueString("a\u2028b"))).toBe("disallowed"); // LINE SEPARATOR (Zl)
  });

  it("accepts symbols, punctuation and compatibility characters (FreeformClass)", () => {
    expect(opaqueString("\u2163 ♚ ¡¿ ﬁ")).toBe("\u2163 ♚ ¡¿ ﬁ");
  });

  it("context rules apply: ZWJ only after a virama", () => {
    expect(opaqueString("\u0915\u094d\u200d\u0937")).toBe("\u0915\u094d\u200d\u0937");
    expect(code(() => opaqueString("a\u200db"))).toBe("context");
  });

  it("is idempotent and only ever throws PrecisError", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme-composite", maxLength: 20 }), (s) => {
        const c = code(() => opaqueString(s));
        if (c === undefined) {
          const once = opaqueString(s);
          expect(opaqueString(once)).toBe(once);
          expect(once.length).toBeGreaterThan(0);
        }
      }),
      fuzz(100),
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 20 }), (s) => {
        const c = code(() => opaqueString(s));
        if (c === undefined) expect(opaqueString(opaqueString(s))).toBe(opaqueString(s));
      }),
      fuzz(100),
    );
  });

  it("the ASCII fast path agrees with the full pipeline", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n)), minLength: 1 }), (s) => {
        expect(opaqueString(s)).toBe(s);
        // a non-ASCII space forces the slow path; result must equal the ASCII one with a plain space.
        expect(opaqueString(`${s}\u00a0`)).toBe(`${s} `);
      }),
      fuzz(100),
    );
  });
});
