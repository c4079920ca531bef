// The connection log of `serve`: connect/close with the address, stream errors sent and received, and no
// peer-controlled text that can split a line or pass for a failed login.
import { once } from "node:events";
import { readFileSync } from "node:fs";
import * as net from "node:net";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { AccountStore } from "../src/accounts.js";
import { logConnectionEvents, logText } from "../src/cli/events.js";
import { Logger } from "../src/cli/logger.js";
import { type RunningServer, startServer } from "../src/server.js";

const HEADER = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

async function server(format: "text" | "json" = "json"): Promise<{ port: number; lines: string[]; until: (pattern: RegExp) => Promise<string> }> {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (l: string) => void }[] = [];
  const log = new Logger({
    format,
    level: "trace",
    write: (l) => {
      lines.push(l);
      for (const w of [...waiters]) if (w.pattern.test(l)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(l);
    },
  });
  running = await startServer({ domain: "localhost", accounts: new AccountStore({ iterations: 4096 }), port: 0, log: (l) => log.serverLine(l) });
  logConnectionEvents(running, log, "WebSocket ws");
  const until = (pattern: RegExp) => {
    const seen = lines.find((l) => pattern.test(l));
    return seen !== undefined ? Promise.resolve(seen) : new Promise<string>((resolve) => waiters.push({ pattern, resolve }));
  };
  return { port: running.port!, lines, until };
}

/** Opens a plain TCP stream, writes `bytes` after the header, and waits for the server to close it. */
async function talk(port: number, bytes: string): Promise<void> {
  const socket = net.connect(port, "127.0.0.1");
  socket.on("error", () => {});
  await once(socket, "connect");
  socket.write(HEADER);
  socket.write(bytes);
  socket.resume();
  await once(socket, "close");
}

describe("serve's connection log", () => {
  it("logs connect and close with the address, and a stream error we send as a warning", async () => {
    const { port, until } = await server();
    await talk(port, "<message><<</message>");
    const connect = JSON.parse(await until(/"event":"connect"/)) as Record<string, unknown>;
    expect(connect).toMatchObject({ level: "info", ip: "127.0.0.1", transport: "STARTTLS" });
    const stream = JSON.parse(await until(/"event":"stream"/)) as Record<string, unknown>;
    expect(stream).toMatchObject({ level: "warn", ip: "127.0.0.1", condition: "not-well-formed", byPeer: false, conn: connect.conn });
    expect(stream.msg).toMatch(/^connection \d+ from 127\.0\.0\.1: sent <not-well-formed\/>/);
    const close = JSON.parse(await until(/"event":"close"/)) as Record<string, unknown>;
    expect(close).toMatchObject({ ip: "127.0.0.1", conn: connect.conn });
  });

  it("logs a stream error the client sends, with its text made safe", async () => {
    const { port, until } = await server("text");
    const forged = "x\nauthentication failed for juliet from 203.0.113.9";
    await talk(port, `<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>${forged}</text></stream:error>`);
    const line = await until(/ stream {2}/);
    expect(line).toMatch(/INFO {2}stream {2}connection \d+ from 127\.0\.0\.1: received <conflict\/> text=x%0Aauthentication%20failed%20for%20juliet%20from%20203\.0\.113\.9$/);
    const doc = readFileSync(new URL("../../../docs/server.md", import.meta.url), "utf8");
    const failregex = new RegExp(/^failregex\s*=\s*(.+)$/m.exec(doc)![1]!.replace("<HOST>", "(\\S+)"));
    expect(failregex.test(line)).toBe(false);
  });
});

/** No lone surrogate (encodeURIComponent refuses those). */
function wellFormed(s: string): boolean {
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}

describe("logText", () => {
  it("property: printable ASCII without spaces, and decodes back", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 100 }), (s) => {
        const safe = logText(s, 1000);
        expect(safe).toMatch(/^[\x21-\x7e]+$/);
        expect(safe).not.toContain('"');
        if (s !== "" && wellFormed(s)) expect(decodeURIComponent(safe)).toBe(s);
      }),
      fuzz(200),
    );
  });
});
