// DeadlineScheduler: one runtime timer for many deadlines fires each target at the instant its own timer
// would have (a model with a timer per target is the oracle), never early, never twice, not after cancel;
// and a SessionPump on it behaves as with its own timer (the negotiation deadline).
import { ServerSession } from "@xmpp-sansio/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { DeadlineScheduler, type DeadlineTarget, type PumpTimers, SessionPump } from "../src/index.js";

/** A fake runtime: timers fire when the test advances the clock. */
function fakeRuntime() {
  let now = 0;
  let id = 0;
  const pending = new Map<number, { fn: () => void; at: number }>();
  const timers: PumpTimers = {
    setTimeout: (fn, ms) => {
      pending.set(++id, { fn, at: now + ms });
      return id;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  /** Advances to `to`, firing due timers in order (each at its own instant). */
  const advance = (to: number) => {
    for (;;) {
      let next: [number, { fn: () => void; at: number }] | undefined;
      for (const e of pending) if (e[1].at <= to && (next === undefined || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      pending.delete(next[0]);
      now = Math.max(now, next[1].at);
      next[1].fn();
    }
    now = to;
  };
  return { timers, clock: () => now, advance, pending, setNow: (n: number) => (now = n) };
}

class Target implements DeadlineTarget {
  deadlineSlot = -1;
  deadlineAt: number | undefined;
  fired: number[] = [];
  constructor(readonly name: number) {}
  handleDeadline(now: number): void {
    this.fired.push(now);
    this.deadlineAt = undefined;
  }
}

describe("DeadlineScheduler", () => {
  it("one runtime timer, armed to the earliest deadline; fires in order at each instant", () => {
    const rt = fakeRuntime();
    const s = new DeadlineScheduler({ timers: rt.timers, now: rt.clock });
    const a = new Target(1);
    const b = new Target(2);
    const c = new Target(3);
    for (const [t, at] of [[a, 300], [b, 100], [c, 200]] as const) {
      t.deadlineAt = at;
      s.schedule(t, at);
    }
    expect(rt.pending.size).toBe(1);
    rt.advance(99);
    expect([a, b, c].map((t) => t.fired.length)).toEqual([0, 0, 0]);
    rt.advance(100);
    expect(b.fired).toEqual([100]);
    s.cancel(c);
    rt.advance(1000);
    expect(c.fired).toEqual([]);
    expect(a.fired).toEqual([300]);
    expect(s.size).toBe(0);
    expect(rt.pending.size).toBe(0);
  });

  it("a deadline moved later is not fired early: put back at its new instant", () => {
    const rt = fakeRuntime();
    const s = new DeadlineScheduler({ timers: rt.timers, now: rt.clock });
    const a = new Target(1);
    a.deadlineAt = 100;
    s.schedule(a, 100);
    a.deadlineAt = 250; // the keepalive deadline moves with every input
    s.schedule(a, 250);
    rt.advance(200);
    expect(a.fired).toEqual([]);
    rt.advance(250);
    expect(a.fired).toEqual([250]);
  });

  it("matches a timer per target for any schedule/cancel/advance sequence", () => {
    const op = fc.oneof(
      fc.record({ k: fc.constant("schedule" as const), t: fc.nat(7), d: fc.nat(500) }),
      fc.record({ k: fc.constant("cancel" as const), t: fc.nat(7) }),
      fc.record({ k: fc.constant("advance" as const), d: fc.nat(300) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const rt = fakeRuntime();
        const s = new DeadlineScheduler({ timers: rt.timers, now: rt.clock });
        const targets = Array.from({ length: 8 }, (_, i) => new Target(i));
        // The oracle: what each target wants, fired when the clock reaches it.
        const want = new Map<number, number>();
        const expected = targets.map(() => [] as number[]);
        for (const o of ops) {
          if (o.k === "schedule") {
            const at = rt.clock() + o.d;
            targets[o.t]!.deadlineAt = at;
            want.set(o.t, at);
            s.schedule(targets[o.t]!, at);
          } else if (o.k === "cancel") {
            targets[o.t]!.deadlineAt = undefined;
            want.delete(o.t);
            s.cancel(targets[o.t]!);
          } else {
            const to = rt.clock() + o.d;
            for (const [t, at] of [...want].sort((x, y) => x[1] - y[1])) {
              if (at <= to) {
                expected[t]!.push(at);
                want.delete(t);
              }
            }
            rt.advance(to);
          }
        }
        for (const t of targets) expect(t.fired).toEqual(expected[t.name]);
        expect(s.size).toBe(want.size);
      }),
      fuzz(300),
    );
  });

  it("a SessionPump on a scheduler: the negotiation deadline ends the session at its instant", () => {
    const rt = fakeRuntime();
    const scheduler = new DeadlineScheduler({ timers: rt.timers, now: rt.clock });
    const pumps = [0, 1, 2].map((i) => {
      const session = new ServerSession({ tls: "none", defaultDomain: "example.com", timeouts: { negotiationMs: 1000 + i * 100 } });
      const closed: string[] = [];
      const pump = new SessionPump({ session, write: () => true, onEvent: () => {}, onClosed: (ev) => closed.push((ev as { reason: string }).reason), now: rt.clock, scheduler });
      pump.interact((s, now) => (s as ServerSession).start(now));
      return { pump, closed };
    });
    expect(rt.pending.size).toBe(1);
    expect(scheduler.size).toBe(3);
    rt.advance(1099);
    expect(pumps.map((p) => p.closed.length)).toEqual([1, 0, 0]);
    pumps[2]!.pump.stop();
    rt.advance(5000);
    expect(pumps.map((p) => p.closed)).toEqual([["stream-error"], ["stream-error"], []]);
    expect(scheduler.size).toBe(0);
  });
});
