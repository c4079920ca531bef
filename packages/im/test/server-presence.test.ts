import { parseStanzaError } from "@xmpp-sansio/core";
import { xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { processLocally } from "../src/memory-store.js";
import { NS_ROSTER } from "../src/namespaces.js";
import { ImServer } from "../src/server.js";
import { applyAll, delivers, J, online, routes, storeWith } from "./helpers.js";

const juliet = "juliet@example.com";
const romeo = "romeo@example.com";

function mutual(store: ReturnType<typeof storeWith>, a: string, b: string): void {
  store.apply({ kind: "roster-set", user: a, item: { jid: b, groups: [], subscription: "both", ask: false, approved: false }, ver: "1" });
  store.apply({ kind: "roster-set", user: b, item: { jid: a, groups: [], subscription: "both", ask: false, approved: false }, ver: "1" });
}

describe("the seed's use case 7.3: adding a contact", () => {
  it("roster set, subscribe with ask='subscribe', the contact approves, subscription='to'", () => {
    const im = new ImServer();
    const store = storeWith(juliet, romeo);
    const j = J(`${juliet}/balcony`);
    store.connect(j);
    processLocally(im, store, { stanza: xml("iq", { type: "get", id: "r" }, xml("query", { xmlns: NS_ROSTER })), from: j });
    processLocally(im, store, { stanza: xml("presence"), from: j });
    const r = J(`${romeo}/orchard`);
    store.connect(r);
    processLocally(im, store, { stanza: xml("presence"), from: r });

    const set = processLocally(im, store, {
      stanza: xml("iq", { type: "set", id: "a1" }, xml("query", { xmlns: NS_ROSTER }, xml("item", { jid: romeo, name: "romeo" }))),
      from: j,
    });
    const push1 = set.delivered.find((d) => d.stanza.attr("type") === "set")!.stanza.getChild("query", NS_ROSTER)!.getChild("item", NS_ROSTER)!;
    expect([push1.attr("subscription"), push1.attr("ask")]).toEqual(["none", undefined]);

    const sub = processLocally(im, store, { stanza: xml("presence", { to: romeo, type: "subscribe" }, xml("status", {}, "Wherefore are thou?")), from: j });
    const push2 = sub.delivered.find((d) => d.to.equals(j) && d.stanza.name === "iq")!.stanza.getChild("query", NS_ROSTER)!.getChild("item", NS_ROSTER)!;
    expect([push2.attr("subscription"), push2.attr("ask"), push2.attr("name")]).toEqual(["none", "subscribe", "romeo"]);
    const req = sub.delivered.find((d) => d.to.equals(r) && d.stanza.attr("type") === "subscribe")!;
    expect(req.stanza.attr("from")).toBe(juliet);
    expect(req.stanza.getChildText("status")).toBe("Wherefore are thou?");

    const ok = processLocally(im, store, { stanza: xml("presence", { to: juliet, type: "subscribed" }), from: r });
    const got = ok.delivered.find((d) => d.to.equals(j) && d.stanza.attr("type") === "subscribed")!;
    expect([got.stanza.attr("from"), got.stanza.attr("to")]).toEqual([romeo, juliet]);
    const push3 = ok.delivered.find((d) => d.to.equals(j) && d.stanza.name === "iq")!.stanza.getChild("query", NS_ROSTER)!.getChild("item", NS_ROSTER)!;
    expect([push3.attr("subscription"), push3.attr("ask")]).toEqual(["to", undefined]);
    // Romeo's current presence follows the approval (§3.1.5).
    expect(ok.delivered.some((d) => d.to.equals(j) && d.stanza.name === "presence" && d.stanza.attr("type") === undefined && d.stanza.attr("from") === r.toString())).toBe(true);
    expect(store.rosterItem(romeo, juliet)).toMatchObject({ subscription: "from" });
  });
});

describe("presence broadcast (§4.2, §4.4, §4.5)", () => {
  it("initial presence: to subscribers, echoed to every available resource including the sender, probes to contacts", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    store.apply({ kind: "roster-set", user: juliet, item: { jid: "a@remote.example", groups: [], subscription: "from", ask: false, approved: false }, ver: "1" });
    store.apply({ kind: "roster-set", user: juliet, item: { jid: "b@remote.example", groups: [], subscription: "to", ask: false, approved: false }, ver: "2" });
    store.apply({ kind: "roster-set", user: juliet, item: { jid: "c@remote.example", groups: [], subscription: "none", ask: true, approved: false }, ver: "3" });
    const other = online(store, `${juliet}/other`);
    const me = J(`${juliet}/balcony`);
    store.connect(me);
    const actions = im.handleOutbound(xml("presence", {}, xml("show", {}, "away"), xml("priority", {}, "5")), me, store);
    const r = routes(actions);
    expect(r.filter((p) => p.attr("type") === undefined).map((p) => [p.attr("from"), p.attr("to")])).toEqual([[me.toString(), "a@remote.example"]]);
    expect(r.filter((p) => p.attr("type") === "probe").map((p) => [p.attr("from"), p.attr("to")])).toEqual([[juliet, "b@remote.example"]]);
    const d = delivers(actions).filter((x) => x.stanza.name === "presence");
    // echo to the other resource and to the sender; the other resource's presence to the sender
    expect(d.map((x) => `${x.to}<-${x.stanza.attr("from")}`).sort()).toEqual(
      [`${other}<-${me}`, `${me}<-${me}`, `${me}<-${other}`].sort(),
    );
    expect(actions).toContainEqual(expect.objectContaining({ kind: "session-presence", resource: "balcony", available: true, priority: 5 }));
    expect(actions).toContainEqual({ kind: "offline-flush", to: me });
  });

  it("subsequent presence is broadcast without probes; negative priority gets no offline flush", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    store.apply({ kind: "roster-set", user: juliet, item: { jid: "b@remote.example", groups: [], subscription: "both", ask: false, approved: false }, ver: "1" });
    const me = online(store, `${juliet}/balcony`);
    const actions = im.handleOutbound(xml("presence", {}, xml("priority", {}, "-1")), me, store);
    expect(routes(actions).map((p) => p.attr("type"))).toEqual([undefined]);
    expect(actions.some((a) => a.kind === "offline-flush")).toBe(false);
  });

  it("refuses an invalid priority", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const me = online(store, `${juliet}/balcony`);
    const d = delivers(im.handleOutbound(xml("presence", {}, xml("priority", {}, "300")), me, store));
    expect(parseStanzaError(d[0]!.stanza).condition).toBe("bad-request");
  });

  it("a client's probe is never delivered to a client; the contact's server answers it", () => {
    const im = new ImServer();
    const store = storeWith(juliet, romeo);
    mutual(store, juliet, romeo);
    const j = online(store, `${juliet}/balcony`);
    const r = online(store, `${romeo}/orchard`);
    const run = processLocally(im, store, { stanza: xml("presence", { type: "probe", to: romeo }), from: j });
    expect(run.delivered.some((d) => d.stanza.attr("type") === "probe")).toBe(false);
    expect(run.delivered.some((d) => d.to.equals(j) && d.stanza.attr("from") === r.toString())).toBe(true);
  });

  it("a probe from a non-subscriber gets unsubscribed; from a subscriber with nothing online, unavailable", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const a = im.handleInbound(xml("presence", { type: "probe", from: "x@remote.example", to: juliet }), store);
    expect(routes(a).map((p) => p.attr("type"))).toEqual(["unsubscribed"]);
    store.apply({ kind: "roster-set", user: juliet, item: { jid: "x@remote.example", groups: [], subscription: "from", ask: false, approved: false }, ver: "1" });
    const b = im.handleInbound(xml("presence", { type: "probe", from: "x@remote.example", to: juliet }), store);
    expect(routes(b).map((p) => p.attr("type"))).toEqual(["unavailable"]);
  });

  it("unavailable: to subscribers, other resources and directed-presence targets; not echoed to the sender", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    store.apply({ kind: "roster-set", user: juliet, item: { jid: "a@remote.example", groups: [], subscription: "both", ask: false, approved: false }, ver: "1" });
    const me = online(store, `${juliet}/balcony`);
    const other = online(store, `${juliet}/other`);
    applyAll(store, im.handleOutbound(xml("presence", { to: "room@muc.remote.example/nick" }), me, store));
    const actions = im.handleOutbound(xml("presence", { type: "unavailable" }), me, store);
    expect(routes(actions).map((p) => p.attr("to")).sort()).toEqual(["a@remote.example", "room@muc.remote.example/nick"]);
    expect(delivers(actions).map((d) => d.to)).toEqual([other.toString()]);
    expect(actions).toContainEqual({ kind: "directed-clear", user: juliet, resource: "balcony" });
  });

  it("session end without unavailable presence sends it for the session; nothing for a session never available", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    store.apply({ kind: "roster-set", user: juliet, item: { jid: "a@remote.example", groups: [], subscription: "from", ask: false, approved: false }, ver: "1" });
    const me = online(store, `${juliet}/balcony`);
    const actions = im.handleSessionEnd(me, store);
    expect(routes(actions).map((p) => [p.attr("type"), p.attr("from"), p.attr("to")])).toEqual([["unavailable", me.toString(), "a@remote.example"]]);
    const quiet = J(`${juliet}/quiet`);
    store.connect(quiet);
    expect(im.handleSessionEnd(quiet, store)).toEqual([]);
  });

  it("directed presence is routed as is and tracked; directed unavailable forgets it", () => {
    const im = new ImServer({ maxDirected: 1 });
    const store = storeWith(juliet);
    const me = online(store, `${juliet}/balcony`);
    const a1 = im.handleOutbound(xml("presence", { to: "x@remote.example", from: me.toString() }), me, store);
    expect(a1).toContainEqual({ kind: "directed-add", user: juliet, resource: "balcony", jid: "x@remote.example" });
    expect(routes(a1)[0]!.attr("from")).toBe(me.toString());
    applyAll(store, a1);
    const a2 = im.handleOutbound(xml("presence", { to: "y@remote.example" }), me, store);
    expect(parseStanzaError(delivers(a2)[0]!.stanza).condition).toBe("resource-constraint");
    const a3 = im.handleOutbound(xml("presence", { to: "x@remote.example", type: "unavailable" }), me, store);
    expect(a3).toContainEqual({ kind: "directed-remove", user: juliet, resource: "balcony", jid: "x@remote.example" });
  });

  it("redelivers pending subscription requests on initial presence (§3.1.3)", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    applyAll(store, im.handleInbound(xml("presence", { type: "subscribe", from: "x@remote.example/r", to: juliet }), store));
    const me = J(`${juliet}/balcony`);
    store.connect(me);
    const d = delivers(im.handleOutbound(xml("presence"), me, store)).filter((x) => x.stanza.attr("type") === "subscribe");
    expect(d.map((x) => [x.to, x.stanza.attr("from")])).toEqual([[me.toString(), "x@remote.example"]]);
  });

  it("a probe from an entity that got directed presence is answered by that resource (§4.6)", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const me = online(store, `${juliet}/balcony`);
    applyAll(store, im.handleOutbound(xml("presence", { to: "room@muc.remote.example/nick" }), me, store));
    const a = im.handleInbound(xml("presence", { type: "probe", from: "room@muc.remote.example/nick", to: juliet }), store);
    expect(routes(a).map((p) => [p.attr("type"), p.attr("from"), p.attr("to")])).toEqual([[undefined, me.toString(), "room@muc.remote.example/nick"]]);
  });

  it("a subscription presence to one's own account is refused", () => {
    const im = new ImServer();
    const store = storeWith(juliet);
    const me = online(store, `${juliet}/balcony`);
    const d = delivers(im.handleOutbound(xml("presence", { type: "subscribe", to: juliet }), me, store));
    expect(parseStanzaError(d[0]!.stanza).condition).toBe("bad-request");
  });

  it("subscribe to a user that does not exist is answered with unsubscribed (§8.5.1)", () => {
    const im = new ImServer();
    const store = storeWith();
    const a = im.handleInbound(xml("presence", { type: "subscribe", from: "x@remote.example/r", to: "ghost@example.com" }), store);
    expect(routes(a).map((p) => [p.attr("type"), p.attr("from"), p.attr("to")])).toEqual([["unsubscribed", "ghost@example.com", "x@remote.example"]]);
  });
});

describe("pre-approval (§3.4)", () => {
  it("subscribed without a pending request pre-approves; the later request is approved automatically", () => {
    const im = new ImServer();
    const store = storeWith(juliet, romeo);
    const r = online(store, `${romeo}/orchard`);
    const j = online(store, `${juliet}/balcony`);
    const pre = processLocally(im, store, { stanza: xml("presence", { type: "subscribed", to: juliet }), from: r });
    expect(pre.delivered.some((d) => d.to.equals(j))).toBe(false);
    expect(store.rosterItem(romeo, juliet)).toMatchObject({ approved: true, subscription: "none" });
    const push = pre.delivered.find((d) => d.to.equals(r) && d.stanza.name === "iq")!;
    expect(push.stanza.getChild("query", NS_ROSTER)!.getChild("item", NS_ROSTER)!.attr("approved")).toBe("true");
    const sub = processLocally(im, store, { stanza: xml("presence", { type: "subscribe", to: romeo }), from: j });
    expect(sub.delivered.some((d) => d.to.equals(r) && d.stanza.attr("type") === "subscribe")).toBe(false);
    expect(store.rosterItem(romeo, juliet)).toMatchObject({ approved: false, subscription: "from" });
    expect(store.rosterItem(juliet, romeo)).toMatchObject({ subscription: "to", ask: false });
  });

  it("unsubscribed cancels a pre-approval", () => {
    const im = new ImServer();
    const store = storeWith(romeo);
    const r = online(store, `${romeo}/orchard`);
    applyAll(store, im.handleOutbound(xml("presence", { type: "subscribed", to: "x@remote.example" }), r, store));
    expect(store.rosterItem(romeo, "x@remote.example")?.approved).toBe(true);
    const a = im.handleOutbound(xml("presence", { type: "unsubscribed", to: "x@remote.example" }), r, store);
    expect(routes(a)).toHaveLength(0);
    applyAll(store, a);
    expect(store.rosterItem(romeo, "x@remote.example")?.approved).toBe(false);
  });
});

describe("bounds", () => {
  it("a subscription presence that would add a roster item to a full roster is refused", () => {
    const im = new ImServer({ maxRosterItems: 1 });
    const store = storeWith(juliet);
    const me = online(store, `${juliet}/balcony`);
    applyAll(store, im.handleOutbound(xml("presence", { type: "subscribe", to: "a@remote.example" }), me, store));
    const a = im.handleOutbound(xml("presence", { type: "subscribe", to: "b@remote.example" }), me, store);
    expect(routes(a)).toHaveLength(0);
    expect(parseStanzaError(delivers(a)[0]!.stanza).condition).toBe("not-allowed");
    // existing items are not affected
    expect(routes(im.handleOutbound(xml("presence", { type: "unsubscribe", to: "a@remote.example" }), me, store))).toHaveLength(1);
  });

  it("waiting subscription requests are bounded per user", () => {
    const im = new ImServer({ maxPendingIn: 2 });
    const store = storeWith(juliet);
    for (const c of ["a", "b", "c"]) {
      const actions = im.handleInbound(xml("presence", { type: "subscribe", from: `${c}@remote.example`, to: juliet }), store);
      applyAll(store, actions);
      if (c === "c") expect(parseStanzaError(routes(actions)[0]!).condition).toBe("resource-constraint");
    }
    expect(store.pendingInAll(juliet)).toHaveLength(2);
  });
});
