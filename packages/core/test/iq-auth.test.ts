// XEP-0078 Non-SASL Authentication (obsolete, off by default): the seed's use case 7.2 with its XML
// shapes (digest), the client in both kinds of login, and every error path.
import { describe, expect, it } from "vitest";
import { xml } from "@xmpp-sansio/xml";
import { ClientSession, iqAuthClientFeature, iqAuthDigest, iqAuthFeature, iqAuthRequestOf, iqAuthServer, iqAuthServerFeature, verifyIqAuthDigest } from "../src/index.js";
import { defaultIqAuth, drive, rawServer, SEED_HEADER } from "./preauth-driver.js";
import { makePair } from "./harness.js";

const AUTH = "<query xmlns='jabber:iq:auth'>";

function opened(options: Parameters<typeof iqAuthFeature>[0]["server"] = {}, secure = true) {
  const r = rawServer({ mechanisms: [], features: [iqAuthFeature({ server: options })] }, secure);
  r.send(SEED_HEADER);
  return r;
}

describe("XEP-0078 digest (XEP-0078 §3.2)", () => {
  it("is hex(SHA1(streamId + password)), lower case; verification is case-insensitive", () => {
    // XEP-0078 example 6: stream id 3EE948B0, password Calli0pe.
    expect(iqAuthDigest("3EE948B0", "Calli0pe")).toBe("48fc78be9ec8f86d8ce1c39c320c97c21d62334d");
    expect(verifyIqAuthDigest("3EE948B0", "Calli0pe", "48FC78BE9EC8F86D8CE1C39C320C97C21D62334D")).toBe(true);
    expect(verifyIqAuthDigest("3EE948B0", "Calli0pf", "48fc78be9ec8f86d8ce1c39c320c97c21d62334d")).toBe(false);
    expect(verifyIqAuthDigest("3EE948B0", "Calli0pe", "48fc")).toBe(false);
  });
});

describe("XEP-0078: the seed's use case 7.2 (login with jabber:iq:auth and a digest)", () => {
  it("gives the fields, takes the digest, authenticates and binds juliet@capulet.com/balcony in one step", () => {
    const r = opened();
    const header = r.take();
    expect(header).toContain("<auth xmlns='http://jabber.org/features/iq-auth'/>");
    expect(header).not.toContain("urn:ietf:params:xml:ns:xmpp-sasl"); // mechanisms: [] — no SASL offered
    const streamId = r.server.currentStreamId;
    // Step 1–2: which fields a login needs (the seed's <sequence/>/<token/> zero-knowledge fields are gone).
    r.send(`<iq id='2' type='get'>${AUTH}<username>Juliet</username></query></iq>`);
    expect(r.take()).toBe("<iq type='result' id='2'><query xmlns='jabber:iq:auth'><username>Juliet</username><password/><digest/><resource/></query></iq>");
    // Step 3: the login (XEP-0078 <digest/>, the seed's <hash/> renamed).
    const digest = iqAuthDigest(streamId, "r0m30myr0m30");
    r.send(`<iq id='3' type='set'>${AUTH}<username>Juliet</username><resource>balcony</resource><digest>${digest}</digest></query></iq>`);
    const q = r.events.map(iqAuthRequestOf).find(Boolean)!;
    expect(q).toEqual({ username: "juliet", resource: "balcony", digest, streamId });
    iqAuthServer(r.server)!.answer(defaultIqAuth(q));
    r.pump();
    // Step 4: <iq id='3' type='result'/>; online at once, no stream restart.
    expect(r.take()).toBe("<iq type='result' id='3'/>");
    expect(r.server.state).toBe("online");
    expect(r.server.jid?.toString()).toBe("juliet@capulet.com/balcony");
    expect(r.events.find((e) => e.type === "authenticated")).toEqual({ type: "authenticated", mechanism: "jabber:iq:auth", username: "juliet" });
    // Step 5: presence, stamped with the bound JID.
    r.send("<presence><status>Online</status></presence>");
    const st = r.events.find((e) => e.type === "stanza");
    expect(st?.type === "stanza" && st.stanza.attr("from")).toBe("juliet@capulet.com/balcony");
  });
});

describe("XEP-0078: client and server of this package", () => {
  it("client with digest: online as the requested resource, no SASL", () => {
    const pair = makePair({
      client: { features: [iqAuthFeature({ client: { password: "r0m30myr0m30", resource: "balcony" } })] },
      server: { mechanisms: [], features: [iqAuthFeature({ server: {} })] },
    });
    pair.client.start(0);
    drive(pair);
    expect(pair.client.state).toBe("online");
    expect(pair.client.jid.toString()).toBe("juliet@im.example.com/balcony");
    const req = pair.serverEvents.map(iqAuthRequestOf).find(Boolean)!;
    expect("digest" in req).toBe(true);
    expect(pair.server.state).toBe("online");
  });

  it("the role factories: iqAuthClientFeature logs in against iqAuthServerFeature; useIqAuth points at them", () => {
    const pair = makePair({
      client: { features: [iqAuthClientFeature({ password: "r0m30myr0m30", resource: "balcony" })] },
      server: { mechanisms: [], features: [iqAuthServerFeature({})] },
    });
    expect(iqAuthClientFeature({ password: "x" }).server).toBeUndefined();
    expect(iqAuthServerFeature({}).client).toBeUndefined();
    pair.client.start(0);
    drive(pair);
    expect(pair.client.state).toBe("online");
    expect(pair.client.jid.toString()).toBe("juliet@im.example.com/balcony");
    expect(() => new ClientSession({ jid: "juliet@im.example.com", password: "x", useIqAuth: true })).toThrow(/iqAuthClientFeature/);
  });

  it("client with plaintext over TLS when the server does not offer the digest (SCRAM-only store)", () => {
    const pair = makePair({
      client: { features: [iqAuthFeature({ client: { password: "r0m30myr0m30", resource: "r" } })] },
      server: { mechanisms: [], features: [iqAuthFeature({ server: { digest: false } })] },
    });
    pair.client.start(0);
    drive(pair);
    expect(pair.client.state).toBe("online");
    expect(pair.serverEvents.map(iqAuthRequestOf).find(Boolean)).toEqual({ username: "juliet", resource: "r", password: "r0m30myr0m30" });
  });

  it("the client prefers SASL when it is offered", () => {
    const pair = makePair({
      client: { features: [iqAuthFeature({ client: { password: "r0m30myr0m30" } })] },
      server: { features: [iqAuthFeature({ server: {} })] },
    });
    pair.client.start(0);
    drive(pair);
    expect(pair.client.state).toBe("online");
    expect(pair.serverEvents.some((e) => iqAuthRequestOf(e) !== undefined)).toBe(false);
    expect(pair.clientEvents.find((e) => e.type === "authenticated")).toMatchObject({ mechanism: expect.stringMatching(/^SCRAM/) });
  });

  it("a wrong password: 401 <not-authorized/>, auth-failed, the client closes", () => {
    const pair = makePair({
      client: { password: "wrong", features: [iqAuthFeature({ client: { password: "wrong" } })] },
      server: { mechanisms: [], features: [iqAuthFeature({ server: {} })] },
    });
    pair.client.start(0);
    drive(pair);
    expect(pair.clientEvents.find((e) => e.type === "auth-failed")).toMatchObject({ condition: "not-authorized", canRetry: false });
    expect(pair.client.state).toBe("closed");
  });

  it("in the clear (tls: none) with no digest offered the client refuses to send the password", () => {
    const pair = makePair({
      client: { tls: "none", features: [iqAuthFeature({ client: { password: "r0m30myr0m30" } })] },
      server: { tls: "none", mechanisms: [], features: [iqAuthFeature({ server: { allowInClear: true } })] },
      mutate: (dir, bytes) => {
        const s = new TextDecoder().decode(bytes);
        return dir === "s2c" ? new TextEncoder().encode(s.replace("<digest/>", "<password/>")) : bytes;
      },
    });
    pair.client.start(0);
    drive(pair);
    expect(pair.clientEvents.find((e) => e.type === "auth-failed")).toMatchObject({ condition: "encryption-required" });
  });
});

describe("XEP-0078: server error paths", () => {
  const cond = (out: string): string | undefined => /<([a-z-]+) xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'\/>/.exec(out)?.[1];

  it("missing fields → 406 <not-acceptable/>", () => {
    for (const inner of [
      "<username>juliet</username><digest>00</digest>",
      "<resource>r</resource><password>x</password>",
      "<username>juliet</username><resource>r</resource>",
    ]) {
      const r = opened();
      r.take();
      r.send(`<iq id='1' type='set'>${AUTH}${inner}</query></iq>`);
      const out = r.take();
      expect(cond(out)).toBe("not-acceptable");
      expect(out).toContain("code='406'");
    }
  });

  it("the application refuses: not-authorized 401, conflict 409 (resource in use)", () => {
    for (const [refuse, code] of [
      ["not-authorized", "401"],
      ["conflict", "409"],
    ] as const) {
      const r = opened();
      r.take();
      r.send(`<iq id='1' type='set'>${AUTH}<username>juliet</username><resource>r</resource><digest>${"a".repeat(40)}</digest></query></iq>`);
      iqAuthServer(r.server)!.answer({ refuse });
      r.pump();
      const out = r.take();
      expect(cond(out)).toBe(refuse);
      expect(out).toContain(`code='${code}'`);
      expect(r.server.flags.authenticated).toBe(false);
    }
  });

  it("plaintext in the clear: the field is not offered and a password is refused (<not-allowed/>), the digest still works", () => {
    const r = opened({ allowInClear: true }, false);
    expect(r.take()).toContain("iq-auth");
    r.send(`<iq id='1' type='get'>${AUTH}</query></iq>`);
    expect(r.take()).not.toContain("<password/>");
    r.send(`<iq id='2' type='set'>${AUTH}<username>juliet</username><resource>r</resource><password>r0m30myr0m30</password></query></iq>`);
    expect(cond(r.take())).toBe("not-allowed");
    expect(r.events.some((e) => iqAuthRequestOf(e) !== undefined)).toBe(false);
    const digest = iqAuthDigest(r.server.currentStreamId, "r0m30myr0m30");
    r.send(`<iq id='3' type='set'>${AUTH}<username>juliet</username><resource>r</resource><digest>${digest}</digest></query></iq>`);
    iqAuthServer(r.server)!.answer(defaultIqAuth(r.events.map(iqAuthRequestOf).find(Boolean)!));
    r.pump();
    expect(r.server.state).toBe("online");
  });

  it("in the clear without allowInClear: not offered, refused", () => {
    const r = opened({}, false);
    expect(r.take()).not.toContain("iq-auth");
    r.send(`<iq id='1' type='get'>${AUTH}</query></iq>`);
    expect(cond(r.take())).toBe("not-allowed");
  });

  it("a malformed digest or username → <not-authorized/>; a bad resource → <not-acceptable/>", () => {
    const r = opened({ maxAttempts: 10 });
    r.take();
    r.send(`<iq id='1' type='set'>${AUTH}<username>juliet</username><resource>r</resource><digest>xyz</digest></query></iq>`);
    expect(cond(r.take())).toBe("not-authorized");
    r.send(`<iq id='2' type='set'>${AUTH}<username>a@b</username><resource>r</resource><digest>${"a".repeat(40)}</digest></query></iq>`);
    expect(cond(r.take())).toBe("not-authorized");
    r.send(`<iq id='3' type='set'>${AUTH}<username>juliet</username><resource>${"r".repeat(1100)}</resource><digest>${"a".repeat(40)}</digest></query></iq>`);
    expect(cond(r.take())).toBe("not-acceptable");
  });

  it("maxAttempts failed logins → <policy-violation/>", () => {
    const r = opened({ maxAttempts: 2 });
    r.take();
    for (const id of ["1", "2"]) {
      r.send(`<iq id='${id}' type='set'>${AUTH}<username>juliet</username><resource>r</resource><digest>${"b".repeat(40)}</digest></query></iq>`);
      iqAuthServer(r.server)!.answer({ refuse: "not-authorized" });
      r.pump();
    }
    expect(r.take()).toContain("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
    expect(r.server.state).toBe("closed");
  });

  it("digest: false → a digest-only login is refused with <not-acceptable/>", () => {
    const r = opened({ digest: false });
    r.take();
    r.send(`<iq id='1' type='set'>${AUTH}<username>juliet</username><resource>r</resource><digest>${"a".repeat(40)}</digest></query></iq>`);
    expect(cond(r.take())).toBe("not-acceptable");
  });

  it("after authentication jabber:iq:auth is the application's (not taken)", () => {
    const pair = makePair({ server: { features: [iqAuthFeature({ server: {} })] } });
    pair.client.start(0);
    drive(pair);
    expect(pair.client.state).toBe("online");
    pair.client.sendIq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:auth" })), 0);
    drive(pair);
    expect(pair.serverEvents.some((e) => e.type === "stanza" && e.stanza.getChild("query", "jabber:iq:auth") !== undefined)).toBe(true);
    expect(iqAuthServer(pair.server)!.pending).toBe(false);
  });

  it("an answer without a question throws", () => {
    const r = opened();
    expect(() => iqAuthServer(r.server)!.answer({ accept: true })).toThrow(/without a pending/);
  });
});
