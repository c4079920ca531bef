import { parseStanzaError } from "@xmpp-sansio/core";
import { parseJid } from "@xmpp-sansio/jid";
import { xml } from "@xmpp-sansio/xml";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import {
  approveSubscription,
  availablePresence,
  denySubscription,
  parsePresence,
  subscribe,
  unavailablePresence,
  unsubscribe,
} from "../src/client-presence.js";
import { Roster } from "../src/client-roster.js";
import { MemoryImStore, processLocally } from "../src/memory-store.js";
import { NS_ROSTER } from "../src/namespaces.js";
import { ImServer } from "../src/server.js";

const me = "juliet@example.com/balcony";

function push(item: Record<string, string>, attrs: Record<string, string | undefined> = {}, ver?: string) {
  return xml("iq", { type: "set", id: "p1", ...attrs }, xml("query", { xmlns: NS_ROSTER, ver }, xml("item", item)));
}

describe("Roster (client)", () => {
  it("asks with ver, applies a full result, then an unchanged (empty) result", () => {
    const r = new Roster({ account: me });
    expect(r.buildGet("g1").getChild("query", NS_ROSTER)!.attr("ver")).toBe("");
    r.handleResult(
      xml("iq", { type: "result", id: "g1" }, xml("query", { xmlns: NS_ROSTER, ver: "5" }, xml("item", { jid: "romeo@example.net", subscription: "both", name: "R" }))),
    );
    expect(r.version).toBe("5");
    expect(r.get("romeo@example.net/x")).toMatchObject({ subscription: "both", name: "R" });
    expect(r.buildGet("g2").getChild("query", NS_ROSTER)!.attr("ver")).toBe("5");
    expect(r.handleResult(xml("iq", { type: "result", id: "g2" }))).toBe(true);
    expect(r.pollEvents().map((e) => e.type)).toEqual(["roster", "roster-unchanged"]);
    expect(r.items()).toHaveLength(1);
  });

  it("applies pushes without from or from our bare JID, with their version (§2.1.6)", () => {
    const r = new Roster({ account: me });
    const ok1 = r.handlePush(push({ jid: "a@x", subscription: "none", ask: "subscribe" }, {}, "1"))!;
    expect(ok1.attr("type")).toBe("result");
    const ok2 = r.handlePush(push({ jid: "a@x", subscription: "to" }, { from: "juliet@example.com" }, "2"))!;
    expect(ok2.attr("type")).toBe("result");
    expect(r.get("a@x")).toMatchObject({ subscription: "to", ask: false });
    expect(r.version).toBe("2");
    r.handlePush(push({ jid: "a@x", subscription: "remove" }, {}, "3"));
    expect(r.get("a@x")).toBeUndefined();
    expect(r.pollEvents().map((e) => e.type)).toEqual(["item", "item", "item-removed"]);
  });

  it("refuses pushes from anyone else, or with other than one item, without applying them", () => {
    const r = new Roster({ account: me });
    for (const from of ["evil@example.com", "juliet@example.com/other", "example.com"]) {
      const reply = r.handlePush(push({ jid: "a@x" }, { from }))!;
      expect(parseStanzaError(reply).condition).toBe("service-unavailable");
    }
    const two = xml("iq", { type: "set", id: "p" }, xml("query", { xmlns: NS_ROSTER }, xml("item", { jid: "a@x" }), xml("item", { jid: "b@x" })));
    expect(parseStanzaError(r.handlePush(two)!).condition).toBe("bad-request");
    expect(r.items()).toHaveLength(0);
    expect(r.pollEvents().every((e) => e.type === "push-rejected")).toBe(true);
  });

  it("exports a JSON cache that round-trips through JSON and is used for the next get", () => {
    const r = new Roster({ account: me });
    r.handlePush(push({ jid: "a@x", subscription: "from", name: "A" }, {}, "9"));
    const json = JSON.parse(JSON.stringify(r.exportCache()));
    const r2 = new Roster({ account: me, cache: json });
    expect(r2.items()).toEqual(r.items());
    expect(r2.version).toBe("9");
    expect(r2.importCache({ format: "nope" })).toBe(false);
    expect(r2.importCache({ format: "xmpp-sansio-roster/1", items: [{ jid: "a@x/res", groups: [], subscription: "none", ask: false, approved: false }] })).toBe(false);
    expect(r2.items()).toHaveLength(1);
  });

  it("turns subscription presences into typed events", () => {
    const r = new Roster({ account: me });
    expect(
      r.handlePresence(
        xml("presence", { type: "subscribe", from: "romeo@example.net" }, xml("status", {}, "hi"), xml("nick", { xmlns: "http://jabber.org/protocol/nick" }, "Ro")),
      ),
    ).toBe(true);
    r.handlePresence(xml("presence", { type: "subscribed", from: "romeo@example.net/x" }));
    r.handlePresence(xml("presence", { type: "unsubscribed", from: "romeo@example.net" }));
    r.handlePresence(xml("presence", { type: "unsubscribe", from: "romeo@example.net" }));
    expect(r.handlePresence(xml("presence", { from: "romeo@example.net" }))).toBe(false);
    const ev = r.pollEvents();
    expect(ev.map((e) => e.type)).toEqual(["subscription-request", "subscription-approved", "subscription-cancelled", "unsubscribed-by-contact"]);
    expect(ev[0]).toMatchObject({ status: "hi", nick: "Ro" });
    expect(ev[1]!.type === "subscription-approved" && ev[1]!.from.toString()).toBe("romeo@example.net");
  });
});

describe("presence builders", () => {
  it("build the RFC shapes, subscriptions to bare JIDs", () => {
    expect(subscribe("romeo@example.net/orchard", { status: "s" }).attr("to")).toBe("romeo@example.net");
    expect(approveSubscription("a@b").attr("type")).toBe("subscribed");
    expect(denySubscription("a@b").attr("type")).toBe("unsubscribed");
    expect(unsubscribe("a@b").attr("type")).toBe("unsubscribe");
    expect(unavailablePresence("bye").getChildText("status")).toBe("bye");
    const p = availablePresence({ show: "away", status: "stepped away…", priority: -1 });
    expect(parsePresence(p)).toEqual({ type: "available", show: "away", status: "stepped away…", priority: -1 });
    expect(() => availablePresence({ priority: 128 })).toThrow(RangeError);
    expect(parsePresence(xml("presence", { type: "weird" }, xml("show", {}, "sleepy"), xml("priority", {}, "999")))).toEqual({ type: "unknown", priority: 0 });
  });
});

describe("client Roster against ImServer", () => {
  const USERS = ["alice@example.com", "bob@example.com"];
  it("every interested session's Roster equals the server's roster after any sequence", () => {
    const op = fc.record({
      u: fc.nat({ max: 1 }),
      r: fc.nat({ max: 1 }),
      k: fc.constantFrom("get", "set", "remove", "subscribe", "subscribed", "unsubscribe", "unsubscribed", "presence", "end"),
      name: fc.option(fc.constantFrom("A", "B")),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const im = new ImServer();
        const store = new MemoryImStore(["example.com"]);
        for (const u of USERS) store.addUser(u);
        const clients = new Map<string, Roster>();
        for (const o of ops) {
          const full = parseJid(`${USERS[o.u]}/r${o.r}`);
          const other = USERS[1 - o.u]!;
          if (!store.sessions(full.bare.toString()).some((s) => s.resource === full.resource)) {
            if (o.k === "end") continue;
            store.connect(full);
          }
          const stanza =
            o.k === "get"
              ? (clients.get(full.toString()) ?? new Roster({ account: full })).buildGet("g")
              : o.k === "set"
                ? new Roster({ account: full }).buildSet("s", other, o.name === null ? {} : { name: o.name })
                : o.k === "remove"
                  ? new Roster({ account: full }).buildRemove("s", other)
                  : o.k === "presence"
                    ? availablePresence()
                    : xml("presence", { type: o.k, to: other });
          if (o.k === "get" && !clients.has(full.toString())) clients.set(full.toString(), new Roster({ account: full }));
          const run = o.k === "end" ? processLocally(im, store, { sessionEnd: full }) : processLocally(im, store, { stanza, from: full });
          if (o.k === "end") clients.delete(full.toString());
          for (const d of run.delivered) {
            const c = clients.get(d.to.toString());
            if (c === undefined || d.stanza.name !== "iq") continue;
            if (Roster.isPush(d.stanza)) c.handlePush(d.stanza);
            else c.handleResult(d.stanza);
          }
          for (const [jid, c] of clients) {
            const user = parseJid(jid).bare.toString();
            const norm = (xs: readonly { jid: string }[]) => [...xs].sort((a, b) => (a.jid < b.jid ? -1 : 1));
            expect(norm(c.items())).toEqual(norm(store.roster(user)));
            expect(c.version).toBe(store.rosterVersion(user));
          }
        }
      }),
      fuzz(200),
    );
  });
});
