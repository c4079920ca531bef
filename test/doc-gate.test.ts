// The undocumented-export gate (scripts/typedoc-doc-gate.mjs) on a fixture: it reports exactly the missing
// comments, each once with its file:line, and applies its three rules (discriminant literals, anonymous object
// types covered by their owner's comment, members copied by Omit<> counted where declared).
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { Application, TSConfigReader } from "typedoc";
import { describe, expect, it } from "vitest";
import { requiredKinds, undocumented } from "../scripts/typedoc-doc-gate.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const fixture = path.join(root, "test/fixtures/doc-gate");

describe("doc gate", () => {
  it("reports every undocumented member of the fixture with file:line, and nothing else", async () => {
    const app = await Application.bootstrapWithPlugins({
      entryPoints: [path.join(fixture, "index.ts")],
      tsconfig: path.join(fixture, "tsconfig.json"),
      skipErrorChecking: true,
      excludePrivate: true,
      logLevel: "Warn",
      plugin: [],
    }, [new TSConfigReader()]); // not the repository's typedoc.json
    const project = await app.convert();
    expect(project).toBeDefined();
    const kinds = requiredKinds(app.options.getValue("requiredToBeDocumented"));
    const found: { name: string; at: string }[] = undocumented(project, { kinds, packages: ["@fixture/doc-gate"], cwd: root });
    expect(found.map((f) => `${f.at} ${f.name}`)).toEqual([
      "test/fixtures/doc-gate/index.ts:6:17 undocumentedFunction",
      "test/fixtures/doc-gate/index.ts:11:12 SomeEvent.count",
      "test/fixtures/doc-gate/index.ts:14:12 SomeEvent.loose",
      "test/fixtures/doc-gate/index.ts:14:30 SomeEvent.loose.__type.inner",
      "test/fixtures/doc-gate/index.ts:21:3 Hooks.onOther",
      "test/fixtures/doc-gate/index.ts:31:12 Thing.b",
      "test/fixtures/doc-gate/index.ts:32:13 Thing.c",
    ]);
  }, 60_000);
});
