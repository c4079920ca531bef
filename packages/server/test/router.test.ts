import { parseStanzaError } from "@xmpp-sansio/core";
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { type Endpoint, Router } from "../src/router.js";

class TestEndpoint implements Endpoint {
  readonly jid: Jid;
  readonly inbox: XmlElement[] = [];
  constructor(jid: string) {
    this.jid = parseJid(jid);
  }
  deliver(stanza: XmlElement): void {
    this.inbox.push(stanza);
  }
}

function setup() {
  const router = new Router({ serves: (d) => d === "im.example.com", accountExists: (u) => ["juliet", "romeo"].includes(u) });
  const balcony = new TestEndpoint("juliet@im.example.com/balcony");
  const chamber = new TestEndpoint("juliet@im.example.com/chamber");
  const orchard = new TestEndpoint("romeo@im.example.com/orchard");
  for (const e of [balcony, chamber, orchard]) router.online(e);
  const send = (from: TestEndpoint, stanza: XmlElement) => router.route(from, stanza.setAttr("from", from.jid.toString()).adoptNamespace("jabber:client"));
  return { router, balcony, chamber, orchard, send };
}

const presence = (priority?: number) => xml("presence", {}, priority === undefined ? null : xml("priority", {}, String(priority)));
const chat = (to: string, body: string) => xml("message", { to, type: "chat", id: "m1" }, xml("body", {}, body));
const errorOf = (stanza: XmlElement | undefined) => (stanza ? parseStanzaError(stanza).condition : undefined);

describe("Router (RFC 6120 §10)", () => {
  it("delivers to an online full JID", () => {
    const { orchard, balcony, send } = setup();
    send(balcony, chat("romeo@im.example.com/orchard", "Art thou not Romeo, and a Montague?"));
    expect(orchard.inbox).toHaveLength(1);
    expect(orchard.inbox[0]!.getChildText("body")).toBe("Art thou not Romeo, and a Montague?");
    expect(orchard.inbox[0]!.attr("from")).toBe("juliet@im.example.com/balcony");
  });

  it("sends a message to a bare JID to the highest-priority available resource only", () => {
    const { balcony, chamber, orchard, send } = setup();
    send(balcony, presence(1));
    send(chamber, presence(5));
    send(orchard, chat("juliet@im.example.com", "hi"));
    expect(chamber.inbox.filter((s) => s.name === "message")).toHaveLength(1);
    expect(balcony.inbox.filter((s) => s.name === "message")).toHaveLength(0);
  });

  it("sends headlines to every non-negative resource and ignores negative priorities", () => {
    const { balcony, chamber, orchard, send } = setup();
    send(balcony, presence(-1));
    send(chamber, presence(0));
    send(orchard, xml("message", { to: "juliet@im.example.com", type: "headline" }, xml("body", {}, "news")));
    expect(chamber.inbox.filter((s) => s.name === "message")).toHaveLength(1);
    expect(balcony.inbox.filter((s) => s.name === "message")).toHaveLength(0);
  });

  it("treats a full JID that is not online as the bare JID for messages", () => {
    const { chamber, orchard, send } = setup();
    send(chamber, presence());
    send(orchard, chat("juliet@im.example.com/garden", "where art thou"));
    expect(chamber.inbox.filter((s) => s.name === "message")).toHaveLength(1);
  });

  it("answers <service-unavailable/> when no resource is available (no offline storage)", () => {
    const { balcony, send } = setup();
    send(balcony, chat("romeo@im.example.com", "hello?"));
    expect(errorOf(balcony.inbox[0])).toBe("service-unavailable");
    expect(balcony.inbox[0]!.attr("from")).toBe("romeo@im.example.com");
    expect(balcony.inbox[0]!.attr("id")).toBe("m1");
  });

  it("answers <service-unavailable/> for unknown accounts (message, IQ) and ignores presence", () => {
    const { balcony, send } = setup();
    send(balcony, chat("tybalt@im.example.com", "draw"));
    send(balcony, xml("iq", { to: "tybalt@im.example.com", type: "get", id: "q1" }, xml("query", { xmlns: "jabber:iq:version" })));
    send(balcony, xml("presence", { to: "tybalt@im.example.com" }));
    expect(balcony.inbox.map(errorOf)).toEqual(["service-unavailable", "service-unavailable"]);
  });

  it("answers <remote-server-not-found/> for other domains (no s2s)", () => {
    const { balcony, send } = setup();
    send(balcony, chat("romeo@example.net", "far"));
    expect(errorOf(balcony.inbox[0])).toBe("remote-server-not-found");
  });

  it("never answers an error with an error", () => {
    const { balcony, send } = setup();
    send(balcony, xml("message", { to: "romeo@example.net", type: "error" }));
    send(balcony, xml("iq", { to: "tybalt@im.example.com", type: "result", id: "x" }));
    expect(balcony.inbox).toEqual([]);
  });

  it("gives an IQ to an offline full JID <service-unavailable/>", () => {
    const { balcony, send } = setup();
    send(balcony, xml("iq", { to: "romeo@im.example.com/elsewhere", type: "get", id: "v" }, xml("query", { xmlns: "jabber:iq:version" })));
    expect(errorOf(balcony.inbox[0])).toBe("service-unavailable");
  });

  it("answers ping, disco#info and an empty roster itself, and <service-unavailable/> to the rest", () => {
    const { balcony, send } = setup();
    send(balcony, xml("iq", { type: "get", id: "p" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
    send(balcony, xml("iq", { to: "im.example.com", type: "get", id: "d" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" })));
    send(balcony, xml("iq", { type: "get", id: "r" }, xml("query", { xmlns: "jabber:iq:roster" })));
    send(balcony, xml("iq", { type: "set", id: "u" }, xml("unknown", { xmlns: "urn:example:unknown" })));
    const [ping, disco, roster, unknown] = balcony.inbox;
    expect(ping!.attr("type")).toBe("result");
    expect(ping!.attr("id")).toBe("p");
    expect(disco!.getChild("query", "http://jabber.org/protocol/disco#info")!.getChild("identity")!.attr("category")).toBe("server");
    expect(roster!.getChild("query", "jabber:iq:roster")!.children).toEqual([]);
    expect(errorOf(unknown)).toBe("service-unavailable");
  });

  it("broadcasts presence to the account's other resources and tells new ones about existing ones", () => {
    const { balcony, chamber, send } = setup();
    send(balcony, presence(1));
    send(chamber, presence(2));
    expect(balcony.inbox.map((s) => s.attr("from"))).toEqual(["juliet@im.example.com/chamber"]);
    expect(chamber.inbox.map((s) => s.attr("from"))).toEqual(["juliet@im.example.com/balcony"]);
  });

  it("generates unavailable presence for the other resources when a session ends", () => {
    const { router, balcony, chamber, send } = setup();
    send(balcony, presence());
    send(chamber, presence());
    balcony.inbox.length = 0;
    router.offline(chamber);
    expect(balcony.inbox[0]!.attr("type")).toBe("unavailable");
    expect(router.resourcesOf(parseJid("juliet@im.example.com")).map(String)).toEqual(["juliet@im.example.com/balcony"]);
  });

  it("delivers directed presence to the available resources of a bare JID", () => {
    const { balcony, orchard, send } = setup();
    send(orchard, presence());
    send(balcony, xml("presence", { to: "romeo@im.example.com" }));
    expect(orchard.inbox.filter((s) => s.attr("from") === "juliet@im.example.com/balcony")).toHaveLength(1);
  });

  it("prepares each `to` once: a bounded cache of prepared JIDs, the same answers as without it", () => {
    const { router, balcony, orchard, send } = setup();
    for (let i = 0; i < 10; i++) send(balcony, chat("Romeo@IM.example.com/orchard", `m${i}`));
    expect(orchard.inbox).toHaveLength(10);
    expect(router.cachedJids).toBe(1);
    // Malformed addresses are cached as errors, and still answered with <jid-malformed/>.
    send(balcony, chat("@im.example.com", "x"));
    send(balcony, chat("@im.example.com", "y"));
    expect(balcony.inbox.map(errorOf)).toEqual(["jid-malformed", "jid-malformed"]);
    const small = new Router({ serves: () => true, accountExists: () => true, jidCacheSize: 16 });
    const e = new TestEndpoint("juliet@im.example.com/balcony");
    small.online(e);
    for (let i = 0; i < 1000; i++) small.route(e, chat(`u${i}@im.example.com`, "x").setAttr("from", e.jid.toString()));
    expect(small.cachedJids).toBe(16);
  });

  it("undeliverable stanzas (a slow reader's queue) go back to their senders as <service-unavailable/>", () => {
    const { router, balcony, orchard } = setup();
    const held = [
      chat("romeo@im.example.com/orchard", "one").setAttr("from", balcony.jid.toString()),
      xml("presence", { from: balcony.jid.toString(), to: orchard.jid.toString() }),
      xml("iq", { type: "get", id: "q1", from: balcony.jid.toString(), to: orchard.jid.toString() }, xml("query", { xmlns: "jabber:iq:version" })),
      xml("iq", { type: "result", id: "q2", from: balcony.jid.toString(), to: orchard.jid.toString() }),
      chat("romeo@im.example.com/orchard", "from someone gone").setAttr("from", "juliet@im.example.com/gone"),
    ];
    router.undeliverable(held);
    expect(balcony.inbox.map((s) => `${s.name} ${s.attr("type")} ${s.attr("id")} ${errorOf(s)}`)).toEqual([
      "message error m1 service-unavailable",
      "iq error q1 service-unavailable",
    ]);
    expect(balcony.inbox[0]!.attr("from")).toBe("romeo@im.example.com/orchard");
    expect(orchard.inbox).toHaveLength(0);
  });
});
