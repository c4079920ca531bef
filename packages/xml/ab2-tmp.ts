import { readFileSync } from "node:fs";
const which = process.argv[2]!;
const M: any = await import(which === "base" ? "./.base/src/index.ts" : "./src/index.ts");
const bytes = readFileSync("/tmp/xmlh-stream.bin");
const chunks: Uint8Array[] = [];
for (let i = 0; i < bytes.length; i += 4096) chunks.push(bytes.subarray(i, i + 4096));
function parse(keep: boolean): any[] {
  const p = new M.StreamParser({ limits: { maxStanzaBytes: 1 << 20 } });
  const els: any[] = [];
  for (const c of chunks) { p.push(c); for (let ev = p.next(); ev; ev = p.next()) if (ev.kind === "element" && keep) els.push(ev.element); }
  return els;
}
const els = parse(true);
const ctx = { defaultNs: M.NS_CLIENT, prefixes: new Map([["stream", M.NS_STREAMS]]) };
const cpu = (f: () => void) => { const c0 = process.cpuUsage(); f(); const d = process.cpuUsage(c0); return (d.user + d.system) / 1000; };
const tasks: Record<string, () => void> = {
  parse: () => parse(false),
  serialize: () => { for (const e of els) M.serialize(e, ctx); },
  writer: () => { const w = new M.XmlWriter(1 << 17); for (const e of els) { w.element(e, ctx); if (w.length > 65536) w.take(); } },
};
const out: string[] = [which];
for (const [name, f] of Object.entries(tasks)) {
  f();
  const t: number[] = [];
  for (let r = 0; r < 7; r++) t.push(cpu(f));
  t.sort((x, y) => x - y);
  out.push(`${name} ${t[3]!.toFixed(0)}`);
}
console.log(out.join(" | "));
