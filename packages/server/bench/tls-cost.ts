// Server CPU per bare TLS 1.3 handshake in Node, as the server does STARTTLS (a plain socket accepted, wrapped
// in a TLSSocket with the shared SecureContext, handshake, close), EC P-256 certificate, 20 concurrent, with
// the session tickets Node sends by default and with SSL_OP_NO_TICKET: the floor under a login.
//   node --import tsx bench/tls-cost.ts     Prints figures; asserts nothing.
import { fork } from "node:child_process";
import net from "node:net";
import tls from "node:tls";
import { constants } from "node:crypto";
import { generateSelfSignedCertificate } from "../src/certificate.js";
if (process.argv[2] === "child") {
  const pair = JSON.parse(process.argv[3]!);
  const noTicket = process.argv[4] === "1";
  const ctx = tls.createSecureContext({ cert: pair.cert, key: pair.key, ...(noTicket ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}) });
  const server = net.createServer((plain) => {
    const s = new tls.TLSSocket(plain, { isServer: true, secureContext: ctx });
    s.on("secure", () => s.end());
    s.on("error", () => {});
  });
  server.listen(0, "127.0.0.1", () => process.send!({ port: (server.address() as net.AddressInfo).port }));
  process.on("message", (m) => { if (m === "cpu") process.send!({ cpu: process.cpuUsage() }); else process.exit(0); });
} else {
  const pair = generateSelfSignedCertificate({ dnsNames: ["localhost"] });
  const ca = tls.createSecureContext({ ca: pair.cert });
  for (const noTicket of ["0", "1", "0", "1"]) {
    const child = fork(new URL(import.meta.url).pathname, ["child", JSON.stringify(pair), noTicket], { execArgv: ["--import", "tsx"] });
    const msg = () => new Promise<any>((r) => child.once("message", r));
    const { port } = await msg();
    const one = () => new Promise<void>((resolve) => {
      const c = tls.connect({ port, host: "127.0.0.1", servername: "localhost", secureContext: ca });
      c.on("error", () => resolve()); c.on("close", () => resolve()); c.resume();
    });
    const run = async (n: number) => { let next = 0; await Promise.all(Array.from({ length: 20 }, async () => { while (next++ < n) await one(); })); };
    await run(1000);
    child.send("cpu"); const a = (await msg()).cpu;
    await run(2000);
    child.send("cpu"); const b = (await msg()).cpu;
    console.log(`tickets ${noTicket === "1" ? "off" : "on "}: server ${(((b.user + b.system) - (a.user + a.system)) / 2000).toFixed(0)} µs CPU per handshake`);
    child.send("stop");
  }
}
