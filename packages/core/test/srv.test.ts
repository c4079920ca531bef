import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import { prng } from "../../xml/test/prng.js";
import { type SrvRecord, connectionCandidates, isNoService, orderSrvRecords } from "../src/index.js";


const rec = (name: string, priority: number, weight: number, port = 5222): SrvRecord => ({ name, port, priority, weight });

const srvRecord = fc.record({
  name: fc.constantFrom("a.example", "b.example", "c.example", "d.example", "."),
  port: fc.integer({ min: 0, max: 65535 }),
  priority: fc.integer({ min: 0, max: 5 }),
  weight: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 65535 })),
});

describe("orderSrvRecords (RFC 2782)", () => {
  it("every record appears exactly once and priorities ascend (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(srvRecord, { maxLength: 30 }), fc.integer(), (records, seed) => {
        const copy = records.map((r) => ({ ...r }));
        const out = orderSrvRecords(records, prng(seed));
        expect(out).toHaveLength(records.length);
        expect(new Set(out).size).toBe(records.length);
        for (const r of records) expect(out).toContain(r);
        for (let i = 1; i < out.length; i++) expect(out[i]!.priority).toBeGreaterThanOrEqual(out[i - 1]!.priority);
        expect(records).toEqual(copy); // input untouched
      }),
      fuzz(100),
    );
  });

  it("keeps extra fields (generic over the record type)", () => {
    const out = orderSrvRecords([{ ...rec("a", 1, 1), tag: "x" }], Math.random);
    expect(out[0]!.tag).toBe("x");
  });

  it("with random() = 0, zero-weight records come first and input order is kept", () => {
    const records = [rec("w5", 1, 5), rec("z1", 1, 0), rec("w9", 1, 9), rec("z2", 1, 0), rec("p0", 0, 3)];
    expect(orderSrvRecords(records, () => 0).map((r) => r.name)).toEqual(["p0", "z1", "z2", "w5", "w9"]);
  });

  it("records that all weigh 0 keep their input order whatever the randomness", () => {
    const records = [rec("a", 1, 0), rec("b", 1, 0), rec("c", 1, 0)];
    expect(orderSrvRecords(records, prng(1)).map((r) => r.name)).toEqual(["a", "b", "c"]);
  });

  it("selects in proportion to weight (deterministic PRNG, 1% tolerance)", () => {
    const random = prng(2782);
    const records = [rec("a", 10, 10), rec("b", 10, 20), rec("c", 10, 70)];
    const n = 100_000;
    const first: Record<string, number> = { a: 0, b: 0, c: 0 };
    const second: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < n; i++) {
      const out = orderSrvRecords(records, random);
      first[out[0]!.name]!++;
      second[out[1]!.name]!++;
    }
    // RFC 2782 draws an integer in [0, sum]: the first record also wins the draw of 0, hence the +1.
    expect(first.a! / n).toBeCloseTo(11 / 101, 2);
    expect(first.b! / n).toBeCloseTo(20 / 101, 2);
    expect(first.c! / n).toBeCloseTo(70 / 101, 2);
    // Second place: P(b second) = P(a first)·P(b | {b,c}) + P(c first)·P(b | {a,b}).
    const pb2 = (11 / 101) * (21 / 91) + (70 / 101) * (20 / 31);
    expect(second.b! / n).toBeCloseTo(pb2, 2);
  });

  it("gives a zero-weight record a small chance to go first (1/(sum+1))", () => {
    const random = prng(99);
    const records = [rec("w", 0, 50), rec("zero", 0, 0), rec("v", 0, 49)];
    const n = 100_000;
    let zeroFirst = 0;
    for (let i = 0; i < n; i++) if (orderSrvRecords(records, random)[0]!.name === "zero") zeroFirst++;
    expect(zeroFirst / n).toBeCloseTo(1 / 100, 2);
  });
});

describe("isNoService", () => {
  it("is a single record with target '.' (or the root as '')", () => {
    expect(isNoService([rec(".", 0, 0, 0)])).toBe(true);
    expect(isNoService([rec("", 0, 0, 0)])).toBe(true);
    expect(isNoService([rec(".", 0, 0), rec("a.example", 0, 0)])).toBe(false);
    expect(isNoService([rec("a.example", 0, 0)])).toBe(false);
    expect(isNoService([])).toBe(false);
    expect(isNoService(undefined)).toBe(false);
  });
});

describe("connectionCandidates (RFC 6120 §3.2, XEP-0368)", () => {
  const base = { domain: "example.org", random: () => 0 };

  it("falls back to the domain on 5222 when no lookup found records", () => {
    const fallback = [{ host: "example.org", port: 5222, directTls: false }];
    expect(connectionCandidates({ ...base, srvClient: undefined, srvClientTls: undefined })).toEqual(fallback);
    expect(connectionCandidates({ ...base, srvClient: [], srvClientTls: [] })).toEqual(fallback);
  });

  it("server-to-server: falls back to the domain on 5269 (fallbackPort), records are used as given", () => {
    expect(connectionCandidates({ ...base, srvClient: undefined, srvClientTls: [], fallbackPort: 5269 })).toEqual([{ host: "example.org", port: 5269, directTls: false }]);
    const srv = [rec("xmpp.example.org.", 0, 0, 5269)];
    expect(connectionCandidates({ ...base, srvClient: srv, srvClientTls: undefined, fallbackPort: 5269 })).toEqual([{ host: "xmpp.example.org", port: 5269, directTls: false }]);
  });

  it("does not fall back when a 'no service' record is present", () => {
    const none = [rec(".", 0, 0, 0)];
    expect(connectionCandidates({ ...base, srvClient: none, srvClientTls: undefined })).toEqual([]);
    expect(connectionCandidates({ ...base, srvClient: none, srvClientTls: none })).toEqual([]);
    expect(connectionCandidates({ ...base, srvClient: undefined, srvClientTls: none })).toEqual([]);
  });

  it("_xmpps-client '.' only means no direct TLS (XEP-0368 §6)", () => {
    const out = connectionCandidates({ ...base, srvClient: [rec("xmpp.example.org", 0, 0)], srvClientTls: [rec(".", 0, 0, 0)] });
    expect(out).toEqual([{ host: "xmpp.example.org", port: 5222, directTls: false }]);
  });

  it("mixes both services by priority by default (XEP-0368 rule 1)", () => {
    const out = connectionCandidates({
      ...base,
      srvClient: [rec("c2.example.org", 20, 0), rec("c1.example.org", 5, 0)],
      srvClientTls: [rec("t1.example.org", 10, 0, 443), rec("t0.example.org", 0, 0, 5223)],
    });
    expect(out.map((c) => `${c.host}:${c.port}:${c.directTls}`)).toEqual([
      "t0.example.org:5223:true",
      "c1.example.org:5222:false",
      "t1.example.org:443:true",
      "c2.example.org:5222:false",
    ]);
  });

  it("can prefer one kind, each still in RFC 2782 order", () => {
    const input = {
      ...base,
      srvClient: [rec("c2", 20, 0), rec("c1", 5, 0)],
      srvClientTls: [rec("t1", 10, 0, 443), rec("t0", 30, 0, 5223)],
    };
    expect(connectionCandidates({ ...input, preferDirectTls: true }).map((c) => c.host)).toEqual(["t1", "t0", "c1", "c2"]);
    expect(connectionCandidates({ ...input, preferDirectTls: false }).map((c) => c.host)).toEqual(["c1", "c2", "t1", "t0"]);
  });

  it("strips the trailing dot, skips '.' targets and bad ports, and removes duplicates", () => {
    const out = connectionCandidates({
      ...base,
      srvClient: [rec("xmpp.example.org.", 0, 0), rec(".", 1, 0), rec("zero.example.org", 2, 0, 0), rec("XMPP.example.org", 3, 0)],
      srvClientTls: [rec("xmpp.example.org", 0, 0, 5222)],
    });
    expect(out).toEqual([
      { host: "xmpp.example.org", port: 5222, directTls: true },
      { host: "xmpp.example.org", port: 5222, directTls: false },
    ]);
  });

  it("every valid record becomes exactly one candidate, of the right kind (fast-check)", () => {
    const set = fc.option(fc.array(srvRecord, { maxLength: 10 }), { nil: undefined });
    fc.assert(
      fc.property(set, set, fc.constantFrom(undefined, true, false), fc.integer(), (srvClient, srvClientTls, preferDirectTls, seed) => {
        const out = connectionCandidates({ domain: "example.org", srvClient, srvClientTls, random: prng(seed), ...(preferDirectTls === undefined ? {} : { preferDirectTls }) });
        const expectKeys = (list: SrvRecord[] | undefined, tls: boolean) =>
          list === undefined || isNoService(list) ? [] : list.filter((r) => r.name !== "." && r.port >= 1).map((r) => `${tls}|${r.name}|${r.port}`);
        const expected = new Set([...expectKeys(srvClientTls, true), ...expectKeys(srvClient, false)]);
        const none = (srvClient?.length ?? 0) === 0 && (srvClientTls?.length ?? 0) === 0;
        if (none) expect(out).toEqual([{ host: "example.org", port: 5222, directTls: false }]);
        else expect(new Set(out.map((c) => `${c.directTls}|${c.host}|${c.port}`))).toEqual(expected);
        expect(new Set(out.map((c) => `${c.directTls}|${c.host}|${c.port}`)).size).toBe(out.length);
      }),
      fuzz(100),
    );
  });
});
