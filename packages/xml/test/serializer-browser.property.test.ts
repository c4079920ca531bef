// The compact serializer of browser builds (src/serializer.browser.ts) against the byte serializer: for
// valid and damaged trees in every namespace context, through element(), startTag(), text() and raw(), both
// write the same bytes, or both refuse with the same message (the first problem found is the same one).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import * as compact from "../src/serializer.browser.js";
import * as full from "../src/serializer.js";
import { type NamespaceContext, NS_CLIENT, NS_STREAMS, XmlElement } from "../src/index.js";
import { BAD, CONTEXTS, damagedTree, EDGE, xmlText, xmlTree } from "./arbitraries.js";
import { elements, parseWhole, stream } from "./helpers.js";
import { prefixHeavyExpected, prefixHeavyMessage } from "./shapes.js";

type Writer = full.XmlWriter | compact.XmlWriter;
type Step = (w: Writer) => unknown;

/** What one call does to a fresh writer: the bytes written (and what it returned), or the refusal. */
function run(w: Writer, steps: readonly Step[], Refusal: typeof full.XmlSerializeError | typeof compact.XmlSerializeError): string[] {
  const seen: string[] = [];
  for (const step of steps) {
    try {
      const r = step(w);
      seen.push(r === w ? "" : JSON.stringify(r, (_k, v) => (v instanceof Map ? [...v] : v)));
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      seen.push(`refused: ${error.name}: ${error.message}`);
    }
    seen.push(`length ${w.length}`);
  }
  seen.push(Buffer.from(w.take()).toString("hex"));
  return seen;
}

function same(steps: readonly Step[]): void {
  expect(run(new compact.XmlWriter(), steps, compact.XmlSerializeError)).toEqual(run(new full.XmlWriter(16), steps, full.XmlSerializeError));
}

const odd = fc.oneof(fc.constantFrom(...BAD), fc.constantFrom(...EDGE), xmlText(8), fc.string({ maxLength: 6 }));
const context = fc.constantFrom(...CONTEXTS);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.oneof(xmlTree, damagedTree), context).map(([t, c]): Step => (w) => w.element(t, c)) },
  { weight: 1, arbitrary: odd.map((s): Step => (w) => w.text(s)) },
  { weight: 1, arbitrary: odd.map((s): Step => (w) => w.raw(s)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.oneof(xmlTree, damagedTree), context, fc.constantFrom("", "stream", "1x", "a:b"))
      .map(([t, c, p]): Step => (w) => w.startTag(t, c, p)),
  },
  { weight: 1, arbitrary: fc.constantFrom<Step>((w) => w.take().length, (w) => w.takeShared().length, (w) => w.reset(), (w) => w.release()) },
);

describe("compact (browser) serializer against the byte serializer", () => {
  it("writes the same bytes for every tree both accept, and refuses the rest with the same message", () => {
    fc.assert(
      fc.property(fc.oneof(xmlTree, damagedTree), context, (tree, ctx) => {
        same([(w) => w.element(tree, ctx)]);
        const string = (f: typeof full.toXmlString): string => {
          try {
            return f(tree, ctx);
          } catch (error) {
            return `refused: ${(error as Error).message}`;
          }
        };
        expect(string(compact.toXmlString)).toBe(string(full.toXmlString));
      }),
      fuzz(1000),
    );
  });

  it("agrees over sequences of calls (text, raw, startTag, take, reset, release)", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 8 }), (steps) => same(steps)),
      fuzz(500),
    );
  });

  it("writes the RFC 7395 shapes the WebSocket framing writes", () => {
    const features = new XmlElement("features", NS_STREAMS, null, [new XmlElement("mechanisms", "urn:ietf:params:xml:ns:xmpp-sasl")]);
    const streamCtx: NamespaceContext = { defaultNs: "", prefixes: new Map([["stream", NS_STREAMS]]) };
    same([(w) => w.startTag(features, streamCtx, "stream"), (w) => w.raw("</stream:features>")]);
    same([(w) => w.element(new XmlElement("message", NS_CLIENT, { to: "a@b", "xml:lang": "en" }, ["x"]))]);
  });

  it("writes the 60 × 32 prefix-heavy message as the byte writer does, and siblings in a context with ns<n> prefixes", () => {
    const [msg] = elements(parseWhole(stream(prefixHeavyMessage(60, 32))));
    const streamCtx: NamespaceContext = { defaultNs: NS_CLIENT, prefixes: new Map([["stream", NS_STREAMS]]) };
    expect(compact.toXmlString(msg!, streamCtx)).toBe(prefixHeavyExpected(60, 32));
    const two = new XmlElement("m", NS_CLIENT, null, [msg!.firstElement()!, msg!.firstElement()!]);
    same([(w) => w.element(two, { defaultNs: NS_CLIENT, prefixes: new Map([["ns2", "urn:0:5"], ["ns4", "urn:x"], ["ns1", "urn:x"]]) })]);
    // A namespace URI that looks like a generated prefix is not a prefix.
    same([(w) => w.element(two, { defaultNs: "", prefixes: new Map([["p", "ns1"], ["q", "ns2"]]) })]);
  });

  it("writes a tree deeper than the call stack", () => {
    let el = new XmlElement("a", "");
    for (let i = 0; i < 100_000; i++) el = new XmlElement("a", "", null, [el]);
    const bytes = compact.serialize(el);
    expect(bytes.length).toBe(100_001 * 7 - 3);
  });
});
