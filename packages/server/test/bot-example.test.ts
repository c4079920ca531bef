// The README's bot, run exactly as it is in packages/node/examples/bot.ts (a child process, host/port/CA
// from the environment) against the reference IM server on loopback: it prints its roster, answers ping,
// disco#info and version (built in), echoes messages, and survives a server restart. The README shows the
// file's content verbatim.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { XmppClient } from "@xmpp-sansio/node";
import { xml } from "@xmpp-sansio/xml";
import { afterAll, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { generateSelfSignedCertificate } from "../src/certificate.js";
import { type RunningServer, startServer } from "../src/server.js";
import { openSqliteStorage } from "../src/store/sqlite.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BOT = join(ROOT, "packages/node/examples/bot.ts");
const DOMAIN = "localhost";

const tmp = mkdtempSync(join(tmpdir(), "xmpp-sansio-bot-"));
const storage = openSqliteStorage(join(tmp, "db.sqlite"));
const accounts = new AccountStore({ records: storage.accounts });
accounts.add("romeo", "j0liet");
accounts.add("juliet", "r0m30myr0m30");
storage.rosters.setItem("romeo", { jid: "juliet@localhost", subscription: "both", ask: false, approved: false, groups: [] });
storage.rosters.setItem("juliet", { jid: "romeo@localhost", subscription: "both", ask: false, approved: false, groups: [] });
const pair = generateSelfSignedCertificate({ dnsNames: [DOMAIN] });
writeFileSync(join(tmp, "ca.pem"), pair.ca!);

let server: RunningServer | undefined;
let bot: ChildProcess | undefined;
let juliet: XmppClient | undefined;
afterAll(async () => {
  if (bot?.exitCode === null) bot.kill();
  await juliet?.close();
  await server?.close();
  storage.close();
  rmSync(tmp, { recursive: true, force: true });
});

const start = (port: number) => startServer({ domain: DOMAIN, accounts, port, tls: pair, storage });

/** The bot's stdout lines, and a wait for the n-th line matching a pattern. */
class Output {
  readonly lines: string[] = [];
  private waiters: Array<() => void> = [];
  feed(chunk: string): void {
    this.lines.push(...chunk.split("\n").filter((l) => l !== ""));
    for (const w of this.waiters.splice(0)) w();
  }
  async waitFor(pattern: RegExp, count = 1, ms = 15_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hits = this.lines.filter((l) => pattern.test(l));
      if (hits.length >= count) return hits[count - 1]!;
      if (Date.now() > deadline) throw new Error(`bot output has no ${count}× ${pattern}:\n${this.lines.join("\n")}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 200);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
}

/** The echo of `text` (a copy of an earlier echo may come again: unacknowledged at the restart, kept offline). */
function echoOf(client: XmppClient, text: string): Promise<string> {
  return new Promise((resolve) => {
    const off = client.onMessage({ type: "chat", child: { name: "body" } }, (_m, body) => {
      if (body!.text() !== `echo: ${text}`) return;
      off();
      resolve(body!.text());
    });
  });
}

describe("the README bot", () => {
  it("is the file the README shows, in at most 25 non-blank lines", () => {
    const file = readFileSync(BOT, "utf8");
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const m = /<!-- bot-example -->\n```ts\n([\s\S]*?)```\n<!-- \/bot-example -->/.exec(readme);
    expect(m, "README.md has the bot between <!-- bot-example --> markers").not.toBeNull();
    expect(m![1]).toBe(file);
    expect(file.split("\n").filter((l) => l.trim() !== "").length).toBeLessThanOrEqual(25);
  });

  it("logs in, prints the roster, answers ping/disco/version, echoes, and survives a server restart", async () => {
    server = await start(0);
    const port = server.port!;
    const out = new Output();
    bot = spawn(process.execPath, ["--conditions=source", "--import", "tsx", BOT], {
      cwd: ROOT,
      env: { ...process.env, XMPP_HOST: "127.0.0.1", XMPP_PORT: String(port), XMPP_CA: join(tmp, "ca.pem"), XMPP_DEBUG: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    bot.stdout!.setEncoding("utf8").on("data", (c: string) => out.feed(c));
    bot.stderr!.setEncoding("utf8").on("data", (c: string) => out.feed(c));
    expect(await out.waitFor(/^online as /)).toBe("online as romeo@localhost/bot");
    expect(await out.waitFor(/^roster: /)).toBe("roster: juliet@localhost");

    juliet = new XmppClient({ jid: "juliet@localhost/balcony", password: "r0m30myr0m30", host: "127.0.0.1", port, tls: { ca: pair.ca! } });
    await juliet.online();
    const to = "romeo@localhost/bot";
    const pong = await juliet.iq(xml("iq", { type: "get", to }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(pong.attr("type")).toBe("result");
    const info = (await juliet.iqGet(xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }), to))!;
    expect(info.getChildren("identity").map((i) => `${i.attr("category")}/${i.attr("type")}`)).toEqual(["client/bot"]);
    expect(info.getChildren("feature").map((f) => f.attr("var"))).toEqual(expect.arrayContaining(["urn:xmpp:ping", "jabber:iq:version"]));
    const version = (await juliet.iqGet(xml("query", { xmlns: "jabber:iq:version" }), to))!;
    expect(version.getChildText("name")).toBe("echo-bot");
    const unknown = await juliet.iqGet(xml("query", { xmlns: "urn:example:nothing" }), to).catch((e: { condition?: string }) => e.condition);
    expect(unknown).toBe("service-unavailable");

    const say = (text: string): Promise<string> => {
      const echo = echoOf(juliet!, text);
      juliet!.send(xml("message", { to, type: "chat" }, xml("body", {}, text)));
      return echo;
    };
    expect(await say("hello")).toBe("echo: hello");

    // Restart the server on the same port: both clients reconnect (a new session: SM state was in memory).
    const back = new Promise<void>((resolve) => juliet!.once("online", () => resolve()));
    await server.close();
    server = await start(port);
    expect(await out.waitFor(/^online as /, 2)).toBe("online as romeo@localhost/bot");
    await out.waitFor(/^roster: /, 2);
    await back;
    expect(await say("still there?")).toBe("echo: still there?");
    expect(bot.exitCode).toBeNull();
  }, 40_000);
});
