// The client's TLS handshake check without Node's detailed certificate object (src/tls-connect.ts): the
// identity is still checked, the detailed form is not built during the login, and the socket's own
// getPeerCertificate is back once the connection is secure.
import { Socket } from "node:net";
import { type DetailedPeerCertificate, TLSSocket } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { ConnectionError, XmppClient, XmppServer } from "../src/index.js";
import { accountHooks, PASSWORDS } from "./support/accounts.js";
import { hasOpenssl, makeCert } from "./support/certs.js";
import { loopbackFixture } from "./support/loopback.js";

const describeTls = hasOpenssl() ? describe : describe.skip;

describeTls("XmppClient TLS identity check", () => {
  const fx = loopbackFixture();
  const original = TLSSocket.prototype.getPeerCertificate;
  afterEach(() => {
    TLSSocket.prototype.getPeerCertificate = original;
  });

  async function startServer(cert = fx.cert) {
    let server!: XmppServer;
    server = new XmppServer({
      domains: "localhost",
      tls: { key: cert.key, cert: cert.cert },
      host: "127.0.0.1",
      port: 0,
      directTlsPort: 0,
      hooks: accountHooks(() => server),
      session: { mechanisms: ["SCRAM-SHA-1"] },
    });
    fx.servers.push(server);
    return server.listen();
  }

  /** Records the `detailed` argument of every getPeerCertificate call that reaches Node's method. */
  function spyDetailed(): boolean[] {
    const calls: boolean[] = [];
    TLSSocket.prototype.getPeerCertificate = function (this: TLSSocket, detailed?: boolean) {
      calls.push(detailed === true);
      return original.call(this, detailed as true);
    } as typeof original;
    return calls;
  }

  for (const directTls of [false, true]) {
    it(`${directTls ? "Direct TLS" : "STARTTLS"}: no detailed certificate during the login; Node's method is back afterwards`, async () => {
      const ports = await startServer();
      const calls = spyDetailed();
      const c = new XmppClient({ jid: "juliet@localhost", password: PASSWORDS.get("juliet")!, host: "127.0.0.1", port: directTls ? ports.directTlsPort! : ports.port!, directTls, tls: { ca: fx.cert.cert } });
      fx.clients.push(c);
      await c.online();
      expect(calls).toEqual([false]); // the handshake check; channel binding reuses its certificate
      const socket = c.socket as TLSSocket;
      expect(socket.getPeerCertificate).toBe(TLSSocket.prototype.getPeerCertificate);
      expect(socket.getPeerCertificate(true).issuerCertificate).toBeDefined();
    });
  }

  for (const directTls of [false, true]) {
    it(`${directTls ? "Direct TLS" : "STARTTLS"}: the client's socket has Nagle's algorithm off`, async () => {
      const ports = await startServer();
      const noDelay: (boolean | undefined)[] = [];
      const setNoDelay = Socket.prototype.setNoDelay;
      Socket.prototype.setNoDelay = function (this: Socket, on?: boolean) {
        noDelay.push(on);
        return setNoDelay.call(this, on);
      };
      try {
        const c = new XmppClient({ jid: "juliet@localhost", password: PASSWORDS.get("juliet")!, host: "127.0.0.1", port: directTls ? ports.directTlsPort! : ports.port!, directTls, tls: { ca: fx.cert.cert } });
        fx.clients.push(c);
        await c.online();
      } finally {
        Socket.prototype.setNoDelay = setNoDelay;
      }
      // Ours, before the connection is up (the server's accepted sockets do not call it).
      expect(noDelay).toEqual([true]);
    });
  }

  it("a certificate for another name still fails the STARTTLS upgrade", async () => {
    const other = makeCert({ cn: "example.org" });
    try {
      const ports = await startServer(other);
      const c = new XmppClient({ jid: "juliet@localhost", password: PASSWORDS.get("juliet")!, host: "127.0.0.1", port: ports.port!, tls: { ca: other.cert } });
      fx.clients.push(c);
      const err = await c.online().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as ConnectionError).code).toBe("tls-failed");
      expect(String((err as ConnectionError).cause)).toMatch(/localhost/);
    } finally {
      other.cleanup();
    }
  });

  it("an application checkServerIdentity gets the detailed certificate, as Node gives it", async () => {
    const ports = await startServer();
    const seen: unknown[] = [];
    const c = new XmppClient({
      jid: "juliet@localhost",
      password: PASSWORDS.get("juliet")!,
      host: "127.0.0.1",
      port: ports.port!,
      tls: { ca: fx.cert.cert, extra: { checkServerIdentity: (_host, cert) => void seen.push((cert as DetailedPeerCertificate).issuerCertificate) } },
    });
    fx.clients.push(c);
    await c.online();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeDefined();
  });
});
