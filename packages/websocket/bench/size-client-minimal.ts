// The smallest browser client scripts/bundle-size.mjs measures: what a small chat page composes itself. It knows
// its endpoint (WebSocketClient: no XEP-0156 discovery code), logs in with SCRAM-SHA-256 over RFC 6120 SASL only
// (no SASL2/FAST: the lean client loads only the parts it is given, `parts`), without Stream Management or
// reconnection, and answers messages. SCRAM's hash is a value too (`parts.hashes`): only SHA-256 is bundled.
// See docs/releasing.md#bundle-size.
import { sha256Hash } from "@xmpp-sansio/core";
import { WebSocketClient } from "@xmpp-sansio/websocket";
import { xml } from "@xmpp-sansio/xml";

const client = new WebSocketClient({
  jid: "juliet@example.com",
  password: "r0m30myr0m30",
  service: "wss://example.com/xmpp-websocket",
  reconnect: false,
  session: { mechanisms: ["SCRAM-SHA-256"] },
  parts: { hashes: [sha256Hash] },
});
client.on("message", (m) => client.send(xml("message", { to: m.attr("from"), type: "chat" }, xml("body", {}, "hello"))));
client.online().then(
  (jid) => console.log(`online as ${jid}`),
  (error: Error) => console.error(error.message),
);
