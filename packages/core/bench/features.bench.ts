// CPU per server stream header + `<stream:features/>`, as a STARTTLS login sends them (before TLS, and
// after it with SASL, SASL2 + Bind2, SM and registration offered): with the features markup cache
// (`ServerFeature.offerKey`) and without it (the cache emptied after every session: the element built and
// serialised each time). Each mode runs in a fresh child process, alternating, so the first sessions show
// the cold (unoptimised) cost; the later ones the warm cost. Prints figures, asserts nothing.
//
//   node --conditions=source --import tsx bench/features.bench.ts      (BENCH_FEATURES_PAIRS=5, BENCH_FEATURES_SESSIONS=20000)
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { registerFeature, ServerSession, streamManagement } from "../src/index.js";
import { random } from "./support.js";

const MODE = process.env.BENCH_FEATURES_MODE;
const SESSIONS = Number(process.env.BENCH_FEATURES_SESSIONS ?? 20_000);
const COLD = 200;
const enc = (s: string) => new TextEncoder().encode(s);
const HEADER = enc("<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>");
const STARTTLS = enc("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
const CB = { "tls-exporter": new Uint8Array(32).fill(1), "tls-server-end-point": new Uint8Array(32).fill(2) };

function child(): void {
  const options = {
    random,
    mechanisms: ["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"],
    sasl2: { bind2: true, bind2Inline: ["urn:xmpp:carbons:2"] },
    features: [streamManagement(), registerFeature({ server: { registration: false } })],
  };
  const drain = (s: ServerSession) => {
    let n = 0;
    for (let b = s.pollTransmit(); b !== undefined; b = s.pollTransmit()) n += b.length;
    for (let ev = s.pollEvent(); ev !== undefined; ev = s.pollEvent()) if (ev.type === "host-check") s.answerHost(true);
    for (let b = s.pollTransmit(); b !== undefined; b = s.pollTransmit()) n += b.length;
    return n;
  };
  const one = () => {
    const s = new ServerSession(options);
    s.receive(HEADER, 0);
    drain(s);
    s.receive(STARTTLS, 0);
    drain(s);
    s.tlsEstablished({ channelBinding: CB }, 0);
    s.receive(HEADER, 0);
    const n = drain(s);
    if (MODE === "built") (s as unknown as { featuresMarkup: Map<string, string> }).featuresMarkup.clear();
    return n;
  };
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  let t = cpu();
  for (let i = 0; i < COLD; i++) one();
  const cold = (cpu() - t) / COLD;
  t = cpu();
  for (let i = COLD; i < SESSIONS; i++) one();
  const warm = (cpu() - t) / (SESSIONS - COLD);
  console.log(JSON.stringify({ cold, warm }));
}

if (MODE !== undefined) child();
else {
  const pairs = Number(process.env.BENCH_FEATURES_PAIRS ?? 5);
  const results: Record<string, { cold: number[]; warm: number[] }> = { built: { cold: [], warm: [] }, cached: { cold: [], warm: [] } };
  for (let i = 0; i < pairs; i++) {
    for (const mode of i % 2 === 0 ? ["built", "cached"] : ["cached", "built"]) {
      const out = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], { env: { ...process.env, BENCH_FEATURES_MODE: mode }, encoding: "utf8" });
      const r = JSON.parse(out.trim().split("\n").at(-1)!) as { cold: number; warm: number };
      results[mode]!.cold.push(r.cold);
      results[mode]!.warm.push(r.warm);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const mode of ["built", "cached"]) {
    const r = results[mode]!;
    console.log(`${mode.padEnd(6)}: first ${COLD} sessions ${median(r.cold).toFixed(1)} µs CPU each (runs: ${r.cold.map((x) => x.toFixed(0)).join(", ")}); then ${median(r.warm).toFixed(2)} µs (runs: ${r.warm.map((x) => x.toFixed(1)).join(", ")})`);
  }
  console.log("(per session: the stream header and features before TLS, <starttls/> → <proceed/>, the header and features after TLS)");
}
