/**
 * The certificate of `serve` — read from `--cert`/`--key`, or generated once into the data directory — and
 * what SIGHUP does: read it again and hand it to the listeners, keeping the old one when the new one does
 * not load; check the accounts database.
 *
 * @module
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type CertificatePair, generateSelfSignedCertificate, saveCertificate } from "../certificate.js";
import { LEGACY_ACCOUNTS_FILE } from "../store/data-dir.js";
import type { SqliteStorage } from "../store/sqlite.js";
import { CliError, ExitCode } from "./exit.js";
import type { LogFields, Logger } from "./logger.js";
/** Says one thing to the operator (a banner line in the text format, a log record in JSON). */
export type Announce = (event: string, msg: string, fields?: LogFields) => void;

/** Where `serve`'s certificate comes from. */
export type CertificateSource =
  /** The operator's files (`--cert`, `--key` or `[tls]` in the config file). */
  | { readonly kind: "files"; readonly cert: string; readonly key: string }
  /** Generated on first start into the data directory as `<domain>.crt`, `<domain>.key`, `<domain>-ca.crt`. */
  | { readonly kind: "generated"; readonly dir: string; readonly domain: string };

/** The files a generated certificate lives in. */
export function generatedFiles(dir: string, domain: string): { cert: string; key: string; ca: string } {
  return { cert: join(dir, `${domain}.crt`), key: join(dir, `${domain}.key`), ca: join(dir, `${domain}-ca.crt`) };
}

/**
 * Reads and checks a certificate chain and its key: both files readable (else exit 66), PEM that parses,
 * the key matching the leaf (else exit 78). Nothing is written.
 */
export function readCertificateFiles(certFile: string, keyFile: string): CertificatePair {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (error) {
      throw new CliError(ExitCode.NO_INPUT, `cannot read the ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  const cert = read(certFile, "certificate");
  const key = read(keyFile, "key");
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (error) {
    throw new CliError(ExitCode.CONFIG, `${certFile} is not a PEM certificate (${(error as Error).message})`);
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new CliError(ExitCode.CONFIG, `${keyFile} is not a PEM private key (${(error as Error).message})`);
  }
  if (!leaf.checkPrivateKey(privateKey)) throw new CliError(ExitCode.CONFIG, `${keyFile} is not the key of the certificate ${certFile}`);
  return { cert, key };
}

/** The certificate when it can be read without writing anything: the operator's files, or a generated pair already on disk. */
export function existingCertificate(source: CertificateSource): CertificatePair | undefined {
  if (source.kind === "files") return readCertificateFiles(source.cert, source.key);
  const files = generatedFiles(source.dir, source.domain);
  if (!existsSync(files.cert) || !existsSync(files.key)) return undefined;
  return readCertificateFiles(files.cert, files.key);
}

/**
 * The certificate for `serve`: {@link existingCertificate}, else a new pair (a private CA and a leaf for the
 * domain) saved into the data directory. Says where the CA is, so clients can trust it.
 */
export function loadOrCreateCertificate(source: CertificateSource, say: Announce): CertificatePair {
  const existing = existingCertificate(source);
  if (source.kind === "files") return existing!;
  const files = generatedFiles(source.dir, source.domain);
  if (existing !== undefined) {
    const trust = existsSync(files.ca) ? files.ca : files.cert;
    say("tls", `certificate ${files.cert}, signed by the private CA in ${trust}; clients must trust that CA (e.g. NODE_EXTRA_CA_CERTS=${trust})`, { cert: files.cert, ca: trust });
    return existing;
  }
  const pair = generateSelfSignedCertificate({ dnsNames: [source.domain, "localhost"] });
  const saved = saveCertificate(source.dir, source.domain, pair);
  say("tls", saved.message, { cert: saved.certFile, key: saved.keyFile, ca: saved.caFile });
  return pair;
}

/** What {@link reloadServer} needs of the running server. */
export interface ReloadTarget {
  setCertificate(pair: CertificatePair): void;
}

/**
 * SIGHUP: reads the certificate again and gives it to the listeners (new connections get it, open ones keep
 * theirs); a certificate that does not load is logged as an error and the old one stays. The accounts live
 * in the database, read on every login, so there is nothing to load: the reload checks the database
 * answers and logs how many accounts it has. True when everything reloaded.
 */
export function reloadServer(target: ReloadTarget, source: CertificateSource, storage: SqliteStorage, dataDir: string, log: Logger): boolean {
  let ok = true;
  const where = source.kind === "files" ? source.cert : generatedFiles(source.dir, source.domain).cert;
  try {
    const pair = existingCertificate(source);
    if (pair === undefined) throw new Error(`${where} or its key is missing`);
    target.setCertificate(pair);
    log.info("reload", `certificate reloaded from ${where}; new connections use it`, { cert: where });
  } catch (error) {
    ok = false;
    log.error("reload", `certificate not reloaded, the old one stays: ${(error as Error).message}`, { cert: where });
  }
  try {
    const count = storage.accounts.list().length;
    log.info("reload", `accounts: ${count} in ${storage.path} (read on every login; changes by add-user, passwd and deluser apply at once)`, { accounts: count });
    if (existsSync(join(dataDir, LEGACY_ACCOUNTS_FILE))) {
      log.warn("reload", `${join(dataDir, LEGACY_ACCOUNTS_FILE)} is not read again (it was imported once); use add-user`);
    }
  } catch (error) {
    ok = false;
    log.error("reload", `accounts: the database does not answer: ${(error as Error).message}`);
  }
  return ok;
}
