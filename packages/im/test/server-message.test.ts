import { parseStanzaError } from "@xmpp-sansio/core";
import { xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { NS_BLOCKING, NS_BLOCKING_ERRORS, NS_X_EVENT } from "../src/namespaces.js";
import { ImServer } from "../src/server.js";
import { applyAll, delivers, J, online, routes, storeWith } from "./helpers.js";

const juliet = "juliet@example.com";
const sender = "romeo@remote.example/orchard";

function msg(to: string, type?: string, id = "m1") {
  return xml("message", { from: sender, to, type, id }, xml("body", {}, "hi"));
}

describe("messages to a bare JID (§8.5.2)", () => {
  it("go to the highest non-negative priority resources; negative priority never gets them", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    online(store, `${juliet}/low`, 1);
    online(store, `${juliet}/high1`, 5);
    online(store, `${juliet}/high2`, 5);
    online(store, `${juliet}/neg`, -1);
    for (const type of ["chat", "normal", undefined]) {
      expect(delivers(im.handleInbound(msg(juliet, type), store)).map((d) => d.to).sort()).toEqual([`${juliet}/high1`, `${juliet}/high2`]);
    }
    expect(delivers(im.handleInbound(msg(juliet, "headline"), store)).map((d) => d.to).sort()).toEqual(
      [`${juliet}/high1`, `${juliet}/high2`, `${juliet}/low`].sort(),
    );
    const all = new ImServer({ bareMessageDelivery: "all" });
    expect(delivers(all.handleInbound(msg(juliet, "chat"), store))).toHaveLength(3);
  });

  it("groupchat is refused, error is dropped", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    online(store, `${juliet}/a`);
    const g = routes(im.handleInbound(msg(juliet, "groupchat"), store));
    expect(parseStanzaError(g[0]!).condition).toBe("service-unavailable");
    expect(g[0]!.attr("to")).toBe(sender);
    expect(im.handleInbound(msg(juliet, "error"), store)).toEqual([]);
  });

  it("with only negative-priority or no resources: stored offline, with the XEP-0022 offline event", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    online(store, `${juliet}/neg`, -5);
    const m = xml("message", { from: sender, to: juliet, id: "e1", type: "chat" }, xml("body", {}, "hi"), xml("x", { xmlns: NS_X_EVENT }, xml("offline")));
    const actions = im.handleInbound(m, store);
    expect(actions[0]).toMatchObject({ kind: "offline-store", user: juliet });
    const note = routes(actions)[0]!;
    expect([note.attr("from"), note.attr("to"), note.getChild("x", NS_X_EVENT)!.getChildText("id", NS_X_EVENT)]).toEqual([juliet, sender, "e1"]);
    expect(note.getChild("x", NS_X_EVENT)!.getChild("offline", NS_X_EVENT)).toBeDefined();
    // headline is dropped instead
    expect(im.handleInbound(msg(juliet, "headline"), store)).toEqual([]);
  });

  it("a full offline store, or none, answers service-unavailable", () => {
    const store = storeWith(juliet);
    const limited = new ImServer({ offlineLimit: 1 });
    applyAll(store, limited.handleInbound(msg(juliet, "chat"), store));
    expect(store.offlineCount(juliet)).toBe(1);
    const full = routes(limited.handleInbound(msg(juliet, "chat", "m2"), store));
    expect(parseStanzaError(full[0]!).condition).toBe("service-unavailable");
    expect(full[0]!.attr("id")).toBe("m2");
    const none = routes(new ImServer({ offlineLimit: 0 }).handleInbound(msg(juliet, "normal"), storeWith(juliet)));
    expect(parseStanzaError(none[0]!).condition).toBe("service-unavailable");
  });

  it("to a user that does not exist: service-unavailable (§8.5.1)", () => {
    const im = new ImServer();
    const r = routes(im.handleInbound(msg("ghost@example.com", "chat"), storeWith(juliet)));
    expect(parseStanzaError(r[0]!).condition).toBe("service-unavailable");
  });
});

describe("messages to a full JID (§8.5.3)", () => {
  it("are delivered to that connected resource whatever its priority or availability", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    online(store, `${juliet}/neg`, -3);
    const quiet = J(`${juliet}/quiet`);
    store.connect(quiet);
    expect(delivers(im.handleInbound(msg(`${juliet}/neg`, "normal"), store)).map((d) => d.to)).toEqual([`${juliet}/neg`]);
    expect(delivers(im.handleInbound(msg(`${juliet}/quiet`, "chat"), store)).map((d) => d.to)).toEqual([`${juliet}/quiet`]);
  });

  it("no such resource: chat as to the bare JID; normal and groupchat refused; headline and error dropped", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    online(store, `${juliet}/a`);
    expect(delivers(im.handleInbound(msg(`${juliet}/gone`, "chat"), store)).map((d) => d.to)).toEqual([`${juliet}/a`]);
    for (const t of ["normal", "groupchat"]) {
      expect(parseStanzaError(routes(im.handleInbound(msg(`${juliet}/gone`, t), store))[0]!).condition).toBe("service-unavailable");
    }
    expect(im.handleInbound(msg(`${juliet}/gone`, "headline"), store)).toEqual([]);
    expect(im.handleInbound(msg(`${juliet}/gone`, "error"), store)).toEqual([]);
  });

  it("chat to a gone resource with nothing online goes offline", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    expect(im.handleInbound(msg(`${juliet}/gone`, "chat"), store)[0]).toMatchObject({ kind: "offline-store" });
  });
});

describe("IQs", () => {
  it("to a connected full JID are delivered; otherwise get/set get service-unavailable and results are dropped", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    online(store, `${juliet}/a`);
    const iq = (to: string, type: string) => xml("iq", { from: sender, to, type, id: "q" }, xml("ping", { xmlns: "urn:xmpp:ping" }));
    expect(delivers(im.handleInbound(iq(`${juliet}/a`, "get"), store))).toHaveLength(1);
    expect(parseStanzaError(routes(im.handleInbound(iq(`${juliet}/b`, "get"), store))[0]!).condition).toBe("service-unavailable");
    expect(im.handleInbound(iq(`${juliet}/b`, "result"), store)).toEqual([]);
    expect(im.handleInbound(iq(juliet, "get"), store)[0]!.kind).toBe("unhandled");
  });

  it("a client's IQ to its own account or the server is left to the server's other handlers", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const me = online(store, `${juliet}/a`);
    const v = xml("iq", { type: "get", id: "v" }, xml("vCard", { xmlns: "vcard-temp" }));
    expect(im.handleOutbound(v, me, store)[0]!.kind).toBe("unhandled");
    const d = xml("iq", { type: "get", id: "d", to: "example.com" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }));
    expect(im.handleOutbound(d, me, store)[0]!.kind).toBe("unhandled");
    // …but an IQ to a remote domain is routed (s2s).
    const remote = xml("iq", { type: "get", id: "d", to: "remote.example" }, xml("query", { xmlns: "http://jabber.org/protocol/disco#info" }));
    expect(im.handleOutbound(remote, me, store)[0]!.kind).toBe("route");
  });

  it("a message without 'to' goes to the sender's own bare JID (RFC 6120 §10.3.1)", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const me = online(store, `${juliet}/a`);
    expect(routes(im.handleOutbound(xml("message", {}, xml("body", {}, "note")), me, store))[0]!.attr("to")).toBe(juliet);
  });
});

describe("blocking (XEP-0191)", () => {
  const block = (...jids: string[]) => xml("iq", { type: "set", id: "b" }, xml("block", { xmlns: NS_BLOCKING }, ...jids.map((j) => xml("item", { jid: j }))));

  it("block, blocklist get, pushes, and unblock-all", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const me = online(store, `${juliet}/a`);
    const other = online(store, `${juliet}/b`);
    const a = im.handleOutbound(block("x@remote.example"), me, store);
    expect(a[0]).toEqual({ kind: "blocklist-add", user: juliet, jids: ["x@remote.example"] });
    expect(delivers(a).filter((d) => d.stanza.attr("type") === "set").map((d) => d.to).sort()).toEqual([me.toString(), other.toString()].sort());
    applyAll(store, a);
    const get = delivers(im.handleOutbound(xml("iq", { type: "get", id: "g" }, xml("blocklist", { xmlns: NS_BLOCKING })), me, store))[0]!;
    expect(get.stanza.getChild("blocklist", NS_BLOCKING)!.getChildren("item", NS_BLOCKING).map((i) => i.attr("jid"))).toEqual(["x@remote.example"]);
    const un = im.handleOutbound(xml("iq", { type: "set", id: "u" }, xml("unblock", { xmlns: NS_BLOCKING })), me, store);
    expect(un[0]).toEqual({ kind: "blocklist-remove", user: juliet, jids: [] });
  });

  it("block without items is bad-request; an invalid JID is jid-malformed", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const me = online(store, `${juliet}/a`);
    expect(parseStanzaError(delivers(im.handleOutbound(block(), me, store))[0]!.stanza).condition).toBe("bad-request");
    expect(parseStanzaError(delivers(im.handleOutbound(block("a@@b"), me, store))[0]!.stanza).condition).toBe("jid-malformed");
  });

  it("stanzas from a blocked entity are not delivered; messages to one are refused with <blocked/>", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const me = online(store, `${juliet}/a`);
    store.apply({ kind: "blocklist-add", user: juliet, jids: ["remote.example"] });
    const m = routes(im.handleInbound(msg(juliet, "chat"), store));
    expect(parseStanzaError(m[0]!).condition).toBe("service-unavailable");
    expect(delivers(im.handleInbound(xml("presence", { from: sender, to: juliet }), store))).toHaveLength(0);
    expect(im.handleInbound(xml("presence", { from: sender, to: juliet, type: "subscribe" }), store)).toEqual([]);
    const out = delivers(im.handleOutbound(xml("message", { to: "romeo@remote.example" }, xml("body", {}, "x")), me, store));
    const err = parseStanzaError(out[0]!.stanza);
    expect(err.condition).toBe("not-acceptable");
    expect(err.applicationCondition?.is("blocked", NS_BLOCKING_ERRORS)).toBe(true);
  });

  it("blocking a subscriber sends it unavailable presence", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    store.apply({ kind: "roster-set", user: juliet, item: { jid: "romeo@remote.example", groups: [], subscription: "from", ask: false, approved: false }, ver: "1" });
    const me = online(store, `${juliet}/a`);
    const r = routes(im.handleOutbound(block("romeo@remote.example"), me, store));
    expect(r.map((p) => [p.attr("type"), p.attr("to")])).toEqual([["unavailable", "romeo@remote.example"]]);
  });
});
