import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { XmppClient as TcpClient } from "@xmpp-sansio/node";
import { XmppClient as WsClient } from "@xmpp-sansio/websocket";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { type RunningServer, startServer } from "../src/server.js";
import { WebSocket, webSocketTrusting } from "./support/ws.js";

const DOMAIN = "localhost";
const accounts = new AccountStore();
accounts.add("juliet", "r0m30myr0m30");
accounts.add("romeo", "j0liet");

const nextMessage = (client: { once(event: "message", fn: (m: XmlElement) => void): unknown }) =>
  new Promise<XmlElement>((resolve) => client.once("message", resolve));
const chat = (to: string, body: string) => xml("message", { to, type: "chat" }, xml("body", {}, body));

describe("startServer({ websocket }): one router for TCP and WebSocket clients", () => {
  let running: RunningServer;
  const log: string[] = [];
  beforeAll(async () => {
    running = await startServer({ domain: DOMAIN, accounts, port: 0, websocket: { port: 0 }, log: (l) => log.push(l) });
  });
  afterAll(() => running.close());

  it("a TCP client (STARTTLS) and a ws: client exchange messages both ways", async () => {
    expect(running.websocketUrl).toBe(`ws://127.0.0.1:${running.websocketPort}/xmpp-websocket`);
    const juliet = new TcpClient({ jid: `juliet@${DOMAIN}/balcony`, password: "r0m30myr0m30", host: "127.0.0.1", port: running.port!, tls: { ca: running.certificate } });
    const romeo = new WsClient({ jid: `romeo@${DOMAIN}/orchard`, password: "j0liet", service: running.websocketUrl!, WebSocket });
    try {
      const [j, r] = await Promise.all([juliet.online(), romeo.online()]);
      const romeoGot = nextMessage(romeo);
      juliet.send(chat(r.toString(), "Art thou not Romeo, and a Montague?"));
      const m1 = await romeoGot;
      expect(m1.getChildText("body")).toBe("Art thou not Romeo, and a Montague?");
      expect(m1.attr("from")).toBe(j.toString());
      const julietGot = nextMessage(juliet);
      romeo.send(chat(j.toString(), "Neither, fair saint, if either thee dislike."));
      const m2 = await julietGot;
      expect(m2.getChildText("body")).toBe("Neither, fair saint, if either thee dislike.");
      expect(m2.attr("from")).toBe(r.toString());
      // ws: has no TLS, so the core offers SCRAM but never PLAIN; the server logs the mechanism used.
      expect(log.find((l) => l.startsWith(`online  ${r}`))).toMatch(/\(WebSocket ws, SCRAM-SHA-512\)$/);
      expect(log.find((l) => l.startsWith(`online  ${j}`))).toMatch(/\(STARTTLS, SCRAM-SHA-512-PLUS\)$/);
    } finally {
      await Promise.all([juliet.close(), romeo.close()]);
    }
  });

  it("a resource bound over TCP is in use for a WebSocket bind too (assign-new across transports, RFC 6120 §7.7.2.2)", async () => {
    const tcp = new TcpClient({ jid: `juliet@${DOMAIN}/phone`, password: "r0m30myr0m30", host: "127.0.0.1", port: running.port!, tls: { ca: running.certificate } });
    const ws = new WsClient({ jid: `juliet@${DOMAIN}/phone`, password: "r0m30myr0m30", service: running.websocketUrl!, WebSocket });
    const tcp2 = new TcpClient({ jid: `juliet@${DOMAIN}/phone`, password: "r0m30myr0m30", host: "127.0.0.1", port: running.port!, tls: { ca: running.certificate } });
    try {
      const first = await tcp.online();
      expect(first.resource).toBe("phone");
      const second = await ws.online();
      expect(second.resource).not.toBe("phone");
      expect(second.resource.startsWith("phone.")).toBe(true);
      const third = await tcp2.online();
      expect(new Set([first.resource, second.resource, third.resource]).size).toBe(3);
      // each full JID reaches its own session
      const got = nextMessage(ws);
      tcp.send(chat(second.toString(), "to the WebSocket one"));
      expect((await got).getChildText("body")).toBe("to the WebSocket one");
      expect(tcp.isOnline && ws.isOnline && tcp2.isOnline).toBe(true);
    } finally {
      await Promise.all([tcp.close(), ws.close(), tcp2.close()]);
    }
  });

  it("server-side routing answers for WebSocket clients too (ping, <service-unavailable/>)", async () => {
    const romeo = new WsClient({ jid: `romeo@${DOMAIN}`, password: "j0liet", service: running.websocketUrl!, WebSocket });
    try {
      await romeo.online();
      const pong = await romeo.iq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
      expect(pong.attr("type")).toBe("result");
      const bounced = nextMessage(romeo);
      romeo.send(chat(`juliet@${DOMAIN}`, "anyone?"));
      const error = await bounced;
      expect(error.attr("type")).toBe("error");
      expect(error.getChild("error")?.getChild("service-unavailable", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeDefined();
    } finally {
      await romeo.close();
    }
  });
});

describe("startServer({ websocket: { tls: true } })", () => {
  it("serves wss: with the server's certificate (verified by the client) and routes to TCP clients", async () => {
    const running = await startServer({ domain: DOMAIN, accounts, port: 0, websocket: { port: 0, path: "/ws", tls: true } });
    const juliet = new TcpClient({ jid: `juliet@${DOMAIN}/balcony`, password: "r0m30myr0m30", host: "127.0.0.1", port: running.port!, tls: { ca: running.certificate } });
    const url = `wss://localhost:${running.websocketPort}/ws`;
    const romeo = new WsClient({ jid: `romeo@${DOMAIN}/orchard`, password: "j0liet", service: url, WebSocket: webSocketTrusting(running.certificate) });
    try {
      expect(running.websocketUrl).toBe(`wss://127.0.0.1:${running.websocketPort}/ws`);
      const [j] = await Promise.all([juliet.online(), romeo.online()]);
      const julietGot = nextMessage(juliet);
      romeo.send(chat(j.toString(), "over wss"));
      expect((await julietGot).getChildText("body")).toBe("over wss");
    } finally {
      await Promise.all([juliet.close(), romeo.close()]);
      await running.close();
    }
  });

  it("refuses a wss: client that does not trust the certificate", async () => {
    const running = await startServer({ domain: DOMAIN, accounts, port: 0, websocket: { port: 0, tls: true } });
    const romeo = new WsClient({ jid: `romeo@${DOMAIN}`, password: "j0liet", service: `wss://localhost:${running.websocketPort}/xmpp-websocket`, WebSocket });
    try {
      await expect(romeo.online()).rejects.toThrow();
    } finally {
      await romeo.close();
      await running.close();
    }
  });
});

describe("CLI: serve --websocket-port", () => {
  it("prints the ws: URL and routes a WebSocket client; SIGTERM shuts down cleanly", async () => {
    const data = mkdtempSync(join(tmpdir(), "xmpp-sansio-serve-"));
    const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", main, "serve", "--port", "0", "--websocket-port", "0", "--data", data], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const lines = createInterface({ input: child.stdout! });
      let url: string | undefined;
      for await (const line of lines) {
        const found = /, (ws:\/\/\S+);/.exec(line);
        if (found) {
          url = found[1];
          break;
        }
      }
      expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/xmpp-websocket$/);
      const romeo = new WsClient({ jid: `romeo@${DOMAIN}`, password: "j0liet", service: url!, WebSocket });
      const me = await romeo.online();
      expect(me.bare.toString()).toBe(`romeo@${DOMAIN}`);
      const closed = new Promise((resolve) => romeo.once("close", resolve));
      child.kill("SIGTERM"); // <system-shutdown/> to every client
      await closed;
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(data, { recursive: true, force: true });
    }
  });
});
