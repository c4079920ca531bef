/**
 * The browser build of `shared-options.ts` (the package's `browser` field maps it here): the same results
 * — frozen merges, frozen configurations, copies of feature lists — without the sharing between sessions,
 * whose caches pay only with thousands of sessions in one process (a page runs one client session).
 * Held to `shared-options.ts` by `test/shared-options-browser.property.test.ts`. Internal.
 *
 * @internal
 * @module
 */
import type { StreamFeature } from "./features/types.js";
import type { SessionConfig } from "./shared-options.js";

export { base64url, withoutChannelBinding } from "./compact-values.js";
export type { SessionConfig } from "./shared-options.js";

/** `Object.freeze({ ...base, ...over })`, or `base` itself when `over` is undefined. @internal */
export function sharedMerge<T extends object>(base: Readonly<Partial<T>>, over: Readonly<Partial<T>> | undefined): Readonly<T> {
  return (over === undefined ? base : Object.freeze({ ...base, ...over })) as Readonly<T>;
}

/** The configuration, frozen. @internal */
export function sharedConfig(c: SessionConfig): SessionConfig {
  return Object.freeze(c);
}

/** A copy of `defs` (never written to). @internal */
export function sharedDefinitions(defs: StreamFeature[]): StreamFeature[] {
  return defs.slice();
}

/** `half` itself. @internal */
export function sharedHalf<T extends object>(half: T): T {
  return half;
}

/** `list` itself. @internal */
export function sharedHalves<H extends object>(_defs: readonly StreamFeature[], list: readonly H[]): readonly H[] {
  return list;
}
