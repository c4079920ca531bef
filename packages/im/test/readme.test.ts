// The README's example, run as written (console output checked).
import { parseJid } from "@xmpp-sansio/jid";
import { xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { approveSubscription, availablePresence, ImServer, MemoryImStore, processLocally, Roster, subscribe } from "../src/index.js";

describe("README example", () => {
  it("runs and prints what it says", () => {
    const im = new ImServer({ offlineLimit: 100 });
    const store = new MemoryImStore(["example.com"]);
    store.addUser("juliet@example.com");
    store.addUser("romeo@example.com");
    const juliet = parseJid("juliet@example.com/balcony");
    const romeo = parseJid("romeo@example.com/orchard");
    store.connect(juliet);
    store.connect(romeo);
    const roster = new Roster({ account: juliet });
    const feed = (run: ReturnType<typeof processLocally>) => {
      for (const d of run.delivered) {
        if (!d.to.equals(juliet)) continue;
        if (Roster.isPush(d.stanza)) roster.handlePush(d.stanza);
        else if (d.stanza.name === "iq") roster.handleResult(d.stanza);
        else if (d.stanza.name === "presence") roster.handlePresence(d.stanza);
      }
    };
    feed(processLocally(im, store, { stanza: roster.buildGet("r1"), from: juliet }));
    feed(processLocally(im, store, { stanza: availablePresence({ status: "Online" }), from: juliet }));
    processLocally(im, store, { stanza: availablePresence(), from: romeo });
    feed(processLocally(im, store, { stanza: subscribe("romeo@example.com"), from: juliet }));
    expect(roster.get("romeo@example.com")).toMatchObject({ jid: "romeo@example.com", subscription: "none", ask: true });
    feed(processLocally(im, store, { stanza: approveSubscription("juliet@example.com"), from: romeo }));
    expect(roster.get("romeo@example.com")?.subscription).toBe("to");
    expect(roster.pollEvents().map((e) => e.type)).toEqual(["roster", "item", "item", "subscription-approved"]);
    processLocally(im, store, { sessionEnd: romeo });
    processLocally(im, store, { stanza: xml("message", { to: "romeo@example.com", type: "chat" }, xml("body", {}, "Art thou?")), from: juliet });
    expect(store.offlineCount("romeo@example.com")).toBe(1);
  });
});
