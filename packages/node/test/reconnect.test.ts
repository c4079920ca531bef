// The lifecycle through the Node adapter against a real server restart on loopback: default reconnect
// settings (LIFECYCLE_RECONNECT_DEFAULTS), a stanza sent while the server is down is queued and delivered
// once the client is back. The time from "server listening again" to "client online again" is printed
// (measured loosely on the wall clock, bounded generously: a figure, not a benchmark).
import { once } from "node:events";
import * as net from "node:net";
import { performance } from "node:perf_hooks";
import { xml } from "@xmpp-sansio/xml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XmppClient, XmppServer } from "../src/index.js";
import { accountHooks, PASSWORDS } from "./support/accounts.js";
import { hasOpenssl, makeCert, type TestCert } from "./support/certs.js";

const describeTls = hasOpenssl() ? describe : describe.skip;

describeTls("reconnection after a server restart (Node client ↔ Node server, loopback)", () => {
  let cert: TestCert;
  beforeAll(() => {
    cert = makeCert({ cn: "localhost" });
  });
  afterAll(() => cert.cleanup());

  /** Bodies of the messages the servers received, in order. */
  const received: string[] = [];

  function server(port: number): XmppServer {
    let s!: XmppServer;
    const hooks = accountHooks(() => s);
    s = new XmppServer({
      domains: "localhost",
      tls: { key: cert.key, cert: cert.cert },
      host: "127.0.0.1",
      port,
      hooks: {
        ...hooks,
        stanza(conn, stanza) {
          if (stanza.name === "message") received.push(stanza.getChildText("body") ?? "");
          return hooks.stanza?.(conn, stanza);
        },
      },
      shutdownTimeoutMs: 500,
    });
    return s;
  }

  it("default settings: back online within a few seconds of the server's return; what was sent meanwhile reaches the server", async () => {
    let first: XmppServer | undefined = server(0);
    const port = (await first.listen()).port!;
    const juliet = new XmppClient({ jid: "juliet@localhost/bot", password: PASSWORDS.get("juliet")!, host: "127.0.0.1", port, tls: { ca: cert.cert } });
    let second: XmppServer | undefined;
    try {
      juliet.on("error", () => {});
      const reconnecting: number[] = [];
      juliet.on("reconnecting", (r) => reconnecting.push(r.delayMs));
      const jid = await juliet.online();

      const dropped = new Promise((r) => juliet.once("close", r));
      await first.close(); // <system-shutdown/> to the client
      first = undefined;
      await dropped;
      // The server is down for 2 s; the client keeps trying (connection refused) and queues what is sent.
      juliet.send(xml("message", { to: jid.bare.toString(), type: "chat" }, xml("body", {}, "sent while the server was down")));
      expect(juliet.isOnline).toBe(false);
      await new Promise((r) => setTimeout(r, 2000));

      second = server(port);
      const back = new Promise<{ resumed: boolean }>((r) => juliet.once("online", (_j, info) => r(info)));
      await second.listen();
      const listening = performance.now();
      const info = await back;
      const seconds = (performance.now() - listening) / 1000;
      console.log(`reconnect: server listening again → client online again in ${seconds.toFixed(2)} s (delays drawn: ${reconnecting.join(", ")} ms)`);
      expect(seconds).toBeLessThan(10);
      expect(info.resumed).toBe(false); // a restarted server has no session to resume: bound again
      expect(juliet.jid?.toString()).toBe(jid.toString());
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(received).toEqual(["sent while the server was down"]); // flushed from the queue after binding
    } finally {
      await juliet.close();
      await first?.close();
      await second?.close();
    }
  }, 30_000);

  it("<see-other-host/> (RFC 6120 §4.9.3.19): the next connection goes to the host:port given, the certificate still checked", async () => {
    const real = server(0);
    const port = (await real.listen()).port!;
    let redirected = 0;
    const redirector = net.createServer((sock) => {
      redirected++;
      sock.once("data", () => {
        sock.end(
          "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='r1' version='1.0'>" +
            `<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>127.0.0.1:${port}</see-other-host></stream:error></stream:stream>`,
        );
      });
    });
    redirector.listen(0, "127.0.0.1");
    await once(redirector, "listening");
    const juliet = new XmppClient({ jid: "juliet@localhost", password: PASSWORDS.get("juliet")!, host: "127.0.0.1", port: (redirector.address() as net.AddressInfo).port, tls: { ca: cert.cert } });
    try {
      const jid = await juliet.online();
      expect(jid.bare.toString()).toBe("juliet@localhost");
      expect(redirected).toBe(1);
      expect(juliet.socket?.remotePort).toBe(port);
    } finally {
      await juliet.close();
      await real.close();
      await new Promise((r) => redirector.close(r));
    }
  });
});
