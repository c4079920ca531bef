import { parseStanzaError } from "@xmpp-sansio/core";
import { xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { processLocally } from "../src/memory-store.js";
import { NS_ROSTER } from "../src/namespaces.js";
import { ImServer } from "../src/server.js";
import { applyAll, delivers, J, online, routes, storeWith } from "./helpers.js";

const juliet = "juliet@example.com";
const romeo = "romeo@example.com";

function rosterSet(item: Record<string, string>, ...children: ReturnType<typeof xml>[]) {
  return xml("iq", { type: "set", id: "s1" }, xml("query", { xmlns: NS_ROSTER }, xml("item", item, ...children)));
}

describe("roster get (§2.1.3) and versioning (§2.6)", () => {
  it("returns the items, marks the resource interested, and answers an unchanged version with an empty result", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const me = J(`${juliet}/balcony`);
    store.connect(me);
    applyAll(store, im.handleOutbound(rosterSet({ jid: romeo, name: "Romeo" }, xml("group", {}, "Friends")), me, store));
    const get = im.handleOutbound(xml("iq", { type: "get", id: "g1" }, xml("query", { xmlns: NS_ROSTER, ver: "" })), me, store);
    expect(get.some((a) => a.kind === "session-interested")).toBe(true);
    const res = delivers(get)[0]!.stanza;
    expect(res.attr("type")).toBe("result");
    const q = res.getChild("query", NS_ROSTER)!;
    expect(q.attr("ver")).toBe("1");
    const item = q.getChild("item", NS_ROSTER)!;
    expect([item.attr("jid"), item.attr("name"), item.attr("subscription"), item.getChildText("group", NS_ROSTER)]).toEqual([
      romeo,
      "Romeo",
      "none",
      "Friends",
    ]);
    const again = im.handleOutbound(xml("iq", { type: "get", id: "g2" }, xml("query", { xmlns: NS_ROSTER, ver: "1" })), me, store);
    const empty = delivers(again)[0]!.stanza;
    expect(empty.attr("type")).toBe("result");
    expect(empty.elements()).toHaveLength(0);
  });

  it("omits ver for a client that did not send one", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const me = J(`${juliet}/balcony`);
    store.connect(me);
    const res = delivers(im.handleOutbound(xml("iq", { type: "get", id: "g" }, xml("query", { xmlns: NS_ROSTER })), me, store))[0]!;
    expect(res.stanza.getChild("query", NS_ROSTER)!.attr("ver")).toBeUndefined();
  });
});

describe("roster set (§2.3) pushes to every interested resource with the new version", () => {
  it("pushes to interested resources only, including the sender, then answers result", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const a = online(store, `${juliet}/a`);
    online(store, `${juliet}/b`);
    const c = J(`${juliet}/c`);
    store.connect(c); // not interested
    const actions = im.handleOutbound(rosterSet({ jid: "nurse@example.com" }), a, store);
    const pushes = delivers(actions).filter((d) => d.stanza.attr("type") === "set");
    expect(pushes.map((p) => p.to).sort()).toEqual([`${juliet}/a`, `${juliet}/b`]);
    for (const p of pushes) expect(p.stanza.getChild("query", NS_ROSTER)!.attr("ver")).toBe("1");
    expect(delivers(actions).filter((d) => d.stanza.attr("type") === "result").map((d) => d.to)).toEqual([`${juliet}/a`]);
    expect(actions.find((x) => x.kind === "roster-set")).toMatchObject({ user: juliet, ver: "1", item: { jid: "nurse@example.com" } });
  });

  it.each([
    ["two items", xml("iq", { type: "set", id: "x" }, xml("query", { xmlns: NS_ROSTER }, xml("item", { jid: "a@b" }), xml("item", { jid: "c@d" }))), "bad-request"],
    ["no item", xml("iq", { type: "set", id: "x" }, xml("query", { xmlns: NS_ROSTER })), "bad-request"],
    ["subscription='both'", rosterSet({ jid: romeo, subscription: "both" }), "bad-request"],
    ["subscription='none'", rosterSet({ jid: romeo, subscription: "none" }), "bad-request"],
    ["no jid", rosterSet({ name: "x" }), "bad-request"],
    ["invalid jid", rosterSet({ jid: "a@@b" }), "bad-request"],
    ["a full JID", rosterSet({ jid: `${romeo}/r` }), "bad-request"],
    ["an empty group", rosterSet({ jid: romeo }, xml("group")), "not-acceptable"],
    ["a duplicate group", rosterSet({ jid: romeo }, xml("group", {}, "g"), xml("group", {}, "g")), "bad-request"],
    ["a name too long", rosterSet({ jid: romeo, name: "n".repeat(2000) }), "not-acceptable"],
    ["removing an unknown item", rosterSet({ jid: romeo, subscription: "remove" }), "item-not-found"],
  ])("refuses %s", (_name, iq, condition) => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const me = online(store, `${juliet}/balcony`);
    const actions = im.handleOutbound(iq, me, store);
    expect(actions.filter((a) => a.kind === "roster-set")).toHaveLength(0);
    const d = delivers(actions);
    expect(d).toHaveLength(1);
    expect(d[0]!.stanza.attr("type")).toBe("error");
    expect(parseStanzaError(d[0]!.stanza).condition).toBe(condition);
  });

  it("refuses a roster query to another account with forbidden", () => {
    const im = new ImServer();
    const store = storeWith(juliet, romeo);
    const me = online(store, `${juliet}/balcony`);
    const d = delivers(im.handleOutbound(xml("iq", { type: "get", id: "x", to: romeo }, xml("query", { xmlns: NS_ROSTER })), me, store));
    expect(parseStanzaError(d[0]!.stanza).condition).toBe("forbidden");
  });

  it("keeps the subscription state on update; ask/approved/subscription from the client are ignored", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const me = online(store, `${juliet}/balcony`);
    store.apply({ kind: "roster-set", user: juliet, item: { jid: romeo, groups: [], subscription: "both", ask: false, approved: false }, ver: "7" });
    const actions = im.handleOutbound(rosterSet({ jid: romeo, name: "R", ask: "subscribe", approved: "true" }), me, store);
    expect(actions.find((a) => a.kind === "roster-set")).toMatchObject({ ver: "8", item: { subscription: "both", ask: false, approved: false, name: "R" } });
  });

  it("enforces the roster size limit with not-allowed", () => {
    const im = new ImServer({ maxRosterItems: 1 });
    const store = storeWith(juliet);
    const me = online(store, `${juliet}/balcony`);
    applyAll(store, im.handleOutbound(rosterSet({ jid: romeo }), me, store));
    const d = delivers(im.handleOutbound(rosterSet({ jid: "nurse@example.com" }), me, store));
    expect(parseStanzaError(d.at(-1)!.stanza).condition).toBe("not-allowed");
  });
});

describe("roster remove (§2.5)", () => {
  it("pushes subscription='remove' and cancels both directions of a mutual subscription", () => {
    const im = new ImServer();
    const store = storeWith(juliet, romeo);
    const j = online(store, `${juliet}/balcony`);
    const r = online(store, `${romeo}/orchard`);
    store.apply({ kind: "roster-set", user: juliet, item: { jid: romeo, groups: [], subscription: "both", ask: false, approved: false }, ver: "1" });
    store.apply({ kind: "roster-set", user: romeo, item: { jid: juliet, groups: [], subscription: "both", ask: false, approved: false }, ver: "1" });
    const run = processLocally(im, store, { stanza: rosterSet({ jid: romeo, subscription: "remove" }), from: j });
    expect(store.rosterItem(juliet, romeo)).toBeUndefined();
    expect(store.rosterItem(romeo, juliet)).toMatchObject({ subscription: "none" });
    const pushToJ = run.delivered.find((d) => d.to.equals(j) && d.stanza.attr("type") === "set")!;
    expect(pushToJ.stanza.getChild("query", NS_ROSTER)!.getChild("item", NS_ROSTER)!.attr("subscription")).toBe("remove");
    // Romeo's client sees the unsubscribe, the unsubscribed and juliet going unavailable.
    const toR = run.delivered.filter((d) => d.to.equals(r) && d.stanza.name === "presence").map((d) => d.stanza.attr("type"));
    expect(toR).toEqual(expect.arrayContaining(["unsubscribe", "unsubscribed", "unavailable"]));
  });

  it("withdraws a pending request on removal (unsubscribe routed)", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const j = online(store, `${juliet}/balcony`);
    store.apply({ kind: "roster-set", user: juliet, item: { jid: "x@remote.example", groups: [], subscription: "none", ask: true, approved: false }, ver: "1" });
    const actions = im.handleOutbound(rosterSet({ jid: "x@remote.example", subscription: "remove" }), j, store);
    expect(routes(actions).map((p) => p.attr("type"))).toEqual(["unsubscribe"]);
  });
});
