// XmlWriter.takeShared: views of a buffer the writer never writes again. Against serialize() (a copy per
// element) on random trees mixed with refused elements, long texts (written in pieces, growing the buffer
// mid-write), raw markup and take(); every view handed out must still hold its bytes at the end.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { NS_CLIENT, serialize, XmlElement, XmlSerializeError, XmlWriter } from "../src/index.js";
import { xmlTree } from "./arbitraries.js";

const context = { defaultNs: NS_CLIENT };
const enc = new TextEncoder();

type Op =
  | { kind: "element"; el: XmlElement }
  | { kind: "long"; text: string; attr: boolean }
  | { kind: "bad" }
  | { kind: "raw" }
  | { kind: "takeShared" }
  | { kind: "take" };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: xmlTree.map((el) => ({ kind: "element", el }) as const) },
  {
    weight: 1,
    // Past the writer's 8 192-unit pieces, so that the buffer may grow between two pieces of one string.
    arbitrary: fc
      .record({ unit: fc.string({ minLength: 1, maxLength: 6, unit: "grapheme" }), times: fc.integer({ min: 100, max: 4000 }), attr: fc.boolean() })
      .map(({ unit, times, attr }) => ({ kind: "long", text: unit.repeat(times), attr }) as const),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "bad" } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "raw" } as const) },
  { weight: 3, arbitrary: fc.constant({ kind: "takeShared" } as const) },
  { weight: 1, arbitrary: fc.constant({ kind: "take" } as const) },
);

/** An element that is refused halfway through (a lone surrogate after valid content). */
function refused(): XmlElement {
  return new XmlElement("message", NS_CLIENT, { to: "romeo@example.net" }, [new XmlElement("body", NS_CLIENT, null, ["fine"]), new XmlElement("x", NS_CLIENT, { a: "\uD800" })]);
}

function longElement(text: string, attr: boolean): XmlElement {
  const safe = text.replace(/[\uD800-\uDFFF\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, "x");
  return attr ? new XmlElement("a", NS_CLIENT, { v: safe }) : new XmlElement("a", NS_CLIENT, null, [safe]);
}

describe("XmlWriter.takeShared", () => {
  it("hands out what serialize() gives, and never writes over a view it handed out", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.integer({ min: 1, max: 64 }), (ops, initial) => {
        const w = new XmlWriter(initial);
        const views: { view: Uint8Array; copy: Uint8Array }[] = [];
        let expected: number[] = [];
        let taken: number[] = [];
        const collect = (bytes: Uint8Array, shared: boolean) => {
          taken = taken.concat(Array.from(bytes));
          if (shared) views.push({ view: bytes, copy: bytes.slice() });
        };
        for (const o of ops) {
          switch (o.kind) {
            case "element": {
              let ref: Uint8Array | undefined;
              try {
                ref = serialize(o.el, context);
              } catch (e) {
                if (!(e instanceof XmlSerializeError)) throw e;
              }
              if (ref === undefined) expect(() => w.element(o.el, context)).toThrow(XmlSerializeError);
              else {
                w.element(o.el, context);
                expected = expected.concat(Array.from(ref));
              }
              break;
            }
            case "long": {
              const el = longElement(o.text, o.attr);
              w.element(el, context);
              expected = expected.concat(Array.from(serialize(el, context)));
              break;
            }
            case "bad":
              expect(() => w.element(refused(), context)).toThrow(XmlSerializeError);
              break;
            case "raw":
              w.raw("</stream:stream>");
              expected = expected.concat(Array.from(enc.encode("</stream:stream>")));
              break;
            case "takeShared":
              collect(w.takeShared(), true);
              expect(w.length).toBe(0);
              break;
            case "take":
              collect(w.take(), false);
              expect(w.length).toBe(0);
              break;
          }
        }
        collect(w.takeShared(), true);
        expect(taken).toEqual(expected);
        for (const { view, copy } of views) expect(view).toEqual(copy);
      }),
      fuzz(100),
    );
  });

  it("keeps a buffer no larger than the slab beyond what it must hold, and release() lets it go", () => {
    const w = new XmlWriter(16);
    const el = new XmlElement("message", NS_CLIENT, { to: "romeo@example.net", id: "m1" }, [new XmlElement("body", NS_CLIENT, null, ["hello"])]);
    const buffers = new Set<ArrayBufferLike>();
    for (let i = 0; i < 2000; i++) buffers.add(w.element(el, context).takeShared().buffer);
    for (const b of buffers) expect(b.byteLength).toBeLessThanOrEqual(16 * 1024);
    // Slabs, not one buffer per element.
    expect(buffers.size).toBeLessThan(30);
    w.release();
    expect(w.length).toBe(0);
    expect(w.element(el, context).takeShared()).toEqual(serialize(el, context));
  });
});
