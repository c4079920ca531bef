import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import { FramedParser, XmlElement, serialize, toXmlString, xml } from "@xmpp-sansio/xml";
import { NS_XMPP_SASL, SASL_FAILURE_CONDITIONS, buildSaslFailure, isSaslFailureCondition, parseSaslFailure } from "../src/index.js";
import { garbageElement } from "./garbage.js";

function reparse(el: XmlElement): XmlElement {
  const parsed = new FramedParser().parse(serialize(el));
  if (!(parsed instanceof XmlElement)) throw new Error(`did not parse: ${JSON.stringify(parsed)}`);
  return parsed;
}

describe("SASL failures (RFC 6120 §6.5)", () => {
  it("lists the 11 conditions of §6.5.1–§6.5.11", () => {
    expect([...SASL_FAILURE_CONDITIONS]).toEqual([
      "aborted",
      "account-disabled",
      "credentials-expired",
      "encryption-required",
      "incorrect-encoding",
      "invalid-authzid",
      "invalid-mechanism",
      "malformed-request",
      "mechanism-too-weak",
      "not-authorized",
      "temporary-auth-failure",
    ]);
    expect(isSaslFailureCondition("bad-protocol")).toBe(false);
  });

  it.each(SASL_FAILURE_CONDITIONS)("round trips <%s/> over the wire", (condition) => {
    expect(parseSaslFailure(reparse(buildSaslFailure({ condition })))).toEqual({ condition });
    const full = { condition, text: "Call 212-555-1212 for assistance.", lang: "en" };
    expect(parseSaslFailure(reparse(buildSaslFailure(full)))).toEqual(full);
  });

  it("builds the §6.4.5 shape", () => {
    expect(toXmlString(buildSaslFailure({ condition: "account-disabled", text: "x", lang: "en" }))).toBe(
      "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><account-disabled/><text xml:lang='en'>x</text></failure>",
    );
    expect(() => buildSaslFailure({ condition: "bad-protocol" as never })).toThrow(TypeError);
  });

  it("treats an unknown or missing condition as not-authorized (§6.5) and says what it was", () => {
    const unknown = xml("failure", { xmlns: NS_XMPP_SASL }, xml("bad-protocol", {}), xml("text", {}, "hm"));
    expect(parseSaslFailure(reparse(unknown))).toEqual({ condition: "not-authorized", unknownCondition: "bad-protocol", text: "hm" });
    expect(parseSaslFailure(xml("failure", { xmlns: NS_XMPP_SASL }))).toEqual({ condition: "not-authorized", unknownCondition: "" });
    // A known name in another namespace is not a SASL condition.
    const foreign = xml("failure", { xmlns: NS_XMPP_SASL }, xml("aborted", { xmlns: "urn:example" }));
    expect(parseSaslFailure(foreign)).toEqual({ condition: "not-authorized", unknownCondition: "" });
  });

  it("never throws on garbage (fast-check)", () => {
    fc.assert(
      fc.property(garbageElement, (el) => {
        expect(isSaslFailureCondition(parseSaslFailure(el).condition)).toBe(true);
      }),
      fuzz(2000),
    );
    expect(parseSaslFailure(undefined as never)).toEqual({ condition: "not-authorized", unknownCondition: "" });
  });
});
