/**
 * The PRECIS derived property (RFC 8264 §8 and §9), computed from the Unicode data the JavaScript engine
 * ships: regular-expression property escapes for General_Category and the binary properties, and
 * `String.prototype.normalize` for HasCompat. No generated tables.
 */

/**
 * Value of the PRECIS derived property of a code point (RFC 8264 §8).
 *
 * `FREE_PVAL` is the RFC's "ID_DIS or FREE_PVAL": valid in FreeformClass, disallowed in IdentifierClass.
 */
export type DerivedProperty = "PVALID" | "FREE_PVAL" | "CONTEXTJ" | "CONTEXTO" | "DISALLOWED" | "UNASSIGNED";

// RFC 5892 §2.6 Exceptions (F).
const EXCEPTIONS = new Map<number, DerivedProperty>([
  [0x00df, "PVALID"],
  [0x03c2, "PVALID"],
  [0x06fd, "PVALID"],
  [0x06fe, "PVALID"],
  [0x0f0b, "PVALID"],
  [0x3007, "PVALID"],
  [0x00b7, "CONTEXTO"],
  [0x0375, "CONTEXTO"],
  [0x05f3, "CONTEXTO"],
  [0x05f4, "CONTEXTO"],
  [0x30fb, "CONTEXTO"],
  [0x0640, "DISALLOWED"],
  [0x07fa, "DISALLOWED"],
  [0x302e, "DISALLOWED"],
  [0x302f, "DISALLOWED"],
  [0x3031, "DISALLOWED"],
  [0x3032, "DISALLOWED"],
  [0x3033, "DISALLOWED"],
  [0x3034, "DISALLOWED"],
  [0x3035, "DISALLOWED"],
  [0x303b, "DISALLOWED"],
]);
for (let cp = 0x0660; cp <= 0x0669; cp++) EXCEPTIONS.set(cp, "CONTEXTO");
for (let cp = 0x06f0; cp <= 0x06f9; cp++) EXCEPTIONS.set(cp, "CONTEXTO");

const RE_UNASSIGNED = /^\p{Cn}$/u;
const RE_NONCHARACTER = /^\p{Noncharacter_Code_Point}$/u;
const RE_DEFAULT_IGNORABLE = /^\p{Default_Ignorable_Code_Point}$/u;
const RE_CONTROL = /^\p{Cc}$/u;
const RE_LETTER_DIGITS = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u;
const RE_OTHER_LETTER_DIGITS = /^[\p{Lt}\p{Nl}\p{No}\p{Me}]$/u;
const RE_SPACES = /^\p{Zs}$/u;
const RE_SYMBOLS = /^[\p{Sm}\p{Sc}\p{Sk}\p{So}]$/u;
const RE_PUNCTUATION = /^\p{P}$/u;

/**
 * OldHangulJamo (I): Hangul_Syllable_Type L, V or T. ECMAScript has no escape for that property; the ranges
 * are fixed by Unicode's stability of the conjoining jamo blocks.
 */
function isOldHangulJamo(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97c) || (cp >= 0xd7b0 && cp <= 0xd7c6) || (cp >= 0xd7cb && cp <= 0xd7fb)
  );
}

function compute(cp: number): DerivedProperty {
  const ex = EXCEPTIONS.get(cp);
  if (ex !== undefined) return ex; // Exceptions (F); BackwardCompatible (G) is empty.
  const s = String.fromCodePoint(cp);
  if (RE_UNASSIGNED.test(s) && !RE_NONCHARACTER.test(s)) return "UNASSIGNED"; // (J)
  if (cp >= 0x21 && cp <= 0x7e) return "PVALID"; // ASCII7 (K)
  if (cp === 0x200c || cp === 0x200d) return "CONTEXTJ"; // JoinControl (H)
  if (isOldHangulJamo(cp)) return "DISALLOWED"; // (I)
  if (RE_DEFAULT_IGNORABLE.test(s) || RE_NONCHARACTER.test(s)) return "DISALLOWED"; // PrecisIgnorableProperties (M)
  if (RE_CONTROL.test(s)) return "DISALLOWED"; // Controls (L)
  if (s.normalize("NFKC") !== s) return "FREE_PVAL"; // HasCompat (Q)
  if (RE_LETTER_DIGITS.test(s)) return "PVALID"; // LetterDigits (A)
  if (RE_OTHER_LETTER_DIGITS.test(s) || RE_SPACES.test(s) || RE_SYMBOLS.test(s) || RE_PUNCTUATION.test(s)) {
    return "FREE_PVAL"; // OtherLetterDigits (R), Spaces (N), Symbols (O), Punctuation (P)
  }
  return "DISALLOWED"; // everything else, including surrogates, private use, Zl, Zp and other Cf
}

// Small bounded memo for non-ASCII code points: usernames and nicknames reuse a handful of scripts.
const MEMO = new Map<number, DerivedProperty>();
const MEMO_MAX = 8192;

/**
 * The PRECIS derived property of one code point (RFC 8264 §9), evaluated against the Unicode version of
 * the JavaScript engine (see `README.md`). Lone surrogates are `DISALLOWED`.
 */
export function derivedProperty(cp: number): DerivedProperty {
  if (cp >= 0x21 && cp <= 0x7e) return "PVALID";
  if (cp < 0 || cp > 0x10ffff || !Number.isInteger(cp)) throw new RangeError(`not a code point: ${cp}`);
  let v = MEMO.get(cp);
  if (v === undefined) {
    v = compute(cp);
    if (MEMO.size >= MEMO_MAX) MEMO.clear();
    MEMO.set(cp, v);
  }
  return v;
}
