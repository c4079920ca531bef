// xmpp.js (@xmpp/client 0.14) as an IM client of our server (child process, see xmppjs-client.mjs for why):
// roster get, roster set (and its push), a subscription request to the peer, initial presence, then it
// reports what it gets and answers one message.
//   config (env XMPPJS_CONFIG): { service, domain, username, password, resource, peer }
//   reports: { event: "online", jid } → { event: "roster", items } → { event: "push", jid, subscription, ask }
//            → then, in any order: { event: "push", … } / { event: "presence", from, type } / { event: "message", from, body }
//            → { event: "offline" } after the first message; { event: "error", message } on failure.
import { client, xml } from "@xmpp/client";
import { startXmppJs } from "./xmppjs-start.mjs";

const config = JSON.parse(process.env.XMPPJS_CONFIG ?? "{}");
const report = (message) => new Promise((resolve) => process.send(message, resolve));

const xmpp = client({ service: config.service, domain: config.domain, username: config.username, password: config.password, resource: config.resource });
xmpp.reconnect.stop();

let failed = false;
const fail = async (error) => {
  if (failed) return;
  failed = true;
  await report({ event: "error", message: String(error?.stack ?? error) });
  process.exit(1);
};
xmpp.on("error", fail);

// Roster pushes: report and answer (RFC 6121 §2.1.6).
xmpp.iqCallee.set("jabber:iq:roster", "query", (ctx) => {
  const item = ctx.element.getChild("item");
  void report({ event: "push", jid: item?.attrs.jid, subscription: item?.attrs.subscription, ask: item?.attrs.ask ?? null });
  return true;
});

let done = false;
xmpp.on("stanza", async (stanza) => {
  if (stanza.is("presence")) {
    await report({ event: "presence", from: stanza.attrs.from, type: stanza.attrs.type ?? null });
    return;
  }
  if (!stanza.is("message") || stanza.getChildText("body") === null || done) return;
  done = true;
  await report({ event: "message", from: stanza.attrs.from, body: stanza.getChildText("body") });
  await xmpp.send(xml("message", { to: stanza.attrs.from, type: "chat" }, xml("body", {}, `re: ${stanza.getChildText("body")}`)));
  await xmpp.stop();
  await report({ event: "offline" });
  process.disconnect();
});

xmpp.on("online", async (address) => {
  try {
    await report({ event: "online", jid: address.toString() });
    const roster = await xmpp.iqCaller.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    await report({ event: "roster", items: roster.getChild("query").getChildren("item").map((i) => i.attrs.jid) });
    await xmpp.iqCaller.request(xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: config.peer, name: "Peer" }))));
    await xmpp.send(xml("presence", { to: config.peer, type: "subscribe" }));
    await xmpp.send(xml("presence"));
  } catch (error) {
    await fail(error);
  }
});

startXmppJs(xmpp, fail);
