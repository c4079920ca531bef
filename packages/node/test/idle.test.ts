// What an idle connection costs the server: no runtime timer per session (one scheduler per server holds
// every session's deadline), and the deadlines still fire on time — the keepalive of every idle session,
// the negotiation timeout of a silent one.
import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { XmppServer } from "../src/index.js";

const HEADER = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

/** A raw client over plain TCP that records what it reads. */
function rawClient(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  socket.setEncoding("utf8");
  socket.on("error", () => {});
  const state = { text: "", closed: false };
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  socket.on("data", (d: string) => {
    state.text += d;
    for (const w of waiters.splice(0)) {
      if (w.re.test(state.text)) w.resolve();
      else waiters.push(w);
    }
  });
  socket.on("close", () => (state.closed = true));
  const until = (re: RegExp) => new Promise<void>((resolve) => (re.test(state.text) ? resolve() : waiters.push({ re, resolve })));
  const login = async (user: string) => {
    socket.write(HEADER);
    await until(/<\/stream:features>/);
    socket.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\u0000${user}\u0000x`).toString("base64")}</auth>`);
    await until(/<success/);
    state.text = "";
    socket.write(HEADER);
    await until(/<\/stream:features>/);
    socket.write("<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>");
    await until(/id=.b1./);
    state.text = "";
  };
  return { socket, state, until, login };
}

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("XmppServer: idle sessions", () => {
  const servers: XmppServer[] = [];
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function start(keepaliveMs: number, negotiationMs = 60_000) {
    const server = new XmppServer({
      domains: "localhost",
      host: "127.0.0.1",
      port: 0,
      starttls: "none",
      session: { mechanisms: ["PLAIN"], allowPlainInClear: true, timeouts: { keepaliveMs, negotiationMs } },
      limits: { rate: { preAuth: null, authenticated: null } },
      shutdownTimeoutMs: 100,
      idleTrimMs: null,
      hooks: { verifyPassword: () => true },
    });
    servers.push(server);
    const { port } = await server.listen();
    return { server, port: port! };
  }

  it("20 online sessions hold one runtime timer between them, and each gets its keepalive on time", async () => {
    const { server, port } = await start(400);
    const before = timeouts();
    const clients = Array.from({ length: 20 }, () => rawClient(port));
    sockets.push(...clients.map((c) => c.socket));
    await Promise.all(clients.map((c, i) => c.login(`u${i}`)));
    expect(server.connections.size).toBe(20);
    // Every session has a keepalive deadline; a timer per session would show 20 more.
    expect(timeouts() - before).toBeLessThanOrEqual(1);
    const t0 = performance.now();
    await Promise.all(clients.map((c) => c.until(/^ +$/))); // RFC 6120 §4.6.1 whitespace keepalive
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThan(250);
    expect(waited).toBeLessThan(5_000);
    expect(clients.every((c) => !c.state.closed)).toBe(true);
  });

  it("a silent connection is still timed out at its negotiation deadline, the others are not", async () => {
    const { server, port } = await start(60_000, 300);
    const active = rawClient(port);
    const silent = rawClient(port);
    sockets.push(active.socket, silent.socket);
    await active.login("a");
    // The silent one sends nothing at all.
    await new Promise<void>((resolve) => silent.socket.once("close", () => resolve()));
    expect(silent.state.text).toContain("<connection-timeout");
    for (let i = 0; i < 100 && server.connections.size > 1; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.connections.size).toBe(1);
    expect(active.state.closed).toBe(false);
  });
});
