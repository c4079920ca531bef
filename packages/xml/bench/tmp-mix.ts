import { readFileSync } from "node:fs";
import * as src from "../src/index.js";
import * as dist from "../dist/index.js";
const bytes = new Uint8Array(readFileSync("/tmp/exp/stream.xml"));
const ctx = { defaultNs: "jabber:client", prefixes: new Map([["stream", "http://etherx.jabber.org/streams"]]) };
function parse(m: typeof src) { const els: any[] = []; const p = new m.StreamParser({ limits: { maxStanzaBytes: 1 << 20 } }); p.push(bytes); for (let ev = p.next(); ev; ev = p.next()) if (ev.kind === "element") els.push(ev.element); return els; }
function t(name: string, fn: () => number) { fn(); const r: number[] = []; for (let k = 0; k < 5; k++) { const t0 = performance.now(); fn(); r.push(performance.now() - t0); } r.sort((a, b) => a - b); console.log(name.padEnd(30), r[2]!.toFixed(1), "ms"); }
const which = process.argv[2]!;
const els = parse(which[0] === "s" ? src : dist);
const W = which[1] === "s" ? src.XmlWriter : dist.XmlWriter;
if (which[2] === "f") for (const e of els) { for (let i = 0; i < e._attrs.length; i++) e._attrs[i] = (" " + e._attrs[i]).slice(1); }
const w = new W(1 << 17);
t(which, () => { let n = 0; for (const e of els) { w.element(e, ctx); if (w.length > 65536) n += w.take().length; } return n + w.take().length; });
