// Browser page: connectBareClient on the browser's own WebSocket — logs in, answers a message, refuses an IQ it
// does not handle (service-unavailable, from the binding) and closes when asked.
import { sha256Hash } from "@xmpp-sansio/core";
import { xml } from "@xmpp-sansio/xml";
import { type BareClient, connectBareClient } from "../../src/index.js";

interface PageState {
  online?: string;
  received: string[];
  events: string[];
  ended?: string;
}
const state: PageState = { received: [], events: [] };
const params = new URLSearchParams((globalThis as unknown as { location: { search: string } }).location.search);
const client = connectBareClient({
  jid: params.get("jid")!,
  password: params.get("password")!,
  service: params.get("service")!,
  mechanisms: ["SCRAM-SHA-256"],
  parts: { hashes: [sha256Hash] },
  onEvent(ev, session) {
    state.events.push(ev.type);
    if (ev.type === "online") state.online = ev.jid.toString();
    else if (ev.type === "stanza" && ev.stanza.name === "message") {
      const body = ev.stanza.getChildText("body");
      if (body === undefined) return;
      state.received.push(body);
      session.send(xml("message", { to: ev.stanza.attr("from"), type: "chat" }, xml("body", {}, `bare got: ${body}`)));
    }
  },
  onEnd: (error) => (state.ended = error === undefined ? "clean" : `${error.code}: ${error.message}`),
});
(globalThis as unknown as { state: PageState; client: BareClient }).state = state;
(globalThis as unknown as { client: BareClient }).client = client;
