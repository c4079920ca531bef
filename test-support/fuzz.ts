// Run count and seed of the fast-check property suites, from the environment, so that CI runs a fixed
// budget and a laptop can run far more (FUZZ_RUNS=100 multiplies every suite's default by 100).
//
//   FUZZ_RUNS=<factor>  multiplies each suite's default number of runs (default 1; fractions allowed)
//   FUZZ_SEED=<int>     fixes the seed (default: a fresh random seed per suite, printed on failure)
//
// fast-check prints the seed and the counterexample path of a failure in its error message; `fuzz()`
// also names the variables to set to replay it.
import fc from "fast-check";

function envNumber(name: string): number | undefined {
  const v = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${name} must be a positive number, got '${v}'`);
  return n;
}

/** The factor FUZZ_RUNS gives (1 by default). */
export function fuzzFactor(): number {
  return envNumber("FUZZ_RUNS") ?? 1;
}

/**
 * fast-check parameters for a property suite whose default budget is `runs` cases: the count is scaled by
 * `FUZZ_RUNS`, the seed is `FUZZ_SEED` or a fresh one; on failure the report names both so the run can be
 * replayed exactly (`FUZZ_SEED=… FUZZ_RUNS=… npx vitest run <file>`).
 */
export function fuzz<T = unknown>(runs: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  const numRuns = Math.max(1, Math.round(runs * fuzzFactor()));
  const seed = envNumber("FUZZ_SEED") ?? (Math.random() * 0x7fffffff) | 0;
  return {
    ...extra,
    numRuns,
    seed,
    reporter(details) {
      if (details.failed) {
        const cause = details.errorInstance instanceof Error ? `
${details.errorInstance.message}` : "";
        throw new Error(`${fc.defaultReportMessage(details)}${cause}
replay with: FUZZ_SEED=${seed} FUZZ_RUNS=${fuzzFactor()} npx vitest run --testTimeout=0 <this file>`);
      }
    },
  };
}
