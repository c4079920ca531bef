import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { isIP } from "node:net";

/** A PEM certificate and its PEM (PKCS #8) private key. */
export interface CertificatePair {
  readonly cert: string;
  readonly key: string;
}

/** Options of {@link generateSelfSignedCertificate}. */
export interface SelfSignedOptions {
  /** DNS names for the subjectAltName (the first is also the CN). */
  readonly dnsNames: readonly string[];
  /** IP addresses for the subjectAltName. Default `127.0.0.1` and `::1`. */
  readonly ipAddresses?: readonly string[];
  /** Validity in days from now. Default 825. */
  readonly days?: number;
  /** The clock, for reproducible tests. Default `new Date()`. */
  readonly now?: Date;
}

/**
 * Generates a self-signed ECDSA P-256 certificate for the demo server's first start, with the served
 * domains as subjectAltName dNSName (RFC 7590 / RFC 6125: XMPP clients check the certificate against the
 * JID's domain). The X.509 structure (RFC 5280) is DER-encoded here, so no `openssl` binary is needed.
 */
export function generateSelfSignedCertificate(options: SelfSignedOptions): CertificatePair {
  const [commonName] = options.dnsNames;
  if (commonName === undefined) throw new TypeError("generateSelfSignedCertificate: at least one DNS name is needed");
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + (options.days ?? 825) * 86_400_000);
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // positive (RFC 5280 §4.1.2.2)
  serial[0]! |= 0x01; // and without a leading zero byte
  const name = seq(set(seq(oid(OID_COMMON_NAME), utf8(commonName))));
  const altNames = [
    ...options.dnsNames.map((dns) => tagged(0x82, Buffer.from(dns, "ascii"))),
    ...(options.ipAddresses ?? ["127.0.0.1", "::1"]).map((ip) => tagged(0x87, ipBytes(ip))),
  ];
  const extensions = tagged(
    0xa3,
    seq(
      extension(OID_BASIC_CONSTRAINTS, true, seq(boolean(true))),
      extension(OID_KEY_USAGE, true, bitString(Buffer.from([0x84]), 2)), // digitalSignature, keyCertSign
      extension(OID_EXT_KEY_USAGE, false, seq(oid(OID_SERVER_AUTH), oid(OID_CLIENT_AUTH))),
      extension(OID_SUBJECT_ALT_NAME, false, seq(...altNames)),
    ),
  );
  const signatureAlgorithm = seq(oid(OID_ECDSA_SHA256));
  const tbs = seq(
    tagged(0xa0, integer(Buffer.from([2]))), // version v3
    integer(serial),
    signatureAlgorithm,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
    extensions,
  );
  const signature = sign("sha256", tbs, privateKey); // DER-encoded ECDSA-Sig-Value
  const der = seq(tbs, signatureAlgorithm, bitString(signature, 0));
  return {
    cert: pem("CERTIFICATE", der),
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

const OID_COMMON_NAME = "2.5.4.3";
const OID_BASIC_CONSTRAINTS = "2.5.29.19";
const OID_KEY_USAGE = "2.5.29.15";
const OID_EXT_KEY_USAGE = "2.5.29.37";
const OID_SUBJECT_ALT_NAME = "2.5.29.17";
const OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2";

// Minimal DER (X.690) encoding: just the types a certificate needs.
function tagged(tag: number, content: Uint8Array): Buffer {
  const n = content.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...length]), content]);
}
const seq = (...items: Uint8Array[]) => tagged(0x30, Buffer.concat(items));
const set = (...items: Uint8Array[]) => tagged(0x31, Buffer.concat(items));
const utf8 = (s: string) => tagged(0x0c, Buffer.from(s, "utf8"));
const boolean = (b: boolean) => tagged(0x01, Buffer.from([b ? 0xff : 0x00]));
const octetString = (bytes: Uint8Array) => tagged(0x04, bytes);
const bitString = (bytes: Uint8Array, unusedBits: number) => tagged(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));

function integer(bytes: Uint8Array): Buffer {
  return tagged(0x02, bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tagged(0x06, Buffer.from(out));
}

function time(d: Date): Buffer {
  // RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return d.getUTCFullYear() < 2050 ? tagged(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tagged(0x18, Buffer.from(`${iso}Z`));
}

function extension(id: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? seq(oid(id), boolean(true), octetString(value)) : seq(oid(id), octetString(value));
}

function ipBytes(ip: string): Buffer {
  const family = isIP(ip);
  if (family === 4) return Buffer.from(ip.split(".").map(Number));
  if (family !== 6) throw new TypeError(`not an IP address: ${ip}`);
  const [head = "", tail] = ip.split("::");
  const parts = (s: string) => (s === "" ? [] : s.split(":").map((h) => Number.parseInt(h, 16)));
  const left = parts(head);
  const right = tail === undefined ? [] : parts(tail);
  const groups = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  return Buffer.from(groups.flatMap((g) => [g >> 8, g & 0xff]));
}

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").trimEnd();
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
