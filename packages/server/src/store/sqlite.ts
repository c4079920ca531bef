/**
 * {@link Storage} on SQLite through `better-sqlite3` (synchronous): WAL journal, `synchronous=FULL` by
 * default, foreign keys on, `BEGIN IMMEDIATE` for every write, numbered migrations (schema.ts).
 *
 * @module
 */
import { closeSync, openSync } from "node:fs";
import type { ScramHash } from "@xmpp-sansio/sasl";
import Database from "better-sqlite3";
import { SqliteFastTokenStore } from "./fast-tokens.js";
import { MIGRATIONS, SCHEMA_VERSION } from "./schema.js";
import type {
  AccountKeys,
  AccountRecords,
  BlocklistStore,
  MetaStore,
  OfflineMessage,
  OfflineStore,
  OfflineStoreResult,
  PendingSubscription,
  PrivateXmlStore,
  Roster,
  RosterItem,
  RosterStore,
  Storage,
  StoredKeys,
  StoreResult,
  Subscription,
  VCardStore,
} from "./types.js";

/** Options of {@link openSqliteStorage}. */
export interface SqliteStorageOptions {
  /** Offline messages kept per user; {@link OfflineStore.store} answers `full` beyond. Default 1000. */
  maxOfflinePerUser?: number;
  /** UTF-8 bytes of offline messages kept per user; `full` beyond. Default 10 MiB. */
  maxOfflineBytesPerUser?: number;
  /** Pending inbound subscription requests kept per user; `full` beyond. Default 1000. */
  maxPendingPerUser?: number;
  /**
   * `full` (default): a commit is on disk before the call returns — survives SIGKILL and power loss.
   * `normal`: in WAL mode a commit survives SIGKILL (it is in the OS page cache) but the last commits
   * may be rolled back by a power loss or an OS crash; fewer fsyncs.
   */
  synchronous?: "full" | "normal";
  /** How long a write waits for another process's write lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** The clock for `created_at`. Default `Date.now`. */
  now?: () => number;
  /** FAST token records kept per account (all its user agents); the oldest go first. Default 100. */
  maxFastTokensPerUser?: number;
}

const HASH_ORDER: readonly ScramHash[] = ["SHA-1", "SHA-256", "SHA-512"];

/**
 * Opens (creating when absent, with mode 0600: the file holds SCRAM keys) and migrates a SQLite store.
 * `":memory:"` gives a private in-memory store for tests. Throws when the file is not a database, is
 * corrupt, or was written by a newer schema.
 *
 * @example
 * ```ts
 * const storage = openSqliteStorage("./xmpp-data/xmpp-sansio.sqlite");
 * storage.offline.store("juliet", "<message …/>", Date.now()); // { ok: true, id: 1 }
 * storage.offline.take("juliet", Date.now()); // [{ id: 1, stanza: "<message …/>", storedAt: … }]
 * storage.close();
 * ```
 */
export function openSqliteStorage(path: string, options: SqliteStorageOptions = {}): SqliteStorage {
  if (path !== ":memory:" && path !== "") closeSync(openSync(path, "a", 0o600));
  const db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
  try {
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
    db.pragma("foreign_keys = ON");
    const migratedFrom = migrate(db);
    return new SqliteStorage(db, migratedFrom, options);
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database.Database): number {
  const version = () => db.pragma("user_version", { simple: true }) as number;
  let from = version();
  if (from > SCHEMA_VERSION) {
    throw new Error(`${db.name}: schema version ${from} was written by a newer server (this one knows up to ${SCHEMA_VERSION})`);
  }
  if (from === SCHEMA_VERSION) return from;
  db.transaction(() => {
    from = version(); // again under the write lock: another process may have migrated meanwhile
    for (let v = from; v < SCHEMA_VERSION; v++) {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }
  }).immediate();
  return from;
}

interface KeyRow {
  hash: ScramHash;
  salt: Buffer;
  iterations: number;
  stored_key: Buffer;
  server_key: Buffer;
}

interface ItemRow {
  jid: string;
  name: string | null;
  subscription: Subscription;
  ask: number;
  approved: number;
  groups: string;
}

interface OfflineRow {
  id: number;
  stanza: string;
  stored_at: number;
  expires_at: number | null;
}

interface PendingRow {
  jid: string;
  stanza: string;
  received_at: number;
}

/** The SQLite {@link Storage}; made by {@link openSqliteStorage}. */
export class SqliteStorage implements Storage {
  readonly meta: MetaStore;
  /** Accounts and their SCRAM keys (see {@link Storage.accounts}). */
  readonly accounts: AccountRecords;
  /** Rosters (see {@link Storage.rosters}). */
  readonly rosters: RosterStore;
  /** Offline messages (see {@link Storage.offline}). */
  readonly offline: OfflineStore;
  /** vCards (see {@link Storage.vcards}). */
  readonly vcards: VCardStore;
  /** Private XML (see {@link Storage.privateXml}). */
  readonly privateXml: PrivateXmlStore;
  /** Block lists (see {@link Storage.blocklists}). */
  readonly blocklists: BlocklistStore;
  /** XEP-0484 FAST token records (fast-tokens.ts). */
  readonly fastTokens: SqliteFastTokenStore;
  /** The schema version the file had when opened (0: this open created it). */
  readonly migratedFrom: number;
  /** The database's file name (`:memory:` for an in-memory store). */
  readonly path: string;

  /** @internal Use {@link openSqliteStorage}. */
  constructor(
    private readonly db: Database.Database,
    migratedFrom: number,
    options: SqliteStorageOptions,
  ) {
    this.migratedFrom = migratedFrom;
    this.path = db.name;
    this.fastTokens = new SqliteFastTokenStore(db, options.maxFastTokensPerUser === undefined ? {} : { maxPerUser: options.maxFastTokensPerUser });
    const now = options.now ?? Date.now;
    const maxOffline = options.maxOfflinePerUser ?? 1000;
    const maxOfflineBytes = options.maxOfflineBytesPerUser ?? 10 * 1024 * 1024;
    const maxPending = options.maxPendingPerUser ?? 1000;
    const write = <A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) => {
      const tx = db.transaction(fn);
      return (...args: A) => tx.immediate(...args);
    };
    const userExists = db.prepare<[string], 1>("SELECT 1 FROM accounts WHERE username = ?").pluck();
    const exists = (user: string) => userExists.get(user) !== undefined;

    // meta
    const metaGet = db.prepare<[string], string>("SELECT value FROM meta WHERE key = ?").pluck();
    const metaSet = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    this.meta = { get: (key) => metaGet.get(key), set: (key, value) => void metaSet.run(key, value) };

    // accounts
    const accountInsert = db.prepare("INSERT INTO accounts (username, created_at) VALUES (?, ?) ON CONFLICT (username) DO NOTHING");
    const keysDelete = db.prepare("DELETE FROM scram_keys WHERE username = ?");
    const keysInsert = db.prepare(
      "INSERT INTO scram_keys (username, hash, salt, iterations, stored_key, server_key) VALUES (?, ?, ?, ?, ?, ?)",
    );
    const keysGet = db.prepare<[string], KeyRow>("SELECT hash, salt, iterations, stored_key, server_key FROM scram_keys WHERE username = ?");
    const accountDelete = db.prepare("DELETE FROM accounts WHERE username = ?");
    const accountList = db.prepare<[], string>("SELECT username FROM accounts ORDER BY username").pluck();
    const writeKeys = (user: string, keys: AccountKeys) => {
      if (keys.size === 0) throw new TypeError(`account '${user}': no keys`);
      keysDelete.run(user);
      for (const [hash, k] of keys) keysInsert.run(user, hash, k.salt, k.iterations, k.storedKey, k.serverKey);
    };
    const put = write((user: string, keys: AccountKeys) => {
      accountInsert.run(user, now());
      writeKeys(user, keys);
    });
    const create = write((user: string, keys: AccountKeys) => {
      if (accountInsert.run(user, now()).changes === 0) return false;
      writeKeys(user, keys);
      return true;
    });
    const remove = write((user: string) => accountDelete.run(user).changes > 0);
    this.accounts = {
      put,
      create,
      get: (user) => {
        const rows = keysGet.all(user);
        if (rows.length === 0) return undefined;
        rows.sort((a, b) => HASH_ORDER.indexOf(a.hash) - HASH_ORDER.indexOf(b.hash));
        return new Map(rows.map((r) => [r.hash, toKeys(r)]));
      },
      has: exists,
      remove,
      list: () => accountList.all(),
    };

    // rosters
    const rosterVersion = db.prepare<[string], number>("SELECT roster_version FROM accounts WHERE username = ?").pluck();
    const nextRosterVersion = db.prepare<[], number>("UPDATE sequences SET value = value + 1 WHERE name = 'roster' RETURNING value").pluck();
    const setVersion = db.prepare<[number, string], number>("UPDATE accounts SET roster_version = ? WHERE username = ? RETURNING roster_version").pluck();
    const bumpVersion = (user: string) => setVersion.get(nextRosterVersion.get() as number, user);
    const itemsGet = db.prepare<[string], ItemRow>(
      "SELECT jid, name, subscription, ask, approved, groups FROM roster_items WHERE username = ? ORDER BY jid",
    );
    const itemGet = db.prepare<[string, string], ItemRow>(
      "SELECT jid, name, subscription, ask, approved, groups FROM roster_items WHERE username = ? AND jid = ?",
    );
    const itemUpsert = db.prepare(
      `INSERT INTO roster_items (username, jid, name, subscription, ask, approved, groups) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (username, jid) DO UPDATE SET name = excluded.name, subscription = excluded.subscription,
       ask = excluded.ask, approved = excluded.approved, groups = excluded.groups`,
    );
    const itemDelete = db.prepare("DELETE FROM roster_items WHERE username = ? AND jid = ?");
    const pendingUpsert = db.prepare(
      `INSERT INTO roster_pending (username, jid, stanza, received_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (username, jid) DO UPDATE SET stanza = excluded.stanza, received_at = excluded.received_at`,
    );
    const pendingDelete = db.prepare("DELETE FROM roster_pending WHERE username = ? AND jid = ?");
    const pendingHas = db.prepare<[string, string], 1>("SELECT 1 FROM roster_pending WHERE username = ? AND jid = ?").pluck();
    const pendingCount = db.prepare<[string], number>("SELECT count(*) FROM roster_pending WHERE username = ?").pluck();
    const pendingList = db.prepare<[string], PendingRow>(
      "SELECT jid, stanza, received_at FROM roster_pending WHERE username = ? ORDER BY received_at, jid",
    );
    const readRoster = db.transaction((user: string): Roster => {
      const version = rosterVersion.get(user);
      return version === undefined ? { version: 0, items: [] } : { version, items: itemsGet.all(user).map(toItem) };
    });
    this.rosters = {
      get: (user) => readRoster(user),
      getItem: (user, jid) => {
        const row = itemGet.get(user, jid);
        return row === undefined ? undefined : toItem(row);
      },
      setItem: write((user: string, item: RosterItem) => {
        if (!exists(user)) return undefined;
        const groups = JSON.stringify([...new Set(item.groups)]);
        itemUpsert.run(user, item.jid, item.name ?? null, item.subscription, item.ask ? 1 : 0, item.approved ? 1 : 0, groups);
        return bumpVersion(user);
      }),
      removeItem: write((user: string, jid: string) => (itemDelete.run(user, jid).changes > 0 ? bumpVersion(user) : undefined)),
      addPending: write((user: string, pending: PendingSubscription): StoreResult => {
        if (!exists(user)) return { ok: false, reason: "no-such-user" };
        if (pendingHas.get(user, pending.jid) === undefined && (pendingCount.get(user) ?? 0) >= maxPending) return { ok: false, reason: "full" };
        pendingUpsert.run(user, pending.jid, pending.stanza, pending.receivedAt);
        return { ok: true };
      }),
      removePending: write((user: string, jid: string) => pendingDelete.run(user, jid).changes > 0),
      listPending: (user) => pendingList.all(user).map((r) => ({ jid: r.jid, stanza: r.stanza, receivedAt: r.received_at })),
    };

    // offline messages
    const offlineCount = db.prepare<[string], number>("SELECT count(*) FROM offline_messages WHERE username = ?").pluck();
    const offlineUsage = db.prepare<[string], { n: number; bytes: number }>(
      "SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM offline_messages WHERE username = ?",
    );
    const offlineInsert = db
      .prepare<[string, number, number | null, number, string], number>(
        "INSERT INTO offline_messages (username, stored_at, expires_at, bytes, stanza) VALUES (?, ?, ?, ?, ?) RETURNING id",
      )
      .pluck();
    const offlinePeek = db.prepare<[string, number, number], OfflineRow>(
      "SELECT id, stanza, stored_at, expires_at FROM offline_messages WHERE username = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY id LIMIT ?",
    );
    const offlineExpire = db.prepare("DELETE FROM offline_messages WHERE username = ? AND expires_at <= ?");
    const offlineDeleteThrough = db.prepare("DELETE FROM offline_messages WHERE username = ? AND id <= ?");
    const toMessage = (r: OfflineRow): OfflineMessage => ({
      id: r.id,
      stanza: r.stanza,
      storedAt: r.stored_at,
      ...(r.expires_at === null ? {} : { expiresAt: r.expires_at }),
    });
    this.offline = {
      store: write((user: string, stanza: string, at: number, expiresAt?: number): OfflineStoreResult => {
        if (!exists(user)) return { ok: false, reason: "no-such-user" };
        offlineExpire.run(user, at);
        const bytes = Buffer.byteLength(stanza, "utf8");
        const usage = offlineUsage.get(user) ?? { n: 0, bytes: 0 };
        if (usage.n >= maxOffline || usage.bytes + bytes > maxOfflineBytes) return { ok: false, reason: "full" };
        return { ok: true, id: offlineInsert.get(user, at, expiresAt ?? null, bytes, stanza) as number };
      }),
      take: write((user: string, at: number) => {
        offlineExpire.run(user, at);
        const rows = offlinePeek.all(user, at, -1);
        const last = rows.at(-1);
        if (last !== undefined) offlineDeleteThrough.run(user, last.id);
        return rows.map(toMessage);
      }),
      peek: (user, at, limit = -1) => offlinePeek.all(user, at, limit).map(toMessage),
      remove: write((user: string, throughId: number) => offlineDeleteThrough.run(user, throughId).changes),
      count: (user) => offlineCount.get(user) ?? 0,
    };

    // vCards
    const vcardGet = db.prepare<[string], string>("SELECT vcard FROM vcards WHERE username = ?").pluck();
    const vcardSet = db.prepare("INSERT INTO vcards (username, vcard) VALUES (?, ?) ON CONFLICT (username) DO UPDATE SET vcard = excluded.vcard");
    const vcardDelete = db.prepare("DELETE FROM vcards WHERE username = ?");
    this.vcards = {
      get: (user) => vcardGet.get(user),
      set: write((user: string, vcard: string) => {
        if (!exists(user)) return false;
        vcardSet.run(user, vcard);
        return true;
      }),
      remove: write((user: string) => vcardDelete.run(user).changes > 0),
    };

    // private XML
    const privateGet = db.prepare<[string, string], string>("SELECT xml FROM private_xml WHERE username = ? AND namespace = ?").pluck();
    const privateSet = db.prepare(
      "INSERT INTO private_xml (username, namespace, xml) VALUES (?, ?, ?) ON CONFLICT (username, namespace) DO UPDATE SET xml = excluded.xml",
    );
    const privateDelete = db.prepare("DELETE FROM private_xml WHERE username = ? AND namespace = ?");
    this.privateXml = {
      get: (user, namespace) => privateGet.get(user, namespace),
      set: write((user: string, namespace: string, xml: string) => {
        if (!exists(user)) return false;
        privateSet.run(user, namespace, xml);
        return true;
      }),
      remove: write((user: string, namespace: string) => privateDelete.run(user, namespace).changes > 0),
    };

    // blocklists
    const blockList = db.prepare<[string], string>("SELECT jid FROM blocklist WHERE username = ? ORDER BY jid").pluck();
    const blockHas = db.prepare<[string, string], 1>("SELECT 1 FROM blocklist WHERE username = ? AND jid = ?").pluck();
    const blockInsert = db.prepare("INSERT INTO blocklist (username, jid) VALUES (?, ?) ON CONFLICT DO NOTHING");
    const blockDelete = db.prepare("DELETE FROM blocklist WHERE username = ? AND jid = ?");
    this.blocklists = {
      list: (user) => blockList.all(user),
      has: (user, jid) => blockHas.get(user, jid) !== undefined,
      add: write((user: string, jids: readonly string[]) => {
        if (!exists(user)) return undefined;
        return jids.filter((jid) => blockInsert.run(user, jid).changes > 0);
      }),
      remove: write((user: string, jids?: readonly string[]) => {
        const targets = jids ?? blockList.all(user);
        return targets.filter((jid) => blockDelete.run(user, jid).changes > 0);
      }),
    };
  }

  /** Runs `fn` in one `BEGIN IMMEDIATE` transaction (a savepoint when nested); rolls back if it throws. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /**
   * Writes a consistent copy of the whole database to `file` (`VACUUM INTO`; the file must not exist and is created with mode 0600)
   * while the server keeps running — the online backup an operator can copy away.
   */
  backupTo(file: string): void {
    closeSync(openSync(file, "wx", 0o600)); // the copy holds SCRAM keys too; fails when the file exists
    this.db.prepare("VACUUM INTO ?").run(file);
  }

  /** `PRAGMA integrity_check`: `"ok"` or the problems found. */
  integrityCheck(): string {
    return (this.db.pragma("integrity_check") as { integrity_check: string }[]).map((r) => r.integrity_check).join("\n");
  }

  /** Closes the database (checkpointing the WAL). */
  close(): void {
    this.db.close();
  }
}

function toKeys(r: KeyRow): StoredKeys {
  return { salt: new Uint8Array(r.salt), iterations: r.iterations, storedKey: new Uint8Array(r.stored_key), serverKey: new Uint8Array(r.server_key) };
}

function toItem(r: ItemRow): RosterItem {
  return {
    jid: r.jid,
    ...(r.name === null ? {} : { name: r.name }),
    subscription: r.subscription,
    ask: r.ask === 1,
    approved: r.approved === 1,
    groups: JSON.parse(r.groups) as string[],
  };
}
