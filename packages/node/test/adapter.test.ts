// Adapter behaviour over loopback with the real core: the STARTTLS byte boundary, timers, close
// deadline, reconnection, SRV discovery end to end.
import { once } from "node:events";
import * as net from "node:net";
import { Duplex } from "node:stream";
import * as tls from "node:tls";
import { describe, expect, it } from "vitest";
import { type ClientCloseInfo, XmppClient, XmppServer, type XmppServerHooks, type XmppServerOptions } from "../src/index.js";
import { accountHooks, PASSWORDS } from "./support/accounts.js";
import { hasOpenssl } from "./support/certs.js";
import { loopbackFixture } from "./support/loopback.js";

const describeTls = hasOpenssl() ? describe : describe.skip;
const HEADER = "<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";
const STARTTLS = "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";

/** Reads from `socket` until `pred(text so far)` holds; resolves with all bytes read. */
function readUntil(socket: net.Socket, pred: (text: string) => boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (b: Buffer) => {
      chunks.push(b);
      const all = Buffer.concat(chunks);
      if (pred(all.toString("latin1"))) {
        socket.off("data", onData);
        socket.off("close", onClose);
        resolve(all);
      }
    };
    const onClose = () => reject(new Error(`closed before the expected data; got ${Buffer.concat(chunks).toString("latin1")}`));
    socket.on("data", onData);
    socket.once("close", onClose);
  });
}

describeTls("Node adapter over loopback (real core)", () => {
  const fx = loopbackFixture();
  const { servers, clients, sockets } = fx;

  async function startServer(extra: Partial<XmppServerOptions> = {}, hooks: XmppServerHooks = {}) {
    let server!: XmppServer;
    server = new XmppServer({ domains: "localhost", tls: { key: fx.cert.key, cert: fx.cert.cert }, host: "127.0.0.1", port: 0, hooks: { ...accountHooks(() => server), ...hooks }, ...extra });
    servers.push(server);
    return { server, port: (await server.listen()).port! };
  }

  async function raw(port: number): Promise<net.Socket> {
    const s = net.connect(port, "127.0.0.1");
    sockets.push(s);
    s.on("error", () => {});
    await once(s, "connect");
    return s;
  }

  it("server STARTTLS: a ClientHello in the same TCP write as <starttls/> goes to TLS, not to the XML parser", async () => {
    const { port } = await startServer();
    const socket = await raw(port);
    // A TLS client whose records we carry by hand, so its ClientHello can be glued to <starttls/>.
    let onTlsOut: (b: Buffer) => void = () => {};
    const firstFlight = new Promise<Buffer>((resolve) => (onTlsOut = resolve));
    const tunnel = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        onTlsOut(chunk);
        cb();
      },
    });
    const secure = tls.connect({ socket: tunnel, servername: "localhost", ca: fx.cert.cert });
    secure.on("error", () => {});
    // Registered now: the handshake may complete while the server's first flight is being pushed below.
    const secured = once(secure, "secureConnect");
    const hello = await firstFlight;
    onTlsOut = (b) => socket.write(b);
    const preamble = readUntil(socket, (t) => /<proceed[^>]*\/>/.test(t));
    socket.write(Buffer.concat([Buffer.from(HEADER + STARTTLS), hello]));
    const before = await preamble;
    const text = before.toString("latin1");
    const m = /<proceed[^>]*\/>/.exec(text)!;
    const rest = before.subarray(m.index + m[0].length);
    if (rest.length > 0) tunnel.push(rest);
    socket.on("data", (b: Buffer) => tunnel.push(b));
    await secured;
    // The restarted stream over TLS offers SASL with -PLUS: the handshake used exactly the glued bytes.
    const features = new Promise<string>((resolve) => {
      let acc = "";
      secure.on("data", (b: Buffer) => {
        acc += b.toString();
        if (acc.includes("</stream:features>") || acc.includes("</features>")) resolve(acc);
      });
    });
    secure.write(HEADER);
    expect(await features).toMatch(/SCRAM-SHA-\d+-PLUS/);
    secure.destroy();
  });

  it("server STARTTLS: plaintext injected after <starttls/> (CVE-2011-0411) is never parsed as XML", async () => {
    let stanzas = 0;
    const { port } = await startServer({ session: { timeouts: { negotiationMs: 300 } } }, { stanza: () => void stanzas++ });
    const socket = await raw(port);
    socket.resume(); // read (and discard) the server's bytes, so that its FIN is seen
    const closed = once(socket, "close");
    socket.write(`${HEADER}${STARTTLS}<iq type='get' id='x'><query xmlns='jabber:iq:roster'/></iq><message to='romeo@localhost'><body>injected</body></message>`);
    // The injected bytes went to TLS as a (bogus) record: the handshake fails, or waits for the rest of
    // that "record" until the negotiation deadline. Either way nothing was parsed as XML.
    await closed;
    expect(stanzas).toBe(0);
  });

  it("timers: the core's negotiation deadline ends a silent connection with <connection-timeout/>", async () => {
    const { port } = await startServer({ session: { timeouts: { negotiationMs: 150 } } });
    const socket = await raw(port);
    const all = await readUntil(socket, (t) => t.includes("</stream:stream>"));
    expect(all.toString()).toContain("connection-timeout");
    await once(socket, "close");
  });

  it("close(): resolves after the close deadline when the peer never answers, reason timeout", async () => {
    const { server, port } = await startServer();
    const juliet = new XmppClient({ jid: "juliet@localhost", password: PASSWORDS.get("juliet")!, host: "127.0.0.1", port, tls: { ca: fx.cert.cert }, session: { timeouts: { closeMs: 150 } } });
    clients.push(juliet);
    const j = await juliet.online();
    // The server stops reading: it will never see our </stream:stream>.
    server.connectionFor(j)!.driver.socket.pause();
    const closed = new Promise<ClientCloseInfo>((r) => juliet.once("close", r));
    await juliet.close();
    expect((await closed).reason).toBe("timeout");
    server.connectionFor(j)!.driver.socket.resume();
  });

  it("reconnect: after a drop the client comes back online (RFC 6120 §3.3 policy, injected randomness)", async () => {
    const { server, port } = await startServer();
    const juliet = new XmppClient({
      jid: "juliet@localhost",
      password: PASSWORDS.get("juliet")!,
      host: "127.0.0.1",
      port,
      tls: { ca: fx.cert.cert },
      reconnect: { initialDelayMs: 20, random: () => 0.5 },
    });
    clients.push(juliet);
    const first = await juliet.online();
    const reconnecting = new Promise<{ attempt: number; delayMs: number }>((r) => juliet.once("reconnecting", r));
    const dropped = new Promise<ClientCloseInfo>((r) => juliet.once("close", r));
    const back = new Promise<unknown>((r) => juliet.once("online", r));
    juliet.on("error", () => {});
    server.connectionFor(first)!.driver.destroy();
    const info = await dropped;
    expect(info.willReconnect).toBe(true);
    expect(await reconnecting).toEqual({ attempt: 1, delayMs: 10 });
    await back;
    expect(juliet.isOnline).toBe(true);
    expect(await juliet.online()).toBe(juliet.jid);
  });

  it("discovery end to end: SRV answer from an injected resolver, certificate checked against the JID domain", async () => {
    const { port } = await startServer();
    const asked: string[] = [];
    const juliet = new XmppClient({
      jid: "juliet@localhost",
      password: PASSWORDS.get("juliet")!,
      tls: { ca: fx.cert.cert },
      resolveSrv: async (name) => {
        asked.push(name);
        if (name === "_xmpp-client._tcp.localhost") return [{ name: "127.0.0.1", port, priority: 0, weight: 0 }];
        return [{ name: ".", port: 0, priority: 0, weight: 0 }];
      },
    });
    clients.push(juliet);
    await juliet.online();
    expect(asked.sort()).toEqual(["_xmpp-client._tcp.localhost", "_xmpps-client._tcp.localhost"]);
    expect((juliet.socket as tls.TLSSocket).servername).toBe("localhost");
  });
});
