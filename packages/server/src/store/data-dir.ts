/**
 * The server's data directory: `DIR/xmpp-sansio.sqlite` (with its `-wal` and `-shm` files while open),
 * and the one-time import of the accounts file of earlier versions, `DIR/accounts.json`.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { AccountStore } from "../accounts.js";
import { openSqliteStorage, type SqliteStorage, type SqliteStorageOptions } from "./sqlite.js";

/** The database's file name inside the data directory. */
export const DATABASE_FILE = "xmpp-sansio.sqlite";
/** The accounts file of versions before the database, imported once. */
export const LEGACY_ACCOUNTS_FILE = "accounts.json";
/** What the accounts file is renamed to once imported. */
export const IMPORTED_ACCOUNTS_FILE = "accounts.json.imported";

const IMPORTED_KEY = "accounts_json_imported";

/** The result of {@link openDataDirectory}. */
export interface DataDirectory {
  /** The open SQLite store of the directory (`xmpp-sansio.sqlite`); close it when done. */
  readonly storage: SqliteStorage;
  /** The database file. */
  readonly databaseFile: string;
  /** Accounts imported from `accounts.json` by this open (empty when there was nothing to import). */
  readonly imported: readonly string[];
}

/**
 * Opens (creating the directory with mode 0700 and the database when absent) the data directory's
 * store, and imports `accounts.json` when one is there and has not been imported yet.
 *
 * The import is exactly-once across crashes and concurrent processes: the accounts and the "imported"
 * mark are written in one transaction, and only then is the file renamed to `accounts.json.imported`.
 * A process killed before the commit leaves nothing behind (the next open imports again); one killed
 * between the commit and the rename leaves the file, which the next open sees marked and only renames.
 * Accounts already in the database are kept (never overwritten by the file). A malformed file is an
 * error naming the file, and nothing is imported.
 */
export function openDataDirectory(dir: string, options: SqliteStorageOptions = {}): DataDirectory {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const databaseFile = join(dir, DATABASE_FILE);
  const storage = openSqliteStorage(databaseFile, options);
  try {
    const imported = importLegacyAccounts(storage, dir);
    return { storage, databaseFile, imported };
  } catch (error) {
    storage.close();
    throw error;
  }
}

function importLegacyAccounts(storage: SqliteStorage, dir: string): string[] {
  const file = join(dir, LEGACY_ACCOUNTS_FILE);
  if (!existsSync(file)) return [];
  let imported: string[] = [];
  if (storage.meta.get(IMPORTED_KEY) === undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new Error(
        `${file} is not valid JSON (${(error as Error).message}); it cannot be imported into ${storage.path}. Restore it from a backup, or remove it to start without those accounts.`,
      );
    }
    imported = storage.transaction(() => {
      if (storage.meta.get(IMPORTED_KEY) !== undefined) return []; // another process won the race
      let names: string[];
      try {
        names = new AccountStore({ records: storage.accounts }).load(parsed, { onlyNew: true });
      } catch (error) {
        throw new Error(`${file}: ${(error as Error).message}; nothing was imported`);
      }
      storage.meta.set(IMPORTED_KEY, new Date().toISOString());
      return names;
    });
  }
  try {
    renameSync(file, join(dir, IMPORTED_ACCOUNTS_FILE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error; // a concurrent open renamed it
  }
  return imported;
}

/**
 * Creates the demo accounts (juliet/r0m30myr0m30, romeo/j0liet) the first time a server starts on an
 * empty database — never again afterwards, even when all accounts are deleted. True when it created them.
 */
export function seedDemoAccounts(storage: SqliteStorage): boolean {
  if (storage.meta.get("demo_accounts_considered") !== undefined) return false;
  // Derive outside the transaction (slow by design), write inside it.
  const scratch = new AccountStore();
  scratch.add("juliet", "r0m30myr0m30");
  scratch.add("romeo", "j0liet");
  return storage.transaction(() => {
    if (storage.meta.get("demo_accounts_considered") !== undefined) return false;
    const empty = storage.accounts.list().length === 0;
    if (empty) new AccountStore({ records: storage.accounts }).load(scratch.toJSON(), { onlyNew: true });
    storage.meta.set("demo_accounts_considered", empty ? "created" : "accounts existed");
    return empty;
  });
}
