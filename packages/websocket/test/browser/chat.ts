// Browser page: logs in over WebSocket with our client (the browser's own WebSocket) and answers a message.
import { xml } from "@xmpp-sansio/xml";
import { XmppClient } from "../../src/index.js";

interface PageState {
  online?: string;
  mechanism?: string;
  received?: string[];
  error?: string;
  closed?: boolean;
}
const state: PageState = { received: [] };
(globalThis as unknown as { state: PageState; client?: XmppClient }).state = state;

const params = new URLSearchParams((globalThis as unknown as { location: { search: string } }).location.search);
const client = new XmppClient({ jid: params.get("jid")!, password: params.get("password")!, service: params.get("service")! });
(globalThis as unknown as { client: XmppClient }).client = client;
client.on("message", (m) => {
  const body = m.getChildText("body");
  if (body === undefined) return;
  state.received!.push(body);
  client.send(xml("message", { to: m.attr("from"), type: "chat" }, xml("body", {}, `browser got: ${body}`)));
});
client.on("close", () => (state.closed = true));
client.online().then(
  (jid) => (state.online = jid.toString()),
  (err: Error) => (state.error = `${err.name}: ${err.message}`),
);
