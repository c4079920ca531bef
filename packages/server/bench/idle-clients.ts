// The client side of bench/idle.bench.ts, in its own process so that its memory does not count.
// argv: mode, host, port, CA file, count. Opens `count` connections (bare TLS / TCP sockets, or
// XmppClients online with PLAIN as u<i>@localhost/r), then sends { ready, seconds }. "burst": every
// connection sends BENCH_BURST_STANZAS (2) messages of BENCH_BURST_BYTES (8 KiB) to itself through the
// server (the bare rows: as many bytes, echoed), answers { burst: seconds } when all came back. "stop":
// closes everything and exits.
import { readFileSync } from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import { XmppClient } from "@xmpp-sansio/node";
import { xml } from "@xmpp-sansio/xml";

const [mode = "tls", host = "127.0.0.1", portText = "0", caFile = "", countText = "0"] = process.argv.slice(2);
const port = Number(portText);
const count = Number(countText);
const ca = readFileSync(caFile, "utf8");
const STANZAS = Number(process.env.BENCH_BURST_STANZAS ?? 2);
const BYTES = Number(process.env.BENCH_BURST_BYTES ?? 8 * 1024);
const CONCURRENCY = 64;

interface Peer {
  burst(): Promise<void>;
  close(): void;
}

async function bare(): Promise<Peer> {
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const s: net.Socket =
      mode === "tls"
        ? tls.connect({ host, port, ca, servername: "localhost" }, () => resolve(s))
        : mode === "tls-starttls"
          ? tls.connect({ socket: net.connect({ host, port }), ca, servername: "localhost" }, () => resolve(s))
          : net.connect({ host, port }, () => resolve(s));
    s.once("error", reject);
  });
  socket.on("error", () => {});
  return {
    burst: () =>
      new Promise<void>((resolve) => {
        const total = STANZAS * BYTES;
        let got = 0;
        const onData = (d: Buffer) => {
          got += d.length;
          if (got >= total) {
            socket.off("data", onData);
            resolve();
          }
        };
        socket.on("data", onData);
        for (let i = 0; i < STANZAS; i++) socket.write(Buffer.alloc(BYTES, 0x61));
      }),
    close: () => socket.destroy(),
  };
}

async function xmpp(i: number): Promise<Peer> {
  const client = new XmppClient({
    jid: `u${i}@localhost/r`,
    password: "x",
    host,
    port,
    tls: { ca },
    connectTimeoutMs: 120_000, // 10 000 TLS logins on a loaded machine: the accept queue can be slow
    ...(mode === "xmpp-direct" ? { directTls: true } : {}),
    ...(mode === "xmpp-tcp" ? { starttls: "none" as const } : {}),
    session: { mechanisms: ["PLAIN"], allowPlainInClear: true },
  });
  const jid = String(await client.online());
  const body = "b".repeat(BYTES);
  return {
    burst: () =>
      new Promise<void>((resolve) => {
        let got = 0;
        const onMessage = () => {
          if (++got === STANZAS) {
            client.off("message", onMessage);
            resolve();
          }
        };
        client.on("message", onMessage);
        for (let k = 0; k < STANZAS; k++) client.send(xml("message", { to: jid, type: "chat" }, xml("body", {}, body)));
      }),
    close: () => void client.close().catch(() => {}),
  };
}

const peers: Peer[] = [];
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const i = next++;
      peers.push(mode.startsWith("xmpp") ? await xmpp(i) : await bare());
    }
  }),
);
process.send?.({ ready: true, seconds: (performance.now() - t0) / 1000 });

process.on("message", async (message: unknown) => {
  if (message === "burst") {
    const t = performance.now();
    // In waves, so that the burst measures what sessions keep, not one giant simultaneous queue.
    for (let k = 0; k < peers.length; k += 500) await Promise.all(peers.slice(k, k + 500).map((p) => p.burst()));
    process.send?.({ burst: (performance.now() - t) / 1000 });
  } else if (message === "stop") {
    for (const p of peers) p.close();
    setTimeout(() => process.exit(0), 500);
  }
});
process.on("disconnect", () => process.exit(0));
