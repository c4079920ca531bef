// The compact SHA-1/SHA-256/SHA-512, HMAC and PBKDF2 of hash.ts (SCRAM's primitives, both roles): FIPS 180-4,
// RFC 4231 and RFC 6070 vectors, and the same bytes as node:crypto (OpenSSL) for any input.
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { digest, hashLength, hmac, pbkdf2 } from "../src/hash.js";
import type { ScramHash } from "../src/types.js";

const HASHES: ScramHash[] = ["SHA-1", "SHA-256", "SHA-512"];
const NODE: Record<ScramHash, string> = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-512": "sha512" };
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("compact hashes (hash.ts)", () => {
  it("FIPS 180-4 examples: 'abc', the empty string, the two-block message", () => {
    expect(hex(digest("SHA-1", ascii("abc")))).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(hex(digest("SHA-256", ascii("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hex(digest("SHA-512", ascii("abc")))).toBe(
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    );
    expect(hex(digest("SHA-1", new Uint8Array()))).toBe("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect(hex(digest("SHA-256", new Uint8Array()))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hex(digest("SHA-256", ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
    expect(hex(digest("SHA-512", ascii("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")))).toBe(
      "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909",
    );
    expect(HASHES.map(hashLength)).toEqual([20, 32, 64]);
  });

  it("a million 'a' (FIPS 180-4 long message)", () => {
    const m = new Uint8Array(1_000_000).fill(0x61);
    expect(hex(digest("SHA-1", m))).toBe("34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    expect(hex(digest("SHA-256", m))).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    expect(hex(digest("SHA-512", m))).toBe(
      "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b",
    );
  });

  it("RFC 4231 test case 2 (HMAC-SHA-256/512), RFC 2202 (HMAC-SHA-1), a key longer than the block", () => {
    const data = ascii("what do ya want for nothing?");
    expect(hex(hmac("SHA-1", ascii("Jefe"), data))).toBe("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    expect(hex(hmac("SHA-256", ascii("Jefe"), data))).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    expect(hex(hmac("SHA-512", ascii("Jefe"), data))).toBe(
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
    );
    // RFC 4231 test case 6: a 131-byte key is hashed first.
    const key = new Uint8Array(131).fill(0xaa);
    expect(hex(hmac("SHA-256", key, ascii("Test Using Larger Than Block-Size Key - Hash Key First")))).toBe(
      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    );
  });

  it("RFC 6070 PBKDF2-HMAC-SHA1 vectors; a derived key longer than the hash", () => {
    expect(hex(pbkdf2("SHA-1", ascii("password"), ascii("salt"), 1, 20))).toBe("0c60c80f961f0e71f3a9b524af6012062fe037a6");
    expect(hex(pbkdf2("SHA-1", ascii("password"), ascii("salt"), 4096, 20))).toBe("4b007901b765489abead49d926f721d065a429c1");
    expect(hex(pbkdf2("SHA-1", ascii("passwordPASSWORDpassword"), ascii("saltSALTsaltSALTsaltSALTsaltSALTsalt"), 4096, 25))).toBe(
      "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038",
    );
    expect(hex(pbkdf2("SHA-256", ascii("password"), ascii("salt"), 2, 70))).toBe(pbkdf2Sync("password", "salt", 2, 70, "sha256").toString("hex"));
    expect(() => pbkdf2("SHA-256", ascii("p"), ascii("s"), 0)).toThrow(TypeError);
    expect(() => pbkdf2("SHA-256", ascii("p"), ascii("s"), 1.5)).toThrow(TypeError);
  });

  it("the same bytes as node:crypto for any message, key, salt (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...HASHES),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 200 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 150 }),
        (h, data, key, iterations, dkLen) => {
          expect(hex(digest(h, data))).toBe(createHash(NODE[h]).update(data).digest("hex"));
          expect(hex(hmac(h, key, data))).toBe(createHmac(NODE[h], key).update(data).digest("hex"));
          expect(hex(pbkdf2(h, key, data, iterations, dkLen))).toBe(pbkdf2Sync(key, data, iterations, dkLen, NODE[h]).toString("hex"));
        },
      ),
      fuzz(200),
    );
  });
});
