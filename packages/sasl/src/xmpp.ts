/**
 * The XMPP (RFC 6120 §6.4.2) text form of SASL payloads: base64, with `=` for "empty" and no
 * content for "absent". The session core owns the XML; these are the data functions it needs.
 *
 * @module
 */
import { base64Decode, base64Encode } from "./base64.js";
import { type SaslError, saslError } from "./errors.js";

/**
 * Encode a SASL payload for XML character data: `null` → `""` (no data), empty → `"="`, else
 * base64.
 *
 * @param data - the payload, or `null` for "no data"
 * @returns the element text
 */
export function encodeSaslPayload(data: Uint8Array | null): string {
  if (data === null) return "";
  return data.length === 0 ? "=" : base64Encode(data);
}

/**
 * Decode the text of `<auth/>`, `<challenge/>`, `<response/>` or `<success/>`: `""` → `null` (no
 * data), `"="` → empty bytes, else strict base64. Invalid base64 → `incorrect-encoding`.
 *
 * RFC 6120 forbids whitespace inside the base64; the core should pass the element text as is.
 *
 * @param text - the element's character data
 * @returns the payload, `null`, or an error value
 */
export function decodeSaslPayload(text: string): Uint8Array | null | SaslError {
  if (text === "") return null;
  if (text === "=") return new Uint8Array(0);
  const bytes = base64Decode(text);
  if (bytes === undefined || bytes.length === 0) {
    return saslError("incorrect-encoding", "invalid-base64", "the SASL payload is not canonical base64");
  }
  return bytes;
}
