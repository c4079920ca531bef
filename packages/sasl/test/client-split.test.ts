// The client factories after the split: createScramClientMechanism builds SCRAM only, createOneShotClientMechanism
// PLAIN/ANONYMOUS/EXTERNAL only, and createLeanClientMechanism / createClientMechanism still build all of them
// with the same bytes and checks.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import {
  createClientMechanism,
  createLeanClientMechanism,
  createOneShotClientMechanism,
  createScramClientMechanism,
  type MechanismName,
  type OneShotMechanismName,
  SCRAM_HASH_FUNCTIONS,
  sha256Hash,
} from "../src/index.js";

const fixedRandom = (n: number) => new Uint8Array(n).fill(7);

describe("client factories", () => {
  it("createScramClientMechanism refuses the one-message mechanisms and unknown names", () => {
    for (const name of ["PLAIN", "ANONYMOUS", "EXTERNAL", "X-FOO"]) {
      expect(() => createScramClientMechanism(name as "SCRAM-SHA-256", { username: "u", password: "p" })).toThrow(/is not a SCRAM mechanism/);
    }
    const m = createScramClientMechanism("SCRAM-SHA-256", { username: "u", password: "p", scramHashes: [sha256Hash], random: fixedRandom });
    expect(m.name).toBe("SCRAM-SHA-256");
    expect(() => createScramClientMechanism("SCRAM-SHA-1", { username: "u", password: "p", scramHashes: [sha256Hash] })).toThrow(TypeError);
  });

  it("createOneShotClientMechanism refuses SCRAM and unknown names", () => {
    for (const name of ["SCRAM-SHA-256", "X-FOO"]) {
      expect(() => createOneShotClientMechanism(name as OneShotMechanismName, {})).toThrow(/is not a one-message SASL mechanism/);
    }
    expect(new TextDecoder().decode(createOneShotClientMechanism("PLAIN", { username: "u", password: "p" }).initialResponse())).toBe("\u0000u\u0000p");
  });

  it("property: the lean and full factories give the same messages and errors as the split ones", () => {
    const name = fc.constantFrom<MechanismName>("PLAIN", "ANONYMOUS", "EXTERNAL", "SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512");
    const text = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom("", "a\u0000b", "x\n", "\u00e9"));
    fc.assert(
      fc.property(name, text, text, fc.option(text, { nil: undefined }), fc.option(text, { nil: undefined }), (n, username, password, authzid, trace) => {
        const options = { username, password, ...(authzid === undefined ? {} : { authzid }), ...(trace === undefined ? {} : { trace }), random: fixedRandom, scramHashes: SCRAM_HASH_FUNCTIONS };
        const outcome = (f: () => { initialResponse(): Uint8Array | null }) => {
          try {
            return { ok: Array.from(f().initialResponse() ?? []) };
          } catch (e) {
            return { error: `${(e as Error).name}: ${(e as Error).message}` };
          }
        };
        const split = outcome(() => (n.startsWith("SCRAM") ? createScramClientMechanism(n as "SCRAM-SHA-1", options) : createOneShotClientMechanism(n as OneShotMechanismName, options)));
        expect(outcome(() => createLeanClientMechanism(n, options))).toEqual(split);
        expect(outcome(() => createClientMechanism(n, options))).toEqual(split);
      }),
      fuzz(300),
    );
  });
});
