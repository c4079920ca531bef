// The smallest browser client scripts/bundle-size.mjs measures: the core's LeanClientSession on the page's own
// WebSocket through connectBareClient (no adapter: no promise API, IQ-handler registry or reconnection), SCRAM-SHA-256
// only, answering messages. IQ requests it does not take are answered <service-unavailable/> by the binding.
// See docs/releasing.md#bundle-size.
import { sha256Hash } from "@xmpp-sansio/core";
import { connectBareClient } from "@xmpp-sansio/websocket";
import { xml } from "@xmpp-sansio/xml";

connectBareClient({
  jid: "juliet@example.com",
  password: "r0m30myr0m30",
  service: "wss://example.com/xmpp-websocket",
  mechanisms: ["SCRAM-SHA-256"],
  parts: { hashes: [sha256Hash] },
  onEvent(ev, session) {
    if (ev.type === "online") console.log(`online as ${session.jid}`);
    else if (ev.type === "stanza" && ev.stanza.name === "message") session.send(xml("message", { to: ev.stanza.attr("from"), type: "chat" }, xml("body", {}, "hello")));
  },
  onEnd: (error) => console.log(error?.message ?? "closed"),
});
