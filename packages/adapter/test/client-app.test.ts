// The application API of the ClientController through an in-memory pipe to a core ServerSession: IQ
// requests from the server are answered exactly once (handlers, built-ins, service-unavailable), unmatched
// results are ignored, iqGet/iqSet give payloads and typed errors, onMessage/onPresence filter, and the
// transcript shows the XML both ways without SASL secrets.
import { parseStanzaError, type ServerEvent, ServerSession, sha1Hash, sha256Hash, sha512Hash, stanzaError, streamFraming } from "@xmpp-sansio/core";
import { deriveScramCredentials, type ScramHash } from "@xmpp-sansio/sasl";
import { NS_CLIENT, XmlElement, xml } from "@xmpp-sansio/xml";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import {
  type BaseClientOptions,
  ClientController,
  type ClientEventSink,
  IqHandlerError,
  NS_DISCO_INFO,
  NS_PING,
  SessionPump,
  StanzaErrorException,
  TypedEmitter,
  type XmppClientEvents,
} from "../src/index.js";

const later = (fn: () => void): void => void Promise.resolve().then(fn);
const PASSWORD = "r0m30myr0m30";
const SALT = new TextEncoder().encode("salt-of-the-test");
const timers = globalThis as unknown as { setTimeout(fn: () => void, ms: number): unknown };
const tick = () => new Promise<void>((r) => timers.setTimeout(r, 0));

/** One client connection to a core ServerSession; `toClient` sends from the server, `received` is what it got. */
class Pipe {
  server!: ServerSession;
  serverPump!: SessionPump<ServerEvent>;
  readonly received: XmlElement[] = [];
  /** Answers the server gives to IQs the client sends (by payload name). */
  answers = new Map<string, (iq: XmlElement) => XmlElement>();

  connect(controller: () => ClientController): Promise<void> {
    const server = new ServerSession({ tls: "none", mechanisms: ["SCRAM-SHA-256"] });
    this.server = server;
    let client!: SessionPump<never>;
    this.serverPump = new SessionPump<ServerEvent>({
      session: server,
      write: (b) => {
        const copy = b.slice();
        later(() => client.guarded((s, now) => s.receive(copy, now)));
      },
      onEvent: (ev) => this.answer(server, ev),
      onClosed: () => later(() => controller().transportEnded(client as never)),
    });
    client = controller().attach(
      { tls: "none", framing: streamFraming },
      {
        write: (b) => {
          const copy = b.slice();
          later(() => this.serverPump.guarded((s, now) => s.receive(copy, now)));
        },
        closeTransport: () =>
          later(() => {
            this.serverPump.transportClosed();
            controller().transportEnded(client as never);
          }),
      },
    ) as never;
    client.interact((s, now) => (s as unknown as { start(now: number): void }).start(now));
    return Promise.resolve();
  }

  toClient(stanza: XmlElement): void {
    this.serverPump.interact((s) => s.send(stanza));
  }

  private answer(s: ServerSession, ev: ServerEvent): void {
    if (ev.type === "host-check") s.answerHost(true);
    else if (ev.type === "scram-credentials") {
      const hash = ev.mechanism.replace(/^SCRAM-/, "").replace(/-PLUS$/, "") as ScramHash;
      s.answerScramCredentials(deriveScramCredentials(hash, PASSWORD, SALT, 4096));
    } else if (ev.type === "bind-request") s.answerBind({ accept: ev.resource });
    else if (ev.type === "stanza") {
      this.received.push(ev.stanza);
      const answer = this.answers.get(ev.stanza.firstElement()?.name ?? "");
      if (ev.stanza.name === "iq" && answer !== undefined) s.send(answer(ev.stanza));
    }
  }
}

class Client extends TypedEmitter<XmppClientEvents> implements ClientEventSink {
  readonly c: ClientController;
  readonly pipe = new Pipe();
  constructor(options: Partial<BaseClientOptions> = {}) {
    super();
    this.c = new ClientController({ jid: "juliet@localhost/balcony", password: PASSWORD, reconnect: false, sm: false, ...options }, this, {
      connect: () => this.pipe.connect(() => this.c),
    }, { parts: { hashes: [sha1Hash, sha256Hash, sha512Hash] } });
  }
}

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.c.close()));
});
async function online(options: Partial<BaseClientOptions> = {}): Promise<Client> {
  const c = new Client(options);
  clients.push(c);
  await c.c.online();
  return c;
}
const request = (id: string, type: string, payload?: XmlElement) =>
  new XmlElement("iq", NS_CLIENT, { type, id, from: "romeo@localhost/orchard", to: "juliet@localhost/balcony" }, payload === undefined ? [] : [payload]);
const repliesTo = (c: Client, id: string) => c.pipe.received.filter((s) => s.name === "iq" && s.attr("id") === id);

describe("client application API over an in-memory pipe", () => {
  it("a ping is answered by default, an unknown request with service-unavailable, each exactly once", async () => {
    const c = await online();
    const seen: string[] = [];
    c.on("iq", (iq) => seen.push(iq.attr("id")!));
    c.pipe.toClient(request("p1", "get", new XmlElement("ping", NS_PING)));
    c.pipe.toClient(request("u1", "set", new XmlElement("query", "urn:unknown")));
    await tick();
    const [pong] = repliesTo(c, "p1");
    expect(repliesTo(c, "p1")).toHaveLength(1);
    expect(pong!.attr("type")).toBe("result");
    expect(pong!.attr("to")).toBe("romeo@localhost/orchard");
    expect(repliesTo(c, "u1")).toHaveLength(1);
    expect(parseStanzaError(repliesTo(c, "u1")[0]!).condition).toBe("service-unavailable");
    expect(seen).toEqual(["p1", "u1"]);
  });

  it("handlers answer (async too); a throwing handler gives internal-server-error and an error event; results nobody waits for are ignored", async () => {
    const c = await online({ iqAnswers: { version: { name: "bot", version: "2" } } });
    c.c.onIq("get", "urn:example:slow", "q", async () => {
      await tick();
      return xml("q", { xmlns: "urn:example:slow" }, "done");
    });
    c.c.onIq("set", "urn:example:bad", "q", () => {
      throw new Error("bug");
    });
    const errors: Error[] = [];
    c.on("error", (e) => errors.push(e));
    const iqEvents: string[] = [];
    c.on("iq", (iq) => iqEvents.push(iq.attr("id")!));
    c.pipe.toClient(request("s1", "get", new XmlElement("q", "urn:example:slow")));
    c.pipe.toClient(request("b1", "set", new XmlElement("q", "urn:example:bad")));
    c.pipe.toClient(request("r1", "result"));
    c.pipe.toClient(request("d1", "get", new XmlElement("query", NS_DISCO_INFO)));
    await tick();
    await tick();
    expect(repliesTo(c, "s1").map((s) => s.getChildText("q", "urn:example:slow"))).toEqual(["done"]);
    expect(repliesTo(c, "b1").map((s) => parseStanzaError(s).condition)).toEqual(["internal-server-error"]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(IqHandlerError);
    expect(repliesTo(c, "r1")).toHaveLength(0);
    expect(iqEvents).toEqual(["s1", "b1", "d1"]);
    const features = repliesTo(c, "d1")[0]!.getChild("query", NS_DISCO_INFO)!.getChildren("feature").map((f) => f.attr("var"));
    expect(features).toEqual(expect.arrayContaining(["urn:example:slow", "urn:example:bad", NS_PING, NS_DISCO_INFO, "jabber:iq:version"]));
  });

  it("iqGet resolves with the result's payload; an error answer rejects with a typed StanzaErrorException", async () => {
    const c = await online();
    c.pipe.answers.set("query", (iq) => new XmlElement("iq", NS_CLIENT, { type: "result", id: iq.attr("id") }, [new XmlElement("query", "jabber:iq:roster", null, [new XmlElement("item", "jabber:iq:roster", { jid: "romeo@localhost" })])]));
    c.pipe.answers.set("vCard", (iq) => new XmlElement("iq", NS_CLIENT, { type: "error", id: iq.attr("id") }, [new XmlElement("error", NS_CLIENT, { type: "cancel" }, [new XmlElement("item-not-found", "urn:ietf:params:xml:ns:xmpp-stanzas")])]));
    c.pipe.answers.set("enable", (iq) => new XmlElement("iq", NS_CLIENT, { type: "result", id: iq.attr("id") }));
    const roster = await c.c.iqGet(xml("query", { xmlns: "jabber:iq:roster" }));
    expect(roster?.getChildren("item").map((i) => i.attr("jid"))).toEqual(["romeo@localhost"]);
    expect(await c.c.iqSet(xml("enable", { xmlns: "urn:xmpp:carbons:2" }))).toBeUndefined();
    const err = await c.c.iqGet(xml("vCard", { xmlns: "vcard-temp" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StanzaErrorException);
    expect((err as StanzaErrorException).condition).toBe("item-not-found");
  });

  it("onMessage / onPresence filter by type and child; the remover stops the listener", async () => {
    const c = await online();
    const chats: string[] = [];
    const states: string[] = [];
    const subs: string[] = [];
    const off = c.c.onMessage({ type: "chat", child: { name: "body" } }, (_m, body) => chats.push(body!.text()));
    c.c.onMessage({ child: "http://jabber.org/protocol/chatstates" }, (_m, st) => states.push(st!.name));
    c.c.onPresence({ type: ["subscribe", "available"] }, (p) => subs.push(p.attr("type") ?? "available"));
    const msg = (type: string | undefined, ...children: XmlElement[]) => new XmlElement("message", NS_CLIENT, { type, from: "romeo@localhost/orchard" }, children);
    c.pipe.toClient(msg("chat", new XmlElement("body", NS_CLIENT, null, ["hi"]), new XmlElement("active", "http://jabber.org/protocol/chatstates")));
    c.pipe.toClient(msg("groupchat", new XmlElement("body", NS_CLIENT, null, ["all"])));
    c.pipe.toClient(msg("chat", new XmlElement("composing", "http://jabber.org/protocol/chatstates")));
    c.pipe.toClient(new XmlElement("presence", NS_CLIENT, { from: "romeo@localhost/orchard" }));
    c.pipe.toClient(new XmlElement("presence", NS_CLIENT, { from: "romeo@localhost", type: "subscribe" }));
    c.pipe.toClient(new XmlElement("presence", NS_CLIENT, { from: "romeo@localhost", type: "unsubscribe" }));
    await tick();
    off();
    c.pipe.toClient(msg("chat", new XmlElement("body", NS_CLIENT, null, ["after off"])));
    await tick();
    expect(chats).toEqual(["hi"]);
    expect(states).toEqual(["active", "composing"]);
    expect(subs).toEqual(["available", "subscribe"]);
  });

  it("transcript: the XML both ways as text, SASL payloads elided", async () => {
    const lines: string[] = [];
    const c = await online({ transcript: (dir, text) => lines.push(`${dir === "in" ? "<-" : "->"} ${text}`) });
    c.c.send(xml("presence"));
    await tick();
    const all = lines.join("\n");
    expect(all).toMatch(/^-> <\?xml|^-> <stream:stream/);
    expect(all).toMatch(/^<- .*<stream:features>/m);
    expect(all).toContain("-> <presence/>");
    expect(all).toMatch(/<auth [^>]*mechanism='SCRAM-SHA-256'[^>]*>…<\/auth>/);
    expect(all).not.toMatch(/<response [^>]*>[^…<]/);
  });

  it("an answer from a handler after close() is dropped, not thrown", async () => {
    const c = await online();
    let release!: () => void;
    c.c.onIq("get", "urn:slow", "q", () => new Promise<undefined>((r) => (release = () => r(undefined))));
    c.pipe.toClient(request("late", "get", new XmlElement("q", "urn:slow")));
    await tick();
    await c.c.close();
    release();
    await tick();
    expect(repliesTo(c, "late")).toHaveLength(0);
    expect(stanzaError("gone").condition).toBe("gone");
  });

  it("property: over the pipe, every get/set from the server gets exactly one answer (right id, type), results and errors none", async () => {
    const c = await online();
    c.c.onIq("get", "urn:p", "sync", () => xml("sync", { xmlns: "urn:p" }));
    c.c.onIq("set", "urn:p", "async", async () => undefined);
    c.c.onIq("get", "urn:p", "throws", () => {
      throw new Error("x");
    });
    c.c.onIq("set", "urn:p", "error", () => Promise.resolve(stanzaError("conflict")));
    c.on("error", () => {});
    let batch = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            type: fc.constantFrom("get", "set", "result", "error"),
            payloads: fc.array(fc.constantFrom("sync", "async", "throws", "error", "ping", "other"), { maxLength: 2 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        async (iqs) => {
          batch++;
          const ids = iqs.map((_, i) => `b${batch}-${i}`);
          iqs.forEach((q, i) => {
            const payloads = q.payloads.map((p) => (p === "ping" ? new XmlElement("ping", NS_PING) : new XmlElement(p, "urn:p")));
            c.pipe.toClient(new XmlElement("iq", NS_CLIENT, { type: q.type, id: ids[i], from: "localhost" }, payloads));
          });
          const requests = ids.filter((_, i) => iqs[i]!.type === "get" || iqs[i]!.type === "set");
          const answered = () => c.pipe.received.filter((s) => s.name === "iq" && requests.includes(s.attr("id")!)).length;
          for (let i = 0; i < 50 && answered() < requests.length; i++) await tick();
          // A duplicate would arrive before the answer to this marker (one ordered stream).
          c.pipe.toClient(new XmlElement("iq", NS_CLIENT, { type: "get", id: `m${batch}`, from: "localhost" }, [new XmlElement("ping", NS_PING)]));
          for (let i = 0; i < 50 && repliesTo(c, `m${batch}`).length === 0; i++) await tick();
          for (const [i, id] of ids.entries()) {
            const replies = repliesTo(c, id);
            const q = iqs[i]!;
            if (q.type !== "get" && q.type !== "set") {
              expect(replies).toHaveLength(0);
              continue;
            }
            expect(replies).toHaveLength(1);
            const r = replies[0]!;
            expect(r.attr("to")).toBe("localhost");
            const single = q.payloads.length === 1 ? q.payloads[0] : undefined;
            const handled = (single === "sync" && q.type === "get") || (single === "async" && q.type === "set") || (single === "ping" && q.type === "get");
            expect(r.attr("type")).toBe(handled ? "result" : "error");
          }
        },
      ),
      fuzz(40),
    );
  });
});
