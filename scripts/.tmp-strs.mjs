import { bundle } from "./bundle-size.mjs";
import { gzipSync } from "node:zlib";
import { writeFileSync } from "node:fs";
const { js } = await bundle("packages/websocket/bench/size-client-minimal.ts");
const text = new TextDecoder().decode(js);
writeFileSync("/tmp/min.js", text);
// crude: string literals "..." '...' `...`
const re = /"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`/g;
let total = 0; const strs = [];
for (const m of text.matchAll(re)) { total += m[0].length; strs.push(m[0]); }
const noStr = text.replace(re, '""');
console.log("total", text.length, "strings", total, "count", strs.length);
console.log("gzip all", gzipSync(text,{level:9}).length, "gzip w/o strings", gzipSync(noStr,{level:9}).length);
const long = strs.filter(s=>s.length>40);
console.log("long strings", long.length, long.reduce((a,s)=>a+s.length,0), "gzip w/o long", gzipSync(text.replace(re, (s)=> s.length>40?'""':s),{level:9}).length);
import { writeFileSync as w } from "node:fs";
w("/tmp/long.txt", long.sort((a,b)=>b.length-a.length).join("\n"));
