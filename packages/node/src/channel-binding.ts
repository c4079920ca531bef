/**
 * Channel-binding data from a Node `tls.TLSSocket` (RFC 5929, RFC 9266), as the core expects it in
 * `tlsEstablished({ channelBinding })`. Both ends of one connection compute identical values.
 *
 * @module
 */
import { createHash, X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import type { ChannelBindingData } from "@xmpp-sansio/core";
import { takePeerCertificate } from "./tls-connect.js";

/** Which end of the TLS connection the socket is. */
export type TlsSide = "client" | "server";

/** RFC 9266 §2: the exporter label; the context is empty, the length 32 bytes. */
const EXPORTER_LABEL = "EXPORTER-Channel-Binding";

/**
 * Extracts every channel-binding type the connection supports.
 *
 * - `tls-exporter` (RFC 9266): only on TLS 1.3. RFC 9266 allows TLS 1.2 with the extended master secret
 *   extension (RFC 7627), but Node cannot tell whether EMS was negotiated, so it is left out on 1.2.
 * - `tls-unique` (RFC 5929 §3): only on TLS ≤ 1.2 (undefined for 1.3, RFC 9266 §3). It is the first
 *   Finished message of the handshake: the client's on a full handshake, the server's on an abbreviated
 *   (resumed) one, since then the server sends its Finished first.
 * - `tls-server-end-point` (RFC 5929 §4): the hash of the server certificate's DER, with the hash of the
 *   certificate's signature algorithm, SHA-256 when that is MD5 or SHA-1. Left out when the algorithm has
 *   no single hash (e.g. Ed25519) or the certificate cannot be read.
 *
 * @param socket - a connected TLS socket (after `secureConnect` / `secure`)
 * @param side - which end `socket` is
 * @param serverEndPoint - on the server side, the `tls-server-end-point` of the one certificate it serves,
 *   computed once ({@link serverEndPointOf}) instead of reading the certificate back from every socket
 *   (`getCertificate()` builds a full certificate object with three fingerprints each time)
 * @returns the types available, possibly none
 */
export function channelBindingFromTlsSocket(socket: TLSSocket, side: TlsSide, serverEndPoint?: Uint8Array): ChannelBindingData {
  const out: { -readonly [K in keyof ChannelBindingData]: ChannelBindingData[K] } = {};
  const exporter = tlsExporter(socket);
  if (exporter !== undefined) out["tls-exporter"] = exporter;
  const unique = tlsUnique(socket, side);
  if (unique !== undefined) out["tls-unique"] = unique;
  const endPoint = serverEndPoint ?? tlsServerEndPoint(socket, side);
  if (endPoint !== undefined) out["tls-server-end-point"] = endPoint;
  return out;
}

/** RFC 9266 `tls-exporter`, or undefined when the connection is not TLS 1.3. */
export function tlsExporter(socket: TLSSocket): Uint8Array | undefined {
  if (socket.getProtocol() !== "TLSv1.3") return undefined;
  try {
    return toU8(socket.exportKeyingMaterial(32, EXPORTER_LABEL, Buffer.alloc(0)));
  } catch {
    return undefined;
  }
}

/** RFC 5929 `tls-unique`, or undefined on TLS 1.3 (or when no handshake has completed). */
export function tlsUnique(socket: TLSSocket, side: TlsSide): Uint8Array | undefined {
  const protocol = socket.getProtocol();
  if (protocol === null || protocol === "TLSv1.3" || protocol === "unknown") return undefined;
  // Full handshake: the client's Finished is sent first. Resumed (abbreviated) handshake: the server's.
  const clientFirst = !socket.isSessionReused();
  const ours = side === "client" ? clientFirst : !clientFirst;
  const finished = ours ? socket.getFinished() : socket.getPeerFinished();
  return finished === undefined || finished.length === 0 ? undefined : toU8(finished);
}

/** RFC 5929 `tls-server-end-point`, or undefined when the server certificate or its hash is unknown. */
export function tlsServerEndPoint(socket: TLSSocket, side: TlsSide): Uint8Array | undefined {
  let der: Buffer | undefined;
  try {
    const cert = side === "client" ? takePeerCertificate(socket) : socket.getCertificate();
    der = cert !== null && "raw" in cert && Buffer.isBuffer(cert.raw) ? cert.raw : undefined;
  } catch {
    return undefined;
  }
  if (der === undefined || der.length === 0) return undefined;
  return certificateEndPointHash(der);
}

/**
 * The `tls-server-end-point` of a server that serves exactly one certificate: `cert` is that certificate
 * (PEM, a chain's first block is the server's own) or DER. Undefined when it cannot be known in advance
 * — several certificates (e.g. an RSA and an EC one, chosen per handshake), PFX, none — or not hashed:
 * then it is read from each socket.
 */
export function serverEndPointOf(options: { readonly cert?: unknown; readonly pfx?: unknown } | undefined): Uint8Array | undefined {
  const cert = options?.cert;
  if (options?.pfx !== undefined || (typeof cert !== "string" && !Buffer.isBuffer(cert))) return undefined;
  try {
    return certificateEndPointHash(new Uint8Array(new X509Certificate(cert).raw));
  } catch {
    return undefined;
  }
}

/**
 * Hashes a DER certificate as RFC 5929 §4.1 says: with the hash function of its signature algorithm,
 * SHA-256 if that is MD5 or SHA-1.
 *
 * @returns the hash, or undefined if the algorithm is unknown or has no single hash function
 */
export function certificateEndPointHash(der: Uint8Array): Uint8Array | undefined {
  const hash = endPointHashName(der);
  if (hash === undefined) return undefined;
  return toU8(createHash(hash).update(der).digest());
}

/** The Node hash name to use for `tls-server-end-point` with this DER certificate. */
export function endPointHashName(der: Uint8Array): string | undefined {
  let alg: { oid: string; params: Uint8Array | undefined } | undefined;
  try {
    alg = signatureAlgorithm(der);
  } catch {
    return undefined;
  }
  if (alg === undefined) return undefined;
  const direct = SIGNATURE_HASHES.get(alg.oid);
  if (direct !== undefined) return upgrade(direct);
  if (alg.oid === OID_RSASSA_PSS && alg.params !== undefined) {
    // RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] HashAlgorithm DEFAULT sha1, ... }
    try {
      const params = readTlv(alg.params, 0);
      if (params.tag !== 0x30) return undefined;
      let hashName = "sha1";
      if (params.contentLength > 0) {
        const first = readTlv(alg.params, params.contentStart);
        if (first.tag === 0xa0) {
          const hashAlg = readTlv(alg.params, first.contentStart); // AlgorithmIdentifier
          const oid = readTlv(alg.params, hashAlg.contentStart);
          if (oid.tag !== 0x06) return undefined;
          const name = HASH_OIDS.get(decodeOid(alg.params.subarray(oid.contentStart, oid.contentStart + oid.contentLength)));
          if (name === undefined) return undefined;
          hashName = name;
        }
      }
      return upgrade(hashName);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function upgrade(hash: string): string {
  return hash === "md5" || hash === "sha1" ? "sha256" : hash;
}

const OID_RSASSA_PSS = "1.2.840.113549.1.1.10";

/** Signature algorithm OID → the hash it uses. */
const SIGNATURE_HASHES: ReadonlyMap<string, string> = new Map([
  ["1.2.840.113549.1.1.4", "md5"], // md5WithRSAEncryption
  ["1.2.840.113549.1.1.5", "sha1"], // sha1WithRSAEncryption
  ["1.2.840.113549.1.1.14", "sha224"],
  ["1.2.840.113549.1.1.11", "sha256"],
  ["1.2.840.113549.1.1.12", "sha384"],
  ["1.2.840.113549.1.1.13", "sha512"],
  ["1.2.840.10045.4.1", "sha1"], // ecdsa-with-SHA1
  ["1.2.840.10045.4.3.1", "sha224"],
  ["1.2.840.10045.4.3.2", "sha256"],
  ["1.2.840.10045.4.3.3", "sha384"],
  ["1.2.840.10045.4.3.4", "sha512"],
  ["1.2.840.10040.4.3", "sha1"], // dsa-with-sha1
  ["2.16.840.1.101.3.4.3.1", "sha224"], // dsa-with-sha224
  ["2.16.840.1.101.3.4.3.2", "sha256"], // dsa-with-sha256
]);

/** Hash algorithm OID → Node hash name (for RSASSA-PSS parameters). */
const HASH_OIDS: ReadonlyMap<string, string> = new Map([
  ["1.3.14.3.2.26", "sha1"],
  ["2.16.840.1.101.3.4.2.4", "sha224"],
  ["2.16.840.1.101.3.4.2.1", "sha256"],
  ["2.16.840.1.101.3.4.2.2", "sha384"],
  ["2.16.840.1.101.3.4.2.3", "sha512"],
]);

interface Tlv {
  tag: number;
  contentStart: number;
  contentLength: number;
  end: number;
}

/** Reads one DER TLV at `offset`. Throws on truncation or an unsupported length form. */
function readTlv(buf: Uint8Array, offset: number): Tlv {
  if (offset + 2 > buf.length) throw new RangeError("truncated DER");
  const tag = buf[offset]!;
  let len = buf[offset + 1]!;
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || pos + n > buf.length) throw new RangeError("unsupported DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + i]!;
    pos += n;
  }
  if (pos + len > buf.length) throw new RangeError("truncated DER");
  return { tag, contentStart: pos, contentLength: len, end: pos + len };
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue } */
function signatureAlgorithm(der: Uint8Array): { oid: string; params: Uint8Array | undefined } | undefined {
  const cert = readTlv(der, 0);
  if (cert.tag !== 0x30) return undefined;
  const tbs = readTlv(der, cert.contentStart);
  const algId = readTlv(der, tbs.end);
  if (algId.tag !== 0x30) return undefined;
  const oid = readTlv(der, algId.contentStart);
  if (oid.tag !== 0x06) return undefined;
  const params = oid.end < algId.end ? der.subarray(oid.end, algId.end) : undefined;
  return { oid: decodeOid(der.subarray(oid.contentStart, oid.end)), params };
}

function decodeOid(bytes: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

function toU8(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}
