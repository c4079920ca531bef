// External components (XEP-0114) in the reference server, on loopback: our XmppComponent connects to the
// server's component port and exchanges stanzas with clients (IM server on SQLite, and the plain router).
import { ConnectionError, StreamErrorException, XmppClient, XmppComponent } from "@xmpp-sansio/node";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterEach, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { generateSelfSignedCertificate } from "../src/certificate.js";
import { type RunningServer, startServer } from "../src/server.js";
import { openSqliteStorage } from "../src/store/sqlite.js";

const DOMAIN = "localhost";
const COMP = "comp.localhost";
const SECRET = "c0mp0nent-s3cr3t";
const tls = generateSelfSignedCertificate({ dnsNames: [DOMAIN] });

/** Collects stanzas from an emitter and waits for one that passes a test. */
class Inbox {
  readonly got: XmlElement[] = [];
  private waiters: Array<{ test: (s: XmlElement) => boolean; resolve: (s: XmlElement) => void }> = [];
  constructor(source: { on(ev: "stanza", fn: (s: XmlElement) => void): unknown }) {
    source.on("stanza", (s) => {
      this.got.push(s);
      for (const w of [...this.waiters]) {
        if (w.test(s)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          this.got.splice(this.got.indexOf(s), 1);
          w.resolve(s);
        }
      }
    });
  }
  next(test: (s: XmlElement) => boolean, what = "a stanza"): Promise<XmlElement> {
    const i = this.got.findIndex(test);
    if (i >= 0) return Promise.resolve(this.got.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${this.got.map((g) => g.toString()).join("\n")}`)), 4000);
      this.waiters.push({
        test,
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
      });
    });
  }
}

const body = (text: string) => (s: XmlElement) => s.name === "message" && s.getChildText("body") === text;
const errorOf = (s: XmlElement) => s.getChild("error")?.firstElement()?.name;

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of stops.splice(0).reverse()) await f().catch(() => {});
});

/** The storage of the last server started with one (for checks on the offline store). */
let lastStorage: ReturnType<typeof openSqliteStorage> | undefined;

async function server(withStorage: boolean, extra: Partial<Parameters<typeof startServer>[0]> = {}): Promise<RunningServer> {
  const storage = withStorage ? openSqliteStorage(":memory:") : undefined;
  lastStorage = storage;
  const accounts = storage === undefined ? new AccountStore() : new AccountStore({ records: storage.accounts });
  accounts.add("juliet", "r0m30myr0m30");
  accounts.add("romeo", "j0liet");
  const running = await startServer({
    domain: DOMAIN,
    accounts,
    tls,
    port: 0,
    ...(storage === undefined ? {} : { storage }),
    components: { port: 0, secrets: { [COMP]: SECRET, "other.localhost": "another-secret" } },
    ...extra,
  });
  stops.push(async () => {
    await running.close();
    storage?.close();
  });
  return running;
}

function component(running: RunningServer, options: { secret?: string; domain?: string } = {}) {
  const c = new XmppComponent({ domain: options.domain ?? COMP, secret: options.secret ?? SECRET, host: "127.0.0.1", port: running.componentPort!, reconnect: false });
  c.on("error", () => {});
  stops.push(() => c.close());
  return { c, inbox: new Inbox(c) };
}

async function client(running: RunningServer, user: string, password: string) {
  const c = new XmppClient({ jid: `${user}@${DOMAIN}/desk`, password, host: "127.0.0.1", port: running.port!, tls: { ca: tls.cert } });
  stops.push(() => c.close());
  const inbox = new Inbox(c);
  await c.online();
  return { c, inbox };
}

describe("components in the reference server (IM server on SQLite)", () => {
  it("a component exchanges messages with a client both ways, reaches an offline user's store, and sends presence", async () => {
    const running = await server(true);
    const { c: comp, inbox: compIn } = component(running);
    await comp.online();
    const juliet = await client(running, "juliet", "r0m30myr0m30");
    juliet.c.send(xml("presence"));

    juliet.c.send(xml("message", { to: `echo@${COMP}`, type: "chat" }, xml("body", {}, "hello component")));
    const atComp = await compIn.next(body("hello component"), "juliet's message at the component");
    expect(atComp.attr("from")).toBe(`juliet@${DOMAIN}/desk`);
    expect(atComp.ns).toBe("jabber:component:accept");

    comp.send(xml("message", { from: `echo@${COMP}/bot`, to: `juliet@${DOMAIN}`, type: "chat" }, xml("body", {}, "hello juliet")));
    const atJuliet = await juliet.inbox.next(body("hello juliet"), "the component's message at juliet");
    expect(atJuliet.attr("from")).toBe(`echo@${COMP}/bot`);
    expect(atJuliet.ns).toBe("jabber:client");

    // To the component's domain itself, and an IQ answered by the component.
    comp.on("iq", (iq) => comp.send(xml("iq", { type: "result", id: iq.attr("id"), from: iq.attr("to"), to: iq.attr("from") })));
    const pong = await juliet.c.iq(xml("iq", { type: "get", to: COMP }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(pong.attr("type")).toBe("result");

    // romeo is offline: the message waits in his store and comes when he is available.
    comp.send(xml("message", { from: `echo@${COMP}`, to: `romeo@${DOMAIN}`, type: "chat" }, xml("body", {}, "while you were away")));
    await expect.poll(() => lastStorage!.offline.count("romeo")).toBe(1);
    const romeo = await client(running, "romeo", "j0liet");
    romeo.c.send(xml("presence"));
    const stored = await romeo.inbox.next(body("while you were away"), "the offline message");
    expect(stored.getChild("delay", "urn:xmpp:delay")).toBeDefined();

    // Presence: a subscription request from the component reaches juliet.
    comp.send(xml("presence", { from: `echo@${COMP}`, to: `juliet@${DOMAIN}`, type: "subscribe" }));
    await juliet.inbox.next((s) => s.name === "presence" && s.attr("type") === "subscribe" && s.attr("from") === `echo@${COMP}`, "the subscription request");
  });

  it("a client subscribes to a component's JID: the component gets the request, its answer lands in the roster, its presence reaches the client", async () => {
    const running = await server(true);
    const { c: comp, inbox: compIn } = component(running);
    await comp.online();
    const juliet = await client(running, "juliet", "r0m30myr0m30");
    await juliet.c.iq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    juliet.c.send(xml("presence"));
    juliet.c.send(xml("presence", { to: `echo@${COMP}`, type: "subscribe" }));
    const request = await compIn.next((s) => s.name === "presence" && s.attr("type") === "subscribe", "the subscription request at the component");
    expect(request.attr("from")).toBe(`juliet@${DOMAIN}`);
    comp.send(xml("presence", { from: `echo@${COMP}`, to: `juliet@${DOMAIN}`, type: "subscribed" }));
    const push = await juliet.inbox.next(
      (s) => s.name === "iq" && s.getChild("query", "jabber:iq:roster")?.getChild("item")?.attr("subscription") === "to",
      "the roster push with subscription 'to'",
    );
    expect(push.getChild("query", "jabber:iq:roster")?.getChild("item")?.attr("jid")).toBe(`echo@${COMP}`);
    comp.send(xml("presence", { from: `echo@${COMP}/bot`, to: `juliet@${DOMAIN}` }, xml("status", {}, "ready")));
    const available = await juliet.inbox.next((s) => s.name === "presence" && s.attr("from") === `echo@${COMP}/bot` && s.attr("type") === undefined, "the component's presence");
    expect(available.getChildText("status")).toBe("ready");
  });

  it("a wrong secret is refused with <not-authorized/>; a second connection for the domain with <conflict/>", async () => {
    const running = await server(true);
    const wrong = component(running, { secret: "guess" });
    const err = await wrong.c.online().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamErrorException);
    expect((err as StreamErrorException).condition).toBe("not-authorized");

    const first = component(running);
    await first.c.online();
    const second = component(running);
    const err2 = await second.c.online().catch((e: unknown) => e);
    expect((err2 as StreamErrorException).condition).toBe("conflict");
    expect(first.c.isOnline).toBe(true);
    expect(running.components?.listener.connectionFor(COMP)).toBeDefined();
  });

  it("a forged 'from' ends the component's stream with <invalid-from/>; the stanza goes nowhere", async () => {
    const running = await server(true);
    const juliet = await client(running, "juliet", "r0m30myr0m30");
    juliet.c.send(xml("presence"));
    const { c: comp } = component(running);
    await comp.online();
    const closed = new Promise<{ error?: Error }>((r) => comp.once("close", r));
    comp.send(xml("message", { from: `romeo@${DOMAIN}`, to: `juliet@${DOMAIN}` }, xml("body", {}, "forged")));
    const info = await closed;
    expect(info.error).toBeInstanceOf(StreamErrorException);
    expect((info.error as StreamErrorException).condition).toBe("invalid-from");
    // Another configured component's domain is not this one's either.
    const { c: comp2 } = component(running);
    await comp2.online();
    const closed2 = new Promise<{ error?: Error }>((r) => comp2.once("close", r));
    comp2.send(xml("message", { from: "other.localhost", to: `juliet@${DOMAIN}` }, xml("body", {}, "forged too")));
    expect(((await closed2).error as StreamErrorException).condition).toBe("invalid-from");
    // A fence: anything routed to juliet before would reach her before the answer to this ping.
    await juliet.c.iq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(juliet.inbox.got.some(body("forged"))).toBe(false);
    expect(juliet.inbox.got.some(body("forged too"))).toBe(false);
  });

  it("stanzas to a component that is not connected are bounced with <service-unavailable type='wait'/>; other domains get <remote-server-not-found/>", async () => {
    const running = await server(true);
    const juliet = await client(running, "juliet", "r0m30myr0m30");
    juliet.c.send(xml("presence"));
    juliet.c.send(xml("message", { to: `echo@${COMP}`, id: "m1", type: "chat" }, xml("body", {}, "anyone?")));
    const bounced = await juliet.inbox.next((s) => s.attr("type") === "error" && s.attr("id") === "m1", "the bounce");
    expect(errorOf(bounced)).toBe("service-unavailable");
    expect(bounced.getChild("error")?.attr("type")).toBe("wait");
    expect(bounced.attr("from")).toBe(`echo@${COMP}`);
    // The component came and went: the same answer.
    const { c: comp } = component(running);
    await comp.online();
    await comp.close();
    await expect.poll(() => running.components?.listener.connectionFor(COMP)).toBeUndefined();
    const err = await juliet.c.iq(xml("iq", { type: "get", to: COMP }, xml("ping", { xmlns: "urn:xmpp:ping" }))).catch((e: unknown) => e);
    expect((err as { condition?: string }).condition).toBe("service-unavailable");
    juliet.c.send(xml("message", { to: "someone@elsewhere.example", id: "m2" }, xml("body", {}, "far")));
    const far = await juliet.inbox.next((s) => s.attr("type") === "error" && s.attr("id") === "m2", "the remote bounce");
    expect(errorOf(far)).toBe("remote-server-not-found");
  });

  it("a component's stanza without 'to' gets <bad-request/>; to an unknown domain <remote-server-not-found/>; the server answers its ping", async () => {
    const running = await server(true);
    const { c: comp, inbox } = component(running);
    await comp.online();
    comp.send(xml("message", { from: COMP, id: "n1" }, xml("body", {}, "to nobody")));
    expect(errorOf(await inbox.next((s) => s.attr("id") === "n1", "the bad-request"))).toBe("bad-request");
    comp.send(xml("message", { from: COMP, to: "x@elsewhere.example", id: "n2" }, xml("body", {}, "far")));
    expect(errorOf(await inbox.next((s) => s.attr("id") === "n2", "the remote bounce"))).toBe("remote-server-not-found");
    const pong = await comp.iq(xml("iq", { type: "get", from: COMP, to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(pong.attr("type")).toBe("result");
    // Between two configured components: delivered when connected, bounced when not.
    comp.send(xml("message", { from: COMP, to: "other.localhost", id: "n3" }, xml("body", {}, "hi other")));
    expect(errorOf(await inbox.next((s) => s.attr("id") === "n3", "the bounce from other.localhost"))).toBe("service-unavailable");
    const other = component(running, { domain: "other.localhost", secret: "another-secret" });
    await other.c.online();
    comp.send(xml("message", { from: COMP, to: "other.localhost" }, xml("body", {}, "hi other")));
    await other.inbox.next(body("hi other"), "the message between components");
  });
});

describe("components beside federation", () => {
  it("errors for a component's stanzas come back to the component, not out through s2s; other domains go out", async () => {
    // Outbound s2s only; elsewhere.example is pinned to an address where nothing listens.
    const running = await server(true, { federation: { port: null, hosts: { "elsewhere.example": { host: "127.0.0.1", port: 9 } } } });
    const { c: comp, inbox } = component(running);
    await comp.online();
    comp.send(xml("message", { from: `echo@${COMP}`, to: `nobody@${DOMAIN}`, id: "f1", type: "chat" }, xml("body", {}, "anyone?")));
    expect(errorOf(await inbox.next((s) => s.attr("id") === "f1", "the error from the server"))).toBe("service-unavailable");
    const pong = await comp.iq(xml("iq", { type: "get", from: COMP, to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    expect(pong.attr("type")).toBe("result");
    comp.send(xml("message", { from: COMP, to: "x@elsewhere.example", id: "f2" }, xml("body", {}, "far")));
    expect(errorOf(await inbox.next((s) => s.attr("id") === "f2", "the s2s failure"))).toBe("remote-server-not-found");
  });
});

describe("components with the plain router (no storage)", () => {
  it("messages both ways between a client and a component", async () => {
    const running = await server(false);
    const { c: comp, inbox } = component(running);
    await comp.online();
    const juliet = await client(running, "juliet", "r0m30myr0m30");
    juliet.c.send(xml("presence"));
    juliet.c.send(xml("message", { to: `echo@${COMP}` }, xml("body", {}, "plain hello")));
    await inbox.next(body("plain hello"), "juliet's message");
    comp.send(xml("message", { from: `echo@${COMP}`, to: `juliet@${DOMAIN}/desk` }, xml("body", {}, "plain reply")));
    await juliet.inbox.next(body("plain reply"), "the reply");
  });

  it("a component port that is taken fails startServer with the listener's error", async () => {
    const running = await server(false);
    const err = await startServer({ domain: DOMAIN, accounts: new AccountStore(), tls, port: 0, components: { port: running.componentPort!, secrets: { [COMP]: SECRET } } }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/EADDRINUSE/);
    expect(err).not.toBeInstanceOf(ConnectionError);
  });
});
