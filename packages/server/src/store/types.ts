/**
 * The server's storage interface: one object with a sub-store per concern. Every method is synchronous
 * (see docs/server.md, "Storage": SQLite answers in microseconds in-process, a synchronous call cannot
 * interleave with other events between its read and its write, and a PostgreSQL store would implement
 * {@link AsyncStorage}, the same interface with promises, awaited by the server's IO shell).
 *
 * Conventions for every sub-store:
 * - `user` is a **prepared localpart** (RFC 7622 UsernameCaseMapped, `prepareLocal`); the store compares
 *   bytes and never prepares names itself. Contact JIDs are stored exactly as given (the IM logic passes
 *   prepared bare JIDs).
 * - Per-user data exists only for existing accounts: a write for an unknown user changes nothing and
 *   answers `false` / `undefined` / `{ ok: false, reason: "no-such-user" }`; deleting an account deletes
 *   all its data in the same transaction.
 * - A method returns only after its transaction is committed (durably, with the SQLite defaults); a
 *   method that fails throws (disk full, corrupt file) — those are operator problems, not peer input.
 *
 * @module
 */
import type { FastTokenStore } from "@xmpp-sansio/core";
import type { ScramHash } from "@xmpp-sansio/sasl";

/** SCRAM keys of one account for one hash function (RFC 5802 §3): never the password. */
export interface StoredKeys {
  /** The random salt of the account, raw bytes. */
  readonly salt: Uint8Array;
  /** The PBKDF2 iteration count the keys were derived with (`i`, at least 4096 per RFC 7677). */
  readonly iterations: number;
  /** `StoredKey := H(HMAC(SaltedPassword, "Client Key"))`, raw bytes. */
  readonly storedKey: Uint8Array;
  /** `ServerKey := HMAC(SaltedPassword, "Server Key")`, raw bytes. */
  readonly serverKey: Uint8Array;
}

/** The SCRAM keys of one account, one entry per hash it can log in with (at least one). */
export type AccountKeys = ReadonlyMap<ScramHash, StoredKeys>;

/** Accounts: SCRAM keys per hash, keyed by the prepared localpart. */
export interface AccountRecords {
  /** Creates the account, or replaces all its keys when it exists (its other data is kept). */
  put(user: string, keys: AccountKeys): void;
  /** Creates the account only when it does not exist yet; false when it did (nothing changed). */
  create(user: string, keys: AccountKeys): boolean;
  /** The account's keys, or `undefined`. */
  get(user: string): AccountKeys | undefined;
  /** True when the account exists. */
  has(user: string): boolean;
  /** Deletes the account and all its data (roster, offline messages, vCard, private XML, blocklist). */
  remove(user: string): boolean;
  /** All account names, sorted. */
  list(): string[];
}

/** A roster item's subscription state (RFC 6121 §2.1.2.5). */
export type Subscription = "none" | "to" | "from" | "both";

/** One roster item (RFC 6121 §2.1.2) plus the server-side state the client does not see. */
export interface RosterItem {
  /** The contact's bare JID. */
  readonly jid: string;
  /** The handle the user gave the contact, if any. */
  readonly name?: string;
  /** The subscription state (`none`, `to`, `from`, `both`; RFC 6121 §2.1.2.5). */
  readonly subscription: Subscription;
  /** Pending out: the user asked for a subscription (`ask='subscribe'`, RFC 6121 §2.1.2.2). */
  readonly ask: boolean;
  /** Pre-approved (RFC 6121 §3.4): the contact's subscription request is approved on arrival. */
  readonly approved: boolean;
  /** Groups, in the order given, without duplicates. */
  readonly groups: readonly string[];
}

/** A user's roster with its version (RFC 6121 §2.6; the number is the `ver` string's value). */
export interface Roster {
  /**
   * Increases with every change to the items (from one counter shared by all accounts, so a re-created
   * account never repeats a version of the old one); 0 for a roster never written.
   */
  readonly version: number;
  /** The items (the SQLite store returns them sorted by JID). */
  readonly items: readonly RosterItem[];
}

/** An inbound subscription request waiting for the user's answer ("pending in", RFC 6121 §3.1.3). */
export interface PendingSubscription {
  /** The requesting contact's bare JID. */
  readonly jid: string;
  /** The `<presence type='subscribe'/>` as received (serialized XML), redelivered at each login. */
  readonly stanza: string;
  /** When it arrived, ms since the epoch. */
  readonly receivedAt: number;
}

/** Rosters and pending inbound subscription requests. */
export interface RosterStore {
  /** The roster, items sorted by JID. Unknown users have `{ version: 0, items: [] }`. */
  get(user: string): Roster;
  /** One item, or `undefined`. */
  getItem(user: string, jid: string): RosterItem | undefined;
  /** Creates or replaces an item; the new roster version, or `undefined` for an unknown user. */
  setItem(user: string, item: RosterItem): number | undefined;
  /** Removes an item; the new roster version, or `undefined` when there was no such item. */
  removeItem(user: string, jid: string): number | undefined;
  /**
   * Records (or replaces) a pending inbound request. Bounded per user (other people fill this list): a
   * request from a JID not pending yet is refused with `full` at the limit (the IM layer drops it).
   */
  addPending(user: string, pending: PendingSubscription): StoreResult;
  /** Forgets a pending inbound request; true when there was one. */
  removePending(user: string, jid: string): boolean;
  /** The pending inbound requests, oldest first. */
  listPending(user: string): PendingSubscription[];
}

/** One stored offline message (XEP-0160). */
export interface OfflineMessage {
  /** Increasing per store; {@link OfflineStore.remove} deletes up to and including an id. */
  readonly id: number;
  /** The `<message/>` as it arrived (serialized XML). */
  readonly stanza: string;
  /** When it was stored, ms since the epoch: the XEP-0203 `<delay stamp=…/>`. */
  readonly storedAt: number;
  /** When it expires (XEP-0023 `jabber:x:expire`), ms since the epoch; absent: never. */
  readonly expiresAt?: number;
}

/** Why a bounded write was refused: the user's limit is reached, or there is no such account. */
export type StoreRefusal = {
  /** Always `false`: nothing was written. */
  readonly ok: false;
  /** `full`: the user's limit is reached (e.g. offline messages); `no-such-user`: no such account. */
  readonly reason: "full" | "no-such-user";
};

/** The answer of a bounded write: done, or why not. */
export type StoreResult = { readonly ok: true } | StoreRefusal;

/**
 * The answer of {@link OfflineStore.store}: stored (with the message's id), or why not — `full` when the
 * user's count or byte limit is reached (the router then answers `<service-unavailable/>`, RFC 6121
 * §8.5.2.1.1).
 */
export type OfflineStoreResult = { readonly ok: true; readonly id: number } | StoreRefusal;

/** Offline messages (XEP-0160), bounded per user. */
export interface OfflineStore {
  /**
   * Stores a message for `user` if it has room: expired messages are dropped first, then the count and
   * the bytes waiting are checked and the row inserted, all in one transaction. `expiresAt` (ms since the epoch) is for
   * XEP-0023 `jabber:x:expire`: the message is dropped, never delivered, from that instant on.
   */
  store(user: string, stanza: string, now: number, expiresAt?: number): OfflineStoreResult;
  /**
   * Fetches and deletes all of the user's messages, oldest first, in one transaction: call it only when
   * the messages are handed to a session in the same turn (see docs/server.md on "delete on hand-over").
   * Messages expired at `now` are deleted and not returned.
   */
  take(user: string, now: number): OfflineMessage[];
  /** Reads up to `limit` unexpired messages, oldest first, without deleting them (delete-on-ack: {@link remove}). */
  peek(user: string, now: number, limit?: number): OfflineMessage[];
  /** Deletes the user's messages with `id <= throughId`; how many were deleted. */
  remove(user: string, throughId: number): number;
  /** How many messages the user has waiting (expired ones included until the next store or take). */
  count(user: string): number;
}

/** vcard-temp (XEP-0054): one serialized `<vCard xmlns='vcard-temp'/>` per user. */
export interface VCardStore {
  /** The user's serialized vCard, or `undefined` when none was stored. */
  get(user: string): string | undefined;
  /** Stores (or replaces) the vCard; false for an unknown user. */
  set(user: string, vcard: string): boolean;
  /** Deletes the vCard; true when there was one. */
  remove(user: string): boolean;
}

/** Private XML storage (XEP-0049): one serialized element per user and namespace. */
export interface PrivateXmlStore {
  /** The user's serialized element for `namespace`, or `undefined`. */
  get(user: string, namespace: string): string | undefined;
  /** Stores (or replaces) the element; false for an unknown user. */
  set(user: string, namespace: string, xml: string): boolean;
  /** Deletes the element; true when there was one. */
  remove(user: string, namespace: string): boolean;
}

/** Blocking command (XEP-0191): a set of blocked JIDs per user (as given: bare, full or domain JIDs). */
export interface BlocklistStore {
  /** The blocked JIDs, sorted. */
  list(user: string): string[];
  /** True when exactly this JID is on the user's list (the IM logic checks bare, full and domain forms). */
  has(user: string, jid: string): boolean;
  /** Adds JIDs (already blocked ones are ignored); the JIDs newly added, or `undefined` for an unknown user. */
  add(user: string, jids: readonly string[]): string[] | undefined;
  /** Removes JIDs, or all of them when `jids` is omitted (unblock-all); the JIDs removed. */
  remove(user: string, jids?: readonly string[]): string[];
}

/** A small key/value table for the server's own bookkeeping. */
export interface MetaStore {
  /** The value of `key`, or `undefined`. */
  get(key: string): string | undefined;
  /** Sets (or replaces) the value of `key`. */
  set(key: string, value: string): void;
}

/**
 * Everything the server keeps: one object with a sub-store per concern. Implemented by
 * {@link SqliteStorage} (a file, or `:memory:` for tests).
 */
export interface Storage {
  /** The server's own bookkeeping (schema facts, "accounts.json imported", "demo accounts created"). */
  readonly meta: MetaStore;
  /** Accounts and their SCRAM keys per hash (never passwords). */
  readonly accounts: AccountRecords;
  /** Rosters and subscription state (RFC 6121 §2), with roster versions. */
  readonly rosters: RosterStore;
  /** Offline messages (XEP-0160), bounded per user. */
  readonly offline: OfflineStore;
  /** vcard-temp (XEP-0054). */
  readonly vcards: VCardStore;
  /** Private XML storage (XEP-0049). */
  readonly privateXml: PrivateXmlStore;
  /** Block lists (XEP-0191). */
  readonly blocklists: BlocklistStore;
  /**
   * XEP-0484 FAST token records (never the tokens), dated on the wall clock so they outlive a restart.
   * Optional: without it the server keeps them in memory.
   */
  readonly fastTokens?: FastTokenRecords;
  /**
   * Runs `fn` as one transaction: every sub-store call inside commits together or not at all (nested
   * calls join the outer transaction). For multi-step mutations such as a roster change plus the
   * matching pending-request removal.
   */
  transaction<T>(fn: () => T): T;
  /** Closes the store; further calls throw. */
  close(): void;
}

/** The core's FAST token store, plus what the server needs beyond it. */
export interface FastTokenRecords extends FastTokenStore {
  /** Deletes every record of the account, all user agents (a password change). */
  invalidateUser(user: string): void;
  /** Deletes every record expired at `wallNow` (ms since the epoch). */
  purgeExpired(wallNow: number): void;
}

/** `T` with every method returning a promise (the shape of an asynchronous store). */
export type Promisified<T> = {
  readonly [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : Promisified<T[K]>;
};

/**
 * The same interface with promises, for a store across the network (PostgreSQL for several nodes): only
 * the server's IO shell calls the store, and it can `await` either form. `transaction` takes an async
 * function there. Not implemented yet; it is here so the shape is fixed.
 */
export type AsyncStorage = Promisified<Omit<Storage, "transaction">> & {
  /** Runs `fn` as one transaction: the sub-store calls it awaits commit together or not at all. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
};
