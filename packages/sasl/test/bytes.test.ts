import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import { concatBytes } from "../src/index.js";

describe("concatBytes", () => {
  it("puts the parts one after another in a new array", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 8 }), (parts) => {
        const joined = concatBytes(parts);
        expect(Array.from(joined)).toEqual(parts.flatMap((p) => Array.from(p)));
        for (const p of parts) if (p.length > 0) expect(joined.buffer).not.toBe(p.buffer);
      }),
      fuzz(100),
    );
  });
});
