// The two servers of bench/ws.bench.ts in a process of their own, so that their CPU time is measured apart
// from the clients': our WebSocket server (this package) and our TCP server (@xmpp-sansio/node), both
// routing chat messages between online connections, read rate limits off. IPC: sends { ready, wsPort,
// tcpPort }; answers "cpu" with process.cpuUsage(); "stop" closes both servers and exits.
import type { XmlElement } from "@xmpp-sansio/xml";
import { XmppServer as TcpServer } from "@xmpp-sansio/node";
import { XmppWebSocketServer } from "../src/server.js";
import { ACCOUNTS, scramCredentials } from "../test/support/demo-server.js";

const creds = new Map<string, ReturnType<typeof scramCredentials>>();
const hooks = {
  scramCredentials(username: string, mechanism: string) {
    const key = `${username}\0${mechanism}`;
    if (!creds.has(key)) creds.set(key, ACCOUNTS[username] === undefined ? null : scramCredentials(ACCOUNTS[username]!, mechanism));
    return creds.get(key)!;
  },
};

const route = (server: { connectionsOf(bare: string): Array<{ send(s: XmlElement): void }> }) => (_c: unknown, s: XmlElement) => {
  const to = s.attr("to");
  if (s.name === "message" && to !== undefined) for (const c of server.connectionsOf(to)) c.send(s);
};

// The per-connection read rate limits (256 KiB/s after authentication by default) are off: with them both
// transports measure the limiter (≈ 2,200 messages/s), not the server.
const limits = { rate: { preAuth: null, authenticated: null } };
const wsServer: XmppWebSocketServer = new XmppWebSocketServer({ domains: "localhost", host: "127.0.0.1", port: 0, limits, hooks: { ...hooks, stanza: (c, s) => route(wsServer)(c, s) } });
const tcpServer: TcpServer = new TcpServer({ domains: "localhost", host: "127.0.0.1", port: 0, starttls: "none", limits, hooks: { ...hooks, stanza: (c, s) => route(tcpServer)(c, s) } });
const { port: wsPort } = await wsServer.listen();
const { port: tcpPort } = await tcpServer.listen();

process.on("message", async (message: unknown) => {
  if (message === "cpu") process.send?.({ cpu: process.cpuUsage() });
  else if (message === "stop") {
    await Promise.all([wsServer.close(), tcpServer.close()]);
    process.disconnect();
    process.exit(0);
  }
});
// The bench died without saying "stop": do not outlive it.
process.on("disconnect", () => process.exit(0));
process.send?.({ ready: true, wsPort, tcpPort });
