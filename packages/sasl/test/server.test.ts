import { describe, expect, it } from "vitest";
import {
  base64Encode,
  computeDowngradeProtectionHash,
  createClientMechanism,
  createServerMechanism,
  deriveScramCredentials,
  type ServerMechanismOptions,
  type ServerStep,
} from "../src/index.js";
import { counterRandom, dec, enc, runExchange } from "./helpers.js";

const fail = (s: ServerStep) => {
  expect(s.kind).toBe("failure");
  return s as Extract<ServerStep, { kind: "failure" }>;
};

describe("PLAIN server", () => {
  const plain = (opts: ServerMechanismOptions = {}) => createServerMechanism("PLAIN", opts);
  it("asks to verify the password, then succeeds on verdict(true)", () => {
    const s = plain();
    expect(s.start(enc("\0juliet\0r0m30myr0m30"))).toEqual({
      kind: "verify-password",
      mechanism: "PLAIN",
      username: "juliet",
      password: "r0m30myr0m30",
      preparedPassword: "r0m30myr0m30",
      authzid: undefined,
    });
    expect(s.verdict(true)).toEqual({
      kind: "success",
      identity: { mechanism: "PLAIN", authcid: "juliet", authzid: undefined },
    });
    expect(s.state).toBe("succeeded");
  });
  it("an authzid equal to the authcid is fine", () => {
    expect(plain().start(enc("juliet\0juliet\0pw")).kind).toBe("verify-password");
  });
  it("an authzid other than the authcid → invalid-authzid", () => {
    const f = fail(plain().start(enc("romeo\0juliet\0pw")));
    expect([f.condition, f.reason]).toEqual(["invalid-authzid", "authzid-not-allowed"]);
  });
  it("…unless the application allows it", () => {
    expect(plain({ allowAuthzid: true }).start(enc("romeo\0juliet\0pw")).kind).toBe("verify-password");
    const policy = (authcid: string, authzid: string) => authzid === `${authcid}@example.com`;
    const s = plain({ allowAuthzid: policy });
    expect(s.start(enc("juliet@example.com\0juliet\0pw")).kind).toBe("verify-password");
    expect(s.verdict(true)).toMatchObject({ identity: { authcid: "juliet", authzid: "juliet@example.com" } });
    expect(fail(plain({ allowAuthzid: policy }).start(enc("romeo@example.com\0juliet\0pw"))).condition).toBe("invalid-authzid");
  });
  it.each([
    ["one NUL", "juliet\0pw"],
    ["three NULs", "\0juliet\0pw\0"],
    ["no NUL", "julietpw"],
    ["empty", ""],
  ])("%s → malformed-request", (_what, msg) => {
    const f = fail(plain().start(enc(msg)));
    expect([f.condition, f.reason]).toEqual(["malformed-request", "malformed-plain-message"]);
  });
  it("empty authcid / password → malformed-request", () => {
    expect(fail(plain().start(enc("\0\0pw"))).reason).toBe("empty-authcid");
    expect(fail(plain().start(enc("\0juliet\0"))).reason).toBe("empty-password");
  });
  it("invalid UTF-8 → malformed-request", () => {
    const f = fail(plain().start(new Uint8Array([0, 0x6a, 0, 0xff, 0xfe])));
    expect([f.condition, f.reason]).toEqual(["malformed-request", "invalid-utf8"]);
    expect(fail(plain().start(new Uint8Array([0, 0xed, 0xa0, 0x80, 0, 0x70]))).reason).toBe("invalid-utf8");
  });
  it("verdict(false) → not-authorized; verdict(condition) → that condition", () => {
    const s = plain();
    s.start(enc("\0juliet\0pw"));
    expect(fail(s.verdict(false)).condition).toBe("not-authorized");
    const s2 = plain();
    s2.start(enc("\0juliet\0pw"));
    expect(fail(s2.verdict("account-disabled")).condition).toBe("account-disabled");
    const s3 = plain();
    s3.start(enc("\0juliet\0pw"));
    expect(fail(s3.refuse("credentials-expired", "change it")).text).toBe("change it");
  });
  it("no initial response: empty challenge first", () => {
    const s = plain();
    expect(s.start(null)).toEqual({ kind: "challenge", data: new Uint8Array(0) });
    expect(s.response(enc("\0juliet\0pw")).kind).toBe("verify-password");
  });
  it("misuse throws", () => {
    const s = plain();
    expect(() => s.verdict(true)).toThrow(TypeError);
    s.start(enc("\0juliet\0pw"));
    expect(() => s.start(enc("x"))).toThrow(TypeError);
    expect(() => s.supplyCredentials(null)).toThrow(TypeError);
    expect(() => s.response(enc("x"))).toThrow(TypeError);
  });
  it("client PLAIN produces the RFC 4616 message", () => {
    expect(dec(createClientMechanism("PLAIN", { username: "tim", password: "tanstaaftanstaaf" }).initialResponse()!)).toBe(
      "\0tim\0tanstaaftanstaaf",
    );
    expect(dec(createClientMechanism("PLAIN", { username: "Kurt", password: "xipj3plmq", authzid: "Ursel" }).initialResponse()!)).toBe(
      "Ursel\0Kurt\0xipj3plmq",
    );
    expect(() => createClientMechanism("PLAIN", { username: "", password: "x" })).toThrow(TypeError);
  });
  it("client PLAIN refuses challenges and additional data", () => {
    const c = createClientMechanism("PLAIN", { username: "u", password: "p" });
    c.initialResponse();
    expect(c.challenge(enc("x"))).toMatchObject({ reason: "unexpected-message" });
    const c2 = createClientMechanism("PLAIN", { username: "u", password: "p" });
    c2.initialResponse();
    expect(c2.finish(enc("x"))).toMatchObject({ reason: "unexpected-additional-data" });
    const c3 = createClientMechanism("PLAIN", { username: "u", password: "p" });
    c3.initialResponse();
    expect(c3.finish()).toBe(true);
  });
});

describe("ANONYMOUS", () => {
  it("succeeds with trace, or without", () => {
    const c = createClientMechanism("ANONYMOUS", { trace: "sirhc" });
    const s = createServerMechanism("ANONYMOUS");
    expect(s.start(c.initialResponse())).toEqual({
      kind: "success",
      identity: { mechanism: "ANONYMOUS", authcid: "", authzid: undefined, trace: "sirhc" },
    });
    expect(c.finish()).toBe(true);
    expect(createServerMechanism("ANONYMOUS").start(new Uint8Array(0))).toMatchObject({ kind: "success" });
  });
  it("refuses too long or control-character traces", () => {
    expect(fail(createServerMechanism("ANONYMOUS").start(enc("x".repeat(256)))).reason).toBe("invalid-trace");
    expect(fail(createServerMechanism("ANONYMOUS").start(enc("a\nb"))).reason).toBe("invalid-trace");
    expect(fail(createServerMechanism("ANONYMOUS").start(new Uint8Array([0xc0, 0x80]))).reason).toBe("invalid-utf8");
    expect(() => createClientMechanism("ANONYMOUS", { trace: "x".repeat(256) })).toThrow(TypeError);
  });
});

describe("EXTERNAL", () => {
  const ext = (ids: string[] | undefined, opts: ServerMechanismOptions = {}) =>
    createServerMechanism("EXTERNAL", ids === undefined ? opts : { ...opts, externalIdentities: ids });
  it("derives the identity from the certificate when authzid is empty", () => {
    const c = createClientMechanism("EXTERNAL");
    expect(c.initialResponse()).toEqual(new Uint8Array(0));
    expect(ext(["juliet@example.com"]).start(new Uint8Array(0))).toEqual({
      kind: "success",
      identity: { mechanism: "EXTERNAL", authcid: "juliet@example.com", authzid: undefined },
    });
  });
  it("accepts an authzid naming one of the certificate identities", () => {
    const c = createClientMechanism("EXTERNAL", { authzid: "romeo@example.net" });
    expect(ext(["juliet@example.com", "romeo@example.net"]).start(c.initialResponse())).toMatchObject({
      kind: "success",
      identity: { authcid: "romeo@example.net", authzid: "romeo@example.net" },
    });
  });
  it("no certificate identity → not-authorized", () => {
    expect(fail(ext(undefined).start(new Uint8Array(0))).reason).toBe("no-external-identity");
  });
  it("several identities and no authzid → invalid-authzid", () => {
    expect(fail(ext(["a@x", "b@x"]).start(new Uint8Array(0))).condition).toBe("invalid-authzid");
  });
  it("an authzid the certificate does not cover → invalid-authzid, unless allowed", () => {
    expect(fail(ext(["a@x"]).start(enc("admin@x"))).condition).toBe("invalid-authzid");
    expect(ext(["a@x"], { allowAuthzid: true }).start(enc("admin@x"))).toMatchObject({
      kind: "success",
      identity: { authcid: "a@x", authzid: "admin@x" },
    });
  });
});

describe("SCRAM server refusals", () => {
  const CREDS = deriveScramCredentials("SHA-1", "pencil", enc("0123456789abcdef"), 4096);
  const CREDS_OF = { "SHA-1": CREDS, "SHA-256": deriveScramCredentials("SHA-256", "pencil", enc("0123456789abcdef"), 4096) } as const;
  const CB = enc("channel-binding-bytes");
  function scram(name: "SCRAM-SHA-1" | "SCRAM-SHA-1-PLUS", opts: ServerMechanismOptions = {}) {
    return createServerMechanism(name, { random: counterRandom(7), ...opts });
  }
  function exchange(
    name: "SCRAM-SHA-1" | "SCRAM-SHA-1-PLUS",
    serverOpts: ServerMechanismOptions,
    clientOpts: Parameters<typeof createClientMechanism>[1] = {},
    tamper?: (i: number, d: Uint8Array) => Uint8Array,
  ) {
    const c = createClientMechanism(name, { username: "user", password: "pencil", random: counterRandom(3), ...clientOpts });
    return runExchange(c, scram(name, serverOpts), { credentials: (u) => (u === "user" ? CREDS : null) }, tamper);
  }

  it("succeeds normally", () => {
    expect(exchange("SCRAM-SHA-1", {}).kind).toBe("success");
  });
  it("m= in client-first → malformed-request", () => {
    const f = fail(scram("SCRAM-SHA-1").start(enc("n,,m=ext,n=user,r=abc")));
    expect([f.condition, f.reason, f.scramError]).toEqual(["malformed-request", "mandatory-extension", "extensions-not-supported"]);
  });
  it.each(["x,,n=user,r=abc", "n,n=user,r=abc", "nn=user,r=abc", "p=tls unique,,n=user,r=abc", "n,b=x,n=user,r=abc"])(
    "bad GS2 header %j",
    (m) => {
      const f = fail(scram("SCRAM-SHA-1").start(enc(m)));
      expect(f.condition).toBe("malformed-request");
    },
  );
  it("attribute order r before n", () => {
    expect(fail(scram("SCRAM-SHA-1").start(enc("n,,r=abc,n=user"))).reason).toBe("unknown-attribute-order");
  });
  it.each(["n,,n=us=2Xer,r=abc", "n,,n=us=er,r=abc", "n,,n=,r=abc", "n,a=x=,n=user,r=abc"])("bad saslname %j", (m) => {
    const f = fail(scram("SCRAM-SHA-1").start(enc(m)));
    expect(f.condition).toBe("malformed-request");
  });
  it("saslname escapes decode", () => {
    expect(scram("SCRAM-SHA-1", { allowAuthzid: true }).start(enc("n,a=a=3Db=2Cc,n=u=2Cs=3Dr,r=abc"))).toMatchObject({
      kind: "credentials-needed",
      username: "u,s=r",
      authzid: "a=b,c",
    });
  });
  it("authzid other than the username → invalid-authzid", () => {
    expect(fail(scram("SCRAM-SHA-1").start(enc("n,a=admin,n=user,r=abc"))).condition).toBe("invalid-authzid");
    expect(scram("SCRAM-SHA-1").start(enc("n,a=user,n=user,r=abc")).kind).toBe("credentials-needed");
  });
  it("p= with a non-PLUS mechanism → malformed-request", () => {
    const f = fail(scram("SCRAM-SHA-1").start(enc("p=tls-unique,,n=user,r=abc")));
    expect([f.condition, f.reason]).toEqual(["malformed-request", "channel-binding-not-supported"]);
  });
  it("-PLUS with n or y → malformed-request", () => {
    const opts = { channelBindings: [{ type: "tls-exporter" as const, data: CB }] };
    expect(fail(scram("SCRAM-SHA-1-PLUS", opts).start(enc("n,,n=user,r=abc"))).reason).toBe("channel-binding-required");
    expect(fail(scram("SCRAM-SHA-1-PLUS", opts).start(enc("y,,n=user,r=abc"))).reason).toBe("channel-binding-required");
  });
  it("-PLUS with a type the server lacks → not-authorized", () => {
    const f = fail(scram("SCRAM-SHA-1-PLUS", { channelBindings: [{ type: "tls-exporter", data: CB }] }).start(enc("p=tls-unique,,n=user,r=abc")));
    expect([f.condition, f.reason]).toEqual(["not-authorized", "unsupported-channel-binding-type"]);
  });
  it.each(["tls-unique", "tls-server-end-point", "tls-exporter"] as const)("-PLUS %s with wrong cb data → not-authorized", (type) => {
    const out = exchange(
      "SCRAM-SHA-1-PLUS",
      { channelBindings: [{ type, data: CB }] },
      { channelBinding: { type, data: enc("channel-binding-byteS") } },
    );
    expect(out.kind).toBe("server-failure");
    if (out.kind !== "server-failure") return;
    expect([out.step.condition, out.step.reason, out.step.scramError]).toEqual([
      "not-authorized",
      "channel-binding-mismatch",
      "channel-bindings-dont-match",
    ]);
  });
  it.each(["tls-unique", "tls-server-end-point", "tls-exporter"] as const)("-PLUS %s with right cb data succeeds", (type) => {
    const out = exchange(
      "SCRAM-SHA-1-PLUS",
      { channelBindings: [{ type: type === "tls-unique" ? "tls-exporter" : "tls-unique", data: enc("other") }, { type, data: CB }] },
      { channelBinding: { type, data: CB } },
    );
    expect(out.kind).toBe("success");
  });
  it("y while the server offered -PLUS → downgrade → not-authorized", () => {
    const out = exchange("SCRAM-SHA-1", { offeredPlus: true }, { clientSupportsChannelBinding: true });
    expect(out).toMatchObject({
      kind: "server-failure",
      step: { condition: "not-authorized", reason: "channel-binding-downgrade", scramError: "server-does-support-channel-binding" },
    });
    // default offeredPlus: channel bindings present
    const out2 = exchange("SCRAM-SHA-1", { channelBindings: [{ type: "tls-exporter", data: CB }] }, { clientSupportsChannelBinding: true });
    expect(out2).toMatchObject({ kind: "server-failure", step: { reason: "channel-binding-downgrade" } });
  });
  it("y when the server offered no -PLUS succeeds; n always succeeds", () => {
    expect(exchange("SCRAM-SHA-1", { offeredPlus: false }, { clientSupportsChannelBinding: true }).kind).toBe("success");
    expect(exchange("SCRAM-SHA-1", { offeredPlus: true }).kind).toBe("success");
  });
  it("c= that does not match the GS2 header → not-authorized", () => {
    const s = scram("SCRAM-SHA-1");
    s.start(enc("n,,n=user,r=abc"));
    const ch = s.supplyCredentials(CREDS) as { data: Uint8Array };
    const nonce = dec(ch.data).split(",")[0]!.slice(2);
    const f = fail(s.response(enc(`c=${base64Encode(enc("y,,"))},r=${nonce},p=${base64Encode(new Uint8Array(20))}`)));
    expect([f.condition, f.reason]).toEqual(["not-authorized", "channel-binding-mismatch"]);
  });
  it("nonce not echoed → not-authorized", () => {
    const s = scram("SCRAM-SHA-1");
    s.start(enc("n,,n=user,r=abc"));
    s.supplyCredentials(CREDS);
    const f = fail(s.response(enc(`c=biws,r=abcdef,p=${base64Encode(new Uint8Array(20))}`)));
    expect([f.condition, f.reason]).toEqual(["not-authorized", "nonce-mismatch"]);
  });
  it("client-final: order, m=, proof length, base64", () => {
    const start = () => {
      const s = scram("SCRAM-SHA-1");
      s.start(enc("n,,n=user,r=abc"));
      const ch = s.supplyCredentials(CREDS) as { data: Uint8Array };
      return { s, nonce: dec(ch.data).split(",")[0]!.slice(2) };
    };
    const p = base64Encode(new Uint8Array(20));
    let t = start();
    expect(fail(t.s.response(enc(`r=${t.nonce},c=biws,p=${p}`))).reason).toBe("unknown-attribute-order");
    t = start();
    expect(fail(t.s.response(enc(`c=biws,r=${t.nonce},p=${p},x=1`))).reason).toBe("unknown-attribute-order");
    t = start();
    expect(fail(t.s.response(enc(`c=biws,r=${t.nonce},m=1,p=${p}`))).reason).toBe("mandatory-extension");
    t = start();
    expect(fail(t.s.response(enc(`c=biws,r=${t.nonce},p=${base64Encode(new Uint8Array(19))}`))).reason).toBe("invalid-proof");
    t = start();
    expect(fail(t.s.response(enc(`c=biws,r=${t.nonce},p=AAAA AAAA`))).reason).toBe("invalid-proof");
    t = start();
    expect(fail(t.s.response(enc(`c=biw,r=${t.nonce},p=${p}`))).condition).toBe("incorrect-encoding");
  });
  it("wrong password → not-authorized (proof-mismatch)", () => {
    const out = exchange("SCRAM-SHA-1", {}, { password: "pencil2" });
    expect(out).toMatchObject({ kind: "server-failure", step: { condition: "not-authorized", reason: "proof-mismatch" } });
  });
  it("unknown user → same condition and text as a wrong password", () => {
    const a = exchange("SCRAM-SHA-1", {}, { username: "nobody" });
    const b = exchange("SCRAM-SHA-1", {}, { password: "wrong" });
    expect(a).toMatchObject({ kind: "server-failure", step: { condition: "not-authorized", reason: "unknown-user" } });
    if (a.kind === "server-failure" && b.kind === "server-failure") expect(a.step.text).toBe(b.step.text);
  });
  it("unknown user gets a stable fake salt with fakeSaltSecret", () => {
    const salt = () => {
      const s = createServerMechanism("SCRAM-SHA-256", { fakeSaltSecret: enc("secret") });
      s.start(enc("n,,n=ghost,r=abc"));
      return dec((s.supplyCredentials(null) as { data: Uint8Array }).data).split(",")[1];
    };
    expect(salt()).toBe(salt());
  });
  it("supplied credentials of the wrong size throw", () => {
    const s = createServerMechanism("SCRAM-SHA-256");
    s.start(enc("n,,n=user,r=abc"));
    expect(() => s.supplyCredentials(CREDS)).toThrow(TypeError);
  });
  it("refuse() a credentials question; abort()", () => {
    const s = scram("SCRAM-SHA-1");
    s.start(enc("n,,n=user,r=abc"));
    expect(fail(s.refuse("account-disabled")).condition).toBe("account-disabled");
    const s2 = scram("SCRAM-SHA-1");
    s2.start(enc("n,,n=user,r=abc"));
    s2.supplyCredentials(CREDS);
    expect(fail(s2.abort()).condition).toBe("aborted");
  });
  it("invalid UTF-8 in client-first", () => {
    expect(fail(scram("SCRAM-SHA-1").start(new Uint8Array([0x6e, 0x2c, 0x2c, 0xe2, 0x82]))).reason).toBe("invalid-utf8");
  });
  it("XEP-0474: each advertised list gets its own h= (values remembered per list, never mixed up)", () => {
    const lists = [
      { mechanisms: ["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"], channelBindingTypes: ["tls-exporter"] },
      { mechanisms: ["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"], channelBindingTypes: [] },
      { mechanisms: ["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"] },
      { mechanisms: ["SCRAM-SHA-1-PLUS", "SCRAM-SHA-1"], channelBindingTypes: ["tls-exporter"] },
      { mechanisms: ["SCRAM-SHA-1"], channelBindingTypes: ["tls-exporter", "tls-server-end-point"] },
    ];
    for (const round of [0, 1]) {
      for (const [i, advertised] of lists.entries()) {
        for (const [mech, hash] of [["SCRAM-SHA-1", "SHA-1"], ["SCRAM-SHA-256", "SHA-256"]] as const) {
          const s = createServerMechanism(mech, { downgradeProtection: advertised, nonce: "n" });
          s.start(enc("n,,n=user,r=abc"));
          const ch = s.supplyCredentials(CREDS_OF[hash]);
          const h = /,h=([^,]*)$/.exec(dec((ch as { data: Uint8Array }).data))?.[1];
          expect(h, `round ${round}, list ${i}, ${mech}`).toBe(computeDowngradeProtectionHash(hash, advertised));
        }
      }
    }
  });
  it("XEP-0474: server adds h=, client verifies it", () => {
    const advertised = { mechanisms: ["SCRAM-SHA-1", "SCRAM-SHA-1-PLUS"], channelBindingTypes: ["tls-exporter"] };
    expect(exchange("SCRAM-SHA-1", { downgradeProtection: advertised }, { downgradeProtection: { ...advertised, required: true } }).kind).toBe(
      "success",
    );
    const out = exchange("SCRAM-SHA-1", { downgradeProtection: advertised }, { downgradeProtection: { mechanisms: ["SCRAM-SHA-1"] } });
    expect(out).toMatchObject({ kind: "client-error", error: { reason: "downgrade-protection-mismatch" } });
  });
});
