import { describe, expect, it } from "vitest";
import {
  base64Decode,
  type ClientMechanismOptions,
  computeDowngradeProtectionHash,
  createClientMechanism,
  createSaltedPasswordCache,
  isSaslError,
  type SaltedPasswordCacheKey,
  type SaslError,
  type ScramMechanismName,
} from "../src/index.js";
import { dec, enc } from "./helpers.js";

// RFC 5802 §5 exchange
const NONCE = "fyko+d2lbbFgONRv9qkxdawL";
const FULL = `${NONCE}3rfcNHYJY1ZVvWVs7j`;
const SERVER_FIRST = `r=${FULL},s=QSXCR+Q6sek8bf92,i=4096`;
const SERVER_FINAL = "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=";

function client(opts: ClientMechanismOptions = {}, name: ScramMechanismName = "SCRAM-SHA-1") {
  const c = createClientMechanism(name, { username: "user", password: "pencil", nonce: NONCE, ...opts });
  c.initialResponse();
  return c;
}

function refuseFirst(serverFirst: string, opts: ClientMechanismOptions = {}): SaslError {
  const c = client(opts);
  const r = c.challenge(enc(serverFirst));
  expect(isSaslError(r)).toBe(true);
  expect(c.state).toBe("failed");
  return r as SaslError;
}

describe("SCRAM client refuses a bad server-first-message", () => {
  it("nonce that does not start with the client nonce", () => {
    const e = refuseFirst(`r=X${FULL},s=QSXCR+Q6sek8bf92,i=4096`);
    expect([e.condition, e.reason]).toEqual(["not-authorized", "nonce-mismatch"]);
  });
  it("nonce that does not extend the client nonce", () => {
    const e = refuseFirst(`r=${NONCE},s=QSXCR+Q6sek8bf92,i=4096`);
    expect([e.condition, e.reason]).toEqual(["not-authorized", "nonce-mismatch"]);
  });
  it("non-printable nonce", () => {
    const e = refuseFirst(`r=${NONCE}ab\u0001c,s=QSXCR+Q6sek8bf92,i=4096`);
    expect(e.reason).toBe("invalid-nonce");
  });
  it("iteration count below the default floor 4096", () => {
    const e = refuseFirst(`r=${FULL},s=QSXCR+Q6sek8bf92,i=4095`);
    expect([e.condition, e.reason]).toEqual(["mechanism-too-weak", "iteration-count-too-low"]);
  });
  it("iteration count below a configured floor", () => {
    const e = refuseFirst(SERVER_FIRST, { minIterations: 10_000, maxIterations: 20_000 });
    expect(e.reason).toBe("iteration-count-too-low");
  });
  it("iteration count above the default cap 1_000_000", () => {
    const e = refuseFirst(`r=${FULL},s=QSXCR+Q6sek8bf92,i=1000001`);
    expect([e.condition, e.reason]).toEqual(["malformed-request", "iteration-count-too-high"]);
  });
  it("iteration count above a configured cap", () => {
    const e = refuseFirst(SERVER_FIRST, { maxIterations: 4000, minIterations: 1 });
    expect(e.reason).toBe("iteration-count-too-high");
  });
  it.each(["0", "04096", "-1", "4096.0", "", "1e4", "99999999999999999999"])("iteration count %j", (i) => {
    const e = refuseFirst(`r=${FULL},s=QSXCR+Q6sek8bf92,i=${i}`);
    expect([e.condition, e.reason]).toEqual(["malformed-request", "invalid-iteration-count"]);
  });
  it.each(["", "QSXCR+Q6sek8bf9", "QSXCR+Q6 sek8bf92", "QSXCR+Q6sek8bf9=", "****"])("salt %j", (s) => {
    const e = refuseFirst(`r=${FULL},s=${s},i=4096`);
    expect([e.condition, e.reason]).toEqual(["malformed-request", "invalid-salt"]);
  });
  it("m= mandatory extension first", () => {
    const e = refuseFirst(`m=foo,${SERVER_FIRST}`);
    expect([e.condition, e.reason]).toEqual(["malformed-request", "mandatory-extension"]);
  });
  it("m= anywhere", () => {
    const e = refuseFirst(`${SERVER_FIRST},m=foo`);
    expect(e.reason).toBe("mandatory-extension");
  });
  it("unknown attribute order", () => {
    const e = refuseFirst(`s=QSXCR+Q6sek8bf92,r=${FULL},i=4096`);
    expect([e.condition, e.reason]).toEqual(["malformed-request", "unknown-attribute-order"]);
    expect(refuseFirst(`r=${FULL},i=4096,s=QSXCR+Q6sek8bf92`).reason).toBe("unknown-attribute-order");
  });
  it("missing attributes, garbage, repeated attributes", () => {
    expect(refuseFirst(`r=${FULL},s=QSXCR+Q6sek8bf92`).reason).toBe("malformed-scram-message");
    expect(refuseFirst("hello").reason).toBe("malformed-scram-message");
    expect(refuseFirst(`${SERVER_FIRST},,`).reason).toBe("malformed-scram-message");
    expect(refuseFirst(`${SERVER_FIRST},r=x`).reason).toBe("malformed-scram-message");
    expect(refuseFirst(`${SERVER_FIRST},x=1,x=2`).reason).toBe("malformed-scram-message");
  });
  it("unknown optional extensions are ignored and signed over", () => {
    const c = client();
    const r = c.challenge(enc(`${SERVER_FIRST},x=whatever`));
    expect(isSaslError(r)).toBe(false);
  });
  it("e= in the server-first-message surfaces the value", () => {
    const e = refuseFirst("e=unknown-user");
    expect(e).toMatchObject({ condition: "not-authorized", reason: "server-error", serverError: "unknown-user" });
  });
  it("invalid UTF-8", () => {
    const c = client();
    const e = c.challenge(new Uint8Array([0x72, 0x3d, 0xc3, 0x28])) as SaslError;
    expect([e.condition, e.reason]).toEqual(["malformed-request", "invalid-utf8"]);
  });
  it("errors are sticky", () => {
    const c = client();
    const e = c.challenge(enc("garbage"));
    expect(c.challenge(enc(SERVER_FIRST))).toBe(e);
    expect(c.finish(enc(SERVER_FINAL))).toBe(e);
  });
});

describe("SCRAM client refuses a bad outcome", () => {
  function atFinal() {
    const c = client();
    expect(isSaslError(c.challenge(enc(SERVER_FIRST)))).toBe(false);
    return c;
  }
  it("wrong v= in <success/>", () => {
    const e = atFinal().finish(enc("v=rmF9pqV8S7suAoZWja4dJRkFsKQ_")) as SaslError;
    expect([e.condition, e.reason]).toEqual(["not-authorized", "server-signature-mismatch"]);
    const e2 = atFinal().finish(enc("v=AAAApqV8S7suAoZWja4dJRkFsKQ=")) as SaslError;
    expect(e2.reason).toBe("server-signature-mismatch");
  });
  it("wrong v= as a challenge", () => {
    const e = atFinal().challenge(enc("v=AAAApqV8S7suAoZWja4dJRkFsKQ=")) as SaslError;
    expect(e.reason).toBe("server-signature-mismatch");
  });
  it("missing v=: <success/> without additional data", () => {
    const e = atFinal().finish() as SaslError;
    expect([e.condition, e.reason]).toEqual(["not-authorized", "server-signature-missing"]);
    expect((atFinal().finish(new Uint8Array(0)) as SaslError).reason).toBe("server-signature-missing");
  });
  it("success before the server-first-message", () => {
    const e = client().finish() as SaslError;
    expect([e.condition, e.reason]).toEqual(["not-authorized", "premature-success"]);
  });
  it("e= server errors with their value", () => {
    const e = atFinal().finish(enc("e=invalid-proof")) as SaslError;
    expect(e).toMatchObject({ condition: "not-authorized", reason: "server-error", serverError: "invalid-proof" });
    const e2 = atFinal().challenge(enc("e=invalid-encoding")) as SaslError;
    expect(e2).toMatchObject({ condition: "incorrect-encoding", serverError: "invalid-encoding" });
    const e3 = atFinal().finish(enc("e=no-resources")) as SaslError;
    expect(e3.condition).toBe("temporary-auth-failure");
  });
  it("m= in the server-final-message", () => {
    expect((atFinal().finish(enc(`m=x,${SERVER_FINAL}`)) as SaslError).reason).toBe("mandatory-extension");
  });
  it("server-final that starts with something else", () => {
    expect((atFinal().finish(enc(`x=1,${SERVER_FINAL}`)) as SaslError).reason).toBe("unknown-attribute-order");
  });
  it("additional data after v= was already verified in a challenge", () => {
    const c = atFinal();
    c.challenge(enc(SERVER_FINAL));
    expect((c.finish(enc(SERVER_FINAL)) as SaslError).reason).toBe("unexpected-additional-data");
  });
  it("a challenge after verification", () => {
    const c = atFinal();
    c.challenge(enc(SERVER_FINAL));
    expect((c.challenge(enc("x")) as SaslError).reason).toBe("unexpected-message");
  });
});

describe("SCRAM client GS2 header", () => {
  const first = (opts: ClientMechanismOptions, name: ScramMechanismName = "SCRAM-SHA-1") =>
    dec(createClientMechanism(name, { username: "user", password: "pencil", nonce: "abc", ...opts }).initialResponse()!);
  it("n,, when the client does not support channel binding", () => {
    expect(first({})).toBe("n,,n=user,r=abc");
  });
  it("y,, when the client supports it but thinks the server does not", () => {
    expect(first({ clientSupportsChannelBinding: true })).toBe("y,,n=user,r=abc");
  });
  it.each(["tls-unique", "tls-server-end-point", "tls-exporter"] as const)("p=%s,, for -PLUS", (type) => {
    expect(first({ channelBinding: { type, data: new Uint8Array([1, 2]) } }, "SCRAM-SHA-256-PLUS")).toBe(
      `p=${type},,n=user,r=abc`,
    );
  });
  it("a= with saslname escaping, also in n=", () => {
    expect(first({ authzid: "a=b,c", username: "u,s=r" })).toBe("n,a=a=3Db=2Cc,n=u=2Cs=3Dr,r=abc");
  });
  it("c= carries the GS2 header and the channel-binding data", () => {
    const cbData = enc("CBDATA");
    const c = createClientMechanism("SCRAM-SHA-1-PLUS", {
      username: "user",
      password: "pencil",
      nonce: NONCE,
      authzid: "admin",
      channelBinding: { type: "tls-exporter", data: cbData },
    });
    c.initialResponse();
    const r = dec(c.challenge(enc(SERVER_FIRST)) as Uint8Array);
    const cAttr = r.split(",")[0]!.slice(2);
    expect(dec(base64Decode(cAttr)!)).toBe("p=tls-exporter,a=admin,CBDATA");
  });
  it("default nonce is 32 base64 chars from 24 random bytes", () => {
    const bytes = new Uint8Array(24).fill(0xfb);
    const c = createClientMechanism("SCRAM-SHA-1", { username: "u", password: "p", random: () => bytes });
    expect(dec(c.initialResponse()!)).toBe(`n,,n=u,r=${"+/v7".repeat(8)}`);
    const c2 = createClientMechanism("SCRAM-SHA-1", { username: "u", password: "p" });
    expect(dec(c2.initialResponse()!)).toMatch(/^n,,n=u,r=[A-Za-z0-9+/]{32}$/);
  });
});

describe("SCRAM client misuse throws TypeError", () => {
  it("-PLUS without channel binding", () => {
    expect(() => createClientMechanism("SCRAM-SHA-256-PLUS", { username: "u", password: "p" })).toThrow(TypeError);
  });
  it("missing username or password, NUL, bad nonce, bad bounds", () => {
    expect(() => createClientMechanism("SCRAM-SHA-1", { password: "p" })).toThrow(TypeError);
    expect(() => createClientMechanism("SCRAM-SHA-1", { username: "u" })).toThrow(TypeError);
    expect(() => createClientMechanism("SCRAM-SHA-1", { username: "u\0", password: "p" })).toThrow(TypeError);
    expect(() => createClientMechanism("SCRAM-SHA-1", { username: "u", password: "p", nonce: "a,b" })).toThrow(TypeError);
    expect(() => createClientMechanism("SCRAM-SHA-1", { username: "u", password: "p", minIterations: 10, maxIterations: 5 })).toThrow(
      TypeError,
    );
  });
  it("a password OpaqueString refuses", () => {
    expect(() => createClientMechanism("SCRAM-SHA-1", { username: "u", password: "" })).toThrow(TypeError);
    expect(() => createClientMechanism("SCRAM-SHA-1", { username: "u", password: "a\u0007b" })).toThrow(TypeError);
  });
  it("out-of-order calls", () => {
    const c = createClientMechanism("SCRAM-SHA-1", { username: "u", password: "p" });
    expect(() => c.challenge(enc("x"))).toThrow(TypeError);
    expect(() => c.finish()).toThrow(TypeError);
    c.initialResponse();
    expect(() => c.initialResponse()).toThrow(TypeError);
  });
  it("calls after success", () => {
    const c = client();
    c.challenge(enc(SERVER_FIRST));
    expect(c.finish(enc(SERVER_FINAL))).toBe(true);
    expect(() => c.finish()).toThrow(TypeError);
    expect(() => c.challenge(enc(SERVER_FINAL))).toThrow(TypeError);
  });
  it("unknown mechanism", () => {
    expect(() => createClientMechanism("DIGEST-MD5" as never, {})).toThrow(TypeError);
  });
});

describe("XEP-0474 on the client", () => {
  const advertised = { mechanisms: ["SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"] };
  const h = computeDowngradeProtectionHash("SHA-1", advertised);
  it("accepts a matching h=", () => {
    const c = client({ downgradeProtection: advertised });
    expect(isSaslError(c.challenge(enc(`${SERVER_FIRST},h=${h}`)))).toBe(false);
  });
  it("refuses a mismatching h= (mechanism list tampered with)", () => {
    const c = client({ downgradeProtection: { mechanisms: ["SCRAM-SHA-1", "PLAIN"] } });
    const e = c.challenge(enc(`${SERVER_FIRST},h=${h}`)) as SaslError;
    expect([e.condition, e.reason]).toEqual(["not-authorized", "downgrade-protection-mismatch"]);
  });
  it("refuses a mismatching h= (channel-binding list tampered with)", () => {
    const c = client({ downgradeProtection: { ...advertised, channelBindingTypes: ["tls-server-end-point"] } });
    expect((c.challenge(enc(`${SERVER_FIRST},h=${h}`)) as SaslError).reason).toBe("downgrade-protection-mismatch");
  });
  it("missing h= is accepted unless required", () => {
    expect(isSaslError(client({ downgradeProtection: advertised }).challenge(enc(SERVER_FIRST)))).toBe(false);
    const e = client({ downgradeProtection: { ...advertised, required: true } }).challenge(enc(SERVER_FIRST)) as SaslError;
    expect(e.reason).toBe("downgrade-protection-missing");
  });
});

describe("SaltedPassword cache", () => {
  it("skips PBKDF2 on the second run and produces the same proof", () => {
    const inner = createSaltedPasswordCache();
    const gets: (Uint8Array | undefined)[] = [];
    const cache = {
      get: (k: SaltedPasswordCacheKey) => {
        const v = inner.get(k);
        gets.push(v);
        return v;
      },
      set: (k: SaltedPasswordCacheKey, v: Uint8Array) => inner.set(k, v),
    };
    const a = dec(client({ saltedPasswordCache: cache }).challenge(enc(SERVER_FIRST)) as Uint8Array);
    const b = dec(client({ saltedPasswordCache: cache }).challenge(enc(SERVER_FIRST)) as Uint8Array);
    expect(a).toBe(b);
    expect(gets[0]).toBeUndefined();
    expect(gets[1]).toBeInstanceOf(Uint8Array);
    // A different password is a different key.
    const c = createClientMechanism("SCRAM-SHA-1", { username: "user", password: "other", nonce: NONCE, saltedPasswordCache: cache });
    c.initialResponse();
    c.challenge(enc(SERVER_FIRST));
    expect(gets[2]).toBeUndefined();
  });
});
