import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { main, PASSWORD_ENV } from "../src/cli.js";
import { openDataDirectory } from "../src/store/data-dir.js";
import { openSqliteStorage } from "../src/store/sqlite.js";

let dir: string;
let out: string[];
let err: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "xmpp-cli-"));
  out = [];
  err = [];
  vi.spyOn(console, "log").mockImplementation((line: string) => void out.push(line));
  vi.spyOn(console, "error").mockImplementation((line: string) => void err.push(line));
  vi.stubEnv(PASSWORD_ENV, "");
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

function verify(name: string, password: string): boolean {
  const { storage } = openDataDirectory(dir);
  try {
    return new AccountStore({ records: storage.accounts }).verifyPassword(name, password);
  } finally {
    storage.close();
  }
}

describe("the account commands", () => {
  it("never take a password from the command line", async () => {
    expect(await main(["add-user", "juliet", "r0m30myr0m30", "--data", dir])).toBe(64);
    expect(err.join("\n")).toMatch(/visible to every user of this machine/);
    expect(verify("juliet", "r0m30myr0m30")).toBe(false);
  });

  it("read the first line of --password-file, else the environment, and refuse when there is neither", async () => {
    const file = join(dir, "pw");
    writeFileSync(file, "r0m30myr0m30\nignored\n");
    expect(await main(["add-user", "Juliet", "--password-file", file, "--data", dir])).toBe(0);
    expect(verify("juliet", "r0m30myr0m30")).toBe(true);
    vi.stubEnv(PASSWORD_ENV, "j0liet");
    expect(await main(["add-user", "romeo", "--data", dir])).toBe(0);
    expect(verify("romeo", "j0liet")).toBe(true);
    vi.stubEnv(PASSWORD_ENV, "");
    writeFileSync(file, "\n");
    expect(await main(["add-user", "nurse", "--password-file", file, "--data", dir])).toBe(65);
    expect(err.at(-1)).toMatch(/is empty/);
    // vitest's stdin is not a terminal: no prompt, a clear refusal
    expect(await main(["add-user", "nurse", "--data", dir])).toBe(64);
    expect(err.at(-1)).toMatch(/--password-file F .*XMPP_SANSIO_PASSWORD/);
  });

  it("refuse an invalid name or password with a message, not a stack", async () => {
    vi.stubEnv(PASSWORD_ENV, "pw");
    expect(await main(["add-user", "a@b", "--data", dir])).toBe(65);
    expect(err.at(-1)).toMatch(/^add-user: the localpart must not contain '@'/);
    vi.stubEnv(PASSWORD_ENV, "\u0007");
    expect(await main(["add-user", "ab", "--data", dir])).toBe(65);
    expect(err.at(-1)).toMatch(/^add-user: the password is not valid under PRECIS OpaqueString/);
  });

  it("say why the data directory cannot be opened, and exit 74 (EX_IOERR)", async () => {
    writeFileSync(join(dir, "accounts.json"), "{");
    vi.stubEnv(PASSWORD_ENV, "pw");
    expect(await main(["add-user", "juliet", "--data", dir])).toBe(74);
    expect(err.at(-1)).toMatch(/^cannot open the data directory .*accounts\.json is not valid JSON/);
    expect(await main(["serve", "--port", "0", "--data", dir])).toBe(74);
    expect(await main(["list", "--data", dir])).toBe(74);
    expect(await main(["serve", "--max-offline=-1", "--data", dir])).toBe(64);
    expect(err.at(-1)).toBe("--max-offline: expected a whole number ≥ 0, got '-1'");
  });

  it("passwd changes only existing accounts; deluser and list", async () => {
    vi.stubEnv(PASSWORD_ENV, "one");
    expect(await main(["passwd", "juliet", "--data", dir])).toBe(66); // no database yet: none is created
    expect(err.at(-1)).toMatch(/^no database in /);
    expect(existsSync(join(dir, "xmpp-sansio.sqlite"))).toBe(false);
    expect(await main(["add-user", "juliet", "--data", dir])).toBe(0);
    expect(await main(["passwd", "nurse", "--data", dir])).toBe(67);
    expect(err.at(-1)).toMatch(/no account 'nurse'/);
    expect(await main(["add-user", "romeo", "--data", dir])).toBe(0);
    vi.stubEnv(PASSWORD_ENV, "two");
    expect(await main(["passwd", "juliet", "--data", dir])).toBe(0);
    expect(verify("juliet", "two")).toBe(true);
    out.length = 0;
    expect(await main(["list", "--data", dir])).toBe(0);
    expect(out).toEqual(["juliet", "romeo"]);
    expect(await main(["deluser", "romeo", "--data", dir])).toBe(0);
    expect(await main(["deluser", "romeo", "--data", dir])).toBe(67);
    out.length = 0;
    await main(["list", "--data", dir]);
    expect(out).toEqual(["juliet"]);
  });

  it("backup writes a copy that opens with the same accounts", async () => {
    vi.stubEnv(PASSWORD_ENV, "pw");
    await main(["add-user", "juliet", "--data", dir]);
    const copy = join(dir, "copy.sqlite");
    expect(await main(["backup", copy, "--data", dir])).toBe(0);
    const storage = openSqliteStorage(copy);
    try {
      expect(new AccountStore({ records: storage.accounts }).verifyPassword("juliet", "pw")).toBe(true);
    } finally {
      storage.close();
    }
    expect(await main(["backup", copy, "--data", dir])).toBe(73); // never over an existing file
  });
});
