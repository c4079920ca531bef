/**
 * The roster item (RFC 6121 §2.1.2) shared by both roles: its fields, its XML form and a strict reader for
 * items received from a peer.
 *
 * @module
 */
import { type Jid, JidError, tryParseJid } from "@xmpp-sansio/jid";
import { XmlElement } from "@xmpp-sansio/xml";
import { NS_ROSTER } from "./namespaces.js";

/** The `subscription` attribute of a stored roster item (RFC 6121 §2.1.2.5). `remove` only travels in sets and pushes. */
export type Subscription = "none" | "to" | "from" | "both";

/** All four stored subscription values. */
export const SUBSCRIPTIONS: readonly Subscription[] = Object.freeze(["none", "to", "from", "both"] as const);

/** One contact in a roster. `jid` is a bare JID in canonical form. */
export interface RosterItem {
  /** The contact's bare JID, canonical (`parseJid(x).toString()`). */
  readonly jid: string;
  /** Handle the user gave the contact (`name`), if any. */
  readonly name?: string;
  /** Groups (`<group/>`), in the order given, without duplicates. */
  readonly groups: readonly string[];
  /** The subscription state (RFC 6121 §2.1.2.5). */
  readonly subscription: Subscription;
  /** `ask='subscribe'`: the user's subscription request is pending (§2.1.2.2). */
  readonly ask: boolean;
  /** `approved='true'`: the user pre-approved the contact's subscription (§2.1.2.1, §3.4). */
  readonly approved: boolean;
}

/** A roster item with defaults for everything but the JID. */
export function rosterItem(jid: string, fields?: Partial<Omit<RosterItem, "jid">>): RosterItem {
  const item: RosterItem = {
    jid,
    groups: fields?.groups ?? [],
    subscription: fields?.subscription ?? "none",
    ask: fields?.ask ?? false,
    approved: fields?.approved ?? false,
  };
  return fields?.name === undefined ? item : { ...item, name: fields.name };
}

/** Options of {@link buildRosterItem}. */
export interface BuildItemOptions {
  /** Write `subscription='remove'` instead of the item's state (a removal push, §2.5.2). */
  remove?: boolean;
  /** Write `approved='true'` when set (only servers that support pre-approval do, §2.1.2.1). Default true. */
  approved?: boolean;
}

/** The `<item/>` element of a roster item, in `jabber:iq:roster`. */
export function buildRosterItem(item: RosterItem, options?: BuildItemOptions): XmlElement {
  const el = new XmlElement("item", NS_ROSTER, { jid: item.jid });
  if (options?.remove === true) {
    el.setAttr("subscription", "remove");
    return el;
  }
  if (item.name !== undefined) el.setAttr("name", item.name);
  el.setAttr("subscription", item.subscription);
  if (item.ask) el.setAttr("ask", "subscribe");
  if (item.approved && options?.approved !== false) el.setAttr("approved", "true");
  for (const g of item.groups) el.append(new XmlElement("group", NS_ROSTER, null, [g]));
  return el;
}

/** An `<item/>` as read from a peer: the parsed JID plus the attributes as sent. */
export interface ParsedRosterItem {
  /** The item's JID as parsed (may carry a resource; callers decide whether that is acceptable). */
  readonly jid: Jid;
  /** `name`, if present. */
  readonly name?: string;
  /** The groups in order; duplicates kept so that callers can refuse them. */
  readonly groups: readonly string[];
  /** The raw `subscription` attribute, if any. */
  readonly subscription?: string;
  /** The raw `ask` attribute, if any. */
  readonly ask?: string;
  /** The raw `approved` attribute, if any. */
  readonly approved?: string;
}

/** Why {@link parseRosterItem} refused an item. */
export type RosterItemProblem = "missing-jid" | "invalid-jid";

/** Reads an `<item/>` of `jabber:iq:roster`. Never throws. */
export function parseRosterItem(el: XmlElement): ParsedRosterItem | RosterItemProblem {
  const raw = el.attr("jid");
  if (raw === undefined) return "missing-jid";
  const j = tryParseJid(raw);
  if (j instanceof JidError) return "invalid-jid";
  const groups = el.getChildren("group", NS_ROSTER).map((g) => g.text());
  const out: { -readonly [K in keyof ParsedRosterItem]: ParsedRosterItem[K] } = { jid: j, groups };
  const name = el.attr("name");
  if (name !== undefined) out.name = name;
  const sub = el.attr("subscription");
  if (sub !== undefined) out.subscription = sub;
  const ask = el.attr("ask");
  if (ask !== undefined) out.ask = ask;
  const approved = el.attr("approved");
  if (approved !== undefined) out.approved = approved;
  return out;
}

/** True for the four stored subscription values. */
export function isSubscription(s: string | undefined): s is Subscription {
  return s === "none" || s === "to" || s === "from" || s === "both";
}
