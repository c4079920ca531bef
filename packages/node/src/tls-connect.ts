/**
 * `tls.connect` for the client, without the detailed certificate object Node builds at every handshake.
 *
 * Node's client-side check (`onConnectSecure` in `_tls_wrap`) calls `socket.getPeerCertificate(true)` and
 * hands the result to `checkServerIdentity`. The detailed form walks the chain into nested objects with
 * fingerprints and keys: ≈200 µs on an EC P-256 leaf, against ≈20 µs for the plain form — a tenth of the
 * client's CPU per login. `tls.checkServerIdentity` reads only `subject` and `subjectaltname`, which the
 * plain form has. So, unless the application brings its own `checkServerIdentity` (which may want the
 * chain), the socket answers that one call with the plain form and then goes back to Node's method.
 * The chain itself is still verified by OpenSSL as before; only the JavaScript copy of it is skipped.
 *
 * @module
 */
import * as tls from "node:tls";

type PeerCertificate = tls.TLSSocket["getPeerCertificate"];
type Shadowed = tls.TLSSocket & { getPeerCertificate: PeerCertificate };

/** The one call of the handshake check: the plain certificate, then Node's own method again. */
function plainPeerCertificateOnce(this: Shadowed): ReturnType<PeerCertificate> {
  restorePeerCertificate(this);
  return this.getPeerCertificate(false);
}

/** Removes the handshake's stand-in (see {@link connectTls}) if it is still there. */
export function restorePeerCertificate(socket: tls.TLSSocket): void {
  if (Object.hasOwn(socket, "getPeerCertificate")) delete (socket as Partial<Shadowed>).getPeerCertificate;
}

/**
 * `tls.connect(options)`; without an application `checkServerIdentity`, the handshake check gets the plain
 * peer certificate instead of the detailed one (the same identity check, ≈180 µs less per handshake).
 */
export function connectTls(options: tls.ConnectionOptions, ownIdentityCheck: boolean): tls.TLSSocket {
  const socket = tls.connect(options);
  if (!ownIdentityCheck) (socket as Shadowed).getPeerCertificate = plainPeerCertificateOnce as PeerCertificate;
  return socket;
}
