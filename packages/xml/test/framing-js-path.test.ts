// FramedParser on the streaming parser's JavaScript path alone (as where WebAssembly is unavailable): a
// message whose second element is left open leaves no event and nothing buffered, and must still be refused.
import { describe, expect, it, vi } from "vitest";
import { FramedParser, XmlElement } from "../src/index.js";
import { bytes } from "./helpers.js";

vi.mock("../src/fast-scan-load.js", () => ({ fastScanner: () => null }));

describe("FramedParser without the fast path", () => {
  it.each(["<a/><b>", "<a/><b>hello", "<a/> <b><c/>", "<a/><b>&amp;"])("refuses %j (a second element left open)", (message) => {
    const r = new FramedParser().parse(bytes(message));
    expect(r).not.toBeInstanceOf(XmlElement);
    expect((r as { condition: string }).condition).toBe("not-well-formed");
    const each = new FramedParser().parseEach([bytes("<x/>"), bytes(message)]);
    expect(each[0]).toBeInstanceOf(XmlElement);
    expect((each[1] as { condition: string }).condition).toBe("not-well-formed");
  });

  it("still accepts one element with whitespace around it", () => {
    expect(new FramedParser().parse(bytes(" <a>x</a>\r\n"))).toBeInstanceOf(XmlElement);
    const each = new FramedParser().parseEach([bytes("<x/>"), bytes(" <a>x</a>\n")]);
    expect(each.every((e) => e instanceof XmlElement)).toBe(true);
  });
});
