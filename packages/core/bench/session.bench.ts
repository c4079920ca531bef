// Benchmarks of the session core (client core ↔ server core in one process, no I/O).
// Run: pnpm -F @xmpp-sansio/core bench   (node --expose-gc gives the heap figure)
import { createSaltedPasswordCache, deriveScramCredentials, type SaltedPasswordCache } from "@xmpp-sansio/sasl";
import { xml } from "@xmpp-sansio/xml";
import { ClientSession, type ClientOptions, ServerSession, type StreamFeature, streamManagement } from "../src/index.js";
import { random } from "./support.js";

const DOMAIN = "im.example.com";
const PASSWORD = "r0m30myr0m30";
const SALT = new TextEncoder().encode("0123456789abcdef");
const STORED = deriveScramCredentials("SHA-256", PASSWORD, SALT, 4096);


interface Pair {
  client: ClientSession;
  server: ServerSession;
}

function pump(p: Pair): void {
  for (let moved = true; moved; ) {
    moved = false;
    for (let b = p.client.pollTransmit(); b; b = p.client.pollTransmit()) {
      p.server.receive(b, 0);
      moved = true;
    }
    for (let ev = p.server.pollEvent(); ev; ev = p.server.pollEvent()) {
      moved = true;
      if (ev.type === "host-check") p.server.answerHost(ev.domain === DOMAIN);
      else if (ev.type === "verify-password") p.server.answerPassword(ev.password === PASSWORD);
      else if (ev.type === "scram-credentials") p.server.answerScramCredentials(STORED);
      else if (ev.type === "bind-request") p.server.answerBind({ accept: ev.resource });
    }
    for (let b = p.server.pollTransmit(); b; b = p.server.pollTransmit()) {
      p.client.receive(b, 0);
      moved = true;
    }
    for (let ev = p.client.pollEvent(); ev; ev = p.client.pollEvent()) moved = true;
  }
}

function negotiate(mech: "PLAIN" | "SCRAM-SHA-256", cache?: SaltedPasswordCache, sm?: { client: StreamFeature; server: StreamFeature }): Pair {
  const opts: ClientOptions & { saltedPasswordCache?: SaltedPasswordCache } = {
    jid: "juliet@im.example.com/balcony",
    password: PASSWORD,
    tls: "none",
    allowPlainInClear: true,
    mechanisms: [mech],
    random,
    ...(cache ? { saltedPasswordCache: cache } : {}),
    ...(sm ? { features: [sm.client] } : {}),
  };
  const p = { client: new ClientSession(opts), server: new ServerSession({ tls: "none", allowPlainInClear: true, random, ...(sm ? { features: [sm.server] } : {}) }) };
  p.client.start(0);
  pump(p);
  if (p.client.state !== "online" || p.server.state !== "online") throw new Error(`negotiation failed: ${p.client.state}/${p.server.state}`);
  return p;
}

function rate(label: string, unit: string, minMs: number, fn: () => void): number {
  for (let i = 0; i < 20; i++) fn(); // warm-up
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    fn();
    n++;
    if ((n & 7) === 0) t = performance.now();
  }
  t = performance.now();
  const perSec = (n * 1000) / (t - t0);
  console.log(`${label.padEnd(62)} ${perSec.toFixed(0).padStart(9)} ${unit}/s   (${((t - t0) / n).toFixed(3)} ms each)`);
  return perSec;
}

console.log("xmpp-sansio core session benchmarks (one process, no I/O)\n");
const plain = rate("negotiation, PLAIN (stream, bind)", "negotiations", 1500, () => negotiate("PLAIN"));
const cache = createSaltedPasswordCache();
const cached = rate("negotiation, SCRAM-SHA-256 4096 it., client cache (no PBKDF2)", "negotiations", 1500, () => negotiate("SCRAM-SHA-256", cache));
const full = rate("negotiation, SCRAM-SHA-256 4096 it., client PBKDF2 each time", "negotiations", 1500, () => negotiate("SCRAM-SHA-256"));
console.log(
  `  → PBKDF2(4096) on the client costs ≈ ${(1000 / full - 1000 / cached).toFixed(2)} ms per negotiation; session + SCRAM without it ≈ ${(1000 / cached).toFixed(3)} ms, PLAIN ≈ ${(1000 / plain).toFixed(3)} ms`,
);

// Stanzas through an online pair: client → server (parse, validate, stamp, event) and server → client.
{
  const p = negotiate("PLAIN");
  const msg = () => xml("message", { to: "romeo@example.net", type: "chat" }, xml("body", {}, "Art thou not Romeo, and a Montague?"));
  const BATCH = 100;
  const perSec = rate(`stanzas client → server (batches of ${BATCH})`, "batches", 1500, () => {
    for (let i = 0; i < BATCH; i++) p.client.send(msg());
    p.server.receive(p.client.pollTransmit()!, 0);
    for (let ev = p.server.pollEvent(); ev; ev = p.server.pollEvent()) {}
  });
  console.log(`  → ${(perSec * BATCH).toFixed(0)} stanzas/s`);
  const perSec2 = rate(`stanzas server → client (batches of ${BATCH})`, "batches", 1500, () => {
    for (let i = 0; i < BATCH; i++) p.server.send(xml("message", { from: "romeo@example.net/orchard", to: "juliet@im.example.com/balcony", type: "chat" }, xml("body", {}, "Neither, fair saint.")));
    p.client.receive(p.server.pollTransmit()!, 0);
    for (let ev = p.client.pollEvent(); ev; ev = p.client.pollEvent()) {}
  });
  console.log(`  → ${(perSec2 * BATCH).toFixed(0)} stanzas/s`);
}

// XEP-0198: the same client → server flow with Stream Management on (the server answers every fifth
// stanza's <r/> with <a/>, the client processes the acks) and off, in one run.
{
  const BATCH = 100;
  const flow = (p: Pair) => () => {
    for (let i = 0; i < BATCH; i++) p.client.send(xml("message", { to: "romeo@example.net", type: "chat" }, xml("body", {}, "Art thou not Romeo, and a Montague?")));
    p.server.receive(p.client.pollTransmit()!, 0);
    for (let ev = p.server.pollEvent(); ev; ev = p.server.pollEvent()) {}
    const back = p.server.pollTransmit();
    if (back) p.client.receive(back, 0);
    for (let ev = p.client.pollEvent(); ev; ev = p.client.pollEvent()) {}
  };
  const off = rate(`stanzas client → server, SM off (batches of ${BATCH})`, "batches", 1500, flow(negotiate("PLAIN")));
  const sm = { client: streamManagement({ ackEvery: 5 }), server: streamManagement() };
  const on = rate(`stanzas client → server, SM on, <r/> every 5 (batches of ${BATCH})`, "batches", 1500, flow(negotiate("PLAIN", undefined, sm)));
  console.log(`  → SM off ${(off * BATCH).toFixed(0)} stanzas/s, SM on ${(on * BATCH).toFixed(0)} stanzas/s: ${(on / off).toFixed(2)}× (acks and acked events included)`);
}

// Heap per idle online server session.
{
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) console.log("\nheap per idle server session: run with node --expose-gc");
  else {
    const N = 2000;
    const keep: ServerSession[] = [];
    for (let i = 0; i < 50; i++) negotiate("PLAIN"); // warm caches (interned names etc.)
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < N; i++) keep.push(negotiate("PLAIN").server);
    gc();
    gc();
    const after = process.memoryUsage().heapUsed;
    const per = (after - before) / N;
    console.log(`\nheap per idle online server session (N=${N}, client dropped): ${per.toFixed(0)} bytes (${(per / 1024).toFixed(2)} KiB; target ≤ 8 KiB)`);
    if (keep.length !== N) throw new Error("unreachable");
    keep.length = 0;
    const sm = { client: streamManagement(), server: streamManagement() };
    for (let i = 0; i < 50; i++) negotiate("PLAIN", undefined, sm);
    gc();
    gc();
    const before2 = process.memoryUsage().heapUsed;
    for (let i = 0; i < N; i++) keep.push(negotiate("PLAIN", undefined, sm).server);
    gc();
    gc();
    const per2 = (process.memoryUsage().heapUsed - before2) / N;
    console.log(`heap per idle online server session with SM enabled: ${per2.toFixed(0)} bytes → SM state ≈ ${(per2 - per).toFixed(0)} bytes per idle session`);
  }
}
