import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
const text = readFileSync("bundle.mjs", "utf8");
const map = JSON.parse(readFileSync("bundle.mjs.map", "utf8"));
const cov = JSON.parse(readFileSync("coverage.json", "utf8"));
const B64 = Object.fromEntries([..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].map((c, i) => [c, i]));
const lineStarts = [0];
for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
const owner = new Int32Array(text.length).fill(-1);
let source = 0; const segments = [];
map.mappings.split(";").forEach((line, lineNo) => { let col = 0; for (const seg of line.split(",")) { if (seg === "") continue; const values = []; let value = 0, shift = 0; for (const c of seg) { const d = B64[c]; value += (d & 31) << shift; if (d & 32) shift += 5; else { values.push(value & 1 ? -(value >>> 1) : value >>> 1); value = 0; shift = 0; } } col += values[0]; if (values.length > 1) source += values[1]; segments.push([lineStarts[lineNo] + col, values.length > 1 ? source : -1]); } });
for (let i = 0; i < segments.length; i++) { const [s, src] = segments[i]; const e = i + 1 < segments.length ? segments[i + 1][0] : text.length; owner.fill(src, s, e); }
const count = new Int32Array(text.length).fill(1); // top-level code counted as run
// function ranges: first range is whole fn; apply in order of function list (outer before inner by offsets sort)
const ranges = [];
for (const f of cov.functions) for (const r of f.ranges) ranges.push(r);
ranges.sort((a, b) => a.startOffset - b.startOffset || b.endOffset - a.endOffset);
for (const r of ranges) count.fill(r.count > 0 ? 1 : 0, r.startOffset, r.endOffset);
const per = new Map();
let dead = "", live = "";
for (let i = 0; i < text.length; i++) { const src = map.sources[owner[i]] ?? "?"; const e = per.get(src) ?? { all: 0, dead: 0, deadText: "" }; e.all++; if (count[i] === 0) { e.dead++; e.deadText += text[i]; dead += text[i]; } else live += text[i]; per.set(src, e); }
console.log("all", text.length, "unexecuted", dead.length, "gzip all", gzipSync(text, { level: 9 }).length, "gzip of executed-only text", gzipSync(live, { level: 9 }).length);
const rows = [...per].map(([s, e]) => [s.replace(/^.*packages\//, ""), e.all, e.dead, gzipSync(e.deadText, { level: 9 }).length]).sort((a, b) => b[2] - a[2]);
for (const r of rows.slice(0, 60)) console.log(r[0].padEnd(50), String(r[1]).padStart(6), String(r[2]).padStart(6), String(r[3]).padStart(6));
const want = process.argv[2];
if (want) { for (const [s, e] of per) if (s.endsWith(want)) { 
  // print unexecuted runs separately
  let runs = [], cur = "";
  for (let i = 0; i < text.length; i++) { if (map.sources[owner[i]] === s && count[i] === 0) cur += text[i]; else if (cur) { runs.push(cur); cur = ""; } }
  console.log(runs.join("\n---\n")); } }
