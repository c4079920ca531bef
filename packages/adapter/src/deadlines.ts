/**
 * One timer for many sessions: a server holds thousands of idle sessions, each with a deadline (the
 * keepalive probe, the negotiation or close timeout); a runtime timer object per session costs more than
 * the deadline itself. {@link DeadlineScheduler} keeps the deadlines as numbers in a binary min-heap and
 * one runtime timer armed to the earliest, and calls each {@link DeadlineTarget} when its time comes — at
 * the same instant its own `setTimeout` would have.
 *
 * @module
 */
import { globalTimers, monotonicNow, type PumpTimers } from "./timers.js";

/**
 * What a {@link DeadlineScheduler} calls back (the adapter's `SessionPump`). The scheduler keeps its heap
 * position in `deadlineSlot` (-1: not scheduled) — a field on the target, so that no entry object exists.
 */
export interface DeadlineTarget {
  /** @internal the scheduler's bookkeeping: index in its heap, -1 when not in it */
  deadlineSlot: number;
  /** The instant wanted now (`undefined`: none). A later instant than the heap's is noticed when it fires. */
  readonly deadlineAt: number | undefined;
  /** The deadline has come (`now` ≥ `deadlineAt`). */
  handleDeadline(now: number): void;
}

/**
 * Deadlines of many targets behind one runtime timer. {@link schedule} and {@link cancel} are O(log n); a
 * deadline that moves later (a keepalive pushed back by every input) costs nothing until it fires: the
 * heap keeps the earlier instant, and when that comes the target is put back at its current one.
 */
export class DeadlineScheduler {
  private readonly items: DeadlineTarget[] = [];
  private readonly keys: number[] = [];
  private readonly timers: PumpTimers;
  private readonly clock: () => number;
  private timer: unknown;
  private armedAt: number | undefined;
  private firing = false;
  private stopped = false;
  private readonly unref: boolean;
  private readonly onTimer = (): void => this.fire();

  /**
   * `timers`: the one runtime timer (default: the global `setTimeout`); `now`: the clock the deadlines are
   * on (default {@link monotonicNow}); `unref`: the timer does not keep a Node process alive.
   */
  constructor(options: { timers?: PumpTimers; now?: () => number; unref?: boolean } = {}) {
    this.timers = options.timers ?? globalTimers;
    this.clock = options.now ?? monotonicNow;
    this.unref = options.unref === true;
  }

  /** Targets with a deadline (for tests and metrics). */
  get size(): number {
    return this.items.length;
  }

  /** Calls `target.handleDeadline(now)` at `at` (replacing its earlier deadline, if any). */
  schedule(target: DeadlineTarget, at: number): void {
    if (this.stopped) return;
    const i = target.deadlineSlot;
    if (i < 0) {
      const n = this.items.length;
      this.items.push(target);
      this.keys.push(at);
      target.deadlineSlot = n;
      this.up(n);
    } else if (at < this.keys[i]!) {
      this.keys[i] = at;
      this.up(i);
    } else return; // later: noticed when the earlier instant comes
    this.arm();
  }

  /** Forgets `target`'s deadline. */
  cancel(target: DeadlineTarget): void {
    const i = target.deadlineSlot;
    if (i < 0) return;
    this.removeAt(i);
    this.arm();
  }

  /** Cancels every deadline and the runtime timer for good (the server is closing). */
  stop(): void {
    this.stopped = true;
    for (const t of this.items) t.deadlineSlot = -1;
    this.items.length = 0;
    this.keys.length = 0;
    this.clearTimer();
  }

  private removeAt(i: number): void {
    const items = this.items;
    const keys = this.keys;
    items[i]!.deadlineSlot = -1;
    const last = items.length - 1;
    if (i !== last) {
      items[i] = items[last]!;
      keys[i] = keys[last]!;
      items[i]!.deadlineSlot = i;
    }
    items.pop();
    keys.pop();
    if (i < items.length) {
      this.up(i);
      this.down(items[i]!.deadlineSlot);
    }
  }

  private fire(): void {
    this.timer = undefined;
    this.armedAt = undefined;
    const now = this.clock();
    // Take every due target out first, then call them: a target that schedules itself again (even for a
    // time already past) is handled at the next turn, never in a loop here.
    const due: DeadlineTarget[] = [];
    this.firing = true;
    try {
      while (this.items.length > 0 && this.keys[0]! <= now) {
        const t = this.items[0]!;
        this.removeAt(0);
        const at = t.deadlineAt;
        if (at === undefined) continue;
        if (at > now) {
          // Moved later since it was scheduled: back in at its current instant.
          const n = this.items.length;
          this.items.push(t);
          this.keys.push(at);
          t.deadlineSlot = n;
          this.up(n);
        } else due.push(t);
      }
    } finally {
      this.firing = false;
    }
    for (const t of due) t.handleDeadline(now);
    this.arm();
  }

  private arm(): void {
    if (this.firing) return;
    if (this.items.length === 0) {
      this.clearTimer();
      return;
    }
    const at = this.keys[0]!;
    if (at === this.armedAt) return;
    this.clearTimer();
    this.armedAt = at;
    const handle = this.timers.setTimeout(this.onTimer, Math.max(0, Math.ceil(at - this.clock())));
    if (this.unref) (handle as { unref?: () => void } | undefined)?.unref?.();
    this.timer = handle;
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = undefined;
  }

  private up(i: number): void {
    const items = this.items;
    const keys = this.keys;
    const t = items[i]!;
    const k = keys[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p]! <= k) break;
      items[i] = items[p]!;
      keys[i] = keys[p]!;
      items[i]!.deadlineSlot = i;
      i = p;
    }
    items[i] = t;
    keys[i] = k;
    t.deadlineSlot = i;
  }

  private down(i: number): void {
    const items = this.items;
    const keys = this.keys;
    const n = items.length;
    const t = items[i]!;
    const k = keys[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && keys[c + 1]! < keys[c]!) c++;
      if (keys[c]! >= k) break;
      items[i] = items[c]!;
      keys[i] = keys[c]!;
      items[i]!.deadlineSlot = i;
      i = c;
    }
    items[i] = t;
    keys[i] = k;
    t.deadlineSlot = i;
  }
}
