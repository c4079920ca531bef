// Throwaway certificates for loopback tests, made with the openssl CLI.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCert {
  /** PEM private key. */
  key: string;
  /** PEM certificate (self-signed: trust it with `ca: cert`). */
  cert: string;
  /** Paths of the files (kept until `cleanup`). */
  keyFile: string;
  certFile: string;
  dir: string;
  cleanup(): void;
}

export interface CertOptions {
  /** Subject CN and first DNS SAN. Default `localhost`. */
  cn?: string;
  /** Extra DNS names. */
  dnsNames?: string[];
  /** `rsa` (2048) or `ec` (P-256). Default `rsa`. */
  keyType?: "rsa" | "ec";
  /** Signature hash. Default `sha256`. */
  hash?: "sha1" | "sha256" | "sha384" | "sha512";
  /** Directory to write into (default: a fresh temp dir). */
  dir?: string;
  /**
   * An end-entity certificate (`basicConstraints=critical,CA:FALSE`, `extendedKeyUsage=serverAuth`) instead
   * of openssl's default `CA:TRUE`: rustls (Deno's TLS) refuses a CA certificate as a server certificate.
   * Self-signed either way, so it is its own trust anchor (`ca` in Node, `caCerts` in Deno).
   */
  leaf?: boolean;
}

/** Whether the openssl CLI is available. */
export function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Makes a self-signed certificate for `cn` (+ 127.0.0.1 and ::1). */
export function makeCert(options: CertOptions = {}): TestCert {
  const cn = options.cn ?? "localhost";
  const own = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), "xmpp-sansio-cert-"));
  const keyFile = join(dir, `${cn}.key`);
  const certFile = join(dir, `${cn}.crt`);
  const sans = [cn, ...(options.dnsNames ?? [])].map((d) => `DNS:${d}`);
  sans.push("IP:127.0.0.1", "IP:::1");
  const leaf = options.leaf ? ["-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth"] : [];
  const newkey = options.keyType === "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-newkey", "rsa:2048"];
  execFileSync(
    "openssl",
    ["req", "-x509", ...newkey, "-nodes", `-${options.hash ?? "sha256"}`, "-days", "2", "-subj", `/CN=${cn}`, "-addext", `subjectAltName=${sans.join(",")}`, ...leaf, "-keyout", keyFile, "-out", certFile],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  return {
    key: readFileSync(keyFile, "utf8"),
    cert: readFileSync(certFile, "utf8"),
    keyFile,
    certFile,
    dir,
    cleanup() {
      if (own) rmSync(dir, { recursive: true, force: true });
    },
  };
}
