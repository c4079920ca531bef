// xmpp.js (@xmpp/client 0.14) as a client of our demo server, run in a child process so that it can
// trust the generated certificate through NODE_EXTRA_CA_CERTS (xmpp.js's STARTTLS upgrade passes no TLS
// options) and get a global WebSocket from `--experimental-websocket` on Node 20. Verification is never
// turned off. Driven over the IPC channel of `fork`:
//   config (env XMPPJS_CONFIG): { service, domain, username, password, resource, peer, body }
//   reports: { event: "online", jid } → { event: "pong", type } → { event: "message", from, body }
//            → { event: "offline" }, or { event: "error", message }; exit code 0 after a clean stop.
import { client, xml } from "@xmpp/client";
import { startXmppJs } from "./xmppjs-start.mjs";

const config = JSON.parse(process.env.XMPPJS_CONFIG ?? "{}");
const report = (message) => new Promise((resolve) => process.send(message, resolve));

const xmpp = client({
  service: config.service,
  domain: config.domain,
  username: config.username,
  password: config.password,
  resource: config.resource,
});
xmpp.reconnect.stop(); // one connection attempt only: a failure must fail the test, not loop

let failed = false;
const fail = async (error) => {
  if (failed) return;
  failed = true;
  await report({ event: "error", message: String(error?.stack ?? error) });
  process.exit(1);
};
xmpp.on("error", fail);

xmpp.on("stanza", async (stanza) => {
  if (!stanza.is("message") || stanza.getChildText("body") === null) return;
  await report({ event: "message", from: stanza.attrs.from, body: stanza.getChildText("body") });
  await xmpp.stop(); // </stream:stream>, waits for the server's, closes the socket
  await report({ event: "offline" });
  process.disconnect();
});

xmpp.on("online", async (address) => {
  try {
    await report({ event: "online", jid: address.toString() });
    const pong = await xmpp.iqCaller.request(xml("iq", { type: "get", to: config.domain }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    await report({ event: "pong", type: pong.attrs.type });
    await xmpp.send(xml("message", { to: config.peer, type: "chat", id: "xmppjs-1" }, xml("body", {}, config.body)));
  } catch (error) {
    await fail(error);
  }
});

startXmppJs(xmpp, fail);
