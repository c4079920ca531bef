// SessionPump over a real ServerSession: back-pressure, forced flush at close, abort through the core,
// guarded calls, the timer (fake timers injected).
import { ServerSession } from "@xmpp-sansio/core";
import { describe, expect, it } from "vitest";
import { ConnectionError, type PumpTimers, ServerHooksCore, SessionPump } from "../src/index.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const OPEN = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

function fakeTimers() {
  const pending = new Map<number, { fn: () => void; at: number }>();
  let id = 0;
  const timers: PumpTimers = {
    setTimeout: (fn, ms) => {
      pending.set(++id, { fn, at: ms });
      return id;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  return { timers, pending };
}

function setup(opts: { writeReturns?: () => boolean } = {}) {
  const session = new ServerSession({ tls: "none", defaultDomain: "example.com", timeouts: { negotiationMs: 1000 } });
  const written: string[] = [];
  const events: string[] = [];
  const closed: string[] = [];
  const errors: unknown[] = [];
  let now = 0;
  const { timers, pending } = fakeTimers();
  const pump = new SessionPump({
    session,
    write: (b) => {
      written.push(dec(b));
      return opts.writeReturns?.() ?? true;
    },
    onEvent: (ev) => {
      events.push(ev.type);
      if (ev.type === "host-check") session.answerHost(true);
    },
    onClosed: (ev) => closed.push((ev as { reason: string }).reason),
    onError: (err) => errors.push(err),
    now: () => now,
    timers,
  });
  return { session, pump, written, events, closed, errors, pending, setNow: (n: number) => (now = n) };
}

describe("SessionPump", () => {
  it("writes output, dispatches events, answers re-entrantly", () => {
    const t = setup();
    t.pump.interact((s, now) => (s as ServerSession).start(now));
    t.pump.guarded((s, now) => s.receive(enc(OPEN), now));
    expect(t.events).toEqual(["stream-opened", "host-check"]);
    expect(t.written.join("")).toContain("<stream:features>");
  });

  it("back-pressure: stops taking output after write() returns false, until resume()", () => {
    let full = true;
    const t = setup({ writeReturns: () => !full });
    t.pump.interact((s, now) => (s as ServerSession).start(now));
    t.pump.guarded((s, now) => s.receive(enc(OPEN), now));
    const before = t.written.length;
    expect(before).toBe(1); // the header + features, then blocked
    t.pump.guarded((s, now) => s.receive(enc("<foo xmlns='urn:x'/>"), now)); // before auth: a fatal stream error
    expect(t.written.length).toBe(before + 1); // closed: flushed regardless of back-pressure
    expect(t.closed).toEqual(["stream-error"]);
    full = false;
    t.pump.resume();
  });

  it("abort goes through the core: <stream:error/>, end tag, onClosed once", () => {
    const t = setup();
    t.pump.interact((s, now) => (s as ServerSession).start(now));
    t.pump.guarded((s, now) => s.receive(enc(OPEN), now));
    t.pump.abort("system-shutdown", "bye");
    t.pump.abort("conflict");
    const out = t.written.join("");
    expect(out).toContain("<system-shutdown ");
    expect(out.endsWith("</stream:stream>")).toBe(true);
    expect(t.closed).toEqual(["stream-error"]);
    expect(t.events.slice(-2)).toEqual(["stream-error", "closed"]);
  });

  it("one timer for nextTimeout(); firing calls handleTimeout (negotiation deadline)", () => {
    const t = setup();
    t.pump.interact((s, now) => (s as ServerSession).start(now));
    expect(t.pending.size).toBe(1);
    const [entry] = [...t.pending.values()];
    expect(entry!.at).toBe(1000);
    t.setNow(1000);
    entry!.fn();
    expect(t.written.join("")).toContain("<connection-timeout ");
    expect(t.closed).toEqual(["stream-error"]);
  });

  it("a later deadline keeps the armed timer (fires early, nothing due, re-armed then); an earlier one re-arms at once", () => {
    // A stand-in session whose deadline the test moves, as each input moves the keepalive deadline.
    let deadline: number | undefined = 1000;
    const handled: number[] = [];
    const session = {
      state: "online",
      nextTimeout: () => deadline,
      handleTimeout: (now: number) => void handled.push(now),
      pollTransmit: () => undefined,
      pollEvent: () => undefined,
    };
    const { timers, pending } = fakeTimers();
    let sets = 0;
    let clears = 0;
    let now = 0;
    const pump = new SessionPump({
      session: session as never,
      write: () => true,
      onEvent: () => {},
      onClosed: () => {},
      now: () => now,
      timers: {
        setTimeout: (fn, ms) => {
          sets++;
          return timers.setTimeout(fn, ms);
        },
        clearTimeout: (h) => {
          clears++;
          timers.clearTimeout(h);
        },
      },
    });
    pump.pump();
    for (let i = 1; i <= 100; i++) {
      now = i;
      deadline = 1000 + i; // every stanza pushes the deadline later
      pump.pump();
    }
    expect([sets, clears, pending.size]).toEqual([1, 0, 1]);
    const [id, first] = [...pending][0]!;
    expect(first.at).toBe(1000);
    now = 1000;
    pending.delete(id);
    first.fn(); // early for the deadline now at 1100: the session sees the call, finds nothing due
    expect(handled).toEqual([1000]);
    expect([...pending.values()].map((e) => e.at)).toEqual([100]); // re-armed for 1100
    deadline = 1050; // earlier than the armed one: re-armed at once
    pump.pump();
    expect([...pending.values()].map((e) => e.at)).toEqual([50]);
    deadline = undefined; // nothing due any more: no timer
    pump.pump();
    expect(pending.size).toBe(0);
  });

  it("guarded: an exception goes to onError instead of the caller", () => {
    const t = setup();
    t.pump.guarded(() => {
      throw new Error("boom");
    });
    expect(t.errors).toHaveLength(1);
    expect(() => t.pump.interact(() => {
      throw new Error("to the caller");
    })).toThrow("to the caller");
  });
});

describe("ServerHooksCore", () => {
  it("shutdown: system-shutdown to every connection, returns those still open after the timeout", async () => {
    const aborted: string[] = [];
    const core = new ServerHooksCore<never>({ domains: ["example.com"], hooks: {}, onHookError: () => {} });
    const conn = { abort: (c: string) => aborted.push(c), closedPromise: new Promise<void>(() => {}) };
    core.live.add(conn as never);
    const left = await core.shutdown(5);
    expect(aborted).toEqual(["system-shutdown"]);
    expect(left).toEqual([conn]);
  });
});

describe("errors", () => {
  it("ConnectionError carries code and endpoint", () => {
    const e = new ConnectionError("tls-failed", "x", { endpoint: "h:1" });
    expect([e.name, e.code, e.endpoint, e instanceof Error]).toEqual(["ConnectionError", "tls-failed", "h:1", true]);
  });
});
