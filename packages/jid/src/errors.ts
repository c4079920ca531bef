import type { PrecisError } from "@xmpp-sansio/precis";

/** Which part of a JID an error is about; `jid` for the address as a whole. */
export type JidPart = "local" | "domain" | "resource" | "jid";

/**
 * Why a JID (part) was refused:
 * - `empty`: a part that is present is empty (`@example.com`, `juliet@`, `example.com/`), or no domain;
 * - `too-long`: a part exceeds 1023 octets of UTF-8, or a DNS label 63 octets;
 * - `forbidden-char`: a code point that RFC 7622 excludes from the localpart (`"&'/:<>@`) or a character
 *   that has no place in a domain name;
 * - `precis`: the PRECIS profile refused the part (see {@link JidError.precis});
 * - `invalid-domain`: not an NR-LDH label / U-label / A-label (hyphens, bad Punycode, IDNA rules);
 * - `invalid-ip`: a malformed IPv4 or IPv6 literal;
 * - `invalid-escape`: XEP-0106 escaping refused the input (leading or trailing space).
 */
export type JidErrorReason = "empty" | "too-long" | "forbidden-char" | "precis" | "invalid-domain" | "invalid-ip" | "invalid-escape";

/** Thrown (or returned by `tryParseJid`) when a string is not a valid, preparable JID. */
export class JidError extends Error {
  /** The part at fault. */
  readonly part: JidPart;
  /** Machine-readable reason. */
  readonly reason: JidErrorReason;
  /** The underlying PRECIS error when {@link JidError.reason} is `precis` (also set as `cause`). */
  readonly precis?: PrecisError;

  /**
   * @param part - the part at fault
   * @param reason - machine-readable reason
   * @param message - human-readable explanation
   * @param precis - the PRECIS error behind it, if any
   */
  constructor(part: JidPart, reason: JidErrorReason, message: string, precis?: PrecisError) {
    super(message, precis === undefined ? undefined : { cause: precis });
    this.name = "JidError";
    this.part = part;
    this.reason = reason;
    if (precis !== undefined) this.precis = precis;
  }
}

/** Length of `s` in UTF-8 octets (lone surrogates count as the 3 octets of U+FFFD). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2; // 4 octets for 2 UTF-16 units
      i++;
    } else n += 2;
  }
  return n;
}
