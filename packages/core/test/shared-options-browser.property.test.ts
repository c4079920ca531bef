// The browser build of shared-options (shared-options.browser.ts, chosen by core's `browser` field) gives
// the same results as the Node build — equal contents, frozen where the Node build freezes — only without
// sharing objects between sessions. Differential, over random inputs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import type { StreamFeature } from "../src/features/types.js";
import * as browser from "../src/shared-options.browser.js";
import * as node from "../src/shared-options.js";

const record = fc.dictionary(fc.constantFrom("a", "b", "c", "maxBytes", "iqMs", "lang"), fc.oneof(fc.integer(), fc.string(), fc.constant(undefined)));

describe("shared-options.browser.ts against shared-options.ts", () => {
  it("sharedMerge: equal merged contents, frozen, base itself without `over`", () => {
    fc.assert(
      fc.property(record, fc.option(record, { nil: undefined }), (b, over) => {
        const base = Object.freeze(b);
        const n = node.sharedMerge<Record<string, unknown>>(base, over);
        const w = browser.sharedMerge<Record<string, unknown>>(base, over);
        expect(w).toEqual(n);
        expect(Object.keys(w)).toEqual(Object.keys(n));
        expect(Object.isFrozen(w)).toBe(Object.isFrozen(n));
        if (over === undefined) expect(w).toBe(base);
      }),
      fuzz(300),
    );
  });

  it("sharedConfig, sharedDefinitions, sharedHalf, sharedHalves: equal contents, frozen alike, never the caller's array", () => {
    const defs = [{ name: "a" }, { name: "b" }, { name: "c" }] as unknown as StreamFeature[];
    fc.assert(
      fc.property(fc.array(fc.nat(2), { maxLength: 5 }), fc.string(), fc.nat(1 << 20), (picks, lang, max) => {
        const list = picks.map((i) => defs[i]!);
        const nd = node.sharedDefinitions(list);
        const wd = browser.sharedDefinitions(list);
        expect(wd).toEqual(nd);
        expect(wd).not.toBe(list);
        const halves = list.map((d) => browser.sharedHalf({ of: d }));
        expect(browser.sharedHalves(wd, halves)).toEqual(node.sharedHalves(nd, halves));
        const config = () => ({ table: defs, lang, timeouts: {} as never, fullLimits: {}, preAuthLimits: {}, randomFill: () => undefined, maxPendingOutput: max });
        const nc = node.sharedConfig(config());
        const wc = browser.sharedConfig(config());
        expect({ ...wc, randomFill: 0 }).toEqual({ ...nc, randomFill: 0 });
        expect(Object.isFrozen(wc)).toBe(Object.isFrozen(nc));
      }),
      fuzz(300),
    );
  });

  it("base64url and withoutChannelBinding are the same functions in both builds", () => {
    expect(browser.base64url).toBe(node.base64url);
    expect(browser.withoutChannelBinding).toBe(node.withoutChannelBinding);
  });
});
