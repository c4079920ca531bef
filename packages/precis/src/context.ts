/**
 * Contextual rules for CONTEXTJ and CONTEXTO code points (RFC 5892 Appendix A), as used by PRECIS
 * (RFC 8264 §9.2/§9.3).
 */

const RE_GREEK = /^\p{Script=Greek}$/u;
const RE_HEBREW = /^\p{Script=Hebrew}$/u;
const RE_KANA_HAN = /^[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]$/u;
const RE_TRANSPARENT = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const RE_LETTER = /^\p{L}$/u;
const RE_JOINING_SCRIPT =
  /^[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Nko}\p{Script=Mongolian}\p{Script=Mandaic}\p{Script=Phags_Pa}\p{Script=Manichaean}\p{Script=Psalter_Pahlavi}\p{Script=Hanifi_Rohingya}\p{Script=Sogdian}\p{Script=Adlam}\p{Script=Old_Uyghur}\p{Script=Chorasmian}]$/u;

const ch = (cp: number) => String.fromCodePoint(cp);

/**
 * Canonical_Combining_Class(cp) == Virama (9). ECMAScript exposes no ccc, but canonical reordering does:
 * NFD swaps two adjacent marks when the first has the higher non-zero class. A mark with ccc 9 moves after
 * U+3099 (ccc 8) and stays before U+05B0 (ccc 10), and no other class does both.
 */
export function isVirama(cp: number): boolean {
  if (cp === 0x3099 || cp === 0x05b0) return false; // the two probes themselves
  const c = ch(cp);
  if (c.normalize("NFD") !== c) return false;
  return `${c}\u3099`.normalize("NFD") === `\u3099${c}` && `\u05b0${c}`.normalize("NFD") === `${c}\u05b0`;
}

type JoiningType = "D" | "R" | "L" | "T" | "U";

/**
 * Joining_Type of the Arabic letters that have presentation forms, derived from those forms: a letter
 * with initial or medial forms is dual-joining (D), one with only isolated and final forms is
 * right-joining (R), one with a single (isolated) form does not join (U). Built once, lazily.
 */
let arabicForms: Map<number, JoiningType> | undefined;
function arabicJoiningType(cp: number): JoiningType | undefined {
  if (arabicForms === undefined) {
    const counts = new Map<number, number>();
    const scan = (from: number, to: number) => {
      for (let p = from; p <= to; p++) {
        const n = ch(p).normalize("NFKC");
        const base = n.codePointAt(0)!;
        if (n.length === 1 && n !== ch(p) && RE_LETTER.test(n)) counts.set(base, (counts.get(base) ?? 0) + 1);
      }
    };
    scan(0xfb50, 0xfdff);
    scan(0xfe70, 0xfeff);
    arabicForms = new Map();
    for (const [base, n] of counts) arabicForms.set(base, n >= 3 ? "D" : n === 2 ? "R" : "U");
  }
  return arabicForms.get(cp);
}

/**
 * Joining_Type (Unicode ArabicShaping.txt), approximated without a table: T for Mn/Me/Cf (the file's own
 * default rule); for Arabic letters, derived from presentation forms; other letters of cursive joining
 * scripts are treated as dual-joining (D), which is permissive for the few right-joining ones.
 */
function joiningType(cp: number): JoiningType {
  if (cp === 0x200c) return "U";
  if (cp === 0x200d) return "U"; // Join_Causing; neither L/D nor R/D nor T in the ZWNJ rule
  const c = ch(cp);
  if (RE_TRANSPARENT.test(c)) return "T";
  const arabic = arabicJoiningType(cp);
  if (arabic !== undefined) return arabic;
  if (RE_LETTER.test(c) && RE_JOINING_SCRIPT.test(c)) return "D";
  return "U";
}

/**
 * Whether the contextual rule for the CONTEXTJ/CONTEXTO code point at `cps[i]` is satisfied.
 * Code points without a rule return false (RFC 8264: no rule means not allowed).
 */
export function contextRuleHolds(cps: readonly number[], i: number): boolean {
  const cp = cps[i]!;
  const before = i > 0 ? cps[i - 1] : undefined;
  const after = i + 1 < cps.length ? cps[i + 1] : undefined;
  switch (cp) {
    case 0x200c: {
      // ZERO WIDTH NON-JOINER
      if (before !== undefined && isVirama(before)) return true;
      let j = i - 1;
      while (j >= 0 && joiningType(cps[j]!) === "T") j--;
      if (j < 0) return false;
      const left = joiningType(cps[j]!);
      if (left !== "L" && left !== "D") return false;
      let k = i + 1;
      while (k < cps.length && joiningType(cps[k]!) === "T") k++;
      if (k >= cps.length) return false;
      const right = joiningType(cps[k]!);
      return right === "R" || right === "D";
    }
    case 0x200d: // ZERO WIDTH JOINER
      return before !== undefined && isVirama(before);
    case 0x00b7: // MIDDLE DOT: only between two 'l' (Catalan l·l)
      return before === 0x6c && after === 0x6c;
    case 0x0375: // GREEK LOWER NUMERAL SIGN (KERAIA)
      return after !== undefined && RE_GREEK.test(ch(after));
    case 0x05f3: // HEBREW PUNCTUATION GERESH
    case 0x05f4: // HEBREW PUNCTUATION GERSHAYIM
      return before !== undefined && RE_HEBREW.test(ch(before));
    case 0x30fb: // KATAKANA MIDDLE DOT: some Hiragana, Katakana or Han in the string
      return cps.some((c) => c !== 0x30fb && RE_KANA_HAN.test(ch(c)));
    default:
      if (cp >= 0x0660 && cp <= 0x0669) return !cps.some((c) => c >= 0x06f0 && c <= 0x06f9);
      if (cp >= 0x06f0 && cp <= 0x06f9) return !cps.some((c) => c >= 0x0660 && c <= 0x0669);
      return false;
  }
}
