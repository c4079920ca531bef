// LeanClientSession / LeanClientLifecycle load only the optional parts they are given (SASL2, STARTTLS, SM):
// without them they still log in (RFC 6120 SASL), exchange stanzas and IQs; each part, when given, is used;
// settings that need a missing part are refused with a TypeError that names it.
import { xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { ClientLifecycle, ClientSession, LeanClientLifecycle, LeanClientSession, oneShotMechanismsClientPart, sasl2ClientPart, sha1Hash, sha256Hash, sha512Hash, streamFraming, starttlsClientPart, webSocketFraming } from "../src/index.js";
import { CB, type PairOptions, startPair } from "./harness.js";

function online(opts: PairOptions, secureFirst: boolean) {
  // SCRAM's hash is a part too: SHA-256 unless the test gives its own.
  return startPair({ lean: true, ...opts, client: { ...opts.client, parts: { hashes: [sha256Hash], ...opts.client?.parts } } }, secureFirst);
}

describe("LeanClientSession", () => {
  it("without parts (WebSocket, TLS first): RFC 6120 SASL although the server offers SASL2; a message and an IQ", () => {
    const p = online({ client: { framing: webSocketFraming, tls: "direct" }, server: { framing: "websocket", tls: "direct", sasl2: {} } }, true);
    expect(p.client).toBeInstanceOf(LeanClientSession);
    expect(p.client.state).toBe("online");
    expect(p.client.featureHalf("sasl2")).toBeUndefined();
    expect(p.client.featureHalf("starttls")).toBeUndefined();
    expect(p.server.featureHalf("sasl2")).toBeDefined();
    p.client.send(xml("message", { to: "romeo@im.example.com", type: "chat" }, xml("body", {}, "lean")));
    const id = p.client.sendIq(xml("iq", { type: "get", to: "im.example.com" }, xml("ping", { xmlns: "urn:xmpp:ping" })), p.now);
    p.run();
    const got = p.serverEvents.filter((e) => e.type === "stanza").map((e) => (e.type === "stanza" ? e.stanza : undefined)!);
    expect(got.map((s) => s.name)).toEqual(["message", "iq"]);
    expect(got[0]!.getChildText("body")).toBe("lean");
    p.server.send(xml("iq", { type: "result", id, to: p.client.jid.toString(), from: "im.example.com" }));
    p.run();
    expect(p.clientEvents.some((e) => e.type === "iq-response" && e.id === id)).toBe(true);
  });

  it("with the SASL2 part: SASL2 is negotiated", () => {
    const p = online({ client: { framing: webSocketFraming, tls: "direct", parts: { sasl2: sasl2ClientPart } }, server: { framing: "websocket", tls: "direct", sasl2: {} } }, true);
    expect(p.client.state).toBe("online");
    expect(p.client.featureHalf("sasl2")).toBeDefined();
    expect(p.clientEvents.some((e) => e.type === "authenticated")).toBe(true);
  });

  it("with the STARTTLS part over TCP: STARTTLS, then SASL, online", () => {
    const p = online({ channelBinding: CB, client: { parts: { starttls: starttlsClientPart } } }, false);
    expect(p.clientEvents.map((e) => e.type)).toEqual(["stream-opened", "starttls", "stream-opened", "authenticated", "stream-opened", "online"]);
  });

  it("refuses settings whose part is missing, naming the part", () => {
    const framing = streamFraming;
    const parts = { hashes: [sha256Hash] };
    expect(() => new LeanClientSession({ jid: "juliet@im.example.com", password: "x", framing, parts })).toThrow(/starttlsClientPart/);
    expect(() => new LeanClientSession({ jid: "juliet@im.example.com", password: "x", framing, parts, tls: "direct", sasl2: { userAgent: { id: "x" } } })).toThrow(/sasl2ClientPart/);
    expect(() => new LeanClientLifecycle({ session: { jid: "juliet@im.example.com", password: "x", tls: "direct" }, sm: { ackEvery: 5 } })).toThrow(/smClientPart/);
    // `false` needs no part.
    expect(() => new LeanClientSession({ jid: "juliet@im.example.com", password: "x", framing, parts, tls: "none", sasl2: false })).not.toThrow();
  });

  it("uses SCRAM only with its hash function (the hashes part); never falls back from SCRAM to PLAIN silently", () => {
    const base = { jid: "juliet@im.example.com", password: "x", framing: streamFraming, tls: "none" } as const;
    expect(() => new LeanClientSession(base)).toThrow(/SCRAM needs its hash function: pass parts: \{ hashes: \[sha256Hash\] \}/);
    expect(() => new LeanClientSession({ ...base, mechanisms: ["SCRAM-SHA-1", "SCRAM-SHA-256"], parts: { hashes: [sha256Hash] } })).toThrow(/SCRAM-SHA-1 needs its hash/);
    expect(() => new LeanClientSession({ ...base, mechanisms: ["PLAIN"], parts: { oneShotMechanisms: oneShotMechanismsClientPart } })).not.toThrow();
    // The default preference keeps the SCRAM mechanisms whose hash is loaded: SHA-512 offered first, SHA-256 chosen.
    const p = online({ client: { framing: webSocketFraming, tls: "direct", parts: { hashes: [sha256Hash] } }, server: { framing: "websocket", tls: "direct" } }, true);
    expect(p.client.state).toBe("online");
    expect(p.clientEvents.some((e) => e.type === "authenticated" && e.mechanism.startsWith("SCRAM-SHA-256"))).toBe(true);
    const q = online({ client: { framing: webSocketFraming, tls: "direct", parts: { hashes: [sha1Hash, sha512Hash] } }, server: { framing: "websocket", tls: "direct" } }, true);
    expect(q.clientEvents.some((e) => e.type === "authenticated" && e.mechanism.startsWith("SCRAM-SHA-512"))).toBe(true);
  });

  it("takes its framing as a value only: without one, or given a name, a TypeError names the value to pass", () => {
    expect(() => new LeanClientSession({ jid: "juliet@im.example.com", password: "x", tls: "none" })).toThrow(/framing: streamFraming/);
    expect(() => new LeanClientSession({ jid: "juliet@im.example.com", password: "x", tls: "none", framing: "websocket" })).toThrow(/framing: webSocketFraming/);
    expect(() => new LeanClientSession({ jid: "juliet@im.example.com", password: "x", tls: "none", framing: webSocketFraming, parts: { hashes: [sha256Hash] } })).not.toThrow();
    // The lean lifecycle builds its sessions at each connection: the same check there.
    const life = new LeanClientLifecycle({ session: { jid: "juliet@im.example.com", password: "x", tls: "none", parts: { hashes: [sha256Hash] } } });
    life.start(0);
    expect(() => life.connected(0)).toThrow(TypeError);
  });

  it("ClientSession and ClientLifecycle keep taking the framing by name", () => {
    for (const framing of ["stream", "websocket", undefined] as const) {
      const s = new ClientSession({ jid: "juliet@im.example.com", password: "x", tls: "none", ...(framing === undefined ? {} : { framing }) });
      s.start(0);
      expect(new TextDecoder().decode(s.pollTransmit())).toMatch(framing === "websocket" ? /^<open / : /<stream:stream /);
      const life = new ClientLifecycle({ session: { jid: "juliet@im.example.com", password: "x", tls: "none", ...(framing === undefined ? {} : { framing }) } });
      life.start(0);
      life.connected(0);
      expect(life.session).toBeInstanceOf(ClientSession);
    }
  });
});
