/**
 * What a session keeps, in compact form: flat strings ({@link base64url}) and no channel-binding data once
 * online ({@link withoutChannelBinding}). Shared by `shared-options.ts` and its browser build. Internal.
 *
 * @internal
 * @module
 */
import type { TlsInfo } from "./session-types.js";

const B64URL = new TextEncoder().encode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

/**
 * base64url without padding (RFC 4648 §5), as one flat string: a stream id kept for the whole stream
 * should be neither a slice of a longer temporary string nor a tree of concatenations (both keep more alive).
 * @internal
 */
export function base64url(bytes: Uint8Array): string {
  const codes: number[] = [];
  for (let i = 0; i < bytes.length; i += 3) {
    const left = bytes.length - i;
    const n = (bytes[i]! << 16) | ((left > 1 ? bytes[i + 1]! : 0) << 8) | (left > 2 ? bytes[i + 2]! : 0);
    codes.push(B64URL[n >> 18]!, B64URL[(n >> 12) & 63]!);
    if (left > 1) codes.push(B64URL[(n >> 6) & 63]!);
    if (left > 2) codes.push(B64URL[n & 63]!);
  }
  return String.fromCharCode(...codes);
}

const NO_CHANNEL_BINDING = Object.freeze({});
const TLS_WITHOUT_BINDING: TlsInfo = Object.freeze({ channelBinding: NO_CHANNEL_BINDING });

/**
 * `tls` without its channel-binding data (the keying material and certificate hash SASL needed): what an
 * online session keeps — a shared object when nothing else is in it.
 * @internal
 */
export function withoutChannelBinding(tls: TlsInfo): TlsInfo {
  if (tls.peerIdentities === undefined && tls.peerCertIdentities === undefined) return TLS_WITHOUT_BINDING;
  return { ...tls, channelBinding: NO_CHANNEL_BINDING };
}
