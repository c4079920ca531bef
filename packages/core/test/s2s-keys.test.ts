import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { componentHandshake, dialbackKey, matchesDnsId, matchesXmppServerIdentity, verifyComponentHandshake, verifyDialbackKey } from "../src/index.js";

/** XEP-0185 §2 computed with node:crypto (an independent implementation of the same formula). */
function reference(secret: string, receiving: string, originating: string, id: string): string {
  const k = createHash("sha256").update(secret, "utf8").digest("hex");
  return createHmac("sha256", k).update(`${receiving} ${originating} ${id}`, "utf8").digest("hex");
}

const domain = fc.stringMatching(/^[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,3}$/);
const streamId = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/);

describe("XEP-0185 dialback keys", () => {
  it("matches the formula (HMAC-SHA256 keyed with hex SHA256(secret))", () => {
    const key = dialbackKey("s3cr3tf0rd14lb4ck", "example.net", "example.com", "D60000229F");
    expect(key).toBe(reference("s3cr3tf0rd14lb4ck", "example.net", "example.com", "D60000229F"));
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(verifyDialbackKey("s3cr3tf0rd14lb4ck", "example.net", "example.com", "D60000229F", key)).toBe(true);
    expect(verifyDialbackKey("s3cr3tf0rd14lb4ck", "example.net", "example.com", "D60000229F", key.toUpperCase())).toBe(true);
  });

  it("agrees with node:crypto for arbitrary inputs", () => {
    fc.assert(
      fc.property(fc.string(), domain, domain, streamId, (secret, r, o, id) => dialbackKey(secret, r, o, id) === reference(secret, r, o, id)),
      fuzz(200),
    );
  });

  it("never verifies for a different stream id or domain pair", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), domain, domain, streamId, domain, domain, streamId, (secret, r, o, id, r2, o2, id2) => {
        fc.pre(r !== r2 || o !== o2 || id !== id2);
        const key = dialbackKey(secret, r, o, id);
        return verifyDialbackKey(secret, r, o, id, key) && !verifyDialbackKey(secret, r2, o2, id2, key);
      }),
      fuzz(300),
    );
  });

  it("never verifies with another secret", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), domain, domain, streamId, (s1, s2, r, o, id) => {
        fc.pre(s1 !== s2);
        return !verifyDialbackKey(s2, r, o, id, dialbackKey(s1, r, o, id));
      }),
      fuzz(200),
    );
  });
});

describe("XEP-0114 handshake", () => {
  it("is hex SHA1(streamId + secret) (the XEP's example)", () => {
    // XEP-0114 §3 example: stream id 3BF96D32, secret 'secret'.
    expect(componentHandshake("3BF96D32", "secret")).toBe(createHash("sha1").update("3BF96D32secret").digest("hex"));
    expect(verifyComponentHandshake("3BF96D32", "secret", componentHandshake("3BF96D32", "secret"))).toBe(true);
    expect(verifyComponentHandshake("3BF96D33", "secret", componentHandshake("3BF96D32", "secret"))).toBe(false);
    expect(verifyComponentHandshake("3BF96D32", "Secret", componentHandshake("3BF96D32", "secret"))).toBe(false);
  });
});

describe("RFC 6125 / RFC 9525 xmpp-server identities", () => {
  it.each([
    ["capulet.example", ["capulet.example"], true],
    ["Capulet.Example.", ["capulet.example"], true],
    ["capulet.example", ["montague.example"], false],
    ["chat.capulet.example", ["*.capulet.example"], true],
    ["capulet.example", ["*.capulet.example"], false], // the wildcard matches exactly one label
    ["a.b.capulet.example", ["*.capulet.example"], false],
    ["capulet.example", ["*.example"], false], // no wildcard over a two-label name
    ["foo.capulet.example", ["f*.capulet.example"], false], // no partial-label wildcards
    ["foo.capulet.example", ["foo.*.example"], false], // only the left-most label
    ["capulet.example", [], false],
    ["capulet.example", undefined, false],
  ] as const)("%s vs %j → %s", (d, ids, ok) => {
    expect(matchesXmppServerIdentity(d, ids as readonly string[] | undefined)).toBe(ok);
  });

  it("compares internationalized names as A-labels (RFC 6125 §6.4.2)", () => {
    expect(matchesXmppServerIdentity("münchen.example", ["xn--mnchen-3ya.example"])).toBe(true);
    expect(matchesXmppServerIdentity("chat.münchen.example", ["*.xn--mnchen-3ya.example"])).toBe(true);
    expect(matchesXmppServerIdentity("munchen.example", ["xn--mnchen-3ya.example"])).toBe(false);
  });

  it("SRV-ID _xmpp-server and XmppAddr (no wildcards in either)", () => {
    expect(matchesXmppServerIdentity("capulet.example", [{ type: "srv", value: "_xmpp-server.capulet.example" }])).toBe(true);
    expect(matchesXmppServerIdentity("capulet.example", [{ type: "srv", value: "_xmpp-client.capulet.example" }])).toBe(false);
    expect(matchesXmppServerIdentity("capulet.example", [{ type: "srv", value: "_xmpp-server.*.example" }])).toBe(false);
    expect(matchesXmppServerIdentity("capulet.example", [{ type: "xmpp", value: "capulet.example" }])).toBe(true);
    expect(matchesXmppServerIdentity("chat.capulet.example", [{ type: "xmpp", value: "*.capulet.example" }])).toBe(false);
    expect(matchesXmppServerIdentity("chat.capulet.example", [{ type: "dns", value: "*.capulet.example" }])).toBe(true);
  });

  it("a wildcard DNS-ID matches a domain iff they differ only in the left-most label", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9]{1,8}$/), domain, (label, base) => {
        fc.pre(base.includes("."));
        return matchesDnsId(`*.${base}`, `${label}.${base}`) && !matchesDnsId(`*.${base}`, base);
      }),
      fuzz(200),
    );
  });
});
