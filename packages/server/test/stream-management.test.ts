// XEP-0198 Stream Management in the reference server, on loopback with raw sockets (Direct TLS, PLAIN):
// enable, acknowledgements, a dropped connection, resumption with retransmission, the takeover of a
// connection the server still thinks alive, and what happens to the stanzas of a session that expires.
// Every wait is on data or a log line; the only real time spent is the 1 s `max` of the expiry tests.
import { parseStanzaError } from "@xmpp-sansio/core";
import { XmppClient } from "@xmpp-sansio/node";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { streamManagementFromArgs } from "../src/cli.js";
import { generateSelfSignedCertificate } from "../src/certificate.js";
import { type RunningServer, type StartServerOptions, startServer } from "../src/server.js";
import { openSqliteStorage } from "../src/store/sqlite.js";
import { Inbox, NS_SM, RawClient, RawWebSocketClient, re } from "./support/raw.js";

const DOMAIN = "localhost";
const accounts = new AccountStore();
accounts.add("juliet", "r0m30myr0m30");
accounts.add("romeo", "j0liet");
const pair = generateSelfSignedCertificate({ dnsNames: [DOMAIN] });

/** A server with its log, and a wait on a log line. */
class Harness {
  readonly log: string[] = [];
  private waiters: Array<{ test: (l: string) => boolean; resolve: (l: string) => void }> = [];
  running!: RunningServer;
  private readonly open: Array<{ close(): unknown }> = [];

  async start(options: Partial<StartServerOptions> = {}): Promise<void> {
    this.running = await startServer({
      domain: DOMAIN,
      accounts,
      tls: pair,
      port: 0,
      directTlsPort: 0,
      log: (line) => {
        this.log.push(line);
        for (const w of [...this.waiters]) {
          if (w.test(line)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      },
      ...options,
    });
  }

  logLine(test: (l: string) => boolean): Promise<string> {
    const seen = this.log.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  async raw(): Promise<RawClient> {
    const c = await RawClient.connect(this.running.directTlsPort!, this.running.certificate);
    this.open.push({ close: () => c.destroy() });
    return c;
  }

  /** Our Node client, online, with an inbox of every stanza. */
  async client(jid: string, password: string): Promise<{ client: XmppClient; inbox: Inbox }> {
    const client = new XmppClient({ jid, password, host: "127.0.0.1", port: this.running.port!, tls: { ca: this.running.certificate }, reconnect: false });
    const inbox = new Inbox();
    client.on("stanza", inbox.push);
    this.open.push({ close: () => client.close() });
    await client.online();
    return { client, inbox };
  }

  async stop(): Promise<void> {
    await Promise.all(this.open.splice(0).map((c) => c.close()));
    await this.running?.close();
  }
}

const chat = (to: string, id: string) => xml("message", { to, id, type: "chat" }, xml("body", {}, `body of ${id}`));
const messageWithId = (id: string) => new RegExp(`<message\\b[^>]*\\bid='${re(id)}'[^>]*>[\\s\\S]*?</message>`);

describe("XEP-0198 on the reference server (raw socket, Direct TLS)", () => {
  const h = new Harness();
  beforeAll(() => h.start());
  afterAll(() => h.stop());

  it("enable → enabled → message → <r/> → <a h='1'/> → connection dropped → resume (h=0) → resumed → the message again", async () => {
    const { client: romeo, inbox: romeoInbox } = await h.client(`romeo@${DOMAIN}/orchard`, "j0liet");
    const juliet = await h.raw();
    const features = await juliet.login("juliet", "r0m30myr0m30");
    expect(features).toContain(`<sm xmlns='${NS_SM}'/>`);
    const jid = await juliet.bind("balcony");
    expect(jid).toBe(`juliet@${DOMAIN}/balcony`);

    juliet.write(`<enable xmlns='${NS_SM}' resume='true'/>`);
    const enabled = (await juliet.until(/<enabled [^>]*\/>/))[0];
    expect(enabled).toMatch(new RegExp(`^<enabled xmlns='${NS_SM}' id='[A-Za-z0-9_-]{22}' resume='true' max='300'/>$`));
    const id = /id='([^']+)'/.exec(enabled)![1]!;

    juliet.write("<presence/>"); // stanza 1 of ours: the server's h counts it
    romeo.send(chat(jid, "m1"));
    const first = (await juliet.until(messageWithId("m1")))[0];
    expect(first).toContain("<body>body of m1</body>");
    expect(first).toContain(`from='romeo@${DOMAIN}/orchard'`);

    juliet.write(`<r xmlns='${NS_SM}'/>`);
    await juliet.until(new RegExp(`<a xmlns='${NS_SM}' h='1'/>`));

    juliet.destroy(); // the link breaks; m1 was never acknowledged by us
    expect(await h.logLine((l) => l.startsWith(`detached ${jid} `))).toBe(`detached ${jid} (resumable for 300 s)`);
    expect(h.log).not.toContain(`offline ${jid}`);

    const again = await h.raw();
    expect(await again.login("juliet", "r0m30myr0m30")).toContain(`<sm xmlns='${NS_SM}'/>`);
    again.write(`<resume xmlns='${NS_SM}' previd='${id}' h='0'/>`);
    // The server handled 1 stanza of ours (the presence); it sends m1 again, the one we never acknowledged.
    await again.until(new RegExp(`<resumed xmlns='${NS_SM}' previd='${re(id)}' h='1'/>`));
    const resent = (await again.until(messageWithId("m1")))[0];
    expect(resent).toBe(first);
    expect(await h.logLine((l) => l.startsWith(`resumed ${jid} `))).toMatch(/\(direct TLS, PLAIN\)$/);

    // The resumed stream is the same session: it kept its presence (a message to the bare JID goes to its
    // only available resource), new stanzas reach it, and the counters go on.
    romeo.send(chat(`juliet@${DOMAIN}`, "m2"));
    await again.until(messageWithId("m2"));
    again.write(`<message to='romeo@${DOMAIN}/orchard' id='j1' type='chat'><body>still here</body></message><r xmlns='${NS_SM}'/>`);
    await again.until(new RegExp(`<a xmlns='${NS_SM}' h='2'/>`));
    const reply = await romeoInbox.next((s) => s.attr("id") === "j1");
    expect(reply.attr("from")).toBe(jid);
    expect(romeoInbox.all.filter((s) => s.attr("type") === "error")).toEqual([]);

    // A clean close acknowledges everything: nothing comes back to romeo, and the resource goes offline.
    again.write(`<a xmlns='${NS_SM}' h='2'/></stream:stream>`);
    await again.closed;
    await h.logLine((l) => l === `offline ${jid}`);
    expect(h.running.sessions.detachedCount).toBe(0);
  });

  it("a resumption while the old connection is still open takes it over; the old one gets <conflict/>", async () => {
    const old = await h.raw();
    await old.login("juliet", "r0m30myr0m30");
    const jid = await old.bind("chamber");
    old.write(`<enable xmlns='${NS_SM}' resume='true' max='60'/>`);
    const id = (await old.until(/<enabled [^>]*id='([^']+)'[^>]*max='60'\/>/))[1]!;
    const { client: romeo } = await h.client(`romeo@${DOMAIN}/garden`, "j0liet");
    romeo.send(chat(jid, "t1"));
    await old.until(messageWithId("t1"));

    const fresh = await h.raw();
    await fresh.login("juliet", "r0m30myr0m30");
    fresh.write(`<resume xmlns='${NS_SM}' previd='${id}' h='0'/>`);
    await fresh.until(new RegExp(`<resumed xmlns='${NS_SM}' previd='${re(id)}' h='0'/>`));
    await fresh.until(messageWithId("t1"));
    await old.until(/<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/><text [^>]*>replaced by a resumed stream<\/text><\/stream:error>/);
    await old.closed;
    await h.logLine((l) => l === `takeover ${jid} (its old connection is closed with <conflict/>)`);
    expect(h.log).not.toContain(`offline ${jid}`);
    romeo.send(chat(jid, "t2"));
    await fresh.until(messageWithId("t2"));
    fresh.destroy();
  });

  it("an unknown or foreign previd is refused with item-not-found; the session of another account is not touched", async () => {
    const owner = await h.raw();
    await owner.login("juliet", "r0m30myr0m30");
    await owner.bind("study");
    owner.write(`<enable xmlns='${NS_SM}' resume='true'/>`);
    const id = (await owner.until(/<enabled [^>]*id='([^']+)'/))[1]!;
    const intruder = await h.raw();
    await intruder.login("romeo", "j0liet");
    intruder.write(`<resume xmlns='${NS_SM}' previd='${id}' h='0'/>`);
    await intruder.until(new RegExp(`<failed xmlns='${NS_SM}'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`));
    intruder.write(`<resume xmlns='${NS_SM}' previd='no-such-id' h='0'/>`);
    await intruder.until(/<failed xmlns='urn:xmpp:sm:3'><item-not-found /);
    // The owner's session still works.
    owner.write(`<r xmlns='${NS_SM}'/>`);
    await owner.until(new RegExp(`<a xmlns='${NS_SM}' h='0'/>`));
    owner.destroy();
    intruder.destroy();
  });
});

describe("XEP-0198 across transports", () => {
  const h = new Harness();
  beforeAll(() => h.start({ websocket: { port: 0, tls: true } }));
  afterAll(() => h.stop());

  it("a session begun over TCP (Direct TLS) is resumed over wss: (RFC 7395 framing)", async () => {
    const { client: romeo } = await h.client(`romeo@${DOMAIN}/orchard`, "j0liet");
    const tcp = await h.raw();
    await tcp.login("juliet", "r0m30myr0m30");
    const jid = await tcp.bind("balcony");
    tcp.write(`<enable xmlns='${NS_SM}' resume='true'/>`);
    const id = (await tcp.until(/<enabled [^>]*id='([^']+)'/))[1]!;
    romeo.send(chat(jid, "w1"));
    await tcp.until(messageWithId("w1"));
    tcp.destroy();
    await h.logLine((l) => l.startsWith(`detached ${jid} `));
    romeo.send(chat(jid, "w2")); // held

    const ws = await RawWebSocketClient.connect(`wss://localhost:${h.running.websocketPort}/xmpp-websocket`, h.running.certificate);
    try {
      expect(await ws.login("juliet", "r0m30myr0m30")).toContain(`<sm xmlns='${NS_SM}'/>`);
      ws.write(`<resume xmlns='${NS_SM}' previd='${id}' h='0'/>`);
      await ws.until(new RegExp(`<resumed xmlns='${NS_SM}' previd='${re(id)}' h='0'/>`));
      await ws.until(messageWithId("w1"));
      await ws.until(messageWithId("w2"));
      expect(await h.logLine((l) => l.startsWith(`resumed ${jid} `))).toMatch(/\(WebSocket wss, PLAIN\)$/);
      romeo.send(chat(jid, "w3"));
      await ws.until(messageWithId("w3"));
      ws.write(`<r xmlns='${NS_SM}'/>`);
      await ws.until(new RegExp(`<a xmlns='${NS_SM}' h='0'/>`));
    } finally {
      ws.close();
    }
  });
});

describe("XEP-0198 §6 on the reference server: a detached session that expires", () => {
  let h: Harness;
  afterEach(() => h.stop());

  /** juliet (raw) enables SM with max='1', gets m1 without acknowledging it, and her link breaks. */
  async function detachJuliet(resource: string, presence = true) {
    const juliet = await h.raw();
    await juliet.login("juliet", "r0m30myr0m30");
    const jid = await juliet.bind(resource);
    juliet.write(`<enable xmlns='${NS_SM}' resume='true' max='1'/>`);
    await juliet.until(/<enabled [^>]*max='1'\/>/);
    if (presence) juliet.write("<presence/>");
    const { client: romeo, inbox } = await h.client(`romeo@${DOMAIN}/orchard`, "j0liet");
    romeo.send(chat(jid, "m1"));
    await juliet.until(messageWithId("m1"));
    juliet.destroy();
    await h.logLine((l) => l.startsWith(`detached ${jid} `));
    romeo.send(chat(jid, "m2")); // held for the detached session
    return { jid, romeo, inbox };
  }

  const errorFor = (inbox: Inbox, id: string) => inbox.next((s) => s.name === "message" && s.attr("type") === "error" && s.attr("id") === id);

  it("returns its messages to the sender as <service-unavailable/> errors", async () => {
    h = new Harness();
    await h.start();
    const { jid, inbox } = await detachJuliet("balcony");
    for (const id of ["m1", "m2"]) {
      const err = await errorFor(inbox, id);
      expect(parseStanzaError(err).condition).toBe("service-unavailable");
      expect(err.attr("from")).toBe(jid);
      expect(err.getChildText("body")).toBe(`body of ${id}`);
    }
    expect(await h.logLine((l) => l.startsWith(`expired ${jid} `))).toBe(`expired ${jid} (2 unacknowledged stanzas treated as undeliverable)`);
    expect(h.running.sessions.detachedCount).toBe(0);
  });

  it("without resume='true' nothing is kept: the unacknowledged message comes back at once when the link breaks", async () => {
    h = new Harness();
    await h.start();
    const juliet = await h.raw();
    await juliet.login("juliet", "r0m30myr0m30");
    const jid = await juliet.bind("balcony");
    juliet.write(`<enable xmlns='${NS_SM}'/>`);
    expect((await juliet.until(/<enabled [^>]*\/>/))[0]).toBe(`<enabled xmlns='${NS_SM}'/>`);
    const { client: romeo, inbox } = await h.client(`romeo@${DOMAIN}/orchard`, "j0liet");
    romeo.send(chat(jid, "n1"));
    await juliet.until(messageWithId("n1"));
    juliet.destroy();
    expect(parseStanzaError(await errorFor(inbox, "n1")).condition).toBe("service-unavailable");
    await h.logLine((l) => l === `offline ${jid}`);
    expect(h.log.some((l) => l.startsWith("detached "))).toBe(false);
  });

  it("hands them to the offlineStore hook instead, when it takes them (no error to the sender)", async () => {
    h = new Harness();
    const stored: XmlElement[] = [];
    let allStored!: () => void;
    const done = new Promise<void>((r) => (allStored = r));
    await h.start({
      offlineStore: (stanza) => {
        stored.push(stanza);
        if (stored.length === 2) allStored();
        return true;
      },
    });
    const { romeo, inbox } = await detachJuliet("balcony");
    await done;
    expect(stored.map((s) => s.attr("id"))).toEqual(["m1", "m2"]);
    expect(stored[0]!.attr("from")).toBe(`romeo@${DOMAIN}/orchard`);
    // A round trip after the store took them: an error would have been written before this answer.
    await romeo.iq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(inbox.all.filter((s) => s.attr("type") === "error")).toEqual([]);
  });

  it("with storage (the IM server) they go to the database's offline store once, and arrive at the next login with a delay", async () => {
    h = new Harness();
    const storage = openSqliteStorage(":memory:");
    const imAccounts = new AccountStore({ records: storage.accounts });
    imAccounts.add("juliet", "r0m30myr0m30");
    imAccounts.add("romeo", "j0liet");
    {
      // (the in-memory database is left to the garbage collector: the server's close in afterEach may still store)
      await h.start({ storage, accounts: imAccounts });
      const { jid, romeo, inbox } = await detachJuliet("balcony");
      await h.logLine((l) => l.startsWith(`expired ${jid} `));
      await romeo.iq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
      expect(inbox.all.filter((s) => s.attr("type") === "error")).toEqual([]);
      expect(storage.offline.count("juliet")).toBe(2);
      const { client: juliet, inbox: julietInbox } = await h.client(`juliet@${DOMAIN}/tower`, "r0m30myr0m30");
      juliet.send(xml("presence"));
      for (const id of ["m1", "m2"]) {
        const m = await julietInbox.next((s) => s.name === "message" && s.attr("id") === id);
        expect(m.getChild("delay", "urn:xmpp:delay")?.attr("from")).toBe(DOMAIN);
      }
      expect(storage.offline.count("juliet")).toBe(0);
    }
  });

  it("another available resource takes them; the unavailable presence is broadcast at expiry, not at detach", async () => {
    h = new Harness();
    await h.start();
    const { client: other, inbox: otherInbox } = await h.client(`juliet@${DOMAIN}/tower`, "r0m30myr0m30");
    other.send(xml("presence", {}, xml("priority", {}, "1")));
    const { jid, romeo, inbox } = await detachJuliet("balcony");
    await otherInbox.next((s) => s.name === "presence" && s.attr("from") === jid && s.attr("type") === undefined);
    // Detached: the resource is still available for presence.
    await other.iq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(otherInbox.all.some((s) => s.name === "presence" && s.attr("type") === "unavailable")).toBe(false);
    // Expired: unavailable presence, then the messages reach the other resource as sent to the bare JID.
    const unavailable = await otherInbox.next((s) => s.name === "presence" && s.attr("type") === "unavailable");
    expect(unavailable.attr("from")).toBe(jid);
    for (const id of ["m1", "m2"]) {
      const m = await otherInbox.next((s) => s.name === "message" && s.attr("id") === id);
      expect(m.attr("from")).toBe(`romeo@${DOMAIN}/orchard`);
    }
    await romeo.iq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(inbox.all.filter((s) => s.attr("type") === "error")).toEqual([]);
  });
});

describe("the streamManagement option", () => {
  it("false: no <sm/> feature, and <enable/> is answered with <unsupported-stanza-type/>", async () => {
    const h = new Harness();
    await h.start({ streamManagement: false });
    try {
      const c = await h.raw();
      expect(await c.login("juliet", "r0m30myr0m30")).not.toContain("urn:xmpp:sm:3");
      await c.bind("balcony");
      c.write(`<enable xmlns='${NS_SM}'/>`);
      await c.until(/<unsupported-stanza-type /);
      await c.closed;
    } finally {
      await h.stop();
    }
  });

  it("maxResumeSeconds caps the max granted", async () => {
    const h = new Harness();
    await h.start({ streamManagement: { maxResumeSeconds: 30 } });
    try {
      const c = await h.raw();
      await c.login("juliet", "r0m30myr0m30");
      await c.bind("balcony");
      c.write(`<enable xmlns='${NS_SM}' resume='true' max='600'/>`);
      await c.until(/<enabled [^>]*resume='true' max='30'\/>/);
      c.destroy();
    } finally {
      await h.stop();
    }
  });
});

describe("serve's Stream Management options", () => {
  it("parses --no-sm, --sm-max-resume and --sm-max-detached, and refuses nonsense", () => {
    expect(streamManagementFromArgs({})).toEqual({});
    expect(streamManagementFromArgs({ "no-sm": true })).toBe(false);
    expect(streamManagementFromArgs({ "sm-max-resume": "60", "sm-max-detached": "100" })).toEqual({ maxResumeSeconds: 60, maxDetached: 100 });
    expect(streamManagementFromArgs({ "sm-max-resume": "-1" })).toMatch(/^--sm-max-resume/);
    expect(streamManagementFromArgs({ "sm-max-resume": "1.5" })).toMatch(/^--sm-max-resume/);
    expect(streamManagementFromArgs({ "sm-max-detached": "many" })).toMatch(/^--sm-max-detached/);
    expect(streamManagementFromArgs({ "no-sm": true, "sm-max-resume": "60" })).toMatch(/^--no-sm/);
  });
});
