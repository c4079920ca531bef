import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import {
  bidiRuleViolation,
  derivedProperty,
  isFreeformClass,
  isIdentifierClass,
  isVirama,
  nickname,
  nicknameCompare,
  nicknameComparisonKey,
  PrecisError,
  usernameCaseMapped,
  usernameCasePreserved,
  widthMap,
} from "../src/index.js";

function code(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    if (e instanceof PrecisError) return e.code;
    throw e;
  }
}
const cps = (s: string) => [...s].map((c) => c.codePointAt(0)!);

describe("derived property (RFC 8264 §8/§9)", () => {
  it.each([
    [0x61, "PVALID"], // ASCII7
    [0x7e, "PVALID"],
    [0x20, "FREE_PVAL"], // Spaces
    [0x00, "DISALLOWED"], // Controls
    [0x7f, "DISALLOWED"],
    [0xe9, "PVALID"], // LetterDigits
    [0x00df, "PVALID"], // Exceptions
    [0x03c2, "PVALID"],
    [0x0640, "DISALLOWED"], // Exceptions (TATWEEL)
    [0x00b7, "CONTEXTO"],
    [0x0663, "CONTEXTO"],
    [0x200c, "CONTEXTJ"],
    [0x200d, "CONTEXTJ"],
    [0x1100, "DISALLOWED"], // OldHangulJamo
    [0xac00, "PVALID"], // precomposed Hangul syllable
    [0x00ad, "DISALLOWED"], // default ignorable
    [0xfdd0, "DISALLOWED"], // noncharacter
    [0x2163, "FREE_PVAL"], // HasCompat (ROMAN NUMERAL FOUR)
    [0xff21, "FREE_PVAL"], // HasCompat (fullwidth A)
    [0x01c5, "FREE_PVAL"], // Lt, also HasCompat
    [0x2666, "FREE_PVAL"], // Symbols
    [0x00a1, "FREE_PVAL"], // Punctuation
    [0x0378, "UNASSIGNED"],
    [0xe000, "DISALLOWED"], // private use
    [0xd800, "DISALLOWED"], // surrogate
    [0x2028, "DISALLOWED"], // Zl
  ])("U+%s", (cp, want) => {
    expect(derivedProperty(cp)).toBe(want);
  });
  it("rejects non-code-points", () => {
    expect(() => derivedProperty(0x110000)).toThrow(RangeError);
  });
});

describe("UsernameCaseMapped (RFC 8265 §3.3)", () => {
  // RFC 8265 §3.5, Table 3.
  it.each([
    ["juliet@example.com", "juliet@example.com"],
    ["fussball", "fussball"],
    ["fußball", "fußball"],
    ["π", "π"],
    ["Σ", "σ"],
    ["σ", "σ"],
    ["ς", "ς"],
  ])("accepts %j → %j", (input, out) => {
    expect(usernameCaseMapped(input)).toBe(out);
  });
  it.each([
    ["\u0020", "disallowed"],
    ["", "empty"],
    ["henry\u2163", "disallowed"],
    ["\u265a", "disallowed"],
  ])("rejects %j (%s)", (input, why) => {
    expect(code(() => usernameCaseMapped(input))).toBe(why);
  });

  it("maps fullwidth and halfwidth code points before the class check", () => {
    expect(usernameCaseMapped("ＪＵＬＩＥＴ")).toBe("juliet");
    expect(usernameCaseMapped("ｶﾞ")).toBe("\u30ac"); // halfwidth KA + voiced mark → NFC GA
    expect(widthMap("\uffa1")).toBe("\u3131"); // halfwidth Hangul → compatibility jamo, not NFKC's U+1100
    expect(widthMap("\uffe3")).toBe("\u00af");
    expect(widthMap("abc")).toBe("abc");
  });

  it("uses Unicode toLowerCase (with Final_Sigma), not case folding", () => {
    expect(usernameCaseMapped("ΣΑΣ")).toBe("σας");
    expect(usernameCaseMapped("Straße")).toBe("straße"); // case folding would give "strasse"
    expect(usernameCaseMapped("\u0130")).toBe("i\u0307");
  });

  it("applies NFC", () => {
    expect(usernameCaseMapped("E\u0301")).toBe("\u00e9");
  });

  it("enforces contextual rules", () => {
    expect(usernameCaseMapped("l·l")).toBe("l·l");
    expect(code(() => usernameCaseMapped("a·b"))).toBe("context");
    expect(usernameCaseMapped("\u0375\u03b1")).toBe("\u0375\u03b1");
    expect(code(() => usernameCaseMapped("\u0375a"))).toBe("context");
    expect(usernameCaseMapped("\u05e9\u05f3")).toBe("\u05e9\u05f3");
    expect(code(() => usernameCaseMapped("a\u05f3"))).toBe("context");
    expect(usernameCaseMapped("ア・イ")).toBe("ア・イ");
    expect(code(() => usernameCaseMapped("a・b"))).toBe("context");
    expect(code(() => usernameCaseMapped("\u0660\u06f0"))).toBe("context");
    expect(usernameCaseMapped("\u0628\u0661\u0662")).toBe("\u0628\u0661\u0662");
  });

  it("ZWNJ: after a virama, or between joining letters", () => {
    expect(usernameCaseMapped("\u0915\u094d\u200c\u0937")).toBe("\u0915\u094d\u200c\u0937");
    expect(usernameCaseMapped("می‌خواهم")).toBe("می‌خواهم"); // Persian, YEH (D) ZWNJ KHAH (D)
    expect(code(() => usernameCaseMapped("a\u200cb"))).toBe("context");
    expect(code(() => usernameCaseMapped("\u0631\u200c\u0628"))).toBe("context"); // REH is right-joining only
    expect(code(() => usernameCaseMapped("\u200c\u0628"))).toBe("context");
  });

  it("detects viramas through canonical reordering", () => {
    expect(isVirama(0x094d)).toBe(true); // DEVANAGARI SIGN VIRAMA
    expect(isVirama(0x0d4d)).toBe(true); // MALAYALAM SIGN VIRAMA
    expect(isVirama(0x093c)).toBe(false); // NUKTA, ccc 7
    expect(isVirama(0x3099)).toBe(false); // ccc 8
    expect(isVirama(0x05b0)).toBe(false); // ccc 10
    expect(isVirama(0x61)).toBe(false);
  });

  it("applies the Bidi Rule to strings with right-to-left code points", () => {
    expect(usernameCaseMapped("שלום")).toBe("שלום");
    expect(usernameCaseMapped("ש1")).toBe("ש1");
    expect(usernameCaseMapped("\u05e9\u05b0")).toBe("\u05e9\u05b0"); // trailing NSM
    expect(code(() => usernameCaseMapped("abcש"))).toBe("bidi"); // LTR label with R
    expect(code(() => usernameCaseMapped("1ש"))).toBe("bidi"); // rule 1
    expect(code(() => usernameCaseMapped("ש-"))).toBe("bidi"); // rule 3
    expect(code(() => usernameCaseMapped("\u0628\u0661" + "2"))).toBe("bidi"); // rule 4: AN and EN
    expect(code(() => usernameCaseMapped("שa"))).toBe("bidi"); // rule 2
    expect(bidiRuleViolation(cps("abc-1"))).toBe(-1); // no RTL: rule does not apply
    expect(bidiRuleViolation(cps("\u0627\u0644\u0639\u0631\u0628\u064a\u0629"))).toBe(-1);
  });

  it("rejects old Hangul jamo and accepts precomposed syllables", () => {
    expect(code(() => usernameCaseMapped("\u1100\u1161"))).toBe(undefined); // NFC composes to U+AC00
    expect(usernameCaseMapped("\u1100\u1161")).toBe("\uac00");
    expect(code(() => usernameCaseMapped("\u1100"))).toBe("disallowed");
  });

  it("reports the code point and its index", () => {
    try {
      usernameCaseMapped("ab c");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PrecisError);
      expect((e as PrecisError).codePoint).toBe(0x20);
      expect((e as PrecisError).index).toBe(2);
    }
  });
});

describe("UsernameCasePreserved (RFC 8265 §3.4)", () => {
  it("keeps case, maps width, applies NFC", () => {
    expect(usernameCasePreserved("Juliet")).toBe("Juliet");
    expect(usernameCasePreserved("ＪＵＬＩＥＴ")).toBe("JULIET");
    expect(usernameCasePreserved("Σ")).toBe("Σ");
    expect(code(() => usernameCasePreserved("henry\u2163"))).toBe("disallowed");
    expect(code(() => usernameCasePreserved(""))).toBe("empty");
  });
});

describe("Nickname (RFC 8266)", () => {
  // RFC 8266 §4, Table 1: input, enforced output, comparison key.
  it.each([
    ["Foo", "Foo", "foo"],
    ["foo", "foo", "foo"],
    ["Foo Bar", "Foo Bar", "foo bar"],
    ["foo bar", "foo bar", "foo bar"],
    ["\u03a3", "\u03a3", "\u03c3"],
    ["\u03c3", "\u03c3", "\u03c3"],
    ["\u03c2", "\u03c2", "\u03c2"],
    ["\u03d4", "\u03ab", "\u03cb"],
    ["\u221e", "\u221e", "\u221e"],
    ["Richard \u2163", "Richard IV", "richard iv"],
  ])("%j → %j, compared as %j", (input, enforced, key) => {
    expect(nickname(input)).toBe(enforced);
    expect(nicknameComparisonKey(input)).toBe(key);
  });

  it("maps, trims and collapses spaces", () => {
    expect(nickname("  Foo   Bar  ")).toBe("Foo Bar");
    expect(nickname("\u3000Foo\u00a0\u2003Bar\u205f")).toBe("Foo Bar");
    expect(nickname("\u00a8a")).toBe("\u0308a"); // NFKC yields a leading space: rules re-applied until stable
  });

  it("rejects empty results and disallowed code points", () => {
    expect(code(() => nickname(""))).toBe("empty");
    expect(code(() => nickname("   "))).toBe("empty");
    expect(code(() => nickname("\u00a0\u3000"))).toBe("empty");
    expect(code(() => nickname("a\tb"))).toBe("disallowed");
    expect(code(() => nickname("a\u200bb"))).toBe("disallowed");
  });

  it("compares case-insensitively after NFKC and never throws", () => {
    expect(nicknameCompare("Foo Bar", "  foo   bar")).toBe(true);
    expect(nicknameCompare("Richard \u2163", "richard iv")).toBe(true);
    expect(nicknameCompare("ＦＯＯ", "foo")).toBe(true);
    expect(nicknameCompare("foo", "bar")).toBe(false);
    expect(nicknameCompare("", "")).toBe(false);
  });

  it("has no directionality rule", () => {
    expect(nickname("abc שלום")).toBe("abc שלום");
  });
});

describe("class helpers", () => {
  it("isIdentifierClass / isFreeformClass", () => {
    expect(isIdentifierClass("juliet")).toBe(true);
    expect(isIdentifierClass("a b")).toBe(false);
    expect(isFreeformClass("a b")).toBe(true);
    expect(isFreeformClass("a\u0000b")).toBe(false);
    expect(isIdentifierClass("l·l")).toBe(true);
    expect(isIdentifierClass("a·a")).toBe(false);
    expect(isIdentifierClass("ＡＢ")).toBe(false); // no mapping in the class check
  });
});

describe("properties", () => {
  const anyString = fc.oneof(
    fc.string({ unit: "grapheme-composite", maxLength: 16 }),
    fc.string({ unit: "binary", maxLength: 16 }),
    fc.string({ maxLength: 16 }),
  );
  const profiles = [usernameCaseMapped, usernameCasePreserved, nickname, nicknameComparisonKey];

  it("enforcement is idempotent and throws only PrecisError", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        for (const p of profiles) {
          if (code(() => p(s)) !== undefined) continue;
          const once = p(s);
          expect(p(once)).toBe(once);
        }
      }),
      fuzz(500),
    );
  });

  it("an enforced username is IdentifierClass, an enforced nickname FreeformClass", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        if (code(() => usernameCaseMapped(s)) === undefined) expect(isIdentifierClass(usernameCaseMapped(s))).toBe(true);
        if (code(() => nickname(s)) === undefined) expect(isFreeformClass(nickname(s))).toBe(true);
      }),
      fuzz(300),
    );
  });

  it("ASCII fast paths agree with the full pipeline", () => {
    const ascii = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((n) => String.fromCharCode(n)), minLength: 1 });
    fc.assert(
      fc.property(ascii, (s) => {
        // appending é forces the slow path and changes nothing else
        expect(usernameCaseMapped(`${s}\u00e9`)).toBe(`${usernameCaseMapped(s)}\u00e9`);
        expect(usernameCasePreserved(`${s}\u00c9`)).toBe(`${usernameCasePreserved(s)}\u00c9`);
        expect(nickname(` ${s}  ${s}\u00a0`)).toBe(nickname(` ${s}  ${s} `));
      }),
      fuzz(100),
    );
  });

  it("case-mapped is the lowercase of case-preserved when both accept", () => {
    fc.assert(
      fc.property(anyString, (s) => {
        if (code(() => usernameCasePreserved(s)) !== undefined) return;
        if (code(() => usernameCaseMapped(s)) !== undefined) return;
        expect(usernameCaseMapped(usernameCasePreserved(s))).toBe(usernameCaseMapped(s));
      }),
      fuzz(100),
    );
  });
});
