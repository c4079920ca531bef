// S2SManager on loopback: two (or three) managers, domains a.test on 127.0.0.2 and b.test on 127.0.0.3
// (ephemeral ports, a static host map instead of DNS), EXTERNAL with certificates naming the domains,
// dialback without, an impostor refused, forged 'from' refused, unreachable and unresolvable domains.
import { afterEach, describe, expect, it } from "vitest";
import type { StanzaErrorCondition } from "@xmpp-sansio/core";
import { XmlElement } from "@xmpp-sansio/xml";
import { S2SManager, type S2SManagerOptions } from "../src/index.js";
import { parseSubjectAltName } from "../src/s2s-cert.js";
import { hasOpenssl, makeCert, type TestCert } from "./support/certs.js";

const haveOpenssl = hasOpenssl();
const started: S2SManager[] = [];
const certs: TestCert[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((m) => m.close(500)));
  for (const c of certs.splice(0)) c.cleanup();
});

interface Peer {
  readonly m: S2SManager;
  readonly domain: string;
  readonly port: number;
  readonly received: XmlElement[];
  readonly bounced: Array<{ reply: XmlElement | undefined; condition: StanzaErrorCondition }>;
  readonly log: string[];
}

function cert(cn: string): TestCert {
  const c = makeCert({ cn, keyType: "ec" });
  certs.push(c);
  return c;
}

async function peer(domain: string, address: string, opts: Partial<S2SManagerOptions> & { hosts?: S2SManagerOptions["hosts"] }): Promise<Peer> {
  const received: XmlElement[] = [];
  const bounced: Peer["bounced"] = [];
  const log: string[] = [];
  const m = new S2SManager({
    serves: (d) => d === domain,
    listen: { host: address, port: 0 },
    onStanza: (s) => received.push(s),
    onBounce: (reply, _s, condition) => bounced.push({ reply, condition }),
    log: (l) => log.push(l),
    ...opts,
  });
  started.push(m);
  const { port } = await m.listen();
  return { m, domain, port: port!, received, bounced, log };
}

/**
 * a.test on 127.0.0.2 and b.test on 127.0.0.3 with certificates for `names` (by default their own domains),
 * each trusting both, finding each other through the shared `hosts` table; `extraA`/`extraB` add options.
 */
async function pair(
  extraA: Partial<S2SManagerOptions> = {},
  extraB: Partial<S2SManagerOptions> = {},
  names: readonly [string, string] = ["a.test", "b.test"],
): Promise<{ a: Peer; b: Peer; hosts: Record<string, { host: string; port: number }> }> {
  const ca = cert(names[0]);
  const cb = cert(names[1]);
  const trust = [ca.cert, cb.cert];
  const hosts: Record<string, { host: string; port: number }> = {};
  const a = await peer("a.test", "127.0.0.2", { tls: { cert: ca.cert, key: ca.key, ca: trust }, hosts, ...extraA });
  const b = await peer("b.test", "127.0.0.3", { tls: { cert: cb.cert, key: cb.key, ca: trust }, hosts, ...extraB });
  hosts["a.test"] = { host: "127.0.0.2", port: a.port };
  hosts["b.test"] = { host: "127.0.0.3", port: b.port };
  return { a, b, hosts };
}

function message(from: string, to: string, body: string): XmlElement {
  return new XmlElement("message", "jabber:client", { from, to, type: "chat", id: body }, [new XmlElement("body", "jabber:client", null, [body])]);
}

async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("parseSubjectAltName", () => {
  it("types DNS-IDs, XmppAddr and SRV-IDs; quoted values decoded; unknown entries skipped", () => {
    expect(parseSubjectAltName('DNS:a.test, othername:XmppAddr:a.test, othername:SRVName:_xmpp-server.a.test, IP Address:127.0.0.1, DNS:"x,y.test"')).toEqual([
      { type: "dns", value: "a.test" },
      { type: "xmpp", value: "a.test" },
      { type: "srv", value: "_xmpp-server.a.test" },
      { type: "dns", value: "x,y.test" },
    ]);
  });
});

describe.skipIf(!haveOpenssl)("S2SManager on loopback", () => {
  it("EXTERNAL both ways when the certificates name the domains", async () => {
    const { a, b } = await pair();
    a.m.send(message("juliet@a.test/balcony", "romeo@b.test", "one"));
    a.m.send(message("juliet@a.test/balcony", "romeo@b.test", "two"));
    await until(() => b.received.length === 2);
    expect(b.received.map((s) => s.getChildText("body"))).toEqual(["one", "two"]);
    expect(b.received[0]!.ns).toBe("jabber:client");
    expect(a.m.outbound("a.test", "b.test")?.mechanism).toBe("EXTERNAL");
    b.m.send(message("romeo@b.test/garden", "juliet@a.test", "back"));
    await until(() => a.received.length === 1);
    expect(b.m.outbound("b.test", "a.test")?.mechanism).toBe("EXTERNAL");
    expect(a.bounced).toEqual([]);
  });

  it("SRV discovery: _xmpps-server._tcp (XEP-0368, Direct TLS) is used; the host name resolved by resolveHost", async () => {
    const ca = cert("a.test");
    const cb = cert("b.test");
    const trust = [ca.cert, cb.cert];
    const b = await peer("b.test", "127.0.0.3", { tls: { cert: cb.cert, key: cb.key, ca: trust }, directTlsPort: 0 });
    const direct = b.m.address().directTlsPort!;
    const asked: string[] = [];
    const a = await peer("a.test", "127.0.0.2", {
      tls: { cert: ca.cert, key: ca.key, ca: trust },
      resolveSrv: async (name) => {
        asked.push(name);
        if (name === "_xmpps-server._tcp.b.test") return [{ name: "xmpp.b.test", port: direct, priority: 0, weight: 0 }];
        throw Object.assign(new Error(`queryAny ENODATA ${name}`), { code: "ENODATA" });
      },
      resolveHost: async (host) => {
        if (host === "xmpp.b.test") return ["127.0.0.3"];
        throw new Error(`getaddrinfo ENOTFOUND ${host}`);
      },
    });
    a.m.send(message("juliet@a.test/balcony", "romeo@b.test", "via srv"));
    await until(() => b.received.length === 1);
    expect(asked.sort()).toEqual(["_xmpp-server._tcp.b.test", "_xmpps-server._tcp.b.test"]);
    expect(a.m.outbound("a.test", "b.test")?.mechanism).toBe("EXTERNAL");
    expect(b.log.some((l) => l.includes("a.test → b.test authenticated (EXTERNAL)"))).toBe(true);
  });

  it("dialback when the certificates do not name the domains (verify stream to the authoritative server)", async () => {
    // Trusted but naming other domains: EXTERNAL is not offered, dialback authenticates.
    const { a, b } = await pair({ dialbackSecret: "secret-a" }, { dialbackSecret: "secret-b" }, ["other-a.test", "other-b.test"]);
    a.m.send(message("juliet@a.test/balcony", "romeo@b.test", "hello"));
    await until(() => b.received.length === 1);
    expect(a.m.outbound("a.test", "b.test")?.mechanism).toBe("dialback");
    expect(b.log.some((l) => l.includes("dialback for a.test → b.test") && l.endsWith("valid"))).toBe(true);
  });

  it("piggybacking (XEP-0220 §2.5): a second domain of ours rides the online stream of the first, by dialback", async () => {
    const { a, b, hosts } = await pair({ dialbackSecret: "secret-a", serves: (d) => d === "a.test" || d === "chat.a.test" }, { dialbackSecret: "secret-b" });
    hosts["chat.a.test"] = { host: "127.0.0.2", port: a.port };
    a.m.send(message("juliet@a.test/balcony", "romeo@b.test", "first"));
    await until(() => b.received.length === 1);
    const stream = a.m.outbound("a.test", "b.test")!;
    expect(stream.mechanism).toBe("EXTERNAL");
    a.m.send(message("room@chat.a.test/nurse", "romeo@b.test", "piggybacked 1"));
    a.m.send(message("room@chat.a.test/nurse", "romeo@b.test", "piggybacked 2"));
    await until(() => b.received.length === 3);
    expect(b.received.map((s) => s.getChildText("body"))).toEqual(["first", "piggybacked 1", "piggybacked 2"]);
    expect(a.m.outbound("chat.a.test", "b.test")).toBe(stream); // one stream, two pairs
    expect(b.log.some((l) => l.includes("chat.a.test → b.test authenticated (dialback)"))).toBe(true);
    expect(b.m.inboundCount).toBe(1);
    expect(a.bounced).toEqual([]);
  });

  it("a piggybacked domain the peer cannot verify is refused; its stanzas bounce, the stream goes on", async () => {
    // b.test cannot find chat.a.test (no host entry, DNS refused): the verify fails.
    const { a, b } = await pair(
      { dialbackSecret: "secret-a", serves: (d) => d === "a.test" || d === "chat.a.test" },
      { dialbackSecret: "secret-b", resolveHost: async (h) => Promise.reject(new Error(`ENOTFOUND ${h}`)), resolveSrv: async () => Promise.reject(new Error("ENOTFOUND")) },
    );
    a.m.send(message("juliet@a.test/balcony", "romeo@b.test", "first"));
    await until(() => b.received.length === 1);
    a.m.send(message("room@chat.a.test/nurse", "romeo@b.test", "refused"));
    await until(() => a.bounced.length === 1);
    expect(a.bounced[0]!.condition).toBe("remote-server-not-found");
    expect(a.bounced[0]!.reply?.attr("to")).toBe("room@chat.a.test/nurse");
    a.m.send(message("juliet@a.test/balcony", "romeo@b.test", "still here"));
    await until(() => b.received.length === 2);
    expect(a.m.outbound("chat.a.test", "b.test")).toBeUndefined();
  });

  it("an impostor whose certificate is wrong and whose dialback fails is refused; its sender gets <remote-server-not-found/>", async () => {
    const ca = cert("a.test");
    const cb = cert("b.test");
    const cx = cert("evil.test");
    const trust = [ca.cert, cb.cert, cx.cert];
    const hosts: Record<string, { host: string; port: number }> = {};
    const a = await peer("a.test", "127.0.0.2", { tls: { cert: ca.cert, key: ca.key, ca: trust }, hosts, dialbackSecret: "secret-a" });
    const b = await peer("b.test", "127.0.0.3", { tls: { cert: cb.cert, key: cb.key, ca: trust }, hosts, dialbackSecret: "secret-b" });
    // Claims to be b.test, from another address, with another secret and a certificate for evil.test.
    const evil = await peer("b.test", "127.0.0.4", { tls: { cert: cx.cert, key: cx.key, ca: trust }, hosts, dialbackSecret: "guessed" });
    hosts["a.test"] = { host: "127.0.0.2", port: a.port };
    hosts["b.test"] = { host: "127.0.0.3", port: b.port };
    evil.m.send(message("romeo@b.test/x", "juliet@a.test", "forged"));
    await until(() => evil.bounced.length === 1);
    expect(evil.bounced[0]!.condition).toBe("remote-server-not-found");
    expect(evil.bounced[0]!.reply?.getChild("error")?.getChild("remote-server-not-found", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeDefined();
    expect(a.received).toEqual([]);
    expect(a.log.some((l) => l.includes("dialback for b.test → a.test") && l.includes("invalid"))).toBe(true);
  });

  it("a peer claiming to be our own domain is refused without a verify stream", async () => {
    const ca = cert("a.test");
    // Serves a.test and b.test; the liar, from elsewhere, claims to be a.test sending to b.test.
    const a = await peer("a.test", "127.0.0.2", { tls: { cert: ca.cert, key: ca.key }, dialbackSecret: "secret-a", serves: (d) => d === "a.test" || d === "b.test" });
    const liar = await peer("a.test", "127.0.0.4", { tls: { cert: ca.cert, key: ca.key }, hosts: { "b.test": { host: "127.0.0.2", port: a.port } }, dialbackSecret: "guess", listen: null });
    liar.m.send(message("mallory@a.test/x", "juliet@b.test", "hi"));
    await until(() => liar.bounced.length === 1);
    expect(liar.bounced[0]!.condition).toBe("remote-server-not-found");
    expect(a.log.some((l) => l.includes("refused, a.test is ours"))).toBe(true);
    expect(a.log.some((l) => l.includes("(dialback verify)"))).toBe(false);
    expect(a.received).toEqual([]);
  });

  it("a stanza with a forged 'from' over an authenticated stream ends it with <invalid-from/>; nothing is delivered", async () => {
    const { a, b } = await pair();
    b.m.send(message("romeo@b.test/garden", "juliet@a.test", "legit"));
    await until(() => a.received.length === 1);
    const link = b.m.outbound("b.test", "a.test")!;
    // Raw bytes on the TLS socket, past the session: a stanza from a domain that was not authenticated.
    link.driver!.socket.write("<message from='mallory@c.test' to='juliet@a.test' type='chat'><body>forged</body></message>");
    await until(() => a.log.some((l) => l.includes("<invalid-from/>")));
    await until(() => link.state === "closed");
    expect(a.received.map((s) => s.getChildText("body"))).toEqual(["legit"]);
  });

  it("an idle outbound stream is closed after idleTimeoutMs; the next stanza opens a new one", async () => {
    const { a, b } = await pair({ idleTimeoutMs: 200 });
    a.m.send(message("juliet@a.test/balcony", "romeo@b.test", "first"));
    await until(() => b.received.length === 1);
    const first = a.m.outbound("a.test", "b.test")!;
    await until(() => first.state === "closed");
    expect(a.m.outbound("a.test", "b.test")).toBeUndefined();
    expect(a.log.some((l) => l.startsWith("s2s idle: closing a.test → b.test"))).toBe(true);
    await until(() => b.m.inboundCount === 0); // the peer's end closed with it
    a.m.send(message("juliet@a.test/balcony", "romeo@b.test", "second"));
    await until(() => b.received.length === 2);
    expect(a.m.outbound("a.test", "b.test")).not.toBe(first);
    expect(a.bounced).toEqual([]);
  });

  it("unresolvable and refusing domains: queued stanzas come back as <remote-server-not-found/>", async () => {
    const ca = cert("a.test");
    const a = await peer("a.test", "127.0.0.2", {
      tls: { cert: ca.cert, key: ca.key },
      hosts: { "closed.test": { host: "127.0.0.9", port: 1 } },
      resolveSrv: async () => {
        throw Object.assign(new Error("queryA ENOTFOUND"), { code: "ENOTFOUND" });
      },
      resolveHost: async (h) => {
        throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${h}`), { code: "ENOTFOUND" });
      },
    });
    a.m.send(message("juliet@a.test/balcony", "romeo@nowhere.test", "1"));
    a.m.send(message("juliet@a.test/balcony", "romeo@nowhere.test", "2"));
    a.m.send(message("juliet@a.test/balcony", "romeo@closed.test", "3"));
    await until(() => a.bounced.length === 3);
    expect(a.bounced.map((b) => b.condition)).toEqual(["remote-server-not-found", "remote-server-not-found", "remote-server-not-found"]);
    const reply = a.bounced.find((b) => b.reply?.attr("id") === "3")!.reply!;
    expect(reply.attr("to")).toBe("juliet@a.test/balcony");
    expect(reply.attr("from")).toBe("romeo@closed.test");
    expect(reply.attr("type")).toBe("error");
  });

  it("a peer that accepts TCP and says nothing: <remote-server-timeout/>", async () => {
    const net = await import("node:net");
    const silent = net.createServer((s) => s.on("error", () => {}));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.5", () => r()));
    const port = (silent.address() as { port: number }).port;
    const ca = cert("a.test");
    const a = await peer("a.test", "127.0.0.2", {
      tls: { cert: ca.cert, key: ca.key },
      hosts: { "slow.test": { host: "127.0.0.5", port } },
      session: { timeouts: { negotiationMs: 300 } },
    });
    a.m.send(message("juliet@a.test/balcony", "romeo@slow.test", "1"));
    await until(() => a.bounced.length === 1);
    expect(a.bounced[0]!.condition).toBe("remote-server-timeout");
    silent.close();
  });
});

describe("S2SManager inbound read rate", () => {
  it("pauses reads past the rate (logged once), then reads on: nothing is dropped", async () => {
    const { createConnection } = await import("node:net");
    const b = await peer("b.test", "127.0.0.3", { tlsPolicy: "none", rate: { preAuth: { bytesPerSecond: 2_000, burstBytes: 64 } } });
    const socket = createConnection({ host: "127.0.0.3", port: b.port });
    let answer = "";
    socket.on("data", (c: Buffer) => void (answer += c.toString()));
    try {
      await new Promise((r) => socket.once("connect", r));
      // 300 bytes before the stream header (an XML declaration and white space): past the burst.
      socket.write(`<?xml version='1.0'?>${" ".repeat(280)}`);
      await until(() => b.log.some((l) => l.includes("read rate exceeded, reads paused")));
      socket.write("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='a.test' to='b.test' version='1.0'>");
      // read after the pause: the header is answered
      await until(() => answer.includes("<stream:features"));
      expect(answer).toContain("from='b.test'");
      expect(b.log.filter((l) => l.includes("read rate exceeded")).length).toBe(1);
    } finally {
      socket.destroy();
    }
  });

  it("a stream within its rate is never paused", async () => {
    const { createConnection } = await import("node:net");
    const b = await peer("b.test", "127.0.0.3", { tlsPolicy: "none" });
    const socket = createConnection({ host: "127.0.0.3", port: b.port });
    let answer = "";
    socket.on("data", (c: Buffer) => void (answer += c.toString()));
    try {
      await new Promise((r) => socket.once("connect", r));
      socket.write("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='a.test' to='b.test' version='1.0'>");
      await until(() => answer.includes("<stream:features"));
      expect(b.log.some((l) => l.includes("read rate exceeded"))).toBe(false);
    } finally {
      socket.destroy();
    }
  });
});
