// xmpp.js (@xmpp/client 0.14) with its XEP-0198 plugin (@xmpp/stream-management, loaded by @xmpp/client)
// against our server, in a child process (it trusts the generated certificate through
// NODE_EXTRA_CA_CERTS; verification stays on). Driven over the IPC channel of `fork`:
//   config (env XMPPJS_CONFIG): { service, domain, username, password, resource }
//   commands: { cmd: "send", to, id, body } | { cmd: "cut" } | { cmd: "reconnect" } | { cmd: "stop" }
//   reports:  online { jid } · sm-enabled { id, resume, max } · ack { id } · fail { id } · message { id, from, body }
//             · disconnected · resumed · offline · error { message }
// Automatic reconnection is off: `cut` destroys the socket, and `reconnect` runs exactly what xmpp.js's
// reconnect module runs after its delay (`reconnect.reconnect()`: connect + open), so the test decides
// when the server has seen the old connection die. The resumption itself is xmpp.js's own: its
// stream-management feature sends <resume previd h/> because it still has the session id.
import { client, xml } from "@xmpp/client";
import { startXmppJs } from "./xmppjs-start.mjs";

const NS_SM = "urn:xmpp:sm:3";
const config = JSON.parse(process.env.XMPPJS_CONFIG ?? "{}");
const report = (message) => new Promise((resolve) => process.send(message, resolve));

const xmpp = client({
  service: config.service,
  domain: config.domain,
  username: config.username,
  password: config.password,
  resource: config.resource,
});
xmpp.reconnect.stop();

let failed = false;
const fail = async (error) => {
  if (failed) return;
  failed = true;
  await report({ event: "error", message: String(error?.stack ?? error) });
  process.exit(1);
};
let cutting = false;
xmpp.on("error", (error) => {
  if (!cutting) void fail(error); // errors of the socket we destroy on purpose are expected
});

xmpp.on("nonza", (el) => {
  // RFC 6120 path: <enabled/> alone; SASL2 + Bind2 (the default of our server): inside <success><bound/>.
  const enabled = el.is("enabled", NS_SM) ? el : el.is("success", "urn:xmpp:sasl:2") ? el.getChild("bound", "urn:xmpp:bind:0")?.getChild("enabled", NS_SM) : undefined;
  if (enabled) void report({ event: "sm-enabled", id: enabled.attrs.id, resume: enabled.attrs.resume, max: enabled.attrs.max });
});
xmpp.on("stanza", (stanza) => {
  if (stanza.is("message")) void report({ event: "message", id: stanza.attrs.id, from: stanza.attrs.from, body: stanza.getChildText("body") });
});
xmpp.on("online", (address) => void report({ event: "online", jid: address.toString() }));
xmpp.on("disconnect", () => {
  if (cutting) void report({ event: "disconnected" });
});
xmpp.streamManagement.on("ack", (stanza) => void report({ event: "ack", id: stanza.attrs.id }));
xmpp.streamManagement.on("fail", (stanza) => void report({ event: "fail", id: stanza.attrs.id }));
xmpp.streamManagement.on("resumed", () => {
  cutting = false;
  void report({ event: "resumed" });
});

process.on("message", async (m) => {
  try {
    if (m.cmd === "send") await xmpp.send(xml("message", { to: m.to, id: m.id, type: "chat" }, xml("body", {}, m.body)));
    else if (m.cmd === "cut") {
      cutting = true;
      // xmpp.js wraps the node:tls socket (@xmpp/tls's Socket); destroy the real one, as a lost link would.
      xmpp.socket.socket.destroy();
    } else if (m.cmd === "reconnect") await xmpp.reconnect.reconnect();
    else if (m.cmd === "stop") {
      await xmpp.stop();
      await report({ event: "offline" });
      process.disconnect();
    }
  } catch (error) {
    await fail(error);
  }
});

startXmppJs(xmpp, fail);
