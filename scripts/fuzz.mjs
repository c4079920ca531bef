// `pnpm fuzz [parser|negotiation]`: the property suites at scale, 10^6 cases of each by default.
//
//   parser       the xml package's suites with FUZZ_RUNS=10 (their defaults add up to ~10^5)
//   negotiation  core's session-properties suite with FUZZ_RUNS=100 (its defaults add up to 10^4)
//
// FUZZ_SEED=<n> replays a failure (the report prints the seed and the FUZZ_RUNS it ran with); FUZZ_RUNS,
// when set, overrides the factors above. No per-test timeout: a suite at this scale runs for minutes.
import { spawnSync } from "node:child_process";

const runs = {
  parser: { factor: "10", files: ["packages/xml/"] },
  negotiation: { factor: "100", files: ["packages/core/test/session-properties.test.ts"] },
};
const which = process.argv[2] ?? "all";
if (which !== "all" && !(which in runs)) {
  console.error("usage: pnpm fuzz [parser|negotiation]");
  process.exit(2);
}
let status = 0;
for (const [name, { factor, files }] of Object.entries(runs)) {
  if (which !== "all" && which !== name) continue;
  const env = { ...process.env, FUZZ_RUNS: process.env.FUZZ_RUNS ?? factor };
  console.log(`fuzz ${name}: FUZZ_RUNS=${env.FUZZ_RUNS}${env.FUZZ_SEED ? ` FUZZ_SEED=${env.FUZZ_SEED}` : ""} vitest run ${files.join(" ")}`);
  const t0 = Date.now();
  const r = spawnSync("npx", ["vitest", "run", "--testTimeout=0", ...files], { stdio: "inherit", env, shell: process.platform === "win32" });
  console.log(`fuzz ${name}: ${r.status === 0 ? "passed" : "FAILED"} in ${Math.round((Date.now() - t0) / 1000)} s`);
  if (r.status !== 0) status = 1;
}
process.exit(status);
