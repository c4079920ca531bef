// XEP-0198 against a real Prosody 0.12 (mod_smacks) on loopback: our Node client enables Stream
// Management, gets acks, loses its TCP connection (destroyed from the test), and the lifecycle reconnects
// and resumes — nothing lost, nothing duplicated, every stanza acked.
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterEach, describe, expect, it } from "vitest";
import { XmppClient, type XmppClientOptions } from "../src/index.js";
import { hasProsody, prosodyFixture, type RunningProsody } from "./support/prosody.js";

const describeProsody = hasProsody() ? describe : describe.skip;

const clients: XmppClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(p: RunningProsody, user: string, extra: Partial<XmppClientOptions> = {}): XmppClient {
  const c = new XmppClient({ jid: `${user}@${p.domain}`, password: p.accounts[user]!, host: "127.0.0.1", port: p.c2sPort, tls: { ca: p.caCert }, ...extra });
  clients.push(c);
  return c;
}

/** Resolves once `pred()` holds, checking after every event of `c` named in `events`. */
function until(c: XmppClient, events: Array<"acked" | "message" | "online">, pred: () => boolean, what: string, ms = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!pred()) return;
      clearTimeout(timer);
      for (const e of events) c.off(e, check);
      resolve();
    };
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    for (const e of events) c.on(e, check);
    check();
  });
}

const bodyOf = (s: XmlElement) => s.getChildText("body") ?? "";

describeProsody("XEP-0198 against Prosody 0.12 mod_smacks", () => {
  const prosody = prosodyFixture();

  it("enable, ack, cut the TCP connection, resume: every message arrives exactly once, every sent one is acked", async () => {
    const p = prosody.get();
    const juliet = client(p, "juliet", { reconnect: { initialDelayMs: 300, random: () => 0.5 }, sm: { ackEvery: 2, ackAfterMs: 100 } });
    const romeo = client(p, "romeo", { sm: false });
    const onlines: Array<{ resumed: boolean }> = [];
    juliet.on("online", (_jid, info) => onlines.push(info));
    const acked: string[] = [];
    juliet.on("acked", (s) => acked.push(bodyOf(s)));
    const failed: string[] = [];
    juliet.on("failed", (s, reason) => failed.push(`${bodyOf(s)}: ${reason}`));
    const got: string[] = [];
    juliet.on("message", (s) => {
      if (s.attr("type") === "chat") got.push(bodyOf(s));
    });
    const romeoGot: string[] = [];
    romeo.on("message", (s) => romeoGot.push(bodyOf(s)));
    juliet.on("error", () => {});

    const [jj, rj] = await Promise.all([juliet.online(), romeo.online()]);
    const sent: string[] = [];
    const say = (body: string) => {
      sent.push(body);
      juliet.send(xml("message", { to: rj.toString(), type: "chat" }, xml("body", {}, body)));
    };
    for (let i = 0; i < 3; i++) say(`before ${i}`);
    await until(juliet, ["acked"], () => acked.length === 3, "acks before the cut");

    // A message from romeo, then the cut while more are under way both ways.
    const toJuliet: string[] = [];
    const romeoSays = (body: string) => {
      toJuliet.push(body);
      romeo.send(xml("message", { to: jj.toString(), type: "chat" }, xml("body", {}, body)));
    };
    romeoSays("r0");
    await until(juliet, ["message"], () => got.length === 1, "r0");
    say("just before the cut");
    const cut = new Promise((r) => juliet.once("close", r));
    juliet.socket!.destroy();
    await cut;
    expect(juliet.isOnline).toBe(false);
    for (let i = 1; i <= 5; i++) romeoSays(`r${i}`);
    for (let i = 0; i < 3; i++) say(`during ${i}`); // queued by the lifecycle
    expect(juliet.lifecycle?.queued).toBe(3);

    await until(juliet, ["online"], () => onlines.length === 2, "resumption");
    expect(onlines).toEqual([{ resumed: false }, { resumed: true }]);
    expect(juliet.jid?.toString()).toBe(jj.toString());
    await until(juliet, ["message"], () => got.length >= toJuliet.length, "romeo's messages");
    await until(juliet, ["acked"], () => acked.length === sent.length, "every message acked");
    // Let stragglers (duplicates, if any) arrive before judging.
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toEqual(toJuliet);
    expect([...acked].sort()).toEqual([...sent].sort());
    expect(failed).toEqual([]);
    expect([...romeoGot].sort()).toEqual([...sent].sort());
  }, 30_000);
});
