/**
 * XEP-0484 FAST token records in SQLite (the `fast_tokens` table, schema migration 2), and the key the
 * tokens are derived from, in a file of the data directory beside the database.
 *
 * The database never holds a token: the core issues `token = HMAC-SHA-256(key, id)` for a random `id` and
 * stores the `id` (with account, user agent, mechanism, wall-clock issue and expiry times and the last
 * `count`). A copy of the database alone (a backup, a leaked file) logs nobody in; the key file does not
 * go into `backupTo` copies. (HT needs the token itself as the MAC key, so an unkeyed hash of the token
 * could not verify a login; the keyed derivation gives the same protection.)
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FastTokenRecord, FastTokenStore, HtMechanism } from "@xmpp-sansio/core";
import type Database from "better-sqlite3";

/** The key file's name inside the data directory. */
export const FAST_KEY_FILE = "fast-token.key";

/** Bytes of a generated key. */
const KEY_BYTES = 32;

/**
 * The FAST token key of data directory `dir`: `DIR/fast-token.key` (32 random bytes, mode 0600), created
 * on first use. Creation is atomic across processes (written under a temporary name, then hard-linked to
 * the final name, which fails when another process won): every process reads the same key. A file shorter
 * than 32 bytes is an error naming the file (tokens derived from a short key would be guessable).
 */
export function loadOrCreateFastKey(dir: string): Uint8Array {
  const file = join(dir, FAST_KEY_FILE);
  try {
    return checkKey(file, readFileSync(file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const temp = join(dir, `${FAST_KEY_FILE}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  writeFileSync(temp, randomBytes(KEY_BYTES), { mode: 0o600, flag: "wx" });
  try {
    linkSync(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error; // another process created it first
  } finally {
    unlinkSync(temp);
  }
  return checkKey(file, readFileSync(file));
}

function checkKey(file: string, key: Buffer): Uint8Array {
  if (key.length < KEY_BYTES) throw new Error(`${file} holds ${key.length} bytes; a FAST token key needs at least ${KEY_BYTES} (remove the file to have a new one generated, which invalidates every FAST token)`);
  return new Uint8Array(key);
}

/** Options of {@link SqliteFastTokenStore}. */
export interface SqliteFastTokenOptions {
  /**
   * Most records kept per account (every user agent's current and previous token count); past it the
   * oldest go first. Bounds what one account's logins with ever new user-agent ids can pile up. Default 100.
   */
  readonly maxPerUser?: number;
}

interface Row {
  user_agent: string;
  id: string;
  mechanism: HtMechanism;
  issued_at: number;
  expires_at: number;
  count: number;
}

/**
 * The core's {@link FastTokenStore} on the `fast_tokens` table. Records of an unknown account are not
 * stored (as for every per-user table); deleting an account deletes its records (`ON DELETE CASCADE`).
 * `put` also purges every expired record (an indexed delete): expiry purges, invalidation deletes.
 */
export class SqliteFastTokenStore implements FastTokenStore {
  private readonly selectStmt;
  private readonly putTx;
  private readonly setCountStmt;
  private readonly invalidateStmt;
  private readonly invalidateUserStmt;
  private readonly purgeStmt;

  /** @internal Made by the SQLite storage (`storage.fastTokens`). */
  constructor(db: Database.Database, options: SqliteFastTokenOptions = {}) {
    const maxPerUser = options.maxPerUser ?? 100;
    // Newest first; rowid breaks ties of the same millisecond (insertion order).
    this.selectStmt = db.prepare<[string, string], Row>(
      "SELECT user_agent, id, mechanism, issued_at, expires_at, count FROM fast_tokens WHERE username = ? AND user_agent = ? ORDER BY issued_at DESC, rowid DESC",
    );
    const insert = db.prepare(
      "INSERT INTO fast_tokens (username, user_agent, id, mechanism, issued_at, expires_at, count) SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM accounts WHERE username = ?) ON CONFLICT DO NOTHING",
    );
    // The current record and the one it replaced stay; older ones of this user agent go.
    const trimAgent = db.prepare(
      "DELETE FROM fast_tokens WHERE username = ? AND user_agent = ? AND rowid NOT IN (SELECT rowid FROM fast_tokens WHERE username = ? AND user_agent = ? ORDER BY issued_at DESC, rowid DESC LIMIT 2)",
    );
    const trimUser = db.prepare(
      "DELETE FROM fast_tokens WHERE username = ? AND rowid NOT IN (SELECT rowid FROM fast_tokens WHERE username = ? ORDER BY issued_at DESC, rowid DESC LIMIT ?)",
    );
    this.purgeStmt = db.prepare("DELETE FROM fast_tokens WHERE expires_at <= ?");
    this.putTx = db.transaction((r: FastTokenRecord) => {
      this.purgeStmt.run(r.issuedAt);
      insert.run(r.username, r.userAgentId, r.id, r.mechanism, r.issuedAt, r.expiresAt, r.count, r.username);
      trimAgent.run(r.username, r.userAgentId, r.username, r.userAgentId);
      trimUser.run(r.username, r.username, maxPerUser);
    });
    // The count only grows (replay protection survives whatever order two logins finish in).
    this.setCountStmt = db.prepare("UPDATE fast_tokens SET count = ? WHERE username = ? AND user_agent = ? AND id = ? AND count < ?");
    this.invalidateStmt = db.prepare("DELETE FROM fast_tokens WHERE username = ? AND user_agent = ?");
    this.invalidateUserStmt = db.prepare("DELETE FROM fast_tokens WHERE username = ?");
  }

  /** The records of this account and user agent, newest first. */
  get(username: string, userAgentId: string): readonly FastTokenRecord[] {
    return this.selectStmt.all(username, userAgentId).map((r) => ({
      username,
      userAgentId: r.user_agent,
      mechanism: r.mechanism,
      id: r.id,
      issuedAt: r.issued_at,
      expiresAt: r.expires_at,
      count: r.count,
    }));
  }

  /** Stores a new current record (keeps the previous one, drops older ones and every expired record). */
  put(record: FastTokenRecord): void {
    this.putTx.immediate(record);
  }

  /** Records the `count` of a successful login (never lowers it). */
  setCount(username: string, userAgentId: string, id: string, count: number): void {
    this.setCountStmt.run(count, username, userAgentId, id, count);
  }

  /** Deletes every record of this account and user agent (`<fast invalidate='true'/>`). */
  invalidate(username: string, userAgentId: string): void {
    this.invalidateStmt.run(username, userAgentId);
  }

  /** Deletes every record of the account (all its user agents): a password change, for instance. */
  invalidateUser(username: string): void {
    this.invalidateUserStmt.run(username);
  }

  /** Deletes every record expired at `wallNow` (ms since the epoch); `put` does it too. */
  purgeExpired(wallNow: number): void {
    this.purgeStmt.run(wallNow);
  }
}
