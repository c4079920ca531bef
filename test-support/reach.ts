// The objects a root reaches through own data properties, arrays and maps — how the memory tests tell what
// one session or connection holds of its own (walk two, keep what only one reaches).

/** Options of {@link reachable}. */
export interface ReachOptions {
  /** Objects not entered nor counted (e.g. what the server or another session reaches). */
  readonly skip?: ReadonlySet<unknown>;
  /** Objects counted but not entered (e.g. sockets). */
  readonly stopAt?: (v: object) => boolean;
}

/** Every object reachable from `root` through own data properties, array elements and map entries. */
export function reachable(root: object, options: ReachOptions = {}): Set<object> {
  const seen = new Set<object>();
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== "object" || seen.has(v) || options.skip?.has(v)) continue;
    seen.add(v);
    if (options.stopAt?.(v)) continue;
    if (v instanceof Map) for (const [k, x] of v) stack.push(k, x);
    for (const key of Reflect.ownKeys(v)) {
      const d = Object.getOwnPropertyDescriptor(v, key)!;
      if ("value" in d) stack.push(d.value);
    }
  }
  return seen;
}
