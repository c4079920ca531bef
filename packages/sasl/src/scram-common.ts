/**
 * SCRAM message syntax shared by both sides (RFC 5802 §7).
 *
 * @internal
 * @module
 */
import type { ScramHash, ScramMechanismName } from "./types.js";

/** The hash behind a SCRAM mechanism name. */
export function scramHashOf(name: ScramMechanismName): ScramHash {
  if (name.startsWith("SCRAM-SHA-512")) return "SHA-512";
  if (name.startsWith("SCRAM-SHA-256")) return "SHA-256";
  return "SHA-1";
}

/** Whether a SCRAM mechanism name is a channel-binding (`-PLUS`) variant. */
export function isPlusMechanism(name: string): boolean {
  return name.endsWith("-PLUS");
}

/** One `attr=value` pair. */
export interface Attr {
  readonly name: string;
  readonly value: string;
}

/**
 * Split `a=x,b=y` into attributes. Every element must be one ASCII letter, `=`, and a value (which
 * may itself contain `=`). Returns `undefined` on any syntax error, including empty elements.
 */
export function splitAttributes(text: string): Attr[] | undefined {
  if (text.length === 0) return undefined;
  const out: Attr[] = [];
  for (const part of text.split(",")) {
    if (part.length < 2 || part[1] !== "=") return undefined;
    const c = part.charCodeAt(0);
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return undefined;
    out.push({ name: part[0]!, value: part.slice(2) });
  }
  return out;
}

/** `printable = %x21-2B / %x2D-7E` — the nonce alphabet. */
export function isPrintable(text: string): boolean {
  return /^[\x21-\x2b\x2d-\x7e]+$/.test(text);
}

/** `posit-number = %x31-39 *DIGIT`, bounded so it stays a safe integer. */
export function parsePositiveNumber(text: string): number | undefined {
  if (!/^[1-9][0-9]{0,14}$/.test(text)) return undefined;
  return Number(text);
}

/** `cb-name = 1*(ALPHA / DIGIT / "." / "-")`. */
export function isCbName(text: string): boolean {
  return /^[A-Za-z0-9.-]+$/.test(text);
}

/** `value = 1*value-char` as far as it can be checked on a decoded string (no NUL, no comma). */
export function isExtensionValue(text: string): boolean {
  return text.length > 0 && !/[\u0000,]/.test(text);
}
