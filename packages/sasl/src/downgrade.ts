/**
 * XEP-0474 "SASL SCRAM Downgrade Protection" (SSDP), **version 0.5.0 (2025-10-25)**, §5 Protocol.
 *
 * The server hashes the list of SASL mechanisms it advertised and, if it used XEP-0440, the list of
 * channel-binding types; it sends the base64 digest as the SCRAM attribute `h` in its
 * server-first-message. The client recomputes the value from what it saw in the stream features and
 * fails the authentication on a mismatch. Because `h` is part of the AuthMessage, a MITM who rewrites
 * it also breaks the proof.
 *
 * The string hashed is: the mechanisms sorted by "i;octet" collation (RFC 4790 §9.3) joined by
 * U+001E; then, only if XEP-0440 was used, U+001F followed by the channel-binding types sorted the
 * same way and joined by U+001E. The hash is the SCRAM mechanism's own hash.
 *
 * @module
 */
import { base64Encode } from "./base64.js";
import { utf8EncodeOrThrow } from "./bytes.js";
import { digest } from "./hash.js";
import type { ScramHash } from "./types.js";

/** What the server advertised, as XEP-0474 hashes it. */
export interface AdvertisedMechanisms {
  /** The SASL mechanism names the server advertised (for SASL1 the `<mechanisms/>` list). */
  readonly mechanisms: readonly string[];
  /**
   * The channel-binding types advertised with XEP-0440 `<sasl-channel-binding/>`, or `undefined`
   * when the server did not send that feature (which is hashed differently from an empty list).
   */
  readonly channelBindingTypes?: readonly string[] | undefined;
}

function octetCompare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function sortOctet(list: readonly string[]): string[] {
  return list
    .map((s) => ({ s, b: utf8EncodeOrThrow(s, "a mechanism or channel-binding name") }))
    .sort((x, y) => octetCompare(x.b, y.b))
    .map((x) => x.s);
}

/**
 * The exact byte string XEP-0474 §5.1 hashes (steps 1–4).
 *
 * @param advertised - the advertised mechanisms and channel-binding types
 * @returns the UTF-8 bytes of S
 */
export function downgradeProtectionInput(advertised: AdvertisedMechanisms): Uint8Array {
  let s = sortOctet(advertised.mechanisms).join("\u001e");
  if (advertised.channelBindingTypes !== undefined) {
    s += `\u001f${sortOctet(advertised.channelBindingTypes).join("\u001e")}`;
  }
  return utf8EncodeOrThrow(s, "the XEP-0474 input");
}

/**
 * Compute the XEP-0474 `h` attribute value: base64(H(S)).
 *
 * @param hash - the hash of the SCRAM mechanism in use
 * @param advertised - the advertised mechanisms and channel-binding types
 * @returns the base64 value to put after `h=`
 */
export function computeDowngradeProtectionHash(hash: ScramHash, advertised: AdvertisedMechanisms): string {
  return downgradeProtectionHashWith((data) => digest(hash, data), advertised);
}

/**
 * {@link computeDowngradeProtectionHash} with the hash given as a function: the client's hash value, or a
 * server's injected crypto (so a bundle that names one hash carries only that one).
 * @internal
 */
export function downgradeProtectionHashWith(h: (data: Uint8Array) => Uint8Array, advertised: AdvertisedMechanisms): string {
  return base64Encode(h(downgradeProtectionInput(advertised)));
}

/**
 * Check a received `h` value against what the client saw advertised (XEP-0474 §5.2). The value is
 * public, so a plain comparison is fine.
 *
 * @param hash - the hash of the SCRAM mechanism in use
 * @param received - the text after `h=` in the server-first-message
 * @param advertised - the mechanisms and channel-binding types the client saw
 * @returns `true` when they match
 */
export function verifyDowngradeProtectionHash(
  hash: ScramHash,
  received: string,
  advertised: AdvertisedMechanisms,
): boolean {
  return received === computeDowngradeProtectionHash(hash, advertised);
}
