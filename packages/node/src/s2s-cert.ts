/**
 * The identities of a verified peer certificate, typed for the RFC 6125 / RFC 9525 `xmpp-server` checks of
 * the core (`matchesXmppServerIdentity`): DNS-IDs (`dNSName`), SRV-IDs (`id-on-dnsSRV` otherName) and
 * XmppAddr (`id-on-xmppAddr` otherName). No CN-ID (RFC 9525 §6.3 drops it).
 *
 * @module
 */
import type { TLSSocket } from "node:tls";
import type { CertIdentity } from "@xmpp-sansio/core";

/**
 * Splits Node's `subjectaltname` text (`"DNS:a.example, othername:XmppAddr:a.example,
 * othername:SRVName:_xmpp-server.a.example"`) into typed identities. Node writes a value that holds a
 * comma, quote or control character as a JSON string; those are decoded. Unknown entries are skipped.
 */
export function parseSubjectAltName(text: string): CertIdentity[] {
  const out: CertIdentity[] = [];
  for (const entry of splitEntries(text)) {
    if (entry.startsWith("DNS:")) out.push({ type: "dns", value: unquote(entry.slice(4)) });
    else if (entry.startsWith("othername:XmppAddr:")) out.push({ type: "xmpp", value: unquote(entry.slice(19)) });
    else if (entry.startsWith("othername:SRVName:")) out.push({ type: "srv", value: unquote(entry.slice(18)) });
  }
  return out;
}

/**
 * The typed identities of the peer's certificate, only when the TLS layer verified it against the trusted
 * CAs (`socket.authorized`); `undefined` otherwise, so an unverified certificate authenticates nothing.
 */
export function peerCertIdentitiesOf(socket: TLSSocket): readonly CertIdentity[] | undefined {
  if (!peerVerified(socket)) return undefined;
  const cert = socket.getPeerCertificate(false);
  if (cert === null || typeof cert !== "object" || typeof cert.subjectaltname !== "string") return undefined;
  const ids = parseSubjectAltName(cert.subjectaltname);
  return ids.length === 0 ? undefined : ids;
}

/**
 * Whether the peer's certificate chain verified against the trusted CAs. A `TLSSocket` made with
 * `new TLSSocket(socket, { isServer: true, requestCert: true })` (STARTTLS, no `tls.Server`) never sets
 * `authorized`; Node's `tls.Server` asks the handle's `verifyError()` after the handshake, and so do we.
 */
export function peerVerified(socket: TLSSocket): boolean {
  if (socket.authorized) return true;
  const handle = (socket as unknown as { _handle?: { verifyError?(): Error | null } })._handle;
  if (typeof handle?.verifyError !== "function") return false;
  return handle.verifyError() === null && socket.getPeerCertificate(false)?.raw !== undefined;
}

/** Entries separated by `", "`, commas inside a JSON-quoted value kept (linear in the text). */
function splitEntries(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */ && quoted) i++;
    else if (c === 0x22 /* " */) quoted = !quoted;
    else if (c === 0x2c /* , */ && !quoted) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(text.slice(start).trim());
  return out.filter((e) => e.length > 0);
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  try {
    const v: unknown = JSON.parse(value);
    return typeof v === "string" ? v : "";
  } catch {
    return "";
  }
}
