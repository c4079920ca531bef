import { defineConfig } from "vitest/config";
import SummaryReporter from "./scripts/summary-reporter.js";

// One vitest run over every package; workspace packages resolve to their TypeScript sources through the
// "source" export condition, so tests never need a prior build.
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: ["default", new SummaryReporter()],
  },
});
