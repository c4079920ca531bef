// Messages per second through our server, over WebSocket (this package) vs over TCP (@xmpp-sansio/node),
// same run, loopback, no TLS on either. Prints figures; asserts nothing.
//   pnpm -F @xmpp-sansio/websocket bench        (BENCH_MESSAGES=50000 to change the count, BENCH_ROUNDS=5,
//                                               BENCH_TRANSPORTS=ws or tcp for one alone, e.g. to profile it)
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import WebSocket from "ws";
import { XmppClient as TcpClient, XmppServer as TcpServer } from "@xmpp-sansio/node";
import { type WebSocketConstructor, XmppClient as WsClient } from "../src/index.js";
import { XmppWebSocketServer } from "../src/server.js";
import { ACCOUNTS, scramCredentials } from "../test/support/demo-server.js";

const N = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

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

/** Logs a pair in and returns a burst: `count` messages sender → server → receiver, messages/s. */
async function pair(make: (user: string) => Client): Promise<{ burst(count: number): Promise<number>; close(): Promise<void> }> {
  const sender = make("juliet");
  const receiver = make("romeo");
  const [, rj] = await Promise.all([sender.online(), receiver.online()]);
  const to = rj.toString();
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
  return { burst, close: async () => void (await Promise.all([sender.close(), receiver.close()])) };
}

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
console.log(`${N.toLocaleString("en")} one-way chat messages per round, client → server → client, loopback, Node ${process.version}`);
try {
  const only = (process.env.BENCH_TRANSPORTS ?? "ws,tcp").split(",");
  const runs: Array<[string, Awaited<ReturnType<typeof pair>>]> = [];
  if (only.includes("ws")) runs.push(["WebSocket", await pair((user) => new WsClient({ jid: `${user}@localhost`, password: ACCOUNTS[user]!, service: `ws://127.0.0.1:${wsPort}/xmpp-websocket`, WebSocket: WebSocket as unknown as WebSocketConstructor }))]);
  if (only.includes("tcp")) runs.push(["TCP", await pair((user) => new TcpClient({ jid: `${user}@localhost`, password: ACCOUNTS[user]!, host: "127.0.0.1", port: tcpPort!, starttls: "none" }) as unknown as Client)]);
  // Rounds alternate between the transports, so that a noisy neighbour on a shared machine hits both alike.
  const rates = new Map<string, number[]>(runs.map(([label]) => [label, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [label, p] of runs) rates.get(label)!.push(await p.burst(N));
  for (const [label, p] of runs) {
    await p.close();
    const rs = rates.get(label)!;
    console.log(`${label.padEnd(10)} ${rs.map((x) => `${Math.round(x).toLocaleString("en")}/s`).join("  ")}  (best of ${ROUNDS}: ${Math.round(Math.max(...rs)).toLocaleString("en")} messages/s)`);
  }
  const [ws, tcp] = [rates.get("WebSocket"), rates.get("TCP")];
  if (ws !== undefined && tcp !== undefined) console.log(`WebSocket / TCP (best of ${ROUNDS} each): ${(Math.max(...ws) / Math.max(...tcp)).toFixed(2)}×`);
} finally {
  await Promise.all([wsServer.close(), tcpServer.close()]);
}
