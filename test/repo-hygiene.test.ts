// The repository as committed: no file keeps the markers of an unresolved merge or revert (a README once did).
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

describe("repository hygiene", () => {
  it("no tracked file contains conflict markers", () => {
    let found = "";
    try {
      // git grep exits 1 when nothing matches.
      found = execFileSync("git", ["grep", "-n", "-I", "-E", "^(<{7}|>{7}) ", "--", ".", ":!pnpm-lock.yaml"], { cwd: root, encoding: "utf8" });
    } catch (e) {
      if ((e as { status?: number }).status !== 1) throw e;
    }
    expect(found).toBe("");
  });
});
