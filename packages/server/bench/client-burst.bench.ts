// The client library's cost in a pipelined burst: juliet sends BENCH_BURST chat messages to romeo through
// the demo server (a forked child, bench/server-child.ts), both clients our XmppClient in this process,
// as in server.bench.ts's "messages" rows; BENCH_ROUNDS bursts, each figure the median. Prints this
// process's CPU per message (user + system: juliet's send path and romeo's receive path, the one core the
// two clients share, which bounds the wall-clock rate once the server is faster), the server's, and the
// wall-clock rate. Asserts nothing.
//
//   node --expose-gc --conditions=source --import tsx bench/client-burst.bench.ts
//   env: BENCH_BURST (20000), BENCH_ROUNDS (7), BENCH_CLIENT_PROFILE (a file: a V8 CPU profile of this
//        process during the measured bursts only)
import { fork } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { createSecureContext } from "node:tls";
import { fileURLToPath } from "node:url";
import { XmppClient } from "@xmpp-sansio/node";
import { type XmlElement, xml } from "@xmpp-sansio/xml";

const BURST = Number(process.env.BENCH_BURST ?? 20_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 7));
const PROFILE = process.env.BENCH_CLIENT_PROFILE;

const child = fork(fileURLToPath(new URL("./server-child.ts", import.meta.url)), [], {
  execArgv: ["--expose-gc", "--conditions=source", "--import", "tsx"],
  env: { ...process.env, BENCH_ITERATIONS: "4096" },
});
const fromChild = () => new Promise<unknown>((resolve) => child.once("message", resolve));
const ready = (await fromChild()) as { port: number; certificate: string };
const serverCpu = async () => {
  const reply = fromChild();
  child.send("cpu");
  const { cpu } = (await reply) as { cpu: NodeJS.CpuUsage };
  return cpu.user + cpu.system;
};

const secureContext = createSecureContext({ ca: ready.certificate });
const client = (jid: string, password: string) =>
  new XmppClient({ jid, password, host: "127.0.0.1", port: ready.port, tls: { extra: { secureContext } }, session: { mechanisms: ["SCRAM-SHA-1"] }, sm: false });
const juliet = client("juliet@localhost/balcony", "r0m30myr0m30");
const romeo = client("romeo@localhost/orchard", "j0liet");
const [, rj] = await Promise.all([juliet.online(), romeo.online()]);
const romeoJid = rj.toString();

let received = 0;
let target = 0;
let done: (() => void) | undefined;
romeo.on("message", (_m: XmlElement) => {
  if (++received === target) done?.();
});
const chat = (i: number) => xml("message", { to: romeoJid, type: "chat", id: `m${i}` }, xml("body", {}, `message number ${i} ☃`));
const burst = async (n: number) => {
  received = 0;
  target = n;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  for (let i = 0; i < n; i++) juliet.send(chat(i));
  await finished;
};

let inspector: Session | undefined;
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) => inspector!.post(method, params, (err, result) => (err === null ? resolve(result) : reject(err))));

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const wall: number[] = [];
const mine: number[] = [];
const theirs: number[] = [];
try {
  for (let i = 0; i < 3; i++) await burst(Math.min(2_000, BURST)); // warm-up
  if (PROFILE !== undefined) {
    inspector = new Session();
    inspector.connect();
    await post("Profiler.enable");
    await post("Profiler.setSamplingInterval", { interval: 100 });
    await post("Profiler.start");
  }
  for (let r = 0; r < ROUNDS; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    const s0 = await serverCpu();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await burst(BURST);
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const s1 = await serverCpu();
    wall.push(BURST / (t / 1000));
    mine.push((c.user + c.system) / BURST);
    theirs.push((s1 - s0) / BURST);
  }
  if (PROFILE !== undefined) {
    const { profile } = (await post("Profiler.stop")) as { profile: unknown };
    writeFileSync(PROFILE, JSON.stringify(profile));
    inspector?.disconnect();
  }
  const f = (xs: number[], d = 2) => xs.map((x) => x.toFixed(d)).join(", ");
  console.log(`pipelined burst of ${BURST}, ${ROUNDS} rounds (median; the rounds in parentheses)`);
  console.log(`  wall clock: ${Math.round(median(wall)).toLocaleString("en")} messages/s (${f(wall, 0)})`);
  console.log(`  clients' CPU (this process): ${median(mine).toFixed(2)} µs/message (${f(mine)})`);
  console.log(`  server's CPU: ${median(theirs).toFixed(2)} µs/message (${f(theirs)})`);
} finally {
  await Promise.all([juliet.close(), romeo.close()]);
  child.send("stop");
}
