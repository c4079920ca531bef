// The client side of @xmpp-sansio/im against a real Prosody 0.12 on loopback, through our Node client:
// two accounts, adding a contact (roster set and pushes), the subscription handshake with typed events,
// presence, roster versioning from a persisted cache, and an offline message with its delay stamp.
import { parseJid } from "@xmpp-sansio/jid";
import { XmppClient } from "@xmpp-sansio/node";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterEach, describe, expect, it } from "vitest";
import { hasProsody, prosodyFixture, type RunningProsody } from "../../node/test/support/prosody.js";
import { approveSubscription, availablePresence, parsePresence, subscribe } from "../src/client-presence.js";
import { Roster, type RosterEvent } from "../src/client-roster.js";
import { parseExpire, buildExpire } from "../src/payloads.js";

const describeProsody = hasProsody() ? describe : describe.skip;
if (!hasProsody()) console.warn("interop.prosody.test.ts (im): prosody/prosodyctl/openssl not installed — skipped (.ci/run installs them)");

const clients: XmppClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** A connected client with a Roster wired to it, and a way to wait for a condition on what arrived. */
interface ImClient {
  client: XmppClient;
  roster: Roster;
  events: RosterEvent[];
  presences: XmlElement[];
  messages: XmlElement[];
  until(what: string, cond: () => boolean): Promise<void>;
}

async function connect(p: RunningProsody, user: string, cache?: unknown): Promise<ImClient> {
  const client = new XmppClient({ jid: `${user}@${p.domain}`, password: p.accounts[user]!, host: "127.0.0.1", port: p.c2sPort, tls: { ca: p.caCert } });
  clients.push(client);
  const jid = await client.online();
  const roster = new Roster({ account: jid, cache });
  const c: ImClient = { client, roster, events: [], presences: [], messages: [], until: () => Promise.resolve() };
  const waiters = new Set<() => void>();
  const changed = () => {
    c.events.push(...roster.pollEvents());
    for (const w of [...waiters]) w();
  };
  client.onIq("set", "jabber:iq:roster", "query", (iq) => {
    const reply = roster.handlePush(iq);
    changed();
    return reply;
  });
  client.on("presence", (pr) => {
    if (!roster.handlePresence(pr)) c.presences.push(pr);
    changed();
  });
  client.on("message", (m) => {
    c.messages.push(m);
    changed();
  });
  c.until = (what, cond) =>
    new Promise<void>((resolve, reject) => {
      if (cond()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}\n${p.debugLog().slice(-4000)}`));
      }, 15_000);
      const check = () => {
        if (!cond()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  const res = await client.iq(roster.buildGet("roster-1"), { timeoutMs: 10_000 });
  roster.handleResult(res);
  changed();
  return c;
}

describeProsody("Roster and presence helpers against Prosody 0.12", () => {
  const prosody = prosodyFixture();

  it("add a contact, subscribe, approval, presence, versioned roster from a cache, offline message", async () => {
    const p = prosody.get();
    const romeoBare = `romeo@${p.domain}`;
    const julietBare = `juliet@${p.domain}`;
    const juliet = await connect(p, "juliet");
    const romeo = await connect(p, "romeo");
    expect(juliet.roster.items()).toEqual([]);
    expect(juliet.roster.version).toBeDefined(); // Prosody versions rosters (rosterver)
    romeo.client.send(availablePresence({ status: "here" }));
    juliet.client.send(availablePresence({ status: "Online" }));

    // Use case 7.3: roster set, then the subscription request.
    const set = await juliet.client.iq(juliet.roster.buildSet("add-1", romeoBare, { name: "romeo", groups: ["Friends"] }), { timeoutMs: 10_000 });
    expect(set.attr("type")).toBe("result");
    await juliet.until("the push of the new item", () => juliet.roster.get(romeoBare) !== undefined);
    expect(juliet.roster.get(romeoBare)).toMatchObject({ name: "romeo", groups: ["Friends"], subscription: "none", ask: false });

    juliet.client.send(subscribe(romeoBare, { status: "Wherefore art thou?" }));
    await juliet.until("ask='subscribe'", () => juliet.roster.get(romeoBare)?.ask === true);
    await romeo.until("the subscription request event", () => romeo.events.some((e) => e.type === "subscription-request"));
    const req = romeo.events.find((e) => e.type === "subscription-request")!;
    expect(req.type === "subscription-request" && [req.from.toString(), req.status]).toEqual([julietBare, "Wherefore art thou?"]);

    romeo.client.send(approveSubscription(julietBare));
    await juliet.until("subscription='to'", () => juliet.roster.get(romeoBare)?.subscription === "to");
    expect(juliet.roster.get(romeoBare)?.ask).toBe(false);
    expect(juliet.events.some((e) => e.type === "subscription-approved")).toBe(true);
    await romeo.until("subscription='from' on romeo's side", () => romeo.roster.get(julietBare)?.subscription === "from");
    const fromRomeo = (x: XmlElement) => parseJid(x.attr("from")!).bare.toString() === romeoBare;
    await juliet.until("romeo's available presence", () => juliet.presences.some((x) => fromRomeo(x) && parsePresence(x).type === "available"));
    const rp = juliet.presences.find((x) => fromRomeo(x) && parsePresence(x).type === "available")!;
    expect(parsePresence(rp)).toMatchObject({ type: "available", status: "here" });

    // The persisted cache makes the next roster get an "unchanged" answer (RFC 6121 §2.6.3).
    const cache = JSON.parse(JSON.stringify(juliet.roster.exportCache()));
    const again = new Roster({ account: julietBare, cache });
    const res = await juliet.client.iq(again.buildGet("roster-2"), { timeoutMs: 10_000 });
    again.handleResult(res);
    const ev = again.pollEvents();
    expect(ev.map((e) => e.type)).toEqual(["roster-unchanged"]);
    expect(again.items()).toEqual(juliet.roster.items());

    // Offline message: romeo leaves, juliet writes, romeo comes back and gets it with a delay stamp.
    const seen = juliet.presences.length;
    await romeo.client.close();
    await juliet.until("romeo's unavailable", () => juliet.presences.slice(seen).some((x) => fromRomeo(x) && x.attr("type") === "unavailable"));
    juliet.client.send(xml("message", { to: romeoBare, type: "chat", id: "off-1" }, xml("body", {}, "Art thou not Romeo?"), buildExpire({ seconds: 3600 })));
    // Prosody handles a session's stanzas in order: once this ping is answered, the message is stored.
    await juliet.client.iq(xml("iq", { type: "get", to: p.domain }, xml("ping", { xmlns: "urn:xmpp:ping" })), { timeoutMs: 10_000 });
    const back = await connect(p, "romeo", romeo.roster.exportCache());
    back.client.send(availablePresence());
    await back.until("the offline message", () => back.messages.some((m) => m.getChildText("body") === "Art thou not Romeo?"));
    const m = back.messages.find((x) => x.getChildText("body") === "Art thou not Romeo?")!;
    expect(m.getChild("delay", "urn:xmpp:delay")).toBeDefined();
    expect(parseExpire(m)?.seconds).toBe(3600);
  }, 60_000);
});
