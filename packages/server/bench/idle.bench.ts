// Memory per idle session of the server process, against the bare Node floor, in one run:
//   tls / tcp          a bare tls.Server / net.Server with N idle connections (Node's own floor)
//   tls-starttls       a bare net.Server wrapping each socket in `new TLSSocket(socket)` (STARTTLS's floor;
//                      only when listed in BENCH_IDLE_MODES: xmpp-tls is then compared with it)
//   xmpp-tls           XmppServer (@xmpp-sansio/node), N clients online over STARTTLS
//   xmpp-direct        the same over Direct TLS (XEP-0368) — only when listed in BENCH_IDLE_MODES
//   xmpp-tcp           the same over plain TCP (`starttls: "none"`: behind a TLS-terminating proxy)
// The clients live in a child process of their own (bench/idle-clients.ts), the server in another
// (bench/idle-server.ts), so the figures are the server's alone. Per mode: RSS and JS heap (heapUsed;
// `external` apart) per session when idle (after two full GCs), after a burst (every session sends
// itself 2 × 8 KiB messages through the server), and after BENCH_IDLE_SETTLE_MS of idle + GC: what the
// burst left behind. Prints figures, asserts nothing.
//
//   pnpm -F @xmpp-sansio/server bench:idle
//   env: BENCH_IDLE_SESSIONS (10000), BENCH_IDLE_MODES (tls,tcp,xmpp-tls,xmpp-tcp),
//        BENCH_IDLE_SETTLE_MS (3000), BENCH_IDLE_TRIM_MS (500: the server's idleTrimMs), BENCH_BURST_STANZAS (2), BENCH_BURST_BYTES (8192),
//        BENCH_IDLE_SERVER_FLAGS (extra node flags of the server process, e.g. "--max-semi-space-size=1"),
//        BENCH_IDLE_WAIT_MS (1500: idle time between the last login and the idle figures),
//        BENCH_IDLE_SERVER_BUNDLE (a prebuilt bundle of bench/idle-server.ts to run instead, e.g. of an older commit),
//        BENCH_IDLE_BURST=0 (skip the burst: idle figures only, quicker while iterating),
//        BENCH_IDLE_SNAPSHOT=1 (heap snapshots of every mode, summarised by constructor; with the burst, also what
//        it left after the idle + GC: use a few
//        thousand sessions, parsing a snapshot is slow)
import { execSync, type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { summariseSnapshot } from "./heap-summary.js";

let N = Number(process.env.BENCH_IDLE_SESSIONS ?? 10_000);
const MODES = (process.env.BENCH_IDLE_MODES ?? "tls,tcp,xmpp-tls,xmpp-tcp").split(",");
const SETTLE_MS = Number(process.env.BENCH_IDLE_SETTLE_MS ?? 3_000);
const SNAPSHOT = process.env.BENCH_IDLE_SNAPSHOT === "1";
const BURST = process.env.BENCH_IDLE_BURST !== "0";
const IDLE_WAIT_MS = Number(process.env.BENCH_IDLE_WAIT_MS ?? 1_500);
const SERVER_FLAGS = (process.env.BENCH_IDLE_SERVER_FLAGS ?? "").split(" ").filter((f) => f !== "");
const notes: string[] = [];

const fdLimit = Number(execSync("ulimit -n", { shell: "/bin/sh" }).toString().trim());
if (Number.isFinite(fdLimit) && fdLimit < N + 100) {
  notes.push(`ulimit -n is ${fdLimit}: sessions lowered from ${N} to ${fdLimit - 100}`);
  N = Math.max(1, fdLimit - 100);
}

const execArgv = ["--expose-gc", "--conditions=source", "--import", "tsx"];
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
const next = <T>(c: ChildProcess) => new Promise<T>((resolve, reject) => {
  const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before answering`));
  c.once("exit", onExit);
  c.once("message", (m) => {
    c.off("exit", onExit);
    resolve(m as T);
  });
});
const ask = async <T>(c: ChildProcess, message: string) => {
  const reply = next<T>(c);
  c.send(message);
  return reply;
};
type Mem = { memory: NodeJS.MemoryUsage; connections: number };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result {
  mode: string;
  base: Mem;
  idle: Mem;
  burst: Mem;
  settled: Mem;
  openSeconds: number;
  burstSeconds: number;
}

const dir = mkdtempSync(join(tmpdir(), "xmpp-idle-bench-"));
// The server runs as plain JavaScript, as a deployment runs tsc's output: bundled from source here with
// esbuild (ES2022 like tsconfig.base.json), not through tsx, whose keepNames gives every arrow function a
// property store of its own (≈ 256 B per closure, 5 KiB per session in this server) that built code has not.
// BENCH_IDLE_SERVER_BUNDLE: a server bundled elsewhere (e.g. from an older commit, for before/after figures).
const serverBundle = process.env.BENCH_IDLE_SERVER_BUNDLE ?? join(dir, "idle-server.mjs");
if (process.env.BENCH_IDLE_SERVER_BUNDLE === undefined) await build({
  entryPoints: [here("./idle-server.ts")],
  outfile: serverBundle,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "es2022",
  conditions: ["source"],
  logLevel: "error",
});
const results: Result[] = [];
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of children) c.kill();
  if (process.env.BENCH_IDLE_SNAPSHOT_KEEP !== "1") rmSync(dir, { recursive: true, force: true });
});

async function run(mode: string, host: string): Promise<Result> {
  const server = fork(serverBundle, [mode, host, dir], { execArgv: ["--expose-gc", ...SERVER_FLAGS] });
  children.add(server);
  const ready = await next<{ port: number; cert: string }>(server);
  const caFile = join(dir, `${mode}.pem`);
  writeFileSync(caFile, ready.cert);
  const base = await ask<Mem>(server, "memory");
  const baseSnapshot = SNAPSHOT ? (await ask<{ snapshot: string }>(server, "snapshot")).snapshot : undefined;
  const clients = fork(here("./idle-clients.ts"), [mode, host, String(ready.port), caFile, String(N)], {
    execArgv: ["--max-old-space-size=8192", ...execArgv],
  });
  children.add(clients);
  try {
    const { seconds: openSeconds } = await next<{ seconds: number }>(clients);
    await sleep(IDLE_WAIT_MS); // the server's idle sweep (BENCH_IDLE_TRIM_MS, 500 ms here) trims after 0.5–1 s
    const idle = await ask<Mem>(server, "memory");
    const top = Number(process.env.BENCH_IDLE_SNAPSHOT_TOP ?? 30);
    const drop = (...files: string[]) => {
      if (process.env.BENCH_IDLE_SNAPSHOT_KEEP === "1") console.log(`  kept: ${files.join(" ")}`);
      else for (const f of files) rmSync(f, { force: true });
    };
    let idleSnapshot: string | undefined;
    if (baseSnapshot !== undefined) {
      idleSnapshot = (await ask<{ snapshot: string }>(server, "snapshot")).snapshot;
      console.log(`\n${mode}: heap snapshot growth per session by constructor (self size; ${N} sessions)`);
      console.log(summariseSnapshot(baseSnapshot, idleSnapshot, N, top));
      drop(baseSnapshot);
    }
    if (!BURST) {
      if (idleSnapshot !== undefined) drop(idleSnapshot);
      return { mode, base, idle, burst: idle, settled: idle, openSeconds, burstSeconds: 0 };
    }
    const { burst: burstSeconds } = await ask<{ burst: number }>(clients, "burst");
    const burst = await ask<Mem>(server, "memory");
    await sleep(SETTLE_MS);
    const settled = await ask<Mem>(server, "memory");
    if (idleSnapshot !== undefined) {
      // What the burst left behind after the idle sweep: the growth from the idle snapshot.
      const snapshot = (await ask<{ snapshot: string }>(server, "snapshot")).snapshot;
      console.log(`\n${mode}: heap kept after the burst + idle, per session by constructor (self size; ${N} sessions)`);
      console.log(summariseSnapshot(idleSnapshot, snapshot, N, top));
      drop(idleSnapshot, snapshot);
    }
    return { mode, base, idle, burst, settled, openSeconds, burstSeconds };
  } finally {
    const gone = [clients, server].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r))));
    clients.send("stop");
    await sleep(200);
    if (server.connected) server.send("stop");
    await Promise.all(gone);
    children.delete(clients);
    children.delete(server);
  }
}

console.log(`idle sessions: ${N} per mode, loopback, Node ${process.version}; server and clients in separate processes`);
for (const [i, mode] of MODES.entries()) {
  const r = await run(mode, `127.0.0.${2 + i}`);
  results.push(r);
  console.log(`  ${mode}: ${r.idle.connections} connections open in ${r.openSeconds.toFixed(1)} s, burst in ${r.burstSeconds.toFixed(1)} s`);
}

const KiB = (b: number) => `${(b / 1024).toFixed(1)}`;
const per = (r: Result, at: Mem, key: keyof NodeJS.MemoryUsage) => (at.memory[key] - r.base.memory[key]) / N;
// STARTTLS (xmpp-tls) against the bare STARTTLS-style floor when it was run, else against bare TLS.
const floorOf = (mode: string) =>
  mode === "xmpp-tls"
    ? (results.find((r) => r.mode === "tls-starttls") ?? results.find((r) => r.mode === "tls"))
    : results.find((r) => r.mode === (mode === "xmpp-tcp" ? "tcp" : "tls"));
const targets: Record<string, string> = { "xmpp-tls": "added ≤ 4 KiB", "xmpp-direct": "added ≤ 4 KiB", "xmpp-tcp": "total ≤ 10 KiB" };
const header = ["mode", "RSS/session", "heap/session", "heap committed", "external/session", "added to bare floor (RSS)", "target", "RSS/session after burst", "after idle + GC", "returned", "heap/session after idle + GC"];
const rows = results.map((r) => {
  const rss = per(r, r.idle, "rss");
  const floor = floorOf(r.mode);
  const added = r.mode.startsWith("xmpp") && floor !== undefined ? rss - per(floor, floor.idle, "rss") : undefined;
  const burst = per(r, r.burst, "rss");
  const settled = per(r, r.settled, "rss");
  return [
    r.mode,
    KiB(rss),
    KiB(per(r, r.idle, "heapUsed")),
    KiB(per(r, r.idle, "heapTotal")),
    KiB(per(r, r.idle, "external")),
    added === undefined ? "—" : KiB(added),
    targets[r.mode] ?? "(floor)",
    KiB(burst),
    KiB(settled),
    burst > rss ? `${KiB(burst - settled)} of ${KiB(burst - rss)} grown` : "—",
    KiB(per(r, r.settled, "heapUsed")),
  ];
});
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 || i === 6 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
console.log();
console.log(line(header));
console.log(`|${widths.map((w, i) => (i === 0 || i === 6 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`);
for (const r of rows) console.log(line(r));
console.log("\nKiB per session of the server process (difference to the same process with no connection); heap = V8 heapUsed, committed = heapTotal.");
console.log("added = RSS/session minus the bare floor of the same transport (tls for xmpp-direct, tls-starttls — else tls — for xmpp-tls, tcp for xmpp-tcp).");
for (const n of notes) console.log(`note: ${n}`);
