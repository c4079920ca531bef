// Server CPU per login, ours only, for A/B runs while working on the login path: the server child of
// bench/server.bench.ts (bench/server-child.ts, same options), BENCH_LOGIN_WARMUP (600) logins first, then
// BENCH_LOGIN_ROUNDS (5) rounds of BENCH_LOGINS (400) logins, BENCH_CONCURRENCY (20) at a time, each
// closed as soon as it is online (so the server holds at most `concurrency` sessions and the figure is the
// login, not the heap of many idle sessions; BENCH_LOGIN_HOLD=1 keeps them until the round ends). Prints the server's and this generator's CPU per login
// (user + system, all threads) per round and their medians. Asserts nothing. BENCH_PROFILE=<file>: a V8
// CPU profile of the server during the last round (the profiler's cost is then in that round's figure).
//
//   node --conditions=source --import tsx bench/login-cpu.ts     (pnpm -F @xmpp-sansio/server bench:logins)
import { fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { fileURLToPath } from "node:url";
import { XmppClient } from "@xmpp-sansio/node";
import { accountsFile, cachedDeriveKey, makeAccounts } from "./accounts.js";

const WARMUP = Number(process.env.BENCH_LOGIN_WARMUP ?? 600);
const ROUNDS = Number(process.env.BENCH_LOGIN_ROUNDS ?? 5);
const LOGINS = Number(process.env.BENCH_LOGINS ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 10_000);
/** BENCH_LOGIN_HOLD=1: every client of a round stays online until the round's end, then all close (as in server.bench.ts). */
const HOLD = process.env.BENCH_LOGIN_HOLD === "1";

const accounts = await makeAccounts(LOGINS, ITERATIONS);
const dir = mkdtempSync(join(tmpdir(), "xmpp-login-cpu-"));
const accountsPath = join(dir, "accounts.json");
writeFileSync(accountsPath, JSON.stringify(accountsFile(accounts)));
const deriveKey = cachedDeriveKey(accounts);
const execArgv = ["--expose-gc", "--conditions=source", "--import", "tsx", ...(process.env.BENCH_CHILD_ARGS ?? "").split(" ").filter((a) => a !== "")];
const child = fork(fileURLToPath(new URL("./server-child.ts", import.meta.url)), [], {
  execArgv,
  env: { ...process.env, BENCH_ITERATIONS: String(ITERATIONS), BENCH_RATE_LIMITS: "off", BENCH_ACCOUNTS_FILE: accountsPath },
});
const fromChild = () => new Promise<unknown>((resolve) => child.once("message", resolve));
const ready = (await fromChild()) as { port: number; certificate: string };
const secureContext = createSecureContext({ ca: ready.certificate });
const serverCpu = async () => {
  const reply = fromChild();
  child.send("cpu");
  const { cpu } = (await reply) as { cpu: NodeJS.CpuUsage };
  return cpu.user + cpu.system;
};

async function logins(n: number): Promise<void> {
  let next = 0;
  const held: XmppClient[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        const a = accounts[next++ % accounts.length]!;
        const c = new XmppClient({
          jid: `${a.user}@localhost`,
          password: a.password,
          host: "127.0.0.1",
          port: ready.port,
          tls: { extra: { secureContext } },
          session: { mechanisms: ["SCRAM-SHA-1"] },
          deriveKey,
          sm: false,
        });
        await c.online();
        if (HOLD) held.push(c);
        else await c.close();
      }
    }),
  );
  await Promise.all(held.map((c) => c.close()));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
try {
  await logins(WARMUP);
  const server: number[] = [];
  const generator: number[] = [];
  const rates: number[] = [];
  const profile = async (what: string) => {
    const reply = fromChild();
    child.send({ profile: what });
    await reply;
  };
  for (let r = 0; r < ROUNDS; r++) {
    const profiling = process.env.BENCH_PROFILE !== undefined && r === ROUNDS - 1;
    if (profiling) await profile("start");
    const s0 = await serverCpu();
    const g0 = process.cpuUsage();
    const t0 = performance.now();
    await logins(LOGINS);
    const seconds = (performance.now() - t0) / 1000;
    const g = process.cpuUsage(g0);
    server.push(((await serverCpu()) - s0) / 1000 / LOGINS);
    generator.push((g.user + g.system) / 1000 / LOGINS);
    rates.push(LOGINS / seconds);
    if (profiling) await profile(process.env.BENCH_PROFILE!);
    console.log(`round ${r + 1}: server ${server.at(-1)!.toFixed(3)} ms/login, generator ${generator.at(-1)!.toFixed(3)} ms/login, ${rates.at(-1)!.toFixed(0)} logins/s`);
  }
  console.log(
    `median of ${ROUNDS} × ${LOGINS} logins (${CONCURRENCY} concurrent): server ${median(server).toFixed(3)} ms CPU/login (${(1000 / median(server)).toFixed(0)} per server CPU-second), generator ${median(generator).toFixed(3)} ms, ${median(rates).toFixed(0)} logins/s`,
  );
} finally {
  const exited = new Promise((r) => child.once("exit", r));
  child.send("stop");
  await exited;
  rmSync(dir, { recursive: true, force: true });
}
