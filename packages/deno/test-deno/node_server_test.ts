// Deno client ↔ our Node XmppServer (started by vitest): STARTTLS via Deno.startTls, and Direct TLS via Deno.connectTls.
import { ConnectionError, XmppClient } from "@xmpp-sansio/deno";
import { assert, env, exchange, PASSWORDS } from "./common.ts";

const port = Number(env("XMPP_NODE_PORT"));
const directTlsPort = Number(env("XMPP_NODE_DIRECT_PORT"));
const caFile = env("XMPP_TEST_CERT");

Deno.test({
  name: "Deno client → Node server: STARTTLS (required) + SCRAM, then Direct TLS with ALPN xmpp-client",
  ignore: !port || !directTlsPort || caFile === undefined,
  async fn() {
    const ca = await Deno.readTextFile(caFile!);
    await exchange((user) => new XmppClient({ jid: `${user}@localhost`, password: PASSWORDS[user]!, host: "127.0.0.1", port, tls: { caCerts: [ca] } }));
    await exchange((user) => new XmppClient({ jid: `${user}@localhost/direct`, password: PASSWORDS[user]!, host: "127.0.0.1", port: directTlsPort, directTls: true, tls: { caCerts: [ca] } }));
    // Without the CA the certificate is not trusted: a typed tls-failed error, never a silent downgrade.
    const c = new XmppClient({ jid: "juliet@localhost", password: "x", host: "127.0.0.1", port: directTlsPort, directTls: true });
    const err = await c.online().catch((e: unknown) => e);
    assert(err instanceof ConnectionError && err.code === "tls-failed", `expected tls-failed, got ${String(err)}`);
  },
});
