// pack-check (browser): a WebSocket client as a web page would use it (SCRAM over wss:), bundled by esbuild
// and type-checked with the DOM library and without @types/node.
import { XmppClient } from "@xmpp-sansio/websocket";
import { xml } from "@xmpp-sansio/xml";

const client = new XmppClient({ jid: "juliet@example.com", password: "r0m30myr0m30", service: "wss://example.com/xmpp-websocket" });
client.on("message", (m) => client.send(xml("message", { to: m.attr("from"), type: "chat" }, xml("body", {}, "hello from the browser"))));
client.online().then((jid) => document.title = jid.toString(), (error: Error) => console.error(error.message));
