import { prepareLocal } from "@xmpp-sansio/jid";
import { base64Decode, base64Encode, constantTimeEqual, deriveScramCredentials, type ScramHash } from "@xmpp-sansio/sasl";
import type { AccountKeys, AccountRecords, StoredKeys } from "./store/types.js";

export type { StoredKeys } from "./store/types.js";

/** The JSON form of an account file: keys base64-encoded, one entry per hash. */
export interface AccountsFile {
  /** Format version of the file; 1 is the only one (a file with another is refused). */
  readonly version: 1;
  /**
   * Username (localpart) → SCRAM hash → that hash's stored keys (RFC 5802 §3), `salt`, `storedKey` and `serverKey`
   * base64, `iterations` a number. Never a password.
   */
  readonly accounts: Record<string, Partial<Record<ScramHash, { salt: string; iterations: number; storedKey: string; serverKey: string }>>>;
}

/** Options of {@link AccountStore}. */
export interface AccountStoreOptions {
  /** PBKDF2 iterations for new accounts. Default 4096 (RFC 7677's minimum recommendation). */
  iterations?: number;
  /** Hashes to keep keys for. Default all three, so SCRAM-SHA-1, -256 and -512 can all be offered. */
  hashes?: readonly ScramHash[];
  /** Fills salts. Default `globalThis.crypto.getRandomValues`. */
  random?: (bytes: Uint8Array) => void;
  /**
   * Where the keys live. Default: a private in-memory map. The server passes `storage.accounts` of its
   * SQLite store, so every lookup reads the database (accounts added by `add-user` are seen at once).
   */
  records?: AccountRecords;
}

const ALL_HASHES: readonly ScramHash[] = ["SHA-1", "SHA-256", "SHA-512"];

/**
 * Accounts as SCRAM stored keys, keyed by the prepared localpart (RFC 7622 UsernameCaseMapped). The
 * password is used once, when the account is created, and never kept; PLAIN logins are checked by
 * deriving the StoredKey from the offered password with the stored salt. The keys live in an
 * {@link AccountRecords} (in memory by default, the SQLite store in the server); this class adds name
 * preparation and key derivation, which is slow by design and so never runs inside a transaction.
 *
 * @example
 * ```ts
 * const accounts = new AccountStore();
 * accounts.add("juliet", "r0m30myr0m30");
 * accounts.scramKeys("juliet", "SHA-256"); // { salt, iterations, storedKey, serverKey }
 * accounts.verifyPassword("Juliet", "r0m30myr0m30"); // true
 * ```
 */
export class AccountStore {
  private readonly accounts: AccountRecords;
  private readonly iterations: number;
  private readonly hashes: readonly ScramHash[];
  private readonly random: (bytes: Uint8Array) => void;

  constructor(options: AccountStoreOptions = {}) {
    this.iterations = options.iterations ?? 4096;
    this.hashes = options.hashes ?? ALL_HASHES;
    this.random = options.random ?? ((bytes) => globalThis.crypto.getRandomValues(bytes));
    this.accounts = options.records ?? new MemoryAccountRecords();
  }

  /**
   * Creates or replaces an account. Throws `JidError` when the username is not a valid localpart and
   * `SaslError` when the password is not a valid OpaqueString.
   */
  add(username: string, password: string): void {
    const name = prepareLocal(username);
    this.accounts.put(name, this.derive(password));
  }

  /** Creates an account only when it does not exist; false (and nothing changed) when it did. */
  create(username: string, password: string): boolean {
    const name = prepareLocal(username);
    return this.accounts.create(name, this.derive(password));
  }

  /** Deletes an account (and, in a full storage, all its data); true if it existed. */
  remove(username: string): boolean {
    const key = prepareOrUndefined(username);
    return key !== undefined && this.accounts.remove(key);
  }

  /** True when the account exists (the name is prepared first, so `Juliet` finds `juliet`). */
  has(username: string): boolean {
    const key = prepareOrUndefined(username);
    return key !== undefined && this.accounts.has(key);
  }

  /**
   * True when the account exists, for a name that is prepared already (a `Jid`'s localpart): no PRECIS
   * again, which the router would otherwise run for every stanza to a user.
   */
  hasPrepared(localpart: string): boolean {
    return this.accounts.has(localpart);
  }

  /** Usernames, prepared, sorted. */
  usernames(): string[] {
    return this.accounts.list();
  }

  /** The hashes an account has keys for (what SCRAM variants it can use). */
  hashesOf(username: string): ScramHash[] {
    const key = prepareOrUndefined(username);
    const keys = key === undefined ? undefined : this.accounts.get(key);
    return keys ? [...keys.keys()] : [];
  }

  /** Stored keys for SCRAM with `hash`, or `undefined` (unknown user or no keys for that hash). */
  scramKeys(username: string, hash: ScramHash): StoredKeys | undefined {
    const key = prepareOrUndefined(username);
    return key === undefined ? undefined : this.accounts.get(key)?.get(hash);
  }

  /** PLAIN: derives the StoredKey from `password` and compares it in constant time. */
  verifyPassword(username: string, password: string): boolean {
    const key = prepareOrUndefined(username);
    const keys = key === undefined ? undefined : this.accounts.get(key);
    if (!keys) return false;
    const [hash, stored] = keys.entries().next().value as [ScramHash, StoredKeys];
    let candidate: StoredKeys;
    try {
      candidate = deriveScramCredentials(hash, password, stored.salt, stored.iterations);
    } catch {
      return false; // the password is not a valid OpaqueString: it cannot be right
    }
    return constantTimeEqual(candidate.storedKey, stored.storedKey);
  }

  /** The JSON form, for saving. */
  toJSON(): AccountsFile {
    const accounts: AccountsFile["accounts"] = {};
    for (const name of this.accounts.list()) {
      const keys = this.accounts.get(name);
      if (keys === undefined) continue;
      const entry: Record<string, { salt: string; iterations: number; storedKey: string; serverKey: string }> = {};
      for (const [hash, k] of keys) {
        entry[hash] = { salt: base64Encode(k.salt), iterations: k.iterations, storedKey: base64Encode(k.storedKey), serverKey: base64Encode(k.serverKey) };
      }
      accounts[name] = entry;
    }
    return { version: 1, accounts };
  }

  /**
   * Loads accounts saved by {@link toJSON}, replacing accounts of the same name (or, with
   * `onlyNew`, keeping them). Checks the whole file first: throws `TypeError` on a malformed file and
   * then changes nothing. Returns the names written.
   */
  load(file: unknown, options: { onlyNew?: boolean } = {}): string[] {
    const parsed = parseAccountsFile(file);
    const written: string[] = [];
    for (const [name, keys] of parsed) {
      if (options.onlyNew === true) {
        if (this.accounts.create(name, keys)) written.push(name);
      } else {
        this.accounts.put(name, keys);
        written.push(name);
      }
    }
    return written;
  }

  private derive(password: string): AccountKeys {
    const keys = new Map<ScramHash, StoredKeys>();
    for (const hash of this.hashes) {
      const salt = new Uint8Array(16);
      this.random(salt);
      keys.set(hash, deriveScramCredentials(hash, password, salt, this.iterations));
    }
    return keys;
  }
}

/** Accounts in a map: the default {@link AccountRecords} of {@link AccountStore} (tests, the demo). */
export class MemoryAccountRecords implements AccountRecords {
  private readonly map = new Map<string, AccountKeys>();
  put(user: string, keys: AccountKeys): void {
    this.map.set(user, new Map(keys));
  }
  create(user: string, keys: AccountKeys): boolean {
    if (this.map.has(user)) return false;
    this.put(user, keys);
    return true;
  }
  get(user: string): AccountKeys | undefined {
    return this.map.get(user);
  }
  has(user: string): boolean {
    return this.map.has(user);
  }
  remove(user: string): boolean {
    return this.map.delete(user);
  }
  list(): string[] {
    return [...this.map.keys()].sort();
  }
}

function parseAccountsFile(file: unknown): Map<string, AccountKeys> {
  if (!isRecord(file) || file.version !== 1 || !isRecord(file.accounts)) throw new TypeError("not an xmpp-sansio accounts file (version 1)");
  const result = new Map<string, AccountKeys>();
  for (const [name, entry] of Object.entries(file.accounts)) {
    if (!isRecord(entry)) throw new TypeError(`account '${name}': not an object`);
    const keys = new Map<ScramHash, StoredKeys>();
    for (const hash of ALL_HASHES) {
      const k = entry[hash];
      if (k === undefined) continue;
      if (!isRecord(k) || typeof k.iterations !== "number" || !Number.isInteger(k.iterations) || k.iterations < 1) {
        throw new TypeError(`account '${name}', ${hash}: malformed keys`);
      }
      const salt = decodeField(k.salt, name, hash);
      const storedKey = decodeField(k.storedKey, name, hash);
      const serverKey = decodeField(k.serverKey, name, hash);
      keys.set(hash, { salt, iterations: k.iterations, storedKey, serverKey });
    }
    if (keys.size === 0) throw new TypeError(`account '${name}': no keys`);
    result.set(prepareLocal(name), keys);
  }
  return result;
}

function decodeField(value: unknown, name: string, hash: string): Uint8Array {
  const bytes = typeof value === "string" ? base64Decode(value) : undefined;
  if (!bytes) throw new TypeError(`account '${name}', ${hash}: a key is not base64`);
  return bytes;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function prepareOrUndefined(username: string): string | undefined {
  try {
    return prepareLocal(username);
  } catch {
    return undefined;
  }
}
