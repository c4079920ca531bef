import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { DATABASE_FILE, IMPORTED_ACCOUNTS_FILE, LEGACY_ACCOUNTS_FILE, openDataDirectory, seedDemoAccounts } from "../src/store/data-dir.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "xmpp-data-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function writeLegacyFile(names: Record<string, string>): void {
  const old = new AccountStore({ iterations: 1 });
  for (const [name, password] of Object.entries(names)) old.add(name, password);
  writeFileSync(join(dir, LEGACY_ACCOUNTS_FILE), JSON.stringify(old.toJSON()));
}

describe("the data directory", () => {
  it("creates the database with mode 0600", () => {
    openDataDirectory(dir).storage.close();
    expect(statSync(join(dir, DATABASE_FILE)).mode & 0o777).toBe(0o600);
  });

  it("imports accounts.json once, renames it, and keeps logins working", () => {
    writeLegacyFile({ juliet: "r0m30myr0m30", romeo: "j0liet" });
    const first = openDataDirectory(dir);
    expect(first.imported).toEqual(["juliet", "romeo"]);
    expect(existsSync(join(dir, LEGACY_ACCOUNTS_FILE))).toBe(false);
    expect(existsSync(join(dir, IMPORTED_ACCOUNTS_FILE))).toBe(true);
    const accounts = new AccountStore({ records: first.storage.accounts });
    expect(accounts.verifyPassword("juliet", "r0m30myr0m30")).toBe(true);
    accounts.remove("romeo");
    first.storage.close();

    // an accounts.json appearing again (restored from a backup, copied back) is not imported twice
    writeLegacyFile({ romeo: "j0liet", tybalt: "x" });
    const second = openDataDirectory(dir);
    expect(second.imported).toEqual([]);
    expect(second.storage.accounts.list()).toEqual(["juliet"]);
    expect(existsSync(join(dir, LEGACY_ACCOUNTS_FILE))).toBe(false);
    second.storage.close();
  });

  it("never overwrites an account the database already has", () => {
    const fresh = openDataDirectory(dir);
    new AccountStore({ records: fresh.storage.accounts, iterations: 1 }).add("juliet", "newer");
    fresh.storage.close();
    writeLegacyFile({ juliet: "older", romeo: "j0liet" });
    const { storage, imported } = openDataDirectory(dir);
    expect(imported).toEqual(["romeo"]);
    expect(new AccountStore({ records: storage.accounts }).verifyPassword("juliet", "newer")).toBe(true);
    storage.close();
  });

  it("refuses a torn or malformed accounts.json, imports nothing and leaves the file for the operator", () => {
    writeFileSync(join(dir, LEGACY_ACCOUNTS_FILE), '{"version":1,"accounts":{"juliet":{"SHA-1":{"sa');
    expect(() => openDataDirectory(dir)).toThrow(/accounts\.json is not valid JSON.*Restore it from a backup/);
    writeFileSync(join(dir, LEGACY_ACCOUNTS_FILE), JSON.stringify({ version: 1, accounts: { romeo: {}, juliet: {} } }));
    expect(() => openDataDirectory(dir)).toThrow(/account 'romeo': no keys; nothing was imported/);
    expect(readFileSync(join(dir, LEGACY_ACCOUNTS_FILE), "utf8")).toContain("romeo");
    writeLegacyFile({ juliet: "r0m30myr0m30" });
    const { storage, imported } = openDataDirectory(dir);
    expect(imported).toEqual(["juliet"]);
    storage.close();
  });

  it("creates the demo accounts on the first start of an empty database only", () => {
    const a = openDataDirectory(dir);
    expect(seedDemoAccounts(a.storage)).toBe(true);
    expect(new AccountStore({ records: a.storage.accounts }).verifyPassword("romeo", "j0liet")).toBe(true);
    a.storage.accounts.remove("juliet");
    a.storage.accounts.remove("romeo");
    expect(seedDemoAccounts(a.storage)).toBe(false);
    expect(a.storage.accounts.list()).toEqual([]);
    a.storage.close();
  });

  it("does not create demo accounts when the database already has accounts", () => {
    writeLegacyFile({ nurse: "x" });
    const { storage } = openDataDirectory(dir);
    expect(seedDemoAccounts(storage)).toBe(false);
    expect(storage.accounts.list()).toEqual(["nurse"]);
    storage.close();
  });
});
