// SCRAM with deriveKey: "ask": PBKDF2 is a question to the application (RFC 5802 §3 Hi()), answered
// with the SaltedPassword; the exchange is byte for byte the same as with the key derived inline.
import { describe, expect, it } from "vitest";
import { createClientMechanism, createSaltedPasswordCache, isKeyDerivationRequest, isSaslError, pbkdf2 } from "../src/index.js";
import { dec, enc } from "./helpers.js";

// RFC 7677 §3 (SCRAM-SHA-256, user / pencil).
const SERVER_FIRST = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
const CLIENT_FINAL = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
const SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
const opts = { username: "user", password: "pencil", nonce: "rOprNGfwEbeRWgbNEkqO" };

describe("SCRAM key derivation as a question", () => {
  it("asks for Hi(password, salt, i) and, given it, sends the RFC 7677 client-final-message", () => {
    const m = createClientMechanism("SCRAM-SHA-256", { ...opts, deriveKey: "ask" });
    m.initialResponse();
    const q = m.challenge(enc(SERVER_FIRST));
    if (!isKeyDerivationRequest(q)) throw new Error("expected a key derivation request");
    expect({ hash: q.hash, password: dec(q.password), iterations: q.iterations, length: q.length }).toEqual({ hash: "SHA-256", password: "pencil", iterations: 4096, length: 32 });
    expect(() => m.challenge(enc(SERVER_FIRST))).toThrow(/pending/);
    const r = m.supplySaltedPassword!(pbkdf2(q.hash, q.password, q.salt, q.iterations));
    expect(isSaslError(r) ? r : dec(r)).toBe(CLIENT_FINAL);
    expect(m.finish(enc(SERVER_FINAL))).toBe(true);
  });

  it("a wrong SaltedPassword fails at the server's signature, never silently", () => {
    const m = createClientMechanism("SCRAM-SHA-256", { ...opts, deriveKey: "ask" });
    m.initialResponse();
    m.challenge(enc(SERVER_FIRST));
    expect(() => m.supplySaltedPassword!(new Uint8Array(31))).toThrow(/32 bytes/);
    m.supplySaltedPassword!(new Uint8Array(32));
    expect(m.finish(enc(SERVER_FINAL))).toMatchObject({ condition: "not-authorized" });
  });

  it("does not ask again when the SaltedPassword cache has the key; fills the cache from the answer", () => {
    const cache = createSaltedPasswordCache();
    const first = createClientMechanism("SCRAM-SHA-256", { ...opts, deriveKey: "ask", saltedPasswordCache: cache });
    first.initialResponse();
    const q = first.challenge(enc(SERVER_FIRST));
    if (!isKeyDerivationRequest(q)) throw new Error("expected a question");
    first.supplySaltedPassword!(pbkdf2(q.hash, q.password, q.salt, q.iterations));
    const again = createClientMechanism("SCRAM-SHA-256", { ...opts, deriveKey: "ask", saltedPasswordCache: cache });
    again.initialResponse();
    const r = again.challenge(enc(SERVER_FIRST));
    expect(r instanceof Uint8Array ? dec(r) : r).toBe(CLIENT_FINAL);
  });

  it("refuses an iteration count above maxIterations before anything is derived", () => {
    const m = createClientMechanism("SCRAM-SHA-256", { ...opts, deriveKey: "ask", maxIterations: 4095, minIterations: 1 });
    m.initialResponse();
    expect(m.challenge(enc(SERVER_FIRST))).toMatchObject({ condition: "malformed-request" });
  });
});
