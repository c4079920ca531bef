// The server side of bench/idle.bench.ts, in its own process so that its memory is the server's alone.
// argv: mode (tls | tls-starttls | tcp | xmpp-tls | xmpp-direct | xmpp-tcp), host, directory for heap snapshots. IPC: sends { ready, port, cert };
// answers "memory" with process.memoryUsage() after two full GCs (run with --expose-gc), "snapshot" with
// { snapshot: path } (v8.writeHeapSnapshot after a GC), "stop" by closing everything and exiting.
//
// tls / tcp: the bare floor — a tls.Server / net.Server that does nothing but echo what it reads (for the
// burst); tls-starttls: a net.Server wrapping each socket in a TLSSocket (the floor of STARTTLS). xmpp-*: XmppServer of @xmpp-sansio/node (PLAIN, any password; a stanza addressed to an online
// full JID is delivered to it, so a client's message to itself goes in and comes back out).
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";
import { XmppServer } from "@xmpp-sansio/node";
import { generateSelfSignedCertificate } from "../src/certificate.js";

const [mode = "tls", host = "127.0.0.1", snapshotDir = tmpdir()] = process.argv.slice(2);
const pair = generateSelfSignedCertificate({ dnsNames: ["localhost"] });
// Idle connections release their output buffers after one to two of these periods (the default is 10 s).
const IDLE_TRIM_MS = Number(process.env.BENCH_IDLE_TRIM_MS ?? 500);
const gc = (globalThis as { gc?: () => void }).gc;
const sockets = new Set<net.Socket>();
const track = (s: net.Socket) => {
  sockets.add(s);
  s.on("error", () => {});
  s.on("close", () => sockets.delete(s));
  s.on("data", (d) => s.write(d)); // echo: the burst of the bare rows
};

let close: () => Promise<void>;
let port: number;
let connections: () => number;
if (mode === "tls" || mode === "tcp" || mode === "tls-starttls") {
  // tls-starttls: TLS over an accepted plain socket (`new TLSSocket(socket)`), as STARTTLS does — the
  // fair floor of xmpp-tls, which pays for the wrapped net.Socket too.
  const context = tls.createSecureContext({ key: pair.key, cert: pair.cert });
  const wrap = (s: net.Socket) => track(new tls.TLSSocket(s, { isServer: true, secureContext: context }));
  const server =
    mode === "tls" ? tls.createServer({ key: pair.key, cert: pair.cert }, track) : net.createServer(mode === "tcp" ? track : wrap);
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, host, r));
  port = (server.address() as net.AddressInfo).port;
  connections = () => sockets.size;
  close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  };
} else {
  const direct = mode === "xmpp-direct";
  const server: XmppServer = new XmppServer({
    domains: "localhost",
    tls: { key: pair.key, cert: pair.cert },
    host,
    ...(direct ? { port: null, directTlsPort: 0 } : { port: 0 }),
    starttls: mode === "xmpp-tcp" ? "none" : "required",
    session: { mechanisms: ["PLAIN"], allowPlainInClear: true },
    limits: { rate: { preAuth: null, authenticated: null }, address: { maxConnectionsPerIp: null, maxLoginAttemptsPerIp: null } },
    shutdownTimeoutMs: 100,
    idleTrimMs: IDLE_TRIM_MS,
    hooks: {
      verifyPassword: () => true,
      stanza: (_conn, stanza) => {
        const to = stanza.attr("to");
        if (to !== undefined) server.connectionFor(to)?.send(stanza);
      },
    },
  });
  const a = await server.listen();
  port = (direct ? a.directTlsPort : a.port)!;
  connections = () => server.connections.size;
  close = () => server.close();
}

process.on("message", async (message: unknown) => {
  if (message === "memory") {
    gc?.();
    gc?.();
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
    process.send?.({ memory: process.memoryUsage(), connections: connections(), spaces });
  } else if (message === "snapshot") {
    gc?.();
    process.send?.({ snapshot: writeHeapSnapshot(join(snapshotDir, `${mode}-${Date.now()}.heapsnapshot`)) });
  } else if (message === "stop") {
    await close();
    process.disconnect();
    process.exit(0);
  }
});
process.on("disconnect", () => process.exit(0));
process.send?.({ ready: true, port, cert: pair.ca ?? pair.cert, gc: gc !== undefined });
