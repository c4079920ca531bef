// TypeDoc plugin: the undocumented-export gate. Every reflection of the published API that TypeDoc's own
// `validation.notDocumented` would flag is reported as `file:line:col  Symbol.path (Kind)` — TypeDoc's message
// names the package file but no line, which is not enough to fix a straggler fast. The walk is TypeDoc's
// (same kinds, signatures folded into their declaration, parameters skipped), with three additions:
//
// - A discriminant property (`type`, `kind`) or an Error subclass's `name` whose type is a single string
//   literal documents itself (the literal is the documentation, and the interface's comment says what the
//   event is); it is not required.
// - A member of an anonymous object type (`header: { to?: string; … }`, `listen(): Promise<{ port?: number }>`)
//   is documented by the comment of the declaration that owns the type, like a parameter by its function's:
//   TypeDoc does not read comments written on the same line inside such a type, and writing each field on its
//   own line would reformat code for no reader's gain. It is required when the owner has no comment.
// - A member copied by a mapped type (`Omit<PumpIo, "onClosed">`) loses its comment in TypeDoc's model; it
//   counts as documented when the declaration it was copied from (same file:line:col) is.
//
// Loaded from typedoc.json ("plugin"); `npx -y pnpm@10 docs:check` runs TypeDoc with `--emit none`.
import * as path from "node:path";
import { Application, DeclarationReflection, LiteralType, ReflectionKind, ReflectionType } from "typedoc";

/** Property names whose single-string-literal type is their documentation. */
const SELF_DOCUMENTING = new Set(["type", "kind", "name"]);

/** The kinds TypeDoc requires documentation for, with functions/accessors mapped to their signatures. */
export function requiredKinds(names) {
  let kinds = names.reduce((k, n) => k | ReflectionKind[n], 0);
  if (kinds & ReflectionKind.FunctionOrMethod) kinds = (kinds | ReflectionKind.CallSignature) & ~ReflectionKind.FunctionOrMethod;
  if (kinds & ReflectionKind.Constructor) kinds = (kinds | ReflectionKind.ConstructorSignature) & ~ReflectionKind.Constructor;
  if (kinds & ReflectionKind.Accessor) kinds = (kinds | ReflectionKind.GetSignature | ReflectionKind.SetSignature) & ~ReflectionKind.Accessor;
  return kinds;
}

/** `packages/x/src/y.ts:12:3` of a reflection (its own source, or its parent's for a signature). */
function where(ref, cwd) {
  const src = ref.sources?.[0] ?? ref.parent?.sources?.[0];
  if (!src) return "(no source)";
  const file = src.fullFileName ? path.relative(cwd, src.fullFileName) : src.fileName;
  return `${file}:${src.line}:${src.character + 1}`;
}

/** Whether `ref` is a member of an anonymous object type whose owning declaration (or signature) has a comment. */
function ownedByDocumentedDeclaration(ref) {
  // A method's signature sits under the method: look at the method's parent.
  let r = ref.kindOf(ReflectionKind.SomeSignature) ? ref.parent?.parent : ref.parent;
  if (!r?.kindOf(ReflectionKind.TypeLiteral)) return false;
  for (; r; r = r.parent) {
    // Climb nested literals (`{ a: { b: … } }`) to the first declaration outside any of them.
    if (r.kindOf(ReflectionKind.TypeLiteral) || r.parent?.kindOf(ReflectionKind.TypeLiteral)) continue;
    return r.hasComment() || (r.kindOf(ReflectionKind.SomeSignature) && r.parent?.hasComment() === true);
  }
  return false;
}

/**
 * The undocumented reflections of `project` in `packages`: `{ name, kind, at }`, sorted by place. A member
 * whose declaration is documented where another reflection shows it (`Omit<PumpIo, …>` copies members
 * without their comments) counts as documented.
 */
export function undocumented(project, { kinds, packages, cwd }) {
  const documentedAt = new Set();
  for (const r of project.getReflectionsByKind(ReflectionKind.All)) {
    const hasComment = r.hasComment() || (r.kindOf(ReflectionKind.SomeSignature) && r.parent?.hasComment());
    if (hasComment && r.sources?.[0]) documentedAt.add(where(r, cwd));
  }
  const toProcess = project.getReflectionsByKind(kinds);
  const seen = new Set();
  const reported = new Set();
  const out = [];
  outer: while (toProcess.length > 0) {
    const ref = toProcess.shift();
    if (seen.has(ref)) continue;
    seen.add(ref);
    for (let r = ref.parent; r; r = r.parent) if (r.kindOf(ReflectionKind.Parameter)) continue outer;
    if (ref.kindOf(ReflectionKind.TypeLiteral) && ref.parent?.kindOf(ReflectionKind.TypeAlias)) {
      toProcess.push(ref.parent);
      continue;
    }
    if (ref.kindOf(ReflectionKind.CallSignature) && ref.parent?.kindOf(ReflectionKind.TypeLiteral)) {
      toProcess.push(ref.parent.parent);
      continue;
    }
    if (ref.kindOf(ReflectionKind.ConstructorSignature) && ref.parent?.parent?.kindOf(ReflectionKind.TypeAlias)) {
      toProcess.push(ref.parent.parent);
      continue;
    }
    if (ref instanceof DeclarationReflection) {
      const signatures = ref.type instanceof ReflectionType ? ref.type.declaration.getNonIndexSignatures() : ref.getNonIndexSignatures();
      if (signatures.length > 0) {
        toProcess.push(...signatures);
        if (ref.kindOf(ReflectionKind.SignatureContainer)) continue;
      }
      // A discriminant `type: "online"` (or an error's `name = "JidError"`) is documented by its literal.
      if (ref.kindOf(ReflectionKind.Property) && SELF_DOCUMENTING.has(ref.name) && ref.type instanceof LiteralType && typeof ref.type.value === "string") continue;
    }
    if (ownedByDocumentedDeclaration(ref)) continue;
    const symbolId = project.getSymbolIdFromReflection(ref);
    const hasComment = ref.hasComment() || (ref.kindOf(ReflectionKind.SomeSignature) && ref.parent?.hasComment());
    if (hasComment || !symbolId || !packages.includes(symbolId.packageName)) continue;
    const at = where(ref, cwd);
    // One report per place: inherited copies (`ClientSession.lang`, `ServerSession.lang`) name the same line.
    if (documentedAt.has(at) || reported.has(at)) continue;
    reported.add(at);
    out.push({ name: ref.getFriendlyFullName(), kind: ReflectionKind[ref.kind], at });
  }
  return out.sort((a, b) => a.at.localeCompare(b.at, "en", { numeric: true }));
}

/** @param {Application} app */
export function load(app) {
  app.on(Application.EVENT_VALIDATE_PROJECT, (project) => {
    const cwd = process.cwd();
    const packages = app.options.isSet("packagesRequiringDocumentation") ? app.options.getValue("packagesRequiringDocumentation") : [];
    const kinds = requiredKinds(app.options.getValue("requiredToBeDocumented"));
    for (const m of undocumented(project, { kinds, packages, cwd })) {
      app.logger.error(`${m.at}  ${m.name} (${m.kind}) has no doc comment — say what it is, units, default, errors, RFC/XEP section`);
    }
  });
}
