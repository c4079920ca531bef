import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import { prng } from "../../xml/test/prng.js";
import { ReconnectPolicy } from "../src/index.js";


describe("ReconnectPolicy (RFC 6120 §3.3)", () => {
  it("defaults: the first delay is below 60 s, then the ceiling doubles up to 5 minutes", () => {
    const p = new ReconnectPolicy({ random: () => 0.999999 });
    expect(p.initialDelayMs).toBe(60_000);
    expect(p.maxDelayMs).toBe(300_000);
    const delays = Array.from({ length: 6 }, () => p.nextDelay());
    expect(delays).toEqual([59_999, 119_999, 239_999, 299_999, 299_999, 299_999]);
    expect(p.attempts).toBe(6);
  });

  it("is deterministic with an injected random", () => {
    const a = new ReconnectPolicy({ initialDelayMs: 1000, random: prng(7) });
    const b = new ReconnectPolicy({ initialDelayMs: 1000, random: prng(7) });
    const da = Array.from({ length: 20 }, () => a.nextDelay());
    const db = Array.from({ length: 20 }, () => b.nextDelay());
    expect(da).toEqual(db);
    expect(new Set(da).size).toBeGreaterThan(1);
  });

  it("full jitter spans [0, c); equal jitter spans [c/2, c)", () => {
    const lo = new ReconnectPolicy({ initialDelayMs: 1000, random: () => 0 });
    expect([lo.nextDelay(), lo.nextDelay()]).toEqual([0, 0]);
    const eqLo = new ReconnectPolicy({ initialDelayMs: 1000, jitter: "equal", random: () => 0 });
    expect([eqLo.nextDelay(), eqLo.nextDelay()]).toEqual([500, 1000]);
    const eqHi = new ReconnectPolicy({ initialDelayMs: 1000, jitter: "equal", random: () => 0.9999 });
    expect(eqHi.nextDelay()).toBe(999);
  });

  it("reset() starts over", () => {
    const p = new ReconnectPolicy({ initialDelayMs: 100, random: () => 0.5 });
    p.nextDelay();
    p.nextDelay();
    expect(p.ceiling).toBe(400);
    p.reset();
    expect(p.attempts).toBe(0);
    expect(p.ceiling).toBe(100);
    expect(p.nextDelay()).toBe(50);
  });

  it("clamps out-of-range randomness", () => {
    for (const r of [1, 2, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const d = new ReconnectPolicy({ initialDelayMs: 1000, random: () => r }).nextDelay();
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(1000);
    }
  });

  it("uses crypto.getRandomValues by default", () => {
    const d = new ReconnectPolicy().nextDelay();
    expect(d).toBeGreaterThanOrEqual(0);
    expect(d).toBeLessThan(60_000);
  });

  it("refuses bad options", () => {
    expect(() => new ReconnectPolicy({ initialDelayMs: -1 })).toThrow(RangeError);
    expect(() => new ReconnectPolicy({ maxDelayMs: Number.POSITIVE_INFINITY })).toThrow(RangeError);
    expect(() => new ReconnectPolicy({ factor: 0.5 })).toThrow(RangeError);
    expect(() => new ReconnectPolicy({ jitter: "none" as never })).toThrow(RangeError);
  });

  it("delays stay within [0, max] and the ceiling never decreases (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.record({
          initialDelayMs: fc.nat(1_000_000),
          maxDelayMs: fc.nat(10_000_000),
          factor: fc.double({ min: 1, max: 10, noNaN: true }),
          jitter: fc.constantFrom("full" as const, "equal" as const),
        }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 60 }),
        (options, draws) => {
          let i = 0;
          const p = new ReconnectPolicy({ ...options, random: () => draws[i++ % draws.length]! });
          let prevCeiling = -1;
          for (let n = 0; n < 60; n++) {
            const c = p.ceiling;
            expect(c).toBeGreaterThanOrEqual(prevCeiling);
            expect(c).toBeLessThanOrEqual(options.maxDelayMs);
            prevCeiling = c;
            const d = p.nextDelay();
            expect(Number.isInteger(d)).toBe(true);
            expect(d).toBeGreaterThanOrEqual(0);
            expect(d).toBeLessThanOrEqual(Math.min(c, options.maxDelayMs));
            if (options.jitter === "equal") expect(d).toBeGreaterThanOrEqual(Math.floor(c / 2));
          }
          expect(p.attempts).toBe(60);
        },
      ),
      fuzz(100),
    );
  });

  it("the first delay is roughly uniform over [0, 60 s) (RFC 6120 §3.3)", () => {
    const rnd = prng(42);
    const buckets = new Array<number>(6).fill(0);
    const n = 60_000;
    for (let i = 0; i < n; i++) buckets[Math.floor(new ReconnectPolicy({ random: rnd }).nextDelay() / 10_000)]!++;
    for (const b of buckets) expect(Math.abs(b - n / 6)).toBeLessThan(n / 6 * 0.05);
  });
});
