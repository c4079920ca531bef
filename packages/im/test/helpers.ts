import { type Jid, parseJid } from "@xmpp-sansio/jid";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { MemoryImStore } from "../src/memory-store.js";
import type { ImAction } from "../src/server-types.js";
import { askOf, pendingInOf, type SubscriptionState, subscriptionOf } from "../src/subscription.js";

export const J = (s: string): Jid => parseJid(s);

/** A store with the given local users on example.com. */
export function storeWith(...users: string[]): MemoryImStore {
  const store = new MemoryImStore(["example.com"]);
  for (const u of users) store.addUser(u);
  return store;
}

/** Connects a session and makes it available and interested (as after roster get + initial presence). */
export function online(store: MemoryImStore, full: string, priority = 0): Jid {
  const j = J(full);
  store.connect(j);
  store.apply({ kind: "session-interested", user: j.bare.toString(), resource: j.resource });
  store.apply({ kind: "session-presence", user: j.bare.toString(), resource: j.resource, available: true, priority, presence: xml("presence", { from: full }) });
  return j;
}

/** Puts `user`'s relation with `contact` into state `s`. */
export function setState(store: MemoryImStore, user: string, contact: string, s: SubscriptionState): void {
  const sub = subscriptionOf(s);
  const ask = askOf(s);
  if (sub !== "none" || ask || s === "None") {
    store.apply({ kind: "roster-set", user, item: { jid: contact, groups: [], subscription: sub, ask, approved: false }, ver: "1" });
  }
  if (pendingInOf(s)) {
    store.apply({ kind: "pending-in-set", user, contact, stanza: xml("presence", { type: "subscribe", from: contact, to: user }) });
  }
}

export function delivers(actions: readonly ImAction[]): Array<{ to: string; stanza: XmlElement }> {
  return actions.flatMap((a) => (a.kind === "deliver" ? [{ to: a.to.toString(), stanza: a.stanza }] : []));
}

export function routes(actions: readonly ImAction[]): XmlElement[] {
  return actions.flatMap((a) => (a.kind === "route" ? [a.stanza] : []));
}

/** Applies every mutation of `actions` to the store. */
export function applyAll(store: MemoryImStore, actions: readonly ImAction[]): void {
  for (const a of actions) {
    if (a.kind !== "deliver" && a.kind !== "route" && a.kind !== "unhandled" && a.kind !== "offline-flush") store.apply(a);
  }
}
