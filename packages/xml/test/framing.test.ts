import { describe, expect, it } from "vitest";
import { FramedParser, NS_CLIENT, NS_FRAMING, XmlElement } from "../src/index.js";
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
});
