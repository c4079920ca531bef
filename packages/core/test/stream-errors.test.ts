import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { FramedParser, NS_STREAMS, XmlElement, serialize, toXmlString, xml } from "@xmpp-sansio/xml";
import {
  NS_XMPP_STREAMS,
  STREAM_ERROR_CONDITIONS,
  type StreamError,
  StreamErrorException,
  buildStreamError,
  isStreamErrorCondition,
  parseHostPort,
  parseStreamError,
} from "../src/index.js";
import { garbageElement } from "./garbage.js";

/** Serialize, parse the bytes back (as a peer would receive them), and read the stream error. */
function wire(el: XmlElement): StreamError {
  const parsed = new FramedParser().parse(serialize(el));
  if (!(parsed instanceof XmlElement)) throw new Error(`did not parse: ${JSON.stringify(parsed)}`);
  return parseStreamError(parsed);
}

function sample(condition: (typeof STREAM_ERROR_CONDITIONS)[number]): StreamError {
  return condition === "see-other-host" ? { condition, seeOtherHost: "alt.example.com:5223" } : { condition };
}

describe("stream error conditions", () => {
  it("lists all 25 conditions of RFC 6120 §4.9.3, distinct", () => {
    expect(STREAM_ERROR_CONDITIONS).toHaveLength(25);
    expect(new Set(STREAM_ERROR_CONDITIONS).size).toBe(25);
    for (const c of STREAM_ERROR_CONDITIONS) expect(isStreamErrorCondition(c)).toBe(true);
    expect(isStreamErrorCondition("payment-required")).toBe(false);
    expect(isStreamErrorCondition("toString")).toBe(false);
  });

  it.each(STREAM_ERROR_CONDITIONS)("round trips <%s/> over the wire", (condition) => {
    const err = sample(condition);
    expect(wire(buildStreamError(err))).toEqual(err);
    const full: StreamError = { ...err, text: "Replaced by new connection", lang: "en" };
    expect(wire(buildStreamError(full))).toEqual(full);
  });

  it("builds the RFC 6120 §4.9.2 shape", () => {
    const el = buildStreamError({
      condition: "conflict",
      text: "Replaced",
      lang: "en",
      applicationCondition: xml("escape-your-data", { xmlns: "application-ns" }),
    });
    expect(el.is("error", NS_STREAMS)).toBe(true);
    expect(el.elements().map((c) => [c.name, c.ns])).toEqual([
      ["conflict", NS_XMPP_STREAMS],
      ["text", NS_XMPP_STREAMS],
      ["escape-your-data", "application-ns"],
    ]);
    expect(el.getChild("text", NS_XMPP_STREAMS)?.attr("xml:lang")).toBe("en");
    expect(toXmlString(el)).toContain("<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
  });

  it("round trips an application-specific condition (a copy, not the caller's object)", () => {
    const app = xml("escape-your-data", { xmlns: "application-ns" }, xml("detail", {}, "x"));
    const el = buildStreamError({ condition: "undefined-condition", applicationCondition: app });
    const back = wire(el);
    expect(back.applicationCondition?.equals(app)).toBe(true);
    expect(el.children).not.toContain(app);
  });

  it("refuses invalid input from the application", () => {
    expect(() => buildStreamError({ condition: "nope" as never })).toThrow(TypeError);
    expect(() => buildStreamError({ condition: "see-other-host" })).toThrow(TypeError);
    expect(() => buildStreamError({ condition: "see-other-host", seeOtherHost: "2001:db8::1" })).toThrow(TypeError);
    expect(() => buildStreamError({ condition: "see-other-host", seeOtherHost: "a b" })).toThrow(TypeError);
    expect(() => buildStreamError({ condition: "conflict", seeOtherHost: "example.org" })).toThrow(TypeError);
    expect(() => buildStreamError({ condition: "conflict", applicationCondition: xml("foo", {}) })).toThrow(TypeError);
    expect(() => buildStreamError({ condition: "conflict", applicationCondition: new XmlElement("foo", NS_XMPP_STREAMS) })).toThrow(TypeError);
  });
});

describe("see-other-host (RFC 6120 §4.9.3.19)", () => {
  it.each([
    ["example.org", { host: "example.org" }],
    ["Example.ORG:5223", { host: "example.org", port: 5223 }],
    ["example.org.", { host: "example.org" }],
    ["192.0.2.1", { host: "192.0.2.1" }],
    ["192.0.2.1:65535", { host: "192.0.2.1", port: 65535 }],
    ["[2001:DB8::1]", { host: "[2001:db8::1]" }],
    ["[2001:db8::1]:5222", { host: "[2001:db8::1]", port: 5222 }],
    ["[::ffff:192.0.2.1]:1", { host: "[::ffff:192.0.2.1]", port: 1 }],
    ["bücher.example", { host: "bücher.example" }],
  ])("accepts %s", (text, expected) => {
    expect(parseHostPort(text)).toEqual(expected);
  });

  it.each([
    "",
    "2001:db8::1",
    "[2001:db8::1",
    "[2001:db8::1]5222",
    "[2001:db8::1]:",
    "[not-ip]",
    "example.org:",
    "example.org:0",
    "example.org:65536",
    "example.org:+80",
    "example.org:80:80",
    ":5222",
    "exa mple.org",
    "example..org",
    ".",
    "-bad.example",
    "user@example.org",
    "example.org/res",
    "a".repeat(2000),
  ])("rejects %j", (text) => {
    expect(parseHostPort(text)).toBeUndefined();
  });

  it("keeps a valid target (trimmed) and drops an invalid one when parsing", () => {
    const ok = new XmlElement("error", NS_STREAMS, null, [new XmlElement("see-other-host", NS_XMPP_STREAMS, null, ["\n  [2001:db8::9]:5222 \n"])]);
    expect(parseStreamError(ok)).toEqual({ condition: "see-other-host", seeOtherHost: "[2001:db8::9]:5222" });
    const bad = new XmlElement("error", NS_STREAMS, null, [new XmlElement("see-other-host", NS_XMPP_STREAMS, null, ["evil host"])]);
    expect(parseStreamError(bad)).toEqual({ condition: "see-other-host" });
  });
});

describe("parseStreamError", () => {
  it("maps an unknown or missing condition to undefined-condition (RFC 6120 §4.9.2)", () => {
    const unknown = new XmlElement("error", NS_STREAMS, null, [new XmlElement("future-condition", NS_XMPP_STREAMS)]);
    expect(parseStreamError(unknown).condition).toBe("undefined-condition");
    expect(parseStreamError(new XmlElement("error", NS_STREAMS)).condition).toBe("undefined-condition");
    // A condition element in the wrong namespace is not a defined condition, but an application one.
    const wrongNs = new XmlElement("error", NS_STREAMS, null, [new XmlElement("conflict", "jabber:client")]);
    const parsed = parseStreamError(wrongNs);
    expect(parsed.condition).toBe("undefined-condition");
    expect(parsed.applicationCondition?.name).toBe("conflict");
  });

  it("reads draft-22's <xml-not-well-formed/> (RFC 3920's name) as not-well-formed", () => {
    // As a peer sends it (draft-ietf-xmpp-core-22 §4.7.3 and its "gone bad" example), over the wire.
    const bytes = new TextEncoder().encode(
      "<stream:error xmlns:stream='http://etherx.jabber.org/streams'><xml-not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" +
        "<text xml:lang='en' xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Some special application diagnostic information!</text>" +
        "<escape-your-data xmlns='application-ns'/></stream:error>",
    );
    const el = new FramedParser().parse(bytes) as XmlElement;
    const err = parseStreamError(el);
    expect(err.condition).toBe("not-well-formed");
    expect(err.text).toBe("Some special application diagnostic information!");
    expect(err.applicationCondition?.name).toBe("escape-your-data");
    // Only in the streams namespace; other unknown names stay undefined-condition.
    expect(parseStreamError(new XmlElement("error", NS_STREAMS, null, [new XmlElement("xml-not-well-formed", "urn:other")])).condition).toBe("undefined-condition");
    expect(parseStreamError(new XmlElement("error", NS_STREAMS, null, [new XmlElement("xml-restricted", NS_XMPP_STREAMS)])).condition).toBe("undefined-condition");
  });

  it("never throws on garbage (fast-check)", () => {
    fc.assert(
      fc.property(garbageElement, (el) => {
        const err = parseStreamError(el);
        expect(isStreamErrorCondition(err.condition)).toBe(true);
        if (err.seeOtherHost !== undefined) expect(parseHostPort(err.seeOtherHost)).toBeDefined();
      }),
      fuzz(2000),
    );
  });

  it("never throws even on a non-element", () => {
    expect(parseStreamError(null as never)).toEqual({ condition: "undefined-condition" });
    expect(parseStreamError({ children: 5 } as never)).toEqual({ condition: "undefined-condition" });
  });
});

describe("StreamErrorException", () => {
  it("carries the error and its origin", () => {
    const e = new StreamErrorException({ condition: "system-shutdown", text: "bye" });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("StreamErrorException");
    expect(e.condition).toBe("system-shutdown");
    expect(e.origin).toBe("remote");
    expect(e.message).toContain("system-shutdown");
    expect(e.message).toContain("bye");
    const cause = new Error("x");
    const local = new StreamErrorException({ condition: "policy-violation" }, "local", { cause });
    expect(local.origin).toBe("local");
    expect(local.cause).toBe(cause);
  });
});
