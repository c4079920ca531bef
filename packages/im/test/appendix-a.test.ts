// RFC 6121 Appendix A, cell by cell: the tables in code are compared with the RFC's text, then every cell
// is run through ImServer (outbound: the user's server; inbound: the contact's server).
import { xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { ImServer } from "../src/server.js";
import {
  INBOUND,
  OUTBOUND,
  SUBSCRIPTION_STATES,
  SUBSCRIPTION_TYPES,
  type SubscriptionPresenceType,
  type SubscriptionState,
  stateOf,
} from "../src/subscription.js";
import { applyAll, delivers, online, routes, setState, storeWith } from "./helpers.js";

// The tables as printed in RFC 6121 A.2.1–A.2.4 and A.3.1–A.3.4 (ROUTE?/DELIVER? and NEW STATE columns).
const RFC_TABLES = `
A.2.1 subscribe
 "None"                  |  yes       |  "None + Pending Out"
 "None + Pending Out"    |  yes       |  no state change
 "None + Pending In"     |  yes       |  "None + Pending Out/In"
 "None + Pending Out/In" |  yes       |  no state change
 "To"                    |  yes       |  no state change
 "To + Pending In"       |  yes       |  no state change
 "From"                  |  yes       |  "From + Pending Out"
 "From + Pending Out"    |  yes       |  no state change
 "Both"                  |  yes       |  no state change
A.2.2 unsubscribe
 "None"                  |  yes       |  no state change
 "None + Pending Out"    |  yes       |  "None"
 "None + Pending In"     |  yes       |  no state change
 "None + Pending Out/In" |  yes       |  "None + Pending In"
 "To"                    |  yes       |  "None"
 "To + Pending In"       |  yes       |  "None + Pending In"
 "From"                  |  yes       |  no state change
 "From + Pending Out"    |  yes       |  "From"
 "Both"                  |  yes       |  "From"
A.2.3 subscribed
 "None"                  |  no        |  no state change
 "None + Pending Out"    |  no        |  no state change
 "None + Pending In"     |  yes       |  "From"
 "None + Pending Out/In" |  yes       |  "From + Pending Out"
 "To"                    |  no        |  no state change
 "To + Pending In"       |  yes       |  "Both"
 "From"                  |  no        |  no state change
 "From + Pending Out"    |  no        |  no state change
 "Both"                  |  no        |  no state change
A.2.4 unsubscribed
 "None"                  |  no        |  no state change
 "None + Pending Out"    |  no        |  no state change
 "None + Pending In"     |  yes       |  "None"
 "None + Pending Out/In" |  yes       |  "None + Pending Out"
 "To"                    |  no        |  no state change
 "To + Pending In"       |  yes       |  "To"
 "From"                  |  yes       |  "None"
 "From + Pending Out"    |  yes       |  "None + Pending Out"
 "Both"                  |  yes       |  "To"
A.3.1 subscribe
 "None"                  |  yes       |  "None + Pending In"
 "None + Pending Out"    |  yes       |  "None + Pending Out/In"
 "None + Pending In"     |  no        |  no state change
 "None + Pending Out/In" |  no        |  no state change
 "To"                    |  yes       |  "To + Pending In"
 "To + Pending In"       |  no        |  no state change
 "From"                  |  no *      |  no state change
 "From + Pending Out"    |  no *      |  no state change
 "Both"                  |  no *      |  no state change
A.3.2 unsubscribe
 "None"                  |  no        |  no state change
 "None + Pending Out"    |  no        |  no state change
 "None + Pending In"     |  yes       |  "None"
 "None + Pending Out/In" |  yes       |  "None + Pending Out"
 "To"                    |  no        |  no state change
 "To + Pending In"       |  yes       |  "To"
 "From"                  |  yes       |  "None"
 "From + Pending Out"    |  yes       |  "None + Pending Out"
 "Both"                  |  yes       |  "To"
A.3.3 subscribed
 "None"                  |  no        |  no state change
 "None + Pending Out"    |  yes       |  "To"
 "None + Pending In"     |  no        |  no state change
 "None + Pending Out/In" |  yes       |  "To + Pending In"
 "To"                    |  no        |  no state change
 "To + Pending In"       |  no        |  no state change
 "From"                  |  no        |  no state change
 "From + Pending Out"    |  yes       |  "Both"
 "Both"                  |  no        |  no state change
A.3.4 unsubscribed
 "None"                  |  no        |  no state change
 "None + Pending Out"    |  yes       |  "None"
 "None + Pending In"     |  no        |  no state change
 "None + Pending Out/In" |  yes       |  "None + Pending In"
 "To"                    |  yes       |  "None"
 "To + Pending In"       |  yes       |  "None + Pending In"
 "From"                  |  no        |  no state change
 "From + Pending Out"    |  yes       |  "From"
 "Both"                  |  yes       |  "From"
`;

interface RfcCell {
  section: string;
  dir: "outbound" | "inbound";
  type: SubscriptionPresenceType;
  state: SubscriptionState;
  pass: boolean;
  star: boolean;
  next: SubscriptionState | undefined;
}

function parseRfc(): RfcCell[] {
  const cells: RfcCell[] = [];
  let section = "";
  let type: SubscriptionPresenceType = "subscribe";
  for (const line of RFC_TABLES.split("\n")) {
    const head = /^(A\.[23]\.\d) (\w+)$/.exec(line);
    if (head) {
      section = head[1]!;
      type = head[2] as SubscriptionPresenceType;
      continue;
    }
    const row = /^ "([^"]+)"\s*\|\s*(yes|no)( \*)?\s*\|\s*(?:"([^"]+)"|no state change)\s*$/.exec(line);
    if (!row) continue;
    cells.push({
      section,
      dir: section.startsWith("A.2") ? "outbound" : "inbound",
      type,
      state: row[1] as SubscriptionState,
      pass: row[2] === "yes",
      star: row[3] !== undefined,
      next: row[4] as SubscriptionState | undefined,
    });
  }
  return cells;
}

const CELLS = parseRfc();

describe("RFC 6121 Appendix A as data", () => {
  it("has 72 cells: 2 directions × 4 types × 9 states", () => {
    expect(CELLS).toHaveLength(72);
    for (const dir of ["outbound", "inbound"] as const) {
      for (const type of SUBSCRIPTION_TYPES) {
        expect(CELLS.filter((c) => c.dir === dir && c.type === type).map((c) => c.state)).toEqual([...SUBSCRIPTION_STATES]);
      }
    }
  });
  it.each(CELLS.map((c) => [c.section, c.type, c.state, c] as const))("%s %s in %s matches the code", (_s, _t, _st, c) => {
    const cell = (c.dir === "outbound" ? OUTBOUND : INBOUND)[c.type][c.state];
    expect(cell.pass).toBe(c.pass);
    expect(cell.next).toBe(c.next);
    expect(cell.autoReply === "subscribed").toBe(c.star);
  });
});

const user = "juliet@example.com";
const contact = "romeo@remote.example";

describe("A.2 through ImServer.handleOutbound (the user's server)", () => {
  // Pre-approval (§3.4) is off here so that "subscribed" in a non-pending state is exactly the table.
  const im = new ImServer({ preApproval: false });
  const outbound = CELLS.filter((c) => c.dir === "outbound");
  it.each(outbound.map((c) => [c.section, c.type, c.state, c] as const))("%s %s in %s", (_s, _t, _st, c) => {
    const store = storeWith(user);
    const me = online(store, `${user}/balcony`);
    setState(store, user, contact, c.state);
    const actions = im.handleOutbound(xml("presence", { type: c.type, to: `${contact}/orchard`, from: me.toString() }), me, store);
    const routed = routes(actions).filter((p) => p.attr("type") === c.type);
    if (c.pass) {
      expect(routed).toHaveLength(1);
      // Subscription presences leave stamped with both bare JIDs (§3.1.2, §3.2.2, §3.3.2, §3.1.5).
      expect(routed[0]!.attr("from")).toBe(user);
      expect(routed[0]!.attr("to")).toBe(contact);
    } else expect(routed).toHaveLength(0);
    applyAll(store, actions);
    expect(stateOf(store.rosterItem(user, contact), store.pendingIn(user, contact) !== undefined)).toBe(c.next ?? c.state);
    // A visible change is pushed to the interested resource with the new version.
    const before = c.state;
    const after = c.next ?? c.state;
    const pushes = delivers(actions).filter((d) => d.stanza.name === "iq");
    const visibleChange = subVisible(before) !== subVisible(after);
    expect(pushes.length > 0).toBe(visibleChange);
  });
});

function subVisible(s: SubscriptionState): string {
  return s.replace(/ \+ Pending In$/, "").replace("Pending Out/In", "Pending Out").replace(/^None \+ Pending In$/, "None");
}

describe("A.3 through ImServer.handleInbound (the contact's server)", () => {
  const im = new ImServer({ preApproval: false });
  const inbound = CELLS.filter((c) => c.dir === "inbound");
  it.each(inbound.map((c) => [c.section, c.type, c.state, c] as const))("%s %s in %s", (_s, _t, _st, c) => {
    const store = storeWith(user);
    online(store, `${user}/balcony`);
    setState(store, user, contact, c.state);
    const actions = im.handleInbound(xml("presence", { type: c.type, from: `${contact}/orchard`, to: user }), store);
    const delivered = delivers(actions).filter((d) => d.stanza.name === "presence" && d.stanza.attr("type") === c.type);
    if (c.pass) {
      expect(delivered.map((d) => d.to)).toEqual([`${user}/balcony`]);
      // Delivered from the contact's bare JID.
      expect(delivered[0]!.stanza.attr("from")).toBe(contact);
    } else expect(delivered).toHaveLength(0);
    const autoReplies = routes(actions).filter((p) => p.attr("type") === "subscribed");
    expect(autoReplies.length).toBe(c.star ? 1 : 0);
    if (c.star) expect([autoReplies[0]!.attr("from"), autoReplies[0]!.attr("to")]).toEqual([user, contact]);
    applyAll(store, actions);
    expect(stateOf(store.rosterItem(user, contact), store.pendingIn(user, contact) !== undefined)).toBe(c.next ?? c.state);
  });
});
