// The receiving/authoritative side of dialback driven with raw XML (TLS off so the bytes stay readable).
import { describe, expect, it } from "vitest";
import { dialbackKey, type S2SReceiverOptions, S2SReceiverSession, type ServerEvent } from "../src/index.js";
import { dec, enc, seededRandom } from "./harness.js";

const C = "capulet.example";
const M = "montague.example";
const HEAD = `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:db='jabber:server:dialback' xmlns:stream='http://etherx.jabber.org/streams' from='${C}' to='${M}' version='1.0'>`;

function opened(options: S2SReceiverOptions = {}) {
  const r = new S2SReceiverSession({ random: seededRandom(4), tls: "none", ...options });
  const events: ServerEvent[] = [];
  const drain = () => {
    for (let ev = r.pollEvent(); ev; ev = r.pollEvent()) {
      events.push(ev);
      if (ev.type === "host-check") r.answerHost(ev.domain === M);
    }
    return dec(r.pollTransmit() ?? new Uint8Array());
  };
  r.receive(enc(HEAD), 0);
  const header = drain();
  const send = (xml: string) => {
    r.receive(enc(xml), 0);
    return drain();
  };
  return { r, events, header, send };
}

describe("dialback, receiving server", () => {
  it("offers dialback and asks the application about <db:result/> with our stream id", () => {
    const s = opened();
    expect(s.header).toContain("<dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback>");
    s.send(`<db:result from='${C}' to='${M}'>abc</db:result>`);
    expect(s.events).toContainEqual({ type: "dialback-result-request", from: C, to: M, key: "abc", streamId: s.r.currentStreamId });
    expect(s.r.state).toBe("negotiating");
    // A repeat while pending is not asked twice.
    s.send(`<db:result from='${C}' to='${M}'>abc</db:result>`);
    expect(s.events.filter((e) => e.type === "dialback-result-request")).toHaveLength(1);
    const out = (() => {
      s.r.answerDialbackResult(C, M, { valid: true });
      return dec(s.r.pollTransmit()!);
    })();
    expect(out).toBe(`<db:result from='${M}' to='${C}' type='valid'/>`);
    expect(s.r.state).toBe("online");
  });

  it("answers an error condition with type='error' and ends a stream without an authenticated pair", () => {
    const s = opened();
    s.send(`<db:result from='${C}' to='${M}'>abc</db:result>`);
    s.r.answerDialbackResult(C, M, { valid: false, condition: "remote-server-not-found" });
    const out = dec(s.r.pollTransmit()!);
    expect(out).toContain("type='error'");
    expect(out).toContain("<remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>");
    expect(out).toContain("<not-authorized");
    expect(s.r.state).toBe("closed");
    // A late answer is ignored.
    expect(() => s.r.answerDialbackResult(C, M, { valid: true })).not.toThrow();
  });

  it("the first <db:result/> must be for the header's 'from'; 'from'/'to' must be domains", () => {
    expect(opened().send(`<db:result from='evil.example' to='${M}'>k</db:result>`)).toContain("<invalid-from");
    expect(opened().send(`<db:result from='${C}'>k</db:result>`)).toContain("<host-unknown");
    expect(opened().send(`<db:result from='a@${C}' to='${M}'>k</db:result>`)).toContain("<invalid-from");
    expect(opened().send(`<db:result from='${C}' to='${M}'/>`)).toContain("<not-authorized");
    expect(opened().send(`<db:result from='${C}' to='${M}' type='valid'/>`)).toContain("<unsupported-stanza-type");
  });

  it("bounds the dialback requests waiting for the application", () => {
    const s = opened({ maxPendingDialback: 2 });
    s.send(`<db:result from='${C}' to='${M}'>k</db:result>`);
    s.r.answerDialbackResult(C, M, { valid: true });
    s.r.pollTransmit();
    s.send(`<db:result from='a.${C}' to='${M}'>k</db:result><db:result from='b.${C}' to='${M}'>k</db:result>`);
    expect(s.r.state).toBe("online");
    expect(s.send(`<db:result from='c.${C}' to='${M}'>k</db:result>`)).toContain("<policy-violation");
  });

  it("an answer that arrives during the STARTTLS hand-over (or after it) is ignored: the request died with the old stream", () => {
    const s = opened({ tls: "optional" });
    s.send(`<db:result from='${C}' to='${M}'>k</db:result><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
    expect(s.r.state).toBe("tls-handshake");
    expect(() => s.r.answerDialbackResult(C, M, { valid: true })).not.toThrow();
    s.r.tlsEstablished({ channelBinding: {} }, 0);
    s.r.answerDialbackResult(C, M, { valid: true });
    expect(s.r.pollTransmit()).toBeUndefined();
    expect(s.r.state).toBe("negotiating");
  });

  it("no stanza before a pair is authenticated", () => {
    expect(opened().send(`<message from='j@${C}' to='r@${M}'/>`)).toContain("<not-authorized");
  });

  it("with TLS required, dialback before STARTTLS is a policy violation", () => {
    const s = opened({ tls: "required" });
    expect(s.header).not.toContain("urn:xmpp:features:dialback");
    expect(s.send(`<db:result from='${C}' to='${M}'>k</db:result>`)).toContain("<policy-violation");
  });
});

describe("dialback, authoritative server", () => {
  it("answers <db:verify/> from its secret: valid only for the same pair and stream id", () => {
    // Here capulet is the authoritative server; montague (the receiving server) asks.
    const head = HEAD.replace(`from='${C}' to='${M}'`, `from='${M}' to='${C}'`);
    const r = new S2SReceiverSession({ random: seededRandom(4), tls: "none", dialbackSecret: "sec" });
    r.receive(enc(head), 0);
    for (let ev = r.pollEvent(); ev; ev = r.pollEvent()) if (ev.type === "host-check") r.answerHost(true);
    r.pollTransmit();
    const key = dialbackKey("sec", M, C, "sid1");
    const ask = (id: string, from = M, k = key) => {
      r.receive(enc(`<db:verify from='${from}' to='${C}' id='${id}'>${k}</db:verify>`), 0);
      return dec(r.pollTransmit()!);
    };
    expect(ask("sid1")).toBe(`<db:verify from='${C}' to='${M}' id='sid1' type='valid'/>`);
    expect(ask("sid2")).toContain("type='invalid'");
    expect(ask("sid1", "other.example")).toContain("type='invalid'");
    expect(ask("sid1", M, dialbackKey("wrong", M, C, "sid1"))).toContain("type='invalid'");
    expect(r.state).toBe("negotiating"); // verify needs no authentication and does not authenticate
  });

  it("without a secret every <db:verify/> is invalid", () => {
    const r = new S2SReceiverSession({ random: seededRandom(4), tls: "none" });
    r.receive(enc(HEAD.replace(`from='${C}' to='${M}'`, `from='${M}' to='${C}'`)), 0);
    for (let ev = r.pollEvent(); ev; ev = r.pollEvent()) if (ev.type === "host-check") r.answerHost(true);
    r.pollTransmit();
    r.receive(enc(`<db:verify from='${M}' to='${C}' id='x'>${dialbackKey("", M, C, "x")}</db:verify>`), 0);
    expect(dec(r.pollTransmit()!)).toContain("type='invalid'");
  });
});
