// Our client against our server over loopback, with the real core on both sides.
import { once } from "node:events";
import * as net from "node:net";
import type { TLSSocket } from "node:tls";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { AuthError, type ClientCloseInfo, ConnectionError, StanzaErrorException, StreamErrorException, XmppClient, XmppServer, type XmppServerHooks, type XmppServerOptions } from "../src/index.js";
import { accountHooks, PASSWORDS } from "./support/accounts.js";
import { hasOpenssl, makeCert } from "./support/certs.js";
import { loopbackFixture } from "./support/loopback.js";

const describeTls = hasOpenssl() ? describe : describe.skip;

/** The next `close` event (events.once would reject on 'error', which the client emits first). */
function nextClose(client: XmppClient): Promise<ClientCloseInfo> {
  return new Promise((resolve) => client.once("close", resolve));
}

describeTls("XmppClient ↔ XmppServer over loopback (real core)", () => {
  const fx = loopbackFixture();
  const { servers, clients } = fx;

  /** A server over the test accounts; `override` replaces some of the routing hooks. */
  async function startServer(extra: Partial<XmppServerOptions> = {}, override: (base: XmppServerHooks) => XmppServerHooks = (b) => b) {
    let server!: XmppServer;
    const hooks = override(accountHooks(() => server));
    server = new XmppServer({
      domains: "localhost",
      tls: { key: fx.cert.key, cert: fx.cert.cert },
      host: "127.0.0.1",
      port: 0,
      directTlsPort: 0,
      hooks,
      ...extra,
      session: { mechanisms: ["SCRAM-SHA-256", "SCRAM-SHA-1"], ...(extra.session ?? {}) },
    });
    servers.push(server);
    const ports = await server.listen();
    return { server, ports };
  }

  function client(user: string, port: number, extra: Partial<ConstructorParameters<typeof XmppClient>[0]> = {}) {
    const c = new XmppClient({ jid: `${user}@localhost`, password: PASSWORDS.get(user)!, host: "127.0.0.1", port, tls: { ca: fx.cert.cert }, ...extra });
    clients.push(c);
    return c;
  }

  it("STARTTLS, SCRAM-SHA-256-PLUS with tls-exporter (TLS 1.3), bind, message exchange, iq error, clean close", async () => {
    const { server, ports } = await startServer();
    const juliet = client("juliet", ports.port!);
    const romeo = client("romeo", ports.port!);
    const [jj, rj] = await Promise.all([juliet.online(), romeo.online()]);
    expect(jj.bare.toString()).toBe("juliet@localhost");
    expect(jj.resource).not.toBe("");
    expect(rj.bare.toString()).toBe("romeo@localhost");
    expect(juliet.mechanism).toBe("SCRAM-SHA-256-PLUS");
    expect((juliet.socket as TLSSocket).getProtocol()).toBe("TLSv1.3");
    const conn = server.connectionFor(jj)!;
    expect(conn.mechanism).toBe("SCRAM-SHA-256-PLUS");
    expect(conn.tlsSocket?.getProtocol()).toBe("TLSv1.3");

    const inbox = romeo.stanzas();
    const viaEvent = once(romeo, "message");
    juliet.send(xml("message", { to: "romeo@localhost", type: "chat" }, xml("body", {}, "Art thou not Romeo, and a Montague?")));
    const { value } = await inbox.next();
    const [evMsg] = (await viaEvent) as [XmlElement];
    expect(value!.getChildText("body")).toBe("Art thou not Romeo, and a Montague?");
    expect(value!.attr("from")).toBe(jj.toString());
    expect(evMsg).toBe(value);
    await inbox.return!();

    // The server answers unknown IQ requests with <service-unavailable/>: a typed rejection.
    const err = await juliet.iq(xml("iq", { type: "get", to: "localhost" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })), { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StanzaErrorException);
    expect((err as StanzaErrorException).condition).toBe("service-unavailable");

    const closed = nextClose(juliet);
    await juliet.close();
    const info = await closed;
    expect(info.reason).toBe("closed");
    expect(info.error).toBeUndefined();
    expect(juliet.isOnline).toBe(false);
    await conn.closedPromise;
    expect(server.connectionFor(jj)).toBeUndefined();
  });

  it("Direct TLS (XEP-0368) with ALPN xmpp-client", async () => {
    const { server, ports } = await startServer();
    const juliet = client("juliet", ports.directTlsPort!, { directTls: true });
    const j = await juliet.online();
    const sock = juliet.socket as TLSSocket;
    expect(sock.alpnProtocol).toBe("xmpp-client");
    expect(server.connectionFor(j)?.directTls).toBe(true);
    expect(juliet.mechanism).toMatch(/-PLUS$/);
  });

  it("TLS 1.2: SCRAM-SHA-1-PLUS negotiates with tls-unique", async () => {
    const { server, ports } = await startServer({ session: { mechanisms: ["SCRAM-SHA-1"] } });
    const juliet = client("juliet", ports.port!, { tls: { ca: fx.cert.cert, maxVersion: "TLSv1.2" } });
    const j = await juliet.online();
    expect((juliet.socket as TLSSocket).getProtocol()).toBe("TLSv1.2");
    expect(juliet.mechanism).toBe("SCRAM-SHA-1-PLUS");
    expect(server.connectionFor(j)?.mechanism).toBe("SCRAM-SHA-1-PLUS");
  });

  it("tls-server-end-point: the server's hash computed once from its certificate matches the client's, on STARTTLS and Direct TLS, and after setSecureContext", async () => {
    const { server, ports } = await startServer();
    const plus = { session: { channelBindingType: "tls-server-end-point" as const } };
    const juliet = client("juliet", ports.port!, plus);
    const j = await juliet.online();
    expect(juliet.mechanism).toBe("SCRAM-SHA-256-PLUS");
    expect(server.connectionFor(j)?.mechanism).toBe("SCRAM-SHA-256-PLUS");
    const direct = client("romeo", ports.directTlsPort!, { ...plus, directTls: true });
    await direct.online();
    expect(direct.mechanism).toBe("SCRAM-SHA-256-PLUS");
    // A renewed certificate: a hash kept from the old one would make the binding fail.
    const renewed = makeCert({ cn: "localhost", keyType: "ec", hash: "sha384" });
    try {
      server.setSecureContext({ key: renewed.key, cert: renewed.cert });
      const again = client("romeo", ports.port!, { ...plus, tls: { ca: renewed.cert } });
      await again.online();
      expect(again.mechanism).toBe("SCRAM-SHA-256-PLUS");
    } finally {
      renewed.cleanup();
    }
  });

  it("online/offline hooks, the default bind policy (assign-new) and connection lookup", async () => {
    const events: string[] = [];
    let offline!: () => void;
    const gone = new Promise<void>((r) => (offline = r));
    const { server, ports } = await startServer({}, (base) => ({
      ...base,
      online: (c) => void events.push(`online ${c.jid}`),
      offline: (c) => {
        events.push(`offline ${c.jid}`);
        offline();
      },
    }));
    const a = client("juliet", ports.port!, { jid: "juliet@localhost/balcony" });
    const b = client("juliet", ports.port!, { jid: "juliet@localhost/balcony" });
    const ja = await a.online();
    const jb = await b.online();
    expect(ja.toString()).toBe("juliet@localhost/balcony");
    expect(jb.resource).not.toBe("balcony"); // in use: a new one was assigned
    expect(server.connectionsOf("juliet@localhost")).toHaveLength(2);
    await a.close();
    await gone;
    expect(events).toEqual([`online ${ja}`, `online ${jb}`, `offline ${ja}`]);
  });

  it("a wrong password rejects online() with AuthError not-authorized", async () => {
    const { ports } = await startServer();
    const juliet = client("juliet", ports.port!, { password: "wrong" });
    const err = await juliet.online().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).condition).toBe("not-authorized");
  });

  it("an untrusted certificate fails the STARTTLS upgrade with a ConnectionError", async () => {
    const { ports } = await startServer();
    const juliet = client("juliet", ports.port!, { tls: {} });
    const err = await juliet.online().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe("tls-failed");
  });

  it("server.close() sends <system-shutdown/> to online clients", async () => {
    const { server, ports } = await startServer();
    const juliet = client("juliet", ports.port!);
    await juliet.online();
    const closed = nextClose(juliet);
    servers.splice(servers.indexOf(server), 1);
    await server.close();
    const info = await closed;
    expect(info.error).toBeInstanceOf(StreamErrorException);
    expect((info.error as StreamErrorException).condition).toBe("system-shutdown");
  });

  it("a hook that throws ends only that connection, with <internal-server-error/>", async () => {
    let calls = 0;
    const { server, ports } = await startServer({}, (base) => ({
      ...base,
      stanza(_c, s) {
        calls++;
        if (s.getChildText("body") === "boom") throw new Error("application bug");
      },
    }));
    server.on("hookError", () => {});
    const juliet = client("juliet", ports.port!);
    const romeo = client("romeo", ports.port!);
    await Promise.all([juliet.online(), romeo.online()]);
    const closed = nextClose(juliet);
    juliet.send(xml("message", { to: "romeo@localhost" }, xml("body", {}, "boom")));
    const info = await closed;
    expect((info.error as StreamErrorException).condition).toBe("internal-server-error");
    expect(calls).toBe(1);
    expect(romeo.isOnline).toBe(true);
  });

  it("a host hook that rejects before our stream header still gives a well-formed <internal-server-error/>", async () => {
    const { server, ports } = await startServer({}, (base) => ({ ...base, serves: async () => Promise.reject(new Error("directory down")) }));
    const errors: unknown[] = [];
    server.on("hookError", (e) => errors.push(e));
    const juliet = client("juliet", ports.port!);
    const err = await juliet.online().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamErrorException);
    expect((err as StreamErrorException).condition).toBe("internal-server-error");
    expect((errors[0] as Error).message).toBe("directory down");
  });

  it("stanzas() ends when the client is closed; pending iq() calls reject with ConnectionError", async () => {
    const { ports } = await startServer({}, (base) => ({ ...base, stanza: () => {} })); // never answers IQs
    const juliet = client("juliet", ports.port!);
    await juliet.online();
    const it = juliet.stanzas();
    const next = it.next();
    const pending = juliet.iq(xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: "urn:xmpp:ping" }))).catch((e: unknown) => e);
    await juliet.close();
    expect(await next).toEqual({ value: undefined, done: true });
    expect(await pending).toBeInstanceOf(ConnectionError);
  });

  it("peers that disconnect mid-stream never take the server down", async () => {
    const { server, ports } = await startServer();
    for (const payload of ["<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>\x16\x03\x01", "<stream:stream", "\x16\x03\x01\x02\x00garbage", ""]) {
      const s = net.connect(ports.port!, "127.0.0.1");
      await once(s, "connect");
      if (payload !== "") s.write(payload);
      s.destroy();
    }
    const tlsRaw = net.connect(ports.directTlsPort!, "127.0.0.1");
    await once(tlsRaw, "connect");
    tlsRaw.end("not a client hello");
    await once(tlsRaw, "close");
    // The server still serves.
    const juliet = client("juliet", ports.port!);
    await juliet.online();
    expect(server.connections.size).toBeGreaterThanOrEqual(1);
  });

  it("back-pressure: a tiny highWaterMark stops draining the core until 'drain', nothing is lost or reordered", async () => {
    const { ports } = await startServer({ writableHighWaterMark: 64 });
    const juliet = client("juliet", ports.port!, { writableHighWaterMark: 64 });
    const romeo = client("romeo", ports.port!, { writableHighWaterMark: 64 });
    await Promise.all([juliet.online(), romeo.online()]);
    const N = 300;
    const got: string[] = [];
    const all = new Promise<void>((resolve) =>
      romeo.on("message", (m) => {
        got.push(m.getChildText("body")!);
        if (got.length === N) resolve();
      }),
    );
    const body = "x".repeat(200);
    let total = 0;
    for (let i = 0; i < N; i++) {
      const m = xml("message", { to: "romeo@localhost" }, xml("body", {}, `${i} ${body}`));
      total += 250;
      juliet.send(m);
    }
    // Only what was written before write() said "full" sits in the socket; the rest waits in the core.
    expect(juliet.socket!.writableLength).toBeLessThan(total / 10);
    await all;
    expect(got).toEqual(Array.from({ length: N }, (_, i) => `${i} ${body}`));
  });
});
