import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import { escapeLocal, Jid, JidError, jid, parseJid, punycodeEncode, tryParseJid, unescapeLocal } from "../src/index.js";

function err(input: string): JidError {
  const r = tryParseJid(input);
  if (!(r instanceof JidError)) throw new Error(`expected ${JSON.stringify(input)} to be refused, got ${r.toString()}`);
  return r;
}

describe("RFC 7622 §3.5 examples", () => {
  it.each([
    ["juliet@example.com", "juliet@example.com"],
    ["juliet@example.com/foo", "juliet@example.com/foo"],
    ["juliet@example.com/foo bar", "juliet@example.com/foo bar"],
    ["juliet@example.com/foo@bar", "juliet@example.com/foo@bar"],
    ["foo\\20bar@example.com", "foo\\20bar@example.com"],
    ["fussball@example.com", "fussball@example.com"],
    ["fußball@example.com", "fußball@example.com"],
    ["π@example.com", "π@example.com"],
    ["Σ@example.com/foo", "σ@example.com/foo"],
    ["σ@example.com/foo", "σ@example.com/foo"],
    ["ς@example.com/foo", "ς@example.com/foo"],
    ["king@example.com/♚", "king@example.com/♚"],
    ["example.com", "example.com"],
    ["example.com/foobar", "example.com/foobar"],
    ["a.example.com/b@example.net", "a.example.com/b@example.net"],
  ])("valid: %j → %j", (input, canonical) => {
    expect(parseJid(input).toString()).toBe(canonical);
  });

  it.each([
    ["juliet@@example.com", "domain"],
    ["foo bar@example.com", "local"],
    ["henry\u2163@example.com", "local"],
    ["♚@example.com", "local"],
    ["juliet@", "domain"],
    ["/foobar", "domain"],
  ])("invalid: %j (%s)", (input, part) => {
    expect(() => parseJid(input)).toThrow(JidError);
    expect(err(input).part).toBe(part);
  });
});

describe("splitting (RFC 7622 §3.1)", () => {
  it("the first '/' starts the resource, which may contain '@' and '/'", () => {
    const j = parseJid("a@b/c@d/e");
    expect([j.local, j.domain, j.resource]).toEqual(["a", "b", "c@d/e"]);
    const k = parseJid("b/c@d");
    expect([k.local, k.domain, k.resource]).toEqual(["", "b", "c@d"]);
  });

  it.each([
    ["", "jid", "empty"],
    ["a@/b", "domain", "empty"],
    ["@b", "local", "empty"],
    ["b/", "resource", "empty"],
    ["a@b/", "resource", "empty"],
    ["a@b@c", "domain", "forbidden-char"],
    ["a@.", "domain", "empty"],
    ["a@b..c", "domain", "invalid-domain"],
  ])("refuses %j (%s, %s)", (input, part, reason) => {
    const e = err(input);
    expect(e.part).toBe(part);
    expect(e.reason).toBe(reason);
    expect(e.message.length).toBeGreaterThan(0);
  });
});

describe("localpart and resourcepart", () => {
  it("case-maps and width-maps the localpart, keeps the resource's case", () => {
    expect(parseJid("JULIET@example.com/Balcony").toString()).toBe("juliet@example.com/Balcony");
    expect(parseJid("ＪＵＬＩＥＴ@example.com").local).toBe("juliet");
    expect(parseJid("a@b/\u00a0x").resource).toBe(" x"); // OpaqueString maps non-ASCII space
  });

  it.each([..."\"&'/:<>@"])("refuses %j in the localpart", (c) => {
    let e: unknown;
    try {
      jid(`a${c}b`, "example.com");
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(JidError);
    expect((e as JidError).part).toBe("local");
    expect((e as JidError).reason).toBe("forbidden-char");
    if (c !== "/" && c !== "@") expect(err(`a${c}b@example.com`).reason).toBe("forbidden-char");
  });

  it("a '/' before the '@' makes the rest a resource", () => {
    const j = parseJid("a/b@example.com");
    expect([j.local, j.domain, j.resource]).toEqual(["", "a", "b@example.com"]);
  });

  it("exposes the PRECIS error", () => {
    const e = err("a\u0000b@example.com");
    expect(e.reason).toBe("precis");
    expect(e.precis?.code).toBe("disallowed");
    expect(e.cause).toBe(e.precis);
    expect(err("a@b/x\u0007").part).toBe("resource");
  });

  it("limits each part to 1023 octets of UTF-8", () => {
    expect(parseJid(`${"a".repeat(1023)}@b`).local.length).toBe(1023);
    expect(err(`${"a".repeat(1024)}@b`).reason).toBe("too-long");
    expect(err(`a@b/${"é".repeat(512)}`).reason).toBe("too-long"); // 1024 octets
    expect(parseJid(`a@b/${"é".repeat(511)}x`).resource.length).toBe(512);
  });
});

describe("domainpart", () => {
  it.each([
    ["Example.COM", "example.com"],
    ["example.com.", "example.com"],
    ["example\u3002com", "example.com"],
    ["ｅｘａｍｐｌｅ.com", "example.com"],
    ["xn--bcher-kva.example", "bücher.example"],
    ["XN--BCHER-KVA.example", "bücher.example"],
    ["BÜCHER.example", "bücher.example"],
    ["bu\u0308cher.example", "bücher.example"],
    ["ש1.example", "ש1.example"],
    ["192.0.2.1", "192.0.2.1"],
    ["192.0.2.1.", "192.0.2.1"],
    ["[2001:DB8::1]", "[2001:db8::1]"],
    ["[0:0:0:0:0:0:0:1]", "[::1]"],
    ["[2001:db8:0:0:1:0:0:1]", "[2001:db8::1:0:0:1]"],
    ["[2001:db8:0:1:1:1:1:1]", "[2001:db8:0:1:1:1:1:1]"],
    ["[::ffff:192.0.2.1]", "[::ffff:192.0.2.1]"],
    ["[::]", "[::]"],
    [`${"a".repeat(63)}.example`, `${"a".repeat(63)}.example`],
  ])("%j → %j", (input, out) => {
    expect(parseJid(input).domain).toBe(out);
  });

  it.each([
    ["-abc.example", "invalid-domain"],
    ["abc-.example", "invalid-domain"],
    ["ab--c.example", "invalid-domain"],
    [`${"a".repeat(64)}.example`, "invalid-domain"],
    ["_xmpp.example.com", "forbidden-char"],
    ["exa mple.com", "forbidden-char"],
    ["xn--ls8h.la", "invalid-domain"], // U+1F4A9 is not PVALID in IDNA2008
    ["xn--abc-.example", "invalid-domain"],
    ["xn--zz!.example", "invalid-domain"],
    ["♚.example", "invalid-domain"],
    ["\u0301a.example", "invalid-domain"], // leading combining mark
    ["ש.1example", "invalid-domain"], // Bidi domain name: every label obeys the Bidi Rule
    ["256.1.1.1", "invalid-ip"],
    ["1.2.3", "invalid-ip"],
    ["01.2.3.4", "invalid-ip"],
    ["[1::2::3]", "invalid-ip"],
    ["[::1", "invalid-ip"],
    ["[12345::]", "invalid-ip"],
    ["[1:2:3:4:5:6:7:8:9]", "invalid-ip"],
    ["[v1.x]", "invalid-ip"],
    ["[fe80::1%eth0]", "invalid-ip"],
  ])("refuses %j (%s)", (input, reason) => {
    const e = err(input);
    expect(e.part).toBe("domain");
    expect(e.reason).toBe(reason);
  });

  it("refuses A-labels that are not in canonical form", () => {
    expect(err(`xn--${punycodeEncode("bu\u0308cher")}.example`).reason).toBe("invalid-domain"); // not NFC
    expect(err(`xn--${punycodeEncode("abc")}.example`).reason).toBe("invalid-domain"); // all-ASCII "A-label"
  });

  it("checks the 63-octet limit on the A-label form", () => {
    expect(err(`${"ü".repeat(60)}.example`).reason).toBe("too-long");
  });
});

describe("Jid", () => {
  it("bare, isBare, withResource, equals, toJSON", () => {
    const full = parseJid("Juliet@Example.com/balcony");
    expect(full.isBare()).toBe(false);
    expect(full.bare.toString()).toBe("juliet@example.com");
    expect(full.bare.isBare()).toBe(true);
    const bare = full.bare;
    expect(bare.bare).toBe(bare);
    expect(full.bare.withResource("balcony").equals(full)).toBe(true);
    expect(full.equals(parseJid("juliet@example.com/Balcony"))).toBe(false);
    expect(full.equals(parseJid("JULIET@EXAMPLE.COM./balcony"))).toBe(true);
    expect(JSON.stringify({ to: full })).toBe('{"to":"juliet@example.com/balcony"}');
  });

  it("jid() builds from parts without re-splitting", () => {
    expect(jid("Juliet", "example.com", "a/b@c").toString()).toBe("juliet@example.com/a/b@c");
    expect(jid(undefined, "Example.com").toString()).toBe("example.com");
    expect(jid("", "example.com", "").toString()).toBe("example.com");
    expect(() => jid("a@b", "example.com")).toThrow(JidError);
  });

  it("cannot be constructed directly", () => {
    const Ctor = Jid as unknown as new (...args: unknown[]) => Jid;
    expect(() => new Ctor(Symbol("prepared"), "a", "b", "")).toThrow(TypeError);
  });

  it("parseJid refuses non-strings with a JidError", () => {
    expect(() => parseJid(42 as unknown as string)).toThrow(JidError);
  });
});

describe("XEP-0106 escaping", () => {
  // XEP-0106 §5 examples table (localparts).
  it.each([
    ["space cadet", "space\\20cadet"],
    ['call me "ishmael"', "call\\20me\\20\\22ishmael\\22"],
    ["at&t guy", "at\\26t\\20guy"],
    ["d'artagnan", "d\\27artagnan"],
    ["/.fanboy", "\\2f.fanboy"],
    ["::foo::", "\\3a\\3afoo\\3a\\3a"],
    ["<foo>", "\\3cfoo\\3e"],
    ["user@host", "user\\40host"],
    ["c:\\net", "c\\3a\\net"],
    ["c:\\\\net", "c\\3a\\\\net"],
    ["c:\\cool stuff", "c\\3a\\cool\\20stuff"],
    ["c:\\5commas", "c\\3a\\5c5commas"],
  ])("%j ⇄ %j", (raw, escaped) => {
    expect(escapeLocal(raw)).toBe(escaped);
    expect(unescapeLocal(escaped)).toBe(raw);
    expect(parseJid(`${escaped}@example.com`).local).toBe(escaped.toLowerCase());
  });

  it("refuses leading and trailing spaces", () => {
    expect(() => escapeLocal(" a")).toThrow(JidError);
    expect(() => escapeLocal("a ")).toThrow(JidError);
  });

  it("leaves unknown and uppercase sequences alone", () => {
    expect(unescapeLocal("a\\21b\\2Fc\\")).toBe("a\\21b\\2Fc\\");
    expect(unescapeLocal("\\5c5c")).toBe("\\5c");
  });

  it("unescape ∘ escape is the identity; escaped strings contain no escapable character", () => {
    const alphabet = fc.constantFrom(..." \"&'/:<>@\\abc25fA0", "\\20", "\\5c", "\\2f", "é");
    const raw = fc.array(alphabet, { maxLength: 12 }).map((a) => a.join("")).filter((s) => !s.startsWith(" ") && !s.endsWith(" "));
    fc.assert(
      fc.property(raw, (s) => {
        const e = escapeLocal(s);
        expect(unescapeLocal(e)).toBe(s);
        expect(e).not.toMatch(/[ "&'/:<>@]/);
      }),
      fuzz(100),
    );
  });
});

describe("properties", () => {
  const jidChars = fc.constantFrom(..."aZ9.-@/ \u00e9\u00df\u03a3\u05e9\u0661\u200d\u3002\uff21", "xn--", "[", "]", ":", "\u{1F4A9}", "\u0000");
  const jidLike = fc.oneof(
    fc.array(jidChars, { maxLength: 16 }).map((a) => a.join("")),
    fc.string({ unit: "binary", maxLength: 24 }),
    fc.tuple(fc.string({ maxLength: 8 }), fc.domain(), fc.string({ maxLength: 8 })).map(([l, d, r]) => `${l}@${d}/${r}`),
  );

  it("parsing never throws anything but JidError, and the canonical form is a fixed point", () => {
    fc.assert(
      fc.property(jidLike, (s) => {
        const r = tryParseJid(s);
        if (r instanceof JidError) return;
        const again = parseJid(r.toString());
        expect(again.toString()).toBe(r.toString());
        expect(again.equals(r)).toBe(true);
        expect(jid(r.local, r.domain, r.resource).equals(r)).toBe(true);
      }),
      fuzz(1000),
    );
  });

  it("generated domains parse and stay ASCII-lowercase", () => {
    fc.assert(
      fc.property(fc.domain(), (d) => {
        const r = tryParseJid(d);
        if (r instanceof JidError) {
          expect(["invalid-domain", "invalid-ip"]).toContain(r.reason); // e.g. "a--b" labels
          return;
        }
        expect(r.domain).toBe(d.toLowerCase());
      }),
      fuzz(100),
    );
  });
});
