// Federation on loopback: messages/s across two federated reference servers vs within one, and the time
// from the first stanza to a remote domain until its delivery (connection set-up included: TCP, STARTTLS,
// EXTERNAL or dialback with its verify stream), ours vs Prosody↔Prosody. Prints figures, asserts nothing.
//
//   pnpm -F @xmpp-sansio/server bench:s2s
//   env: BENCH_S2S_MESSAGES (5000), BENCH_S2S_SETUPS (5), BENCH_S2S_PROSODY (1: 0 skips the Prosody rows)
//
// Our two servers (a.test on 127.0.0.2, b.test on 127.0.0.3) run in this process with the clients, so they
// share one event loop: read the across/within ratio, not the absolute rate. Prosody runs as two processes
// (p1.test on 127.0.0.4, p2.test on 127.0.0.5), log level info. No storage: the plain RFC 6120 router.
import * as net from "node:net";
import { XmppClient } from "@xmpp-sansio/node";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { AccountStore } from "../src/accounts.js";
import { type CertificatePair, generateSelfSignedCertificate } from "../src/certificate.js";
import { type RunningServer, startServer } from "../src/server.js";
import { prosodyMissing, startProsodyS2S } from "../test/support/prosody-s2s.js";

const MESSAGES = Number(process.env.BENCH_S2S_MESSAGES ?? 5_000);
const SETUPS = Number(process.env.BENCH_S2S_SETUPS ?? 5);
const WITH_PROSODY = (process.env.BENCH_S2S_PROSODY ?? "1") !== "0";
const fmt = (n: number) => Math.round(n).toLocaleString("en");

async function freePort(host: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function receiver(c: XmppClient): { count: number; wait(n: number): Promise<void> } {
  const state = { count: 0, wait: (_n: number) => Promise.resolve() };
  let want = Number.POSITIVE_INFINITY;
  let done: (() => void) | undefined;
  c.on("stanza", (s: XmlElement) => {
    if (s.name !== "message" || s.attr("type") === "error") return;
    state.count++;
    if (state.count >= want) done?.();
  });
  state.wait = (n) =>
    new Promise<void>((resolve) => {
      want = n;
      done = resolve;
      if (state.count >= n) resolve();
    });
  return state;
}

interface Pair {
  a: RunningServer;
  b: RunningServer;
  close(): Promise<void>;
}

/** a.test and b.test, federating; EXTERNAL when `external`, else dialback (the s2s certificates name localhost). */
async function ourPair(external: boolean): Promise<Pair & { pa: CertificatePair; pb: CertificatePair }> {
  const pa = generateSelfSignedCertificate({ dnsNames: ["a.test"] });
  const pb = generateSelfSignedCertificate({ dnsNames: ["b.test"] });
  const sa = external ? pa : generateSelfSignedCertificate({ dnsNames: ["localhost"] });
  const sb = external ? pb : generateSelfSignedCertificate({ dnsNames: ["localhost"] });
  const [portA, portB] = [await freePort("127.0.0.2"), await freePort("127.0.0.3")];
  const hosts = { "a.test": { host: "127.0.0.2", port: portA }, "b.test": { host: "127.0.0.3", port: portB } };
  const start = (domain: string, pair: CertificatePair, s2s: CertificatePair, host: string, port: number) => {
    const accounts = new AccountStore();
    accounts.add("juliet", "r0m30myr0m30");
    accounts.add("romeo", "j0liet");
    return startServer({
      domain,
      accounts,
      tls: pair,
      port: 0,
      streamManagement: false,
      limits: { rate: { preAuth: null, authenticated: null }, address: { maxLoginAttemptsPerIp: null } },
      // no read rate limits on either side: throughput, as Prosody runs without mod_limits by default
      federation: { host, port, hosts, tls: s2s, ca: [sa.ca!, sb.ca!], rate: { preAuth: null, authenticated: null } },
    });
  };
  const a = await start("a.test", pa, sa, "127.0.0.2", portA);
  const b = await start("b.test", pb, sb, "127.0.0.3", portB);
  return { a, b, pa, pb, close: async () => void (await Promise.all([a.close(), b.close()])) };
}

async function login(port: number, jid: string, password: string, ca: string): Promise<XmppClient> {
  const c = new XmppClient({ jid, password, host: "127.0.0.1", port, tls: { ca } });
  await c.online();
  c.send(xml("presence", {}));
  return c;
}

/** Sends `n` chat messages from `from` to `to` at once; ms until the last arrived. */
async function burst(from: XmppClient, to: string, rx: ReturnType<typeof receiver>, n: number): Promise<number> {
  const base = rx.count;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) from.send(xml("message", { to, type: "chat" }, xml("body", {}, `m${i}`)));
  await rx.wait(base + n);
  return performance.now() - t0;
}

async function ours(): Promise<void> {
  console.log(`\n== ours: two reference servers in one process (${MESSAGES} messages per burst) ==`);
  const pair = await ourPair(true);
  const j = await login(pair.a.port!, "juliet@a.test/bench", "r0m30myr0m30", pair.pa.cert);
  const rLocal = await login(pair.a.port!, "romeo@a.test/bench", "j0liet", pair.pa.cert);
  const rRemote = await login(pair.b.port!, "romeo@b.test/bench", "j0liet", pair.pb.cert);
  const rxLocal = receiver(rLocal);
  const rxRemote = receiver(rRemote);
  // Warm-up: the s2s stream is set up, JIT warm.
  await burst(j, "romeo@b.test/bench", rxRemote, 200);
  await burst(j, "romeo@a.test/bench", rxLocal, 200);
  // Alternating rounds; the median of each (one process: the other server's and the clients' work count too).
  const within: number[] = [];
  const across: number[] = [];
  for (let round = 0; round < 5; round++) {
    within.push(MESSAGES / ((await burst(j, "romeo@a.test/bench", rxLocal, MESSAGES)) / 1000));
    across.push(MESSAGES / ((await burst(j, "romeo@b.test/bench", rxRemote, MESSAGES)) / 1000));
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
  console.log(`${"within one server (a.test → a.test)".padEnd(48)} ${fmt(median(within)).padStart(8)} msg/s (median of 5)`);
  console.log(`${"across two servers (a.test → b.test over s2s)".padEnd(48)} ${fmt(median(across)).padStart(8)} msg/s (median of 5)`);
  await Promise.all([j.close(), rLocal.close(), rRemote.close()]);
  await pair.close();

  for (const external of [true, false]) {
    const times: number[] = [];
    for (let i = 0; i < SETUPS; i++) {
      const p = await ourPair(external);
      const a = await login(p.a.port!, "juliet@a.test/bench", "r0m30myr0m30", p.pa.cert);
      const b = await login(p.b.port!, "romeo@b.test/bench", "j0liet", p.pb.cert);
      const rx = receiver(b);
      times.push(await burst(a, "romeo@b.test/bench", rx, 1));
      await Promise.all([a.close(), b.close()]);
      await p.close();
    }
    times.sort((x, y) => x - y);
    console.log(`first stanza to a new domain, delivered (${external ? "EXTERNAL" : "dialback"}): median ${times[times.length >> 1]!.toFixed(1)} ms (min ${times[0]!.toFixed(1)}, max ${times.at(-1)!.toFixed(1)}, ${SETUPS} set-ups)`);
  }
}

async function prosody(): Promise<void> {
  if (prosodyMissing !== undefined) {
    console.log(`\n== Prosody: skipped (${prosodyMissing}) ==`);
    return;
  }
  console.log("\n== Prosody 0.12 ↔ Prosody 0.12 (two processes, log level info) ==");
  const times: number[] = [];
  for (let i = 0; i <= SETUPS; i++) {
    // Each Prosody is told where the other is (the test plugin) before either starts: pick both ports first.
    const [port1, port2] = [await freePort("127.0.0.4"), await freePort("127.0.0.5")];
    const p1 = await startProsodyS2S({ domain: "p1.test", s2sAddress: "127.0.0.4", s2sPort: port1, fixedHosts: { "p2.test": ["127.0.0.5", port2] }, accounts: { juliet: "r0m30myr0m30" }, logLevel: "info" });
    const p2 = await startProsodyS2S({ domain: "p2.test", s2sAddress: "127.0.0.5", s2sPort: port2, fixedHosts: { "p1.test": ["127.0.0.4", port1] }, accounts: { romeo: "j0liet" }, logLevel: "info" });
    try {
      const a = await login(p1.c2sPort, "juliet@p1.test/bench", "r0m30myr0m30", p1.cert);
      const b = await login(p2.c2sPort, "romeo@p2.test/bench", "j0liet", p2.cert);
      const rx = receiver(b);
      const t = await burst(a, "romeo@p2.test/bench", rx, 1);
      if (i > 0) times.push(t); // the first run warms the disk cache
      if (i === SETUPS) {
        await burst(a, "romeo@p2.test/bench", rx, 200);
        const rate = MESSAGES / ((await burst(a, "romeo@p2.test/bench", rx, MESSAGES)) / 1000);
        console.log(`${"across two Prosodys (p1.test → p2.test over s2s)".padEnd(48)} ${fmt(rate).padStart(8)} msg/s`);
      }
      await Promise.all([a.close(), b.close()]);
    } finally {
      await Promise.all([p1.stop(), p2.stop()]);
    }
  }
  times.sort((x, y) => x - y);
  console.log(`first stanza to a new domain, delivered (dialback): median ${times[times.length >> 1]!.toFixed(1)} ms (min ${times[0]!.toFixed(1)}, max ${times.at(-1)!.toFixed(1)}, ${times.length} set-ups)`);
}

await ours();
if (WITH_PROSODY) await prosody();
