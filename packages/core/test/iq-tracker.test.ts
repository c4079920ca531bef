import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import { parseJid } from "@xmpp-sansio/jid";
import { NS_CLIENT, xml } from "@xmpp-sansio/xml";
import { IqTracker } from "../src/index.js";

const me = parseJid("juliet@im.example.com/balcony");
const reply = (id: string, from: string | undefined, type = "result") => xml("iq", { xmlns: NS_CLIENT, id, from, to: me.toString(), type });

describe("IqTracker: matching", () => {
  it("matches a result or an error from the addressee and stops tracking it", () => {
    const t = new IqTracker();
    t.track("a", parseJid("romeo@example.net/orchard"), me, 1000);
    t.track("b", parseJid("pubsub.example.com"), me, 1000);
    expect(t.match(reply("a", "romeo@example.net/orchard"), me)).toEqual({ id: "a", kind: "result" });
    expect(t.match(reply("b", "pubsub.example.com", "error"), me)).toEqual({ id: "b", kind: "error" });
    expect(t.size).toBe(0);
    expect(t.match(reply("a", "romeo@example.net/orchard"), me)).toBeUndefined();
  });

  it("compares addresses after RFC 7622 preparation", () => {
    const t = new IqTracker();
    t.track("a", parseJid("Romeo@Example.NET/orchard"), me, 1000);
    expect(t.match(reply("a", "ROMEO@example.net./orchard"), me)).toEqual({ id: "a", kind: "result" });
  });

  it("does not match a reply from anyone else (spoofing), and keeps the request outstanding", () => {
    const t = new IqTracker();
    t.track("a", parseJid("romeo@example.net/orchard"), me, 1000);
    for (const from of [
      undefined, // absent 'from' means "my server", not romeo
      "romeo@example.net", // bare instead of full
      "romeo@example.net/other",
      "mallory@evil.example/orchard",
      "example.net",
      "im.example.com",
      "juliet@im.example.com",
      "",
      "@@@",
    ]) {
      expect(t.match(reply("a", from), me), String(from)).toBeUndefined();
    }
    expect(t.has("a")).toBe(true);
    expect(t.match(reply("a", "romeo@example.net/orchard"), me)).toEqual({ id: "a", kind: "result" });
  });

  it("accepts, for requests to the server, no 'from', the own bare JID or the domain (RFC 6120 §8.1.2.1, §10.3.3)", () => {
    for (const to of [undefined, me.bare, parseJid("im.example.com")]) {
      for (const from of [undefined, "juliet@im.example.com", "im.example.com", "JULIET@IM.example.com"]) {
        const t = new IqTracker();
        t.track("r", to, me, 1000);
        expect(t.match(reply("r", from), me), `${to} / ${from}`).toEqual({ id: "r", kind: "result" });
      }
      for (const from of ["juliet@im.example.com/balcony", "romeo@im.example.com", "example.com", "evil.example", "im.example.com/x"]) {
        const t = new IqTracker();
        t.track("r", to, me, 1000);
        expect(t.match(reply("r", from), me), `${to} / ${from}`).toBeUndefined();
      }
    }
  });

  it("a request to one's own full JID is answered by that resource only", () => {
    const t = new IqTracker();
    t.track("self", me, me, 1000);
    expect(t.match(reply("self", undefined), me)).toBeUndefined();
    expect(t.match(reply("self", "juliet@im.example.com"), me)).toBeUndefined();
    expect(t.match(reply("self", "juliet@im.example.com/balcony"), me)).toEqual({ id: "self", kind: "result" });
  });

  it("binding: a request sent before the full JID is known still matches afterwards", () => {
    const t = new IqTracker();
    const beforeAuth = parseJid("im.example.com");
    t.track("bind", undefined, beforeAuth, 1000);
    expect(t.match(reply("bind", undefined), me)).toEqual({ id: "bind", kind: "result" });
  });

  it("ignores what is not an iq result/error with a tracked id", () => {
    const t = new IqTracker();
    t.track("a", undefined, me, 1000);
    expect(t.match(xml("message", { xmlns: NS_CLIENT, id: "a", type: "error" }), me)).toBeUndefined();
    expect(t.match(reply("a", undefined, "get"), me)).toBeUndefined();
    expect(t.match(reply("a", undefined, "set"), me)).toBeUndefined();
    expect(t.match(xml("iq", { xmlns: NS_CLIENT, type: "result" }), me)).toBeUndefined();
    expect(t.match(reply("b", undefined), me)).toBeUndefined();
    expect(t.has("a")).toBe(true);
  });

  it("refuses a duplicate id and a NaN deadline", () => {
    const t = new IqTracker();
    t.track("a", undefined, me, 1);
    expect(() => t.track("a", undefined, me, 2)).toThrow(TypeError);
    expect(() => t.track("b", undefined, me, Number.NaN)).toThrow(TypeError);
    expect(t.cancel("a")).toBe(true);
    expect(t.cancel("a")).toBe(false);
    t.track("a", undefined, me, 2); // free again
  });
});

describe("IqTracker: deadlines", () => {
  it("expires in deadline order with the injected now (ties in tracking order)", () => {
    const t = new IqTracker();
    t.track("c", undefined, me, 300);
    t.track("a", undefined, me, 100);
    t.track("b1", undefined, me, 200);
    t.track("b2", undefined, me, 200);
    t.track("never", undefined, me, Number.POSITIVE_INFINITY);
    expect(t.nextDeadline()).toBe(100);
    expect(t.expire(99)).toEqual([]);
    expect(t.expire(100)).toEqual(["a"]);
    expect(t.nextDeadline()).toBe(200);
    expect(t.expire(10_000)).toEqual(["b1", "b2", "c"]);
    expect(t.nextDeadline()).toBe(Number.POSITIVE_INFINITY);
    expect(t.cancelAll()).toEqual(["never"]);
    expect(t.nextDeadline()).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it("matched and cancelled requests do not expire and do not hold nextDeadline", () => {
    const t = new IqTracker();
    t.track("a", undefined, me, 100);
    t.track("b", undefined, me, 200);
    t.track("c", undefined, me, 300);
    t.match(reply("a", undefined), me);
    t.cancel("b");
    expect(t.nextDeadline()).toBe(300);
    expect(t.expire(1000)).toEqual(["c"]);
  });

  it("handles thousands of outstanding ids", () => {
    const t = new IqTracker();
    const n = 20_000;
    // Deadlines in a scrambled order.
    for (let i = 0; i < n; i++) t.track(`id${i}`, undefined, me, (i * 7919) % n);
    expect(t.size).toBe(n);
    // Answer every third one.
    for (let i = 0; i < n; i += 3) expect(t.match(reply(`id${i}`, "im.example.com"), me)).toBeDefined();
    const expired = t.expire(n);
    const expected = Array.from({ length: n }, (_, i) => i)
      .filter((i) => i % 3 !== 0)
      .sort((x, y) => ((x * 7919) % n) - ((y * 7919) % n))
      .map((i) => `id${i}`);
    expect(expired).toEqual(expected);
    expect(t.size).toBe(0);
  });

  it("behaves like a simple model under random operations (fast-check)", () => {
    type Op = { k: "track"; id: number; deadline: number } | { k: "match"; id: number } | { k: "cancel"; id: number } | { k: "expire"; now: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ k: fc.constant("track" as const), id: fc.nat(30), deadline: fc.nat(100) }),
      fc.record({ k: fc.constant("match" as const), id: fc.nat(30) }),
      fc.record({ k: fc.constant("cancel" as const), id: fc.nat(30) }),
      fc.record({ k: fc.constant("expire" as const), now: fc.nat(100) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const t = new IqTracker();
        const model = new Map<string, { deadline: number; seq: number }>();
        let seq = 0;
        for (const o of ops) {
          if (o.k === "track") {
            const id = `i${o.id}`;
            if (model.has(id)) expect(() => t.track(id, undefined, me, o.deadline)).toThrow(TypeError);
            else {
              t.track(id, undefined, me, o.deadline);
              model.set(id, { deadline: o.deadline, seq: seq++ });
            }
          } else if (o.k === "match") {
            const id = `i${o.id}`;
            expect(t.match(reply(id, undefined), me) !== undefined).toBe(model.delete(id));
          } else if (o.k === "cancel") {
            const id = `i${o.id}`;
            expect(t.cancel(id)).toBe(model.delete(id));
          } else {
            const due = [...model.entries()]
              .filter(([, v]) => v.deadline <= o.now)
              .sort(([, a], [, b]) => a.deadline - b.deadline || a.seq - b.seq)
              .map(([id]) => id);
            for (const id of due) model.delete(id);
            expect(t.expire(o.now)).toEqual(due);
          }
          const min = Math.min(...[...model.values()].map((v) => v.deadline));
          expect(t.nextDeadline()).toBe(model.size === 0 ? undefined : min);
          expect(t.size).toBe(model.size);
        }
      }),
      fuzz(100),
    );
  });
});
