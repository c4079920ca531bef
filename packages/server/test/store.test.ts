import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { AccountStore } from "../src/accounts.js";
import { SCHEMA_VERSION } from "../src/store/schema.js";
import { openSqliteStorage, type SqliteStorage } from "../src/store/sqlite.js";
import type { RosterItem } from "../src/store/types.js";

let counter = 0;
const random = (bytes: Uint8Array) => {
  for (let i = 0; i < bytes.length; i++) bytes[i] = (counter++ * 37) & 0xff;
};

let storage: SqliteStorage;
beforeEach(() => {
  storage = openSqliteStorage(":memory:", { maxOfflinePerUser: 3, now: () => 1_700_000_000_000 });
  const accounts = new AccountStore({ records: storage.accounts, random, iterations: 1 });
  accounts.add("juliet", "r0m30myr0m30");
  accounts.add("romeo", "j0liet");
});
afterEach(() => storage.close());

const item = (jid: string, more: Partial<RosterItem> = {}): RosterItem => ({ jid, subscription: "none", ask: false, approved: false, groups: [], ...more });

describe("SQLite accounts", () => {
  it("keeps the SCRAM keys of every hash, verifies passwords, and never stores the password", () => {
    const accounts = new AccountStore({ records: storage.accounts });
    expect(accounts.hashesOf("Juliet")).toEqual(["SHA-1", "SHA-256", "SHA-512"]);
    expect(accounts.verifyPassword("juliet", "r0m30myr0m30")).toBe(true);
    expect(accounts.verifyPassword("juliet", "wrong")).toBe(false);
    expect(accounts.scramKeys("romeo", "SHA-512")?.storedKey).toHaveLength(64);
    expect(accounts.usernames()).toEqual(["juliet", "romeo"]);
    expect(JSON.stringify(accounts.toJSON())).not.toContain("r0m30myr0m30");
  });

  it("replaces keys on add but keeps the account's data; create refuses an existing name", () => {
    const accounts = new AccountStore({ records: storage.accounts, iterations: 1 });
    storage.vcards.set("juliet", "<vCard xmlns='vcard-temp'/>");
    accounts.add("juliet", "new password");
    expect(accounts.verifyPassword("juliet", "new password")).toBe(true);
    expect(accounts.verifyPassword("juliet", "r0m30myr0m30")).toBe(false);
    expect(storage.vcards.get("juliet")).toBe("<vCard xmlns='vcard-temp'/>");
    expect(accounts.create("juliet", "other")).toBe(false);
    expect(accounts.verifyPassword("juliet", "new password")).toBe(true);
    expect(accounts.create("nurse", "other")).toBe(true);
  });

  it("deletes an account with all its data", () => {
    storage.rosters.setItem("juliet", item("romeo@example.com"));
    storage.rosters.addPending("juliet", { jid: "nurse@example.com", stanza: "<presence type='subscribe'/>", receivedAt: 1 });
    storage.offline.store("juliet", "<message/>", 1);
    storage.vcards.set("juliet", "<vCard/>");
    storage.privateXml.set("juliet", "storage:bookmarks", "<storage xmlns='storage:bookmarks'/>");
    storage.blocklists.add("juliet", ["tybalt@example.com"]);
    expect(storage.accounts.remove("juliet")).toBe(true);
    expect(storage.accounts.remove("juliet")).toBe(false);
    expect(storage.rosters.get("juliet")).toEqual({ version: 0, items: [] });
    expect(storage.rosters.listPending("juliet")).toEqual([]);
    expect(storage.offline.count("juliet")).toBe(0);
    expect(storage.vcards.get("juliet")).toBeUndefined();
    expect(storage.privateXml.get("juliet", "storage:bookmarks")).toBeUndefined();
    expect(storage.blocklists.list("juliet")).toEqual([]);
    // and a new account of the same name starts empty
    new AccountStore({ records: storage.accounts, iterations: 1 }).add("juliet", "x");
    expect(storage.rosters.get("juliet")).toEqual({ version: 0, items: [] });
  });
});

describe("SQLite rosters", () => {
  it("stores items with every field, sorted by JID, and bumps the version on each change", () => {
    expect(storage.rosters.get("juliet")).toEqual({ version: 0, items: [] });
    expect(storage.rosters.setItem("juliet", item("romeo@example.net", { name: "Romeo", subscription: "both", groups: ["Friends", "Lovers", "Friends"] }))).toBe(1);
    expect(storage.rosters.setItem("juliet", item("nurse@example.net", { ask: true, approved: true }))).toBe(2);
    expect(storage.rosters.get("juliet")).toEqual({
      version: 2,
      items: [
        { jid: "nurse@example.net", subscription: "none", ask: true, approved: true, groups: [] },
        { jid: "romeo@example.net", name: "Romeo", subscription: "both", ask: false, approved: false, groups: ["Friends", "Lovers"] },
      ],
    });
    expect(storage.rosters.setItem("juliet", item("romeo@example.net", { subscription: "from" }))).toBe(3);
    expect(storage.rosters.getItem("juliet", "romeo@example.net")).toEqual(item("romeo@example.net", { subscription: "from" }));
    expect(storage.rosters.removeItem("juliet", "romeo@example.net")).toBe(4);
    expect(storage.rosters.removeItem("juliet", "romeo@example.net")).toBeUndefined();
    expect(storage.rosters.get("juliet").version).toBe(4);
    expect(storage.rosters.get("romeo")).toEqual({ version: 0, items: [] });
    expect(storage.rosters.setItem("romeo", item("juliet@example.com"))).toBe(5); // one counter for all
    expect(storage.rosters.setItem("juliet", item("nurse@example.net"))).toBe(6);
  });

  it("never repeats a version for a deleted and re-created account (a client's cached ver stays stale)", () => {
    for (let i = 0; i < 3; i++) storage.rosters.setItem("juliet", item(`c${i}@x`));
    const before = storage.rosters.get("juliet").version;
    storage.accounts.remove("juliet");
    new AccountStore({ records: storage.accounts, iterations: 1 }).add("juliet", "x");
    expect(storage.rosters.get("juliet").version).toBe(0);
    for (let i = 0; i < 3; i++) storage.rosters.setItem("juliet", item(`d${i}@x`));
    expect(storage.rosters.get("juliet").version).toBeGreaterThan(before);
  });

  it("refuses writes for unknown users and keeps pending inbound requests apart from items", () => {
    expect(storage.rosters.setItem("nobody", item("a@b"))).toBeUndefined();
    expect(storage.rosters.addPending("nobody", { jid: "a@b", stanza: "<presence/>", receivedAt: 1 })).toEqual({ ok: false, reason: "no-such-user" });
    expect(storage.rosters.addPending("juliet", { jid: "b@x", stanza: "<presence type='subscribe' from='b@x'/>", receivedAt: 5 })).toEqual({ ok: true });
    expect(storage.rosters.addPending("juliet", { jid: "a@x", stanza: "<presence type='subscribe' from='a@x'/>", receivedAt: 7 })).toEqual({ ok: true });
    expect(storage.rosters.listPending("juliet").map((p) => p.jid)).toEqual(["b@x", "a@x"]);
    expect(storage.rosters.get("juliet").items).toEqual([]);
    expect(storage.rosters.removePending("juliet", "b@x")).toBe(true);
    expect(storage.rosters.removePending("juliet", "b@x")).toBe(false);
    expect(storage.rosters.listPending("juliet")).toEqual([{ jid: "a@x", stanza: "<presence type='subscribe' from='a@x'/>", receivedAt: 7 }]);
  });

  it("bounds the pending requests per user; a repeated request from a pending JID replaces it", () => {
    const s = openSqliteStorage(":memory:", { maxPendingPerUser: 2 });
    new AccountStore({ records: s.accounts, iterations: 1, hashes: ["SHA-1"] }).add("juliet", "x");
    const req = (jid: string, at: number) => ({ jid, stanza: `<presence type='subscribe' from='${jid}'/>`, receivedAt: at });
    expect(s.rosters.addPending("juliet", req("a@x", 1))).toEqual({ ok: true });
    expect(s.rosters.addPending("juliet", req("b@x", 2))).toEqual({ ok: true });
    expect(s.rosters.addPending("juliet", req("c@x", 3))).toEqual({ ok: false, reason: "full" });
    expect(s.rosters.addPending("juliet", req("a@x", 4))).toEqual({ ok: true });
    expect(s.rosters.listPending("juliet").map((p) => [p.jid, p.receivedAt])).toEqual([["b@x", 2], ["a@x", 4]]);
    s.close();
  });
});

describe("SQLite offline messages", () => {
  it("stores up to the limit, answers full beyond, and hands them over oldest first with their time, once", () => {
    expect(storage.offline.store("juliet", "<message id='1'/>", 1000)).toEqual({ ok: true, id: 1 });
    expect(storage.offline.store("juliet", "<message id='2'/>", 2000)).toEqual({ ok: true, id: 2 });
    expect(storage.offline.store("romeo", "<message id='r'/>", 2500)).toEqual({ ok: true, id: 3 });
    expect(storage.offline.store("juliet", "<message id='3'/>", 3000)).toEqual({ ok: true, id: 4 });
    expect(storage.offline.store("juliet", "<message id='4'/>", 4000)).toEqual({ ok: false, reason: "full" });
    expect(storage.offline.store("nobody", "<message/>", 4000)).toEqual({ ok: false, reason: "no-such-user" });
    expect(storage.offline.count("juliet")).toBe(3);
    expect(storage.offline.take("juliet", 10_000)).toEqual([
      { id: 1, stanza: "<message id='1'/>", storedAt: 1000 },
      { id: 2, stanza: "<message id='2'/>", storedAt: 2000 },
      { id: 4, stanza: "<message id='3'/>", storedAt: 3000 },
    ]);
    expect(storage.offline.take("juliet", 10_000)).toEqual([]);
    expect(storage.offline.count("romeo")).toBe(1);
    expect(storage.offline.store("juliet", "<message id='5'/>", 5000)).toEqual({ ok: true, id: 5 }); // room again, ids never reused
  });

  it("bounds the UTF-8 bytes waiting per user too", () => {
    const s = openSqliteStorage(":memory:", { maxOfflineBytesPerUser: 20 });
    new AccountStore({ records: s.accounts, iterations: 1, hashes: ["SHA-1"] }).add("juliet", "x");
    expect(s.offline.store("juliet", "<m>ééé</m>", 1)).toEqual({ ok: true, id: 1 }); // 13 bytes, 10 characters
    expect(s.offline.store("juliet", "<m>12</m>", 1)).toEqual({ ok: false, reason: "full" }); // 13 + 9 > 20
    expect(s.offline.store("juliet", "<m/>", 1)).toEqual({ ok: true, id: 2 }); // 13 + 4 <= 20
    expect(s.offline.store("juliet", "<m/>", 1)).toEqual({ ok: false, reason: "full" }); // 17 + 4 > 20
    s.offline.take("juliet", 1);
    expect(s.offline.store("juliet", "<m>ééé</m>", 1)).toEqual({ ok: true, id: 3 });
    s.close();
  });

  it("peeks without deleting and removes through an id (delete on acknowledgement)", () => {
    for (let i = 1; i <= 3; i++) storage.offline.store("juliet", `<message id='${i}'/>`, i);
    expect(storage.offline.peek("juliet", 0, 2).map((m) => m.id)).toEqual([1, 2]);
    expect(storage.offline.count("juliet")).toBe(3);
    expect(storage.offline.remove("juliet", 2)).toBe(2);
    expect(storage.offline.peek("juliet", 0).map((m) => m.stanza)).toEqual(["<message id='3'/>"]);
    expect(storage.offline.remove("romeo", 99)).toBe(0);
  });

  it("drops messages past their jabber:x:expire instant: not delivered, and not counted against the limit", () => {
    expect(storage.offline.store("juliet", "<message id='a'/>", 1000, 5000)).toEqual({ ok: true, id: 1 });
    expect(storage.offline.store("juliet", "<message id='b'/>", 1000)).toEqual({ ok: true, id: 2 });
    expect(storage.offline.store("juliet", "<message id='c'/>", 1000, 9000)).toEqual({ ok: true, id: 3 });
    expect(storage.offline.store("juliet", "<message id='d'/>", 4999)).toEqual({ ok: false, reason: "full" });
    expect(storage.offline.peek("juliet", 4999).map((m) => m.id)).toEqual([1, 2, 3]);
    expect(storage.offline.peek("juliet", 5000).map((m) => m.id)).toEqual([2, 3]);
    expect(storage.offline.store("juliet", "<message id='e'/>", 5000)).toEqual({ ok: true, id: 4 }); // 'a' expired: room
    expect(storage.offline.take("juliet", 8999)).toEqual([
      { id: 2, stanza: "<message id='b'/>", storedAt: 1000 },
      { id: 3, stanza: "<message id='c'/>", storedAt: 1000, expiresAt: 9000 },
      { id: 4, stanza: "<message id='e'/>", storedAt: 5000 },
    ]);
    storage.offline.store("romeo", "<message/>", 0, 10);
    expect(storage.offline.take("romeo", 10)).toEqual([]);
    expect(storage.offline.count("romeo")).toBe(0);
  });

  it("never holds more than the limit and loses nothing it accepted, under any sequence of operations", () => {
    type Op = { kind: "store"; user: "juliet" | "romeo" } | { kind: "take"; user: "juliet" | "romeo" } | { kind: "ack"; user: "juliet" | "romeo"; n: number };
    const user = fc.constantFrom<"juliet" | "romeo">("juliet", "romeo");
    // Stores three times as often as the rest, and long sequences, so the limit is reached often.
    const op: fc.Arbitrary<Op> = fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant("store" as const), user }), weight: 6 },
      { arbitrary: fc.record({ kind: fc.constant("take" as const), user }), weight: 1 },
      { arbitrary: fc.record({ kind: fc.constant("ack" as const), user, n: fc.nat(4) }), weight: 1 },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 10, maxLength: 40, size: "max" }), (ops) => {
        const s = openSqliteStorage(":memory:", { maxOfflinePerUser: 3 });
        try {
          const accounts = new AccountStore({ records: s.accounts, iterations: 1, hashes: ["SHA-1"] });
          accounts.add("juliet", "x");
          accounts.add("romeo", "x");
          const model = { juliet: [] as string[], romeo: [] as string[] };
          let n = 0;
          for (const o of ops) {
            if (o.kind === "store") {
              const stanza = `<message id='${n++}'/>`;
              const result = s.offline.store(o.user, stanza, n);
              if (model[o.user].length < 3) {
                expect(result.ok).toBe(true);
                model[o.user].push(stanza);
              } else expect(result).toEqual({ ok: false, reason: "full" });
            } else if (o.kind === "take") {
              expect(s.offline.take(o.user, 0).map((m) => m.stanza)).toEqual(model[o.user]);
              model[o.user] = [];
            } else {
              const waiting = s.offline.peek(o.user, 0);
              const through = waiting[Math.min(o.n, waiting.length) - 1]?.id ?? 0;
              s.offline.remove(o.user, through);
              model[o.user] = model[o.user].slice(Math.min(o.n, waiting.length));
            }
            expect(s.offline.count(o.user)).toBe(model[o.user].length);
          }
        } finally {
          s.close();
        }
      }),
      fuzz(50),
    );
  });
});

describe("SQLite vCards, private XML, blocklists", () => {
  it("keeps one vCard per user", () => {
    expect(storage.vcards.get("juliet")).toBeUndefined();
    expect(storage.vcards.set("juliet", "<vCard xmlns='vcard-temp'><FN>Juliet</FN></vCard>")).toBe(true);
    expect(storage.vcards.set("juliet", "<vCard xmlns='vcard-temp'><FN>J.</FN></vCard>")).toBe(true);
    expect(storage.vcards.get("juliet")).toBe("<vCard xmlns='vcard-temp'><FN>J.</FN></vCard>");
    expect(storage.vcards.set("nobody", "<vCard/>")).toBe(false);
    expect(storage.vcards.remove("juliet")).toBe(true);
    expect(storage.vcards.remove("juliet")).toBe(false);
  });

  it("keeps private XML per user and namespace", () => {
    expect(storage.privateXml.set("juliet", "storage:bookmarks", "<storage xmlns='storage:bookmarks'/>")).toBe(true);
    expect(storage.privateXml.set("juliet", "storage:rosternotes", "<storage xmlns='storage:rosternotes'/>")).toBe(true);
    expect(storage.privateXml.get("juliet", "storage:bookmarks")).toBe("<storage xmlns='storage:bookmarks'/>");
    expect(storage.privateXml.get("romeo", "storage:bookmarks")).toBeUndefined();
    expect(storage.privateXml.set("nobody", "a", "<a xmlns='a'/>")).toBe(false);
    expect(storage.privateXml.remove("juliet", "storage:bookmarks")).toBe(true);
    expect(storage.privateXml.get("juliet", "storage:rosternotes")).toBe("<storage xmlns='storage:rosternotes'/>");
  });

  it("keeps a blocklist as a set, with unblock-all", () => {
    expect(storage.blocklists.add("juliet", ["tybalt@verona.lit", "paris@verona.lit"])).toEqual(["tybalt@verona.lit", "paris@verona.lit"]);
    expect(storage.blocklists.add("juliet", ["tybalt@verona.lit", "verona.lit"])).toEqual(["verona.lit"]);
    expect(storage.blocklists.add("nobody", ["a@b"])).toBeUndefined();
    expect(storage.blocklists.list("juliet")).toEqual(["paris@verona.lit", "tybalt@verona.lit", "verona.lit"]);
    expect(storage.blocklists.has("juliet", "tybalt@verona.lit")).toBe(true);
    expect(storage.blocklists.has("romeo", "tybalt@verona.lit")).toBe(false);
    expect(storage.blocklists.remove("juliet", ["paris@verona.lit", "nobody@x"])).toEqual(["paris@verona.lit"]);
    expect(storage.blocklists.remove("juliet")).toEqual(["tybalt@verona.lit", "verona.lit"]);
    expect(storage.blocklists.list("juliet")).toEqual([]);
  });
});

describe("SQLite transactions and files", () => {
  it("rolls back every call inside a transaction that throws", () => {
    expect(() =>
      storage.transaction(() => {
        storage.rosters.setItem("juliet", item("romeo@x"));
        storage.offline.store("juliet", "<message/>", 1);
        throw new Error("abort");
      }),
    ).toThrow("abort");
    expect(storage.rosters.get("juliet")).toEqual({ version: 0, items: [] });
    expect(storage.offline.count("juliet")).toBe(0);
    expect(storage.transaction(() => storage.rosters.setItem("juliet", item("romeo@x")))).toBe(1);
  });

  describe("on disk", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "xmpp-store-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it("creates the schema once in WAL mode with synchronous=FULL, and sees another connection's commits", () => {
      const file = join(dir, "db.sqlite");
      const a = openSqliteStorage(file);
      const b = openSqliteStorage(file);
      try {
        expect(a.migratedFrom).toBe(0);
        expect(b.migratedFrom).toBe(SCHEMA_VERSION);
        new AccountStore({ records: a.accounts, iterations: 1 }).add("juliet", "x");
        expect(b.accounts.has("juliet")).toBe(true);
        expect(b.offline.store("juliet", "<message/>", 1)).toEqual({ ok: true, id: 1 });
        expect(a.offline.take("juliet", 0)).toHaveLength(1);
        const raw = new Database(file, { readonly: true });
        expect(raw.pragma("journal_mode", { simple: true })).toBe("wal");
        expect(raw.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
        raw.close();
        expect(a.integrityCheck()).toBe("ok");
      } finally {
        a.close();
        b.close();
      }
      // synchronous is per connection: check what openSqliteStorage sets (FULL = 2, NORMAL = 1)
      const c = openSqliteStorage(file);
      expect((c as unknown as { db: Database.Database }).db.pragma("synchronous", { simple: true })).toBe(2);
      c.close();
      const d = openSqliteStorage(file, { synchronous: "normal" });
      expect((d as unknown as { db: Database.Database }).db.pragma("synchronous", { simple: true })).toBe(1);
      d.close();
    });

    it("refuses a file written by a newer schema and a file that is not a database", () => {
      const file = join(dir, "db.sqlite");
      openSqliteStorage(file).close();
      const raw = new Database(file);
      raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
      raw.close();
      expect(() => openSqliteStorage(file)).toThrow(/newer server/);
      const junk = join(dir, "junk.sqlite");
      writeFileSync(junk, "this is not a database, it is long enough to be read as a header ".repeat(4));
      expect(() => openSqliteStorage(junk)).toThrow();
    });

    it("writes an online backup with VACUUM INTO that opens with the same data", () => {
      const file = join(dir, "db.sqlite");
      const a = openSqliteStorage(file);
      new AccountStore({ records: a.accounts, iterations: 1 }).add("juliet", "x");
      a.offline.store("juliet", "<message/>", 7);
      a.backupTo(join(dir, "copy.sqlite"));
      expect(() => a.backupTo(join(dir, "copy.sqlite"))).toThrow(/EEXIST/);
      a.close();
      const copy = openSqliteStorage(join(dir, "copy.sqlite"));
      expect(copy.accounts.list()).toEqual(["juliet"]);
      expect(copy.offline.peek("juliet", 0)).toEqual([{ id: 1, stanza: "<message/>", storedAt: 7 }]);
      copy.close();
    });
  });
});
