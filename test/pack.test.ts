// The packages as npm users get them: scripts/pack-check.mjs builds, packs every package, installs the
// tarballs in a scratch project outside the repository and checks them there with Node (ESM and
// require), TypeScript (node16, nodenext, bundler, a DOM-only browser config), the public-API export
// check, an esbuild browser bundle and Deno, then runs `pnpm -r publish --dry-run`. SKIP_PACK_CHECK=1 skips it.
import { spawn } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function packCheck(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, "scripts", "pack-check.mjs")], { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe.skipIf(process.env.SKIP_PACK_CHECK === "1")("packed tarballs", () => {
  it("install and work in a scratch project: Node, TypeScript, browser bundle, Deno; publish dry run in order", async () => {
    const { code, output } = await packCheck();
    expect(output, output).toMatch(/pack-check: all checks passed/);
    expect(output).toMatch(/would publish, in this order: @xmpp-sansio\/precis .*@xmpp-sansio\/server/);
    expect(code, output).toBe(0);
  }, 600_000);
});
