// XEP-0484 FAST token records in SQLite: the store itself (hashed records, newest two per user agent,
// monotonic count, invalidation deletes, expiry purges, bounded per account), the schema migration from
// version 1, the key file, and a token that logs in after a restart of the server on the same data
// directory — with its replay protection intact.
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastTokenRecord } from "@xmpp-sansio/core";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { generateSelfSignedCertificate } from "../src/certificate.js";
import { startServer } from "../src/server.js";
import { openDataDirectory } from "../src/store/data-dir.js";
import { FAST_KEY_FILE, loadOrCreateFastKey } from "../src/store/fast-tokens.js";
import { MIGRATIONS, SCHEMA_VERSION } from "../src/store/schema.js";
import { openSqliteStorage, type SqliteStorage } from "../src/store/sqlite.js";
import { RawClient } from "./support/raw.js";

const T = 1_700_000_000_000;
const rec = (id: string, more: Partial<FastTokenRecord> = {}): FastTokenRecord => ({
  username: "juliet",
  userAgentId: "ua-1",
  mechanism: "HT-SHA-256-NONE",
  id,
  issuedAt: T,
  expiresAt: T + 1000,
  count: 0,
  ...more,
});

describe("SQLite FAST token records", () => {
  let storage: SqliteStorage;
  beforeEach(() => {
    storage = openSqliteStorage(":memory:", { maxFastTokensPerUser: 4 });
    const accounts = new AccountStore({ records: storage.accounts, iterations: 1, hashes: ["SHA-1"] });
    accounts.add("juliet", "x");
    accounts.add("romeo", "y");
  });
  afterEach(() => storage.close());

  it("keeps the current and the previous record per user agent, newest first", () => {
    const f = storage.fastTokens;
    f.put(rec("a"));
    f.put(rec("b")); // same millisecond: insertion order decides
    f.put(rec("c", { issuedAt: T + 1, expiresAt: T + 1001 }));
    expect(f.get("juliet", "ua-1").map((r) => r.id)).toEqual(["c", "b"]);
    expect(f.get("juliet", "ua-1")[0]).toEqual(rec("c", { issuedAt: T + 1, expiresAt: T + 1001 }));
    expect(f.get("juliet", "ua-2")).toEqual([]);
    expect(f.get("romeo", "ua-1")).toEqual([]);
  });

  it("raises count only (replay protection), and invalidation deletes", () => {
    const f = storage.fastTokens;
    f.put(rec("a"));
    f.put(rec("z", { userAgentId: "ua-2" }));
    f.setCount("juliet", "ua-1", "a", 3);
    f.setCount("juliet", "ua-1", "a", 2); // a late, smaller count never lowers it
    expect(f.get("juliet", "ua-1")[0]?.count).toBe(3);
    f.invalidate("juliet", "ua-1");
    expect(f.get("juliet", "ua-1")).toEqual([]);
    expect(f.get("juliet", "ua-2")).toHaveLength(1);
    f.invalidateUser("juliet");
    expect(f.get("juliet", "ua-2")).toEqual([]);
  });

  it("purges expired records (at every put, and on request), and drops an account's records with it", () => {
    const f = storage.fastTokens;
    f.put(rec("old", { userAgentId: "gone", expiresAt: T + 10 }));
    f.put(rec("r", { username: "romeo" }));
    f.put(rec("new", { issuedAt: T + 10, expiresAt: T + 2000 })); // expires "old" on the way
    expect(f.get("juliet", "gone")).toEqual([]);
    expect(f.get("romeo", "ua-1")).toHaveLength(1);
    f.purgeExpired(T + 1000);
    expect(f.get("romeo", "ua-1")).toEqual([]);
    expect(f.get("juliet", "ua-1")).toHaveLength(1);
    new AccountStore({ records: storage.accounts }).remove("juliet");
    expect(f.get("juliet", "ua-1")).toEqual([]);
  });

  it("stores nothing for an unknown account, and bounds the records of one account", () => {
    const f = storage.fastTokens;
    f.put(rec("a", { username: "nobody" }));
    expect(f.get("nobody", "ua-1")).toEqual([]);
    for (let i = 0; i < 10; i++) f.put(rec(`t${i}`, { userAgentId: `ua-${i}`, issuedAt: T + i }));
    const left = Array.from({ length: 10 }, (_, i) => f.get("juliet", `ua-${i}`).length);
    expect(left).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]); // maxFastTokensPerUser: 4, the newest stay
  });
});

describe("schema migration 2 (fast_tokens)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "xmpp-fast-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("brings a version-1 database to the current version, keeping its data", () => {
    expect(SCHEMA_VERSION).toBe(2);
    const file = join(dir, "db.sqlite");
    const raw = new Database(file);
    raw.exec(MIGRATIONS[0]!);
    raw.pragma("user_version = 1");
    raw.prepare("INSERT INTO accounts (username, created_at) VALUES ('juliet', 1)").run();
    raw.close();
    const s = openSqliteStorage(file);
    try {
      expect(s.migratedFrom).toBe(1);
      expect(s.accounts.has("juliet")).toBe(true);
      s.fastTokens.put(rec("a"));
      expect(s.fastTokens.get("juliet", "ua-1")).toHaveLength(1);
    } finally {
      s.close();
    }
    const check = new Database(file, { readonly: true });
    expect(check.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
  });

  it("the key file: created once with mode 0600, the same key on every load, a short one refused", () => {
    const key = loadOrCreateFastKey(dir);
    expect(key).toHaveLength(32);
    expect(statSync(join(dir, FAST_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(loadOrCreateFastKey(dir)).toEqual(key);
    expect(new Uint8Array(readFileSync(join(dir, FAST_KEY_FILE)))).toEqual(key);
    writeFileSync(join(dir, FAST_KEY_FILE), "short");
    expect(() => loadOrCreateFastKey(dir)).toThrow(/fast-token\.key holds 5 bytes/);
  });
});

describe("FAST tokens survive a server restart on the same data directory", () => {
  const DOMAIN = "localhost";
  const NS_SASL2 = "urn:xmpp:sasl:2";
  const NS_FAST = "urn:xmpp:fast:0";
  const UA = "<user-agent id='5f0c5d0e-restart'><software>raw test</software></user-agent>";
  const pair = generateSelfSignedCertificate({ dnsNames: [DOMAIN] });
  const header = `<?xml version='1.0'?><stream:stream to='${DOMAIN}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;
  const b64 = (b: Uint8Array | string) => Buffer.from(b).toString("base64");
  const htNone = (token: string) =>
    b64(Buffer.concat([Buffer.from("juliet"), Buffer.from([0]), createHmac("sha256", Buffer.from(token, "utf8")).update("Initiator").digest()]));
  const outcome = /<success [^>]*>[\s\S]*?<\/success>|<failure [\s\S]*?<\/failure>/;
  let dir: string;
  const clients: RawClient[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "xmpp-fast-restart-"));
  });
  afterEach(() => {
    for (const c of clients) c.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the server the way `xmpp-sansio-server serve` does: storage and key from the data directory. */
  const serve = async () => {
    const { storage } = openDataDirectory(dir);
    new AccountStore({ records: storage.accounts, iterations: 1 }).add("juliet", "r0m30myr0m30");
    const running = await startServer({
      domain: DOMAIN,
      accounts: new AccountStore({ records: storage.accounts }),
      storage,
      tls: pair,
      port: 0,
      directTlsPort: 0,
      sasl2: { fast: { secret: loadOrCreateFastKey(dir) } },
    });
    const session = async (body: string) => {
      const c = await RawClient.connect(running.directTlsPort!, running.certificate);
      clients.push(c);
      c.write(header);
      await c.until(/<\/stream:features>/);
      c.write(`<authenticate xmlns='${NS_SASL2}' ${body}</authenticate>`);
      return { c, result: (await c.until(outcome))[0] };
    };
    return {
      storage,
      login: async (body: string) => (await session(body)).result,
      session,
      stop: async () => {
        await running.close();
        storage.close();
      },
    };
  };

  it("a token issued before the restart logs in after it; its last count is still refused", async () => {
    const first = await serve();
    const issued = await first.login(
      `mechanism='PLAIN'><initial-response>${b64("\0juliet\0r0m30myr0m30")}</initial-response>${UA}<request-token xmlns='${NS_FAST}' mechanism='HT-SHA-256-NONE'/>`,
    );
    const token = /<token [^>]*token='([^']+)'/.exec(issued)?.[1];
    expect(token).toBeDefined();
    expect(await first.login(`mechanism='HT-SHA-256-NONE'><initial-response>${htNone(token!)}</initial-response>${UA}<fast xmlns='${NS_FAST}' count='1'/>`)).toMatch(/^<success /);
    // The database holds the record, never the token.
    const db = new Database(join(dir, "xmpp-sansio.sqlite"), { readonly: true });
    const rows = db.prepare("SELECT * FROM fast_tokens").all();
    db.close();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(token!);
    expect(rows[0]).toMatchObject({ username: "juliet", user_agent: "5f0c5d0e-restart", count: 1 });
    await first.stop();

    const second = await serve();
    try {
      // count 1 was used before the restart: a replay, refused.
      expect(await second.login(`mechanism='HT-SHA-256-NONE'><initial-response>${htNone(token!)}</initial-response>${UA}<fast xmlns='${NS_FAST}' count='1'/>`)).toContain(
        "FAST token replayed",
      );
      const ok = await second.login(`mechanism='HT-SHA-256-NONE'><initial-response>${htNone(token!)}</initial-response>${UA}<fast xmlns='${NS_FAST}' count='2'/>`);
      expect(ok).toMatch(/^<success /);
      expect(ok).toContain(`<additional-data>${createHmac("sha256", Buffer.from(token!, "utf8")).update("Responder").digest("base64")}</additional-data>`);
      // Invalidation deletes: one more login with invalidate, then the token is gone, even across restarts.
      expect(
        await second.login(`mechanism='HT-SHA-256-NONE'><initial-response>${htNone(token!)}</initial-response>${UA}<fast xmlns='${NS_FAST}' count='3' invalidate='true'/>`),
      ).toMatch(/^<success /);
      expect(second.storage.fastTokens.get("juliet", "5f0c5d0e-restart")).toEqual([]);
    } finally {
      await second.stop();
    }
    expect(existsSync(join(dir, FAST_KEY_FILE))).toBe(true);
  });

  it("a password change (XEP-0077) deletes every FAST token of the account", async () => {
    const server = await serve();
    try {
      const issued = await server.login(
        `mechanism='PLAIN'><initial-response>${b64("\0juliet\0r0m30myr0m30")}</initial-response>${UA}<request-token xmlns='${NS_FAST}' mechanism='HT-SHA-256-NONE'/>`,
      );
      const token = /<token [^>]*token='([^']+)'/.exec(issued)?.[1] ?? "";
      expect(token).not.toBe("");
      // A session bound with Bind2 changes the password.
      const { c, result } = await server.session(
        `mechanism='PLAIN'><initial-response>${b64("\0juliet\0r0m30myr0m30")}</initial-response>${UA}<bind xmlns='urn:xmpp:bind:0'><tag>t</tag></bind>`,
      );
      expect(result).toContain("<bound");
      c.write("<iq type='set' id='cp'><query xmlns='jabber:iq:register'><username>juliet</username><password>n3wpassw0rd</password></query></iq>");
      expect((await c.until(/<iq [^>]*id='cp'[^>]*>/))[0]).toContain("type='result'");
      expect(server.storage.fastTokens.get("juliet", "5f0c5d0e-restart")).toEqual([]);
      expect(await server.login(`mechanism='HT-SHA-256-NONE'><initial-response>${htNone(token)}</initial-response>${UA}<fast xmlns='${NS_FAST}' count='1'/>`)).toContain(
        "FAST token unknown",
      );
    } finally {
      await server.stop();
    }
  });
});
