/**
 * Why a string was refused by a PRECIS profile.
 *
 * - `disallowed`: a code point is DISALLOWED in the profile's string class (or is ID_DIS in IdentifierClass).
 * - `unassigned`: a code point is unassigned in the Unicode version of the JavaScript engine.
 * - `context`: a CONTEXTJ/CONTEXTO code point whose RFC 5892 Appendix A rule is not satisfied.
 * - `bidi`: the string contains right-to-left code points and breaks the RFC 5893 Bidi Rule.
 * - `empty`: the string is empty after the profile's rules were applied.
 * - `unstable`: applying the rules four times did not give a stable result (RFC 8264 §7).
 */
export type PrecisErrorCode = "disallowed" | "unassigned" | "context" | "bidi" | "empty" | "unstable";

/**
 * Thrown by every PRECIS enforcement function when the input is not acceptable. Carries a machine-readable
 * {@link PrecisErrorCode} and, where one code point is to blame, that code point and its UTF-16 index in the
 * string that was checked (which may be the mapped string, not the raw input).
 */
export class PrecisError extends Error {
  /** Machine-readable reason. */
  readonly code: PrecisErrorCode;
  /** The offending code point, when there is a single one. */
  readonly codePoint?: number;
  /** UTF-16 index of {@link PrecisError.codePoint} in the checked (mapped) string. */
  readonly index?: number;

  /**
   * @param code - why the string was refused
   * @param message - human-readable explanation
   * @param codePoint - the offending code point, if any
   * @param index - its UTF-16 index in the mapped string, if any
   */
  constructor(code: PrecisErrorCode, message: string, codePoint?: number, index?: number) {
    super(message);
    this.name = "PrecisError";
    this.code = code;
    if (codePoint !== undefined) this.codePoint = codePoint;
    if (index !== undefined) this.index = index;
  }
}

/** `U+00E9`-style rendering of a code point for error messages. */
export function formatCodePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}
