import { xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import type { ServerEvent } from "../src/index.js";
import { dec, enc } from "./harness.js";
import { type Link, makeLink, runLinks } from "./s2s-harness.js";

const CAPULET = "capulet.example";
const MONTAGUE = "montague.example";
const SECRET_C = "capulet's dialback secret";

function message(from: string, to: string, body = "hi") {
  return xml("message", { from, to, type: "chat" }, xml("body", {}, body));
}

function stanzas(events: readonly ServerEvent[]) {
  return events.flatMap((e) => (e.type === "stanza" ? [e.stanza] : []));
}

/**
 * Dialback with the authoritative exchange: capulet → montague (link A); montague asks capulet's
 * authoritative server over a second stream (link V: montague → capulet, purpose "verify"), whose
 * receiving side knows `authSecret`.
 */
function dialbackWorld(authSecret: string, peerIdentities?: readonly string[]) {
  let verify: Link | undefined;
  const links: Link[] = [];
  const a = makeLink({
    initiator: { from: CAPULET, to: MONTAGUE, dialbackSecret: SECRET_C },
    serves: [MONTAGUE],
    ...(peerIdentities === undefined ? {} : { peerIdentities }),
    onDialbackRequest(ev, link) {
      // The receiving server (montague) verifies with the authoritative server of ev.from (capulet).
      verify = makeLink({
        initiator: { from: MONTAGUE, to: CAPULET, purpose: "verify" },
        receiver: { dialbackSecret: authSecret },
        serves: [CAPULET],
        seed: 9,
        onInitiatorEvent(iev, v) {
          if (iev.type === "online" || iev.type === "closed") return;
          if (iev.type === "dialback-verify-result") {
            link.receiver.answerDialbackResult(ev.from, ev.to, { valid: iev.valid });
            v.initiator.close(0);
          }
        },
      });
      verify.initiator.start(0);
      links.push(verify);
      // Once the verify stream is set up (TLS done, waiting), send <db:verify/>.
      pendingVerify = { from: ev.to, to: ev.from, id: ev.streamId, key: ev.key };
    },
  });
  let pendingVerify: { from: string; to: string; id: string; key: string } | undefined;
  links.push(a);
  const run = () => {
    for (let i = 0; i < 200; i++) {
      const steps = runLinks(links);
      if (pendingVerify !== undefined && verify !== undefined && verify.initiator.detailedState === "negotiating") {
        verify.initiator.sendDialbackVerify(pendingVerify);
        pendingVerify = undefined;
        continue;
      }
      if (steps === 0) break;
    }
  };
  return { a, links, run, verify: () => verify };
}

describe("s2s: SASL EXTERNAL", () => {
  it("two server cores reach online when the certificate names the initiator's domain", () => {
    const l = makeLink({ initiator: { from: CAPULET, to: MONTAGUE }, serves: [MONTAGUE], peerIdentities: [CAPULET] });
    l.initiator.start(0);
    runLinks([l]);
    expect(l.initiator.state).toBe("online");
    expect(l.receiver.state).toBe("online");
    expect(l.initiatorEvents).toContainEqual(expect.objectContaining({ type: "authenticated", mechanism: "EXTERNAL" }));
    expect(l.receiverEvents).toContainEqual({ type: "domain-authenticated", from: CAPULET, to: MONTAGUE, method: "EXTERNAL" });
    l.initiator.send(message(`juliet@${CAPULET}/balcony`, `romeo@${MONTAGUE}`));
    runLinks([l]);
    const got = stanzas(l.receiverEvents);
    expect(got).toHaveLength(1);
    expect(got[0]!.ns).toBe("jabber:server");
    expect(got[0]!.attr("from")).toBe(`juliet@${CAPULET}/balcony`);
  });

  it("accepts an SRV-ID or XmppAddr given as typed certificate identities", () => {
    for (const id of [{ type: "srv", value: `_xmpp-server.${CAPULET}` }, { type: "xmpp", value: CAPULET }] as const) {
      const l = makeLink({ initiator: { from: CAPULET, to: MONTAGUE }, serves: [MONTAGUE], peerCertIdentities: [id] });
      l.initiator.start(0);
      runLinks([l]);
      expect(l.receiver.state).toBe("online");
      expect(l.initiatorEvents).toContainEqual(expect.objectContaining({ type: "authenticated", mechanism: "EXTERNAL" }));
    }
  });

  it("writes the s2s header rules: jabber:server, from/to domains both ways, db prefix", () => {
    const l = makeLink({ initiator: { from: CAPULET, to: MONTAGUE }, serves: [MONTAGUE], peerIdentities: [`*.example`, CAPULET] });
    l.initiator.start(0);
    const head = dec(l.initiator.pollTransmit()!);
    expect(head).toContain("xmlns='jabber:server'");
    expect(head).toContain(`from='${CAPULET}'`);
    expect(head).toContain(`to='${MONTAGUE}'`);
    expect(head).toContain("xmlns:db='jabber:server:dialback'");
    l.receiver.receive(enc(head), 0);
    l.receiver.pollEvent();
    l.receiver.pollEvent();
    l.receiver.answerHost(true);
    const answer = dec(l.receiver.pollTransmit()!);
    expect(answer).toContain(`from='${MONTAGUE}'`);
    expect(answer).toContain(`to='${CAPULET}'`);
    expect(answer).toContain("xmlns='jabber:server'");
    expect(answer).toContain("<starttls");
    expect(answer).toContain("<required");
    expect(answer).not.toContain("urn:ietf:params:xml:ns:xmpp-bind");
  });

  it("no EXTERNAL offer (and no bind) when the certificate names another domain; without dialback the initiator gives up", () => {
    const l = makeLink({ initiator: { from: CAPULET, to: MONTAGUE }, serves: [MONTAGUE], peerIdentities: ["evil.example"] });
    l.initiator.start(0);
    runLinks([l]);
    expect(l.initiator.state).toBe("closed");
    expect(l.initiatorEvents).toContainEqual(expect.objectContaining({ type: "stream-error", condition: "not-authorized", byPeer: false }));
    expect(l.receiver.state).toBe("closed");
  });

  it("the initiator refuses a receiving server that answers as another domain", () => {
    const l = makeLink({ initiator: { from: CAPULET, to: MONTAGUE }, serves: [MONTAGUE] });
    l.initiator.start(0);
    l.initiator.pollTransmit();
    l.initiator.receive(enc(`<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='evil.example' to='${CAPULET}' id='x' version='1.0'>`), 0);
    expect(l.initiator.state).toBe("closed");
    expect(dec(l.initiator.pollTransmit()!)).toContain("<invalid-from");
  });

  it("refuses a stream header without 'from' (RFC 6120 §4.7.1) and a jabber:client stream", () => {
    const l = makeLink({ initiator: { from: CAPULET, to: MONTAGUE }, serves: [MONTAGUE] });
    l.receiver.receive(enc(`<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='${MONTAGUE}' version='1.0'>`), 0);
    expect(l.receiver.state).toBe("closed");
    expect(dec(l.receiver.pollTransmit()!)).toContain("<invalid-from");
    const c = makeLink({ initiator: { from: CAPULET, to: MONTAGUE }, serves: [MONTAGUE] });
    c.receiver.receive(enc(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='${CAPULET}' to='${MONTAGUE}' version='1.0'>`), 0);
    expect(dec(c.receiver.pollTransmit()!)).toContain("<invalid-namespace");
  });
});

describe("s2s: dialback (XEP-0220) with the authoritative verify exchange", () => {
  it("three sessions: originating, receiving, authoritative — both ends online", () => {
    const w = dialbackWorld(SECRET_C);
    w.a.initiator.start(0);
    w.run();
    const v = w.verify()!;
    expect(v).toBeDefined();
    expect(v.receiverEvents).not.toContainEqual(expect.objectContaining({ type: "online" }));
    expect(v.initiatorEvents).toContainEqual(expect.objectContaining({ type: "dialback-verify-result", valid: true, from: MONTAGUE, to: CAPULET }));
    expect(w.a.initiator.state).toBe("online");
    expect(w.a.receiver.state).toBe("online");
    expect(w.a.initiatorEvents).toContainEqual({ type: "dialback-result", from: CAPULET, to: MONTAGUE, valid: true });
    expect(w.a.receiverEvents).toContainEqual({ type: "domain-authenticated", from: CAPULET, to: MONTAGUE, method: "dialback" });
    w.a.initiator.send(message(`juliet@${CAPULET}`, `romeo@${MONTAGUE}`));
    runLinks(w.links);
    expect(stanzas(w.a.receiverEvents)).toHaveLength(1);
  });

  it("a peer whose certificate is wrong and whose dialback fails is refused", () => {
    const w = dialbackWorld("another secret", ["evil.example"]);
    w.a.initiator.start(0);
    w.run();
    expect(w.verify()!.initiatorEvents).toContainEqual(expect.objectContaining({ type: "dialback-verify-result", valid: false }));
    expect(w.a.initiatorEvents).toContainEqual({ type: "dialback-result", from: CAPULET, to: MONTAGUE, valid: false });
    expect(w.a.initiator.state).toBe("closed");
    expect(w.a.receiver.state).toBe("closed");
    expect(w.a.receiverEvents).not.toContainEqual(expect.objectContaining({ type: "online" }));
    expect(w.a.receiverEvents).toContainEqual(expect.objectContaining({ type: "stream-error", byPeer: false }));
  });

  it("piggybacks a second domain pair on the online stream", () => {
    const w = dialbackWorld(SECRET_C);
    w.a.initiator.start(0);
    w.run();
    expect(w.a.initiator.state).toBe("online");
    w.a.initiator.authenticateDomain(`conference.${CAPULET}`, MONTAGUE);
    w.run();
    expect(w.a.initiator.isAuthorized(`conference.${CAPULET}`, MONTAGUE)).toBe(true);
    w.a.initiator.send(message(`room@conference.${CAPULET}`, `romeo@${MONTAGUE}`));
    runLinks(w.links);
    expect(stanzas(w.a.receiverEvents).map((s) => s.attr("from"))).toEqual([`room@conference.${CAPULET}`]);
    // A pair that was not authenticated cannot be sent by the initiator.
    expect(() => w.a.initiator.send(message(`x@other.example`, `romeo@${MONTAGUE}`))).toThrow(/authenticated domain pair/);
    expect(() => w.a.initiator.sendIq(xml("iq", { type: "get", to: `romeo@${MONTAGUE}` }, xml("ping", { xmlns: "urn:xmpp:ping" })), 0)).toThrow(/authenticated domain pair/);
    // An IQ between an authenticated pair is tracked; its answer (reverse direction) needs XEP-0288.
    expect(w.a.initiator.sendIq(xml("iq", { type: "get", from: CAPULET, to: MONTAGUE }, xml("ping", { xmlns: "urn:xmpp:ping" })), 0)).toMatch(/./);
  });
});

describe("s2s: stanza addressing on the receiving side", () => {
  function online() {
    const l = makeLink({ initiator: { from: CAPULET, to: MONTAGUE }, serves: [MONTAGUE], peerIdentities: [CAPULET] });
    l.initiator.start(0);
    runLinks([l]);
    expect(l.receiver.state).toBe("online");
    return l;
  }
  const raw = (l: Link, s: string) => {
    l.receiver.receive(enc(s), 0);
    return dec(l.receiver.pollTransmit() ?? new Uint8Array());
  };

  it("a forged 'from' is refused with <invalid-from/>", () => {
    const l = online();
    const out = raw(l, `<message from='romeo@evil.example' to='juliet@${MONTAGUE}'><body>x</body></message>`);
    expect(out).toContain("<invalid-from");
    expect(l.receiver.state).toBe("closed");
  });

  it("missing 'from' or 'to' is <improper-addressing/>", () => {
    for (const s of [`<message to='r@${MONTAGUE}'/>`, `<message from='j@${CAPULET}'/>`]) {
      const l = online();
      expect(raw(l, s)).toContain("<improper-addressing");
    }
  });

  it("a 'to' of a domain this stream is not authenticated for is <host-unknown/>", () => {
    const l = online();
    expect(raw(l, `<message from='j@${CAPULET}' to='r@elsewhere.example'/>`)).toContain("<host-unknown");
  });

  it("a malformed 'to' gets <jid-malformed/> and the stream stays", () => {
    const l = online();
    expect(raw(l, `<iq type='get' id='1' from='j@${CAPULET}' to='@@${MONTAGUE}'><q xmlns='x'/></iq>`)).toContain("<jid-malformed");
    expect(l.receiver.state).toBe("online");
  });
});

describe("s2s: XEP-0288 bidirectional streams", () => {
  function bidiLink(bidi: boolean) {
    const l = makeLink({ initiator: { from: CAPULET, to: MONTAGUE, bidi }, serves: [MONTAGUE], peerIdentities: [CAPULET] });
    l.initiator.start(0);
    runLinks([l]);
    expect(l.initiator.state).toBe("online");
    return l;
  }

  it("with <bidi/>, the receiving server sends back in the reverse direction of the pair", () => {
    const l = bidiLink(true);
    expect(l.receiver.bidi).toBe(true);
    l.receiver.send(message(`romeo@${MONTAGUE}/garden`, `juliet@${CAPULET}`, "back"));
    runLinks([l]);
    const got = l.initiatorEvents.flatMap((e) => (e.type === "stanza" ? [e.stanza] : []));
    expect(got.map((s) => s.getChildText("body"))).toEqual(["back"]);
    // Not in the reverse direction of an authenticated pair: the receiver refuses to send it.
    expect(() => l.receiver.send(message(`romeo@${MONTAGUE}`, "x@elsewhere.example"))).toThrow(/XEP-0288/);
  });

  it("the initiator refuses a reverse stanza with a forged 'from'", () => {
    const l = bidiLink(true);
    l.initiator.receive(enc(`<message from='mallory@evil.example' to='juliet@${CAPULET}'/>`), 0);
    expect(dec(l.initiator.pollTransmit()!)).toContain("<invalid-from");
    expect(l.initiator.state).toBe("closed");
  });

  it("without <bidi/>, the stream is unidirectional both ways", () => {
    const l = bidiLink(false);
    expect(l.receiver.bidi).toBe(false);
    expect(() => l.receiver.send(message(`romeo@${MONTAGUE}`, `juliet@${CAPULET}`))).toThrow(/unidirectional/);
    l.initiator.receive(enc(`<message from='romeo@${MONTAGUE}' to='juliet@${CAPULET}'/>`), 0);
    expect(dec(l.initiator.pollTransmit()!)).toContain("<unsupported-stanza-type");
  });
});
