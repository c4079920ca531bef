/**
 * Shared-secret computations of server dialback (XEP-0185) and external components (XEP-0114). Pure.
 *
 * @module
 */
import { constantTimeEqual, digest, hmac, utf8Encode } from "@xmpp-sansio/sasl";

const HEX = "0123456789abcdef";

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += HEX[b >> 4]! + HEX[b & 15]!;
  return s;
}

function utf8(text: string): Uint8Array {
  // Lone surrogates (never in a parsed stream) are replaced rather than thrown on.
  return utf8Encode(text) ?? new TextEncoder().encode(text);
}

/**
 * The XEP-0185 dialback key: `HMAC-SHA256(hex(SHA256(secret)), receiving + ' ' + originating + ' ' +
 * streamId)` as lowercase hex (64 characters). `receiving` is the domain the key is sent to,
 * `originating` the domain it authenticates, `streamId` the id the receiving server put on its stream
 * header.
 */
export function dialbackKey(secret: string, receiving: string, originating: string, streamId: string): string {
  const k = utf8(hex(digest("SHA-256", utf8(secret))));
  return hex(hmac("SHA-256", k, utf8(`${receiving} ${originating} ${streamId}`)));
}

/** Whether `key` is the XEP-0185 key for these inputs (constant-time compare). */
export function verifyDialbackKey(secret: string, receiving: string, originating: string, streamId: string, key: string): boolean {
  return constantTimeEqual(utf8(dialbackKey(secret, receiving, originating, streamId)), utf8(key.toLowerCase()));
}

/** The XEP-0114 handshake value: `hex(SHA1(streamId + secret))`, lowercase. */
export function componentHandshake(streamId: string, secret: string): string {
  return hex(digest("SHA-1", utf8(streamId + secret)));
}

/** Whether `value` is the XEP-0114 handshake for these inputs (constant-time compare, case-insensitive hex). */
export function verifyComponentHandshake(streamId: string, secret: string, value: string): boolean {
  return constantTimeEqual(utf8(componentHandshake(streamId, secret)), utf8(value.trim().toLowerCase()));
}
