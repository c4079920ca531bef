// A/B: the base and the new package in one process, alternating, CPU time (user+system) per run.
import { readFileSync } from "node:fs";
const A = await import("./.base/src/index.ts");
const B = await import("./src/index.ts");
const bytes = readFileSync("/tmp/xmlh-stream.bin");
const chunks: Uint8Array[] = [];
for (let i = 0; i < bytes.length; i += 4096) chunks.push(bytes.subarray(i, i + 4096));
function parse(M: any): any[] {
  const p = new M.StreamParser({ limits: { maxStanzaBytes: 1 << 20 } });
  const els: any[] = [];
  for (const c of chunks) { p.push(c); for (let ev = p.next(); ev; ev = p.next()) if (ev.kind === "element") els.push(ev.element); }
  return els;
}
const elsA = parse(A), elsB = parse(B);
const ctxA = { defaultNs: A.NS_CLIENT, prefixes: new Map([["stream", A.NS_STREAMS]]) };
const ctxB = { defaultNs: B.NS_CLIENT, prefixes: new Map([["stream", B.NS_STREAMS]]) };
const cpu = (f: () => void) => { const c0 = process.cpuUsage(); f(); const d = process.cpuUsage(c0); return (d.user + d.system) / 1000; };
const tasks: Record<string, [() => void, () => void]> = {
  parse: [() => parse(A), () => parse(B)],
  serialize: [() => { for (const e of elsA) A.serialize(e, ctxA); }, () => { for (const e of elsB) B.serialize(e, ctxB); }],
  writer: [() => { const w = new A.XmlWriter(1 << 17); for (const e of elsA) { w.element(e, ctxA); if (w.length > 65536) w.take(); } }, () => { const w = new B.XmlWriter(1 << 17); for (const e of elsB) { w.element(e, ctxB); if (w.length > 65536) w.take(); } }],
};
const MB = bytes.length / 1e6;
for (const [name, [a, b]] of Object.entries(tasks)) {
  a(); b();
  const ta: number[] = [], tb: number[] = [];
  for (let r = 0; r < 9; r++) { ta.push(cpu(a)); tb.push(cpu(b)); }
  ta.sort((x, y) => x - y); tb.sort((x, y) => x - y);
  const ma = ta[4]!, mb = tb[4]!;
  console.log(`${name}: base ${ma.toFixed(0)} ms CPU (${(MB / ma * 1000).toFixed(0)} MB/s), new ${mb.toFixed(0)} ms (${(MB / mb * 1000).toFixed(0)} MB/s), new/base ${(mb / ma).toFixed(3)}; best base ${ta[0]!.toFixed(0)} new ${tb[0]!.toFixed(0)}`);
}
