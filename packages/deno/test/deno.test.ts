// Runs the Deno test files (test-deno/*_test.ts) with the `deno` binary from npm, so that the project's one
// test command covers them. Servers the Deno tests talk to are started here (Node) and passed via env.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DENO = path.join(pkg, "node_modules", ".bin", "deno");

/** Runs `deno test` on the given files; resolves with the exit code and the combined output. */
export function denoTest(files: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(DENO, ["test", "--allow-net", "--allow-env", "--allow-read", ...files], {
      cwd: pkg,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe.skipIf(!existsSync(DENO))("deno test", () => {
  it("runs Deno tests over the workspace sources", async () => {
    const { code, output } = await denoTest(["test-deno/trivial_test.ts"]);
    expect(output).toMatch(/ok \| 1 passed \| 0 failed/);
    expect(code, output).toBe(0);
  });
});
