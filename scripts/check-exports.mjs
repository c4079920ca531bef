// Public-API completeness of built packages (what api-extractor calls "forgotten exports"): every type that
// an exported declaration's .d.ts refers to — a parameter, a property, a base class, a return type, and so
// on transitively — must itself be exported from one of its package's entry points, so consumers can name
// it. Also type-checks every .d.ts with skipLibCheck off (a missing @types dependency fails here).
//
// Used by scripts/pack-check.mjs on the extracted tarballs; runnable alone on the workspace's dist/:
//   node scripts/check-exports.mjs [packages/xml packages/core ...]
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const ts = require("typescript");

/**
 * Names referenced from the public API but exported from no entry point, that are known and owned by
 * another change (reported, not failed): package name → names.
 */
export const KNOWN_FORGOTTEN = {
  // A module-private brand (`typeof PREPARED`) that keeps Jid's constructor out of consumers' reach: by design.
  "@xmpp-sansio/jid": ["PREPARED"],
};

/** The `types` files of a package's `exports` (one per subpath), from its package.json. */
export function entryTypes(pkgDir) {
  const pkg = JSON.parse(readFileSync(path.join(pkgDir, "package.json"), "utf8"));
  const out = [];
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    if (typeof target !== "object" || target === null || typeof target.types !== "string") continue;
    out.push({ subpath, file: path.resolve(pkgDir, target.types) });
  }
  return { name: pkg.name, entries: out };
}

/**
 * Checks the packages in `pkgDirs` (directories with a package.json and built .d.ts files).
 * `types` lists the `@types` packages the consumer has (default `["node"]`); `diagnostics: false` skips
 * the type-check of the .d.ts (when something else does it).
 * Returns `{ diagnostics: string[], forgotten: {pkg, name, file, usedBy}[] }`.
 */
export function checkExports(pkgDirs, { types = ["node"], baseDir = process.cwd(), diagnostics: withDiagnostics = true } = {}) {
  const packages = pkgDirs.map((dir) => {
    const real = realpathSync(dir);
    return { dir: real, ...entryTypes(real) };
  });
  const rootNames = packages.flatMap((p) => p.entries.map((e) => e.file));
  for (const f of rootNames) if (!existsSync(f)) throw new Error(`entry types missing: ${f}`);
  const options = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ["lib.es2023.d.ts"],
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    skipLibCheck: false,
    types,
    typeRoots: [path.join(baseDir, "node_modules", "@types")],
  };
  const program = ts.createProgram({ rootNames, options });
  const checker = program.getTypeChecker();
  const diagnostics = (withDiagnostics ? ts.getPreEmitDiagnostics(program) : []).map((d) => {
    const where = d.file ? `${path.relative(baseDir, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ` : "";
    return `${where}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });

  const ownerOf = (fileName) => {
    const real = realpathSync(fileName);
    return packages.find((p) => real.startsWith(p.dir + path.sep));
  };
  const resolve = (sym) => (sym && sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym);

  // Everything each package exports, from all its entry points.
  const exported = new Map(packages.map((p) => [p, new Set()]));
  const queue = [];
  for (const p of packages) {
    for (const e of p.entries) {
      const sf = program.getSourceFile(e.file);
      const moduleSymbol = sf && checker.getSymbolAtLocation(sf);
      if (!moduleSymbol) continue;
      for (const s of checker.getExportsOfModule(moduleSymbol)) {
        const target = resolve(s);
        exported.get(p).add(target);
        queue.push({ sym: target, via: `${p.name}${e.subpath === "." ? "" : e.subpath.slice(1)} ${s.name}` });
      }
    }
  }

  const forgotten = new Map();
  const visited = new Set();
  const leftmost = (n) => {
    while (ts.isQualifiedName(n) || ts.isPropertyAccessExpression(n)) n = ts.isQualifiedName(n) ? n.left : n.expression;
    return n;
  };
  const referenced = (node) => {
    if (ts.isTypeReferenceNode(node)) return checker.getSymbolAtLocation(leftmost(node.typeName));
    if (ts.isExpressionWithTypeArguments(node)) return checker.getSymbolAtLocation(leftmost(node.expression));
    if (ts.isTypeQueryNode(node)) return checker.getSymbolAtLocation(leftmost(node.exprName));
    if (ts.isImportTypeNode(node)) {
      const t = checker.getTypeFromTypeNode(node);
      return t.aliasSymbol ?? t.getSymbol();
    }
    return undefined;
  };
  while (queue.length > 0) {
    const { sym, via } = queue.shift();
    if (!sym || visited.has(sym)) continue;
    visited.add(sym);
    for (const decl of sym.declarations ?? []) {
      const sf = decl.getSourceFile();
      if (!ownerOf(sf.fileName)) continue; // lib, @types: not ours
      const visit = (node) => {
        // Private members carry no type in a .d.ts; skip `#private` and `private x` anyway.
        if (ts.canHaveModifiers(node) && ts.getModifiers(node)?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return;
        const ref = resolve(referenced(node));
        if (ref && !(ref.flags & ts.SymbolFlags.TypeParameter) && ref.declarations?.length) {
          const declFile = ref.declarations[0].getSourceFile().fileName;
          const owner = ownerOf(declFile);
          if (owner) {
            if (!exported.get(owner).has(ref)) {
              const key = `${owner.name}\0${ref.name}`;
              const entry = forgotten.get(key) ?? { pkg: owner.name, name: ref.name, file: path.relative(owner.dir, declFile), usedBy: new Set() };
              entry.usedBy.add(via);
              forgotten.set(key, entry);
            }
            queue.push({ sym: ref, via: `${owner.name} ${ref.name}` });
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(decl);
    }
  }
  return {
    diagnostics,
    forgotten: [...forgotten.values()].map((f) => ({ ...f, usedBy: [...f.usedBy].sort() })).sort((a, b) => (a.pkg + a.name).localeCompare(b.pkg + b.name)),
  };
}

/** Prints the result; returns the number of failures (diagnostics + forgotten exports not known). */
export function report({ diagnostics, forgotten }, log = console.log) {
  for (const d of diagnostics) log(`  type error in a published .d.ts: ${d}`);
  let failures = diagnostics.length;
  for (const f of forgotten) {
    const known = KNOWN_FORGOTTEN[f.pkg]?.includes(f.name) === true;
    if (!known) failures++;
    log(`  ${known ? "known, not exported" : "NOT EXPORTED"}: ${f.pkg} ${f.name} (${f.file}), used by ${f.usedBy.slice(0, 4).join(", ")}${f.usedBy.length > 4 ? ", …" : ""}`);
  }
  return failures;
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const dirs = process.argv.length > 2 ? process.argv.slice(2) : ["xml", "precis", "jid", "sasl", "core", "im", "adapter", "node", "websocket", "deno", "server"].map((p) => path.join(root, "packages", p));
  // The workspace's package.json exports name dist/*.d.ts under the "types" condition, like the tarballs.
  const failures = report(checkExports(dirs, { baseDir: root }));
  console.log(failures === 0 ? "check-exports: every referenced type is exported" : `check-exports: ${failures} problem(s)`);
  process.exit(failures === 0 ? 0 : 1);
}
