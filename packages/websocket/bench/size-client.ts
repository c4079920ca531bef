// The browser client measured by scripts/bundle-size.mjs (`pnpm bundle-size`): log in over WebSocket (SCRAM, no channel binding
// in browsers), answer messages. What a small chat page needs and nothing else.
import { XmppClient } from "@xmpp-sansio/websocket";
import { xml } from "@xmpp-sansio/xml";

const client = new XmppClient({ jid: "juliet@example.com", password: "r0m30myr0m30", service: "wss://example.com/xmpp-websocket" });
client.on("message", (m) => client.send(xml("message", { to: m.attr("from"), type: "chat" }, xml("body", {}, "hello"))));
client.online().then(
  (jid) => console.log(`online as ${jid}`),
  (error: Error) => console.error(error.message),
);
