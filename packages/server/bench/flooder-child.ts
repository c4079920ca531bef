// One client sending as fast as it can, in its own process (so its CPU does not slow the measuring
// clients): for the fairness rows of bench/server.bench.ts. Logs in as juliet/flood over STARTTLS and sends
// messages to the server's domain (parsed, stamped and routed, then ignored: RFC 6120 §10.5.1 — the flood
// costs the server input work and sends the flooder nothing to read back), more whenever its socket holds
// less than 16 KiB. IPC: args port and CA file; sends { online } when online; "pause" stops sending and
// answers { paused } once the socket has nothing left to write, "flood" starts again (it floods from the
// start); answers "stop" with { sent, perMessage } (messages handed to the client; the size of one) and exits.
import { readFileSync } from "node:fs";
import { XmppClient } from "@xmpp-sansio/node";
import { toXmlString, xml } from "@xmpp-sansio/xml";

const [port, caFile] = process.argv.slice(2);
const client = new XmppClient({
  jid: "juliet@localhost/flood",
  password: "r0m30myr0m30",
  host: "127.0.0.1",
  port: Number(port),
  tls: { ca: readFileSync(caFile!, "utf8") },
  session: { mechanisms: ["SCRAM-SHA-1"] },
  sm: false,
});
await client.online();
let received = 0;
let sent = 0;
let running = true;
let flooding = true;
client.on("message", () => received++);
const body = "flood ".repeat(10);
let looping = false;
const loop = () => {
  looping = false;
  if (!running || !flooding || !client.isOnline) return;
  looping = true;
  const socket = client.socket as (NodeJS.EventEmitter & { writableLength: number }) | undefined;
  if (socket === undefined) {
    looping = false;
    return;
  }
  // Blocked (the server paused reading us): wait for 'drain' instead of spinning, so this process does not
  // take the CPU the server and the measuring clients need.
  if (socket.writableLength >= 16 * 1024) {
    socket.once("drain", () => setImmediate(loop));
    return;
  }
  for (let i = 0; i < 100; i++) client.send(xml("message", { to: "localhost", type: "chat", id: `f${sent++}` }, xml("body", {}, body)));
  setImmediate(loop);
};
loop();
process.on("disconnect", () => process.exit(0)); // the bench died: do not outlive it
process.send?.({ online: true });
process.on("message", async (m: unknown) => {
  if (m === "pause") {
    flooding = false;
    // Answer once what was sent has left (the server may still be reading its socket buffer).
    const socket = client.socket as { writableLength: number } | undefined;
    const check = () => {
      if (socket === undefined || socket.writableLength === 0 || !client.isOnline) process.send?.({ paused: true });
      else setTimeout(check, 10);
    };
    check();
    return;
  }
  if (m === "flood") {
    flooding = true;
    if (!looping) loop();
    return;
  }
  if (m !== "stop") return;
  running = false;
  process.send?.({ received, sent, perMessage: Buffer.byteLength(toXmlString(xml("message", { to: "localhost", type: "chat", id: `f${sent}` }, xml("body", {}, body)))) });
  await client.close().catch(() => {});
  process.disconnect();
  process.exit(0);
});
