#!/usr/bin/env node
// Bundle size of a browser client (WebSocket + SCRAM): esbuild bundles packages/websocket/bench/size-client.ts (the
// default client) and size-client-minimal.ts (what a small chat page composes itself) for the browser (minified,
// ES2022) and prints, for each, the total minified and gzip sizes, then where the bytes go —
// per package and per module, minified and gzip. A module's gzip share is measured by gzipping its own
// output bytes (found through the source map) alone; shares add up to a little more than the total, as
// gzip finds fewer repeats in each part than in the whole. Figures only, never asserted.
//
//   node scripts/bundle-size.mjs [--conditions=source] [--top=25] [--metafile=out.json] [--only=default|minimal|bare]
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback;
const conditions = arg("conditions", "source")
  .split(",")
  .filter((c) => c !== "");
const top = Number(arg("top", "25"));
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
const kb = (n) => `${(n / 1000).toFixed(1)} KB`;

/** Bundles `entry` for the browser; returns the output bytes, the metafile and the decoded source map. */
export async function bundle(entry, { conditions: conds = conditions, plugins = [] } = {}) {
  const result = await esbuild.build({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: conds,
    sourcemap: "external",
    outfile: path.join(root, ".tmp", "bundle-size.js"),
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins,
  });
  const js = result.outputFiles.find((f) => f.path.endsWith(".js")).contents;
  const map = JSON.parse(new TextDecoder().decode(result.outputFiles.find((f) => f.path.endsWith(".map")).contents));
  return { js, metafile: result.metafile, map };
}

const B64 = Object.fromEntries([..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].map((c, i) => [c, i]));
/** Which source each output byte came from: an array of source indexes (-1: none), from the v3 source map. */
function bytesBySource(js, map) {
  const text = new TextDecoder().decode(js);
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const owner = new Int32Array(text.length).fill(-1);
  let source = 0;
  const segments = [];
  map.mappings.split(";").forEach((line, lineNo) => {
    let col = 0;
    for (const seg of line.split(",")) {
      if (seg === "") continue;
      const values = [];
      let value = 0;
      let shift = 0;
      for (const c of seg) {
        const d = B64[c];
        value += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          values.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      col += values[0];
      if (values.length > 1) source += values[1];
      segments.push([lineStarts[lineNo] + col, values.length > 1 ? source : -1]);
    }
  });
  for (let i = 0; i < segments.length; i++) {
    const [start, src] = segments[i];
    const end = i + 1 < segments.length ? segments[i + 1][0] : text.length;
    owner.fill(src, start, end);
  }
  // Positions are UTF-16 offsets; the bundle is ASCII after minification (esbuild escapes the rest).
  return { owner, text };
}

const packageOf = (file) => {
  const dep = [...file.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].at(-1);
  if (dep) return dep[1];
  const ours = /packages\/([^/]+)\//.exec(file);
  return ours ? `@xmpp-sansio/${ours[1]}` : file;
};

const ENTRIES = [
  { name: "default", file: "size-client.ts", title: "browser client (WebSocket + SCRAM, the defaults: XEP-0156, SASL2/FAST, SM, reconnect)" },
  { name: "minimal", file: "size-client-minimal.ts", title: "minimal browser client (WebSocketClient with its service, SCRAM-SHA-256)" },
  { name: "bare", file: "size-client-bare.ts", title: "bare browser client (connectBareClient: the core session on the page's WebSocket, SCRAM-SHA-256)" },
];

async function main() {
  const only = arg("only", "");
  const summary = [];
  for (const e of ENTRIES.filter((e) => only === "" || e.name === only)) {
    summary.push([e.name, await report(e)]);
    console.log("");
  }
  for (const [name, [min, gzip]] of summary) console.log(`${name.padEnd(8)} ${String(min).padStart(7)} bytes minified ${String(gzip).padStart(6)} bytes gzip -9 (${kb(gzip)})`);
}

/** Prints one entry's figures; returns [minified, gzip]. */
async function report({ name, file, title }) {
  const entry = path.join(root, "packages", "websocket", "bench", file);
  const { js, metafile, map } = await bundle(entry);
  const total = gz(js);
  console.log(`${name}: ${title} — bench/${file}, esbuild --minify --target=es2022, conditions ${JSON.stringify(conditions)}:`);
  console.log(`  ${js.length} bytes minified, ${total} bytes gzip -9 (${kb(total)})`);
  const metafileOut = arg("metafile", "");
  if (metafileOut !== "") writeFileSync(metafileOut.replace(/(\.json)?$/, `.${name}$1`), JSON.stringify(metafile));

  const { owner, text } = bytesBySource(js, map);
  const perSource = map.sources.map(() => []);
  for (let i = 0; i < text.length; i++) if (owner[i] >= 0) perSource[owner[i]].push(i);
  const slice = (positions) => Buffer.from(positions.map((i) => text[i]).join(""));
  const modules = map.sources.map((s, i) => ({ file: path.relative(root, path.resolve(root, ".tmp", s)), positions: perSource[i] })).filter((m) => m.positions.length > 0);
  const packages = new Map();
  for (const m of modules) {
    const p = packageOf(m.file);
    packages.set(p, [...(packages.get(p) ?? []), ...m.positions]);
  }
  const rows = [...packages].map(([name, pos]) => ({ name, min: pos.length, gzip: gz(slice(pos.sort((a, b) => a - b))) })).sort((a, b) => b.gzip - a.gzip);
  console.log("\nper package (gzip share measured alone):");
  for (const r of rows) console.log(`  ${r.name.padEnd(26)} ${String(r.min).padStart(7)} min ${String(r.gzip).padStart(6)} gzip  ${((100 * r.gzip) / total).toFixed(0).padStart(3)}%`);
  const files = modules.map((m) => ({ file: m.file, min: m.positions.length, gzip: gz(slice(m.positions)) })).sort((a, b) => b.gzip - a.gzip);
  console.log(`\ntop ${top} modules:`);
  for (const f of files.slice(0, top)) console.log(`  ${f.file.replace(/^node_modules\/\.pnpm\/[^/]+\/node_modules\//, "").padEnd(48)} ${String(f.min).padStart(7)} min ${String(f.gzip).padStart(6)} gzip`);
  const inputs = Object.keys(metafile.inputs).length;
  console.log(`\n${inputs} modules in the bundle; unused exports and modules are dropped by tree-shaking (sideEffects: false).`);
  return [js.length, total];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  readFileSync(path.join(root, "package.json")); // run from a checkout
  await main();
}
