/**
 * The clock and timers an adapter gives the core, as defaults: the global `setTimeout`/`clearTimeout` and a
 * monotonic millisecond clock. A module of its own so that a binding using only these (the WebSocket
 * package's bare client) does not carry the pump.
 *
 * @module
 */

/** The timer functions a pump uses. Default: the global `setTimeout`/`clearTimeout`. */
export interface PumpTimers {
  /** Runs `fn` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer set with `setTimeout` (a no-op when it already ran). */
  clearTimeout(handle: unknown): void;
}

const globals = globalThis as unknown as PumpTimers & { performance?: { now(): number } };

/** The global timers (any runtime has them). */
export const globalTimers: PumpTimers = {
  setTimeout: (fn, ms) => globals.setTimeout(fn, ms),
  clearTimeout: (handle) => globals.clearTimeout(handle),
};

/**
 * Monotonic whole milliseconds (`performance.now()`, else `Date.now()`): what `now` means for the core here.
 * Whole, so that the times and deadlines every idle session keeps are small integers (no boxed number each).
 */
export function monotonicNow(): number {
  return globals.performance !== undefined ? Math.floor(globals.performance.now()) : Date.now();
}

