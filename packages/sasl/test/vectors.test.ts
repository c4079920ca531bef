import { describe, expect, it } from "vitest";
import {
  base64Decode,
  computeDowngradeProtectionHash,
  createClientMechanism,
  createServerMechanism,
  deriveScramCredentials,
  digest,
  downgradeProtectionInput,
  hmac,
  isSaslError,
  pbkdf2,
  type ScramCrypto,
} from "../src/index.js";
import { b64, dec, enc, hex } from "./helpers.js";

const CASES = [
  {
    rfc: "RFC 5802 §5",
    mech: "SCRAM-SHA-1",
    hash: "SHA-1",
    user: "user",
    password: "pencil",
    clientNonce: "fyko+d2lbbFgONRv9qkxdawL",
    serverNonce: "3rfcNHYJY1ZVvWVs7j",
    salt: "QSXCR+Q6sek8bf92",
    clientFirst: "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
    serverFirst: "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
    clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
  },
  {
    rfc: "RFC 7677 §3",
    mech: "SCRAM-SHA-256",
    hash: "SHA-256",
    user: "user",
    password: "pencil",
    clientNonce: "rOprNGfwEbeRWgbNEkqO",
    serverNonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
    salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
    clientFirst: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
    serverFirst: "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    clientFinal:
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
  },
  {
    // RFC 6120 §9.1 (juliet@im.example.com / r0m30myr0m30), from ../shared/spec.
    rfc: "RFC 6120 §9",
    mech: "SCRAM-SHA-1",
    hash: "SHA-1",
    user: "juliet",
    password: "r0m30myr0m30",
    clientNonce: "oMsTAAwAAAAMAAAANP0TAAAAAABPU0AA",
    serverNonce: "e124695b-69a9-4de6-9c30-b51b3808c59e",
    salt: "NjhkYTM0MDgtNGY0Zi00NjdmLTkxMmUtNDlmNTNmNDNkMDMz",
    clientFirst: "n,,n=juliet,r=oMsTAAwAAAAMAAAANP0TAAAAAABPU0AA",
    serverFirst:
      "r=oMsTAAwAAAAMAAAANP0TAAAAAABPU0AAe124695b-69a9-4de6-9c30-b51b3808c59e,s=NjhkYTM0MDgtNGY0Zi00NjdmLTkxMmUtNDlmNTNmNDNkMDMz,i=4096",
    clientFinal:
      "c=biws,r=oMsTAAwAAAAMAAAANP0TAAAAAABPU0AAe124695b-69a9-4de6-9c30-b51b3808c59e,p=UA57tM/SvpATBkH2FXs0WDXvJYw=",
    serverFinal: "v=pNNDFVEQxuXxCoSEiW8GEZ+1RSo=",
  },
] as const;

describe.each(CASES)("$rfc $mech vector", (v) => {
  it("client produces the exact messages and verifies v=", () => {
    const c = createClientMechanism(v.mech, { username: v.user, password: v.password, nonce: v.clientNonce });
    expect(dec(c.initialResponse()!)).toBe(v.clientFirst);
    const r = c.challenge(enc(v.serverFirst));
    expect(isSaslError(r)).toBe(false);
    expect(dec(r as Uint8Array)).toBe(v.clientFinal);
    expect(c.finish(enc(v.serverFinal))).toBe(true);
    expect(c.state).toBe("succeeded");
  });

  it("server produces the exact messages from stored keys only", () => {
    const creds = deriveScramCredentials(v.hash, v.password, base64Decode(v.salt)!, 4096);
    const s = createServerMechanism(v.mech, { nonce: v.serverNonce });
    const q = s.start(enc(v.clientFirst));
    expect(q).toEqual({ kind: "credentials-needed", mechanism: v.mech, hash: v.hash, username: v.user, authzid: undefined });
    const ch = s.supplyCredentials(creds);
    expect(ch.kind).toBe("challenge");
    expect(dec((ch as { data: Uint8Array }).data)).toBe(v.serverFirst);
    const ok = s.response(enc(v.clientFinal));
    expect(ok.kind).toBe("success");
    if (ok.kind !== "success") return;
    expect(dec(ok.data!)).toBe(v.serverFinal);
    expect(ok.identity).toEqual({ mechanism: v.mech, authcid: v.user, authzid: undefined });
  });

  it("server with an injected ScramCrypto: the same messages, computed by it; a wrong one fails the proof", () => {
    const creds = deriveScramCredentials(v.hash, v.password, base64Decode(v.salt)!, 4096);
    const calls = { digest: 0, hmac: 0 };
    const counting: ScramCrypto = {
      digest: (h, d) => {
        calls.digest++;
        return digest(h, d);
      },
      hmac: (h, k, d) => {
        calls.hmac++;
        return hmac(h, k, d);
      },
    };
    const s = createServerMechanism(v.mech, { nonce: v.serverNonce, crypto: counting });
    s.start(enc(v.clientFirst));
    expect(dec((s.supplyCredentials(creds) as { data: Uint8Array }).data)).toBe(v.serverFirst);
    const ok = s.response(enc(v.clientFinal));
    expect(ok.kind).toBe("success");
    if (ok.kind === "success") expect(dec(ok.data!)).toBe(v.serverFinal);
    expect(calls).toEqual({ digest: 1, hmac: 2 }); // H(ClientKey), ClientSignature, ServerSignature
    const wrong: ScramCrypto = { digest: (h, d) => digest(h, d), hmac: (h, k, d) => new Uint8Array(hmac(h, k, d).length) };
    const s2 = createServerMechanism(v.mech, { nonce: v.serverNonce, crypto: wrong });
    s2.start(enc(v.clientFirst));
    s2.supplyCredentials(creds);
    expect(s2.response(enc(v.clientFinal))).toMatchObject({ kind: "failure", reason: "proof-mismatch" });
  });

  it("server-final also verifies when it arrives as a challenge (RFC 6120 §6.4.6)", () => {
    const c = createClientMechanism(v.mech, { username: v.user, password: v.password, nonce: v.clientNonce });
    c.initialResponse();
    c.challenge(enc(v.serverFirst));
    const r = c.challenge(enc(v.serverFinal));
    expect(r).toEqual(new Uint8Array(0));
    expect(c.state).toBe("verified");
    expect(c.finish()).toBe(true);
  });
});

describe("RFC 6120 §9 base64 payloads", () => {
  it("decode to the documented messages", () => {
    expect(dec(base64Decode("biwsbj1qdWxpZXQscj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQQ==")!)).toBe(
      "n,,n=juliet,r=oMsTAAwAAAAMAAAANP0TAAAAAABPU0AA",
    );
    expect(dec(base64Decode("dj1wTk5ERlZFUXh1WHhDb1NFaVc4R0VaKzFSU289")!)).toBe("v=pNNDFVEQxuXxCoSEiW8GEZ+1RSo=");
    const challenge =
      "cj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQWUxMjQ2OTViLTY5YTktNGRlNi05YzMwLWI1MWIzODA4YzU5ZSxzPU5qaGtZVE0wTURndE5HWTBaaTAwTmpkbUxUa3hNbVV0TkRsbU5UTm1ORE5rTURNeixpPTQwOTY=";
    expect(dec(base64Decode(challenge)!)).toBe(CASES[2].serverFirst);
    const response =
      "Yz1iaXdzLHI9b01zVEFBd0FBQUFNQUFBQU5QMFRBQUFBQUFCUFUwQUFlMTI0Njk1Yi02OWE5LTRkZTYtOWMzMC1iNTFiMzgwOGM1OWUscD1VQTU3dE0vU3ZwQVRCa0gyRlhzMFdEWHZKWXc9";
    expect(dec(base64Decode(response)!)).toBe(CASES[2].clientFinal);
    expect(dec(base64Decode(CASES[2].salt)!)).toBe("68da3408-4f4f-467f-912e-49f53f43d033");
  });
});

describe("RFC 6070 PBKDF2-HMAC-SHA1", () => {
  const vectors: [string, string, number, number, string][] = [
    ["password", "salt", 1, 20, "0c60c80f961f0e71f3a9b524af6012062fe037a6"],
    ["password", "salt", 2, 20, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"],
    ["password", "salt", 4096, 20, "4b007901b765489abead49d926f721d065a429c1"],
    // The 16777216-iteration vector (eefe3d61…) is left out: it takes tens of seconds.
    ["passwordPASSWORDpassword", "saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 25, "3d2eec4fe41c849b80c8d83662c0e44a8b291a964cf2f07038"],
    ["pass\0word", "sa\0lt", 4096, 16, "56fa6aa75548099dcc37d7f03425e0c3"],
  ];
  it.each(vectors)("P=%j S=%j c=%i dkLen=%i", (p, s, c, len, want) => {
    expect(hex(pbkdf2("SHA-1", enc(p), enc(s), c, len))).toBe(want);
  });
});

describe("XEP-0474 0.5.0 §5.3 example", () => {
  const advertised = {
    mechanisms: ["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"],
    channelBindingTypes: ["tls-server-end-point", "tls-exporter"],
  };
  it("hashes the sorted lists with 0x1E/0x1F delimiters", () => {
    expect(dec(downgradeProtectionInput(advertised))).toBe(
      "SCRAM-SHA-1\u001eSCRAM-SHA-1-PLUS\u001ftls-exporter\u001etls-server-end-point",
    );
    expect(computeDowngradeProtectionHash("SHA-1", advertised)).toBe("G6k/rBLDqgOhRRaCuuatSDFkJ08=");
  });

  it("omits the 0x1F part when XEP-0440 was not used", () => {
    expect(dec(downgradeProtectionInput({ mechanisms: ["SCRAM-SHA-256", "PLAIN"] }))).toBe("PLAIN\u001eSCRAM-SHA-256");
    expect(dec(downgradeProtectionInput({ mechanisms: ["PLAIN"], channelBindingTypes: [] }))).toBe("PLAIN\u001f");
  });

  it("our server reproduces the example's SCRAM-SHA-1-PLUS (tls-exporter) exchange", () => {
    const clientFirst = "p=tls-exporter,,n=user,r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6";
    expect(b64("cD10bHMtZXhwb3J0ZXIsLG49dXNlcixyPTEyQzRDRDVDLUUzOEUtNEE5OC04RjZELTE1QzM4RjUxQ0NDNg==")).toEqual(
      enc(clientFirst),
    );
    const s = createServerMechanism("SCRAM-SHA-1-PLUS", {
      nonce: "a09117a6-ac50-4f2f-93f1-93799c2bddf6",
      channelBindings: [{ type: "tls-exporter", data: enc("THIS IS FAKE CB DATA") }],
      downgradeProtection: advertised,
    });
    expect(s.start(enc(clientFirst)).kind).toBe("credentials-needed");
    const ch = s.supplyCredentials(deriveScramCredentials("SHA-1", "pencil", b64("QSXCR+Q6sek8bf92"), 4096));
    expect(ch.kind === "challenge" && dec(ch.data)).toBe(
      "r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6a09117a6-ac50-4f2f-93f1-93799c2bddf6,s=QSXCR+Q6sek8bf92,i=4096,h=G6k/rBLDqgOhRRaCuuatSDFkJ08=",
    );
    // The example's client-final carries an extension x=…, which the server must accept and sign over.
    const clientFinal =
      "c=cD10bHMtZXhwb3J0ZXIsLFRISVMgSVMgRkFLRSBDQiBEQVRB,r=12C4CD5C-E38E-4A98-8F6D-15C38F51CCC6a09117a6-ac50-4f2f-93f1-93799c2bddf6,x=19C6532F-1CF4-4A27-A18D-DC9CEA41BBB3,p=M/SIDjT+dfcxUh89jZEypRvFxB4=";
    const ok = s.response(enc(clientFinal));
    expect(ok.kind).toBe("success");
    expect(ok.kind === "success" && dec(ok.data!)).toBe("v=MQrMPvv7yv4x4Cq4W4Ih25EqS2c=");
  });
});
