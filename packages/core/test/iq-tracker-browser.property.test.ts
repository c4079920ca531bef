// IqTracker over the browser build of its deadline index (iq-deadlines.browser.ts, chosen by core's
// `browser` field: a scan, no heap) gives the Node build's results: the same matches, expiries in the same
// order, the same next deadline, the same refusals — over random sequences of operations, spoofed replies
// included, and enough requests for the heap to compact itself.
import fc from "fast-check";
import { parseJid } from "@xmpp-sansio/jid";
import { NS_CLIENT, xml } from "@xmpp-sansio/xml";
import { describe, expect, it, vi } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { IqTracker as NodeTracker } from "../src/iq-tracker.js";

// A second instance of the tracker's module, built over the browser deadline index.
vi.resetModules();
vi.doMock("../src/iq-deadlines.js", () => import("../src/iq-deadlines.browser.js"));
const { IqTracker: BrowserTracker } = await import("../src/iq-tracker.js");
vi.doUnmock("../src/iq-deadlines.js");

const me = parseJid("juliet@example.com/balcony");
const TO = [undefined, "example.com", "juliet@example.com", "romeo@example.net/orchard", "pubsub.example.com"] as const;
const FROM = [undefined, "example.com", "juliet@example.com", "ROMEO@example.net/orchard", "romeo@example.net/other", "evil.example", "not a jid@@"] as const;
const IDS = Array.from({ length: 40 }, (_, i) => `r${i}`);
const ids = fc.constantFrom(...IDS);

type Op =
  | { op: "track"; id: string; to: number; deadline: number }
  | { op: "match"; id: string; from: number; type: string }
  | { op: "cancel"; id: string }
  | { op: "expire"; now: number }
  | { op: "cancelAll" };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("track" as const), id: ids, to: fc.nat(TO.length - 1), deadline: fc.oneof(fc.nat(50), fc.constant(Number.NaN)) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("match" as const), id: ids, from: fc.nat(FROM.length - 1), type: fc.constantFrom("result", "error", "get", "set") }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("cancel" as const), id: ids }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("expire" as const), now: fc.nat(60) }) },
  { weight: 1, arbitrary: fc.constant({ op: "cancelAll" as const }) },
);

function apply(t: NodeTracker, o: Op): unknown {
  try {
    switch (o.op) {
      case "track": {
        const to = TO[o.to];
        t.track(o.id, to === undefined ? undefined : parseJid(to), me, o.deadline);
        return undefined;
      }
      case "match":
        return t.match(xml("iq", { xmlns: NS_CLIENT, id: o.id, type: o.type, from: FROM[o.from] }), me);
      case "cancel":
        return t.cancel(o.id);
      case "expire":
        return t.expire(o.now);
      case "cancelAll":
        return t.cancelAll();
    }
  } catch (err) {
    return { threw: (err as Error).message };
  }
}

describe("iq-tracker.browser.ts against iq-tracker.ts", () => {
  it("the browser tracker is the other build", () => {
    expect(BrowserTracker).not.toBe(NodeTracker);
  });

  it("same answers to every operation, same size and next deadline after each", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150 }), (ops) => {
        const n = new NodeTracker();
        const b = new BrowserTracker();
        for (const o of ops) {
          expect(apply(b, o)).toEqual(apply(n, o));
          expect(b.size).toBe(n.size);
          expect(b.nextDeadline()).toBe(n.nextDeadline());
          for (const id of IDS) expect(b.has(id)).toBe(n.has(id));
        }
      }),
      fuzz(300),
    );
  });
});
