// pack-check (TypeScript): an application written against the published types of every package; type-checked
// with module/moduleResolution node16, nodenext and bundler, skipLibCheck off.
import { XmppClient, type XmppClientOptions, XmppServer } from "@xmpp-sansio/node";
import { ClientSession, type ClientEvent } from "@xmpp-sansio/core";
import { type XmlElement, xml, FramedParser } from "@xmpp-sansio/xml";
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import { createClientMechanism, type ClientMechanism } from "@xmpp-sansio/sasl";
import { prepareUsername } from "./precis-shim.js";
import { TypedEmitter } from "@xmpp-sansio/adapter";
import { discoverWebSocketEndpoints, XmppClient as WebSocketClient } from "@xmpp-sansio/websocket";
import { XmppWebSocketServer } from "@xmpp-sansio/websocket/server";
import type { XmppClient as DenoClient } from "@xmpp-sansio/deno";
import { generateSelfSignedCertificate, startServer } from "@xmpp-sansio/server";

const options: XmppClientOptions = { jid: "juliet@example.com", password: "r0m30myr0m30", host: "127.0.0.1", port: 5222 };
export const client = new XmppClient(options);
client.on("message", (m: XmlElement) => {
  const from: string | undefined = m.attr("from");
  client.send(xml("message", { to: from, type: "chat" }, xml("body", {}, "hi")));
});
export const session = new ClientSession({ jid: "juliet@example.com", password: "x" });
export const firstEvent: ClientEvent | undefined = session.pollEvent();
export const jid: Jid = parseJid("juliet@example.com/balcony");
export const mechanism: ClientMechanism = createClientMechanism("SCRAM-SHA-256", {});
export const parsed = new FramedParser().parse(new Uint8Array());
export const user: string = prepareUsername("Juliet");
export const emitter = new TypedEmitter<{ ping: [number] }>();
export const endpoints: Promise<string[]> = discoverWebSocketEndpoints("example.com", { fetch: globalThis.fetch, signal: new AbortController().signal });
export const wsClient = new WebSocketClient({ jid: "juliet@example.com", password: "x", service: "wss://example.com/ws" });
export const wsServer = new XmppWebSocketServer({ domains: "example.com", port: 0 });
wsServer.on("connection", (connection) => {
  // `socket` is ws's WebSocket: its types come with the package (@types/ws is a dependency).
  connection.socket.ping();
});
export const server = new XmppServer({ domains: "example.com", port: 0 });
export const certificate = generateSelfSignedCertificate({ dnsNames: ["example.com"] });
export const running = startServer;
export type Deno = DenoClient;
