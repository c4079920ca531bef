// The demo server vs Prosody 0.12 on loopback, with our XmppClient (@xmpp-sansio/node) as the load
// generator for both, in one run; then the demo server's memory per idle client. Prints figures, asserts
// nothing.
//
//   pnpm -F @xmpp-sansio/server bench
//   env: BENCH_LOGINS (200), BENCH_WARMUP_LOGINS (1000: concurrent logins on each server before the
//        login rows), BENCH_LOGIN_ROUNDS (3: rounds of each login row, the servers alternating; the
//        medians are shown), BENCH_PROSODY_NAGLE (on: Prosody's default; off: its sockets get
//        TCP_NODELAY, see the note on sequential logins), BENCH_CONCURRENCY (20), BENCH_ROUNDTRIPS (2000), BENCH_ROUNDTRIP_WARMUP (2000), BENCH_BURST (20000),
//        BENCH_IDLE (1000), BENCH_ITERATIONS (10000: Prosody 0.12's SCRAM iteration count),
//        BENCH_ONLY (logins,messages,load,idle,fairness: the parts to run), BENCH_MESSAGE_ROUNDS (3: runs
//        of the message rows per server, alternating; medians shown), BENCH_FAIR_CLIENTS (20),
//        BENCH_FAIR_SECONDS (2: per window), BENCH_FAIR_ROUNDS (5: quiet/flooded pairs, interleaved),
//        BENCH_LOAD_CLIENTS (200), BENCH_LOAD_SECONDS (5), BENCH_CHILD_ARGS (node options for our
//        server's child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"), BENCH_PROFILE (a file: a V8 CPU
//        profile of our server during the concurrent logins only, no start-up or warm-up in it),
//        BENCH_PERF (a file: `perf record -g` of our server's process during the same phase, with the
//        child run under --perf-basic-prof; native code too: TLS, OpenSSL, GC threads, the JIT)
//
// Prosody runs as operators run it: log level info, to a file (no debug log). Distinct accounts: u0 … uN-1
// (bench/accounts.ts), the same salts and keys on both servers; each login, load client and idle client is
// an account of its own. Load rows: BENCH_LOAD_CLIENTS clients each send themselves a message every 50 ms;
// latency p50/p99. The generator keeps each account's SaltedPassword (RFC 5802 §5.1), so logins measure
// the servers, not the generator's PBKDF2.
//
// Fairness (ours only): BENCH_FAIR_CLIENTS clients each send themselves a message every 50 ms and time
// its way back through the server, in windows that alternate between quiet and while one client
// (bench/flooder-child.ts, its own process) sends as fast as it can; the median of the per-round p99
// ratios; with the read rate limits off and with the defaults (a second server).
//
// Both servers: STARTTLS (TLS 1.3) + SCRAM-SHA-1 + bind, accounts with the same PBKDF2 iteration count,
// so the client-side key derivation costs the same. Our server runs in a child process
// (bench/server-child.ts), like Prosody, so RSS is the server's alone.
import { execFileSync, execSync, fork, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecureContext, type SecureContext } from "node:tls";
import { fileURLToPath } from "node:url";
import { XmppClient } from "@xmpp-sansio/node";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
// The Prosody harness of @xmpp-sansio/node's tests (starts a throwaway Prosody on free loopback ports).
import { hasProsody, startProsody } from "../../node/test/support/prosody.js";
import { accountsFile, type BenchAccount, cachedDeriveKey, makeAccounts, writeProsodyAccounts } from "./accounts.js";

const LOGINS = Number(process.env.BENCH_LOGINS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const ROUNDTRIPS = Number(process.env.BENCH_ROUNDTRIPS ?? 2_000);
const BURST = Number(process.env.BENCH_BURST ?? 20_000);
let IDLE = Number(process.env.BENCH_IDLE ?? 1_000);
const ITERATIONS = process.env.BENCH_ITERATIONS ?? "10000";
const WARMUP_LOGINS = Number(process.env.BENCH_WARMUP_LOGINS ?? 1_000);
const LOGIN_ROUNDS = Math.max(1, Number(process.env.BENCH_LOGIN_ROUNDS ?? 3));
const PROSODY_NAGLE = process.env.BENCH_PROSODY_NAGLE !== "off";
const ONLY = new Set((process.env.BENCH_ONLY ?? "logins,messages,load,idle,fairness").split(","));
const ROUNDTRIP_WARMUP = Number(process.env.BENCH_ROUNDTRIP_WARMUP ?? 2_000);
const MESSAGE_ROUNDS = Math.max(1, Number(process.env.BENCH_MESSAGE_ROUNDS ?? 3));
const FAIR_CLIENTS = Number(process.env.BENCH_FAIR_CLIENTS ?? 20);
const FAIR_SECONDS = Number(process.env.BENCH_FAIR_SECONDS ?? 2);
const FAIR_ROUNDS = Number(process.env.BENCH_FAIR_ROUNDS ?? 5);
const LOAD_CLIENTS = Number(process.env.BENCH_LOAD_CLIENTS ?? 200);
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 5);

interface Target {
  readonly name: string;
  readonly port: number;
  readonly ca: string;
}

const notes: string[] = [];
const fmt = (n: number) => Math.round(n).toLocaleString("en");

const fdLimit = Number(execSync("ulimit -n", { shell: "/bin/sh" }).toString().trim());
if (Number.isFinite(fdLimit) && fdLimit < IDLE + 200) {
  notes.push(`ulimit -n is ${fdLimit}: idle clients lowered from ${IDLE} to ${fdLimit - 200}`);
  IDLE = Math.max(0, fdLimit - 200);
}
// One account per login, load client, idle client and fairness client.
const accounts: BenchAccount[] = await makeAccounts(Math.max(LOGINS, LOAD_CLIENTS, IDLE, FAIR_CLIENTS, 1), Number(ITERATIONS));
const account = (i: number) => accounts[i % accounts.length]!;
const workDir = mkdtempSync(join(tmpdir(), "xmpp-bench-"));
const accountsPath = join(workDir, "accounts.json");
writeFileSync(accountsPath, JSON.stringify(accountsFile(accounts)));
const deriveKey = cachedDeriveKey(accounts);

// One TLS context per server for all the generator's connections (a context per connection parses the CA
// certificate each time: ≈3 % of the generator's CPU in a login profile).
const contexts = new Map<string, SecureContext>();
function client(target: Target, jid: string, password: string): XmppClient {
  let secureContext = contexts.get(target.ca);
  if (secureContext === undefined) contexts.set(target.ca, (secureContext = createSecureContext({ ca: target.ca })));
  // Stream Management off (`sm: false`): with it, the client ends its own session once 500 stanzas wait
  // for an ack (its maxUnacked), which a pipelined burst of 20 000 reaches before the first <a/> arrives.
  return new XmppClient({ jid, password, host: "127.0.0.1", port: target.port, tls: { extra: { secureContext } }, session: { mechanisms: ["SCRAM-SHA-1"] }, deriveKey, sm: false });
}
/** Account `i` (u<i>), with an optional resource. */
const accountClient = (target: Target, i: number, resource?: string) =>
  client(target, `${account(i).user}@localhost${resource === undefined ? "" : `/${resource}`}`, account(i).password);

/** N logins one after the other; the clock runs from `new XmppClient` to `online()` (closing is not timed). */
async function sequentialLogins(target: Target, n: number): Promise<number> {
  let busy = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const c = accountClient(target, i);
    await c.online();
    busy += performance.now() - t0;
    await c.close();
  }
  return n / (busy / 1000);
}

/** N logins, `concurrency` at a time; wall clock until all are online. */
async function concurrentLogins(target: Target, n: number, concurrency: number): Promise<number> {
  const clients: XmppClient[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < n) {
      const c = accountClient(target, next++);
      clients.push(c);
      await c.online();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const rate = n / ((performance.now() - t0) / 1000);
  await Promise.all(clients.map((c) => c.close()));
  return rate;
}

/** What one {@link messages} run measures; CPU in µs per burst message (server: user + system of its process). */
interface MessageFigures {
  roundTrips: number;
  burst: number;
  cpuPerMessage?: number;
  /** This process's (the two clients') CPU per burst message. */
  generatorPerMessage: number;
}

/** One pair: juliet ↔ romeo round trips (romeo echoes), and a pipelined one-way burst juliet → romeo. */
async function messages(target: Target, serverCpu?: () => Promise<number>): Promise<MessageFigures> {
  const juliet = client(target, "juliet@localhost/balcony", "r0m30myr0m30");
  const romeo = client(target, "romeo@localhost/orchard", "j0liet");
  const [jj, rj] = await Promise.all([juliet.online(), romeo.online()]);
  const julietJid = jj.toString();
  const romeoJid = rj.toString();
  let echo = true;
  let received = 0;
  let target_ = 0;
  let done: (() => void) | undefined;
  romeo.on("message", (m: XmlElement) => {
    if (echo) romeo.send(xml("message", { to: julietJid, type: "chat" }, xml("body", {}, m.getChildText("body") ?? "")));
    else if (++received === target_) done?.();
  });
  const chat = (i: number) => xml("message", { to: romeoJid, type: "chat", id: `m${i}` }, xml("body", {}, `message number ${i} ☃`));
  try {
    const roundTrip = (i: number) =>
      new Promise<void>((resolve) => {
        juliet.once("message", () => resolve());
        juliet.send(chat(i));
      });
    // Warm-up: 2 000 round trips (BENCH_ROUNDTRIP_WARMUP). With 200, the clients' code in this process was
    // not yet optimised by V8 once the routing row left the process (≈2 700 against ≈5 000 round trips/s
    // to our server, Prosody's ≈2 500 against ≈3 300): the row measured V8's warm-up, not the servers.
    for (let i = 0; i < ROUNDTRIP_WARMUP; i++) await roundTrip(i);
    let t0 = performance.now();
    for (let i = 0; i < ROUNDTRIPS; i++) await roundTrip(i);
    const roundTrips = ROUNDTRIPS / ((performance.now() - t0) / 1000);

    echo = false;
    const burst = async (n: number) => {
      received = 0;
      target_ = n;
      // A receiver closed by the server (e.g. its outbound queue overflowed) ends the bench with an error.
      const finished = new Promise<void>((r, reject) => {
        done = r;
        romeo.once("close", (info: unknown) => reject(new Error(`romeo's connection closed during the burst (${received} of ${n} received): ${JSON.stringify(info)}`)));
      });
      for (let i = 0; i < n; i++) juliet.send(chat(i));
      await finished;
    };
    await burst(Math.min(2_000, BURST)); // warm-up
    const cpu0 = await serverCpu?.();
    const g0 = process.cpuUsage();
    t0 = performance.now();
    await burst(BURST);
    const rate = BURST / ((performance.now() - t0) / 1000);
    const g = process.cpuUsage(g0);
    const cpu1 = await serverCpu?.();
    const generatorPerMessage = (g.user + g.system) / BURST;
    return { roundTrips, burst: rate, generatorPerMessage, ...(cpu0 === undefined || cpu1 === undefined ? {} : { cpuPerMessage: (cpu1 - cpu0) / BURST }) };
  } finally {
    await Promise.all([juliet.close(), romeo.close()]);
  }
}

/** Opens `n` idle clients (`concurrency` logins at a time) and returns them. */
async function openIdle(target: Target, n: number, concurrency: number): Promise<XmppClient[]> {
  const clients: XmppClient[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const c = accountClient(target, next++);
        clients.push(c);
        await c.online();
      }
    }),
  );
  return clients;
}

function prosodyRss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

// ---------------------------------------------------------------------------------------------------

// BENCH_CHILD_ARGS: more node options for our server's child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
const PERF = process.env.BENCH_PERF;
const execArgv = [
  "--expose-gc",
  "--conditions=source",
  "--import",
  "tsx",
  ...(PERF === undefined ? [] : ["--perf-basic-prof"]),
  ...(process.env.BENCH_CHILD_ARGS ?? "").split(" ").filter((a) => a !== ""),
];
const startChild = (rateLimits: "off" | "default") => fork(fileURLToPath(new URL("./server-child.ts", import.meta.url)), [], { execArgv, env: { ...process.env, BENCH_ITERATIONS: ITERATIONS, BENCH_RATE_LIMITS: rateLimits, BENCH_ACCOUNTS_FILE: accountsPath } });
const child = startChild("off");
type ChildMessage =
  | { ready: true; port: number; certificate: string; gc: boolean }
  | { memory: NodeJS.MemoryUsage; connections: number }
  | { cpu: NodeJS.CpuUsage }
  | { floodBytes: number }
  | { profiled: string };
const fromChild = (c = child) => new Promise<ChildMessage>((resolve) => c.once("message", (m) => resolve(m as ChildMessage)));
const memory = async () => {
  const reply = fromChild();
  child.send("memory");
  return (await reply) as { memory: NodeJS.MemoryUsage; connections: number };
};
/** The server child's CPU time (user + system), microseconds. */
const serverCpu = async () => {
  const reply = fromChild();
  child.send("cpu");
  const { cpu } = (await reply) as { cpu: NodeJS.CpuUsage };
  return cpu.user + cpu.system;
};
/** Starts ("start") or stops and writes (a file name) the server child's CPU profiler. */
const profile = async (what: string) => {
  const reply = fromChild();
  child.send({ profile: what });
  await reply;
};
const PROFILE = process.env.BENCH_PROFILE;
const ready = (await fromChild()) as { port: number; certificate: string };
const ours: Target = { name: "xmpp-sansio", port: ready.port, ca: ready.certificate };

const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);

/** `n` clients each send themselves a message every 50 ms for `seconds`; latencies (ms), sorted. */
async function selfPings(clients: XmppClient[], jids: string[], seconds: number): Promise<number[]> {
  const latencies: number[] = [];
  const timers: NodeJS.Timeout[] = [];
  const handlers: ((m: XmlElement) => void)[] = [];
  clients.forEach((c, i) => {
    const sentAt = new Map<string, number>();
    let seq = 0;
    const h = (m: XmlElement) => {
      const t = sentAt.get(m.attr("id") ?? "");
      if (t !== undefined) latencies.push(performance.now() - t);
    };
    handlers.push(h);
    c.on("message", h);
    // Spread the clients over the 50 ms period.
    timers.push(
      setTimeout(() => {
        timers.push(
          setInterval(() => {
            const id = `p${seq++}`;
            sentAt.set(id, performance.now());
            c.send(xml("message", { to: jids[i]!, type: "chat", id }, xml("body", {}, "ping")));
          }, 50),
        );
      }, (50 * i) / clients.length),
    );
  });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  for (const t of timers) clearInterval(t);
  await new Promise((r) => setTimeout(r, 200)); // the last ones in flight
  clients.forEach((c, i) => c.off("message", handlers[i]!));
  return latencies.sort((a, b) => a - b);
}

type FairRow = { limits: string; quiet: number[]; flooded: number[]; ratios: number[]; flooderMessages: number };

/** Quiet vs flooded latency of FAIR_CLIENTS clients on a server child with the given read rate limits. */
async function fairness(rateLimits: "off" | "default"): Promise<FairRow> {
  const server = startChild(rateLimits);
  const r = (await fromChild(server)) as { port: number; certificate: string };
  const target: Target = { name: "xmpp-sansio", port: r.port, ca: r.certificate };
  const dir = mkdtempSync(join(tmpdir(), "xmpp-bench-"));
  const caFile = join(dir, "ca.pem");
  writeFileSync(caFile, r.certificate);
  const clients: XmppClient[] = [];
  try {
    for (let i = 0; i < FAIR_CLIENTS; i++) clients.push(accountClient(target, i, "q"));
    const jids = (await Promise.all(clients.map((c) => c.online()))).map(String);
    await selfPings(clients, jids, 1); // warm-up
    const flooder = fork(fileURLToPath(new URL("./flooder-child.ts", import.meta.url)), [String(r.port), caFile], { execArgv });
    await new Promise((res) => flooder.once("message", res));
    const toFlooder = (m: string) => {
      const reply = new Promise((res) => flooder.once("message", res));
      flooder.send(m);
      return reply;
    };
    const floodBytes = async () => {
      const reply = fromChild(server);
      server.send("flood");
      return ((await reply) as { floodBytes: number }).floodBytes;
    };
    // Quiet and flooded windows alternate (A/B/A/B…), so that a neighbour's load on a shared machine falls
    // on both alike; the figure is the median of the per-round ratios of p99.
    const quiet: number[] = [];
    const flooded: number[] = [];
    const ratios: number[] = [];
    let read = 0;
    for (let round = 0; round < FAIR_ROUNDS; round++) {
      await toFlooder("pause");
      await new Promise((res) => setTimeout(res, 300)); // the server reads what the flooder's socket still held
      const q = await selfPings(clients, jids, FAIR_SECONDS);
      flooder.send("flood");
      await new Promise((res) => setTimeout(res, 300)); // the flood under way
      const read0 = await floodBytes();
      const f = await selfPings(clients, jids, FAIR_SECONDS);
      read += (await floodBytes()) - read0;
      if (!flooder.connected) throw new Error("the flooder exited early");
      quiet.push(...q);
      flooded.push(...f);
      ratios.push(quantile(f, 0.99) / quantile(q, 0.99));
    }
    quiet.sort((a, b) => a - b);
    flooded.sort((a, b) => a - b);
    const done = new Promise<{ perMessage: number }>((res) => flooder.once("message", (m) => res(m as { perMessage: number })));
    const exited = new Promise((res) => flooder.once("exit", res));
    flooder.send("stop");
    const { perMessage } = await done;
    await exited;
    // What the server read from the flooder while the others were measured (bytes after TLS / message size).
    return { limits: rateLimits, quiet, flooded, ratios, flooderMessages: read / perMessage / FAIR_ROUNDS };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    const exited = new Promise((res) => server.once("exit", res));
    server.send("stop");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

let prosody: Awaited<ReturnType<typeof startProsody>> | undefined;
if (hasProsody()) {
  // The same kind of certificate key as ours (EC P-256), so TLS handshakes cost both servers alike.
  // Prosody 0.12's sockets keep Nagle's algorithm on (net.server_epoll: `nagle = true` unless
  // `network_settings = { nagle = false }`), and its TLS layer writes each of the two TLS 1.3 session
  // tickets it sends after the handshake with a write of its own: the second ticket, and the stream
  // features behind it, wait for the client's ACK of the first, which Linux delays by ≈40 ms. So every
  // login against it takes ≈40 ms more (strace: features written 0.1 ms after our stream header arrives,
  // on the wire 42 ms later); the client cannot help it (TCP_NODELAY on the client side changes nothing).
  // Latency, not CPU: the sequential row shows it, the per-CPU rows do not. BENCH_PROSODY_NAGLE=off runs
  // Prosody with TCP_NODELAY (≈6 ms per sequential login then).
  prosody = await startProsody({
    accounts: { juliet: "r0m30myr0m30", romeo: "j0liet" },
    logLevel: "info",
    keyType: "ec",
    ...(PROSODY_NAGLE ? {} : { extraConfig: "network_settings = { nagle = false }" }),
  });
  notes.push(
    PROSODY_NAGLE
      ? "Prosody runs with its default Nagle's algorithm on: ≈40 ms of each of its sequential logins is the delayed-ACK wait behind its two separately written TLS session tickets (BENCH_PROSODY_NAGLE=off: TCP_NODELAY)"
      : "Prosody runs with network_settings = { nagle = false } (BENCH_PROSODY_NAGLE=off), not its default",
  );
  // The generated accounts in Prosody's own storage (it reads an account's file at each login).
  writeProsodyAccounts(join(prosody.base, "data"), "localhost", accounts);
} else {
  notes.push("Prosody is not installed (prosody, prosodyctl, openssl on PATH): its column is empty");
}
// A crash of this process must not leave Prosody running (the children exit on their own on disconnect).
process.on("exit", () => {
  if (prosody !== undefined) {
    try {
      process.kill(prosody.pid);
    } catch {
      // already gone
    }
  }
});
const theirs: Target | undefined = prosody && { name: "Prosody 0.12", port: prosody.c2sPort, ca: prosody.caCert };

console.log(`xmpp-sansio demo server vs ${theirs ? "Prosody 0.12" : "(no Prosody)"} — loopback, Node ${process.version}, ${(await import("node:os")).cpus().length} CPUs (shared)`);
console.log(`load generator: @xmpp-sansio/node XmppClient; STARTTLS + SCRAM-SHA-1 (${ITERATIONS} iterations, SaltedPassword cached) + bind; ${fmt(accounts.length)} accounts\n`);

type Row = { metric: string; ours: number; theirs: number | undefined; unit: string };
const rows: Row[] = [];
/** A server's CPU time so far (user + system), µs: ours from its child, Prosody's from /proc (10 ms ticks). */
const clockTicks = Number(execSync("getconf CLK_TCK").toString().trim()) || 100;
const cpuOf = (t: Target) => (t === ours ? serverCpu() : Promise.resolve(prosodyCpu(prosody!.pid)));
function prosodyCpu(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / clockTicks; // utime, stime
}
/**
 * Runs `run` on both servers; with `perCpu`, also a row of operations per second of the server's own CPU
 * time — on a shared machine steadier than wall-clock rates, and it measures the server, not the generator.
 */
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const measure = async (
  metric: string,
  unit: string,
  run: (t: Target, round: number) => Promise<number>,
  perCpu?: { metric: string; count: number },
  rounds = 1,
) => {
  // Per target: the rate, the server's and the generator's CPU (µs) of each round. With several rounds
  // the servers alternate (ours, theirs, ours, …), so that the other jobs on a shared machine load both
  // alike, and each figure is the median of its rounds.
  const per = new Map<Target, { rate: number[]; cpu: number[]; generator: number[] }>();
  const one = async (t: Target, round: number) => {
    const c0 = await cpuOf(t);
    const g0 = process.cpuUsage();
    const r = await run(t, round);
    const g = process.cpuUsage(g0);
    const m = per.get(t) ?? { rate: [], cpu: [], generator: [] };
    per.set(t, m);
    m.rate.push(r);
    m.cpu.push((await cpuOf(t)) - c0);
    m.generator.push(g.user + g.system);
  };
  for (let round = 0; round < rounds; round++) {
    await one(ours, round);
    if (theirs) await one(theirs, round);
  }
  const cpu = new Map<Target, number>([...per].map(([t, m]) => [t, median(m.cpu)]));
  const generator = new Map<Target, number>([...per].map(([t, m]) => [t, median(m.generator)]));
  const a = median(per.get(ours)!.rate);
  const b = theirs ? median(per.get(theirs)!.rate) : undefined;
  rows.push({ metric, ours: a, theirs: b, unit });
  const roundsOf = (t: Target) => (rounds > 1 ? ` (${per.get(t)!.rate.map(fmt).join(", ")})` : "");
  console.log(`  ${metric}: ${fmt(a)}${roundsOf(ours)} vs ${b === undefined ? "—" : `${fmt(b)}${roundsOf(theirs!)}`} ${unit}${rounds > 1 ? `, median of ${rounds} rounds` : ""}`);
  if (perCpu !== undefined) {
    const perSecond = (t: Target) => perCpu.count / (cpu.get(t)! / 1e6);
    const row = { metric: perCpu.metric, ours: perSecond(ours), theirs: theirs ? perSecond(theirs) : undefined, unit: "per server CPU-second" };
    rows.push(row);
    console.log(`  ${row.metric}: ${fmt(row.ours)} vs ${row.theirs === undefined ? "—" : fmt(row.theirs)} per server CPU-second`);
    // What the load generator (this process) spent per operation: on the same cores, it bounds the wall-clock rates.
    const ms = (m: Map<Target, number>, t: Target) => (m.get(t)! / 1000 / perCpu.count).toFixed(2);
    const line = `${perCpu.metric.replace(/ per server CPU-second/, "")}: CPU per operation, server / generator: ours ${ms(cpu, ours)} / ${ms(generator, ours)} ms` +
      (theirs ? `, Prosody ${ms(cpu, theirs)} / ${ms(generator, theirs)} ms` : "");
    console.log(`  ${line}`);
    notes.push(line);
  }
};

try {
  // Warm-up: BENCH_WARMUP_LOGINS (1000) concurrent logins on each server first, then 10 sequential ones.
  // Our server runs on V8, whose JIT needs on the order of a thousand logins before the code that runs
  // once per login is optimised (measured: ≈3.4 ms of server CPU per login after 200 logins, ≈2 ms after
  // 1 500); a server in service is past that. Prosody (PUC Lua, no JIT) gets the same warm-up. Its CPU per
  // login goes the other way: it rises with the logins it has served (bench/prosody-login-cpu.ts: ≈3–3.5 ms
  // over the first 600, ≈4 after 1 600, ≈5–5.8 after 3 400), as much after 1 000 logins never holding more
  // than 20 sessions as after 1 000 held at once — not this bench's held sessions or accounts files; which
  // part of Prosody grows is not established. BENCH_WARMUP_LOGINS=10 compares two fresh servers instead.
  // TLS session caches are not used: every login is a full handshake.
  if (ONLY.has("logins")) {
    for (const t of [ours, ...(theirs ? [theirs] : [])]) {
      await concurrentLogins(t, WARMUP_LOGINS, CONCURRENCY);
      await sequentialLogins(t, 10);
    }
    await measure(`logins, sequential (${LOGINS})`, "logins/s", (t) => sequentialLogins(t, LOGINS), undefined, LOGIN_ROUNDS);
    // The profile and perf record: of our server's last round only.
    const concurrent = async (t: Target, round: number) => {
      if (t !== ours || round !== LOGIN_ROUNDS - 1 || (PROFILE === undefined && PERF === undefined)) return concurrentLogins(t, LOGINS, CONCURRENCY);
      if (PROFILE !== undefined) await profile("start");
      const perf = PERF === undefined ? undefined : spawn("perf", ["record", "-F", "1999", "-g", "-p", String(child.pid), "-o", PERF], { stdio: "ignore" });
      if (perf !== undefined) await new Promise((r) => setTimeout(r, 500)); // perf attached
      const rate = await concurrentLogins(t, LOGINS, CONCURRENCY);
      if (perf !== undefined) {
        const exited = new Promise((r) => perf.once("exit", r));
        perf.kill("SIGINT");
        await exited;
        notes.push(`perf record of our server during the ${CONCURRENCY}-concurrent logins: ${PERF} (perf report -i ${PERF})`);
      }
      if (PROFILE !== undefined) {
        await profile(PROFILE);
        notes.push(`CPU profile of our server during the ${CONCURRENCY}-concurrent logins: ${PROFILE}`);
      }
      return rate;
    };
    await measure(
      `logins, ${CONCURRENCY} concurrent (${LOGINS})`,
      "logins/s",
      concurrent,
      { metric: `logins per server CPU-second, ${CONCURRENCY} concurrent`, count: LOGINS },
      LOGIN_ROUNDS,
    );
  }
  let cpuPerMessage: number | undefined;
  let routing: { off: number; on: number } | undefined;
  if (ONLY.has("messages")) {
    // In a process of its own: run here, its 20 000 retained stanzas per round made V8 pretenure the
    // allocation sites of xml() and the element code the clients share, and this process then spent
    // about twice the CPU per burst message (old-space garbage, scavenges with megabytes of survivors).
    routing = JSON.parse(
      execFileSync(process.execPath, ["--conditions=source", "--import", "tsx", fileURLToPath(new URL("./router-cpu.ts", import.meta.url)), "--json"], { encoding: "utf8" }),
    ) as { off: number; on: number };
    console.log(`  routing only (in-process Router): ${routing.off.toFixed(2)} µs/message without the prepared-JID cache, ${routing.on.toFixed(2)} µs with it`);
    // BENCH_MESSAGE_ROUNDS runs per server, the servers alternating; each figure is the median of its rounds.
    const runs = new Map<string, MessageFigures[]>();
    for (let round = 0; round < MESSAGE_ROUNDS; round++) {
      for (const t of [ours, ...(theirs ? [theirs] : [])]) {
        const list = runs.get(t.name) ?? [];
        runs.set(t.name, list);
        list.push(await messages(t, () => cpuOf(t)));
      }
    }
    const medianOf = (list: MessageFigures[], key: keyof MessageFigures) => median(list.map((f) => f[key] ?? Number.NaN));
    const results = new Map<string, MessageFigures>(
      [...runs].map(([name, list]) => [
        name,
        { roundTrips: medianOf(list, "roundTrips"), burst: medianOf(list, "burst"), cpuPerMessage: medianOf(list, "cpuPerMessage"), generatorPerMessage: medianOf(list, "generatorPerMessage") },
      ]),
    );
    if (MESSAGE_ROUNDS > 1) {
      for (const [name, list] of runs) console.log(`  ${name}, ${MESSAGE_ROUNDS} rounds: burst ${list.map((f) => fmt(f.burst)).join(", ")} messages/s; round trips ${list.map((f) => fmt(f.roundTrips)).join(", ")}/s`);
    }
    for (const [name, f] of results) console.log(`  ${name}: the bench process (both clients) spent ${f.generatorPerMessage.toFixed(2)} µs of CPU per burst message (median)`);
    cpuPerMessage = results.get(ours.name)!.cpuPerMessage;
    const theirCpu = theirs ? results.get(theirs.name)!.cpuPerMessage : undefined;
    for (const [metric, key, unit] of [
      [`message round trips, one pair (${ROUNDTRIPS})`, "roundTrips", "round trips/s"],
      [`messages, pipelined burst (${BURST})`, "burst", "messages/s"],
    ] as const) {
      const row = { metric, ours: results.get(ours.name)![key], theirs: theirs ? results.get(theirs.name)![key] : undefined, unit };
      rows.push(row);
      console.log(`  ${metric}: ${fmt(row.ours)} vs ${row.theirs === undefined ? "—" : fmt(row.theirs)} ${unit}`);
    }
    if (cpuPerMessage !== undefined) {
      const row = { metric: "messages per server CPU-second, burst", ours: 1e6 / cpuPerMessage, theirs: theirCpu === undefined ? undefined : 1e6 / theirCpu, unit: "per server CPU-second" };
      rows.push(row);
      console.log(`  ${row.metric}: ${fmt(row.ours)} vs ${row.theirs === undefined ? "—" : fmt(row.theirs)}`);
    }
    console.log(`  our server's CPU per message in the burst: ${cpuPerMessage?.toFixed(2)} µs (user + system, parse → route → serialize → write)`);
  }

  if (ONLY.has("load")) {
    const lat = new Map<string, number[]>();
    for (const t of [ours, ...(theirs ? [theirs] : [])]) {
      const clients = await openIdle(t, LOAD_CLIENTS, 20);
      try {
        const jids = clients.map((c) => String(c.jid));
        await selfPings(clients, jids, 1); // warm-up
        lat.set(t.name, await selfPings(clients, jids, LOAD_SECONDS));
      } finally {
        await Promise.all(clients.map((c) => c.close()));
      }
    }
    for (const q of [0.5, 0.99]) {
      const metric = `latency p${q * 100}, ${LOAD_CLIENTS} clients × 20 msg/s`;
      const row = { metric, ours: quantile(lat.get(ours.name)!, q), theirs: theirs ? quantile(lat.get(theirs.name)!, q) : undefined, unit: "ms (lower is better)" };
      rows.push(row);
      console.log(`  ${metric}: ${row.ours.toFixed(2)} vs ${row.theirs === undefined ? "—" : row.theirs.toFixed(2)} ms`);
    }
  }

  const fair: FairRow[] = [];
  if (ONLY.has("fairness")) for (const limits of ["off", "default"] as const) fair.push(await fairness(limits));

  // Memory per idle client (online, no presence) at IDLE connections.
  if (!ONLY.has("idle")) IDLE = 0;
  const before = await memory();
  const prosodyBefore = prosody ? prosodyRss(prosody.pid) : undefined;
  const t0 = performance.now();
  const idleOurs = IDLE === 0 ? [] : await openIdle(ours, IDLE, 50);
  const openSeconds = (performance.now() - t0) / 1000;
  const after = await memory();
  await Promise.all(idleOurs.map((c) => c.close()));
  let prosodyPer: number | undefined;
  if (prosody && prosodyBefore !== undefined && IDLE > 0) {
    const idleTheirs = await openIdle(theirs!, IDLE, 50);
    prosodyPer = (prosodyRss(prosody.pid) - prosodyBefore) / IDLE;
    await Promise.all(idleTheirs.map((c) => c.close()));
  }

  const ratio = (r: Row) => {
    if (r.theirs === undefined) return "—";
    const x = r.ours / r.theirs;
    return `${x >= 0.1 ? x.toFixed(2) : x.toPrecision(2)}×`;
  };
  const header = ["", "xmpp-sansio", "Prosody 0.12", "ratio", ""];
  const num = (n: number) => (n < 100 ? n.toFixed(2) : fmt(n));
  const table = rows.map((r) => [r.metric, num(r.ours), r.theirs === undefined ? "—" : num(r.theirs), ratio(r), r.unit]);
  const perConn = (after.memory.rss - before.memory.rss) / IDLE;
  const heapPerConn = (after.memory.heapUsed + after.memory.external - before.memory.heapUsed - before.memory.external) / IDLE;
  if (IDLE > 0) table.push([
    `RSS per idle client at ${fmt(IDLE)} connections`,
    `${(perConn / 1024).toFixed(1)} KiB`,
    prosodyPer === undefined ? "—" : `${(prosodyPer / 1024).toFixed(1)} KiB`,
    prosodyPer === undefined ? "—" : `${(perConn / prosodyPer).toFixed(2)}×`,
    "lower is better",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  console.log();
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 || i === 4 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`);
  for (const r of table) console.log(line(r));
  console.log();
  if (cpuPerMessage !== undefined) console.log(`our server's CPU per message, pipelined burst: ${cpuPerMessage.toFixed(2)} µs (routing alone: ${routing!.on.toFixed(2)} µs; ${routing!.off.toFixed(2)} µs without the JID cache)`);
  if (fair.length > 0) {
    console.log();
    console.log(
      `fairness: ${FAIR_CLIENTS} clients × 20 msg/s to themselves, latency through our server (ms), quiet vs one flooder, ${FAIR_ROUNDS} rounds of ${FAIR_SECONDS} s quiet + ${FAIR_SECONDS} s flooded, interleaved`,
    );
    console.log("| read rate limits | quiet p50 | quiet p99 | flooded p50 | flooded p99 | p99 flooded/quiet per round | median ratio | flooder messages/s read |");
    console.log("|:-----------------|----------:|----------:|------------:|------------:|:----------------------------|-------------:|------------------------:|");
    for (const f of fair) {
      const [q50, q99, f50, f99] = [quantile(f.quiet, 0.5), quantile(f.quiet, 0.99), quantile(f.flooded, 0.5), quantile(f.flooded, 0.99)];
      console.log(
        `| ${f.limits === "off" ? "off" : "defaults (256 KiB/s)"} | ${q50.toFixed(2)} | ${q99.toFixed(2)} | ${f50.toFixed(2)} | ${f99.toFixed(2)} | ${f.ratios.map((x) => `${x.toFixed(2)}×`).join(" ")} | ${median(f.ratios).toFixed(2)}× | ${fmt(f.flooderMessages / FAIR_SECONDS)} |`,
      );
    }
  }
  if (IDLE > 0) console.log(
    `our server: RSS ${(before.memory.rss / 2 ** 20).toFixed(1)} MiB → ${(after.memory.rss / 2 ** 20).toFixed(1)} MiB with ${after.connections} connections` +
      ` (JS heap + external ${(heapPerConn / 1024).toFixed(1)} KiB per connection; ${fmt(IDLE)} clients online in ${openSeconds.toFixed(1)} s)`,
  );
  console.log("ratio = xmpp-sansio / Prosody (above 1: we are faster; for RSS, above 1: we use more)");
  for (const n of notes) console.log(`note: ${n}`);
} finally {
  const exited = new Promise((r) => child.once("exit", r));
  child.send("stop");
  await exited;
  await prosody?.stop();
  rmSync(workDir, { recursive: true, force: true });
}
