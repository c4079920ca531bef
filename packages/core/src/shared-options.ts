/**
 * What keeps an idle session small. Shared option objects: a server creates thousands of sessions with the
 * same options, and each used to hold its own merged copy of the timeouts and limits (≈300 B per session);
 * {@link sharedMerge} returns one frozen object for equal inputs instead; {@link sharedConfig} and
 * {@link sharedDefinitions} do the same for a session's configuration and its feature list. Flat strings for what a session
 * keeps (`base64url`), and no channel-binding data once online (`withoutChannelBinding`), from `compact-values.ts`.
 * Browser builds map this module to `shared-options.browser.ts` (the package's `browser` field): the same
 * results without the sharing, which pays only with many sessions in one process (a page has one). Internal.
 *
 * @internal
 * @module
 */
import type { XmlLimits } from "@xmpp-sansio/xml";
import type { StreamFeature } from "./features/types.js";
import type { SessionTimeouts } from "./session-types.js";

interface Entry {
  /** A copy of `over` as it was merged (so that a caller who mutates its options object gets a fresh merge). */
  readonly seen: Readonly<Record<string, unknown>>;
  readonly merged: object;
}

const merges = new WeakMap<object, WeakMap<object, Entry>>();

function sameEntries(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.is(a[k], b[k]) || !Object.hasOwn(b, k)) return false;
  return true;
}

/**
 * `Object.freeze({ ...base, ...over })`, the same object for the same `base` and an `over` whose own
 * properties are unchanged since the last call; `base` itself when `over` is undefined. `base` should be
 * frozen (it may be returned).
 * @internal
 */
export function sharedMerge<T extends object>(base: Readonly<Partial<T>>, over: Readonly<Partial<T>> | undefined): Readonly<T> {
  if (over === undefined) return base as Readonly<T>;
  let byOver = merges.get(base);
  if (byOver === undefined) merges.set(base, (byOver = new WeakMap()));
  const hit = byOver.get(over);
  const current = over as Readonly<Record<string, unknown>>;
  if (hit !== undefined && sameEntries(hit.seen, current)) return hit.merged as Readonly<T>;
  const merged = Object.freeze({ ...base, ...over }) as Readonly<T>;
  byOver.set(over, { seen: Object.isFrozen(over) ? current : { ...current }, merged });
  return merged;
}

export { base64url, withoutChannelBinding } from "./compact-values.js";

/** What a session takes from its options and never changes (see {@link sharedConfig}). @internal */
export interface SessionConfig {
  readonly table: object;
  readonly lang: string;
  readonly timeouts: SessionTimeouts;
  readonly fullLimits: Partial<XmlLimits>;
  readonly preAuthLimits: Partial<XmlLimits>;
  readonly randomFill: (bytes: Uint8Array) => void;
  readonly maxPendingOutput: number;
}
/** The configurations in use, by their (shared) timeouts object: a few per process. */
const CONFIGS = new WeakMap<object, SessionConfig[]>();

/** One frozen configuration per distinct content (up to 16 per timeouts object; beyond, `c` itself). @internal */
export function sharedConfig(c: SessionConfig): SessionConfig {
  let list = CONFIGS.get(c.timeouts);
  if (list === undefined) CONFIGS.set(c.timeouts, (list = []));
  for (const x of list) {
    if (x.table === c.table && x.lang === c.lang && x.fullLimits === c.fullLimits && x.preAuthLimits === c.preAuthLimits && x.randomFill === c.randomFill && x.maxPendingOutput === c.maxPendingOutput) return x;
  }
  const frozen = Object.freeze(c);
  if (list.length < 16) list.push(frozen);
  return frozen;
}

/** Arrays of feature definitions in use, by their first definition (a few distinct lists per process). */
const DEFINITION_LISTS = new WeakMap<StreamFeature, StreamFeature[][]>();

/** An exact, shared copy of `defs`: one array per distinct list of definitions (never written to). @internal */
export function sharedDefinitions(defs: StreamFeature[]): StreamFeature[] {
  if (defs.length === 0) return [];
  let lists = DEFINITION_LISTS.get(defs[0]!);
  if (lists === undefined) DEFINITION_LISTS.set(defs[0]!, (lists = []));
  for (const l of lists) if (l.length === defs.length && l.every((d, i) => d === defs[i])) return l;
  const copy = defs.slice();
  if (lists.length < 16) lists.push(copy); // bounded: an application making ever new definitions shares nothing
  return copy;
}

/** Feature halves that hold no state of a session (one object serves every session; see {@link sharedHalf}). */
const SHARED_HALVES = new WeakSet<object>();

/** Marks `half` as stateless, shared by every session: lists of only such halves can be shared too. @internal */
export function sharedHalf<T extends object>(half: T): T {
  SHARED_HALVES.add(half);
  return half;
}

/** Frozen lists of shared halves in use, by the (shared) definitions list they belong to. */
const HALF_LISTS = new WeakMap<readonly StreamFeature[], readonly object[][]>();

/**
 * `list` itself, or an equal frozen list shared by the sessions of the same features when every half in it
 * is a {@link sharedHalf} (an online session whose negotiation halves were replaced). Never write to the
 * result. @internal
 */
export function sharedHalves<H extends object>(defs: readonly StreamFeature[], list: readonly H[]): readonly H[] {
  if (list.length === 0 || !list.every((h) => SHARED_HALVES.has(h))) return list;
  let lists = HALF_LISTS.get(defs) as H[][] | undefined;
  if (lists === undefined) HALF_LISTS.set(defs, (lists = []));
  for (const l of lists) if (l.length === list.length && l.every((h, i) => h === list[i])) return l;
  const frozen = Object.freeze(list.slice()) as H[];
  if (lists.length < 16) lists.push(frozen);
  return frozen;
}
