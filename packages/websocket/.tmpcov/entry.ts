import { sha256Hash } from "@xmpp-sansio/core";
import { WebSocketClient } from "@xmpp-sansio/websocket";
import { xml } from "@xmpp-sansio/xml";
export async function run(WebSocket: unknown, service: string, jid: string, password: string) {
  const client = new WebSocketClient({ jid, password, service, reconnect: false, WebSocket: WebSocket as never,
    session: { mechanisms: ["SCRAM-SHA-256"] }, parts: { hashes: [sha256Hash] } });
  const got = new Promise<void>((resolve) => client.on("message", (m) => { client.send(xml("message", { to: m.attr("from"), type: "chat" }, xml("body", {}, "hello"))); resolve(); }));
  await client.online();
  return { client, got };
}
