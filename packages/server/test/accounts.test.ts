import { describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";

let counter = 0;
const random = (bytes: Uint8Array) => {
  for (let i = 0; i < bytes.length; i++) bytes[i] = (counter++ * 37) & 0xff;
};

describe("AccountStore", () => {
  it("keeps SCRAM keys per hash, never the password, and finds accounts by prepared name", () => {
    const store = new AccountStore({ random });
    store.add("Juliet", "r0m30myr0m30");
    expect(store.has("juliet")).toBe(true);
    expect(store.has("JULIET")).toBe(true);
    // The router's check: a localpart prepared already (a Jid's) is looked up as it is.
    expect(store.hasPrepared("juliet")).toBe(true);
    expect(store.hasPrepared("JULIET")).toBe(false);
    expect(store.hasPrepared("romeo")).toBe(false);
    expect(store.hashesOf("juliet")).toEqual(["SHA-1", "SHA-256", "SHA-512"]);
    const keys = store.scramKeys("juliet", "SHA-256")!;
    expect(keys.iterations).toBe(4096);
    expect(keys.storedKey).toHaveLength(32);
    expect(JSON.stringify(store.toJSON())).not.toContain("r0m30myr0m30");
  });

  it("verifies PLAIN passwords against the stored keys", () => {
    const store = new AccountStore({ random, hashes: ["SHA-256"] });
    store.add("romeo", "j0liet");
    expect(store.verifyPassword("romeo", "j0liet")).toBe(true);
    expect(store.verifyPassword("romeo", "j0lieT")).toBe(false);
    expect(store.verifyPassword("nobody", "j0liet")).toBe(false);
    expect(store.verifyPassword("bad@name", "x")).toBe(false);
    expect(store.verifyPassword("romeo", "\u0000")).toBe(false);
  });

  it("round-trips through its JSON form and rejects malformed files", () => {
    const store = new AccountStore({ random, hashes: ["SHA-1"] });
    store.add("nurse", "secret");
    const copy = new AccountStore();
    copy.load(JSON.parse(JSON.stringify(store.toJSON())));
    expect(copy.verifyPassword("nurse", "secret")).toBe(true);
    expect(() => copy.load({ version: 2, accounts: {} })).toThrow(TypeError);
    expect(() => copy.load({ version: 1, accounts: { a: { "SHA-1": { salt: "!", iterations: 1, storedKey: "", serverKey: "" } } } })).toThrow(TypeError);
    expect(() => copy.load({ version: 1, accounts: { a: {} } })).toThrow(/no keys/);
  });

  it("refuses usernames that are not valid localparts", () => {
    expect(() => new AccountStore().add("a@b", "x")).toThrow();
    expect(new AccountStore().remove("a@b")).toBe(false);
  });
});

describe("AccountStore on its records", () => {
  it("create never replaces; load with onlyNew keeps existing accounts and says which it wrote", () => {
    const store = new AccountStore({ random, iterations: 1, hashes: ["SHA-256"] });
    expect(store.create("Juliet", "one")).toBe(true);
    expect(store.create("juliet", "two")).toBe(false);
    expect(store.verifyPassword("juliet", "one")).toBe(true);
    const other = new AccountStore({ random, iterations: 1, hashes: ["SHA-256"] });
    other.add("juliet", "three");
    other.add("romeo", "four");
    expect(store.load(other.toJSON(), { onlyNew: true })).toEqual(["romeo"]);
    expect(store.verifyPassword("juliet", "one")).toBe(true);
    expect(store.load(other.toJSON())).toEqual(["juliet", "romeo"]);
    expect(store.verifyPassword("juliet", "three")).toBe(true);
    expect(store.usernames()).toEqual(["juliet", "romeo"]);
  });

  it("checks the whole file before writing anything", () => {
    const store = new AccountStore();
    const good = new AccountStore({ random, iterations: 1, hashes: ["SHA-1"] });
    good.add("a", "x");
    const file = { version: 1, accounts: { ...good.toJSON().accounts, b: {} } };
    expect(() => store.load(file)).toThrow(/account 'b': no keys/);
    expect(store.usernames()).toEqual([]);
  });
});
