import { xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { ClientSession, resolveResourceConflict, ServerSession, serviceUnavailable, starttlsClientFeature, starttlsFeature } from "../src/index.js";
import { CB, enc, makePair, type PairOptions } from "./harness.js";

function online(opts: PairOptions = {}, secureFirst = false) {
  const p = makePair(opts);
  if (secureFirst) {
    p.client.tlsEstablished({ channelBinding: opts.channelBinding ?? {} }, 0);
    p.server.tlsEstablished({ channelBinding: opts.channelBinding ?? {} }, 0);
  }
  p.client.start(0);
  p.server.start(0);
  p.run();
  return p;
}

function mechanismUsed(p: ReturnType<typeof makePair>): string | undefined {
  const ev = p.clientEvents.find((e) => e.type === "authenticated");
  return ev?.type === "authenticated" ? ev.mechanism : undefined;
}

describe("client ↔ server over an in-memory pipe", () => {
  it("negotiates STARTTLS, SCRAM-SHA-512-PLUS (tls-exporter) and binds the requested resource", () => {
    const p = online({ channelBinding: CB });
    expect(p.clientEvents.map((e) => e.type)).toEqual(["stream-opened", "starttls", "stream-opened", "authenticated", "stream-opened", "online"]);
    expect(p.client.state).toBe("online");
    expect(p.server.state).toBe("online");
    expect(p.client.jid.toString()).toBe("juliet@im.example.com/balcony");
    expect(p.server.jid?.toString()).toBe("juliet@im.example.com/balcony");
    expect(mechanismUsed(p)).toBe("SCRAM-SHA-512-PLUS");
    expect(p.serverEvents.map((e) => e.type)).toEqual([
      "stream-opened",
      "host-check",
      "starttls",
      "stream-opened",
      "scram-credentials",
      "authenticated",
      "stream-opened",
      "bind-request",
      "online",
    ]);
  });

  const mechs = ["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] as const;
  for (const framing of ["stream", "websocket"] as const) {
    for (const m of mechs) {
      it(`${framing}: ${m} after TLS`, () => {
        const p = online({ client: { mechanisms: [m], framing } }, framing === "websocket");
        expect(p.client.state).toBe("online");
        expect(mechanismUsed(p)).toBe(m);
        expect(p.server.jid?.equals(p.client.jid)).toBe(true);
      });
    }
    for (const cb of ["tls-exporter", "tls-unique", "tls-server-end-point"] as const) {
      for (const m of ["SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-512-PLUS"] as const) {
        it(`${framing}: ${m} with ${cb}`, () => {
          const channelBinding = { [cb]: CB[cb] };
          const p = online({ channelBinding, client: { mechanisms: [m], framing } }, framing === "websocket");
          expect(p.client.state).toBe("online");
          expect(mechanismUsed(p)).toBe(m);
        });
      }
    }
    it(`${framing}: SCRAM without TLS (tls: none)`, () => {
      const p = online({ client: { tls: "none", framing }, server: { tls: "none" } });
      expect(p.client.state).toBe("online");
      expect(mechanismUsed(p)).toBe("SCRAM-SHA-512");
    });
    it(`${framing}: PLAIN in the clear only when both allow it`, () => {
      const p = online({ client: { tls: "none", framing, mechanisms: ["PLAIN"], allowPlainInClear: true }, server: { tls: "none", allowPlainInClear: true } });
      expect(mechanismUsed(p)).toBe("PLAIN");
      const q = online({ client: { tls: "none", framing, mechanisms: ["PLAIN"] }, server: { tls: "none", allowPlainInClear: true } });
      expect(q.client.state).toBe("closed");
      expect(q.clientEvents).toContainEqual(expect.objectContaining({ type: "auth-failed", condition: "invalid-mechanism", canRetry: false }));
    });
  }

  it("server-generated resource when the client asks for none", () => {
    const p = online({ client: { jid: "romeo@im.example.com", password: "s3cr3t" } });
    expect(p.client.state).toBe("online");
    expect(p.client.jid.resource).not.toBe("");
    expect(p.serverEvents).toContainEqual(expect.objectContaining({ type: "bind-request", generated: true, username: "romeo" }));
  });

  it("assign-new policy: a resource in use gets a new one", () => {
    const p = online({ inUse: new Map([["juliet", new Set(["balcony"])]]) });
    expect(p.client.jid.toString()).toBe("juliet@im.example.com/balcony.2");
  });

  it("legacy session: performed when not optional, skipped when optional", () => {
    const p = online({ server: { offerLegacySession: true } });
    expect(p.client.state).toBe("online"); // optional: no session IQ
    const q = online({ server: { offerLegacySession: false } });
    expect(q.client.state).toBe("online");
  });

  it("trim() between stanzas changes nothing on the wire, and keeps output not yet polled", () => {
    const p = online();
    const q = online();
    const dec = new TextDecoder();
    const wire = (s: ServerSession) => {
      let out = "";
      for (let b = s.pollTransmit(); b !== undefined; b = s.pollTransmit()) out += dec.decode(b);
      return out;
    };
    const stanza = (i: number) => xml("message", { to: "juliet@im.example.com/balcony", id: `t${i}` }, xml("body", {}, "x".repeat(i * 300)), xml("x", { xmlns: "urn:example:ns" }));
    for (let i = 0; i < 6; i++) {
      p.server.send(stanza(i));
      q.server.send(stanza(i));
      p.server.trim(); // output pending: kept
      const a = wire(p.server);
      p.server.trim(); // nothing pending: the writer lets go of its buffer
      expect(a).toBe(wire(q.server));
      expect(a).toContain(`id='t${i}'`);
    }
  });

  it("stanzas flow both ways; from is stamped; IQ answers are tracked", () => {
    const p = online();
    p.client.send(xml("message", { to: "romeo@example.net", type: "chat", id: "ju2ba41c" }, xml("body", {}, "Art thou not Romeo?")));
    p.run();
    const msg = p.serverEvents.find((e) => e.type === "stanza");
    expect(msg?.type === "stanza" && msg.stanza.attr("from")).toBe("juliet@im.example.com/balcony");
    expect(msg?.type === "stanza" && msg.stanza.getChildText("body")).toBe("Art thou not Romeo?");

    const id = p.client.sendIq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })), 0, 1000);
    p.run();
    const req = p.serverEvents.filter((e) => e.type === "stanza").at(-1);
    expect(req?.type === "stanza" && req.stanza.attr("id")).toBe(id);
    if (req?.type !== "stanza") throw new Error("no request");
    p.server.send(serviceUnavailable(req.stanza)!);
    p.run();
    const resp = p.clientEvents.find((e) => e.type === "iq-response");
    expect(resp).toMatchObject({ type: "iq-response", id });
    expect(resp?.type === "iq-response" && resp.stanza.attr("type")).toBe("error");
  });

  it("IQ timeout via nextTimeout/handleTimeout", () => {
    const p = online();
    const id = p.client.sendIq(xml("iq", { type: "get", to: "pubsub.example.com" }, xml("query", { xmlns: "x" })), 100, 500);
    expect(p.client.nextTimeout()).toBe(600);
    p.client.handleTimeout(600);
    expect(p.client.pollEvent()).toEqual({ type: "iq-timeout", id });
  });

  it("graceful close from the client", () => {
    const p = online();
    p.client.close(10);
    expect(p.client.state).toBe("closing");
    p.run();
    expect(p.client.state).toBe("closed");
    expect(p.server.state).toBe("closed");
    expect(p.clientEvents.at(-1)).toEqual({ type: "closed", reason: "closed" });
    expect(p.serverEvents.at(-1)).toEqual({ type: "closed", reason: "peer-closed" });
  });

  it("works with one byte at a time in both directions", () => {
    const p = online({ channelBinding: CB, chunks: { c2s: [1], s2c: [1] } });
    expect(p.client.state).toBe("online");
    expect(p.server.state).toBe("online");
  });

  it("wrong password: retry with supplyCredentials, then success", () => {
    const p = makePair({ client: { password: "wrong" } });
    p.client.start(0);
    p.run();
    const failed = p.clientEvents.find((e) => e.type === "auth-failed");
    expect(failed).toMatchObject({ condition: "not-authorized", canRetry: true });
    p.client.supplyCredentials({ password: "r0m30myr0m30" });
    p.run();
    expect(p.client.state).toBe("online");
  });

  it("credentials-needed when no password is configured", () => {
    const p = makePair({ client: { password: undefined } as never });
    p.client.start(0);
    p.run();
    expect(p.clientEvents).toContainEqual({ type: "credentials-needed", mechanism: "SCRAM-SHA-512" });
    p.client.supplyCredentials({ password: "r0m30myr0m30" });
    p.run();
    expect(p.client.state).toBe("online");
  });

  it("whitespace keepalives are accepted", () => {
    const p = online();
    p.client.sendKeepalive();
    p.run();
    expect(p.server.state).toBe("online");
    p.server.receive(enc("  \n "), 0);
    expect(p.server.state).toBe("online");
  });
});

describe("downgrade protection and EXTERNAL", () => {
  it("XEP-0474: a MITM removing a mechanism from the features makes the client refuse the server", () => {
    const p = makePair({
      client: { mechanisms: ["SCRAM-SHA-256"] },
      mutate: (dir, bytes) => (dir === "s2c" ? enc(new TextDecoder().decode(bytes).replace("<mechanism>PLAIN</mechanism>", "")) : bytes),
    });
    p.client.start(0);
    p.server.start(0);
    p.run();
    expect(p.client.state).toBe("closed");
    const failed = p.clientEvents.find((e) => e.type === "auth-failed");
    expect(failed).toMatchObject({ canRetry: false });
    expect(failed?.type === "auth-failed" && failed.text).toMatch(/downgrade|XEP-0474|h=/i);
    expect(p.clientEvents).not.toContainEqual(expect.objectContaining({ type: "online" }));
  });

  it("XEP-0440: the server advertises its channel-binding types", () => {
    const seen: string[] = [];
    const q = makePair({
      channelBinding: { "tls-server-end-point": CB["tls-server-end-point"]! },
      mutate: (dir, bytes) => {
        if (dir === "s2c") seen.push(new TextDecoder().decode(bytes));
        return bytes;
      },
    });
    q.client.start(0);
    q.run();
    expect(seen.join("")).toContain(
      "<sasl-channel-binding xmlns='urn:xmpp:sasl-cb:0'><channel-binding type='tls-server-end-point'/></sasl-channel-binding>",
    );
    expect(mechanismUsed(q)).toBe("SCRAM-SHA-512-PLUS");
  });

  it("server EXTERNAL: asks external-identity and authenticates the mapped account", () => {
    const s = new ServerSession({ tls: "direct" });
    s.tlsEstablished({ channelBinding: {}, peerIdentities: ["juliet@im.example.com"] }, 0);
    const out: string[] = [];
    const drain = () => {
      const evs = [];
      for (let ev = s.pollEvent(); ev; ev = s.pollEvent()) {
        evs.push(ev);
        if (ev.type === "host-check") s.answerHost(true);
        if (ev.type === "external-identity") s.answerExternal("juliet");
      }
      for (let b = s.pollTransmit(); b; b = s.pollTransmit()) out.push(new TextDecoder().decode(b));
      return evs;
    };
    s.receive(enc("<stream:stream to='im.example.com' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"), 0);
    drain();
    expect(out.join("")).toContain("<mechanism>EXTERNAL</mechanism>");
    s.receive(enc("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>"), 0);
    const evs = drain();
    expect(evs).toContainEqual({ type: "external-identity", peerIdentities: ["juliet@im.example.com"] });
    expect(evs).toContainEqual({ type: "authenticated", mechanism: "EXTERNAL", username: "juliet" });
  });

  it("client tls: optional continues in the clear when the server offers no STARTTLS", () => {
    const p = online({ client: { tls: "optional" }, server: { tls: "none", allowPlainInClear: true } });
    expect(p.client.state).toBe("online");
  });
});

describe("STARTTLS role factory", () => {
  it("starttlsClientFeature is starttlsFeature without the server half (what ClientSession loads)", () => {
    for (const policy of ["required", "optional", "none"] as const) {
      const c = starttlsClientFeature(policy);
      const both = starttlsFeature(policy);
      expect(c.server).toBeUndefined();
      expect(c.client?.()).toBeDefined();
      expect({ ...c, client: undefined }).toEqual({ ...both, client: undefined, server: undefined });
    }
  });
});

describe("resolveResourceConflict (RFC 6120 §7.7.2.2)", () => {
  const inUse = new Set(["balcony", "balcony.2"]);
  it("free resource: accepted under every policy", () => {
    for (const policy of ["override", "refuse", "assign-new"] as const) expect(resolveResourceConflict("garden", inUse, policy)).toEqual({ accept: "garden" });
  });
  it("override: accepted (the app terminates the other session with <conflict/>)", () => {
    expect(resolveResourceConflict("balcony", inUse, "override")).toEqual({ accept: "balcony" });
  });
  it("refuse: <conflict/>", () => {
    expect(resolveResourceConflict("balcony", ["balcony"], "refuse")).toMatchObject({ refuse: "conflict" });
  });
  it("assign-new: a fresh resource not in use", () => {
    expect(resolveResourceConflict("balcony", inUse, "assign-new")).toEqual({ accept: "balcony.3" });
    expect(resolveResourceConflict("balcony", inUse, "assign-new", () => "x7")).toEqual({ accept: "balcony.x7" });
  });
  it("client: <conflict/> → one retry without a resource; a second refusal → bind-failed, then close", () => {
    const H = "<stream:stream from='im.example.com' id='x' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
    const c = new ClientSession({ jid: "juliet@im.example.com/balcony", password: "x", tls: "none", allowPlainInClear: true, mechanisms: ["PLAIN"] });
    const out = () => new TextDecoder().decode(c.pollTransmit() ?? new Uint8Array());
    c.start(0);
    c.receive(enc(`${H}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`), 0);
    c.receive(enc(`<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>${H}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`), 0);
    const first = out();
    expect(first).toContain("<resource>balcony</resource>");
    const id1 = /<iq type='set' id='([^']+)'/.exec(first)![1];
    c.receive(enc(`<iq type='error' id='${id1}'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`), 0);
    const second = out();
    expect(second).not.toContain("<resource>");
    const id2 = /<iq type='set' id='([^']+)'/.exec(second)![1];
    c.receive(enc(`<iq type='error' id='${id2}'><error type='cancel'><not-allowed xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`), 0);
    const evs = [];
    for (let ev = c.pollEvent(); ev; ev = c.pollEvent()) evs.push(ev);
    expect(evs).toContainEqual({ type: "bind-failed", condition: "not-allowed" });
    expect(c.state).toBe("closing");
    expect(out()).toBe("</stream:stream>");
  });
});
