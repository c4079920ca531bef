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
/** The plain certificate the handshake check got, until channel binding takes it (no second copy). */
const CHECKED = Symbol("xmpp-sansio.checkedCertificate");
type Shadowed = tls.TLSSocket & { getPeerCertificate: PeerCertificate; [CHECKED]?: tls.PeerCertificate | undefined };

/** The one call of the handshake check: the plain certificate, then Node's own method again. */
function plainPeerCertificateOnce(this: Shadowed): tls.PeerCertificate {
  restorePeerCertificate(this);
  const cert = tls.TLSSocket.prototype.getPeerCertificate.call(this, false);
  this[CHECKED] = cert;
  return cert;
}

/**
 * Puts Node's method back after the handshake (see {@link connectTls}). Assigned, not deleted: deleting a
 * property moves the socket's object to slow (dictionary) properties for the rest of its life.
 */
export function restorePeerCertificate(socket: tls.TLSSocket): void {
  if (socket.getPeerCertificate === plainPeerCertificateOnce) socket.getPeerCertificate = tls.TLSSocket.prototype.getPeerCertificate;
}

/** The plain peer certificate of the handshake check, once (then forgotten), or Node's plain form. */
export function takePeerCertificate(socket: tls.TLSSocket): tls.PeerCertificate {
  const s = socket as Shadowed;
  const cert = s[CHECKED];
  if (cert === undefined) return socket.getPeerCertificate(false);
  s[CHECKED] = undefined;
  return cert;
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
