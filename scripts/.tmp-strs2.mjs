import ts from "typescript";
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
const text = readFileSync("/tmp/min.js", "utf8");
const sf = ts.createSourceFile("m.js", text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
const lits = [];
(function visit(n) {
  if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) lits.push([n.getStart(sf), n.end]);
  else if (ts.isTemplateExpression(n)) { lits.push([n.head.getStart(sf), n.head.end]); for (const s of n.templateSpans) lits.push([s.literal.getStart(sf), s.literal.end]); }
  ts.forEachChild(n, visit);
})(sf);
lits.sort((a,b)=>a[0]-b[0]);
let out = "", last = 0, total = 0; const all = [];
for (const [s,e] of lits) { if (s < last) continue; const t = text.slice(s,e); all.push(t); total += t.length; out += text.slice(last, s) + (t.length > 30 ? '""' : t); last = e; }
out += text.slice(last);
console.log("bytes", text.length, "literal bytes", total, "gzip", gzipSync(text,{level:9}).length, "gzip w/o literals>30", gzipSync(out,{level:9}).length);
writeFileSync("/tmp/lits.txt", all.filter(t=>t.length>30).sort((a,b)=>b.length-a.length).join("\n"));
