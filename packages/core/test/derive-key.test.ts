// Key derivation is a question to the adapter: with deriveKey: "ask" the client core never runs PBKDF2
// inside receive(); it emits derive-key and holds input until supplyDerivedKey().
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pbkdf2 } from "@xmpp-sansio/sasl";
import { ClientSession } from "../src/index.js";
import { fuzz } from "../../../test-support/fuzz.js";
import { makePair } from "./harness.js";

describe("deriveKey: ask", () => {
  it("asks once per login with the server's salt and iterations, and gets online with the answer", () => {
    for (const mech of ["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512"]) {
      const p = makePair({ client: { tls: "none", deriveKey: "ask", mechanisms: [mech] }, server: { tls: "none" } });
      p.client.start(0);
      p.server.start(0);
      p.run();
      const asks = p.clientEvents.filter((e) => e.type === "derive-key");
      expect(asks).toHaveLength(1);
      expect(asks[0]).toMatchObject({ iterations: 64, hash: mech.slice(6) });
      expect(p.client.state).toBe("online");
    }
  });

  it("holds input while the key is being derived, in any chunking (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }), (sizes) => {
        const p = makePair({ client: { tls: "none", deriveKey: "ask" }, server: { tls: "none" }, chunks: { s2c: sizes, c2s: sizes } });
        p.client.start(0);
        p.server.start(0);
        p.run();
        expect(p.client.state).toBe("online");
      }),
      fuzz(200),
    );
  });

  it("an answer without a question is a programming error; a late answer after close is ignored", () => {
    const c = new ClientSession({ jid: "juliet@im.example.com", password: "x", deriveKey: "ask" });
    expect(() => c.supplyDerivedKey(new Uint8Array(32))).toThrow(/without a pending derive-key/);
    c.close(0);
    expect(() => c.supplyDerivedKey(pbkdf2("SHA-256", new Uint8Array(1), new Uint8Array(1), 1))).not.toThrow();
  });
});

describe("maxScramIterations", () => {
  it("refuses a server's iteration count above the default cap (100 000) before deriving anything", () => {
    const c = new ClientSession({ jid: "juliet@im.example.com", password: "x", tls: "none", mechanisms: ["SCRAM-SHA-1"] });
    const dec = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
    const enc = (s: string) => new TextEncoder().encode(s);
    c.start(0);
    c.pollTransmit();
    c.receive(
      enc(
        "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='im.example.com' id='s1' version='1.0'><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>",
      ),
      1,
    );
    const auth = dec(c.pollTransmit());
    const nonce = /r=([^,]+)/.exec(atob(/>([^<]+)</.exec(auth)![1]!))![1]!;
    const challenge = btoa(`r=${nonce}srv,s=${btoa("salt")},i=100001`);
    c.receive(enc(`<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${challenge}</challenge>`), 2);
    expect(dec(c.pollTransmit())).toBe("<abort xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    c.receive(enc("<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><aborted/></failure>"), 3);
    const failed = [...(function* () {
      for (let ev = c.pollEvent(); ev; ev = c.pollEvent()) yield ev;
    })()].find((e) => e.type === "auth-failed");
    expect(failed).toMatchObject({ condition: "malformed-request", canRetry: false });
    expect(failed && "text" in failed ? failed.text : "").toMatch(/above the maximum 100000/);
  });
});
