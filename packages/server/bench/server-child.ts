// The demo server in its own process for bench/server.bench.ts, so that its memory can be measured
// alone. IPC: sends { ready, port, certificate }; answers "memory" with process.memoryUsage() after a full
// GC (run with --expose-gc); "stop" closes the server and exits.
import { AccountStore } from "../src/accounts.js";
import { startServer } from "../src/server.js";

const iterations = Number(process.env.BENCH_ITERATIONS ?? 10_000);
const accounts = new AccountStore({ iterations, hashes: ["SHA-1", "SHA-256", "SHA-512"] });
accounts.add("juliet", "r0m30myr0m30");
accounts.add("romeo", "j0liet");
const running = await startServer({ domain: "localhost", accounts, port: 0 });
const gc = (globalThis as { gc?: () => void }).gc;

process.on("message", async (message: unknown) => {
  if (message === "memory") {
    gc?.();
    gc?.();
    process.send?.({ memory: process.memoryUsage(), connections: running.server.connections.size });
  } else if (message === "stop") {
    await running.close();
    process.disconnect();
    process.exit(0);
  }
});
process.send?.({ ready: true, port: running.port, certificate: running.certificate, gc: gc !== undefined });
