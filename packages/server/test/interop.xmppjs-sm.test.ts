// xmpp.js 0.14's XEP-0198 client (@xmpp/stream-management, part of @xmpp/client) against our server on
// loopback (STARTTLS, SCRAM-SHA-1): it enables SM, its stanzas are acknowledged, its socket is destroyed,
// and it resumes — getting the message that was held for it while it was away, and nothing twice. Our
// server offers SASL2 by default, so xmpp.js enables SM inline in Bind2 and resumes inline in
// <authenticate/> (XEP-0388/XEP-0386/XEP-0198 inline).
// xmpp.js runs in a child process (support/xmppjs-sm.mjs); every wait is on a report or a log line.
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { XmppClient } from "@xmpp-sansio/node";
import { xml } from "@xmpp-sansio/xml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { generateSelfSignedCertificate } from "../src/certificate.js";
import { type RunningServer, startServer } from "../src/server.js";
import { Inbox } from "./support/raw.js";

const DOMAIN = "localhost";
const SCRIPT = fileURLToPath(new URL("./support/xmppjs-sm.mjs", import.meta.url));

type Report = { event: string; [k: string]: unknown };

/** A forked xmpp.js client: commands in, reports out (waited for by kind, in order). */
class XmppJsSm {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly reports: Report[] = [];
  private readonly pending: Report[] = [];
  private waiter: { event: string; resolve: (r: Report) => void } | undefined;
  private stderr = "";

  constructor(config: Record<string, string>, caFile: string) {
    this.child = fork(SCRIPT, [], {
      execArgv: ["--no-warnings"],
      env: { ...process.env, XMPPJS_CONFIG: JSON.stringify(config), NODE_EXTRA_CA_CERTS: caFile },
      stdio: ["ignore", "inherit", "pipe", "ipc"],
    });
    this.child.stderr?.on("data", (b: Buffer) => (this.stderr += b.toString()));
    this.child.on("message", (r: Report) => {
      this.reports.push(r);
      this.pending.push(r);
      this.deliver();
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
  }

  command(m: Record<string, string>): void {
    this.child.send(m);
  }

  /** The next not-yet-taken report of this kind; an `error` report or an early exit fails the test. */
  async next(event: string): Promise<Report> {
    const found = this.take(event);
    if (found !== undefined) return found;
    const r = await Promise.race([
      new Promise<Report>((resolve) => (this.waiter = { event, resolve })),
      this.exited.then((code) => ({ event: "error", message: `xmpp.js exited with ${code} while we waited for ${event}` })),
    ]);
    if (r.event === "error") throw new Error(`xmpp.js: ${String(r.message)}\n${this.stderr}`);
    return r;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  private take(event: string): Report | undefined {
    const i = this.pending.findIndex((r) => r.event === event || r.event === "error");
    if (i < 0) return undefined;
    const [r] = this.pending.splice(i, 1);
    if (r!.event === "error") throw new Error(`xmpp.js: ${String(r!.message)}\n${this.stderr}`);
    return r;
  }

  private deliver(): void {
    const w = this.waiter;
    if (w === undefined) return;
    const i = this.pending.findIndex((r) => r.event === w.event || r.event === "error");
    if (i < 0) return;
    this.waiter = undefined;
    w.resolve(this.pending.splice(i, 1)[0]!);
  }
}

const accounts = new AccountStore();
accounts.add("juliet", "r0m30myr0m30");
accounts.add("romeo", "j0liet");

describe("xmpp.js 0.14 Stream Management against our server", () => {
  let running: RunningServer;
  let dir: string;
  let caFile: string;
  const log: string[] = [];
  const logWaiters: Array<{ test: (l: string) => boolean; resolve: (l: string) => void }> = [];
  const logLine = (test: (l: string) => boolean) =>
    new Promise<string>((resolve) => {
      const seen = log.find(test);
      if (seen !== undefined) resolve(seen);
      else logWaiters.push({ test, resolve });
    });

  beforeAll(async () => {
    const tls = generateSelfSignedCertificate({ dnsNames: [DOMAIN] });
    running = await startServer({
      domain: DOMAIN,
      accounts,
      tls,
      port: 0,
      log: (line) => {
        log.push(line);
        for (const w of [...logWaiters]) {
          if (w.test(line)) {
            logWaiters.splice(logWaiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      },
    });
    dir = mkdtempSync(join(tmpdir(), "xmpp-sansio-xmppjs-sm-"));
    caFile = join(dir, "ca.pem");
    writeFileSync(caFile, running.certificate);
  });
  afterAll(async () => {
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("enables SM, gets acks, resumes after its socket is destroyed and receives what was held — once", async () => {
    const romeo = new XmppClient({ jid: `romeo@${DOMAIN}/orchard`, password: "j0liet", host: "127.0.0.1", port: running.port!, tls: { ca: running.certificate }, reconnect: false });
    const romeoInbox = new Inbox();
    romeo.on("message", romeoInbox.push);
    const romeoJid = (await romeo.online()).toString();
    const xmppjs = new XmppJsSm({ service: `xmpp://127.0.0.1:${running.port}`, domain: DOMAIN, username: "juliet", password: "r0m30myr0m30", resource: "xmppjs-sm" }, caFile);
    try {
      // SASL2 + Bind2 (XEP-0386 §2.3): the resource is xmpp.js's tag and a hash of its user-agent id.
      const online = await xmppjs.next("online");
      expect(online).toEqual({ event: "online", jid: expect.stringMatching(new RegExp(`^juliet@${DOMAIN}/xmppjs-sm\\.[A-Za-z0-9_-]{8}$`)) });
      const jid = String(online.jid);
      const enabled = await xmppjs.next("sm-enabled");
      expect(enabled).toMatchObject({ resume: "true", max: "300" });
      expect(enabled.id).toMatch(/^[A-Za-z0-9_-]{22}$/);

      // Its stanza reaches romeo and our server acknowledges it (xmpp.js sends <r/> 250 ms after a stanza).
      xmppjs.command({ cmd: "send", to: romeoJid, id: "x1", body: "wherefore art thou" });
      expect((await romeoInbox.next((m) => m.attr("id") === "x1")).attr("from")).toBe(jid);
      expect(await xmppjs.next("ack")).toEqual({ event: "ack", id: "x1" });

      // Ours reaches it (it counts it for its h).
      romeo.send(xml("message", { to: jid, id: "r1", type: "chat" }, xml("body", {}, "r1")));
      expect(await xmppjs.next("message")).toEqual({ event: "message", id: "r1", from: romeoJid, body: "r1" });

      // The link breaks; the server keeps the session and holds what comes meanwhile.
      xmppjs.command({ cmd: "cut" });
      await xmppjs.next("disconnected");
      await logLine((l) => l === `detached ${jid} (resumable for 300 s)`);
      romeo.send(xml("message", { to: jid, id: "r2", type: "chat" }, xml("body", {}, "r2")));

      // xmpp.js reconnects and resumes with <resume previd h='1'/>: r2 comes, r1 does not come again.
      xmppjs.command({ cmd: "reconnect" });
      await xmppjs.next("resumed");
      expect(await logLine((l) => l.startsWith(`resumed ${jid} `))).toMatch(/\(STARTTLS, SCRAM-SHA-1\)$/);
      expect(await xmppjs.next("message")).toEqual({ event: "message", id: "r2", from: romeoJid, body: "r2" });
      romeo.send(xml("message", { to: jid, id: "r3", type: "chat" }, xml("body", {}, "r3")));
      expect(await xmppjs.next("message")).toMatchObject({ id: "r3" });
      expect(xmppjs.reports.filter((r) => r.event === "message").map((r) => r.id)).toEqual(["r1", "r2", "r3"]);
      expect(xmppjs.reports.filter((r) => r.event === "online")).toHaveLength(1); // resumed, not re-bound
      expect(log).not.toContain(`offline ${jid}`);

      // The resumed session still acknowledges its stanzas; nothing was reported lost.
      xmppjs.command({ cmd: "send", to: romeoJid, id: "x2", body: "deny thy father" });
      await romeoInbox.next((m) => m.attr("id") === "x2");
      expect(await xmppjs.next("ack")).toEqual({ event: "ack", id: "x2" });
      expect(xmppjs.reports.some((r) => r.event === "fail")).toBe(false);
      expect(romeoInbox.all.filter((m) => m.attr("type") === "error")).toEqual([]);

      xmppjs.command({ cmd: "stop" });
      await xmppjs.next("offline");
      await logLine((l) => l === `offline ${jid}`);
      expect(await xmppjs.exited).toBe(0);
      expect(running.sessions.detachedCount).toBe(0);
    } finally {
      xmppjs.kill();
      await romeo.close();
    }
  });
});
