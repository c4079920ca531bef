// scripts/check-exports.mjs on fixture packages: a type reached from the public API but exported from no
// entry point is reported (directly, through a base class, transitively, across packages); exported or
// type-parameter references are not; a .d.ts type error is reported.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script without declarations
import { checkExports } from "../scripts/check-exports.mjs";

interface Forgotten {
  pkg: string;
  name: string;
  usedBy: string[];
}
const check = checkExports as (dirs: string[], options: { types: string[]; baseDir: string }) => { diagnostics: string[]; forgotten: Forgotten[] };

function writePackage(dir: string, name: string, exportsMap: Record<string, string>, files: Record<string, string>): string {
  const pkgDir = path.join(dir, "node_modules", ...name.split("/"));
  mkdirSync(pkgDir, { recursive: true });
  const exportsField = Object.fromEntries(Object.entries(exportsMap).map(([sub, types]) => [sub, { types, default: types.replace(/\.d\.ts$/, ".js") }]));
  writeFileSync(path.join(pkgDir, "package.json"), JSON.stringify({ name, version: "1.0.0", type: "module", exports: exportsField }));
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(pkgDir, file), text);
  return pkgDir;
}

describe("check-exports", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "check-exports-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reports referenced types that no entry point exports, and only those", () => {
    const a = writePackage(dir, "@fx/a", { ".": "./index.d.ts", "./extra": "./extra.d.ts" }, {
      "index.d.ts": `export { Client, type Options } from "./client.js";\nexport type { Shared } from "./shared.js";\n`,
      "extra.d.ts": `export type { ViaSubpath } from "./shared.js";\n`,
      "client.d.ts": `import type { Hidden, Base, Shared, ViaSubpath } from "./shared.js";
import type { make } from "@fx/b";
export interface Options { hidden: Hidden; shared: Shared; sub: ViaSubpath; other: ReturnType<typeof make>; generic<T>(x: T): T }
export declare class Client extends Base { constructor(o: Options); private secret; }
`,
      "shared.d.ts": `export interface Hidden { deeper: Deeper }
export interface Deeper { n: number }
export declare class Base { protected x: number }
export interface Shared { s: string }
export interface ViaSubpath { v: 1 }
`,
    });
    const b = writePackage(dir, "@fx/b", { ".": "./index.d.ts" }, {
      "index.d.ts": `import type { Other } from "./other.js";\nexport declare function make(): Other;\nexport declare function make2(): import("./other.js").ByImportType;\n`,
      "other.d.ts": `export interface Other { o: true }\nexport interface ByImportType { i: true }\n`,
    });
    const result = check([a, b], { types: [], baseDir: dir });
    expect(result.diagnostics).toEqual([]);
    const names = result.forgotten.map((f) => `${f.pkg} ${f.name}`).sort();
    expect(names).toEqual(["@fx/a Base", "@fx/a Deeper", "@fx/a Hidden", "@fx/b ByImportType", "@fx/b Other"]);
    expect(result.forgotten.find((f) => f.name === "Deeper")!.usedBy).toEqual(["@fx/a Hidden"]);
  });

  it("reports a type error in a .d.ts (e.g. a module whose types are missing)", () => {
    const c = writePackage(dir, "@fx/c", { ".": "./index.d.ts" }, {
      "index.d.ts": `import type { WebSocket } from "not-installed";\nexport declare const socket: WebSocket;\n`,
    });
    const result = check([c], { types: [], baseDir: dir });
    expect(result.diagnostics.join("\n")).toMatch(/not-installed/);
  });
});
