// The pure load-protection classes: token bucket (clock passed in), read limiter, outbound queue,
// address gate, log-safe names.
import { xml } from "@xmpp-sansio/xml";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { AddressGate, logSafe, OutboundQueue, ReadLimiter, TokenBucket } from "../src/index.js";

describe("TokenBucket", () => {
  it("starts full, goes into debt, and says how long until the debt is paid", () => {
    const b = new TokenBucket(1000, 2000, 0); // 1 000/s, burst 2 000
    expect(b.take(1500, 0)).toBe(0);
    expect(b.available(0)).toBe(500);
    expect(b.take(1500, 0)).toBe(1000); // 1 000 in debt at 1 000/s: 1 s
    expect(b.available(500)).toBe(-500);
    expect(b.take(0, 1000)).toBe(0);
    expect(b.available(1_000_000)).toBe(2000); // never above the burst
  });

  it("tryTake takes whole tokens only when there are", () => {
    const b = new TokenBucket(2, 2, 0); // 2 per second, 2 banked
    expect([b.tryTake(0), b.tryTake(0), b.tryTake(0)]).toEqual([true, true, false]);
    expect(b.tryTake(499)).toBe(false);
    expect(b.tryTake(500)).toBe(true);
    expect(b.isFull(500)).toBe(false);
    expect(b.isFull(1500)).toBe(true);
  });

  it("a clock that goes backwards gives nothing", () => {
    const b = new TokenBucket(1000, 1000, 10_000);
    b.take(1000, 10_000);
    expect(b.available(0)).toBe(0);
  });

  it("refuses rates and bursts that are not positive", () => {
    expect(() => new TokenBucket(0, 1, 0)).toThrow(RangeError);
    expect(() => new TokenBucket(1, Number.NaN, 0)).toThrow(RangeError);
  });

  it("property: a reader that honours the pauses never gets more than burst + rate × elapsed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 100_000 }), fc.array(fc.integer({ min: 1, max: 65_536 }), { maxLength: 200 }), (rate, burst, chunks) => {
        const b = new TokenBucket(rate, burst, 0);
        let now = 0;
        let total = 0;
        for (const n of chunks) {
          const wait = b.take(n, now);
          total += n;
          // Before the pause ends, the reader has taken at most burst + rate × now + this last chunk.
          expect(total).toBeLessThanOrEqual(burst + (rate * now) / 1000 + n + 1e-6);
          now += wait;
        }
      }),
      fuzz(200),
    );
  });
});

describe("ReadLimiter", () => {
  it("applies the pre-auth rate, then the authenticated one; null switches a phase off", () => {
    const l = new ReadLimiter({ preAuth: { bytesPerSecond: 100, burstBytes: 100 }, authenticated: null }, 0);
    expect(l.consume(100, 0)).toBe(0);
    expect(l.consume(50, 0)).toBe(500);
    l.authenticated(0);
    expect(l.consume(10_000_000, 0)).toBe(0);
  });

  it("defaults: 32 KiB burst before authentication", () => {
    const l = new ReadLimiter(undefined, 0);
    expect(l.consume(32 * 1024, 0)).toBe(0);
    expect(l.consume(1024, 0)).toBe(100); // 10 KiB/s
  });
});

describe("OutboundQueue", () => {
  it("counts the stanzas whose bytes are still held, and hands them back on overflow", () => {
    let pending = 0;
    const q = new OutboundQueue(() => pending, { maxBytes: 100, maxStanzas: 3 });
    const s = [0, 1, 2, 3].map((i) => xml("message", { id: `m${i}` }));
    for (const st of s.slice(0, 2)) {
      q.wrote(40);
      pending += 40;
      q.track(st);
    }
    expect(q.heldStanzas).toBe(2);
    pending = 40; // the OS took the first stanza's bytes
    expect(q.heldStanzas).toBe(1);
    expect(q.full).toBe(false);
    q.wrote(70);
    pending += 70;
    q.track(s[2]!);
    expect(q.overBytes).toBe(true);
    expect(q.full).toBe(true);
    expect(q.overflow().map((x) => x.attr("id"))).toEqual(["m1", "m2"]);
    expect(q.overflowed).toBe(true);
    expect(q.heldStanzas).toBe(0);
  });

  it("remembers nothing when the transport holds nothing (an idle connection pins no stanza)", () => {
    let pending = 0;
    const q = new OutboundQueue(() => pending, { maxBytes: 100, maxStanzas: 3 });
    q.wrote(40);
    q.track(xml("message"));
    expect(q.heldStanzas).toBe(0);
    pending = 40;
    q.wrote(40);
    q.track(xml("message"));
    expect(q.heldStanzas).toBe(1);
    pending = 0;
    q.wrote(10);
    q.track(xml("message"));
    expect(q.heldStanzas).toBe(0);
  });

  it("is empty once the transport has flushed what it held, with nothing else asked (the idle sweep drops it)", () => {
    // Over TLS every write is still held when tracked; only `empty` is asked after the flush.
    let pending = 0;
    const q = new OutboundQueue(() => pending, { maxBytes: 1 << 20, maxStanzas: 100 });
    for (let i = 0; i < 2; i++) {
      q.wrote(8_000);
      pending += 8_000;
      q.track(xml("message", {}, xml("body", {}, "b".repeat(8_000))));
    }
    expect(q.empty).toBe(false);
    pending = 0;
    expect(q.empty).toBe(true);
    expect(q.overflow()).toEqual([]); // it holds no stanza any more
  });

  it("is full at maxStanzas held even under the byte cap", () => {
    const q = new OutboundQueue(() => 10, { maxBytes: 1000, maxStanzas: 2 });
    q.wrote(5);
    q.track(xml("message"));
    expect(q.full).toBe(false);
    q.wrote(5);
    q.track(xml("message"));
    expect(q.full).toBe(true);
  });
});

describe("AddressGate", () => {
  it("caps connections per address and frees a place on close", () => {
    const g = new AddressGate({ maxConnectionsPerIp: 2 });
    expect([g.open("10.0.0.1", 0), g.open("10.0.0.1", 0), g.open("10.0.0.1", 0), g.open("10.0.0.2", 0)]).toEqual([true, true, false, true]);
    g.close("10.0.0.1", 0);
    expect(g.open("10.0.0.1", 0)).toBe(true);
    g.close("10.0.0.1", 0);
    g.close("10.0.0.1", 0);
    g.close("10.0.0.2", 0);
    expect(g.size).toBe(0);
  });

  it("caps login attempts per window, which come back at an even rate", () => {
    const g = new AddressGate({ maxLoginAttemptsPerIp: 3, loginWindowMs: 60_000 });
    expect([0, 0, 0, 0].map(() => g.loginAttempt("10.0.0.1", 0))).toEqual([true, true, true, false]);
    expect(g.loginAttempt("10.0.0.9", 0)).toBe(true); // another address
    expect(g.loginAttempt("10.0.0.1", 19_999)).toBe(false);
    expect(g.loginAttempt("10.0.0.1", 20_000)).toBe(true); // one back every 20 s
  });

  it("null switches a cap off; entries back at neutral are swept", () => {
    const g = new AddressGate({ maxConnectionsPerIp: null, maxLoginAttemptsPerIp: null });
    for (let i = 0; i < 1000; i++) expect(g.open("10.0.0.1", 0)).toBe(true);
    expect(g.loginAttempt("10.0.0.1", 0)).toBe(true);
    const h = new AddressGate({ maxLoginAttemptsPerIp: 1, loginWindowMs: 1000 });
    for (let i = 0; i < 5000; i++) h.loginAttempt(`10.1.${i >> 8}.${i & 255}`, i * 10);
    expect(h.size).toBeLessThan(2100); // swept as the buckets refill, not one entry per address ever seen
  });
});

describe("logSafe", () => {
  it("keeps printable ASCII and encodes the rest", () => {
    expect(logSafe("juliet")).toBe("juliet");
    expect(logSafe("a b\nfrom 1.2.3.4")).toBe("a%20b%0Afrom%201.2.3.4");
    expect(logSafe("")).toBe("-");
    expect(logSafe("\uD800")).toBe("%3F");
  });
});
