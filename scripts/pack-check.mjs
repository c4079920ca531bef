#!/usr/bin/env node
// Tests the packages as npm users get them: builds, packs every package with `pnpm pack` (publishConfig
// applied, workspace: ranges replaced), checks each tarball's manifest and files, installs the tarballs
// into a scratch project outside the repository, and there:
//   - Node: imports every entry point (ESM, and require() of ESM), parses a stanza, starts a ClientSession;
//   - TypeScript: type-checks an example with module/moduleResolution node16, nodenext and bundler (with
//     skipLibCheck off, so the published .d.ts are checked too), and a browser-only one (DOM, no @types/node);
//   - the public API: every type the .d.ts refer to is exported (scripts/check-exports.mjs);
//   - esbuild: bundles a browser WebSocket client (nothing from node:* or ws, with or without the "source"
//     condition), and prints its size;
//   - Deno: runs and type-checks a script importing the installed packages (the `deno` npm package);
//   - `pnpm -r publish --dry-run`: every package would publish, in dependency order.
// The only network use is the scratch project's `pnpm install --prefer-offline` (third-party dependencies
// come from pnpm's store when the workspace is installed).
//
//   node scripts/pack-check.mjs [--no-build] [--no-publish] [--keep]
import { execFile, execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { checkExports, report } from "./check-exports.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = new Set(process.argv.slice(2));
const PACKAGES = ["precis", "xml", "jid", "sasl", "core", "im", "adapter", "node", "websocket", "deno", "server"];
const REQUIRED_FIELDS = ["license", "repository", "homepage", "bugs", "keywords", "engines", "description"];

const failures = [];
const fail = (msg) => {
  failures.push(msg);
  console.log(`  FAIL ${msg}`);
};
const t0 = performance.now();
const step = (name) => console.log(`\n# ${name} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

// pnpm: the one running us (npm_execpath under `pnpm test`/`pnpm pack-check`), else npx -y pnpm@10.
const execPath = process.env.npm_execpath ?? "";
const pnpm = /pnpm/.test(path.basename(execPath)) ? [process.execPath, execPath] : ["npx", "-y", "pnpm@10"];
const quiet = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", npm_config_update_notifier: "false" };

function run(cmd, argv, opts = {}) {
  return execFileSync(cmd, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: quiet, maxBuffer: 64 << 20, ...opts });
}
function runAsync(cmd, argv, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, argv, { encoding: "utf8", env: quiet, maxBuffer: 64 << 20, ...opts }, (error, stdout, stderr) =>
      resolve({ code: error ? (error.code ?? 1) : 0, out: `${stdout}${stderr}` }),
    );
  });
}
const tail = (s, n = 40) => s.trim().split("\n").slice(-n).join("\n");

const tmp = mkdtempSync(path.join(tmpdir(), "xmpp-sansio-pack-"));
const tarballs = path.join(tmp, "tarballs");
const app = path.join(tmp, "app");
try {
  // 1. Build and pack.
  if (!args.has("--no-build")) {
    step("build (turbo, cached when up to date)");
    run(pnpm[0], [...pnpm.slice(1), "build", "--output-logs=errors-only"], { cwd: root });
  }
  step("pnpm -r pack");
  run(pnpm[0], [...pnpm.slice(1), "-r", "pack", "--pack-destination", tarballs], { cwd: root });
  const rootLicense = readFileSync(path.join(root, "LICENSE"), "utf8");
  const manifests = new Map();
  for (const name of PACKAGES) {
    const tgz = readdirSync(tarballs).find((f) => f.startsWith(`xmpp-sansio-${name}-`) && /^\d/.test(f.slice(`xmpp-sansio-${name}-`.length)));
    if (tgz === undefined) {
      fail(`no tarball for @xmpp-sansio/${name}`);
      continue;
    }
    const dir = path.join(tmp, "extract", name);
    mkdirSync(dir, { recursive: true });
    run("tar", ["-xzf", path.join(tarballs, tgz), "-C", dir]);
    const pkgDir = path.join(dir, "package");
    const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
    manifests.set(pkg.name, { pkg, tgz, pkgDir });
  }
  step("tarball manifests and files");
  for (const [name, { pkg, pkgDir }] of manifests) {
    const json = JSON.stringify(pkg);
    if (json.includes('"source"')) fail(`${name}: the "source" condition is in the published package.json`);
    if (json.includes("workspace:")) fail(`${name}: a workspace: range is in the published package.json`);
    if (pkg.publishConfig?.exports !== undefined && JSON.stringify(pkg.publishConfig.exports) !== JSON.stringify(pkg.exports)) fail(`${name}: publishConfig.exports not applied`);
    for (const field of REQUIRED_FIELDS) if (pkg[field] === undefined) fail(`${name}: no "${field}"`);
    if (pkg.license !== "MIT") fail(`${name}: license ${pkg.license}`);
    if (!existsSync(path.join(pkgDir, "LICENSE")) || readFileSync(path.join(pkgDir, "LICENSE"), "utf8") !== rootLicense) fail(`${name}: LICENSE missing or not the root's`);
    if (!existsSync(path.join(pkgDir, "README.md"))) fail(`${name}: README.md missing`);
    const targets = [pkg.main, pkg.types, ...Object.values(pkg.bin ?? {})];
    const collect = (v) => (typeof v === "string" ? targets.push(v) : v && typeof v === "object" && Object.values(v).forEach(collect));
    collect(pkg.exports);
    for (const t of targets) if (t !== undefined && !existsSync(path.join(pkgDir, t))) fail(`${name}: ${t} (in package.json) is not in the tarball`);
    for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
      const internal = manifests.get(dep);
      if (internal && range !== internal.pkg.version) fail(`${name}: depends on ${dep}@${range}, packed ${internal.pkg.version}`);
    }
  }
  console.log(`  ${manifests.size} tarballs: ${[...manifests.values()].map((m) => m.tgz).join(" ")}`);

  // 2. A scratch project that installs the tarballs (internal dependencies overridden to the tarballs too).
  step("scratch project: pnpm install of the tarballs");
  mkdirSync(app, { recursive: true });
  const files = Object.fromEntries([...manifests].map(([name, m]) => [name, `file:${path.join(tarballs, m.tgz)}`]));
  const rootPkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  writeFileSync(
    path.join(app, "package.json"),
    JSON.stringify({ name: "pack-check-app", private: true, type: "module", dependencies: files, devDependencies: { "@types/node": rootPkg.devDependencies["@types/node"] }, pnpm: { overrides: files } }, null, 2),
  );
  cpSync(path.join(root, "scripts", "pack-check"), app, { recursive: true });
  const install = await runAsync(pnpm[0], [...pnpm.slice(1), "install", "--prefer-offline", "--ignore-scripts", "--no-frozen-lockfile", "--config.manage-package-manager-versions=false"], { cwd: app });
  if (install.code !== 0) throw new Error(`pnpm install in the scratch project failed:\n${tail(install.out)}`);

  // 3. Two lanes (the machine may have two cores): the child processes below run one after the other in the
  // background — TypeScript configurations, Deno, the publish dry run — while Node, the export check and
  // esbuild run here.
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc");
  const deno = path.join(root, "packages", "deno", "node_modules", ".bin", "deno");
  const denoEnv = { ...quiet, DENO_DIR: path.join(tmp, "deno-dir"), DENO_NO_UPDATE_CHECK: "1" };
  const jobs = ["node16", "nodenext", "bundler", "browser"].map((config) => ({ name: `tsc -p tsconfig.${config}.json`, cmd: process.execPath, argv: [tsc, "-p", `tsconfig.${config}.json`], cwd: app }));
  if (existsSync(deno)) {
    jobs.push({ name: "deno run smoke.deno.ts", cmd: deno, argv: ["run", "--allow-read", "--allow-env", "smoke.deno.ts"], cwd: app, env: denoEnv, expect: /deno smoke ok/ });
    jobs.push({ name: "deno check smoke.deno.ts", cmd: deno, argv: ["check", "smoke.deno.ts"], cwd: app, env: denoEnv });
  } else console.log(`  (deno not installed at ${deno}: Deno checks skipped)`);
  if (!args.has("--no-publish")) jobs.push({ name: "pnpm -r publish --dry-run --no-git-checks", cmd: pnpm[0], argv: [...pnpm.slice(1), "-r", "publish", "--dry-run", "--no-git-checks"], cwd: root, publish: true });
  const lane = (async () => {
    for (const job of jobs) {
      const started = performance.now();
      job.result = await runAsync(job.cmd, job.argv, { cwd: job.cwd, env: job.env ?? quiet });
      job.seconds = (performance.now() - started) / 1000;
    }
  })();

  // … while Node, the export check and esbuild run here.
  step("node: ESM import, require(esm), smoke run");
  const node = await runAsync(process.execPath, ["smoke.node.mjs"], { cwd: app });
  console.log(tail(node.out, 20).replace(/^/gm, "  "));
  if (node.code !== 0 || !/node smoke ok/.test(node.out)) fail("node smoke run");

  step("public API: every referenced type exported");
  const installed = PACKAGES.map((p) => path.join(app, "node_modules", "@xmpp-sansio", p));
  // The .d.ts themselves are type-checked by the tsc runs (example.ts imports every entry point).
  const exportProblems = report(checkExports(installed, { baseDir: app, diagnostics: false }), (l) => console.log(l));
  if (exportProblems > 0) fail(`${exportProblems} public-API problem(s) (see above)`);

  step("esbuild: browser bundle of the WebSocket client (SCRAM)");
  const esbuild = await import(path.join(root, "node_modules", "esbuild", "lib", "main.js")).then((m) => m.default ?? m);
  for (const conditions of [[], ["source"]]) {
    const result = await esbuild.build({
      entryPoints: [path.join(app, "browser.ts")],
      absWorkingDir: app,
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      conditions,
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    const leaked = inputs.filter((i) => /(^|\/)(node:|ws\/|@types\/)|\.ts$/.test(i) && !i.endsWith("browser.ts"));
    if (leaked.length > 0) fail(`browser bundle (conditions ${JSON.stringify(conditions)}) pulled in ${leaked.slice(0, 5).join(", ")}`);
    const bytes = result.outputFiles[0].contents;
    console.log(`  conditions ${JSON.stringify(conditions)}: ${inputs.length} modules, ${bytes.length} bytes minified, ${gzipSync(bytes, { level: 9 }).length} bytes gzip`);
  }

  await lane;
  for (const job of jobs) {
    step(`${job.name} (took ${job.seconds.toFixed(1)} s)`);
    const r = job.result;
    if (job.publish) {
      const order = [...r.out.matchAll(/^\+ (@xmpp-sansio\/[a-z]+)@/gm)].map((m) => m[1]);
      console.log(`  would publish, in this order: ${order.join(" ")}`);
      if (r.code !== 0) fail(`publish dry run exited ${r.code}:\n${tail(r.out)}`);
      for (const [name, { pkg }] of manifests) {
        const at = order.indexOf(name);
        if (at < 0) fail(`publish dry run: ${name} missing`);
        for (const dep of Object.keys(pkg.dependencies ?? {})) if (manifests.has(dep) && order.indexOf(dep) > at) fail(`publish dry run: ${name} before its dependency ${dep}`);
      }
      continue;
    }
    if (r.out.trim() !== "") console.log(tail(r.out).replace(/^/gm, "  "));
    if (r.code !== 0 || (job.expect && !job.expect.test(r.out))) fail(job.name);
  }
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
} finally {
  if (args.has("--keep")) console.log(`\nkept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
const secs = ((performance.now() - t0) / 1000).toFixed(1);
console.log(failures.length === 0 ? `\npack-check: all checks passed in ${secs} s` : `\npack-check: ${failures.length} failure(s) in ${secs} s:\n${failures.map((f) => `  - ${f.split("\n")[0]}`).join("\n")}`);
process.exit(failures.length === 0 ? 0 : 1);
