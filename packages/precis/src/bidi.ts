/**
 * The "Bidi Rule" of RFC 5893 §2, as required by the UsernameCaseMapped and UsernameCasePreserved profiles
 * (RFC 8265 §3.3.1 item 5) and by IDNA2008 domain labels.
 *
 * ECMAScript has no property escape for Bidi_Class. The classifier below derives it from the General
 * Category, the default right-to-left blocks of DerivedBidiClass.txt and a few explicit code points. It is
 * exact for the code points IdentifierClass admits (letters, marks, digits, ASCII), which is the only
 * repertoire the rule is applied to here; it is not a general Bidi_Class implementation.
 */

/** Simplified Bidi_Class: AL is folded into R; classes the rule never accepts are `X`. */
export type BidiClass = "L" | "R" | "AN" | "EN" | "ES" | "CS" | "ET" | "ON" | "BN" | "NSM" | "X";

/** Default R/AL blocks (DerivedBidiClass.txt @missing lines). */
const RTL_BLOCKS: readonly (readonly [number, number])[] = [
  [0x0590, 0x08ff],
  [0xfb1d, 0xfdcf],
  [0xfdf0, 0xfdff],
  [0xfe70, 0xfeff],
  [0x10800, 0x10fff],
  [0x1e800, 0x1efff],
];

function inRtlBlock(cp: number): boolean {
  for (const [lo, hi] of RTL_BLOCKS) if (cp >= lo && cp <= hi) return true;
  return false;
}

const RE_NSM = /^[\p{Mn}\p{Me}]$/u;
const RE_LETTERISH = /^[\p{L}\p{Mc}\p{Nd}\p{Nl}]$/u;
const RE_DIGIT = /^\p{Nd}$/u;
const RE_IGNORABLE = /^[\p{Default_Ignorable_Code_Point}\p{Cc}]$/u;
const RE_SPACE = /^[\p{Zs}\p{Zl}\p{Zp}]$/u;
const RE_CURRENCY = /^\p{Sc}$/u;
/** Modifier letters that are ON, not L (Spacing Modifier Letters block and a few others). */
const RE_ON_LM = /^[\u02b9\u02ba\u02c2-\u02cf\u02d2-\u02df\u02e5-\u02ed\u02ef-\u02ff\u2e2f\ua67f\ua717-\ua721\ua788]$/u;
/** Non-spacing marks and one punctuation mark whose Bidi_Class is L. */
const L_EXCEPTIONS = new Set([0x0cbf, 0x0cc6, 0x0f0b, 0x11a07, 0x11a08, 0x11c3f]);

function asciiClass(cp: number): BidiClass {
  if (cp >= 0x30 && cp <= 0x39) return "EN";
  if ((cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)) return "L";
  if (cp === 0x2b || cp === 0x2d) return "ES";
  if (cp === 0x2c || cp === 0x2e || cp === 0x2f || cp === 0x3a) return "CS";
  if (cp === 0x23 || cp === 0x24 || cp === 0x25) return "ET";
  if (cp === 0x20) return "X"; // WS
  if (cp < 0x20 || cp === 0x7f) return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x1f) ? "X" : "BN";
  return "ON";
}

/** Approximate Bidi_Class of a code point; exact on the IdentifierClass repertoire (see module doc). */
export function bidiClass(cp: number): BidiClass {
  if (cp < 0x80) return asciiClass(cp);
  if ((cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x10d30 && cp <= 0x10d39)) return "AN";
  if (cp >= 0x06f0 && cp <= 0x06f9) return "EN";
  if (cp === 0x05f3 || cp === 0x05f4 || cp === 0x06fd || cp === 0x06fe) return "R";
  if (L_EXCEPTIONS.has(cp)) return "L";
  const c = String.fromCodePoint(cp);
  if (RE_NSM.test(c)) return "NSM";
  if (RE_LETTERISH.test(c)) {
    if (RE_ON_LM.test(c)) return "ON";
    if (inRtlBlock(cp)) return "R";
    if (RE_DIGIT.test(c) && c.normalize("NFKC") !== c) return "EN"; // compatibility digits (fullwidth, math)
    return "L";
  }
  if (RE_IGNORABLE.test(c)) return "BN";
  if (RE_SPACE.test(c)) return "X";
  if (RE_CURRENCY.test(c)) return "ET";
  return inRtlBlock(cp) ? "R" : "ON";
}

const RTL_ALLOWED = new Set<BidiClass>(["R", "AN", "EN", "ES", "CS", "ET", "ON", "BN", "NSM"]);
const LTR_ALLOWED = new Set<BidiClass>(["L", "EN", "ES", "CS", "ET", "ON", "BN", "NSM"]);

/** Whether the code points include a right-to-left one (Bidi_Class R, AL or AN; RFC 5893 §1.4). */
export function hasRightToLeft(cps: readonly number[]): boolean {
  return cps.some((cp) => {
    const k = bidiClass(cp);
    return k === "R" || k === "AN";
  });
}

/**
 * Checks the RFC 5893 Bidi Rule on a sequence of code points. By default the rule is only applied when the
 * string contains a right-to-left code point (as the Username profiles require); with `always` it is
 * applied regardless (IDNA: every label of a domain name that has a right-to-left label). Returns the
 * index (in code points) of the first offending code point, or -1 when the rule holds or does not apply.
 */
export function bidiRuleViolation(cps: readonly number[], always = false): number {
  const classes = cps.map(bidiClass);
  if (!always && !classes.some((k) => k === "R" || k === "AN")) return -1;
  const first = classes[0];
  let allowed: Set<BidiClass>;
  if (first === "R") allowed = RTL_ALLOWED;
  else if (first === "L") allowed = LTR_ALLOWED;
  else return 0; // rule 1
  for (let i = 0; i < classes.length; i++) if (!allowed.has(classes[i]!)) return i; // rules 2 and 5
  let end = classes.length - 1;
  while (end > 0 && classes[end] === "NSM") end--;
  const last = classes[end]!;
  if (first === "R") {
    if (last !== "R" && last !== "EN" && last !== "AN") return end; // rule 3
    if (classes.includes("EN") && classes.includes("AN")) return Math.max(classes.indexOf("EN"), classes.indexOf("AN")); // rule 4
  } else if (last !== "L" && last !== "EN") return end; // rule 6
  return -1;
}
