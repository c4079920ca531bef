import { bidiRuleViolation } from "./bidi.js";
import { contextRuleHolds } from "./context.js";
import { formatCodePoint, PrecisError } from "./errors.js";
import { derivedProperty } from "./properties.js";

/** The two PRECIS base string classes (RFC 8264 §4). */
export type StringClass = "identifier" | "freeform";

// ---------------------------------------------------------------------------------------------------------
// Width mapping (RFC 8265 §3.3.1 item 1): fullwidth and halfwidth code points to their <wide>/<narrow>
// decomposition mapping. That mapping is one step of the compatibility decomposition, so NFKC of the single
// code point gives it, except where NFKC goes further (U+FFE3 and the halfwidth Hangul letters, whose
// targets have <compat> decompositions of their own); those are handled explicitly.

/** Halfwidth Hangul FFA0..FFDC → Hangul Compatibility Jamo 3164, 3131..3163 (runs of the block). */
function halfwidthHangul(cp: number): number | undefined {
  if (cp === 0xffa0) return 0x3164;
  if (cp >= 0xffa1 && cp <= 0xffbe) return cp - 0xffa1 + 0x3131;
  if (cp >= 0xffc2 && cp <= 0xffc7) return cp - 0xffc2 + 0x314f;
  if (cp >= 0xffca && cp <= 0xffcf) return cp - 0xffca + 0x3155;
  if (cp >= 0xffd2 && cp <= 0xffd7) return cp - 0xffd2 + 0x315b;
  if (cp >= 0xffda && cp <= 0xffdc) return cp - 0xffda + 0x3161;
  return undefined;
}

function widthMapCodePoint(cp: number): number {
  if (cp === 0x3000) return 0x20;
  if (cp < 0xff01 || cp > 0xffee) return cp;
  if (cp <= 0xff5e) return cp - 0xfee0;
  if (cp >= 0xffa0 && cp <= 0xffdc) return halfwidthHangul(cp) ?? cp;
  if (cp === 0xffe3) return 0x00af;
  const c = String.fromCodePoint(cp);
  const n = c.normalize("NFKC");
  const m = n.codePointAt(0);
  return m !== undefined && n.length === String.fromCodePoint(m).length ? m : cp;
}

const RE_MAY_NEED_WIDTH_MAPPING = /[\u3000\uff01-\uffee]/;

/** Applies the width-mapping rule of the Username profiles to a whole string. */
export function widthMap(s: string): string {
  if (!RE_MAY_NEED_WIDTH_MAPPING.test(s)) return s;
  let out = "";
  for (const c of s) out += String.fromCodePoint(widthMapCodePoint(c.codePointAt(0)!));
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Class checks.

function codePoints(s: string): number[] {
  const cps: number[] = [];
  for (const c of s) cps.push(c.codePointAt(0)!);
  return cps;
}

/** Throws unless every code point of `cps` is allowed in the class (with contextual rules). */
function checkClass(cps: readonly number[], cls: StringClass): void {
  let index = 0;
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i]!;
    const p = derivedProperty(cp);
    const at = `${formatCodePoint(cp)} at index ${index}`;
    switch (p) {
      case "PVALID":
        break;
      case "FREE_PVAL":
        if (cls === "identifier") throw new PrecisError("disallowed", `${at} is not allowed in IdentifierClass`, cp, index);
        break;
      case "CONTEXTJ":
      case "CONTEXTO":
        if (!contextRuleHolds(cps, i)) throw new PrecisError("context", `${at} is not allowed in this context (RFC 5892 Appendix A)`, cp, index);
        break;
      case "UNASSIGNED":
        throw new PrecisError("unassigned", `${at} is unassigned in Unicode ${unicodeVersionHint}`, cp, index);
      default:
        throw new PrecisError("disallowed", `${at} is disallowed`, cp, index);
    }
    index += cp > 0xffff ? 2 : 1;
  }
}

const unicodeVersionHint = "as known to this JavaScript engine";

function isClass(s: string, cls: StringClass): boolean {
  try {
    checkClass(codePoints(s), cls);
    return true;
  } catch (e) {
    if (e instanceof PrecisError) return false;
    throw e;
  }
}

/**
 * Whether every code point of `s` is valid in the PRECIS IdentifierClass (RFC 8264 §4.2), contextual rules
 * included. No mapping is applied: this is the "preparation" check of the Username profiles without width
 * mapping.
 */
export function isIdentifierClass(s: string): boolean {
  return isClass(s, "identifier");
}

/** Whether every code point of `s` is valid in the PRECIS FreeformClass (RFC 8264 §4.3). No mapping applied. */
export function isFreeformClass(s: string): boolean {
  return isClass(s, "freeform");
}

// ---------------------------------------------------------------------------------------------------------
// The profiles.

interface Profile {
  readonly name: string;
  readonly cls: StringClass;
  readonly rules: (s: string) => string;
  readonly bidi: boolean;
}

/** Non-ASCII spaces (Zs other than U+0020). */
const RE_NON_ASCII_SPACE = /(?!\u0020)\p{Zs}/gu;

const USERNAME_CASE_MAPPED: Profile = {
  name: "UsernameCaseMapped",
  cls: "identifier",
  rules: (s) => widthMap(s).toLowerCase().normalize("NFC"),
  bidi: true,
};
const USERNAME_CASE_PRESERVED: Profile = {
  name: "UsernameCasePreserved",
  cls: "identifier",
  rules: (s) => widthMap(s).normalize("NFC"),
  bidi: true,
};
const OPAQUE_STRING: Profile = {
  name: "OpaqueString",
  cls: "freeform",
  rules: (s) => s.replace(RE_NON_ASCII_SPACE, " ").normalize("NFC"),
  bidi: false,
};
const NICKNAME: Profile = {
  name: "Nickname",
  cls: "freeform",
  rules: (s) =>
    s
      .replace(RE_NON_ASCII_SPACE, " ")
      .replace(/^ +| +$/g, "")
      .replace(/ {2,}/g, " ")
      .normalize("NFKC"),
  bidi: false,
};

/**
 * Applies the profile's rules until the output is stable: RFC 8264 §7 asks for re-application, and for
 * rejection when three further rounds do not stabilise the string.
 */
function applyStable(input: string, profile: Profile): string {
  let s = profile.rules(input);
  for (let round = 0; round < 3; round++) {
    const t = profile.rules(s);
    if (t === s) return s;
    s = t;
  }
  throw new PrecisError("unstable", `${profile.name}: applying the rules does not give a stable string`);
}

function enforce(input: string, profile: Profile): string {
  const s = applyStable(input, profile);
  const cps = codePoints(s);
  checkClass(cps, profile.cls);
  if (profile.bidi) {
    const bad = bidiRuleViolation(cps);
    if (bad >= 0) {
      const cp = cps[bad]!;
      throw new PrecisError("bidi", `${profile.name}: the string violates the Bidi Rule (RFC 5893) at ${formatCodePoint(cp)}`, cp);
    }
  }
  if (s.length === 0) throw new PrecisError("empty", `${profile.name}: the string is empty`);
  return s;
}

// Fast paths: printable ASCII needs none of the Unicode machinery (every such code point is PVALID, or
// FREE_PVAL for U+0020, no mapping other than ASCII case changes anything, no RTL code point exists).
const RE_ASCII_PRINTABLE_NO_SPACE = /^[\x21-\x7e]+$/;
const RE_ASCII_PRINTABLE = /^[\x20-\x7e]+$/;

/**
 * Enforces the OpaqueString profile (RFC 8265 §4.2) — the profile for passwords and other secrets: non-ASCII
 * spaces are mapped to U+0020, the string is normalized to NFC and must be non-empty FreeformClass. Case and
 * width are preserved.
 *
 * @returns the enforced string, to be compared byte for byte or hashed (e.g. as the SCRAM/PLAIN password)
 * @throws {@link PrecisError} if the string is empty or contains a disallowed code point (controls, ...)
 * @example
 * ```ts
 * opaqueString("correct\u1680horse") // "correct horse" (OGHAM SPACE MARK mapped to SPACE)
 * ```
 */
export function opaqueString(input: string): string {
  if (RE_ASCII_PRINTABLE.test(input)) return input;
  return enforce(input, OPAQUE_STRING);
}

/**
 * Enforces the UsernameCaseMapped profile (RFC 8265 §3.3), used for JID localparts (RFC 7622 §3.3):
 * width mapping, Unicode `toLowerCase()`, NFC, IdentifierClass, the Bidi Rule, non-empty.
 *
 * @throws {@link PrecisError}
 * @example
 * ```ts
 * usernameCaseMapped("Juliet") // "juliet"
 * usernameCaseMapped("ＪＵＬＩＥＴ") // "juliet" (fullwidth mapped)
 * ```
 */
export function usernameCaseMapped(input: string): string {
  if (RE_ASCII_PRINTABLE_NO_SPACE.test(input)) return input.toLowerCase();
  return enforce(input, USERNAME_CASE_MAPPED);
}

/**
 * Enforces the UsernameCasePreserved profile (RFC 8265 §3.4): as {@link usernameCaseMapped} without the case
 * mapping.
 *
 * @throws {@link PrecisError}
 */
export function usernameCasePreserved(input: string): string {
  if (RE_ASCII_PRINTABLE_NO_SPACE.test(input)) return input;
  return enforce(input, USERNAME_CASE_PRESERVED);
}

/**
 * Enforces the Nickname profile (RFC 8266 §2.4): non-ASCII spaces to U+0020, leading and trailing spaces
 * removed, runs of spaces collapsed, NFKC, FreeformClass, non-empty. Case is preserved (it only matters for
 * comparison, see {@link nicknameCompare}). The profile has no directionality rule.
 *
 * @throws {@link PrecisError}
 * @example
 * ```ts
 * nickname("  Richard \u2163 ") // "Richard IV"
 * ```
 */
export function nickname(input: string): string {
  if (RE_ASCII_PRINTABLE.test(input) || input === "") {
    const s = input.replace(/^ +| +$/g, "").replace(/ {2,}/g, " ");
    if (s.length === 0) throw new PrecisError("empty", "Nickname: the string is empty");
    return s;
  }
  return enforce(input, NICKNAME);
}

/**
 * The form under which two nicknames are compared (RFC 8266 §2.5): the enforced nickname, then Unicode
 * `toLowerCase()` and NFKC again.
 *
 * @throws {@link PrecisError} if the nickname cannot be enforced
 */
export function nicknameComparisonKey(input: string): string {
  let s = nickname(input);
  for (let round = 0; round < 4; round++) {
    const t = s.toLowerCase().normalize("NFKC");
    if (t === s) return s;
    s = t;
  }
  throw new PrecisError("unstable", "Nickname: case mapping does not give a stable string");
}

/**
 * Compares two nicknames per RFC 8266 §2.5. A string that cannot be enforced is equal to nothing, so this
 * never throws.
 */
export function nicknameCompare(a: string, b: string): boolean {
  try {
    return nicknameComparisonKey(a) === nicknameComparisonKey(b);
  } catch (e) {
    if (e instanceof PrecisError) return false;
    throw e;
  }
}
