// XEP-0077 In-Band Registration on the feature model: the seed's use case 1 with its XML shapes, the
// client flow register → SASL → online, every error path, and the post-login password change and removal.
import { afterEach, describe, expect, it } from "vitest";
import { xml } from "@xmpp-sansio/xml";
import { changePasswordIq, registerFeature, registerRequestOf, registerServer, registrationOutcomeOf, removeAccountIq } from "../src/index.js";
import { defaultRegister, drive, rawServer, SEED_HEADER } from "./preauth-driver.js";
import { ACCOUNTS, makePair } from "./harness.js";

const REG = "<query xmlns='jabber:iq:register'>";
const set = (id: string, inner: string): string => `<iq id='${id}' type='set'>${REG}${inner}</query></iq>`;

afterEach(() => {
  for (const u of [...ACCOUNTS.keys()]) if (u !== "juliet" && u !== "romeo") ACCOUNTS.delete(u);
  ACCOUNTS.set("juliet", { password: "r0m30myr0m30" });
});

/** A raw server with registration enabled, over TLS, past the header. */
function opened(options: Parameters<typeof registerFeature>[0]["server"] = {}, secure = true) {
  const r = rawServer({ features: [registerFeature({ server: options })] }, secure);
  r.send(SEED_HEADER);
  return r;
}

describe("XEP-0077: the seed's use case 7.1 (account registration)", () => {
  it("offers the feature, gives the fields, registers Juliet and answers <iq id='1' type='result'/>", () => {
    const r = opened();
    const header = r.take();
    expect(header).toContain("<register xmlns='http://jabber.org/features/iq-register'/>");
    r.send(`<iq id='0' type='get'>${REG}</query></iq>`);
    expect(r.take()).toBe(
      "<iq type='result' id='0'><query xmlns='jabber:iq:register'><instructions>Choose a username and password for use with this server.</instructions><username/><password/></query></iq>",
    );
    r.send(set("1", "<username>Juliet</username><password>balcony-secret</password>"));
    expect(r.take()).toBe(""); // waiting for the application
    const q = r.events.map(registerRequestOf).find((x) => x !== undefined);
    expect(q).toEqual({ action: "register", username: "juliet", password: "balcony-secret" }); // prepared localpart
    registerServer(r.server)!.answer({ ok: true });
    r.pump();
    expect(r.take()).toBe("<iq type='result' id='1'/>");
    expect(r.server.flags.authenticated).toBe(false); // registration does not log in: SASL comes next
  });

  it("the seed's exact request (username + resource, no password) is refused with 406 <not-acceptable/>", () => {
    const r = opened();
    r.take();
    r.send(set("1", "<username>Juliet</username><resource>balcony</resource>"));
    const out = r.take();
    expect(out).toContain("type='error'");
    expect(out).toContain("code='406'");
    expect(out).toContain("<not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>");
    expect(out).not.toContain(" to=");
  });

  it("a request with 'from' and 'to' (our domain) is answered without addresses", () => {
    const r = opened();
    r.take();
    r.send(`<iq id='a' type='get' to='capulet.com' from='mallory@evil.example'>${REG}</query></iq>`);
    const out = r.take();
    expect(out.startsWith("<iq type='result' id='a'>")).toBe(true);
    expect(out).not.toContain("mallory");
    // An error reply too: the claimed 'from' is dropped, not turned into a 'to'.
    r.send(`<iq id='b' type='set' from='mallory@evil.example'>${REG}<username>x</username></query></iq>`);
    const err = r.take();
    expect(err).toContain("<not-acceptable ");
    expect(err).not.toContain("mallory");
  });
});

describe("XEP-0077: client flow (use case 1 → 2)", () => {
  it("registers, then logs in with SASL on the same stream, then binds", () => {
    const pair = makePair({
      client: { jid: "benvolio@im.example.com/street", password: "pa55word!", features: [registerFeature({ client: { password: "pa55word!" } })] },
      server: { features: [registerFeature({ server: {} })] },
    });
    pair.client.start(0);
    drive(pair);
    expect(pair.client.state).toBe("online");
    expect(pair.client.jid.toString()).toBe("benvolio@im.example.com/street");
    expect(pair.clientEvents.map(registrationOutcomeOf).filter(Boolean)).toEqual([{ registered: true, username: "benvolio" }]);
    expect(ACCOUNTS.get("benvolio")).toEqual({ password: "pa55word!" });
    const types = pair.clientEvents.map((e) => (e.type === "feature" ? e.name : e.type));
    expect(types.indexOf("registered")).toBeLessThan(types.indexOf("authenticated"));
  });

  it("a taken username: 409 <conflict/>, registration-failed, the client closes the stream", () => {
    const pair = makePair({
      client: { features: [registerFeature({ client: { password: "whatever" } })] },
      server: { features: [registerFeature({ server: {} })] },
    });
    pair.client.start(0);
    drive(pair);
    expect(pair.clientEvents.map(registrationOutcomeOf).filter(Boolean)).toEqual([{ registered: false, condition: "conflict", text: "the username is taken" }]);
    expect(pair.client.state).toBe("closed");
    expect(pair.clientEvents.some((e) => e.type === "authenticated")).toBe(false);
  });

  it("a server without the feature: registration-failed (service-unavailable), closed, no SASL attempt", () => {
    const pair = makePair({ client: { features: [registerFeature({ client: { password: "x" } })] } });
    pair.client.start(0);
    drive(pair);
    expect(pair.clientEvents.map(registrationOutcomeOf).filter(Boolean)[0]).toMatchObject({ registered: false, condition: "service-unavailable" });
    expect(pair.client.state).toBe("closed");
    expect(pair.serverEvents.some((e) => e.type === "scram-credentials")).toBe(false);
  });

  it("fields the client cannot fill (a data form only): registration-failed not-acceptable", () => {
    const pair = makePair({
      client: { features: [registerFeature({ client: { password: "x" } })] },
      server: { features: [registerFeature({ server: {} })] },
      // The server's field list rewritten to a data form only.
      mutate: (dir, bytes) => {
        const s = new TextDecoder().decode(bytes);
        if (dir === "s2c" && s.includes("<instructions>")) {
          return new TextEncoder().encode(s.replace(/<username\/><password\/>/, "<x xmlns='jabber:x:data' type='form'/>"));
        }
        return bytes;
      },
    });
    pair.client.start(0);
    drive(pair);
    expect(pair.clientEvents.map(registrationOutcomeOf).filter(Boolean)[0]).toMatchObject({ registered: false, condition: "not-acceptable" });
  });
});

describe("XEP-0077: server error paths", () => {
  const refusal = (answer: Parameters<NonNullable<ReturnType<typeof registerServer>>["answer"]>[0], code: string, condition: string) => {
    const r = opened();
    r.take();
    r.send(set("9", "<username>tybalt</username><password>x1</password>"));
    registerServer(r.server)!.answer(answer);
    r.pump();
    const out = r.take();
    expect(out).toContain(`code='${code}'`);
    expect(out).toContain(`<${condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>`);
    // The stream goes on: another request is taken.
    r.send(`<iq id='10' type='get'>${REG}</query></iq>`);
    expect(r.take()).toContain("<iq type='result' id='10'>");
  };
  it("conflict → 409", () => refusal({ refuse: "conflict" }, "409", "conflict"));
  it("not-acceptable → 406", () => refusal({ refuse: "not-acceptable", text: "too weak" }, "406", "not-acceptable"));
  it("not-allowed → 405", () => refusal({ refuse: "not-allowed" }, "405", "not-allowed"));
  it("resource-constraint (rate limit) → 500 wait", () => refusal({ refuse: "resource-constraint" }, "500", "resource-constraint"));

  it("an invalid username → <jid-malformed/>, no question", () => {
    const r = opened();
    r.take();
    r.send(set("2", "<username>ro@meo</username><password>x</password>"));
    expect(r.take()).toContain("<jid-malformed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>");
    expect(r.events.some((e) => registerRequestOf(e) !== undefined)).toBe(false);
  });

  it("an empty password or a password over the bound → <not-acceptable/>", () => {
    const r = opened({ maxPasswordBytes: 8 });
    r.take();
    r.send(set("3", "<username>a</username><password/>"));
    expect(r.take()).toContain("<not-acceptable ");
    r.send(set("4", "<username>a</username><password>123456789</password>"));
    expect(r.take()).toContain("longer than 8 bytes");
  });

  it("a password OpaqueString rejects (a control character) → <not-acceptable/>, never asked of the application", () => {
    const r = opened({});
    r.take();
    r.send(set("5", "<username>a</username><password>pa55word&#10;</password>"));
    const out = r.take();
    expect(out).toContain("<not-acceptable ");
    expect(out).toContain("not valid under PRECIS OpaqueString");
    expect(r.events.some((e) => registerRequestOf(e) !== undefined)).toBe(false);
    r.send(set("6", "<username>a</username><password>pa55word!</password>"));
    expect(r.events.some((e) => registerRequestOf(e) !== undefined)).toBe(true);
  });

  it("registration disabled (feature loaded with registration: false) → not offered, <service-unavailable/>", () => {
    const r = opened({ registration: false });
    expect(r.take()).not.toContain("iq-register");
    r.send(`<iq id='g' type='get'>${REG}</query></iq>`);
    const out = r.take();
    expect(out).toContain("<service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>");
    expect(out).toContain("code='503'");
    expect(r.server.state).not.toBe("closed");
  });

  it("the feature not loaded at all: a pre-auth IQ still ends the stream with <not-authorized/> (RFC 6120)", () => {
    const r = rawServer({});
    r.send(SEED_HEADER);
    r.send(set("1", "<username>a</username><password>b</password>"));
    expect(r.take()).toContain("<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
    expect(r.server.state).toBe("closed");
  });

  it("in the clear: not offered and refused with <not-allowed/>; allowInClear (tls: none) offers it", () => {
    const r = opened({}, false);
    expect(r.take()).not.toContain("iq-register");
    r.send(set("1", "<username>a</username><password>b</password>"));
    expect(r.take()).toContain("<not-allowed ");
    const c = opened({ allowInClear: true }, false);
    expect(c.take()).toContain("iq-register");
  });

  it("an IQ addressed elsewhere before authentication ends the stream with <not-authorized/>", () => {
    const r = opened();
    r.take();
    r.send(`<iq id='x' type='get' to='montague.net'>${REG}</query></iq>`);
    expect(r.take()).toContain("<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
  });

  it("a result or message before authentication is not taken: <not-authorized/>", () => {
    for (const stanza of ["<iq id='x' type='result'/>", "<message><body>hi</body></message>"]) {
      const r = opened();
      r.take();
      r.send(stanza);
      expect(r.server.state).toBe("closed");
    }
  });

  it("a malformed IQ (no id) → <bad-request/>", () => {
    const r = opened();
    r.take();
    r.send(`<iq type='get'>${REG}</query></iq>`);
    expect(r.take()).toContain("<bad-request ");
  });

  it("a removal before login → <unexpected-request/> (XEP-0077 §3.2: no account on this stream)", () => {
    const r = opened();
    r.take();
    r.send(set("1", "<remove/>"));
    expect(r.take()).toContain("<unexpected-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>");
  });

  it("more than maxAttempts registration requests on one stream → <policy-violation/>", () => {
    const r = opened({ maxAttempts: 2 });
    r.take();
    r.send(set("1", "<username>a</username>"));
    r.send(set("2", "<username>a</username>"));
    expect(r.server.state).not.toBe("closed");
    r.send(set("3", "<username>a</username>"));
    expect(r.take()).toContain("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
    expect(r.server.state).toBe("closed");
  });

  it("an answer without a question throws; an answer after the end is ignored", () => {
    const r = opened();
    expect(() => registerServer(r.server)!.answer({ ok: true })).toThrow(/without a pending/);
    r.send(set("1", "<username>a</username><password>b</password>"));
    r.server.abort("system-shutdown", undefined, 0);
    r.pump();
    r.take();
    registerServer(r.server)!.answer({ ok: true });
    r.pump();
    expect(r.take()).toBe("");
  });

  it("input is held while the question is pending", () => {
    const r = opened();
    r.take();
    r.send(`${set("1", "<username>a</username><password>b</password>")}<iq id='2' type='get'>${REG}</query></iq>`);
    expect(r.take()).toBe("");
    registerServer(r.server)!.answer({ ok: true });
    r.pump();
    const out = r.take();
    expect(out.indexOf("id='1'")).toBeLessThan(out.indexOf("id='2'"));
  });
});

describe("XEP-0077 after login: password change and account removal", () => {
  function online() {
    const pair = makePair({ server: { features: [registerFeature({ server: {} })] } });
    pair.client.start(0);
    drive(pair);
    expect(pair.client.state).toBe("online");
    return pair;
  }

  it("get → <registered/> with the username", () => {
    const pair = online();
    const iq = changePasswordIq("juliet", "x");
    iq.setAttr("type", "get");
    iq.getChild("query", "jabber:iq:register")!.children.length = 0;
    const id = pair.client.sendIq(iq, 0);
    drive(pair);
    const resp = pair.clientEvents.find((e) => e.type === "iq-response" && e.id === id);
    const query = resp?.type === "iq-response" ? resp.stanza.getChild("query", "jabber:iq:register") : undefined;
    expect(query?.getChild("registered")).toBeDefined();
    expect(query?.getChildText("username")).toBe("juliet");
  });

  it("changes the password of the logged-in account", () => {
    const pair = online();
    const id = pair.client.sendIq(changePasswordIq("juliet", "n3w-pa55"), 0);
    drive(pair);
    const req = pair.serverEvents.map(registerRequestOf).find(Boolean);
    expect(req).toEqual({ action: "change-password", username: "juliet", password: "n3w-pa55" });
    const resp = pair.clientEvents.find((e) => e.type === "iq-response" && e.id === id);
    expect(resp?.type === "iq-response" && resp.stanza.attr("type")).toBe("result");
    expect(ACCOUNTS.get("juliet")!.password).toBe("n3w-pa55");
  });

  it("another account's password → <not-authorized/>; missing password → <bad-request/>", () => {
    const pair = online();
    const a = pair.client.sendIq(changePasswordIq("romeo", "x"), 0);
    const b = pair.client.sendIq(changePasswordIq("juliet", ""), 0);
    drive(pair);
    const cond = (id: string) => {
      const r = pair.clientEvents.find((e) => e.type === "iq-response" && e.id === id);
      return r?.type === "iq-response" ? r.stanza.getChild("error")?.elements()[0]?.name : undefined;
    };
    expect(cond(a)).toBe("not-authorized");
    expect(cond(b)).toBe("bad-request");
    // XEP-0077 §3.3: the error does not echo the request (with its password).
    const err = pair.clientEvents.find((e) => e.type === "iq-response" && e.id === a);
    expect(err?.type === "iq-response" && err.stanza.getChild("query", "jabber:iq:register")).toBeUndefined();
    expect(pair.serverEvents.some((e) => registerRequestOf(e) !== undefined)).toBe(false);
  });

  it("removal: <iq type='result'/>, then the stream ends with <not-authorized/> (XEP-0077 §3.2)", () => {
    ACCOUNTS.set("juliet", { password: "r0m30myr0m30" });
    const pair = online();
    const id = pair.client.sendIq(removeAccountIq(), 0);
    drive(pair, { register: (req) => (req.action === "remove" ? { ok: true } : defaultRegister(req)) });
    const resp = pair.clientEvents.findIndex((e) => e.type === "iq-response" && e.id === id);
    const err = pair.clientEvents.findIndex((e) => e.type === "stream-error" && e.condition === "not-authorized");
    expect(resp).toBeGreaterThanOrEqual(0);
    expect(err).toBeGreaterThan(resp);
    expect(pair.server.state).toBe("closed");
  });

  it("<remove/> with other children → <bad-request/>, nothing asked", () => {
    const pair = online();
    const iq = removeAccountIq();
    iq.getChild("query", "jabber:iq:register")!.append(xml("username", { xmlns: "jabber:iq:register" }, "juliet"));
    const id = pair.client.sendIq(iq, 0);
    drive(pair);
    const r = pair.clientEvents.find((e) => e.type === "iq-response" && e.id === id);
    expect(r?.type === "iq-response" && r.stanza.getChild("error")?.elements()[0]?.name).toBe("bad-request");
    expect(pair.server.state).toBe("online");
  });

  it("removal and password change can be switched off → <not-allowed/>", () => {
    const pair = makePair({ server: { features: [registerFeature({ server: { removal: false, passwordChange: false, registration: false } })] } });
    pair.client.start(0);
    drive(pair);
    const a = pair.client.sendIq(removeAccountIq(), 0);
    const b = pair.client.sendIq(changePasswordIq("juliet", "y"), 0);
    drive(pair);
    for (const id of [a, b]) {
      const r = pair.clientEvents.find((e) => e.type === "iq-response" && e.id === id);
      expect(r?.type === "iq-response" && r.stanza.getChild("error")?.elements()[0]?.name).toBe("not-allowed");
    }
  });

  it("a register IQ to another entity (a service) goes to the application", () => {
    const pair = online();
    const iq = removeAccountIq();
    iq.setAttr("to", "conference.im.example.com");
    pair.client.sendIq(iq, 0);
    drive(pair);
    expect(pair.serverEvents.some((e) => e.type === "stanza" && e.stanza.attr("to") === "conference.im.example.com")).toBe(true);
  });
});
