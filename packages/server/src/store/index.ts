// The server's storage: the interface (types.ts), the SQLite implementation, and the data directory.
export {
  DATABASE_FILE,
  type DataDirectory,
  IMPORTED_ACCOUNTS_FILE,
  LEGACY_ACCOUNTS_FILE,
  openDataDirectory,
  seedDemoAccounts,
} from "./data-dir.js";
export { FAST_KEY_FILE, loadOrCreateFastKey, SqliteFastTokenStore, type SqliteFastTokenOptions } from "./fast-tokens.js";
export { MIGRATIONS, SCHEMA_VERSION } from "./schema.js";
export { openSqliteStorage, SqliteStorage, type SqliteStorageOptions } from "./sqlite.js";
export type {
  AccountKeys,
  AccountRecords,
  AsyncStorage,
  BlocklistStore,
  FastTokenRecords,
  MetaStore,
  OfflineMessage,
  OfflineStore,
  OfflineStoreResult,
  PendingSubscription,
  PrivateXmlStore,
  Promisified,
  Roster,
  RosterItem,
  RosterStore,
  Storage,
  StoredKeys,
  StoreRefusal,
  StoreResult,
  Subscription,
  VCardStore,
} from "./types.js";
