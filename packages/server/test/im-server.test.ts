// The IM server on a real (in-memory SQLite) database, through the real Node server on loopback, with our
// own XmppClient: the seed's use cases (jabber-protocol-overview-part2 §7) and the overview's IM items.
import { changePasswordIq, iqAuthFeature, registerFeature, removeAccountIq } from "@xmpp-sansio/core";
import { XmppClient } from "@xmpp-sansio/node";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { generateSelfSignedCertificate } from "../src/certificate.js";
import { type RunningServer, startServer } from "../src/server.js";
import { openSqliteStorage } from "../src/store/sqlite.js";
import type { Storage } from "../src/store/types.js";

const DOMAIN = "localhost";
const tls = generateSelfSignedCertificate({ dnsNames: [DOMAIN] });

/** A connected client with every stanza it received, and a way to wait for one. */
class Peer {
  readonly got: XmlElement[] = [];
  private waiters: Array<{ test: (s: XmlElement) => boolean; resolve: (s: XmlElement) => void }> = [];
  readonly client: XmppClient;
  constructor(user: string, password: string, resource: string, port: number, session?: ConstructorParameters<typeof XmppClient>[0]["session"]) {
    this.client = new XmppClient({ jid: `${user}@${DOMAIN}/${resource}`, password, host: "127.0.0.1", port, tls: { ca: tls.cert }, ...(session === undefined ? {} : { session }) });
    this.client.on("stanza", (s) => {
      this.got.push(s);
      for (const w of [...this.waiters]) {
        if (w.test(s)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(s);
        }
      }
    });
  }
  get jid(): string {
    return this.client.jid!.toString();
  }
  /** The first stanza (already received or coming) that passes `test`; consumed. */
  next(test: (s: XmlElement) => boolean, what = "a stanza"): Promise<XmlElement> {
    const i = this.got.findIndex(test);
    if (i >= 0) return Promise.resolve(this.got.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.jid}: timed out waiting for ${what}; got ${this.got.map((g) => g.toString()).join("\n")}`)), 4000);
      this.waiters.push({
        test,
        resolve: (s) => {
          clearTimeout(timer);
          this.got.splice(this.got.indexOf(s), 1);
          resolve(s);
        },
      });
    });
  }
  send(s: XmlElement): void {
    this.client.send(s);
  }
  iq(s: XmlElement): Promise<XmlElement> {
    return this.client.iq(s);
  }
}

const presenceFrom = (from: string, type?: string) => (s: XmlElement) =>
  s.name === "presence" && s.attr("from") === from && s.attr("type") === type;
const rosterPush = (jid: string) => (s: XmlElement) => s.name === "iq" && s.attr("type") === "set" && s.getChild("query", "jabber:iq:roster")?.getChild("item")?.attr("jid") === jid;

describe("the IM server on SQLite (RFC 6121 through the real server)", () => {
  let storage: Storage;
  let running: RunningServer;
  const peers: Peer[] = [];

  beforeAll(async () => {
    storage = openSqliteStorage(":memory:");
    const accounts = new AccountStore({ records: storage.accounts });
    for (const [u, p] of [
      ["juliet", "r0m30myr0m30"],
      ["romeo", "j0liet"],
      ["nurse", "p0tion"],
    ] as const) accounts.add(u, p);
    running = await startServer({ domain: DOMAIN, accounts, tls, port: 0, storage, allowRegistration: true, iqAuth: true, limits: { address: { maxLoginAttemptsPerIp: null } } });
  });
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.client.close()));
  });
  afterAll(async () => {
    await running.close();
    storage.close();
  });

  const connect = async (user: string, password: string, resource: string, session?: ConstructorParameters<typeof XmppClient>[0]["session"], port = running.port!): Promise<Peer> => {
    const p = new Peer(user, password, resource, port, session);
    peers.push(p);
    await p.client.online();
    return p;
  };
  const rosterGet = (p: Peer) => p.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));

  it("use case 1: registration (XEP-0077), then a password change, then removal ending the other sessions", async () => {
    const paris = await connect("paris", "c0unty", "church", { features: [registerFeature({ client: { password: "c0unty" } })] });
    expect(paris.jid).toBe(`paris@${DOMAIN}/church`);
    expect(storage.accounts.has("paris")).toBe(true);
    // Registering a taken name fails (<conflict/>: the client closes the stream) and never gets online.
    const again = new XmppClient({ jid: `paris@${DOMAIN}/x`, password: "other1", host: "127.0.0.1", port: running.port!, tls: { ca: tls.cert }, session: { features: [registerFeature({ client: { password: "other1" } })] } });
    await expect(again.online()).rejects.toThrow();
    await again.close();
    expect((await paris.iq(changePasswordIq("paris", "n3wpass"))).attr("type")).toBe("result");
    const second = await connect("paris", "n3wpass", "garden");
    const closed = new Promise((resolve) => second.client.once("close", resolve));
    expect((await paris.iq(removeAccountIq())).attr("type")).toBe("result");
    await closed;
    expect(storage.accounts.has("paris")).toBe(false);
  });

  it("use case 2: login with jabber:iq:auth (XEP-0078, plaintext over TLS: the server keeps no password for a digest)", async () => {
    const iqAuthOnly = await startServer({ domain: DOMAIN, accounts: new AccountStore({ records: storage.accounts }), tls, port: 0, storage, mechanisms: [], iqAuth: true });
    try {
      const juliet = await connect("juliet", "r0m30myr0m30", "balcony", { features: [iqAuthFeature({ client: { password: "r0m30myr0m30", resource: "balcony" } })] }, iqAuthOnly.port!);
      expect(juliet.client.mechanism).toBe("jabber:iq:auth");
      expect(juliet.jid).toBe(`juliet@${DOMAIN}/balcony`);
      const bad = new XmppClient({ jid: `juliet@${DOMAIN}/x`, password: "wrong", host: "127.0.0.1", port: iqAuthOnly.port!, tls: { ca: tls.cert }, session: { features: [iqAuthFeature({ client: { password: "wrong", resource: "x" } })] } });
      await expect(bad.online()).rejects.toThrow(/not-authorized|auth/i);
      await bad.close();
      // Registration is off by default on this server: not offered, so the client's registration fails.
      const tybalt = new XmppClient({ jid: `tybalt@${DOMAIN}/x`, password: "pr1nce", host: "127.0.0.1", port: iqAuthOnly.port!, tls: { ca: tls.cert }, session: { features: [registerFeature({ client: { password: "pr1nce" } })] } });
      await expect(tybalt.online()).rejects.toThrow();
      await tybalt.close();
      expect(storage.accounts.has("tybalt")).toBe(false);
      await juliet.client.close();
    } finally {
      await iqAuthOnly.close();
    }
  });

  it("use case 3: adding a contact — roster set, subscribe, subscribed, with the roster pushes", async () => {
    const juliet = await connect("juliet", "r0m30myr0m30", "balcony");
    const romeo = await connect("romeo", "j0liet", "orchard");
    await rosterGet(juliet);
    await rosterGet(romeo);
    juliet.send(xml("presence"));
    romeo.send(xml("presence"));
    const set = await juliet.iq(xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: `romeo@${DOMAIN}`, name: "Romeo" }, xml("group", {}, "Friends")))));
    expect(set.attr("type")).toBe("result");
    const push1 = await juliet.next(rosterPush(`romeo@${DOMAIN}`), "the push of the new item");
    expect(push1.getChild("query", "jabber:iq:roster")!.getChild("item")!.attr("subscription")).toBe("none");
    expect(push1.getChild("query", "jabber:iq:roster")!.attr("ver")).toMatch(/^\d+$/);
    juliet.send(xml("presence", { to: `romeo@${DOMAIN}`, type: "subscribe" }));
    const push2 = await juliet.next(rosterPush(`romeo@${DOMAIN}`), "the push with ask=subscribe");
    expect(push2.getChild("query", "jabber:iq:roster")!.getChild("item")!.attr("ask")).toBe("subscribe");
    const request = await romeo.next(presenceFrom(`juliet@${DOMAIN}`, "subscribe"), "the subscription request");
    expect(request.attr("to")).toBe(`romeo@${DOMAIN}`);
    romeo.send(xml("presence", { to: `juliet@${DOMAIN}`, type: "subscribed" }));
    const romeoPush = await romeo.next(rosterPush(`juliet@${DOMAIN}`), "romeo's push (from)");
    expect(romeoPush.getChild("query", "jabber:iq:roster")!.getChild("item")!.attr("subscription")).toBe("from");
    const push3 = await juliet.next((s) => rosterPush(`romeo@${DOMAIN}`)(s) && s.getChild("query", "jabber:iq:roster")!.getChild("item")!.attr("subscription") === "to", "the push subscription=to");
    expect(push3.getChild("query", "jabber:iq:roster")!.getChild("item")!.attr("ask")).toBeUndefined();
    // The push carries the version the store gave (what a later roster get compares against).
    expect(push3.getChild("query", "jabber:iq:roster")!.attr("ver")).toBe(String(storage.rosters.get("juliet").version));
    await juliet.next(presenceFrom(romeo.jid), "romeo's current presence after approval");
    // Stored in the database.
    expect(storage.rosters.getItem("juliet", `romeo@${DOMAIN}`)).toMatchObject({ subscription: "to", name: "Romeo", groups: ["Friends"] });
    expect(storage.rosters.getItem("romeo", `juliet@${DOMAIN}`)).toMatchObject({ subscription: "from" });
    // The mutual half: romeo subscribes back, juliet approves.
    romeo.send(xml("presence", { to: `juliet@${DOMAIN}`, type: "subscribe" }));
    await juliet.next(presenceFrom(`romeo@${DOMAIN}`, "subscribe"));
    juliet.send(xml("presence", { to: `romeo@${DOMAIN}`, type: "subscribed" }));
    await romeo.next((s) => rosterPush(`juliet@${DOMAIN}`)(s) && s.getChild("query", "jabber:iq:roster")!.getChild("item")!.attr("subscription") === "both");
    expect(storage.rosters.getItem("juliet", `romeo@${DOMAIN}`)?.subscription).toBe("both");
  });

  it("use case 4: getting the roster (with the version, and an empty result for the current one)", async () => {
    const juliet = await connect("juliet", "r0m30myr0m30", "balcony");
    const r = await juliet.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster", ver: "" })));
    const q = r.getChild("query", "jabber:iq:roster")!;
    const items = q.getChildren("item");
    expect(items.map((i) => [i.attr("jid"), i.attr("subscription"), i.attr("name"), i.getChildText("group")])).toEqual([[`romeo@${DOMAIN}`, "both", "Romeo", "Friends"]]);
    expect(q.attr("ver")).toBe(String(storage.rosters.get("juliet").version));
    const again = await juliet.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster", ver: q.attr("ver") })));
    expect(again.getChild("query", "jabber:iq:roster")).toBeUndefined();
  });

  it("use case 5: sending a message (to the bare JID, to the highest priority resource)", async () => {
    const juliet = await connect("juliet", "r0m30myr0m30", "balcony");
    const romeo = await connect("romeo", "j0liet", "orchard");
    const romeo2 = await connect("romeo", "j0liet", "garden");
    romeo.send(xml("presence", {}, xml("priority", {}, "5")));
    romeo2.send(xml("presence", {}, xml("priority", {}, "1")));
    juliet.send(xml("presence"));
    await juliet.next(presenceFrom(romeo.jid));
    await juliet.next(presenceFrom(romeo2.jid));
    juliet.send(xml("message", { to: `romeo@${DOMAIN}`, type: "chat", id: "m1" }, xml("body", {}, "Wherefore art thou?")));
    const m = await romeo.next((s) => s.name === "message", "the message");
    expect(m.getChildText("body")).toBe("Wherefore art thou?");
    expect(m.attr("from")).toBe(juliet.jid);
    expect(romeo2.got.filter((s) => s.name === "message")).toEqual([]);
  });

  it("use case 6: changing presence — show, status and priority reach subscribers and the other resources", async () => {
    const juliet = await connect("juliet", "r0m30myr0m30", "balcony");
    const romeo = await connect("romeo", "j0liet", "orchard");
    romeo.send(xml("presence"));
    juliet.send(xml("presence"));
    await romeo.next(presenceFrom(juliet.jid), "juliet's initial presence");
    juliet.send(xml("presence", {}, xml("show", {}, "away"), xml("status", {}, "at the ball"), xml("priority", {}, "3")));
    const p = await romeo.next((s) => presenceFrom(juliet.jid)(s) && s.getChildText("show") === "away", "juliet's away presence");
    expect(p.getChildText("status")).toBe("at the ball");
    expect(p.getChildText("priority")).toBe("3");
    // Nurse has no subscription: she gets nothing.
    const nurse = await connect("nurse", "p0tion", "kitchen");
    nurse.send(xml("presence"));
    juliet.send(xml("presence", {}, xml("show", {}, "dnd")));
    await romeo.next((s) => presenceFrom(juliet.jid)(s) && s.getChildText("show") === "dnd");
    expect(nurse.got.filter((s) => s.name === "presence" && s.attr("from")?.startsWith("juliet@"))).toEqual([]);
  });

  it("use case 7: logging out — unavailable presence goes to the subscribers", async () => {
    const juliet = await connect("juliet", "r0m30myr0m30", "balcony");
    const romeo = await connect("romeo", "j0liet", "orchard");
    romeo.send(xml("presence"));
    juliet.send(xml("presence"));
    await romeo.next(presenceFrom(juliet.jid));
    const julietJid = juliet.jid;
    await juliet.client.close();
    await romeo.next(presenceFrom(julietJid, "unavailable"), "juliet's unavailable presence");
  });

  it("a probe on initial presence: the new resource learns the contacts' current presence", async () => {
    const romeo = await connect("romeo", "j0liet", "orchard");
    romeo.send(xml("presence", {}, xml("status", {}, "under the window")));
    const juliet = await connect("juliet", "r0m30myr0m30", "balcony");
    juliet.send(xml("presence"));
    const p = await juliet.next(presenceFrom(romeo.jid), "romeo's presence, answered to the probe");
    expect(p.getChildText("status")).toBe("under the window");
  });

  it("an offline message (XEP-0160) is stored, then delivered on initial presence with a XEP-0203 delay, and deleted", async () => {
    const juliet = await connect("juliet", "r0m30myr0m30", "balcony");
    juliet.send(xml("message", { to: `nurse@${DOMAIN}`, type: "chat", id: "off1" }, xml("body", {}, "Tell him to come"), xml("x", { xmlns: "jabber:x:event" }, xml("offline"))));
    const note = await juliet.next((s) => s.name === "message" && s.getChild("x", "jabber:x:event") !== undefined, "the jabber:x:event offline notification");
    expect(note.getChild("x", "jabber:x:event")!.getChildText("id")).toBe("off1");
    expect(storage.offline.count("nurse")).toBe(1);
    const nurse = await connect("nurse", "p0tion", "kitchen");
    expect(storage.offline.count("nurse")).toBe(1); // bound but not available: kept
    nurse.send(xml("presence"));
    const m = await nurse.next((s) => s.name === "message", "the offline message");
    expect(m.getChildText("body")).toBe("Tell him to come");
    const delay = m.getChild("delay", "urn:xmpp:delay");
    expect(delay?.attr("from")).toBe(DOMAIN);
    expect(delay?.attr("stamp")).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(storage.offline.count("nurse")).toBe(0);
  });

  it("offline storage is bounded: past the limit the sender gets <service-unavailable/>", async () => {
    const juliet = await connect("juliet", "r0m30myr0m30", "balcony");
    for (let i = 0; i < 100; i++) storage.offline.store("nurse", `<message xmlns='jabber:client' from='juliet@${DOMAIN}/x' to='nurse@${DOMAIN}' type='chat'><body>${i}</body></message>`, Date.now());
    juliet.send(xml("message", { to: `nurse@${DOMAIN}`, type: "chat", id: "full" }, xml("body", {}, "one too many")));
    const err = await juliet.next((s) => s.name === "message" && s.attr("type") === "error", "the error");
    expect(err.getChild("error")?.getChild("service-unavailable", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeDefined();
    storage.offline.take("nurse", Date.now());
  });

  it("blocking (XEP-0191): a blocked contact's messages are refused, presence to it stops, unblock restores", async () => {
    const juliet = await connect("juliet", "r0m30myr0m30", "balcony");
    const romeo = await connect("romeo", "j0liet", "orchard");
    romeo.send(xml("presence"));
    juliet.send(xml("presence"));
    await romeo.next(presenceFrom(juliet.jid));
    await juliet.iq(xml("iq", { type: "set" }, xml("block", { xmlns: "urn:xmpp:blocking" }, xml("item", { jid: `romeo@${DOMAIN}` }))));
    await romeo.next(presenceFrom(juliet.jid, "unavailable"), "unavailable to the blocked subscriber");
    expect(storage.blocklists.list("juliet")).toEqual([`romeo@${DOMAIN}`]);
    const list = await juliet.iq(xml("iq", { type: "get" }, xml("blocklist", { xmlns: "urn:xmpp:blocking" })));
    expect(list.getChild("blocklist", "urn:xmpp:blocking")!.getChildren("item").map((i) => i.attr("jid"))).toEqual([`romeo@${DOMAIN}`]);
    romeo.send(xml("message", { to: juliet.jid, type: "chat", id: "b1" }, xml("body", {}, "hello?")));
    const err = await romeo.next((s) => s.name === "message" && s.attr("type") === "error");
    expect(err.getChild("error")?.getChild("service-unavailable", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeDefined();
    await juliet.iq(xml("iq", { type: "set" }, xml("unblock", { xmlns: "urn:xmpp:blocking" })));
    await romeo.next(presenceFrom(juliet.jid), "presence again after unblock");
    expect(storage.blocklists.list("juliet")).toEqual([]);
  });

  it("roster remove: push subscription=remove, the contact gets unsubscribe and unsubscribed", async () => {
    const nurse = await connect("nurse", "p0tion", "kitchen");
    const juliet = await connect("juliet", "r0m30myr0m30", "balcony");
    juliet.send(xml("presence"));
    await rosterGet(nurse);
    nurse.send(xml("presence", { to: `juliet@${DOMAIN}`, type: "subscribe" }));
    await juliet.next(presenceFrom(`nurse@${DOMAIN}`, "subscribe"));
    juliet.send(xml("presence", { to: `nurse@${DOMAIN}`, type: "subscribed" }));
    await nurse.next((s) => rosterPush(`juliet@${DOMAIN}`)(s) && s.getChild("query", "jabber:iq:roster")!.getChild("item")!.attr("subscription") === "to");
    await nurse.iq(xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: `juliet@${DOMAIN}`, subscription: "remove" }))));
    await nurse.next((s) => rosterPush(`juliet@${DOMAIN}`)(s) && s.getChild("query", "jabber:iq:roster")!.getChild("item")!.attr("subscription") === "remove");
    await juliet.next(presenceFrom(`nurse@${DOMAIN}`, "unsubscribe"), "unsubscribe");
    expect(storage.rosters.getItem("nurse", `juliet@${DOMAIN}`)).toBeUndefined();
    expect(storage.rosters.getItem("juliet", `nurse@${DOMAIN}`)?.subscription ?? "none").toBe("none");
  });

  it("vcard-temp, private XML, disco, version, ping, and errors for what is not served", async () => {
    const juliet = await connect("juliet", "r0m30myr0m30", "balcony");
    const romeo = await connect("romeo", "j0liet", "orchard");
    await juliet.iq(xml("iq", { type: "set" }, xml("vCard", { xmlns: "vcard-temp" }, xml("FN", {}, "Juliet Capulet"))));
    const v = await romeo.iq(xml("iq", { type: "get", to: `juliet@${DOMAIN}` }, xml("vCard", { xmlns: "vcard-temp" })));
    expect(v.getChild("vCard", "vcard-temp")?.getChildText("FN")).toBe("Juliet Capulet");
    await expect(romeo.iq(xml("iq", { type: "set", to: `juliet@${DOMAIN}` }, xml("vCard", { xmlns: "vcard-temp" })))).rejects.toThrow(/not-allowed/);
    await juliet.iq(xml("iq", { type: "set" }, xml("query", { xmlns: "jabber:iq:private" }, xml("prefs", { xmlns: "x:prefs" }, xml("color", {}, "red")))));
    const priv = await juliet.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:private" }, xml("prefs", { xmlns: "x:prefs" }))));
    expect(priv.getChild("query", "jabber:iq:private")?.getChild("prefs", "x:prefs")?.getChildText("color")).toBe("red");
    await expect(romeo.iq(xml("iq", { type: "get", to: `juliet@${DOMAIN}` }, xml("query", { xmlns: "jabber:iq:private" }, xml("prefs", { xmlns: "x:prefs" }))))).rejects.toThrow(/forbidden|service-unavailable/);
    const info = await juliet.iq(xml("iq", { type: "get", to: DOMAIN }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    const features = info.getChild("query", "http://jabber.org/protocol/disco#info")!.getChildren("feature").map((f) => f.attr("var"));
    expect(features).toEqual(expect.arrayContaining(["urn:xmpp:blocking", "vcard-temp", "jabber:iq:private", "urn:xmpp:carbons:2", "urn:xmpp:ping", "jabber:iq:version", "msgoffline"]));
    const version = await juliet.iq(xml("iq", { type: "get", to: DOMAIN }, xml("query", { xmlns: "jabber:iq:version" })));
    expect(version.getChild("query", "jabber:iq:version")?.getChildText("name")).toBe("xmpp-sansio");
    expect(version.getChild("query", "jabber:iq:version")?.getChildText("version")).toBeDefined();
    expect((await juliet.iq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })))).attr("type")).toBe("result");
    await expect(juliet.iq(xml("iq", { type: "get", to: DOMAIN }, xml("query", { xmlns: "urn:example:nothing" })))).rejects.toThrow(/service-unavailable/);
    await expect(juliet.iq(xml("iq", { type: "get", to: "elsewhere.example" }, xml("ping", { xmlns: "urn:xmpp:ping" })))).rejects.toThrow(/remote-server-not-found/);
  });

  it("message carbons (XEP-0280): sent and received copies to the other enabled resources, private opts out", async () => {
    const j1 = await connect("juliet", "r0m30myr0m30", "balcony");
    const j2 = await connect("juliet", "r0m30myr0m30", "chamber");
    const romeo = await connect("romeo", "j0liet", "orchard");
    for (const p of [j1, j2, romeo]) p.send(xml("presence"));
    await j2.iq(xml("iq", { type: "set" }, xml("enable", { xmlns: "urn:xmpp:carbons:2" })));
    await romeo.next(presenceFrom(j2.jid));
    j1.send(xml("message", { to: romeo.jid, type: "chat" }, xml("body", {}, "sent copy")));
    const sent = await j2.next((s) => s.getChild("sent", "urn:xmpp:carbons:2") !== undefined, "the sent carbon");
    expect(sent.getChild("sent", "urn:xmpp:carbons:2")!.getChild("forwarded", "urn:xmpp:forward:0")!.getChild("message", "jabber:client")?.getChildText("body")).toBe("sent copy");
    romeo.send(xml("message", { to: j1.jid, type: "chat" }, xml("body", {}, "received copy")));
    const received = await j2.next((s) => s.getChild("received", "urn:xmpp:carbons:2") !== undefined, "the received carbon");
    expect(received.attr("from")).toBe(`juliet@${DOMAIN}`);
    romeo.send(xml("message", { to: j1.jid, type: "chat" }, xml("body", {}, "secret"), xml("private", { xmlns: "urn:xmpp:carbons:2" })));
    await j1.next((s) => s.getChildText("body") === "secret");
    romeo.send(xml("message", { to: j1.jid, type: "chat" }, xml("body", {}, "marker")));
    await j2.next((s) => s.getChild("received", "urn:xmpp:carbons:2") !== undefined);
    expect(j2.got.some((s) => s.toString().includes("secret"))).toBe(false);
  });

  it("jabber:x:expire (XEP-0023) in the offline store: an expired message is dropped, a live one gets the time left", async () => {
    const juliet = await connect("juliet", "r0m30myr0m30", "balcony");
    juliet.send(xml("message", { to: `nurse@${DOMAIN}`, type: "chat" }, xml("body", {}, "gone"), xml("x", { xmlns: "jabber:x:expire", seconds: "0" })));
    juliet.send(xml("message", { to: `nurse@${DOMAIN}`, type: "chat" }, xml("body", {}, "kept"), xml("x", { xmlns: "jabber:x:expire", seconds: "3600" })));
    await juliet.iq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" }))); // both handled by now
    const nurse = await connect("nurse", "p0tion", "kitchen");
    nurse.send(xml("presence"));
    const m = await nurse.next((s) => s.name === "message", "the live message");
    expect(m.getChildText("body")).toBe("kept");
    expect(Number(m.getChild("x", "jabber:x:expire")?.attr("seconds"))).toBeGreaterThan(3500);
    expect(m.getChild("delay", "urn:xmpp:delay")).toBeDefined();
    await nurse.iq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(nurse.got.filter((s) => s.getChildText("body") === "gone")).toEqual([]);
    expect(storage.offline.count("nurse")).toBe(0);
  });

  it("unsubscribed: cancelling a contact's subscription pushes the new states to both and sends unavailable", async () => {
    const juliet = await connect("juliet", "r0m30myr0m30", "balcony");
    const romeo = await connect("romeo", "j0liet", "orchard");
    await rosterGet(juliet);
    await rosterGet(romeo);
    romeo.send(xml("presence"));
    juliet.send(xml("presence"));
    await romeo.next(presenceFrom(juliet.jid));
    juliet.send(xml("presence", { to: `romeo@${DOMAIN}`, type: "unsubscribed" }));
    await juliet.next((s) => rosterPush(`romeo@${DOMAIN}`)(s) && s.getChild("query", "jabber:iq:roster")!.getChild("item")!.attr("subscription") === "to");
    await romeo.next((s) => rosterPush(`juliet@${DOMAIN}`)(s) && s.getChild("query", "jabber:iq:roster")!.getChild("item")!.attr("subscription") === "from");
    await romeo.next(presenceFrom(`juliet@${DOMAIN}`, "unsubscribed"), "the unsubscribed presence");
    await romeo.next(presenceFrom(juliet.jid, "unavailable"), "unavailable from juliet's resource");
    expect(storage.rosters.getItem("romeo", `juliet@${DOMAIN}`)?.subscription).toBe("from");
  });
});
