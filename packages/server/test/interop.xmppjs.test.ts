// xmpp.js (@xmpp/client 0.14, a widely used JS client) against our demo server, on loopback: over
// xmpp:// (STARTTLS), xmpps:// (Direct TLS, XEP-0368), ws:// and wss:// (RFC 7395). xmpp.js runs in a
// child process (see support/xmppjs-client.mjs): it trusts our generated certificate through
// NODE_EXTRA_CA_CERTS and gets Node 20's global WebSocket from --experimental-websocket.
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { XmppClient } from "@xmpp-sansio/node";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { generateSelfSignedCertificate } from "../src/certificate.js";
import { type RunningServer, startServer } from "../src/server.js";

const DOMAIN = "localhost";
const SCRIPT = fileURLToPath(new URL("./support/xmppjs-client.mjs", import.meta.url));

type Report =
  | { event: "online"; jid: string }
  | { event: "pong"; type: string }
  | { event: "message"; from: string; body: string }
  | { event: "offline" }
  | { event: "error"; message: string };

/** A forked xmpp.js client: its reports in order, and its exit code. */
class XmppJs {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private readonly queue: Report[] = [];
  private waiter: ((r: Report) => void) | undefined;
  private stderr = "";

  constructor(config: Record<string, string>, caFile: string | undefined) {
    const env: NodeJS.ProcessEnv = { ...process.env, XMPPJS_CONFIG: JSON.stringify(config) };
    if (caFile === undefined) delete env.NODE_EXTRA_CA_CERTS;
    else env.NODE_EXTRA_CA_CERTS = caFile;
    this.child = fork(SCRIPT, [], {
      execArgv: ["--experimental-websocket", "--no-warnings"],
      env,
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    this.child.stderr?.on("data", (b: Buffer) => (this.stderr += b.toString()));
    this.child.on("message", (r: Report) => {
      const w = this.waiter;
      this.waiter = undefined;
      if (w) w(r);
      else this.queue.push(r);
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  /** The next report; an `error` report or an early exit fails the test with the child's output. */
  async next(): Promise<Report> {
    const r =
      this.queue.shift() ??
      (await Promise.race([
        new Promise<Report>((resolve) => (this.waiter = resolve)),
        this.exited.then((code) => ({ event: "error", message: `xmpp.js exited with ${code} before reporting` }) as Report),
      ]));
    if (r.event === "error") throw new Error(`xmpp.js: ${r.message}\n${this.stderr}`);
    return r;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }
}

const accounts = new AccountStore();
accounts.add("juliet", "r0m30myr0m30");
accounts.add("romeo", "j0liet");

describe("xmpp.js 0.14 as a client of our demo server", () => {
  let running: RunningServer;
  let wss: RunningServer;
  let dir: string;
  let caFile: string;
  const log: string[] = [];
  const logWaiters: Array<{ test: (l: string) => boolean; resolve: (l: string) => void }> = [];
  const onLog = (line: string) => {
    log.push(line);
    for (const w of [...logWaiters]) {
      if (w.test(line)) {
        logWaiters.splice(logWaiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  /** Resolves with the first log line (past or future) that matches. */
  const logLine = (test: (l: string) => boolean) =>
    new Promise<string>((resolve) => {
      const seen = log.find(test);
      if (seen !== undefined) resolve(seen);
      else logWaiters.push({ test, resolve });
    });

  beforeAll(async () => {
    const tls = generateSelfSignedCertificate({ dnsNames: [DOMAIN] });
    running = await startServer({ domain: DOMAIN, accounts, tls, port: 0, directTlsPort: 0, websocket: { port: 0 }, log: onLog });
    // wss: on a second instance with the same certificate (one server has one WebSocket listener).
    wss = await startServer({ domain: DOMAIN, accounts, tls, port: 0, websocket: { port: 0, tls: true }, log: onLog });
    dir = mkdtempSync(join(tmpdir(), "xmpp-sansio-xmppjs-"));
    caFile = join(dir, "ca.pem");
    writeFileSync(caFile, running.certificate);
  });
  afterAll(async () => {
    await Promise.all([running?.close(), wss?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const exchange = (name: string, server: () => RunningServer, service: () => string, transport: RegExp) => {
    it(`${name}: SASL2 SCRAM-SHA-1 + Bind2, ping, a message to our XmppClient and its reply, clean close`, async () => {
      const romeo = new XmppClient({ jid: `romeo@${DOMAIN}/orchard`, password: "j0liet", host: "127.0.0.1", port: server().port!, tls: { ca: server().certificate } });
      // Our client answers whatever it gets.
      romeo.on("message", (m: XmlElement) => {
        const from = m.attr("from");
        if (from !== undefined && m.attr("type") !== "error") {
          romeo.send(xml("message", { to: from, type: "chat" }, xml("body", {}, `re: ${m.getChildText("body")}`)));
        }
      });
      const romeoJid = (await romeo.online()).toString();
      const romeoGot = new Promise<XmlElement>((resolve) => romeo.once("message", resolve));
      const body = `Art thou not Romeo, and a Montague? (${name})`;
      const xmppjs = new XmppJs({ service: service(), domain: DOMAIN, username: "juliet", password: "r0m30myr0m30", resource: `xmppjs-${name}`, peer: romeoJid, body }, caFile);
      try {
        const online = await xmppjs.next();
        // SASL2 + Bind2 (XEP-0386 §2.3): the server picks the resource, from xmpp.js's tag (its
        // `resource` option) and a hash of its <user-agent id/> (a random UUID per xmpp.js instance).
        expect(online).toEqual({ event: "online", jid: expect.stringMatching(new RegExp(`^juliet@${DOMAIN}/xmppjs-${name}\\.[A-Za-z0-9_-]{8}$`)) });
        const julietJid = (online as { jid: string }).jid;
        const onlineLine = await logLine((l) => l.startsWith(`online  ${julietJid} `));
        expect(onlineLine).toMatch(transport);
        expect(await xmppjs.next()).toEqual({ event: "pong", type: "result" });
        const got = await romeoGot;
        expect(got.getChildText("body")).toBe(body);
        expect(got.attr("from")).toBe(julietJid);
        expect(await xmppjs.next()).toEqual({ event: "message", from: romeoJid, body: `re: ${body}` });
        expect(await xmppjs.next()).toEqual({ event: "offline" });
        await logLine((l) => l === `offline ${julietJid}`);
        expect(await xmppjs.exited).toBe(0);
      } finally {
        xmppjs.kill();
        await romeo.close();
      }
    });
  };

  exchange("starttls", () => running, () => `xmpp://127.0.0.1:${running.port}`, /\(STARTTLS, SCRAM-SHA-1\)$/);
  exchange("direct-tls", () => running, () => `xmpps://127.0.0.1:${running.directTlsPort}`, /\(direct TLS, SCRAM-SHA-1\)$/);
  exchange("ws", () => running, () => running.websocketUrl!, /\(WebSocket ws, SCRAM-SHA-1\)$/);
  exchange("wss", () => wss, () => `wss://localhost:${wss.websocketPort}/xmpp-websocket`, /\(WebSocket wss, SCRAM-SHA-1\)$/);

  it("xmpp.js that does not trust our certificate fails the STARTTLS handshake (verification is on)", async () => {
    const xmppjs = new XmppJs({ service: `xmpp://127.0.0.1:${running.port}`, domain: DOMAIN, username: "juliet", password: "r0m30myr0m30", resource: "untrusting", peer: "", body: "" }, undefined);
    try {
      await expect(xmppjs.next()).rejects.toThrow(/self[- ]signed|certificate/i);
      expect(await xmppjs.exited).toBe(1);
      expect(log.some((l) => l.includes("/untrusting"))).toBe(false);
    } finally {
      xmppjs.kill();
    }
  });
});
