/**
 * The SQLite schema as numbered migrations. Migration N brings the file from `PRAGMA user_version = N-1`
 * to N; each runs in one `BEGIN IMMEDIATE` transaction together with the version bump, so a process
 * killed mid-migration leaves the file at the old version and the next start runs it again. Add a
 * feature (FAST tokens, MUC, MAM, PEP) by appending a migration; never edit a released one.
 *
 * Conventions: STRICT tables; every per-user table references `accounts(username)` with
 * `ON DELETE CASCADE` (deleting an account deletes its data); times are integers, ms since the epoch;
 * XML is stored serialized, as TEXT.
 *
 * @module
 */

/** The migrations, in order; `MIGRATIONS[i]` moves the schema from version i to i+1. */
export const MIGRATIONS: readonly string[] = [
  // 1: accounts, rosters, offline messages, vCards, private XML, blocklists, bookkeeping.
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;

  -- Counters shared by all accounts ('roster': roster versions, so a deleted and re-created account
  -- never repeats a version a client may still have cached).
  CREATE TABLE sequences (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) STRICT;
  INSERT INTO sequences (name, value) VALUES ('roster', 0);

  CREATE TABLE accounts (
    username TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL,
    roster_version INTEGER NOT NULL DEFAULT 0
  ) STRICT;

  CREATE TABLE scram_keys (
    username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    hash TEXT NOT NULL CHECK (hash IN ('SHA-1', 'SHA-256', 'SHA-512')),
    salt BLOB NOT NULL,
    iterations INTEGER NOT NULL CHECK (iterations > 0),
    stored_key BLOB NOT NULL,
    server_key BLOB NOT NULL,
    PRIMARY KEY (username, hash)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE roster_items (
    username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    jid TEXT NOT NULL,
    name TEXT,
    subscription TEXT NOT NULL CHECK (subscription IN ('none', 'to', 'from', 'both')),
    ask INTEGER NOT NULL CHECK (ask IN (0, 1)),
    approved INTEGER NOT NULL CHECK (approved IN (0, 1)),
    groups TEXT NOT NULL, -- a JSON array of strings
    PRIMARY KEY (username, jid)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE roster_pending (
    username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    jid TEXT NOT NULL,
    stanza TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (username, jid)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE offline_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, so "delete through id" stays exact
    username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    stored_at INTEGER NOT NULL,
    expires_at INTEGER, -- jabber:x:expire (XEP-0023): gone after this instant; NULL: never
    bytes INTEGER NOT NULL, -- the stanza's UTF-8 length, for the per-user byte bound
    stanza TEXT NOT NULL
  ) STRICT;
  CREATE INDEX offline_messages_by_user ON offline_messages(username, id);

  CREATE TABLE vcards (
    username TEXT PRIMARY KEY REFERENCES accounts(username) ON DELETE CASCADE,
    vcard TEXT NOT NULL
  ) STRICT;

  CREATE TABLE private_xml (
    username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    namespace TEXT NOT NULL,
    xml TEXT NOT NULL,
    PRIMARY KEY (username, namespace)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE blocklist (
    username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    jid TEXT NOT NULL,
    PRIMARY KEY (username, jid)
  ) STRICT, WITHOUT ROWID;
  `,
  // 2: XEP-0484 FAST token records (never the tokens: a token is HMAC(key, id), the key lives outside the
  // database, in the data directory's fast-token.key). Times are wall-clock ms; expired rows are purged.
  `
  CREATE TABLE fast_tokens (
    username TEXT NOT NULL REFERENCES accounts(username) ON DELETE CASCADE,
    user_agent TEXT NOT NULL, -- the XEP-0388 <user-agent id/>
    id TEXT NOT NULL, -- the random id the token is derived from
    mechanism TEXT NOT NULL CHECK (mechanism IN ('HT-SHA-256-EXPR', 'HT-SHA-256-UNIQ', 'HT-SHA-256-ENDP', 'HT-SHA-256-NONE')),
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    count INTEGER NOT NULL CHECK (count >= 0), -- the highest count accepted (replay protection)
    PRIMARY KEY (username, user_agent, id)
  ) STRICT;
  CREATE INDEX fast_tokens_by_expiry ON fast_tokens(expires_at);
  `,
];

/** The schema version this code writes (`PRAGMA user_version`). */
export const SCHEMA_VERSION = MIGRATIONS.length;
