// Summarises the growth between two V8 heap snapshots (v8.writeHeapSnapshot) by node type and
// constructor name: self size and count per session. For bench/idle.bench.ts (BENCH_IDLE_SNAPSHOT=1).
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]]; location_fields?: string[] } };
  nodes: number[];
  edges: number[];
  strings: string[];
  locations?: number[];
}

function byConstructor(file: string): Map<string, { size: number; count: number }> {
  const s = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = [fields.indexOf("type"), fields.indexOf("name"), fields.indexOf("self_size")];
  const types = s.snapshot.meta.node_types[0];
  // Property and element backing stores, and closures' contexts, are named after their owner.
  const owner = new Map<number, string>();
  const edgeFields = s.snapshot.meta.edge_fields;
  const edgeWidth = edgeFields.length;
  const [edgeType, edgeName, edgeTo] = [edgeFields.indexOf("type"), edgeFields.indexOf("name_or_index"), edgeFields.indexOf("to_node")];
  const edgeTypes = s.snapshot.meta.edge_types[0];
  const countAt = fields.indexOf("edge_count");
  for (let i = 0, e = 0; i < s.nodes.length; i += width) {
    const ownerName = s.strings[s.nodes[i + nameAt]!]!;
    const ownerType = types[s.nodes[i + typeAt]!]!;
    for (let k = 0; k < s.nodes[i + countAt]!; k++, e += edgeWidth) {
      const et = edgeTypes[s.edges[e + edgeType]!];
      if (et !== "internal") continue;
      const en = s.strings[s.edges[e + edgeName]!];
      if ((en === "properties" || en === "elements" || en === "context") && ownerType !== "hidden") owner.set(s.edges[e + edgeTo]!, `${en} of ${ownerType === "closure" ? "closure" : ownerName}`);
    }
  }
  const locFields = s.snapshot.meta.location_fields ?? [];
  const where = new Map<number, string>();
  if (s.locations !== undefined && locFields.length > 0) {
    const [li, ls, ll, lc] = ["object_index", "script_id", "line", "column"].map((f) => locFields.indexOf(f));
    for (let i = 0; i < s.locations.length; i += locFields.length) where.set(s.locations[i + li!]!, `script ${s.locations[i + ls!]} ${s.locations[i + ll!]! + 1}:${s.locations[i + lc!]! + 1}`);
  }
  const out = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!]!;
    let name = type === "string" || type === "concatenated string" || type === "sliced string" ? "(string)" : s.strings[s.nodes[i + nameAt]!]!;
    if (type === "code" || type === "hidden") name = `(${type})`;
    if (type === "closure") name = `closure ${name} ${where.get(i) ?? ""}`;
    const o = owner.get(i);
    if (o !== undefined && (type === "array" || (type === "object" && name === "system / Context"))) name = `${name} (${o})`;
    if (name.length > 90) name = `${name.slice(0, 87)}...`;
    const key = `${type}:${name}`;
    const e = out.get(key) ?? { size: 0, count: 0 };
    e.size += s.nodes[i + sizeAt]!;
    e.count++;
    out.set(key, e);
  }
  return out;
}

/** The `top` largest growths per session between snapshots `before` and `after`, as a table. */
export function summariseSnapshot(before: string, after: string, sessions: number, top: number): string {
  const a = byConstructor(before);
  const b = byConstructor(after);
  const rows: { key: string; size: number; count: number }[] = [];
  for (const [key, e] of b) {
    const o = a.get(key) ?? { size: 0, count: 0 };
    rows.push({ key, size: (e.size - o.size) / sessions, count: (e.count - o.count) / sessions });
  }
  rows.sort((x, y) => y.size - x.size);
  const total = rows.reduce((t, r) => t + r.size, 0);
  const lines = rows.slice(0, top).map((r) => `  ${r.size.toFixed(0).padStart(7)} B  ${r.count.toFixed(2).padStart(6)}×  ${r.key}`);
  return [...lines, `  ${total.toFixed(0).padStart(7)} B  total per session`].join("\n");
}

// As a script: node --import tsx bench/heap-summary.ts before.heapsnapshot after.heapsnapshot sessions
if (process.argv[1]?.endsWith("heap-summary.ts")) {
  const [before, after, n = "1"] = process.argv.slice(2);
  console.log(summariseSnapshot(before!, after!, Number(n), 40));
}
