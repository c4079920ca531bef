// pack-check (Deno): the installed tarballs (node_modules, "nodeModulesDir": "manual") load and run in Deno.
import { FramedParser } from "@xmpp-sansio/xml";
import { parseJid } from "@xmpp-sansio/jid";
import { ClientSession } from "@xmpp-sansio/core";
import { XmppClient, type XmppClientOptions } from "@xmpp-sansio/deno";
import { XmppClient as WebSocketClient } from "@xmpp-sansio/websocket";

const el = new FramedParser().parse(new TextEncoder().encode("<message xmlns='jabber:client'><body>hi</body></message>"));
if ("condition" in el) throw new Error(el.text);
if (el.getChildText("body") !== "hi") throw new Error("wrong body");
if (parseJid("Juliet@Example.com/balcony").bare.toString() !== "juliet@example.com") throw new Error("jid");
const session = new ClientSession({ jid: "juliet@example.com", password: "x" });
session.start(0);
if (session.pollTransmit() === undefined) throw new Error("no stream header");
const options: XmppClientOptions = { jid: "juliet@example.com", password: "x", host: "127.0.0.1" };
if (typeof XmppClient !== "function" || typeof WebSocketClient !== "function" || options.jid === "") throw new Error("clients");
console.log("deno smoke ok");
