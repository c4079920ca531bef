/**
 * SCRAM `saslname` escaping (RFC 5802 §5.1): `,` is sent as `=2C` and `=` as `=3D`; any other `=`
 * sequence is invalid.
 *
 * @module
 */

/**
 * Escape a name for SCRAM's `n=` and `a=` attributes: `=` → `=3D`, `,` → `=2C`.
 *
 * @param name - the raw name
 * @returns the saslname
 */
export function escapeSaslname(name: string): string {
  return name.replace(/=/g, "=3D").replace(/,/g, "=2C");
}

/**
 * Undo {@link escapeSaslname}. Returns `undefined` when the text contains `=` not followed by `2C`
 * or `3D` (upper case, as RFC 5802 writes them), a raw `,`, or a NUL, or is empty.
 *
 * @param text - the saslname as received
 * @returns the name, or `undefined` when the escaping is invalid
 */
export function unescapeSaslname(text: string): string | undefined {
  if (text.length === 0) return undefined;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ",") return undefined;
    if (c === "\u0000") return undefined;
    if (c === "=") {
      const seq = text.slice(i + 1, i + 3);
      if (seq === "2C") out += ",";
      else if (seq === "3D") out += "=";
      else return undefined;
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}
