// Prosody 0.12's CPU per login over a plan of rounds (the Prosody side of bench/login-cpu.ts), to see
// whether its cost per login depends on what came before: e.g. after 1 000 sessions held at once.
// Prosody as in bench/server.bench.ts (info log, EC P-256, the generated accounts); CPU from /proc (10 ms
// ticks), including the closes. Prints one line per round. Asserts nothing.
//
//   node --conditions=source --import tsx bench/prosody-login-cpu.ts
//   env: PLAN (h200,h200,h200,H1000,h200,h200,h200: h/H = that many 20-concurrent logins held until all
//        are online, then closed; c = closed at once; s = sequential), BENCH_PROSODY_NAGLE=off
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { XmppClient } from "@xmpp-sansio/node";
import { startProsody } from "../../node/test/support/prosody.js";
import { cachedDeriveKey, makeAccounts, writeProsodyAccounts } from "./accounts.js";

const accounts = await makeAccounts(1000, 10000);
const prosody = await startProsody({ logLevel: "info", keyType: "ec", ...(process.env.BENCH_PROSODY_NAGLE === "off" ? { extraConfig: "network_settings = { nagle = false }" } : {}) });
writeProsodyAccounts(join(prosody.base, "data"), "localhost", accounts);
const deriveKey = cachedDeriveKey(accounts);
const secureContext = createSecureContext({ ca: prosody.caCert });
/** Prosody's CPU time so far (utime + stime), ms (10 ms ticks). */
const cpu = () => {
  const f = readFileSync(`/proc/${prosody.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
};
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${prosody.pid}/status`, "utf8"))![1]) / 1024;
async function logins(n: number, hold: boolean, conc = 20, offset = 0) {
  const held: XmppClient[] = [];
  let next = 0;
  const c0 = cpu();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => {
    while (next < n) {
      const a = accounts[(offset + next++) % accounts.length]!;
      const c = new XmppClient({ jid: `${a.user}@localhost`, password: a.password, host: "127.0.0.1", port: prosody.c2sPort, tls: { extra: { secureContext } }, session: { mechanisms: ["SCRAM-SHA-1"] }, deriveKey, sm: false });
      await c.online();
      if (hold) held.push(c); else await c.close();
    }
  }));
  const t1 = performance.now();
  await Promise.all(held.map((c) => c.close()));
  return `${((cpu() - c0) / n).toFixed(2)} ms CPU/login, ${(n / ((t1 - t0) / 1000)).toFixed(0)} logins/s, RSS ${rss().toFixed(0)} MiB`;
}
try {
  const plan = (process.env.PLAN ?? "h200,h200,h200,H1000,h200,h200,h200").split(",");
  for (const p of plan) {
    const hold = p[0] === "h" || p[0] === "H";
    const n = Number(p.slice(1));
    console.log(`${p}: ${await logins(n, hold, p[0] === "s" ? 1 : 20)}`);
  }
} finally {
  await prosody.stop();
}
