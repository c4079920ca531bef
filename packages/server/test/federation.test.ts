// Two reference servers federate on loopback: a.test with s2s on 127.0.0.2:5269, b.test on 127.0.0.3:5269
// (c2s on ephemeral ports), a static host map instead of DNS. A client on each: subscription, presence and
// messages both ways, offline storage across domains; EXTERNAL when the certificates name the domains,
// dialback when they do not; an unreachable domain gives <remote-server-not-found/>.
import * as net from "node:net";
import { xml } from "@xmpp-sansio/xml";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { type CertificatePair, generateSelfSignedCertificate } from "../src/certificate.js";
import type { FederationOptions } from "../src/federation.js";
import { type RunningServer, startServer } from "../src/server.js";
import { openSqliteStorage } from "../src/store/sqlite.js";
import type { Storage } from "../src/store/types.js";
import { imAcrossDomains, messageFrom, Peer, presenceFrom } from "./support/im-peer.js";

const HOSTS = { "a.test": "127.0.0.2", "b.test": "127.0.0.3" } as const;
type Domain = keyof typeof HOSTS;

interface Instance {
  readonly running: RunningServer;
  readonly storage: Storage;
  readonly pair: CertificatePair;
  readonly log: string[];
}

/** Whether `port` can be bound on `host` now. */
function free(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(undefined));
    srv.listen(port, host, () => {
      const bound = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(bound));
    });
  });
}

/**
 * The s2s port of both servers: 5269 (RFC 6120 §3.2.2) on 127.0.0.2 and 127.0.0.3 — unless another process
 * on the machine holds it (e.g. a system Prosody on 0.0.0.0:5269); then one port free on both addresses,
 * which the static host map names.
 */
async function s2sPort(): Promise<number> {
  if ((await free(HOSTS["a.test"], 5269)) !== undefined && (await free(HOSTS["b.test"], 5269)) !== undefined) return 5269;
  for (let i = 0; i < 20; i++) {
    const p = await free(HOSTS["a.test"], 0);
    if (p !== undefined && (await free(HOSTS["b.test"], p)) !== undefined) {
      console.log(`federation test: port 5269 is taken on loopback by another process; s2s on ${p} instead`);
      return p;
    }
  }
  throw new Error("no port free on both 127.0.0.2 and 127.0.0.3");
}
let S2S_PORT = 5269;

const instances: Instance[] = [];
const peers: Peer[] = [];

beforeAll(async () => {
  S2S_PORT = await s2sPort();
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.client.close()));
  for (const i of instances.splice(0)) {
    await i.running.close();
    i.storage.close();
  }
});

async function instance(domain: Domain, pair: CertificatePair, trust: readonly string[], users: Record<string, string>, extra: Partial<FederationOptions> = {}): Promise<Instance> {
  const storage = openSqliteStorage(":memory:");
  const accounts = new AccountStore({ records: storage.accounts });
  for (const [u, p] of Object.entries(users)) accounts.add(u, p);
  const log: string[] = [];
  const running = await startServer({
    domain,
    accounts,
    storage,
    tls: pair,
    port: 0,
    log: (l) => log.push(l),
    limits: { address: { maxLoginAttemptsPerIp: null } },
    federation: {
      host: HOSTS[domain],
      port: S2S_PORT,
      hosts: { "a.test": { host: HOSTS["a.test"], port: S2S_PORT }, "b.test": { host: HOSTS["b.test"], port: S2S_PORT } },
      ca: [...trust],
      ...extra,
    },
  });
  const i = { running, storage, pair, log };
  instances.push(i);
  return i;
}

async function connect(i: Instance, jid: string, password: string): Promise<Peer> {
  const p = new Peer(jid, password, i.running.port!, i.pair.cert);
  peers.push(p);
  await p.client.online();
  return p;
}

/**
 * Two servers and a client on each, with initial presence sent. The c2s certificates name the domains;
 * the s2s ones name `certNames(domain)` (issued by CAs both servers trust).
 */
async function pairOfServers(certNames: (d: Domain) => string[]) {
  const pa = generateSelfSignedCertificate({ dnsNames: ["a.test"] });
  const pb = generateSelfSignedCertificate({ dnsNames: ["b.test"] });
  const sa = generateSelfSignedCertificate({ dnsNames: certNames("a.test") });
  const sb = generateSelfSignedCertificate({ dnsNames: certNames("b.test") });
  const trust = [sa.ca!, sb.ca!];
  const a = await instance("a.test", pa, trust, { juliet: "r0m30myr0m30" }, { tls: sa });
  const b = await instance("b.test", pb, trust, { romeo: "j0liet" }, { tls: sb });
  const juliet = await connect(a, "juliet@a.test/balcony", "r0m30myr0m30");
  const romeo = await connect(b, "romeo@b.test/garden", "j0liet");
  juliet.send(xml("presence", {}));
  romeo.send(xml("presence", {}));
  return { a, b, juliet, romeo };
}

describe("federation between two reference servers on loopback", () => {
  it("EXTERNAL (certificates name the domains): subscription, presence, messages both ways", async () => {
    const { a, b, juliet, romeo } = await pairOfServers((d) => [d]);
    await imAcrossDomains(juliet, "juliet@a.test", romeo, "romeo@b.test");
    expect(a.running.federation!.manager.outbound("a.test", "b.test")?.mechanism).toBe("EXTERNAL");
    expect(b.running.federation!.manager.outbound("b.test", "a.test")?.mechanism).toBe("EXTERNAL");
    expect(b.log.some((l) => l.includes("a.test → b.test authenticated (EXTERNAL)"))).toBe(true);
  });

  it("dialback (certificates name other domains): the same exchange", async () => {
    const { a, b, juliet, romeo } = await pairOfServers(() => ["localhost"]);
    await imAcrossDomains(juliet, "juliet@a.test", romeo, "romeo@b.test");
    expect(a.running.federation!.manager.outbound("a.test", "b.test")?.mechanism).toBe("dialback");
    expect(b.log.some((l) => l.includes("a.test → b.test authenticated (dialback)"))).toBe(true);
  });

  it("presence across domains after a reconnection: unavailable to the remote contact, probe answered at login", async () => {
    const { a, juliet, romeo } = await pairOfServers((d) => [d]);
    await imAcrossDomains(juliet, "juliet@a.test", romeo, "romeo@b.test");
    await juliet.client.close();
    await romeo.next(presenceFrom("juliet@a.test", "unavailable"), "juliet's unavailable presence at b.test");
    const again = await connect(a, "juliet@a.test/balcony", "r0m30myr0m30");
    again.send(xml("presence", {}));
    // RFC 6121 §4.2.2: the login probes the contacts; b.test answers with romeo's presence.
    await again.next(presenceFrom("romeo@b.test"), "romeo's presence (probe answered by b.test)");
    await romeo.next(presenceFrom("juliet@a.test"), "juliet's available presence at b.test");
  });

  it("a message to an offline remote user is stored at its server and delivered at login", async () => {
    const pa = generateSelfSignedCertificate({ dnsNames: ["a.test"] });
    const pb = generateSelfSignedCertificate({ dnsNames: ["b.test"] });
    const trust = [pa.ca!, pb.ca!];
    const a = await instance("a.test", pa, trust, { juliet: "r0m30myr0m30" });
    const b = await instance("b.test", pb, trust, { romeo: "j0liet" });
    const juliet = await connect(a, "juliet@a.test/balcony", "r0m30myr0m30");
    juliet.send(xml("presence", {}));
    juliet.send(xml("message", { to: "romeo@b.test", type: "chat", id: "m1" }, xml("body", {}, "while you were away")));
    await new Promise<void>((resolve, reject) => {
      const end = Date.now() + 5000;
      const check = () => (b.storage.offline.count("romeo") === 1 ? resolve() : Date.now() > end ? reject(new Error("not stored")) : setTimeout(check, 20));
      check();
    });
    const romeo = await connect(b, "romeo@b.test/garden", "j0liet");
    romeo.send(xml("presence", {}));
    const m = await romeo.next(messageFrom("juliet@a.test"), "the offline message");
    expect(m.getChildText("body")).toBe("while you were away");
    expect(m.getChild("delay", "urn:xmpp:delay")).toBeDefined();
  });

  it("IQs from a remote user: a ping to the server is answered, an account's IQ gets an error (never silence)", async () => {
    const { juliet } = await pairOfServers((d) => [d]);
    const pong = await juliet.client.iq(xml("iq", { type: "get", to: "b.test" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(pong.attr("type")).toBe("result");
    expect(pong.attr("from")).toBe("b.test");
    await expect(juliet.client.iq(xml("iq", { type: "get", to: "romeo@b.test" }, xml("vCard", { xmlns: "vcard-temp" })))).rejects.toThrow(/service-unavailable/);
  });

  it("a message to a user that does not exist on the remote server: <service-unavailable/> comes back over s2s", async () => {
    const { juliet } = await pairOfServers((d) => [d]);
    juliet.send(xml("message", { to: "nobody@b.test", type: "chat", id: "x1" }, xml("body", {}, "hello?")));
    const err = await juliet.next((s) => s.name === "message" && s.attr("type") === "error" && s.attr("id") === "x1", "the error");
    expect(err.attr("from")).toBe("nobody@b.test");
    expect(err.getChild("error")?.getChild("service-unavailable", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeDefined();
  });

  it("an impostor claiming b.test (certificate for another name, dialback key refused by the real b.test) is refused", async () => {
    const pa = generateSelfSignedCertificate({ dnsNames: ["a.test"] });
    const pb = generateSelfSignedCertificate({ dnsNames: ["b.test"] });
    const evil = generateSelfSignedCertificate({ dnsNames: ["evil.test"] });
    const trust = [pa.ca!, pb.ca!, evil.ca!];
    const a = await instance("a.test", pa, trust, { juliet: "r0m30myr0m30" });
    await instance("b.test", pb, trust, {});
    // Outbound only, another dialback secret, a trusted certificate that does not name b.test.
    const impostor = await instance("b.test", generateSelfSignedCertificate({ dnsNames: ["b.test"] }), trust, { romeo: "j0liet" }, { port: null, secret: "guessed", tls: evil });
    const juliet = await connect(a, "juliet@a.test/balcony", "r0m30myr0m30");
    juliet.send(xml("presence", {}));
    const romeo = await connect(impostor, "romeo@b.test/garden", "j0liet");
    romeo.send(xml("message", { to: "juliet@a.test", type: "chat", id: "f1" }, xml("body", {}, "trust me")));
    const err = await romeo.next((s) => s.attr("type") === "error" && s.attr("id") === "f1", "the error");
    expect(err.getChild("error")?.getChild("remote-server-not-found", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeDefined();
    expect(a.log.some((l) => l.includes("dialback for b.test → a.test") && l.includes("invalid"))).toBe(true);
    expect(juliet.got.filter((s) => s.name === "message")).toEqual([]);
  });

  it("a forged 'from' over an authenticated stream ends it with <invalid-from/>; the next stanza opens a new one", async () => {
    const { a, b, juliet, romeo } = await pairOfServers((d) => [d]);
    romeo.send(xml("message", { to: "juliet@a.test/balcony", type: "chat" }, xml("body", {}, "legit")));
    await juliet.next(messageFrom("romeo@b.test"), "the legit message");
    const link = b.running.federation!.manager.outbound("b.test", "a.test")!;
    link.driver!.socket.write("<message from='mallory@c.test' to='juliet@a.test' type='chat'><body>forged</body></message>");
    await new Promise<void>((resolve, reject) => {
      const end = Date.now() + 5000;
      const check = () => (link.state === "closed" ? resolve() : Date.now() > end ? reject(new Error("not closed")) : setTimeout(check, 20));
      check();
    });
    expect(a.log.some((l) => l.includes("<invalid-from/>"))).toBe(true);
    romeo.send(xml("message", { to: "juliet@a.test/balcony", type: "chat" }, xml("body", {}, "again")));
    const again = await juliet.next(messageFrom("romeo@b.test"), "the message after the forgery");
    expect(again.getChildText("body")).toBe("again");
    expect(juliet.got.some((s) => s.getChildText("body") === "forged")).toBe(false);
  });

  it("a stanza to an unreachable domain returns <remote-server-not-found/> to the sender", async () => {
    const pa = generateSelfSignedCertificate({ dnsNames: ["a.test"] });
    const a = await instance("a.test", pa, [pa.ca!], { juliet: "r0m30myr0m30" }, {
      resolveSrv: async () => {
        throw new Error("ENOTFOUND");
      },
      resolveHost: async (h) => {
        throw new Error(`getaddrinfo ENOTFOUND ${h}`);
      },
    });
    const juliet = await connect(a, "juliet@a.test/balcony", "r0m30myr0m30");
    juliet.send(xml("message", { to: "someone@nowhere.test", type: "chat", id: "u1" }, xml("body", {}, "anyone?")));
    const err = await juliet.next((s) => s.attr("type") === "error" && s.attr("id") === "u1", "the error");
    expect(err.attr("from")).toBe("someone@nowhere.test");
    expect(err.getChild("error")?.getChild("remote-server-not-found", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeDefined();
  });
});
