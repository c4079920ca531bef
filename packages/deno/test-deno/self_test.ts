// Deno client ↔ Deno server, both in this Deno process: plain TCP (tls "none") and Direct TLS (ALPN).
import { AuthError, XmppClient, XmppServer } from "@xmpp-sansio/deno";
import { assert, env, exchange, PASSWORDS } from "./common.ts";

const certFile = env("XMPP_TEST_CERT");
const keyFile = env("XMPP_TEST_KEY");

Deno.test({
  name: "Deno client ↔ Deno server: plain TCP and Direct TLS, PLAIN and SCRAM, messages, AuthError",
  ignore: certFile === undefined || keyFile === undefined,
  async fn() {
    const cert = await Deno.readTextFile(certFile!);
    const key = await Deno.readTextFile(keyFile!);
    const server: XmppServer = new XmppServer({
      domains: "localhost",
      host: "127.0.0.1",
      port: 0,
      directTlsPort: 0,
      tls: { cert, key },
      session: { allowPlainInClear: true, mechanisms: ["PLAIN"] },
      hooks: {
        verifyPassword: (user, password) => PASSWORDS[user] === password,
        stanza: (_conn, stanza) => {
          const to = stanza.attr("to");
          if (stanza.name === "message" && to !== undefined) for (const c of server.connectionsOf(to)) c.send(stanza);
        },
      },
    });
    const { port, directTlsPort } = await server.listen();
    try {
      assert(port !== undefined && directTlsPort !== undefined, "ports");
      const plain = await exchange((user) => new XmppClient({ jid: `${user}@localhost`, password: PASSWORDS[user]!, host: "127.0.0.1", port, starttls: "none", session: { allowPlainInClear: true } }));
      assert(plain.julietJid.startsWith("juliet@localhost/"), plain.julietJid);
      await exchange((user) => new XmppClient({ jid: `${user}@localhost/deno`, password: PASSWORDS[user]!, host: "127.0.0.1", port: directTlsPort, directTls: true, tls: { caCerts: [cert] } }));

      const bad = new XmppClient({ jid: "juliet@localhost", password: "nope", host: "127.0.0.1", port, starttls: "none", session: { allowPlainInClear: true } });
      const err = await bad.online().catch((e: unknown) => e);
      assert(err instanceof AuthError && err.condition === "not-authorized", `expected AuthError, got ${String(err)}`);
    } finally {
      await server.close();
    }
  },
});
