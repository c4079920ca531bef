/**
 * XEP-0484 Fast Authentication Streamlining Tokens (FAST), v0.2, on the Hashed Token SASL mechanisms
 * (`HT-SHA-256-NONE`, `-UNIQ`, `-ENDP`, `-EXPR`: draft-schmaus-kitten-sasl-ht). Both roles; pure (no
 * clock, no I/O): the server's tokens live in a {@link FastTokenStore} the application provides (an
 * in-memory one is here), the client's token is plain data the application persists.
 *
 * HT in one line: the client sends `authcid NUL HMAC(token, "Initiator" || cb-data)`, the server answers
 * with `HMAC(token, "Responder" || cb-data)` as additional data; `cb-data` is empty for `-NONE`, else the
 * channel binding of the TLS connection (tls-unique, tls-server-end-point, tls-exporter).
 *
 * **Tokens are not stored.** The server issues `token = base64url(HMAC-SHA-256(secret, id))` for a random
 * `id` and stores only `id` (with account, user agent, expiry and the last `count`): a leaked store does
 * not let anyone log in without the server's `secret`, which the application keeps outside the database.
 *
 * @module
 */
import { base64Encode, constantTimeEqual, digest, hmac, utf8Decode, utf8Encode } from "@xmpp-sansio/sasl";
import type { XmlElement } from "@xmpp-sansio/xml";
import type { ChannelBindingData } from "../../session-types.js";
import { el } from "../../util.js";

/** `urn:xmpp:fast:0` (XEP-0484). */
export const NS_FAST = "urn:xmpp:fast:0";

/** The HT mechanisms, and the channel binding each one uses. */
export const HT_MECHANISMS = {
  "HT-SHA-256-EXPR": "tls-exporter",
  "HT-SHA-256-UNIQ": "tls-unique",
  "HT-SHA-256-ENDP": "tls-server-end-point",
  "HT-SHA-256-NONE": undefined,
} as const;

/** A Hashed Token mechanism name. */
export type HtMechanism = keyof typeof HT_MECHANISMS;

/** Whether `name` is one of the HT mechanisms. */
export function isHtMechanism(name: string): name is HtMechanism {
  return Object.hasOwn(HT_MECHANISMS, name);
}

/** The HT mechanisms usable on a connection with `cb` (channel-bound ones only where the binding exists). */
export function usableHtMechanisms(cb: ChannelBindingData | undefined): HtMechanism[] {
  return (Object.keys(HT_MECHANISMS) as HtMechanism[]).filter((m) => {
    const type = HT_MECHANISMS[m];
    return type === undefined || (cb?.[type]?.length ?? 0) > 0;
  });
}

function cbData(mechanism: HtMechanism, cb: ChannelBindingData | undefined): Uint8Array | undefined {
  const type = HT_MECHANISMS[mechanism];
  if (type === undefined) return new Uint8Array(0);
  const d = cb?.[type];
  return d !== undefined && d.length > 0 ? d : undefined;
}

const INITIATOR = utf8Encode("Initiator")!;
const RESPONDER = utf8Encode("Responder")!;

function ht(token: string, label: Uint8Array, cb: Uint8Array): Uint8Array {
  const msg = new Uint8Array(label.length + cb.length);
  msg.set(label);
  msg.set(cb, label.length);
  return hmac("SHA-256", utf8Encode(token) ?? new Uint8Array(0), msg);
}

// -----------------------------------------------------------------------------------------------------
// Client

/** A FAST token as the client keeps it (plain JSON: persist it with the rest of the session state). */
export interface FastToken {
  /** The HT mechanism it was issued for. */
  readonly mechanism: HtMechanism;
  /** The secret. Password-equivalent for this client: store it as carefully as a password. */
  readonly token: string;
  /** The server's `expiry` (XEP-0082 date-time), if given. */
  readonly expiry?: string;
  /** The last `count` used with it (XEP-0484 replay protection); the next use sends `count + 1`. */
  readonly count: number;
}

/**
 * The client's initial response for `token` on this connection, or `undefined` when the mechanism's
 * channel binding is not available here.
 */
export function htInitialResponse(username: string, token: FastToken, cb: ChannelBindingData | undefined): Uint8Array | undefined {
  const data = cbData(token.mechanism, cb);
  if (data === undefined) return undefined;
  const user = utf8Encode(username) ?? new Uint8Array(0);
  const mac = ht(token.token, INITIATOR, data);
  const out = new Uint8Array(user.length + 1 + mac.length);
  out.set(user);
  out.set(mac, user.length + 1);
  return out;
}

/** Checks the server's additional data (`HMAC(token, "Responder" || cb-data)`): mutual authentication. */
export function htVerifyResponder(token: FastToken, cb: ChannelBindingData | undefined, additional: Uint8Array | undefined): boolean {
  const data = cbData(token.mechanism, cb);
  return data !== undefined && additional !== undefined && constantTimeEqual(additional, ht(token.token, RESPONDER, data));
}

/** Parses a `<token xmlns='urn:xmpp:fast:0'/>` from `<success/>`; `undefined` when unusable. */
export function parseFastToken(e: XmlElement, mechanism: HtMechanism): FastToken | undefined {
  const token = e.attr("token");
  if (token === undefined || token === "" || token.length > 4096) return undefined;
  const expiry = e.attr("expiry");
  return expiry === undefined ? { mechanism, token, count: 0 } : { mechanism, token, expiry, count: 0 };
}

/** Whether a client-side token is past its `expiry` at wall-clock time `wallNow` (ms since the epoch). */
export function fastTokenExpired(token: FastToken, wallNow: number | undefined): boolean {
  if (token.expiry === undefined || wallNow === undefined) return false;
  const t = Date.parse(token.expiry);
  return Number.isFinite(t) && t <= wallNow;
}

// -----------------------------------------------------------------------------------------------------
// Server

/** What the server stores per issued token: never the token. */
export interface FastTokenRecord {
  /** The account (localpart) the token logs in to. */
  readonly username: string;
  /** The XEP-0388 `<user-agent id>` the token was issued to. */
  readonly userAgentId: string;
  /** The XEP-0484 HT mechanism the token is for (e.g. `HT-SHA-256-NONE`). */
  readonly mechanism: HtMechanism;
  /** The random id the token is derived from (with the server's secret). */
  readonly id: string;
  /**
   * Expiry, wall-clock ms since the epoch ({@link FastServerOptions.wallClock}; the session's `now` when
   * no wall clock is given — enough for a store that dies with the process, wrong for a persistent one).
   */
  readonly expiresAt: number;
  /** The highest `count` accepted so far (replay protection). */
  readonly count: number;
  /** When it was issued (same clock as `expiresAt`): past half its life a login rotates it. */
  readonly issuedAt: number;
}

/**
 * Where a server keeps FAST token records. Synchronous (an in-memory map, SQLite): the session calls it
 * in the middle of an exchange. At most two records per (account, user agent) matter: the current token
 * and the one it replaced (a client that missed the rotation can still log in once). Times in the
 * records are wall-clock ms ({@link FastServerOptions.wallClock}), so a persistent store outlives the
 * process; a store should drop expired records (`put` is a good moment: it runs at every issuance).
 */
export interface FastTokenStore {
  /** The records of this account and user agent, newest first. */
  get(username: string, userAgentId: string): readonly FastTokenRecord[];
  /** Stores a new current record (the previous current one stays as the fallback; older ones go). */
  put(record: FastTokenRecord): void;
  /** Records the `count` of a verified login with record `id` (at verification: the count is spent then). */
  setCount(username: string, userAgentId: string, id: string, count: number): void;
  /** Forgets every token of this account and user agent (`<fast invalidate='true'/>`, logout). */
  invalidate(username: string, userAgentId: string): void;
}

/** An in-memory {@link FastTokenStore} (lost at restart; the server package has a SQLite one). */
export class MemoryFastTokenStore implements FastTokenStore {
  private readonly map = new Map<string, FastTokenRecord[]>();
  private readonly maxEntries: number;

  /** `maxEntries`: most (account, user agent) pairs kept; past it the longest-held pair goes. Default 100 000. */
  constructor(options: { readonly maxEntries?: number } = {}) {
    this.maxEntries = options.maxEntries ?? 100_000;
  }

  private key(username: string, ua: string): string {
    return `${username}\u0000${ua}`;
  }

  get(username: string, userAgentId: string): readonly FastTokenRecord[] {
    return this.map.get(this.key(username, userAgentId)) ?? [];
  }

  private putsSinceSweep = 0;

  put(record: FastTokenRecord): void {
    const k = this.key(record.username, record.userAgentId);
    const previous = (this.map.get(k) ?? []).slice(0, 1);
    this.map.delete(k); // re-inserted last: the eviction below takes the pair that was put longest ago
    this.map.set(k, [record, ...previous]);
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value!);
    // Expiry purges: a sweep after as many puts as there are entries (amortized O(1) per put), so user
    // agents that never come back do not accumulate.
    if (++this.putsSinceSweep >= Math.max(64, this.map.size)) {
      this.putsSinceSweep = 0;
      this.purgeExpired(record.issuedAt);
    }
  }

  /** Drops every record expired at `wallNow` (the records' clock). */
  purgeExpired(wallNow: number): void {
    for (const [k, list] of this.map) {
      const live = list.filter((r) => r.expiresAt > wallNow);
      if (live.length === 0) this.map.delete(k);
      else if (live.length !== list.length) this.map.set(k, live);
    }
  }

  setCount(username: string, userAgentId: string, id: string, count: number): void {
    const list = this.map.get(this.key(username, userAgentId));
    if (list !== undefined) this.map.set(this.key(username, userAgentId), list.map((r) => (r.id === id ? { ...r, count } : r)));
  }

  invalidate(username: string, userAgentId: string): void {
    this.map.delete(this.key(username, userAgentId));
  }

  /** How many (account, user agent) pairs hold tokens. */
  get size(): number {
    return this.map.size;
  }
}

/** Server settings of FAST. */
export interface FastServerOptions {
  /** The key tokens are derived from (≥ 32 random bytes, kept outside the token store). */
  readonly secret: Uint8Array;
  /** Where issued tokens' records live (memory, or a database shared by the server's nodes). */
  readonly store: FastTokenStore;
  /** Token lifetime in ms. Default 14 days. */
  readonly ttlMs?: number;
  /**
   * Wall-clock ms since the epoch: records are dated and checked on it, and the `expiry` attribute
   * shows it. Default: the session's `now` (monotonic in the adapters — fine for the in-memory store,
   * which dies with the process; a persistent store needs the wall clock, e.g. `() => Date.now()`).
   */
  readonly wallClock?: () => number;
  /** HT mechanisms offered (those whose binding exists on the connection). Default all four. */
  readonly mechanisms?: readonly HtMechanism[];
}

/** The default token lifetime: 14 days. */
export const DEFAULT_FAST_TTL_MS = 14 * 24 * 3600 * 1000;

/** The token a record stands for. */
function tokenOf(secret: Uint8Array, id: string): string {
  return base64Encode(hmac("SHA-256", secret, utf8Encode(`urn:xmpp:fast:0 ${id}`)!)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

/** Issues a token: stores its record, returns the `<token/>` element for `<success/>`. */
export function issueFastToken(
  o: FastServerOptions,
  at: { username: string; userAgentId: string; mechanism: HtMechanism; now: number; randomId: string },
): XmlElement {
  const ttl = o.ttlMs ?? DEFAULT_FAST_TTL_MS;
  const wall = o.wallClock?.() ?? at.now;
  o.store.put({ username: at.username, userAgentId: at.userAgentId, mechanism: at.mechanism, id: at.randomId, expiresAt: wall + ttl, count: 0, issuedAt: wall });
  return el("token", NS_FAST, { expiry: new Date(wall + ttl).toISOString(), token: tokenOf(o.secret, at.randomId) });
}

/** Why a FAST login was refused (for the `auth-failed` text and the tests). */
export type FastRefusal = "malformed" | "unknown" | "expired" | "replayed" | "mismatch" | "no-binding";

/**
 * Verifies an HT initial response. On success returns the username, the record that matched and the
 * server's additional data; the caller records `count` at once (before it asks anything else).
 */
export function verifyFast(
  o: FastServerOptions,
  at: { mechanism: HtMechanism; initial: Uint8Array | null; userAgentId: string; count: number | undefined; now: number; cb: ChannelBindingData | undefined; prepare: (u: string) => string | undefined },
): { username: string; record: FastTokenRecord; data: Uint8Array } | { refused: FastRefusal } {
  const data = cbData(at.mechanism, at.cb);
  if (data === undefined) return { refused: "no-binding" };
  const nul = at.initial === null ? -1 : at.initial.indexOf(0);
  if (at.initial === null || nul <= 0 || at.initial.length - nul - 1 !== 32) return { refused: "malformed" };
  const name = utf8Decode(at.initial.subarray(0, nul));
  const username = name === undefined ? undefined : at.prepare(name);
  if (username === undefined) return { refused: "malformed" };
  const mac = at.initial.subarray(nul + 1);
  let result: FastRefusal = "unknown";
  for (const r of o.store.get(username, at.userAgentId)) {
    if (r.mechanism !== at.mechanism) continue;
    const token = tokenOf(o.secret, r.id);
    if (!constantTimeEqual(mac, ht(token, INITIATOR, data))) {
      result = "mismatch";
      continue;
    }
    if (r.expiresAt <= (o.wallClock?.() ?? at.now)) return { refused: "expired" };
    // XEP-0484 §5: the count must grow with every use of a token (a replayed exchange repeats it).
    if (at.count === undefined || !(at.count > r.count)) return { refused: "replayed" };
    return { username, record: r, data: ht(token, RESPONDER, data) };
  }
  return { refused: result };
}

/** Whether a record is past half its life (a login then rotates it); `now` is the session clock. */
export function fastRecordAging(o: FastServerOptions, r: FastTokenRecord, now: number): boolean {
  return (o.wallClock?.() ?? now) - r.issuedAt > (o.ttlMs ?? DEFAULT_FAST_TTL_MS) / 2;
}

/** A stable, non-reversible short form of a user-agent id (Bind2 resources: `tag.hash`). */
export function userAgentHash(userAgentId: string): string {
  return base64Encode(digest("SHA-256", utf8Encode(userAgentId) ?? new Uint8Array(0)))
    .slice(0, 8)
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
}
