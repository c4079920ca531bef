import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import {
  checkWebSocketUri,
  discoverWebSocketEndpoints,
  type FetchLike,
  parseHostMetaJson,
  parseHostMetaXml,
  REL_BOSH,
  REL_WEBSOCKET,
  webSocketEndpoints,
} from "../src/host-meta.js";
import { seeOtherUriTarget } from "../src/see-other-uri.js";

// XEP-0156 §3.3 example 2, verbatim apart from the hosts.
const XRD = `<?xml version='1.0' encoding='utf-8'?>
<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
  <Link rel="urn:xmpp:alt-connections:xbosh"
        href="https://web.example.com:5280/bosh" />
  <Link rel="urn:xmpp:alt-connections:websocket"
        href="wss://web.example.com:443/ws" />
  <Link rel="urn:xmpp:alt-connections:websocket"
        href="ws://web.example.com/insecure" />
</XRD>`;

// XEP-0156 §3.3 example 3 (JSON).
const JRD = JSON.stringify({
  links: [
    { rel: REL_BOSH, href: "https://web.example.com:5280/bosh" },
    { rel: REL_WEBSOCKET, href: "wss://web.example.com:443/ws" },
    { rel: REL_WEBSOCKET, href: "wss://alt.example.com/xmpp-websocket" },
  ],
});

describe("XEP-0156 host-meta parsing", () => {
  it("reads the links of an XRD document in order", () => {
    expect(parseHostMetaXml(XRD)).toEqual([
      { rel: REL_BOSH, href: "https://web.example.com:5280/bosh" },
      { rel: REL_WEBSOCKET, href: "wss://web.example.com:443/ws" },
      { rel: REL_WEBSOCKET, href: "ws://web.example.com/insecure" },
    ]);
    expect(parseHostMetaXml(new TextEncoder().encode(XRD))).toHaveLength(3);
  });

  it("matches XRD by namespace, not by prefix", () => {
    const prefixed = `<x:XRD xmlns:x='http://docs.oasis-open.org/ns/xri/xrd-1.0'><x:Link rel='${REL_WEBSOCKET}' href='wss://a.example/ws'/></x:XRD>`;
    expect(parseHostMetaXml(prefixed)).toEqual([{ rel: REL_WEBSOCKET, href: "wss://a.example/ws" }]);
    expect(parseHostMetaXml(`<XRD><Link rel='${REL_WEBSOCKET}' href='wss://a.example/ws'/></XRD>`)).toEqual([]);
    expect(parseHostMetaXml(`<XRD xmlns='urn:other'><Link rel='${REL_WEBSOCKET}' href='wss://a.example/ws'/></XRD>`)).toEqual([]);
  });

  it("refuses what restricted XML refuses (comments, DTDs, entities) and garbage", () => {
    for (const doc of [
      "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><!-- x --></XRD>",
      "<!DOCTYPE XRD [<!ENTITY e 'x'>]><XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'/>",
      "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'><Link rel='&e;' href='wss://a/'/></XRD>",
      "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>",
      "<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'/><XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'/>",
      "",
      "{}",
      `<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>${"<Link rel='a' href='b'/>".repeat(5000)}</XRD>`,
    ]) {
      expect(parseHostMetaXml(doc)).toEqual([]);
    }
    expect(parseHostMetaXml(new Uint8Array([0x3c, 0xff, 0xfe]))).toEqual([]);
  });

  it("reads the links of a JSON document, skipping malformed entries", () => {
    expect(parseHostMetaJson(JRD)).toHaveLength(3);
    expect(parseHostMetaJson(JSON.stringify({ links: [null, 1, "x", { rel: 1, href: "wss://a/" }, { rel: REL_WEBSOCKET }, { rel: REL_WEBSOCKET, href: "wss://b/" }] }))).toEqual([
      { rel: REL_WEBSOCKET, href: "wss://b/" },
    ]);
    for (const doc of ["", "null", "[]", '{"links":{}}', "{", '"x"', '{"links":null}']) expect(parseHostMetaJson(doc)).toEqual([]);
    expect(parseHostMetaJson(`{"links":[],"pad":"${"x".repeat(70_000)}"}`)).toEqual([]);
  });
});

describe("WebSocket endpoint policy", () => {
  it("keeps only wss: WebSocket links unless insecure ones are allowed", () => {
    const links = parseHostMetaXml(XRD);
    expect(webSocketEndpoints(links)).toEqual(["wss://web.example.com/ws"]);
    expect(webSocketEndpoints(links, { allowInsecure: true })).toEqual(["wss://web.example.com/ws", "ws://web.example.com/insecure"]);
    expect(webSocketEndpoints([...parseHostMetaXml(XRD), ...parseHostMetaJson(JRD)])).toEqual(["wss://web.example.com/ws", "wss://alt.example.com/xmpp-websocket"]);
  });

  it("refuses URIs that are not WebSocket endpoints", () => {
    for (const bad of ["https://a.example/ws", "ws://a.example/", "wss://user:pw@a.example/", "wss://a.example/#frag", "wss:///nohost", "/relative", "wss://a.example/ ws", "javascript:alert(1)", "wss://a.\nexample/"]) {
      expect(checkWebSocketUri(bad), bad).toBeUndefined();
    }
    expect(checkWebSocketUri("ws://127.0.0.1:5280/xmpp-websocket", { allowInsecure: true })).toBe("ws://127.0.0.1:5280/xmpp-websocket");
  });

  it("follows see-other-uri only to an equally secure URI", () => {
    expect(seeOtherUriTarget("wss://a.example/ws", "wss://b.example/ws")).toBe("wss://b.example/ws");
    expect(seeOtherUriTarget("wss://a.example/ws", "ws://b.example/ws")).toBeUndefined();
    expect(seeOtherUriTarget("wss://a.example/ws", "https://b.example/ws")).toBeUndefined();
    expect(seeOtherUriTarget("ws://a.example/ws", "ws://b.example/ws")).toBe("ws://b.example/ws");
    expect(seeOtherUriTarget("ws://a.example/ws", "wss://b.example/ws")).toBe("wss://b.example/ws");
    expect(seeOtherUriTarget("wss://a.example/ws", "/other")).toBe("wss://a.example/other");
    expect(seeOtherUriTarget("wss://a.example/ws", "")).toBeUndefined();
    expect(seeOtherUriTarget("wss://a.example/ws", "wss://u:p@b.example/")).toBeUndefined();
    expect(seeOtherUriTarget("https://a.example/", "wss://b.example/")).toBeUndefined();
  });
});

describe("XEP-0156 fetching", () => {
  const fakeFetch =
    (docs: Record<string, { body: string; url?: string } | Error>, seen: string[] = []): FetchLike =>
    async (url) => {
      seen.push(url);
      const d = docs[url];
      if (d === undefined) return { ok: false, text: async () => "" };
      if (d instanceof Error) throw d;
      return { ok: true, url: d.url ?? url, text: async () => d.body };
    };

  it("fetches both documents over https and merges them", async () => {
    const seen: string[] = [];
    const found = await discoverWebSocketEndpoints("example.com", {
      fetch: fakeFetch({ "https://example.com/.well-known/host-meta": { body: XRD }, "https://example.com/.well-known/host-meta.json": { body: JRD } }, seen),
    });
    expect(found).toEqual(["wss://web.example.com/ws", "wss://alt.example.com/xmpp-websocket"]);
    expect(seen.sort()).toEqual(["https://example.com/.well-known/host-meta", "https://example.com/.well-known/host-meta.json"]);
  });

  it("treats network errors, HTTP errors and downgrading redirects as no links", async () => {
    expect(await discoverWebSocketEndpoints("example.com", { fetch: fakeFetch({ "https://example.com/.well-known/host-meta": new Error("boom") }) })).toEqual([]);
    expect(
      await discoverWebSocketEndpoints("example.com", { fetch: fakeFetch({ "https://example.com/.well-known/host-meta": { body: XRD, url: "http://evil.example/host-meta" } }) }),
    ).toEqual([]);
  });

  it("refuses invalid domains and plain-http bases unless insecure is allowed", async () => {
    await expect(discoverWebSocketEndpoints("evil.example/x?", { fetch: fakeFetch({}) })).rejects.toThrow(TypeError);
    await expect(discoverWebSocketEndpoints("a@b", { fetch: fakeFetch({}) })).rejects.toThrow(TypeError);
    await expect(discoverWebSocketEndpoints("example.com", { fetch: fakeFetch({}), baseUrl: "http://127.0.0.1:1" })).rejects.toThrow(TypeError);
    const found = await discoverWebSocketEndpoints("localhost", {
      allowInsecure: true,
      baseUrl: "http://127.0.0.1:1",
      fetch: fakeFetch({ "http://127.0.0.1:1/.well-known/host-meta": { body: XRD } }),
    });
    expect(found).toEqual(["wss://web.example.com/ws", "ws://web.example.com/insecure"]);
  });
});

describe("host-meta parsers: properties", () => {
  const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/'/g, "&apos;").replace(/"/g, "&quot;");
  const attrText = fc.string({ maxLength: 40 }).filter((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/.test(s));
  const linkArb = fc.record({ rel: fc.oneof(fc.constant(REL_WEBSOCKET), fc.constant(REL_BOSH), attrText), href: attrText });

  it("never throw on arbitrary input, and return only string pairs", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 300 }), fc.json()), (input) => {
        const fromXml = parseHostMetaXml(input);
        const fromJson = typeof input === "string" ? parseHostMetaJson(input) : [];
        for (const l of [...fromXml, ...fromJson]) {
          expect(typeof l.rel).toBe("string");
          expect(typeof l.href).toBe("string");
        }
        for (const u of webSocketEndpoints([...fromXml, ...fromJson], { allowInsecure: true })) expect(u).toMatch(/^wss?:\/\//);
      }),
      fuzz(500),
    );
  });

  it("XML and JSON renderings of the same links parse to the same list", () => {
    fc.assert(
      fc.property(fc.array(linkArb, { maxLength: 8 }), (links) => {
        const xmlDoc = `<XRD xmlns='${"http://docs.oasis-open.org/ns/xri/xrd-1.0"}'>${links.map((l) => `<Link rel='${escapeXml(l.rel)}' href="${escapeXml(l.href)}"/>`).join("\n")}</XRD>`;
        const fromXml = parseHostMetaXml(xmlDoc);
        // XML attribute-value normalization turns tabs/newlines into spaces; compare normalized.
        const norm = (s: string) => s.replace(/\r\n|[\t\n\r]/g, " ");
        expect(fromXml).toEqual(links.map((l) => ({ rel: norm(l.rel), href: norm(l.href) })));
        expect(parseHostMetaJson(JSON.stringify({ subject: "x", links }))).toEqual(links);
      }),
      fuzz(300),
    );
  });

  it("only wss: endpoints survive the default policy", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ rel: fc.constant(REL_WEBSOCKET), href: fc.oneof(fc.webUrl(), fc.webUrl().map((u) => u.replace(/^https?/, "ws")), fc.webUrl().map((u) => u.replace(/^https?/, "wss")), fc.string()) })), (links) => {
        for (const u of webSocketEndpoints(links)) expect(u.startsWith("wss://")).toBe(true);
      }),
      fuzz(100),
    );
  });
});
