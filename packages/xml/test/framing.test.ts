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

  it("one parser reused for a sequence of messages answers exactly as a fresh parser per message", () => {
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
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 8 }), (messages) => {
        const reused = new FramedParser({ maxStanzaBytes: 4096 });
        for (const m of messages) expect(view(reused.parse(m))).toBe(view(new FramedParser({ maxStanzaBytes: 4096 }).parse(m)));
      }),
      fuzz(300),
    );
  });
});
