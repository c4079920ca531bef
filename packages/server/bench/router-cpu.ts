// Routing CPU in-process, without sockets or TLS: the demo server's Router routing pre-parsed chat messages
// between online endpoints, with the prepared-JID cache off (jidCacheSize 0: every `to` is parsed and
// PRECIS-prepared, as before the cache) and on. Best of several rounds (the machine is shared).
//
//   node --conditions=source --import tsx bench/router-cpu.ts   (or as part of server.bench.ts, in a child
//   process: --json prints the figures as JSON)
import { parseJid } from "@xmpp-sansio/jid";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { type Endpoint, Router } from "../src/router.js";

/** µs per routed message (best of `rounds`), with the JID cache of `cacheSize` entries. */
export function routeCpu(cacheSize: number, messages = 20_000, rounds = 7): number {
  const router = new Router({ serves: (d) => d === "localhost", accountExists: () => true, jidCacheSize: cacheSize });
  let delivered = 0;
  const endpoints: Endpoint[] = [];
  for (let i = 0; i < 50; i++) {
    const e: Endpoint = { jid: parseJid(`user${i}@localhost/res${i}`), deliver: () => void delivered++ };
    endpoints.push(e);
    router.online(e);
  }
  const stanzas: XmlElement[] = [];
  for (let i = 0; i < messages; i++) {
    const from = endpoints[i % 50]!;
    const to = endpoints[(i * 7 + 3) % 50]!;
    stanzas.push(xml("message", { to: to.jid.toString(), from: from.jid.toString(), type: "chat", id: `m${i}` }, xml("body", {}, `message ${i}`)));
  }
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < messages; i++) router.route(endpoints[i % 50]!, stanzas[i]!);
    best = Math.min(best, ((performance.now() - t0) * 1000) / messages);
  }
  if (delivered !== messages * rounds) throw new Error(`routed ${delivered} of ${messages * rounds}`);
  return best;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const off = routeCpu(0);
  const on = routeCpu(4096);
  // --json: the figures for server.bench.ts, which runs this in a child process (see there why).
  if (process.argv.includes("--json")) console.log(JSON.stringify({ off, on }));
  else console.log(`routing only: ${off.toFixed(2)} µs/message without the JID cache, ${on.toFixed(2)} µs with it (${(off / on).toFixed(1)}× less)`);
}
