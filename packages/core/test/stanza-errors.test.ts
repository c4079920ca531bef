import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import { FramedParser, NS_CLIENT, NS_SERVER, XmlElement, serialize, toXmlString, xml } from "@xmpp-sansio/xml";
import {
  LEGACY_ERROR_CODES,
  NS_XMPP_STANZAS,
  STANZA_ERROR_CONDITIONS,
  STANZA_ERROR_TYPES,
  type StanzaError,
  type StanzaErrorCondition,
  buildStanzaError,
  conditionForLegacyCode,
  defaultErrorType,
  errorReply,
  isStanzaErrorCondition,
  isStanzaErrorType,
  legacyCodeFor,
  parseStanzaError,
  stanzaError,
} from "../src/index.js";
import { garbageElement } from "./garbage.js";

function reparse(el: XmlElement): XmlElement {
  const parsed = new FramedParser().parse(serialize(el));
  if (!(parsed instanceof XmlElement)) throw new Error(`did not parse: ${JSON.stringify(parsed)}`);
  return parsed;
}

/** RFC 6120 §8.3.3: the type each condition's subsection names first. */
const RFC_DEFAULT_TYPES: Record<StanzaErrorCondition, string> = {
  "bad-request": "modify",
  conflict: "cancel",
  "feature-not-implemented": "cancel",
  forbidden: "auth",
  gone: "cancel",
  "internal-server-error": "cancel",
  "item-not-found": "cancel",
  "jid-malformed": "modify",
  "not-acceptable": "modify",
  "not-allowed": "cancel",
  "not-authorized": "auth",
  "policy-violation": "modify",
  "recipient-unavailable": "wait",
  redirect: "modify",
  "registration-required": "auth",
  "remote-server-not-found": "cancel",
  "remote-server-timeout": "wait",
  "resource-constraint": "wait",
  "service-unavailable": "cancel",
  "subscription-required": "auth",
  "undefined-condition": "cancel",
  "unexpected-request": "wait",
};

/**
 * XEP-0086 §2, "Error codes to add to XMPP-style errors" (plus our 406 for policy-violation), grouped by
 * code as the conditions share them.
 */
const XEP0086_TABLE1_BY_CODE: ReadonlyArray<readonly [number, readonly StanzaErrorCondition[]]> = [
  [302, ["gone", "redirect"]],
  [400, ["bad-request", "jid-malformed", "unexpected-request"]],
  [401, ["not-authorized"]],
  [403, ["forbidden"]],
  [404, ["item-not-found", "recipient-unavailable", "remote-server-not-found"]],
  [405, ["not-allowed"]],
  [406, ["not-acceptable", "policy-violation"]],
  [407, ["registration-required", "subscription-required"]],
  [409, ["conflict"]],
  [500, ["internal-server-error", "resource-constraint", "undefined-condition"]],
  [501, ["feature-not-implemented"]],
  [503, ["service-unavailable"]],
  [504, ["remote-server-timeout"]],
];
const XEP0086_TABLE1 = Object.fromEntries(XEP0086_TABLE1_BY_CODE.flatMap(([code, conditions]) => conditions.map((c) => [c, code]))) as Record<
  StanzaErrorCondition,
  number
>;

/** XEP-0086 §3, "Mapping of legacy error codes to XMPP-style errors" (402 → undefined-condition, see docs). */
const XEP0086_TABLE2: Array<[number, StanzaErrorCondition, string]> = [
  [302, "redirect", "modify"],
  [400, "bad-request", "modify"],
  [401, "not-authorized", "auth"],
  [402, "undefined-condition", "auth"],
  [403, "forbidden", "auth"],
  [404, "item-not-found", "cancel"],
  [405, "not-allowed", "cancel"],
  [406, "not-acceptable", "modify"],
  [407, "registration-required", "auth"],
  [408, "remote-server-timeout", "wait"],
  [409, "conflict", "cancel"],
  [500, "internal-server-error", "wait"],
  [501, "feature-not-implemented", "cancel"],
  [502, "service-unavailable", "wait"],
  [503, "service-unavailable", "cancel"],
  [504, "remote-server-timeout", "wait"],
  [510, "service-unavailable", "cancel"],
];

describe("stanza error conditions", () => {
  it("lists all 22 conditions of RFC 6120 §8.3.3 with their default types", () => {
    expect(STANZA_ERROR_CONDITIONS).toHaveLength(22);
    expect([...STANZA_ERROR_CONDITIONS].sort()).toEqual(Object.keys(RFC_DEFAULT_TYPES).sort());
    for (const c of STANZA_ERROR_CONDITIONS) {
      expect(isStanzaErrorCondition(c)).toBe(true);
      expect(defaultErrorType(c)).toBe(RFC_DEFAULT_TYPES[c]);
    }
    expect(isStanzaErrorCondition("payment-required")).toBe(false);
    expect(isStanzaErrorCondition("constructor")).toBe(false);
    expect(STANZA_ERROR_TYPES).toEqual(["auth", "cancel", "continue", "modify", "wait"]);
    expect(isStanzaErrorType("continue")).toBe(true);
    expect(isStanzaErrorType("error")).toBe(false);
  });

  it.each(STANZA_ERROR_CONDITIONS)("round trips <%s/> over the wire", (condition) => {
    const err = stanzaError(condition, condition === "gone" || condition === "redirect" ? { redirect: "xmpp:romeo@example.net" } : {});
    const el = buildStanzaError(err);
    expect(el.is("error", NS_CLIENT)).toBe(true);
    expect(el.attr("code")).toBe(String(XEP0086_TABLE1[condition]));
    expect(parseStanzaError(reparse(el))).toEqual({ ...err, legacyCode: XEP0086_TABLE1[condition] });
    for (const type of STANZA_ERROR_TYPES) {
      const full: StanzaError = { ...err, type, text: "Wherefore art thou?", lang: "en", by: "example.net", legacyCode: 999 };
      expect(parseStanzaError(reparse(buildStanzaError(full, NS_SERVER)))).toEqual(full);
    }
  });

  it("builds the RFC 6120 §8.3.2 shape, application condition last", () => {
    const app = xml("too-many-subscriptions", { xmlns: "http://jabber.org/protocol/pubsub#errors" });
    const el = buildStanzaError({ ...stanzaError("policy-violation"), by: "example.net", text: "slow", lang: "en", applicationCondition: app });
    expect(el.elements().map((c) => `${c.name} ${c.ns}`)).toEqual([
      `policy-violation ${NS_XMPP_STANZAS}`,
      `text ${NS_XMPP_STANZAS}`,
      "too-many-subscriptions http://jabber.org/protocol/pubsub#errors",
    ]);
    expect(el.attrsObject()).toEqual({ type: "modify", by: "example.net", code: "406" });
    const back = parseStanzaError(reparse(el));
    expect(back.applicationCondition?.equals(app)).toBe(true);
    expect(el.children).not.toContain(app);
  });

  it("refuses invalid input from the application", () => {
    expect(() => buildStanzaError({ type: "cancel", condition: "payment-required" as never })).toThrow(TypeError);
    expect(() => buildStanzaError({ type: "retry" as never, condition: "conflict" })).toThrow(TypeError);
    expect(() => buildStanzaError({ ...stanzaError("conflict"), redirect: "xmpp:x@y" })).toThrow(TypeError);
    expect(() => buildStanzaError({ ...stanzaError("conflict"), legacyCode: 40 })).toThrow(TypeError);
    expect(() => buildStanzaError({ ...stanzaError("conflict"), legacyCode: 400.5 })).toThrow(TypeError);
    expect(() => buildStanzaError({ ...stanzaError("conflict"), applicationCondition: xml("no-ns", {}) })).toThrow(TypeError);
    expect(() => buildStanzaError({ ...stanzaError("conflict"), applicationCondition: new XmlElement("x", NS_XMPP_STANZAS) })).toThrow(TypeError);
  });
});

describe("XEP-0086 legacy codes", () => {
  it("condition → code follows XEP-0086 §2 for all 22 conditions", () => {
    for (const c of STANZA_ERROR_CONDITIONS) expect(legacyCodeFor(c)).toBe(XEP0086_TABLE1[c]);
  });

  it("code → condition/type follows XEP-0086 §3 exactly (the codes of the 2001 overview, 302–510)", () => {
    expect([...LEGACY_ERROR_CODES].sort()).toEqual(XEP0086_TABLE2.map(([code]) => code).sort());
    for (const [code, condition, type] of XEP0086_TABLE2) expect(conditionForLegacyCode(code)).toEqual({ condition, type });
    for (const code of [0, 200, 301, 410, 505, 599, 999, Number.NaN]) expect(conditionForLegacyCode(code)).toBeUndefined();
  });

  it("the two tables agree: every mapped condition maps back to its code, except the shared ones", () => {
    for (const [code, condition] of XEP0086_TABLE2) {
      if (code === 402 || code === 408 || code === 502 || code === 510) continue; // many-to-one or not in RFC 6120
      expect(legacyCodeFor(condition)).toBe(code);
    }
  });

  it.each(XEP0086_TABLE2)("parses a legacy-only <error code='%i'>", (code, condition, type) => {
    const msg = xml("message", { xmlns: NS_CLIENT, type: "error", from: "x@example.com" }, xml("error", { code: String(code) }, " Not Found "));
    expect(parseStanzaError(reparse(msg))).toEqual({ type, condition, text: "Not Found", legacyCode: code });
  });

  it("a legacy-only error with an unknown code is undefined-condition/cancel", () => {
    const el = xml("error", { xmlns: NS_CLIENT, code: "418" });
    expect(parseStanzaError(el)).toEqual({ type: "cancel", condition: "undefined-condition", legacyCode: 418 });
    expect(parseStanzaError(xml("error", { xmlns: NS_CLIENT, code: "4040" }))).toEqual({ type: "cancel", condition: "undefined-condition" });
  });

  it("the defined condition wins over a contradicting code", () => {
    const el = xml("error", { xmlns: NS_CLIENT, code: "404", type: "auth" }, xml("forbidden", { xmlns: NS_XMPP_STANZAS }));
    expect(parseStanzaError(el)).toEqual({ type: "auth", condition: "forbidden", legacyCode: 404 });
  });
});

describe("parseStanzaError", () => {
  it("accepts the stanza or its <error/> child", () => {
    const iq = xml("iq", { xmlns: NS_CLIENT, type: "error", id: "1" }, xml("query", { xmlns: "jabber:iq:roster" }), buildStanzaError(stanzaError("item-not-found")));
    const fromStanza = parseStanzaError(reparse(iq));
    expect(fromStanza).toEqual({ type: "cancel", condition: "item-not-found", legacyCode: 404 });
    expect(parseStanzaError(reparse(iq).getChild("error")!)).toEqual(fromStanza);
  });

  it("maps an unknown condition to undefined-condition (RFC 6120 §8.3.2), keeping the type", () => {
    const el = xml("error", { xmlns: NS_CLIENT, type: "auth" }, xml("payment-required", { xmlns: NS_XMPP_STANZAS }));
    expect(parseStanzaError(el)).toEqual({ type: "auth", condition: "undefined-condition" });
  });

  it("falls back to the default type when 'type' is missing or invalid", () => {
    const el = xml("error", { xmlns: NS_CLIENT, type: "fatal" }, xml("recipient-unavailable", { xmlns: NS_XMPP_STANZAS }));
    expect(parseStanzaError(el).type).toBe("wait");
  });

  it("an error stanza without <error/> is cancel/undefined-condition", () => {
    expect(parseStanzaError(xml("message", { xmlns: NS_CLIENT, type: "error" }))).toEqual({ type: "cancel", condition: "undefined-condition" });
  });

  it("reads the RFC 6120 §8.3.3.5 gone example", () => {
    const el = xml(
      "error",
      { xmlns: NS_CLIENT, by: "im.example.com", type: "cancel" },
      xml("gone", { xmlns: NS_XMPP_STANZAS }, "\n    xmpp:romeo@afterlife.example.net\n  "),
    );
    expect(parseStanzaError(el)).toEqual({ type: "cancel", condition: "gone", by: "im.example.com", redirect: "xmpp:romeo@afterlife.example.net" });
  });

  it("never throws on garbage (fast-check)", () => {
    fc.assert(
      fc.property(garbageElement, (el) => {
        const err = parseStanzaError(el);
        expect(isStanzaErrorCondition(err.condition)).toBe(true);
        expect(isStanzaErrorType(err.type)).toBe(true);
        if (err.legacyCode !== undefined) expect(err.legacyCode).toBeGreaterThanOrEqual(100);
      }),
      fuzz(2000),
    );
    expect(parseStanzaError(null as never)).toEqual({ type: "cancel", condition: "undefined-condition" });
  });
});

describe("errorReply (RFC 6120 §8.3.1)", () => {
  const iq = xml(
    "iq",
    { xmlns: NS_CLIENT, from: "juliet@im.example.com/balcony", to: "im.example.com", id: "zj3v142b", type: "subscribe" },
    xml("ping", { xmlns: "urn:xmpp:ping" }),
  );

  it("swaps addresses, keeps the id and namespace, and carries only the error for an iq", () => {
    const reply = errorReply(iq, stanzaError("bad-request"))!;
    expect(reply.is("iq", NS_CLIENT)).toBe(true);
    expect(reply.attrsObject()).toEqual({ from: "im.example.com", to: "juliet@im.example.com/balcony", id: "zj3v142b", type: "error" });
    expect(reply.elements().map((e) => e.name)).toEqual(["error"]);
    expect(parseStanzaError(reparse(reply))).toEqual({ type: "modify", condition: "bad-request", legacyCode: 400 });
  });

  it("keeps absent addresses absent and works in jabber:server", () => {
    const msg = xml("message", { xmlns: NS_SERVER, from: "romeo@example.net/orchard", id: "m1" }, xml("body", {}, "hi"));
    const reply = errorReply(msg, stanzaError("service-unavailable"))!;
    expect(reply.attrsObject()).toEqual({ to: "romeo@example.net/orchard", id: "m1", type: "error" });
    expect(reply.getChild("error", NS_SERVER)).toBeDefined();
    const noId = errorReply(xml("presence", { xmlns: NS_CLIENT, from: "a@b" }), stanzaError("forbidden"))!;
    expect(noId.hasAttr("id")).toBe(false);
  });

  it("includes the original payload only when asked", () => {
    const msg = xml("message", { xmlns: NS_CLIENT, from: "a@b/c", to: "d@e", type: "chat" }, xml("body", {}, "Wherefore?"));
    expect(errorReply(msg, stanzaError("item-not-found"))!.elements().map((e) => e.name)).toEqual(["error"]);
    const withBody = errorReply(msg, stanzaError("item-not-found"), { includeOriginal: true })!;
    expect(withBody.elements().map((e) => e.name)).toEqual(["body", "error"]);
    expect(withBody.getChild("body")).not.toBe(msg.getChild("body"));
  });

  it("never replies to an error, nor to an iq result, nor to a non-stanza", () => {
    expect(errorReply(xml("message", { xmlns: NS_CLIENT, type: "error" }), stanzaError("conflict"))).toBeUndefined();
    expect(errorReply(xml("iq", { xmlns: NS_CLIENT, type: "error", id: "1" }), stanzaError("conflict"))).toBeUndefined();
    expect(errorReply(xml("iq", { xmlns: NS_CLIENT, type: "result", id: "1" }), stanzaError("conflict"))).toBeUndefined();
    expect(errorReply(xml("features", { xmlns: "http://etherx.jabber.org/streams" }), stanzaError("conflict"))).toBeUndefined();
  });

  it("a stanza built without a namespace gets a reply that adopts the stream's", () => {
    const reply = errorReply(xml("iq", { type: "get", id: "q", to: "x@y" }, xml("query", { xmlns: "jabber:iq:version" })), stanzaError("feature-not-implemented"))!;
    reply.adoptNamespace(NS_SERVER);
    expect(reply.ns).toBe(NS_SERVER);
    expect(reply.getChild("error", NS_SERVER)).toBeDefined();
    expect(toXmlString(reply)).not.toContain("jabber:client");
  });

  it("swaps addresses and keeps the id for arbitrary stanzas (fast-check)", () => {
    const addr = fc.option(fc.string({ minLength: 1, maxLength: 20 }), { nil: undefined });
    fc.assert(
      fc.property(fc.constantFrom("message", "presence", "iq"), addr, addr, addr, fc.constantFrom(undefined, "get", "set", "chat", "subscribe"), (name, from, to, id, type) => {
        const stanza = xml(name, { xmlns: NS_CLIENT, from, to, id, type });
        const reply = errorReply(stanza, stanzaError("not-allowed"))!;
        expect(reply.attr("from")).toBe(to);
        expect(reply.attr("to")).toBe(from);
        expect(reply.attr("id")).toBe(id);
        expect(reply.attr("type")).toBe("error");
        // …and the reply itself is never answered again.
        expect(errorReply(reply, stanzaError("not-allowed"))).toBeUndefined();
      }),
      fuzz(100),
    );
  });
});
