import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { JidCache, JidError, parseJid, tryParseJid } from "../src/index.js";

const address = fc.oneof(
  fc.constantFrom("Juliet@Example.COM/Balcony", "romeo@example.net", "example.org", "@example.com", "a@b/", "ＲＯＭＥＯ@example.net/x", "x@[::1]/r"),
  fc.string({ maxLength: 12 }),
);

describe("JidCache", () => {
  it("gives what tryParseJid gives, for any string, however often asked", () => {
    fc.assert(
      fc.property(fc.array(address, { maxLength: 30 }), fc.integer({ min: 0, max: 8 }), (inputs, size) => {
        const cache = new JidCache(size);
        for (const input of [...inputs, ...inputs]) {
          const got = cache.parse(input);
          const want = tryParseJid(input);
          if (want instanceof JidError) {
            expect(got).toBeInstanceOf(JidError);
            expect((got as JidError).message).toBe(want.message);
          } else expect(got instanceof JidError ? got.message : got.toString()).toBe(want.toString());
          expect(cache.entries).toBeLessThanOrEqual(size);
        }
      }),
      fuzz(300),
    );
  });

  it("returns the same Jid (and the same string) for a cached address", () => {
    const cache = new JidCache(4);
    const a = cache.parse("Juliet@Example.COM/Balcony");
    expect(cache.parse("Juliet@Example.COM/Balcony")).toBe(a);
    expect(String(a)).toBe("juliet@example.com/Balcony");
    expect(a.toString()).toBe(a.toString());
    const e = cache.parse("@example.com");
    expect(e).toBeInstanceOf(JidError);
    expect(cache.parse("@example.com")).toBe(e);
  });

  it("holds at most `size` entries, the oldest out first", () => {
    const cache = new JidCache(3);
    const first = cache.parse("a@example.com");
    for (const u of ["b", "c", "d", "e"]) cache.parse(`${u}@example.com`);
    expect(cache.entries).toBe(3);
    // "a" was evicted: a new (equal) Jid; "e" is still there.
    const again = cache.parse("a@example.com");
    expect(again).not.toBe(first);
    expect(again.toString()).toBe(first.toString());
    const e = cache.parse("e@example.com");
    expect(cache.parse("e@example.com")).toBe(e);
    cache.clear();
    expect(cache.entries).toBe(0);
  });

  it("size 0 keeps nothing; a bad size is refused", () => {
    const cache = new JidCache(0);
    const a = cache.parse("a@example.com");
    expect(cache.entries).toBe(0);
    expect(cache.parse("a@example.com")).not.toBe(a);
    expect(() => new JidCache(-1)).toThrow(RangeError);
    expect(() => new JidCache(1.5)).toThrow(RangeError);
  });
});

describe("Jid caches its derived values", () => {
  it("toString() and bare are made once and stay equal to fresh ones", () => {
    const j = parseJid("Juliet@Example.COM/Balcony");
    expect(j.toString()).toBe("juliet@example.com/Balcony");
    expect(j.bare).toBe(j.bare);
    expect(j.bare.toString()).toBe("juliet@example.com");
    expect(j.bare.equals(parseJid("juliet@example.com"))).toBe(true);
    const bare = parseJid("juliet@example.com");
    expect(bare.bare).toBe(bare);
    expect(parseJid("example.com").toString()).toBe("example.com");
    expect(JSON.stringify({ j })).toBe('{"j":"juliet@example.com/Balcony"}');
  });
});
