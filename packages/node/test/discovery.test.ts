import { describe, expect, it } from "vitest";
import { discoverEndpoints, type SrvResolver } from "../src/index.js";

type Records = Record<string, Array<{ name: string; port: number; priority: number; weight: number }> | Error>;

function resolver(records: Records): SrvResolver & { asked: string[] } {
  const asked: string[] = [];
  const fn = (async (name: string) => {
    asked.push(name);
    const r = records[name];
    if (r === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: "ENOTFOUND" });
    if (r instanceof Error) throw r;
    return r;
  }) as SrvResolver & { asked: string[] };
  fn.asked = asked;
  return fn;
}

describe("discoverEndpoints (RFC 6120 §3.2, XEP-0368) with an injected resolver", () => {
  it("asks for both services and orders by priority across them", async () => {
    const r = resolver({
      "_xmpps-client._tcp.example.com": [{ name: "tls.example.com.", port: 5223, priority: 5, weight: 0 }],
      "_xmpp-client._tcp.example.com": [
        { name: "b.example.com", port: 5222, priority: 20, weight: 0 },
        { name: "a.example.com.", port: 5222, priority: 10, weight: 0 },
      ],
    });
    const { candidates, fromSrv } = await discoverEndpoints("example.com", { resolveSrv: r, random: () => 0 });
    expect(r.asked.sort()).toEqual(["_xmpp-client._tcp.example.com", "_xmpps-client._tcp.example.com"]);
    expect(fromSrv).toBe(true);
    expect(candidates).toEqual([
      { host: "tls.example.com", port: 5223, directTls: true },
      { host: "a.example.com", port: 5222, directTls: false },
      { host: "b.example.com", port: 5222, directTls: false },
    ]);
  });

  it("falls back to the domain on 5222 when there are no records (or the lookups fail)", async () => {
    expect(await discoverEndpoints("example.org", { resolveSrv: resolver({}) })).toEqual({
      candidates: [{ host: "example.org", port: 5222, directTls: false }],
      fromSrv: false,
    });
    const failing = resolver({
      "_xmpps-client._tcp.example.org": Object.assign(new Error("ESERVFAIL"), { code: "ESERVFAIL" }),
      "_xmpp-client._tcp.example.org": Object.assign(new Error("ETIMEOUT"), { code: "ETIMEOUT" }),
    });
    expect((await discoverEndpoints("example.org", { resolveSrv: failing })).candidates).toEqual([{ host: "example.org", port: 5222, directTls: false }]);
  });

  it('a "." target means no service: no fallback', async () => {
    const r = resolver({ "_xmpp-client._tcp.example.net": [{ name: ".", port: 0, priority: 0, weight: 0 }] });
    expect(await discoverEndpoints("example.net", { resolveSrv: r })).toEqual({ candidates: [], fromSrv: true });
  });

  it('a "." _xmpps-client answer only removes Direct TLS', async () => {
    const r = resolver({
      "_xmpps-client._tcp.example.net": [{ name: ".", port: 0, priority: 0, weight: 0 }],
      "_xmpp-client._tcp.example.net": [{ name: "xmpp.example.net", port: 5222, priority: 0, weight: 0 }],
    });
    expect((await discoverEndpoints("example.net", { resolveSrv: r })).candidates).toEqual([{ host: "xmpp.example.net", port: 5222, directTls: false }]);
  });

  it("preferDirectTls puts one kind first whatever the priorities", async () => {
    const r = resolver({
      "_xmpps-client._tcp.example.com": [{ name: "tls.example.com", port: 443, priority: 50, weight: 0 }],
      "_xmpp-client._tcp.example.com": [{ name: "tcp.example.com", port: 5222, priority: 1, weight: 0 }],
    });
    const { candidates } = await discoverEndpoints("example.com", { resolveSrv: r, preferDirectTls: true });
    expect(candidates.map((c) => c.host)).toEqual(["tls.example.com", "tcp.example.com"]);
  });
});
