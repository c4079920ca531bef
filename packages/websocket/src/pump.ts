/**
 * Binds one sans-IO session to any transport with nothing but `setTimeout` and a clock: the part of an
 * adapter that is the same in browsers, Deno and Node. Every call into the session goes through
 * {@link SessionPump.interact}; after it, output is written, events are dispatched in order and the one
 * timer is re-armed. Re-entrant calls (an event handler calling `send`) fold into the running pump.
 *
 * @module
 */
import type { SansIoSession } from "@xmpp-sansio/core";

/** The events a pump must understand; everything else is passed through. */
export type PumpEvent = { readonly type: string; readonly tlsBytes?: Uint8Array };

interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  performance?: { now(): number };
}
const timers = globalThis as unknown as Timers;

/** Monotonic milliseconds (`performance.now()`, else `Date.now()`): what `now` means for the core here. */
export function monotonicNow(): number {
  return timers.performance !== undefined ? timers.performance.now() : Date.now();
}

/** Options of {@link SessionPump}. */
export interface SessionPumpOptions<E extends PumpEvent> {
  session: SansIoSession<E>;
  /** Writes one unit of output (a whole message with WebSocket framing). Must not throw. */
  write(data: Uint8Array): void;
  /**
   * Every event but `starttls` and `closed`, in order. May call into the session (via the pump or
   * directly: the pump loops until there is nothing left).
   */
  onEvent(event: E): void;
  /**
   * The session is over: all its output has been written. Close the transport now (gracefully).
   * Called once, with the `closed` event (which `onEvent` gets first).
   */
  onClosed(): void;
  /** Stream framing only: the STARTTLS hand-over. All output so far has been written. */
  onStartTls?(tlsBytes: Uint8Array): void;
  /** Clock. Default {@link monotonicNow}. */
  now?: () => number;
}

/** Runs a session: output, events, timer. Transport-independent. */
export class SessionPump<E extends PumpEvent> {
  readonly session: SansIoSession<E>;
  private readonly opts: SessionPumpOptions<E>;
  private readonly now: () => number;
  private pumping = false;
  private again = false;
  private timer: unknown;
  private timerAt: number | undefined;
  private finished = false;
  private closedSeen = false;
  private transportGone = false;

  constructor(options: SessionPumpOptions<E>) {
    this.opts = options;
    this.session = options.session;
    this.now = options.now ?? monotonicNow;
  }

  /** Whether the session has reported `closed`. */
  get closed(): boolean {
    return this.closedSeen;
  }

  /** Calls into the session with the current time, then pumps. */
  interact(fn: (session: SansIoSession<E>, now: number) => void): void {
    try {
      fn(this.session, this.now());
    } finally {
      this.pump();
    }
  }

  /** The transport is gone (closed by the peer, failed): tells the session once and stops the timer. */
  transportClosed(): void {
    if (this.transportGone) return;
    this.transportGone = true;
    if (this.session.state !== "closed") this.interact((s, now) => s.transportClosed(now));
    else this.pump();
    this.stop();
  }

  /** Stops the timer for good (the transport is closed). */
  stop(): void {
    this.finished = true;
    this.clearTimer();
  }

  /** Writes output, dispatches events until none is left, re-arms the timer. */
  pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        this.flush();
        for (let ev = this.session.pollEvent(); ev !== undefined; ev = this.session.pollEvent()) {
          if (ev.type === "starttls") {
            this.flush();
            this.opts.onStartTls?.(ev.tlsBytes ?? new Uint8Array());
            continue;
          }
          this.opts.onEvent(ev);
          this.flush();
          if (ev.type === "closed" && !this.closedSeen) {
            this.closedSeen = true;
            this.opts.onClosed();
          }
        }
      } while (this.again);
    } finally {
      this.pumping = false;
      this.rearm();
    }
  }

  private flush(): void {
    for (let out = this.session.pollTransmit(); out !== undefined; out = this.session.pollTransmit()) {
      if (!this.transportGone) this.opts.write(out);
    }
  }

  private rearm(): void {
    if (this.finished || this.closedSeen) {
      this.clearTimer();
      return;
    }
    const at = this.session.nextTimeout();
    if (at === this.timerAt) return;
    this.clearTimer();
    if (at === undefined) return;
    this.timerAt = at;
    this.timer = timers.setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = undefined;
        this.interact((s, now) => s.handleTimeout(now));
      },
      Math.max(0, Math.ceil(at - this.now())),
    );
  }

  private clearTimer(): void {
    if (this.timer !== undefined) timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
  }
}
