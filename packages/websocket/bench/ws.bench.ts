// Messages per second through our server, over WebSocket (this package) vs over TCP (@xmpp-sansio/node),
// same run, loopback, no TLS on either, our client library on both (each corks its writes per turn of the
// event loop, as both servers do), the same stanzas. Clients and servers share this process, so its CPU
// time per message (user + system) is the whole cost of a message both ways; on a shared machine that is
// steadier than wall-clock messages/s, and the ratio printed first is the median of the per-round ratios
// of CPU per message (TCP / WebSocket: 1.00× means equal throughput per core). Prints figures; asserts nothing.
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

interface Burst {
  /** messages/s, wall clock */
  rate: number;
  /** µs of this process's CPU per message */
  cpu: number;
}

/** Logs a pair in and returns a burst: `count` messages sender → server → receiver. */
async function pair(make: (user: string) => Client): Promise<{ burst(count: number): Promise<Burst>; close(): Promise<void> }> {
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
  const burst = async (count: number): Promise<Burst> => {
    received = 0;
    target = count;
    const finished = new Promise<void>((r) => (done = r));
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    for (let i = 0; i < count; i++) sender.send(xml("message", { to, type: "chat", id: `m${i}` }, xml("body", {}, `message number ${i} ☃`)));
    await finished;
    const c = process.cpuUsage(c0);
    return { rate: count / ((performance.now() - t0) / 1000), cpu: (c.user + c.system) / count };
  };
  await burst(Math.min(2_000, N)); // warm-up
  return { burst, close: async () => void (await Promise.all([sender.close(), receiver.close()])) };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
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
  const bursts = new Map<string, Burst[]>(runs.map(([label]) => [label, []]));
  for (let r = 0; r < ROUNDS; r++) for (const [label, p] of runs) bursts.get(label)!.push(await p.burst(N));
  for (const [label, p] of runs) {
    await p.close();
    const bs = bursts.get(label)!;
    const best = Math.max(...bs.map((b) => b.rate));
    console.log(`${label.padEnd(10)} ${bs.map((b) => `${Math.round(b.rate).toLocaleString("en")}/s`).join("  ")}  (best of ${ROUNDS}: ${Math.round(best).toLocaleString("en")} messages/s)`);
    console.log(`${"".padEnd(10)} ${bs.map((b) => `${b.cpu.toFixed(1)} µs`).join("  ")}  CPU per message (median ${median(bs.map((b) => b.cpu)).toFixed(1)} µs)`);
  }
  const [ws, tcp] = [bursts.get("WebSocket"), bursts.get("TCP")];
  if (ws !== undefined && tcp !== undefined) {
    const cpuRatios = ws.map((w, i) => tcp[i]!.cpu / w.cpu);
    console.log(`WebSocket / TCP, CPU per message (median of ${ROUNDS} round ratios): ${median(cpuRatios).toFixed(2)}×  [${cpuRatios.map((x) => x.toFixed(2)).join(" ")}]`);
    console.log(`WebSocket / TCP, messages/s (best of ${ROUNDS} each): ${(Math.max(...ws.map((b) => b.rate)) / Math.max(...tcp.map((b) => b.rate))).toFixed(2)}×`);
  }
} finally {
  await Promise.all([wsServer.close(), tcpServer.close()]);
}
