// The compact parser of browser builds (src/element-parser.ts) against the streaming parser: for valid,
// mutated and nasty RFC 7395 messages, under default and small limits, both give the same tree or the same
// error condition. The streaming side is StreamParser in "fragments" framing used as FramedParser.parse
// uses it, with and without the WebAssembly fast path.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { parseElementMessage } from "../src/element-parser.js";
import { DEFAULT_XML_LIMITS, type XmlElement, type XmlError, type XmlLimits } from "../src/index.js";
import { StreamParser } from "../src/parser.js";
import { mutateBytes, writeVaried, xmlTree } from "./arbitraries.js";
import { bytes } from "./helpers.js";

/** What FramedParser.parse gives for one message, on the streaming parser. */
function streaming(message: Uint8Array, limits: Partial<XmlLimits>, fastPath: boolean): XmlElement | XmlError {
  const parser = new StreamParser({ framing: "fragments", limits, fastPath });
  parser.push(message);
  const first = parser.next();
  if (first === undefined) return parser.error ?? { condition: "not-well-formed", text: "incomplete", offset: 0 };
  if (first.kind === "error") return first.error;
  if (first.kind !== "element") return { condition: "not-well-formed", text: "unexpected", offset: 0 };
  const second = parser.next();
  if (second?.kind === "error") return second.error;
  if (second !== undefined || parser.bufferedBytes > 0 || parser.lastElementEnd < message.length && !/^[ \t\r\n]*$/.test(Buffer.from(message.subarray(parser.lastElementEnd)).toString("latin1"))) {
    return { condition: "not-well-formed", text: "not exactly one element", offset: 0 };
  }
  return first.element;
}

/** An exact, comparable rendering: attributes in order, text children as they are (not merged). */
function outcome(r: XmlElement | XmlError): string {
  if ("condition" in r) return `error ${r.condition}`;
  const dump = (el: XmlElement): unknown => [
    el.name,
    el.ns,
    el.attributes().map((a) => [a.ns, a.name, a.value]),
    el.children.map((c) => (typeof c === "string" ? c : dump(c))),
  ];
  return JSON.stringify(dump(r));
}

const NASTY = [
  "<!--x-->", "<!DOCTYPE a>", "<?pi x?>", "<?xml version='1.0'?>", "<?xml ", "<![CDATA[x]]>", "<![CDATA[", "]]>", "]]", "&", "&lt;", "&foo;",
  "&#0;", "&#x110000;", "&#xD800;", "&#65;", "&#x41", "&amp", "&#", "&;", "&1;", "&#xFFFE;", "&a:b;", "\r", "\r\n", "\u0000", "\u0001", "\u000b",
  "\ufffe", "\uffff", "\ufeff", "\u00e9", "\ud83d\ude00", "<", ">", "'", '"', "=", "/", "/>", "</a>", "</x>", "<a/>", "<b>", ":", "a:", ":a", "1a",
  " xmlns='urn:x'", " xmlns=''", " xmlns:p='urn:p'", " xmlns:p=''", " xmlns:xml='urn:x'", " xmlns:xml='http://www.w3.org/XML/1998/namespace'",
  " xmlns:xmlns='urn:x'", " xmlns='http://www.w3.org/XML/1998/namespace'", " xmlns:q='http://www.w3.org/2000/xmlns/'", " p:a='1'", " q:a='1'",
  " xml:lang='en'", " a='1'", " a='1' a='2'", " a=\"<\"", " a='\t\n\r\n'", "<p:x xmlns:p='urn:p'/>", "<p:x/>", "<xmlns:x/>", "\u00b7", "\u0300",
];
const RAW = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xef, 0xbf, 0xbe], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xef, 0xbb, 0xbf], [0xfe, 0xff], [0x00]];
const snippet = fc.oneof(fc.constantFrom(...NASTY).map((s) => Array.from(new TextEncoder().encode(s))), fc.constantFrom(...RAW));

const limitsArb: fc.Arbitrary<Partial<XmlLimits>> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({}) },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        maxStanzaBytes: fc.integer({ min: 1, max: 400 }),
        maxDepth: fc.integer({ min: 1, max: 6 }),
        maxElements: fc.integer({ min: 1, max: 12 }),
        maxAttributes: fc.integer({ min: 0, max: 4 }),
        maxNameLength: fc.integer({ min: 1, max: 12 }),
        maxBufferedBytes: fc.integer({ min: 1, max: 500 }),
      },
      { requiredKeys: [] },
    ),
  },
);

const PROLOGUE = ["", " ", "\r\n", "\ufeff", "<?xml version='1.0'?>", "\ufeff<?xml version='1.0' encoding='utf-8'?>\n", "<?xml version='1.1'?>", "<?xml encoding='UTF-8'?>"];
const EPILOGUE = ["", " ", "\n\t", "<a/>", " x", "<!--c-->", "<b>", "<b>text", "</a>"];
const ROOT_SCOPE = { defaultNs: "", prefixes: new Map<string, string>() };

/** A valid message (a varied rendering of a random tree) with a random prologue and epilogue. */
const message = fc
  .tuple(xmlTree, fc.integer(), fc.constantFrom(...PROLOGUE), fc.constantFrom(...EPILOGUE), fc.nat(10))
  .map(([tree, seed, pro, epi, roll]) => Array.from(bytes((roll < 7 ? "" : pro) + writeVaried(tree, seed, ROOT_SCOPE) + (roll < 7 ? "" : epi))));

const mutation = fc.record({
  kind: fc.constantFrom("set", "insert", "delete", "truncate", "snippet"),
  at: fc.nat(),
  byte: fc.nat(255),
  snippet,
});

/**
 * The compact parser must give exactly what the streaming parser's JavaScript path gives (the path browser
 * builds run). The WebAssembly fast path may differ in one documented way: on a message that ends inside
 * an element it waits for the rest (so FramedParser reports an incomplete message, not-well-formed) where
 * the JavaScript path already names an error in the bytes it has.
 */
function compare(input: Uint8Array, limits: Partial<XmlLimits>): void {
  const want = outcome(streaming(input, limits, false));
  const got = outcome(parseElementMessage(input, { ...DEFAULT_XML_LIMITS, ...limits }));
  if (got !== want) {
    throw new Error(`differs on ${JSON.stringify(Buffer.from(input).toString("latin1"))} limits ${JSON.stringify(limits)}:\n  compact   ${got}\n  streaming ${want}`);
  }
  const fast = outcome(streaming(input, limits, true));
  if (fast !== want && fast !== "error not-well-formed") {
    throw new Error(`fast path differs on ${JSON.stringify(Buffer.from(input).toString("latin1"))} limits ${JSON.stringify(limits)}:\n  fast ${fast}\n  js   ${want}`);
  }
}

describe("parseElementMessage: the same trees and error conditions as the streaming parser", () => {
  it("fixed cases found by the property (an entity name with a byte that is not UTF-8)", () => {
    for (const input of [bytes("<a>&amp", [0x80], ";</a>"), bytes("<a b='&lt", [0xc3, 0xa9], ";'/>"), bytes("<a>&", [0xff], "t;</a>")]) compare(input, {});
  });

  it("fixed case found by the property (seed 1505411931): a `<` in an unclosed declaration value is malformed at once, not over the buffer limit", () => {
    for (const limits of [{}, { maxBufferedBytes: 1 }]) compare(bytes("<?xml version='1.1 ?><p0:x  xm"), limits);
    expect(parseElementMessage(bytes("<?xml version='1.1 ?><p0:x  xm"), { ...DEFAULT_XML_LIMITS, maxBufferedBytes: 1 })).toMatchObject({ condition: "not-well-formed" });
  });

  it("fixed cases found by the property (seeds 1726798031, 1505411931): the byte window is checked before the declaration's end is looked for", () => {
    compare(bytes(`<?xml version='<!--x-->1.0'?><p0:lang\nxmlns:p0="urn:a"`), { maxStanzaBytes: 16 });
    compare(bytes("<?xml version='1.0' encoding='<!--x-->utf-8'?><a/>"), {});
    expect(parseElementMessage(bytes("<?xml version='<!--x-->1.0'?><a/>"), { ...DEFAULT_XML_LIMITS, maxStanzaBytes: 16 })).toMatchObject({ condition: "policy-violation" });
  });

  it("valid messages, with prologues and epilogues", () => {
    fc.assert(
      fc.property(message, (data) => compare(Uint8Array.from(data), {})),
      fuzz(300),
    );
  });

  it("mutated messages (random bytes, nasty snippets, truncation) under default and small limits", () => {
    const params = fuzz(2_000);
    // Trees cost more to generate than to parse: a corpus drawn once with the run's seed, mutated per case.
    const corpus = fc.sample(message, { numRuns: 200, seed: params.seed ?? 0 });
    fc.assert(
      fc.property(fc.nat(corpus.length - 1), fc.array(mutation, { maxLength: 4 }), limitsArb, (pick, mutations, limits) =>
        compare(mutateBytes(corpus[pick]!, mutations), limits),
      ),
      params,
    );
  });

  it("short messages built from nasty pieces only", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(snippet, fc.constantFrom(...["<a>", "</a>", "<a ", "'", "x"].map((s) => Array.from(bytes(s))))), { maxLength: 8 }), limitsArb, (pieces, limits) =>
        compare(Uint8Array.from(pieces.flat()), limits),
      ),
      fuzz(2_000),
    );
  });
});
