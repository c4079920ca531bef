/**
 * Binds one sans-IO session to any transport with nothing but a clock and `setTimeout`: the part of an
 * adapter that is the same in browsers, Deno and Node. Every call into the session goes through
 * {@link SessionPump.interact} (or {@link SessionPump.guarded}); after it, output is written, events are
 * dispatched in order and the one timer is re-armed. Re-entrant calls (an event handler calling `send`)
 * fold into the running pump. Write back-pressure is optional: a `write` that returns `false` stops the
 * draining of output (it stays in the session's buffer, which the core caps) until {@link SessionPump.resume}.
 *
 * @module
 */
import { defineBitFlags, type SansIoSession } from "@xmpp-sansio/core";
import type { DeadlineScheduler, DeadlineTarget } from "./deadlines.js";
import { globalTimers, monotonicNow, type PumpTimers } from "./timers.js";

/** The events a pump must understand (`starttls`, `closed`); everything else is passed through. */
export type PumpEvent = {
  /** The event's name (`starttls` and `closed` mean something to the pump). */
  readonly type: string;
  /** With `starttls`: bytes that arrived after the STARTTLS boundary; they belong to the TLS handshake. */
  readonly tlsBytes?: Uint8Array;
};

/** What a transport gives a pump: how to write, and what to do at the session's turning points. */
export interface PumpIo<E extends PumpEvent = PumpEvent> {
  /**
   * Writes one unit of output (a whole message with WebSocket framing). Must not throw. Return `false` when
   * the transport is full (back-pressure): no more output is taken from the session until `resume()`.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a write function may return nothing; only an explicit false means back-pressure
  write(data: Uint8Array): boolean | undefined | void;
  /**
   * The session is over (`closed` event, which `onEvent` got first): all its output has been written
   * (back-pressure notwithstanding). Close the transport now (gracefully). Called once.
   */
  onClosed(event: E): void;
  /**
   * Stream framing only: the STARTTLS hand-over (RFC 6120 §5.4.3.3). All output so far has been written; start TLS
   * on the socket, feed it `tlsBytes` first, then call the session's `tlsEstablished`.
   */
  onStartTls?(tlsBytes: Uint8Array): void;
  /**
   * An exception thrown by the session or an event handler during a {@link SessionPump.guarded} call
   * (timers, transport input): nobody to throw to. Without it such exceptions propagate.
   */
  onError?(error: unknown): void;
}

/** Options of {@link SessionPump}. */
export interface SessionPumpOptions<E extends PumpEvent> extends PumpIo<E> {
  /** The sans-IO session (client or server role) this pump drives. */
  session: SansIoSession<E>;
  /**
   * Every event but `starttls`, in order. May call into the session (via the pump or directly: the pump
   * loops until there is nothing left).
   */
  onEvent(event: E): void;
  /** Clock. Default {@link monotonicNow}. */
  now?: () => number;
  /** Timers. Default {@link globalTimers}. */
  timers?: PumpTimers;
  /**
   * One timer shared by many pumps (a server's): the session's deadline is kept as a number there instead
   * of a runtime timer per session. Default: a timer of `timers` per pump.
   */
  scheduler?: DeadlineScheduler;
}

/** Runs a session: output, events, timer. Transport-independent. */
export class SessionPump<E extends PumpEvent> implements DeadlineTarget {
  /** The session driven. */
  readonly session: SansIoSession<E>;
  /** @internal the shared scheduler's heap index (-1: not scheduled) */
  deadlineSlot = -1;
  private readonly opts: SessionPumpOptions<E>;
  /** @internal six flags in one number (`defineBitFlags` below): an idle server holds one pump per connection. */
  protected bits = 0;
  declare private pumping: boolean;
  declare private again: boolean;
  declare private blocked: boolean;
  declare private finished: boolean;
  declare private closedSeen: boolean;
  declare private transportGone: boolean;
  private timer: unknown;
  private timerAt: number | undefined;

  constructor(options: SessionPumpOptions<E>) {
    this.opts = options;
    this.session = options.session;
  }

  // The clock, timers and scheduler are read from the options (no copies per pump).
  private clock(): number {
    return this.opts.now === undefined ? monotonicNow() : this.opts.now();
  }

  private get timers(): PumpTimers {
    return this.opts.timers ?? globalTimers;
  }

  private get scheduler(): DeadlineScheduler | undefined {
    return this.opts.scheduler;
  }

  /** @internal the instant the session wants `handleTimeout` (for the shared scheduler) */
  get deadlineAt(): number | undefined {
    return this.timerAt;
  }

  /** @internal the shared scheduler's call: the session's deadline has come */
  handleDeadline(now: number): void {
    this.timerAt = undefined;
    this.guarded((s) => s.handleTimeout(now));
  }

  /** Whether the session has reported `closed`. */
  get closed(): boolean {
    return this.closedSeen;
  }

  /** The pump's clock. */
  now(): number {
    return this.clock();
  }

  /** Calls into the session with the current time, then pumps. Exceptions go to the caller. */
  interact(fn: (session: SansIoSession<E>, now: number) => void): void {
    try {
      fn(this.session, this.clock());
    } finally {
      this.pump();
    }
  }

  /**
   * Like {@link SessionPump.interact}, for calls a transport or a timer makes (no caller to throw to): an
   * exception goes to `onError` (if given; else it propagates).
   */
  guarded(fn: (session: SansIoSession<E>, now: number) => void): void {
    try {
      this.interact(fn);
    } catch (err) {
      if (this.opts.onError === undefined) throw err;
      this.opts.onError(err);
    }
  }

  /** Ends the session with a stream error of ours (the core's `abort`): it is written, then `onClosed`. */
  abort(condition: Parameters<SansIoSession<E>["abort"]>[0], text?: string): void {
    if (this.session.state === "closed") return;
    this.interact((s, now) => s.abort(condition, text, now));
  }

  /** The transport accepts writes again (after `write` returned `false`): drains the session's output. */
  resume(): void {
    this.blocked = false;
    this.pump();
  }

  /** The transport is gone (closed by the peer, failed): tells the session once and stops the timer. */
  transportClosed(): void {
    if (this.transportGone) return;
    this.transportGone = true;
    if (this.session.state !== "closed") this.guarded((s, now) => s.transportClosed(now));
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
        this.flush(false);
        for (let ev = this.session.pollEvent(); ev !== undefined; ev = this.session.pollEvent()) {
          if (ev.type === "starttls") {
            // Ordering matters more than back-pressure here: <proceed/> must be out before TLS.
            this.flush(true);
            this.opts.onStartTls?.(ev.tlsBytes ?? new Uint8Array());
            continue;
          }
          this.opts.onEvent(ev);
          if (ev.type === "closed" && !this.closedSeen) {
            this.closedSeen = true;
            this.flush(true);
            this.opts.onClosed(ev);
          } else this.flush(false);
        }
      } while (this.again);
    } finally {
      this.pumping = false;
      this.rearm();
    }
  }

  private flush(force: boolean): void {
    while (force || !this.blocked) {
      const out = this.session.pollTransmit();
      if (out === undefined) return;
      if (this.transportGone) continue; // nowhere to write: drain so the buffer does not grow
      if (this.opts.write(out) === false) this.blocked = true;
    }
  }

  private rearm(): void {
    if (this.finished || this.closedSeen) {
      this.clearTimer();
      return;
    }
    const at = this.session.nextTimeout();
    if (this.scheduler !== undefined) {
      // A number in the shared heap: an unchanged or later deadline costs a comparison.
      this.timerAt = at;
      if (at === undefined) this.scheduler.cancel(this);
      else this.scheduler.schedule(this, at);
      return;
    }
    if (at === this.timerAt) return;
    // Every input moves the keepalive deadline a little later. A later deadline keeps the armed timer: it
    // fires early, the session finds nothing due (handleTimeout checks each deadline against `now`) and the
    // timer is armed again then — one timer call per deadline period, not a clear + set per stanza.
    if (at !== undefined && this.timerAt !== undefined && this.timer !== undefined && at > this.timerAt) return;
    this.clearTimer();
    if (at === undefined) return;
    this.timerAt = at;
    this.timer = this.timers.setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = undefined;
        this.guarded((s, now) => s.handleTimeout(now));
      },
      Math.max(0, Math.ceil(at - this.clock())),
    );
  }

  private clearTimer(): void {
    if (this.deadlineSlot >= 0) this.scheduler?.cancel(this);
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
  }
}

defineBitFlags(SessionPump.prototype, "bits", ["pumping", "again", "blocked", "finished", "closedSeen", "transportGone"]);
