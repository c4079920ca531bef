// The one-message SASL mechanisms (PLAIN, ANONYMOUS, EXTERNAL) as a client part: a lean session without
// `parts.oneShotMechanisms` uses SCRAM only and refuses `mechanisms` naming them, with a TypeError naming the
// part; with it (and in the full clients, through DEFAULT_CLIENT_PARTS) everything is as before.
import { DEFAULT_MECHANISM_PREFERENCE, MECHANISM_NAMES, type MechanismName, SCRAM_HASH_FUNCTIONS } from "@xmpp-sansio/sasl";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import {
  DEFAULT_CLIENT_PARTS,
  LeanClientSession,
  mechanismsWithHashes,
  oneShotMechanismsClientPart,
  sha1Hash,
  sha256Hash,
  sha512Hash,
  streamFraming,
  webSocketFraming,
} from "../src/index.js";
import { startPair as run } from "./harness.js";

const ONE_SHOT = ["PLAIN", "ANONYMOUS", "EXTERNAL"] as const;

const wsServer = { framing: "websocket", tls: "direct" } as const;

describe("the one-shot mechanisms part", () => {
  it("is in DEFAULT_CLIENT_PARTS", () => {
    expect(DEFAULT_CLIENT_PARTS.oneShotMechanisms).toBe(oneShotMechanismsClientPart);
  });

  it("lean without it: never PLAIN — a server offering only PLAIN ends in invalid-mechanism; with it: PLAIN", () => {
    const client = { framing: webSocketFraming, tls: "direct" } as const;
    const without = run({ lean: true, client: { ...client, parts: { hashes: [sha256Hash] } }, server: { ...wsServer, mechanisms: ["PLAIN"] } });
    expect(without.client.state).not.toBe("online");
    expect(without.clientEvents.some((e) => e.type === "authenticated")).toBe(false);
    expect(without.clientEvents.some((e) => e.type === "auth-failed" && e.condition === "invalid-mechanism")).toBe(true);
    const withPart = run({ lean: true, client: { ...client, parts: { hashes: [sha256Hash], oneShotMechanisms: oneShotMechanismsClientPart } }, server: { ...wsServer, mechanisms: ["PLAIN"] } });
    expect(withPart.client.state).toBe("online");
    expect(withPart.clientEvents.some((e) => e.type === "authenticated" && e.mechanism === "PLAIN")).toBe(true);
  });

  it("lean without it, SCRAM and PLAIN offered: SCRAM as before", () => {
    const p = run({ lean: true, client: { framing: webSocketFraming, tls: "direct", parts: { hashes: [sha256Hash] } }, server: wsServer });
    expect(p.client.state).toBe("online");
    expect(p.clientEvents.some((e) => e.type === "authenticated" && e.mechanism.startsWith("SCRAM-SHA-256"))).toBe(true);
  });

  it("full clients keep PLAIN (ClientSession, against a server offering only PLAIN)", () => {
    const p = run({ client: { framing: "websocket", tls: "direct" }, server: { ...wsServer, mechanisms: ["PLAIN"] } });
    expect(p.client.state).toBe("online");
    expect(p.clientEvents.some((e) => e.type === "authenticated" && e.mechanism === "PLAIN")).toBe(true);
  });

  it("lean: mechanisms naming PLAIN, ANONYMOUS or EXTERNAL without the part throw a TypeError naming it", () => {
    const base = { jid: "juliet@im.example.com", password: "x", framing: streamFraming, tls: "none" } as const;
    for (const m of ONE_SHOT) {
      expect(() => new LeanClientSession({ ...base, mechanisms: [m] })).toThrow(new RegExp(`${m} needs the one-shot mechanisms part: pass parts: \\{ oneShotMechanisms: oneShotMechanismsClientPart \\}`));
      expect(() => new LeanClientSession({ ...base, mechanisms: ["SCRAM-SHA-256", m], parts: { hashes: [sha256Hash] } })).toThrow(TypeError);
      expect(() => new LeanClientSession({ ...base, mechanisms: [m], parts: { oneShotMechanisms: oneShotMechanismsClientPart } })).not.toThrow();
    }
    // A missing hash is named first, as before.
    expect(() => new LeanClientSession({ ...base, mechanisms: ["SCRAM-SHA-1", "PLAIN"] })).toThrow(/SCRAM-SHA-1 needs its hash function/);
    // The default preference without the part is SCRAM only: no error.
    expect(() => new LeanClientSession({ ...base, parts: { hashes: [sha256Hash] } })).not.toThrow();
  });

  it("property: without the part the preference is the same minus PLAIN/ANONYMOUS/EXTERNAL, and throws exactly when one is named", () => {
    const hashesArb = fc.subarray([sha1Hash, sha256Hash, sha512Hash]);
    const namesArb = fc.option(fc.shuffledSubarray([...MECHANISM_NAMES, "X-UNKNOWN"]), { nil: undefined });
    fc.assert(
      fc.property(namesArb, hashesArb, (names, hashes) => {
        let full: MechanismName[] | TypeError;
        try {
          full = mechanismsWithHashes(names, hashes, true);
        } catch (e) {
          full = e as TypeError;
        }
        let lean: MechanismName[] | TypeError;
        try {
          lean = mechanismsWithHashes(names, hashes, false);
        } catch (e) {
          lean = e as TypeError;
        }
        if (full instanceof TypeError) {
          // A missing hash: the same error either way.
          expect(lean).toBeInstanceOf(TypeError);
          expect((lean as TypeError).message).toBe(full.message);
          return;
        }
        const namesOneShot = names?.some((n) => (ONE_SHOT as readonly string[]).includes(n));
        if (namesOneShot === true) {
          expect(lean).toBeInstanceOf(TypeError);
          expect((lean as TypeError).message).toMatch(/oneShotMechanismsClientPart/);
        } else {
          expect(lean).toEqual(full.filter((m) => !(ONE_SHOT as readonly string[]).includes(m)));
        }
        // The two-argument form is the full one (what it was before the part).
        expect(mechanismsWithHashes(names, hashes)).toEqual(full);
      }),
      fuzz(300),
    );
  });

  it("full preference unchanged: all hashes and the part give the library's order", () => {
    expect(mechanismsWithHashes(undefined, SCRAM_HASH_FUNCTIONS, true)).toEqual(DEFAULT_MECHANISM_PREFERENCE);
  });
});
