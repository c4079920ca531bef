// The smallest browser client scripts/bundle-size.mjs measures: what a small chat page composes itself. It knows
// its endpoint (WebSocketClient: no XEP-0156 discovery code), logs in with SCRAM-SHA-256 over RFC 6120 SASL only
// (no SASL2/FAST), without Stream Management or reconnection, and answers messages. The options that are only
// read at run time (sasl2: false, sm: false, reconnect: false) do not shrink the bundle yet: see docs/releasing.md.
import { WebSocketClient } from "@xmpp-sansio/websocket";
import { xml } from "@xmpp-sansio/xml";

const client = new WebSocketClient({
  jid: "juliet@example.com",
  password: "r0m30myr0m30",
  service: "wss://example.com/xmpp-websocket",
  sm: false,
  reconnect: false,
  session: { sasl2: false, mechanisms: ["SCRAM-SHA-256"] },
});
client.on("message", (m) => client.send(xml("message", { to: m.attr("from"), type: "chat" }, xml("body", {}, "hello"))));
client.online().then(
  (jid) => console.log(`online as ${jid}`),
  (error: Error) => console.error(error.message),
);
