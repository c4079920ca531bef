// Messages per second through our server, over WebSocket (this package) vs over TCP (@xmpp-sansio/node),
// same run, loopback, no TLS on either. Prints figures; asserts nothing.
//   pnpm -F @xmpp-sansio/websocket bench        (BENCH_MESSAGES=50000 to change the count)
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import WebSocket from "ws";
import { XmppClient as TcpClient, XmppServer as TcpServer } from "@xmpp-sansio/node";
import { type WebSocketConstructor, XmppClient as WsClient } from "../src/index.js";
import { XmppWebSocketServer } from "../src/server.js";
import { ACCOUNTS, scramCredentials } from "../test/support/demo-server.js";

const N = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUNDS = 3;

interface Client {
  online(): Promise<{ toString(): string }>;
  send(s: XmlElement): void;
  on(event: "message", fn: (s: XmlElement) => void): unknown;
  close(): Promise<void>;
}

const creds = new Map<string, ReturnType<typeof scramCredentials>>();
const hooks = {
  scramCredentials(username: string, mechanism: string) {
    const key = `${username}\0${mechanism}`;
    if (!creds.has(key)) creds.set(key, ACCOUNTS[username] === undefined ? null : scramCredentials(ACCOUNTS[username]!, mechanism));
    return creds.get(key)!;
  },
};

async function run(label: string, make: (user: string) => Client): Promise<number[]> {
  const sender = make("juliet");
  const receiver = make("romeo");
  const [, rj] = await Promise.all([sender.online(), receiver.online()]);
  const to = rj.toString();
  const rates: number[] = [];
  let received = 0;
  let done: (() => void) | undefined;
  let target = 0;
  receiver.on("message", () => {
    received++;
    if (received === target) done?.();
  });
  const burst = async (count: number): Promise<number> => {
    received = 0;
    target = count;
    const finished = new Promise<void>((r) => (done = r));
    const t0 = performance.now();
    for (let i = 0; i < count; i++) sender.send(xml("message", { to, type: "chat", id: `m${i}` }, xml("body", {}, `message number ${i} ☃`)));
    await finished;
    return count / ((performance.now() - t0) / 1000);
  };
  await burst(Math.min(2_000, N)); // warm-up
  for (let r = 0; r < ROUNDS; r++) rates.push(await burst(N));
  await Promise.all([sender.close(), receiver.close()]);
  console.log(`${label.padEnd(10)} ${rates.map((x) => `${Math.round(x).toLocaleString("en")}/s`).join("  ")}  (best of ${ROUNDS}: ${Math.round(Math.max(...rates)).toLocaleString("en")} messages/s)`);
  return rates;
}

const route = (server: { connectionsOf(bare: string): Array<{ send(s: XmlElement): void }> }) => (_c: unknown, s: XmlElement) => {
  const to = s.attr("to");
  if (s.name === "message" && to !== undefined) for (const c of server.connectionsOf(to)) c.send(s);
};

const wsServer: XmppWebSocketServer = new XmppWebSocketServer({ domains: "localhost", host: "127.0.0.1", port: 0, hooks: { ...hooks, stanza: (c, s) => route(wsServer)(c, s) } });
const tcpServer: TcpServer = new TcpServer({ domains: "localhost", host: "127.0.0.1", port: 0, starttls: "none", hooks: { ...hooks, stanza: (c, s) => route(tcpServer)(c, s) } });
const { port: wsPort } = await wsServer.listen();
const { port: tcpPort } = await tcpServer.listen();
console.log(`${N.toLocaleString("en")} one-way chat messages per round, client → server → client, loopback, Node ${process.version}`);
try {
  await run("WebSocket", (user) => new WsClient({ jid: `${user}@localhost`, password: ACCOUNTS[user]!, service: `ws://127.0.0.1:${wsPort}/xmpp-websocket`, WebSocket: WebSocket as unknown as WebSocketConstructor }));
  await run("TCP", (user) => new TcpClient({ jid: `${user}@localhost`, password: ACCOUNTS[user]!, host: "127.0.0.1", port: tcpPort!, starttls: "none" }) as unknown as Client);
} finally {
  await Promise.all([wsServer.close(), tcpServer.close()]);
}
