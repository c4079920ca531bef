import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { FramedParser, NS_CLIENT, NS_FRAMING, serialize, XmlElement, type XmlError } from "../src/index.js";
import { writeVaried, xmlTree } from "./arbitraries.js";
import { bytes } from "./helpers.js";

const OPEN = `<open xmlns='${NS_FRAMING}' to='example.com' version='1.0'/>`;

function parse(message: string | Uint8Array, parser = new FramedParser()) {
  return parser.parse(typeof message === "string" ? bytes(message) : message);
}

describe("FramedParser (RFC 7395)", () => {
  it("parses one complete element per message", () => {
    const open = parse(OPEN);
    if (!(open instanceof XmlElement)) throw new Error(open.text);
    expect(open.is("open", NS_FRAMING)).toBe(true);
    expect(open.attr("to")).toBe("example.com");
    const msg = parse(`\n <message xmlns='${NS_CLIENT}'><body>hi &amp; bye</body></message>\r\n`);
    if (!(msg instanceof XmlElement)) throw new Error(msg.text);
    expect(msg.getChildText("body")).toBe("hi & bye");
    const close = parse(`<close xmlns='${NS_FRAMING}'/>`);
    expect(close instanceof XmlElement && close.is("close", NS_FRAMING)).toBe(true);
  });

  it.each([
    ["a second element", `${OPEN}<message xmlns='${NS_CLIENT}'/>`, "not-well-formed"],
    ["an incomplete element", `<message xmlns='${NS_CLIENT}'><body>`, "not-well-formed"],
    ["an incomplete tag", "<message", "not-well-formed"],
    ["text only", "hello", "not-well-formed"],
    ["text after the element", `${OPEN}hello`, "not-well-formed"],
    ["text before the element", `hello${OPEN}`, "not-well-formed"],
    ["an empty message", "", "not-well-formed"],
    ["whitespace only", "  \n", "not-well-formed"],
    ["a duplicate attribute", "<open to='a' to='b'/>", "not-well-formed"],
    ["a comment", `<!--x-->${OPEN}`, "restricted-xml"],
    ["an undefined entity", `<message xmlns='${NS_CLIENT}'>&nbsp;</message>`, "restricted-xml"],
    ["an unbound prefix", "<stream:stream/>", "not-well-formed"],
  ])("refuses %s", (_name, message, condition) => {
    const r = parse(message);
    expect(r).not.toBeInstanceOf(XmlElement);
    expect((r as { condition: string }).condition).toBe(condition);
  });

  it("refuses invalid UTF-8 and applies limits", () => {
    const bad = parse(bytes(`<message xmlns='${NS_CLIENT}'>`, [0xc0, 0xaf], "</message>"));
    expect((bad as { condition: string }).condition).toBe("not-well-formed");
    const big = new FramedParser({ maxStanzaBytes: 100 }).parse(bytes(`<message xmlns='${NS_CLIENT}'>${"x".repeat(200)}</message>`));
    expect((big as { condition: string }).condition).toBe("policy-violation");
  });

  it("keeps no state between messages", () => {
    const framed = new FramedParser();
    expect(parse("<a>", framed)).not.toBeInstanceOf(XmlElement);
    expect(parse(OPEN, framed)).toBeInstanceOf(XmlElement);
    expect(parse("<a xmlns:p='urn:p'/>", framed)).toBeInstanceOf(XmlElement);
    expect(parse("<p:a/>", framed)).not.toBeInstanceOf(XmlElement);
  });

  // A message: a generated element written with varied syntax (prefixes, default namespaces, quoting),
  // maybe mutated (a byte flipped, cut short, or a second element appended), or one of the hostile shapes.
  const hostile = ["<a>", "<p:a/>", "<a xmlns:p='urn:p'><p:b/>", "x", "", " ", `${OPEN}${OPEN}`, "<a></b>", "\uFEFF<a/>", "<?xml version='1.0'?><a/>"];
  const message = fc.oneof(
    fc.tuple(xmlTree, fc.integer(), fc.nat(), fc.constantFrom("none", "none", "flip", "cut", "twice")).map(([tree, seed, at, how]) => {
      const b = bytes(writeVaried(tree, seed));
      if (how === "flip" && b.length > 0) b[at % b.length]! ^= 0x20;
      if (how === "cut") return b.subarray(0, at % (b.length + 1));
      if (how === "twice") return bytes(serialize(tree), serialize(tree));
      return b;
    }),
    fc.constantFrom(...hostile).map((s) => bytes(s)),
  );
  const view = (r: XmlElement | XmlError) => (r instanceof XmlElement ? new TextDecoder().decode(serialize(r)) : `${r.condition} at ${r.offset}: ${r.text}`);

  it("one parser reused for a sequence of messages answers exactly as a fresh parser per message", () => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), (messages) => {
        const reused = new FramedParser({ maxStanzaBytes: 4096 });
        for (const m of messages) expect(view(reused.parse(m))).toBe(view(new FramedParser({ maxStanzaBytes: 4096 }).parse(m)));
      }),
      fuzz(300),
    );
  });
  it("parseEach: the messages of a read parsed together answer exactly as one by one, whatever the grouping", () => {
    // Clean messages (with whitespace around the element, a byte-order mark or XML declaration at the
    // start), elements cut across two messages, two elements in one, whitespace-only and hostile messages.
    const around = fc.constantFrom("", "", " ", "\n", "\r\n\t ", "\uFEFF", "<?xml version='1.0'?>");
    const clean = fc.tuple(xmlTree, fc.integer(), around, fc.constantFrom("", "", " ", "\n")).map(([tree, seed, before, after]) => [bytes(before, writeVaried(tree, seed), after)]);
    const split = fc.tuple(xmlTree, fc.integer(), fc.nat()).map(([tree, seed, at]) => {
      const b = bytes(writeVaried(tree, seed));
      const cut = at % (b.length + 1);
      return [b.subarray(0, cut), b.subarray(cut)];
    });
    const run = fc.array(fc.oneof({ weight: 6, arbitrary: clean }, { weight: 1, arbitrary: split }, { weight: 2, arbitrary: message.map((m) => [m]) }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(run, fc.array(fc.nat(), { maxLength: 4 }), (parts, cuts) => {
        const messages = parts.flat();
        const expected = messages.map((m) => view(new FramedParser({ maxStanzaBytes: 4096 }).parse(m)));
        // The messages in groups (reads), one FramedParser for all of them, as a session has.
        const framed = new FramedParser({ maxStanzaBytes: 4096 });
        const bounds = [...new Set([0, ...cuts.map((c) => c % (messages.length + 1)), messages.length])].sort((a, b) => a - b);
        const got: string[] = [];
        for (let g = 1; g < bounds.length; g++) got.push(...framed.parseEach(messages.slice(bounds[g - 1], bounds[g])).map(view));
        expect(got).toEqual(expected);
      }),
      fuzz(400),
    );
  });

  it("parseEach: a bad message in the middle of a batch fails exactly as alone; the others still parse", () => {
    const ok = (i: number) => bytes(`<message xmlns='${NS_CLIENT}' id='m${i}'><body>☃ ${i}</body></message>`);
    const cases: Array<[string, Uint8Array[]]> = [
      ["an element cut across two messages", [ok(1), bytes(`<message xmlns='${NS_CLIENT}'>`), bytes("</message>"), ok(2)]],
      ["two elements in one message", [ok(1), bytes(serialize(new XmlElement("a", "urn:a")), serialize(new XmlElement("b", "urn:b"))), ok(2)]],
      ["a whitespace-only message", [ok(1), bytes("  "), ok(2)]],
      ["text after the element", [ok(1), bytes(`<a xmlns='urn:a'/>x`), ok(2)]],
      ["invalid UTF-8", [ok(1), bytes(`<message xmlns='${NS_CLIENT}'>`, [0xc0, 0xaf], "</message>"), ok(2)]],
      ["a duplicate attribute", [ok(1), bytes("<a x='1' x='2'/>"), ok(2)]],
    ];
    for (const [name, messages] of cases) {
      const got = new FramedParser().parseEach(messages);
      const alone = messages.map((m) => new FramedParser().parse(m));
      expect(got.map(view), name).toEqual(alone.map(view));
      expect(got[0], name).toBeInstanceOf(XmlElement);
      expect(got.at(-1), name).toBeInstanceOf(XmlElement);
      expect(got.slice(1, -1).some((r) => !(r instanceof XmlElement)), name).toBe(true);
    }
    // What a message may start with (a byte-order mark, an XML declaration) is refused in the middle of
    // the batch's concatenation, yet fine in a message of its own: the same answer as alone.
    for (const start of ["\uFEFF", "<?xml version='1.0'?>"]) {
      const got = new FramedParser().parseEach([ok(1), bytes(`${start}<a xmlns='urn:a'/>`), ok(2)]);
      expect(got.every((r) => r instanceof XmlElement)).toBe(true);
    }
  });
});
