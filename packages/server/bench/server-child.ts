// The demo server in its own process for bench/server.bench.ts, so that its memory and CPU can be measured
// alone. IPC: sends { ready, port, certificate }; answers "memory" with process.memoryUsage() after a full
// GC (run with --expose-gc), "cpu" with process.cpuUsage(), "flood" with the bytes read from the
// fairness flooder (juliet/flood); { profile: "start" } starts the V8 CPU profiler, { profile: <file> }
// stops it and writes the profile there (answers { profiled }); "stop" closes the server and exits.
//
// BENCH_ACCOUNTS_FILE: accounts to load (AccountStore.load). BENCH_RATE_LIMITS=off (default) | default: the per-connection read rates (off for the throughput rows,
// the defaults for the fairness rows). The per-IP caps are always off: every bench client comes from
// 127.0.0.1. BENCH_ITERATIONS: the accounts' PBKDF2 iteration count.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccountStore } from "../src/accounts.js";
import { startServer } from "../src/server.js";
import { openSqliteStorage } from "../src/store/sqlite.js";

const iterations = Number(process.env.BENCH_ITERATIONS ?? 10_000);
// BENCH_STORAGE=sqlite: the server as the CLI runs it, on a SQLite database (accounts read from it at
// each login, the IM router: rosters, presence, offline messages) in a temporary directory; default: the
// accounts in memory and the plain RFC 6120 router.
const storageDir = process.env.BENCH_STORAGE === "sqlite" ? mkdtempSync(join(tmpdir(), "xmpp-bench-db-")) : undefined;
const storage = storageDir === undefined ? undefined : openSqliteStorage(join(storageDir, "xmpp.sqlite"));
const accounts = new AccountStore({ iterations, hashes: ["SHA-1", "SHA-256", "SHA-512"], ...(storage === undefined ? {} : { records: storage.accounts }) });
accounts.add("juliet", "r0m30myr0m30");
accounts.add("romeo", "j0liet");
// The bench's generated accounts (u0 … uN-1), the same keys Prosody gets.
if (process.env.BENCH_ACCOUNTS_FILE !== undefined) {
  const file = JSON.parse(readFileSync(process.env.BENCH_ACCOUNTS_FILE, "utf8"));
  if (storage === undefined) accounts.load(file);
  else storage.transaction(() => accounts.load(file)); // one commit, not one fsync per account
}
const rates = process.env.BENCH_RATE_LIMITS === "default" ? {} : { rate: { preAuth: null, authenticated: null } };
const running = await startServer({
  domain: "localhost",
  accounts,
  ...(storage === undefined ? {} : { storage }),
  port: 0,
  ...(process.env.BENCH_LOG === "1" ? { log: (line: string) => console.error(`server: ${line}`) } : {}),
  limits: { ...rates, address: { maxConnectionsPerIp: null, maxLoginAttemptsPerIp: null } },
});
const gc = (globalThis as { gc?: () => void }).gc;

// The CPU profiler, for one phase of the bench only (BENCH_PROFILE in server.bench.ts).
let inspector: Session | undefined;
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) => inspector!.post(method, params, (err, result) => (err === null ? resolve(result) : reject(err))));

process.on("message", async (message: unknown) => {
  if (typeof message === "object" && message !== null && "profile" in message) {
    const file = (message as { profile: string }).profile;
    if (file === "start") {
      inspector = new Session();
      inspector.connect();
      await post("Profiler.enable");
      await post("Profiler.setSamplingInterval", { interval: 100 });
      await post("Profiler.start");
      process.send?.({ profiled: "started" });
    } else {
      const { profile } = (await post("Profiler.stop")) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      inspector?.disconnect();
      inspector = undefined;
      process.send?.({ profiled: file });
    }
  } else if (message === "memory") {
    gc?.();
    gc?.();
    process.send?.({ memory: process.memoryUsage(), connections: running.server.connections.size });
  } else if (message === "flood") {
    // Bytes the server has read (after TLS) from the bench's flooder connection.
    const conn = running.server.connectionFor("juliet@localhost/flood");
    process.send?.({ floodBytes: conn?.tlsSocket?.bytesRead ?? 0 });
  } else if (message === "cpu") {
    process.send?.({ cpu: process.cpuUsage() });
  } else if (message === "stop") {
    await running.close();
    storage?.close();
    if (storageDir !== undefined) rmSync(storageDir, { recursive: true, force: true });
    process.disconnect();
    process.exit(0);
  }
});
// The bench died without saying "stop": do not outlive it.
process.on("disconnect", () => {
  if (storageDir !== undefined) rmSync(storageDir, { recursive: true, force: true });
  process.exit(0);
});
process.send?.({ ready: true, port: running.port, certificate: running.certificate, gc: gc !== undefined });
