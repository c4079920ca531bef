// xmpp.js 0.14 (@xmpp/client, child process: support/xmppjs-im.mjs) as an IM client of our server on
// its database, against our own XmppClient: roster get and set with the pushes, a subscription approved by
// our client, presence, and a message each way.
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
import { openSqliteStorage } from "../src/store/sqlite.js";
import type { Storage } from "../src/store/types.js";

const DOMAIN = "localhost";
const SCRIPT = fileURLToPath(new URL("./support/xmppjs-im.mjs", import.meta.url));

type Report = { event: string; [k: string]: unknown };

describe("xmpp.js 0.14 as an IM client (roster, presence, messages) of our server on SQLite", () => {
  let storage: Storage;
  let running: RunningServer;
  let dir: string;
  let caFile: string;

  beforeAll(async () => {
    storage = openSqliteStorage(":memory:");
    const accounts = new AccountStore({ records: storage.accounts });
    accounts.add("juliet", "r0m30myr0m30");
    accounts.add("romeo", "j0liet");
    const tls = generateSelfSignedCertificate({ dnsNames: [DOMAIN] });
    running = await startServer({ domain: DOMAIN, accounts, tls, port: 0, storage });
    dir = mkdtempSync(join(tmpdir(), "xmpp-sansio-xmppjs-im-"));
    caFile = join(dir, "ca.pem");
    writeFileSync(caFile, running.certificate);
  });
  afterAll(async () => {
    await running?.close();
    storage?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("roster get/set with pushes, subscribe approved by our client, presence, a message and its reply", async () => {
    const romeo = new XmppClient({ jid: `romeo@${DOMAIN}/orchard`, password: "j0liet", host: "127.0.0.1", port: running.port!, tls: { ca: running.certificate } });
    const romeoGot: XmlElement[] = [];
    const romeoWaiters: Array<[(s: XmlElement) => boolean, (s: XmlElement) => void]> = [];
    romeo.on("stanza", (s) => {
      const w = romeoWaiters.find(([t]) => t(s));
      if (w) {
        romeoWaiters.splice(romeoWaiters.indexOf(w), 1);
        w[1](s);
      } else romeoGot.push(s);
    });
    const romeoNext = (t: (s: XmlElement) => boolean) =>
      new Promise<XmlElement>((resolve) => {
        const i = romeoGot.findIndex(t);
        if (i >= 0) resolve(romeoGot.splice(i, 1)[0]!);
        else romeoWaiters.push([t, resolve]);
      });
    await romeo.online();
    await romeo.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    romeo.send(xml("presence"));

    const reports: Report[] = [];
    let wake: (() => void) | undefined;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_EXTRA_CA_CERTS: caFile,
      XMPPJS_CONFIG: JSON.stringify({ service: `xmpp://127.0.0.1:${running.port}`, domain: DOMAIN, username: "juliet", password: "r0m30myr0m30", resource: "xmppjs", peer: `romeo@${DOMAIN}` }),
    };
    let stderr = "";
    const child: ChildProcess = fork(SCRIPT, [], { execArgv: ["--experimental-websocket", "--no-warnings"], env, stdio: ["ignore", "inherit", "pipe", "ipc"] });
    child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("message", (r: Report) => {
      reports.push(r);
      wake?.();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const report = async (test: (r: Report) => boolean, what: string): Promise<Report> => {
      for (;;) {
        const err = reports.find((r) => r.event === "error");
        if (err) throw new Error(`xmpp.js: ${String(err.message)}\n${stderr}`);
        const i = reports.findIndex(test);
        if (i >= 0) return reports.splice(i, 1)[0]!;
        const woke = new Promise<void>((resolve) => (wake = resolve));
        const code = await Promise.race([woke.then(() => "woke" as const), exited]);
        if (code !== "woke" && !reports.some(test)) throw new Error(`xmpp.js exited (${code}) before ${what}; reports ${JSON.stringify(reports)}\n${stderr}`);
      }
    };
    try {
      // SASL2 + Bind2 (XEP-0386 §2.3): the resource is xmpp.js's tag and a hash of its user-agent id.
      const online = await report((r) => r.event === "online", "online");
      expect(online).toEqual({ event: "online", jid: expect.stringMatching(new RegExp(`^juliet@${DOMAIN}/xmppjs\\.[A-Za-z0-9_-]{8}$`)) });
      const julietJid = String(online.jid);
      expect(await report((r) => r.event === "roster", "the roster")).toEqual({ event: "roster", items: [] });
      expect(await report((r) => r.event === "push" && r.ask === null, "the push of the new item")).toMatchObject({ jid: `romeo@${DOMAIN}`, subscription: "none" });
      expect(await report((r) => r.event === "push" && r.ask === "subscribe", "the push with ask")).toMatchObject({ jid: `romeo@${DOMAIN}`, subscription: "none" });
      const request = await romeoNext((s) => s.name === "presence" && s.attr("type") === "subscribe");
      expect(request.attr("from")).toBe(`juliet@${DOMAIN}`);
      romeo.send(xml("presence", { to: `juliet@${DOMAIN}`, type: "subscribed" }));
      expect(await report((r) => r.event === "push" && r.subscription === "to", "the push subscription=to")).toMatchObject({ jid: `romeo@${DOMAIN}`, ask: null });
      expect(await report((r) => r.event === "presence" && r.from === `romeo@${DOMAIN}/orchard`, "romeo's presence")).toMatchObject({ type: null });
      romeo.send(xml("message", { to: julietJid, type: "chat" }, xml("body", {}, "Shall I hear more?")));
      expect(await report((r) => r.event === "message", "the message")).toEqual({ event: "message", from: `romeo@${DOMAIN}/orchard`, body: "Shall I hear more?" });
      const reply = await romeoNext((s) => s.name === "message");
      expect(reply.getChildText("body")).toBe("re: Shall I hear more?");
      expect(reply.attr("from")).toBe(julietJid);
      await report((r) => r.event === "offline", "offline");
      expect(await exited).toBe(0);
      expect(storage.rosters.getItem("juliet", `romeo@${DOMAIN}`)).toMatchObject({ subscription: "to", name: "Peer" });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await romeo.close();
    }
  });
});
