// One client sending as fast as it can, in its own process (so its CPU does not slow the measuring
// clients): for the fairness rows of bench/server.bench.ts. Logs in as juliet/flood over STARTTLS and sends
// chat messages to its own full JID (the server routes them back), keeping at most 256 KiB in its socket.
// IPC: args port and CA file; sends { online } when online; answers "stop" with { received } and exits.
import { readFileSync } from "node:fs";
import { XmppClient } from "@xmpp-sansio/node";
import { xml } from "@xmpp-sansio/xml";

const [port, caFile] = process.argv.slice(2);
const client = new XmppClient({
  jid: "juliet@localhost/flood",
  password: "r0m30myr0m30",
  host: "127.0.0.1",
  port: Number(port),
  tls: { ca: readFileSync(caFile!, "utf8") },
  session: { mechanisms: ["SCRAM-SHA-1"] },
});
const me = (await client.online()).toString();
let received = 0;
let sent = 0;
let running = true;
client.on("message", () => received++);
const body = "flood ".repeat(10);
const loop = () => {
  if (!running) return;
  const socket = client.socket as { writableLength: number } | undefined;
  if (socket !== undefined && socket.writableLength < 256 * 1024) {
    for (let i = 0; i < 100; i++) client.send(xml("message", { to: me, type: "chat", id: `f${sent++}` }, xml("body", {}, body)));
  }
  setImmediate(loop);
};
loop();
process.send?.({ online: true });
process.on("message", async (m: unknown) => {
  if (m !== "stop") return;
  running = false;
  process.send?.({ received, sent });
  await client.close().catch(() => {});
  process.disconnect();
  process.exit(0);
});
