import { JidError } from "./errors.js";

/** XEP-0106 §3 table: the characters that are escaped, and their escape sequences. */
const ESCAPES: Readonly<Record<string, string>> = {
  " ": "\\20",
  '"': "\\22",
  "&": "\\26",
  "'": "\\27",
  "/": "\\2f",
  ":": "\\3a",
  "<": "\\3c",
  ">": "\\3e",
  "@": "\\40",
  "\\": "\\5c",
};
const UNESCAPES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(ESCAPES).map(([c, e]) => [e, c]));
const RE_ESCAPE_SEQUENCE = /\\(20|22|26|27|2f|3a|3c|3e|40|5c)/g;

/**
 * Escapes a localpart per XEP-0106 (JID Escaping): space, `"`, `&`, `'`, `/`, `:`, `<`, `>` and `@` become
 * `\20`, `\22`, … ; a backslash is escaped (`\5c`) only where it would otherwise start one of those escape
 * sequences. Escape sequences are written in lowercase, and only lowercase sequences are recognised.
 * The result still has to go through localpart preparation (it is not case-mapped here).
 *
 * @throws {@link JidError} (`invalid-escape`) if the string begins or ends with a space, which XEP-0106 forbids
 * @example
 * ```ts
 * escapeLocal("d'artagnan") // "d\\27artagnan"
 * escapeLocal("c:\\5commas") // "c\\3a\\5c5commas"
 * ```
 */
export function escapeLocal(s: string): string {
  if (s.startsWith(" ") || s.endsWith(" ")) {
    throw new JidError("local", "invalid-escape", "XEP-0106: a localpart must not begin or end with a space");
  }
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\") {
      const rest = s.slice(i, i + 3);
      out += /^\\(20|22|26|27|2f|3a|3c|3e|40|5c)$/.test(rest) ? "\\5c" : "\\";
    } else out += ESCAPES[c] ?? c;
  }
  return out;
}

/**
 * Reverses {@link escapeLocal}: every one of the ten XEP-0106 escape sequences (lowercase) is replaced by its
 * character, in one left-to-right pass; any other backslash is left alone. Meant for display, after the
 * JID was parsed.
 *
 * @example
 * ```ts
 * unescapeLocal("space\\20cadet") // "space cadet"
 * ```
 */
export function unescapeLocal(s: string): string {
  return s.replace(RE_ESCAPE_SEQUENCE, (seq) => UNESCAPES[seq]!);
}
