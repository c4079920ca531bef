import { readFileSync } from "node:fs";
import { XmppClient, xml } from "@xmpp-sansio/node";

const env = process.env; // defaults: the server `pnpm serve` runs, with its demo account romeo
const client = new XmppClient({
  jid: "romeo@localhost/bot", password: "j0liet", host: env.XMPP_HOST ?? "127.0.0.1", port: Number(env.XMPP_PORT ?? 5222),
  tls: { ca: readFileSync(env.XMPP_CA ?? "xmpp-data/localhost.crt") }, // trust the server's private CA
  iqAnswers: { version: { name: "echo-bot", version: "1.0" } }, // ping, disco#info, version: built in
  transcript: env.XMPP_DEBUG === "1", // print the XML both ways
});
client.onMessage({ type: "chat", child: { name: "body" } }, (m, body) => {
  client.send(xml("message", { to: m.attr("from"), type: "chat" }, xml("body", {}, `echo: ${body?.text()}`)));
});
client.on("online", async (me, { resumed }) => {
  console.log(`online as ${me}${resumed ? " (session resumed)" : ""}`);
  if (resumed) return; // reconnect + Stream Management are on by default
  client.send(xml("presence"));
  const roster = await client.iqGet(xml("query", { xmlns: "jabber:iq:roster" })).catch(() => undefined);
  console.log(`roster: ${roster?.getChildren("item").map((i) => i.attr("jid")).join(", ") || "(empty)"}`);
});
await client.online();
