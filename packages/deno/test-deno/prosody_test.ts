// Deno client ↔ Prosody 0.12 (started by vitest): STARTTLS and Direct TLS, SCRAM without -PLUS.
import { XmppClient } from "@xmpp-sansio/deno";
import { env, exchange, PASSWORDS } from "./common.ts";

const port = Number(env("PROSODY_PORT"));
const directTlsPort = Number(env("PROSODY_DIRECT_PORT"));
const caFile = env("PROSODY_CA");

Deno.test({
  name: "Deno client → Prosody: STARTTLS (Deno.startTls) and Direct TLS (Deno.connectTls), SCRAM, message",
  ignore: !port || !directTlsPort || caFile === undefined,
  async fn() {
    const ca = await Deno.readTextFile(caFile!);
    await exchange((user) => new XmppClient({ jid: `${user}@localhost`, password: PASSWORDS[user]!, host: "127.0.0.1", port, tls: { caCerts: [ca] } }));
    await exchange((user) => new XmppClient({ jid: `${user}@localhost`, password: PASSWORDS[user]!, host: "127.0.0.1", port: directTlsPort, directTls: true, tls: { caCerts: [ca] } }));
  },
});
