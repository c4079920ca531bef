// Crash safety of the store with real processes and SIGKILL: the CLI (`add-user`, `serve`) and a writer
// that commits accounts and offline messages in a tight loop are killed at points chosen from a seeded
// list; afterwards the database must open, pass its integrity check, and hold every account (and message)
// the process had acknowledged, whole. Synchronisation is on process output, never on sleeps; the only
// timers choose *when* to kill.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XmppClient } from "@xmpp-sansio/node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { IMPORTED_ACCOUNTS_FILE, LEGACY_ACCOUNTS_FILE, openDataDirectory } from "../src/store/data-dir.js";

const PACKAGE = join(import.meta.dirname, "..");
const MAIN = join(PACKAGE, "src", "main.ts");
const WRITER = join(PACKAGE, "test", "support", "store-writer.ts");
const FILLER = join(PACKAGE, "test", "support", "offline-filler.ts");
const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const BATCH = 60; // as in support/store-writer.ts

/** mulberry32: a small seeded PRNG, so the kill points are the same on every run with the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Run {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first stdout line matching, or rejects when the process ends first. */
  line(pattern: RegExp): Promise<string>;
  /** Resolves with the exit code (or the signal) once the process has ended. */
  readonly exited: Promise<number | NodeJS.Signals>;
}

const children = new Set<ChildProcess>();

function run(script: string, args: readonly string[], env: Record<string, string> = {}, stdin: "ignore" | "pipe" = "ignore"): Run {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", script, ...args], {
    cwd: PACKAGE,
    env: { ...process.env, ...env },
    stdio: [stdin, "pipe", "pipe"],
  });
  children.add(child);
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  let buffered = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl = buffered.indexOf("\n");
    while (nl !== -1) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
      nl = buffered.indexOf("\n");
    }
  });
  const exited = once(child, "exit").then(([code, signal]) => {
    children.delete(child);
    for (const w of waiters.splice(0)) w.reject(new Error(`exited (${code ?? signal}) before a line matching ${w.pattern}; stderr: ${stderr}`));
    return (code ?? signal) as number | NodeJS.Signals;
  });
  return {
    child,
    lines,
    exited,
    line: (pattern) => {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`already exited; stderr: ${stderr}`));
      return new Promise((resolve, reject) => waiters.push({ pattern, resolve, reject }));
    },
  };
}

async function kill(r: Run): Promise<number | NodeJS.Signals> {
  r.child.kill("SIGKILL");
  return r.exited;
}

interface View {
  readonly names: string[];
  verify(name: string, password: string): boolean;
  hashes(name: string): string[];
  offline(name: string): string[];
}

/** Opens the directory as the next server start would, checks its integrity, and runs `check` on it. */
function inspect(dir: string, check: (db: View) => void): void {
  const { storage } = openDataDirectory(dir);
  try {
    expect(storage.integrityCheck()).toBe("ok");
    const accounts = new AccountStore({ records: storage.accounts });
    check({
      names: accounts.usernames(),
      verify: (name, password) => accounts.verifyPassword(name, password),
      hashes: (name) => accounts.hashesOf(name),
      offline: (name) => storage.offline.peek(name, 0).map((m) => m.stanza),
    });
  } finally {
    storage.close();
  }
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "xmpp-crash-"));
});
afterEach(async () => {
  for (const child of children) child.kill("SIGKILL");
  await Promise.all([...children].map((c) => once(c, "exit")));
  rmSync(dir, { recursive: true, force: true });
});

describe("SIGKILL never loses or corrupts an acknowledged write", () => {
  it("a writer killed after a seeded number of commits keeps every printed account and offline message, whole", { timeout: 120_000 }, async () => {
    const random = prng(SEED);
    const acknowledged: string[] = [];
    for (let round = 0; round < 6; round++) {
      const prefix = `r${round}n`;
      const writer = run(WRITER, [dir, prefix]);
      await writer.line(/^ready$/);
      const after = 1 + Math.floor(random() * 25);
      await writer.line(new RegExp(`^committed ${prefix}${after - 1}$`));
      await kill(writer);
      for (const line of writer.lines) if (line.startsWith("committed ")) acknowledged.push(line.slice("committed ".length));
      inspect(dir, (db) => {
      for (const name of acknowledged) {
        expect(db.names, `round ${round}: ${name}`).toContain(name);
        expect(db.verify(name, `password-${name}`), `round ${round}: ${name}`).toBe(true);
        expect(db.offline(name)).toHaveLength(1);
      }
      // At most the one write in flight at the kill is there unacknowledged — and then whole.
      const extra = db.names.filter((n) => !acknowledged.includes(n));
      expect(extra.length).toBeLessThanOrEqual(1);
      for (const name of extra) {
        expect(db.hashes(name)).toEqual(["SHA-1", "SHA-256", "SHA-512"]);
        expect(db.verify(name, `password-${name}`)).toBe(true);
        acknowledged.push(name);
      }
      });
    }
    expect(acknowledged.length).toBeGreaterThanOrEqual(6);
  });

  it("a transaction killed in the middle leaves none of its writes; one that said it committed leaves all", { timeout: 120_000 }, async () => {
    const random = prng(SEED + 3);
    for (let round = 0; round < 3; round++) {
      const prefix = `b${round}n`;
      const writer = run(WRITER, [dir, prefix, "batch"]);
      await writer.line(/^begin$/);
      // Deriving 60 × 3 SCRAM keys takes far longer than this, so the kill lands inside the transaction.
      const timer = setTimeout(() => writer.child.kill("SIGKILL"), Math.floor(random() * 200));
      await writer.exited;
      clearTimeout(timer);
      const committed = writer.lines.includes("committed batch");
      inspect(dir, (db) => {
        const written = db.names.filter((n) => n.startsWith(prefix));
        expect(written).toHaveLength(committed ? BATCH : 0);
      });
    }
    // and one left to finish commits all of it
    const writer = run(WRITER, [dir, "done", "batch"]);
    expect(await writer.exited).toBe(0);
    inspect(dir, (db) => {
      expect(db.names.filter((n) => n.startsWith("done"))).toHaveLength(BATCH);
      expect(db.verify(`done${BATCH - 1}`, `password-done${BATCH - 1}`)).toBe(true);
    });
  });

  it("add-user killed at seeded moments leaves each account either absent or whole, and the next start works", { timeout: 120_000 }, async () => {
    const random = prng(SEED + 1);
    const confirmed: string[] = [];
    for (let i = 0; i < 6; i++) {
      const name = `kill${i}`;
      const addUser = run(MAIN, ["add-user", name, "--data", dir], { XMPP_SANSIO_PASSWORD: `pw-${name}` });
      const delay = Math.floor(random() * 2500);
      const timer = setTimeout(() => addUser.child.kill("SIGKILL"), delay);
      const outcome = await addUser.exited;
      clearTimeout(timer);
      if (outcome === 0) confirmed.push(name);
      inspect(dir, (db) => {
        for (const c of confirmed) expect(db.verify(c, `pw-${c}`)).toBe(true);
        if (db.names.includes(name)) {
          expect(db.hashes(name)).toEqual(["SHA-1", "SHA-256", "SHA-512"]);
          expect(db.verify(name, `pw-${name}`)).toBe(true);
        }
      });
    }
    // the data directory still works for the CLI after all those kills
    const last = run(MAIN, ["add-user", "after", "--data", dir], { XMPP_SANSIO_PASSWORD: "pw-after" });
    expect(await last.exited).toBe(0);
    inspect(dir, (db) => expect(db.verify("after", "pw-after")).toBe(true));
  });

  it("a server killed during its first start (importing accounts.json) starts again with every account", { timeout: 120_000 }, async () => {
    const random = prng(SEED + 2);
    const legacy = new AccountStore({ iterations: 1 });
    for (let i = 0; i < 40; i++) legacy.add(`user${i}`, `pw${i}`);
    const file = JSON.stringify(legacy.toJSON());
    for (let round = 0; round < 3; round++) {
      rmSync(dir, { recursive: true, force: true });
      const roundDir = mkdtempSync(join(tmpdir(), "xmpp-crash-"));
      dir = roundDir;
      writeFileSync(join(dir, LEGACY_ACCOUNTS_FILE), file);
      const first = run(MAIN, ["serve", "--port", "0", "--data", dir]);
      const timer = setTimeout(() => first.child.kill("SIGKILL"), Math.floor(random() * 2500));
      await Promise.race([first.line(/^serving /).catch(() => undefined), first.exited]);
      clearTimeout(timer);
      await kill(first);
      const second = run(MAIN, ["serve", "--port", "0", "--data", dir]);
      const serving = await second.line(/^serving /);
      expect(serving).toContain("accounts: user0, user1, user10");
      second.child.kill("SIGTERM");
      expect(await second.exited).toBe(0);
      expect(existsSync(join(dir, LEGACY_ACCOUNTS_FILE))).toBe(false);
      expect(existsSync(join(dir, IMPORTED_ACCOUNTS_FILE))).toBe(true);
      inspect(dir, (db) => {
        expect(db.names).toHaveLength(40);
        for (let i = 0; i < 40; i += 13) expect(db.verify(`user${i}`, `pw${i}`)).toBe(true);
      });
    }
  });
});

describe("several processes on one data directory", () => {
  it("three concurrent add-user on a new data directory all land", { timeout: 60_000 }, async () => {
    const names = ["ann", "ben", "cid"];
    const runs = names.map((n) => run(MAIN, ["add-user", n, "--data", dir], { XMPP_SANSIO_PASSWORD: `pw-${n}` }));
    expect(await Promise.all(runs.map((r) => r.exited))).toEqual([0, 0, 0]);
    inspect(dir, (db) => {
      expect(db.names).toEqual(names);
      for (const n of names) expect(db.verify(n, `pw-${n}`)).toBe(true);
    });
  });

  it("two processes filling one user's offline store at once stop at the limit together, not beyond", { timeout: 60_000 }, async () => {
    const { storage } = openDataDirectory(dir);
    new AccountStore({ records: storage.accounts, iterations: 1, hashes: ["SHA-1"] }).add("juliet", "x");
    storage.close();
    const fillers = [0, 1].map(() => run(FILLER, [dir, "juliet", "300", "fill"], {}, "pipe"));
    await Promise.all(fillers.map((f) => f.line(/^ready$/)));
    for (const f of fillers) f.child.stdin?.end("go\n");
    const counts = await Promise.all(fillers.map(async (f) => Number((await f.line(/^stored \d+$/)).split(" ")[1])));
    expect(await Promise.all(fillers.map((f) => f.exited))).toEqual([0, 0]);
    expect(counts[0]! + counts[1]!).toBe(300);
    const check = openDataDirectory(dir).storage;
    expect(check.offline.count("juliet")).toBe(300);
    check.close();
  });

  it("three processes storing and taking with a limit of one never see two messages waiting", { timeout: 60_000 }, async () => {
    const { storage } = openDataDirectory(dir);
    new AccountStore({ records: storage.accounts, iterations: 1, hashes: ["SHA-1"] }).add("juliet", "x");
    storage.close();
    const procs = [0, 1, 2].map(() => run(FILLER, [dir, "juliet", "1", "pingpong", "150"], {}, "pipe"));
    await Promise.all(procs.map((p) => p.line(/^ready$/)));
    for (const p of procs) p.child.stdin?.end("go\n");
    const reports = await Promise.all(procs.map((p) => p.line(/^stored \d+ taken \d+ max \d+$/)));
    const numbers = reports.map((r) => r.split(" ").filter((_, i) => i % 2 === 1).map(Number));
    for (const [, , max] of numbers) expect(max).toBeLessThanOrEqual(1);
    const check = openDataDirectory(dir).storage;
    const left = check.offline.count("juliet");
    check.close();
    const stored = numbers.reduce((sum, [s]) => sum + (s as number), 0);
    const taken = numbers.reduce((sum, [, t]) => sum + (t as number), 0);
    expect(taken + left).toBe(stored); // nothing accepted was lost, nothing taken twice
  });

  it("a running server sees accounts added, changed and deleted by the CLI at once", { timeout: 60_000 }, async () => {
    const server = run(MAIN, ["serve", "--port", "0", "--data", dir]);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(await server.line(/^serving /))?.[1]);
    const ca = readFileSync(join(dir, "localhost.crt"), "utf8");
    const login = async (user: string, password: string): Promise<string> => {
      const client = new XmppClient({ jid: `${user}@localhost/test`, password, host: "127.0.0.1", port, tls: { ca } });
      try {
        return (await client.online()).toString();
      } catch (error) {
        return `refused: ${(error as { condition?: string }).condition ?? String(error)}`;
      } finally {
        await client.close().catch(() => undefined);
      }
    };
    const cli = async (args: string[], password?: string) => {
      const r = run(MAIN, [...args, "--data", dir], password === undefined ? {} : { XMPP_SANSIO_PASSWORD: password });
      return r.exited;
    };
    expect(await login("nurse", "pw-nurse")).toBe("refused: not-authorized");
    expect(await cli(["add-user", "nurse"], "pw-nurse")).toBe(0);
    expect(await login("nurse", "pw-nurse")).toBe("nurse@localhost/test");
    expect(await cli(["passwd", "nurse"], "pw-2")).toBe(0);
    expect(await login("nurse", "pw-nurse")).toBe("refused: not-authorized");
    expect(await login("nurse", "pw-2")).toBe("nurse@localhost/test");
    expect(await cli(["deluser", "nurse"])).toBe(0);
    expect(await login("nurse", "pw-2")).toBe("refused: not-authorized");
    expect(await login("juliet", "r0m30myr0m30")).toBe("juliet@localhost/test"); // the demo accounts of the first start
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
  });
});
