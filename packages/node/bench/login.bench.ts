// Full SCRAM-SHA-256 logins per second through the Node adapter (connect, SCRAM with 4096 iterations,
// bind, graceful close) against the Node server adapter on loopback (no TLS: the figure is about the key
// derivation). The client's PBKDF2 runs natively off the event loop (`node:crypto.pbkdf2`, the default;
// also WebCrypto) or in the core's pure-JS path (`deriveKey: "inline"`). Sequential and 20 concurrent.
// Prints figures; asserts nothing.
//   pnpm -F @xmpp-sansio/node bench          (BENCH_LOGINS=200 to change the logins per cell and round)
import { performance } from "node:perf_hooks";
import { deriveSaltedPassword, deriveSaltedPasswordJs } from "@xmpp-sansio/adapter";
import { nodeDeriveKey, XmppClient, type XmppClientOptions, XmppServer } from "../src/index.js";
import { accountHooks, PASSWORDS } from "../test/support/accounts.js";

const N = Number(process.env.BENCH_LOGINS ?? 60);
/** Rounds, interleaved across the modes; the best of each is kept (a shared machine is noisy). */
const ROUNDS = 3;
const CONCURRENCY = 20;

let server!: XmppServer;
server = new XmppServer({ domains: "localhost", host: "127.0.0.1", port: 0, starttls: "none", session: { mechanisms: ["SCRAM-SHA-256"] }, hooks: accountHooks(() => server) });
const { port } = await server.listen();

async function login(deriveKey: XmppClientOptions["deriveKey"]): Promise<void> {
  const c = new XmppClient({ jid: "juliet@localhost", password: PASSWORDS.get("juliet")!, host: "127.0.0.1", port: port!, starttls: "none", reconnect: false, ...(deriveKey === undefined ? {} : { deriveKey }) });
  await c.online();
  if (c.mechanism !== "SCRAM-SHA-256") throw new Error(`expected SCRAM-SHA-256, got ${c.mechanism}`);
  await c.close();
}

async function rate(deriveKey: XmppClientOptions["deriveKey"], concurrency: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next++ < N) await login(deriveKey);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return N / ((performance.now() - t0) / 1000);
}

const modes: Array<[string, XmppClientOptions["deriveKey"]]> = [
  ["native (node:crypto, default)", undefined],
  ["WebCrypto", deriveSaltedPassword],
  ['pure JS (deriveKey: "inline")', "inline"],
];
console.log(`full SCRAM-SHA-256 logins (4096 iterations, bind, close) through the Node adapter, ${N} per cell, best of ${ROUNDS} interleaved rounds, loopback, Node ${process.version}`);
try {
  await rate(undefined, 1); // warm-up
  const best = modes.map(() => [0, 0]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [, mode]] of modes.entries()) {
      best[i]![0] = Math.max(best[i]![0]!, await rate(mode, 1));
      best[i]![1] = Math.max(best[i]![1]!, await rate(mode, CONCURRENCY));
    }
  }
  const js = best[best.length - 1]!;
  console.log(`${"derivation".padEnd(32)}${"sequential/s".padStart(14)}${`${CONCURRENCY} concurrent/s`.padStart(18)}${"× pure JS (seq, conc)".padStart(24)}`);
  for (const [i, [name]] of modes.entries()) {
    const [seq, conc] = best[i] as [number, number];
    console.log(`${name.padEnd(32)}${seq.toFixed(0).padStart(14)}${conc.toFixed(0).padStart(18)}${`${(seq / js[0]!).toFixed(2)}, ${(conc / js[1]!).toFixed(2)}`.padStart(24)}`);
  }
  // The derivation alone (what the adapter's choice is about), best of the rounds too.
  const req = { hash: "SHA-256" as const, password: new TextEncoder().encode(PASSWORDS.get("juliet")!), salt: new Uint8Array(16).fill(7), iterations: 4096, length: 32 };
  const derivations: Array<[string, () => Promise<unknown>]> = [
    ["node:crypto.pbkdf2", () => nodeDeriveKey(req)],
    ["WebCrypto deriveBits", () => deriveSaltedPassword(req)],
    ["pure JS pbkdf2", () => deriveSaltedPasswordJs(req)],
  ];
  const dbest = derivations.map(() => [0, 0]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, [, f]] of derivations.entries()) {
      let t = performance.now();
      for (let k = 0; k < 100; k++) await f();
      dbest[i]![0] = Math.max(dbest[i]![0]!, 100 / ((performance.now() - t) / 1000));
      t = performance.now();
      for (let k = 0; k < 5; k++) await Promise.all(Array.from({ length: CONCURRENCY }, f));
      dbest[i]![1] = Math.max(dbest[i]![1]!, (5 * CONCURRENCY) / ((performance.now() - t) / 1000));
    }
  }
  console.log(`\nPBKDF2-HMAC-SHA-256, 4096 iterations, alone${"sequential/s".padStart(14)}${`${CONCURRENCY} concurrent/s`.padStart(18)}`);
  for (const [i, [name]] of derivations.entries()) console.log(`${name.padEnd(42)}${dbest[i]![0]!.toFixed(0).padStart(14)}${dbest[i]![1]!.toFixed(0).padStart(18)}`);
} finally {
  await server.close();
}
