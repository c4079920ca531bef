/**
 * Roster get and set on the server (RFC 6121 §2.1.3–§2.6) and the XEP-0191 blocking command.
 *
 * @internal
 * @module
 */
import { type Jid, JidError, tryParseJid } from "@xmpp-sansio/jid";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { NS_BLOCKING, NS_ROSTER } from "./namespaces.js";
import { buildRosterItem, parseRosterItem, type RosterItem, rosterItem } from "./roster-item.js";
import { type Ctx, sessionJid } from "./server-context.js";
import { currentPresenceTo, unavailableTo } from "./server-presence.js";
import { stateParts } from "./subscription.js";

function result(iq: XmlElement, sender: Jid, ...children: XmlElement[]): XmlElement {
  return xml("iq", { type: "result", id: iq.attr("id"), to: sender.toString() }, ...children);
}

/** Roster get (§2.1.3) with versioning (§2.6.3). */
export function rosterGet(ctx: Ctx, iq: XmlElement, query: XmlElement, sender: Jid): void {
  const user = sender.bare.toString();
  ctx.actions.push({ kind: "session-interested", user, resource: sender.resource });
  const current = ctx.version(user);
  const asked = query.attr("ver");
  if (ctx.s.rosterVersioning && asked !== undefined) {
    // §2.6.3: an unchanged roster is answered with an empty result; the client keeps its copy.
    if (asked === current && current !== "") {
      ctx.deliver(sender, result(iq, sender));
      return;
    }
  }
  const q = xml("query", { xmlns: NS_ROSTER, ver: ctx.s.rosterVersioning && asked !== undefined ? current : undefined });
  for (const it of ctx.roster(user)) q.append(buildRosterItem(it, { approved: ctx.s.preApproval }));
  ctx.deliver(sender, result(iq, sender, q));
}

/** Roster set (§2.3, §2.4) and remove (§2.5). */
export function rosterSet(ctx: Ctx, iq: XmlElement, query: XmlElement, sender: Jid): void {
  const user = sender.bare.toString();
  const items = query.getChildren("item", NS_ROSTER);
  if (items.length !== 1 || query.elements().length !== 1) {
    ctx.replyError(iq, sender, "bad-request", { text: "a roster set carries exactly one item (RFC 6121 §2.3.3)" });
    return;
  }
  const parsed = parseRosterItem(items[0]!);
  if (parsed === "missing-jid" || parsed === "invalid-jid") {
    ctx.replyError(iq, sender, "bad-request", { text: parsed === "missing-jid" ? "the item has no jid" : "the item's jid is not a valid JID" });
    return;
  }
  if (parsed.jid.resource !== "") {
    ctx.replyError(iq, sender, "bad-request", { text: "roster items are bare JIDs" });
    return;
  }
  const contact = parsed.jid.toString();
  if (parsed.subscription === "remove") {
    rosterRemove(ctx, iq, sender, user, contact);
    return;
  }
  if (parsed.subscription !== undefined) {
    ctx.replyError(iq, sender, "bad-request", { text: "a roster set may only carry subscription='remove' (RFC 6121 §2.1.2.5)" });
    return;
  }
  const name = parsed.name;
  if (name !== undefined && name.length > ctx.s.maxNameLength) {
    ctx.replyError(iq, sender, "not-acceptable", { text: "the item name is too long" });
    return;
  }
  if (parsed.groups.length > ctx.s.maxGroups) {
    ctx.replyError(iq, sender, "not-acceptable", { text: "too many groups" });
    return;
  }
  const seen = new Set<string>();
  for (const g of parsed.groups) {
    if (g === "" || g.length > ctx.s.maxNameLength) {
      ctx.replyError(iq, sender, "not-acceptable", { text: g === "" ? "an empty group name" : "a group name is too long" });
      return;
    }
    if (seen.has(g)) {
      ctx.replyError(iq, sender, "bad-request", { text: `duplicate group "${g}"` });
      return;
    }
    seen.add(g);
  }
  const existing = ctx.item(user, contact);
  if (existing === undefined && ctx.roster(user).length >= ctx.s.maxRosterItems) {
    ctx.replyError(iq, sender, "not-allowed", { text: `the roster is full (${ctx.s.maxRosterItems} items)` });
    return;
  }
  // §2.1.2: subscription, ask and approved are the server's; name and groups are the client's.
  const base = existing ?? rosterItem(contact);
  const { name: _drop, ...rest } = base;
  const item: RosterItem = name === undefined ? { ...rest, groups: parsed.groups } : { ...rest, name, groups: parsed.groups };
  ctx.upsertItem(user, item);
  ctx.deliver(sender, result(iq, sender));
}

function rosterRemove(ctx: Ctx, iq: XmlElement, sender: Jid, user: string, contact: string): void {
  const item = ctx.item(user, contact);
  const state = ctx.state(user, contact);
  if (item === undefined && !ctx.hasPending(user, contact)) {
    ctx.replyError(iq, sender, "item-not-found", { text: "no such roster item (RFC 6121 §2.5.3)" });
    return;
  }
  const parts = stateParts(state);
  // §2.5.2: cancel both directions, from the bare JID.
  if (parts.in === "subscribed") unavailableTo(ctx, user, contact);
  if (item !== undefined) ctx.removeItem(user, contact);
  ctx.clearPending(user, contact);
  ctx.deliver(sender, result(iq, sender));
  if (parts.out !== "none") ctx.route(xml("presence", { type: "unsubscribe", from: user, to: contact }));
  if (parts.in !== "none") ctx.route(xml("presence", { type: "unsubscribed", from: user, to: contact }));
}

// ---------------------------------------------------------------------------------------------------
// XEP-0191

function blockItems(el: XmlElement): Jid[] | "malformed" {
  const out: Jid[] = [];
  for (const it of el.getChildren("item", NS_BLOCKING)) {
    const raw = it.attr("jid");
    const j = raw === undefined ? undefined : tryParseJid(raw);
    if (j === undefined || j instanceof JidError) return "malformed";
    out.push(j);
  }
  return out;
}

/** XEP-0191 blocklist get, block and unblock. Returns false when the IQ is not a blocking command. */
export function blockingIq(ctx: Ctx, iq: XmlElement, sender: Jid): boolean {
  const user = sender.bare.toString();
  const type = iq.attr("type");
  const payload = iq.firstElement();
  if (payload === undefined || payload.ns !== NS_BLOCKING) return false;
  if (type === "get" && payload.name === "blocklist") {
    const list = xml("blocklist", { xmlns: NS_BLOCKING }, ...ctx.view.blocklist(user).map((j) => xml("item", { jid: j })));
    ctx.deliver(sender, result(iq, sender, list));
    return true;
  }
  if (type !== "set" || (payload.name !== "block" && payload.name !== "unblock")) {
    ctx.replyError(iq, sender, "bad-request", { text: "expected blocklist get, block or unblock set" });
    return true;
  }
  const jids = blockItems(payload);
  if (jids === "malformed") {
    ctx.replyError(iq, sender, "jid-malformed", { text: "a blocklist item without a valid jid" });
    return true;
  }
  const block = payload.name === "block";
  if (block && jids.length === 0) {
    ctx.replyError(iq, sender, "bad-request", { text: "block needs at least one item (XEP-0191 §3.3)" });
    return true;
  }
  const current = new Set(ctx.view.blocklist(user));
  const strs = [...new Set(jids.map((j) => j.toString()))];
  const changed = block ? strs.filter((j) => !current.has(j)) : strs.length === 0 ? [...current] : strs.filter((j) => current.has(j));
  ctx.actions.push({ kind: block ? "blocklist-add" : "blocklist-remove", user, jids: block || strs.length > 0 ? strs : [] });
  ctx.deliver(sender, result(iq, sender));
  // Pushes to every connected resource (XEP-0191 §3.3/§3.4).
  for (const sess of ctx.sessions(user)) {
    const to = sessionJid(user, sess);
    if (to === undefined) continue;
    const push = xml(payload.name, { xmlns: NS_BLOCKING }, ...strs.map((j) => xml("item", { jid: j })));
    ctx.deliver(to, xml("iq", { type: "set", id: ctx.s.nextId(), to: to.toString() }, push));
  }
  // Presence: blocked subscribers see us go offline; unblocked ones get our current presence.
  for (const j of changed) {
    const target = tryParseJid(j);
    if (target instanceof JidError) continue;
    const contacts = ctx.roster(user).filter((it) => {
      const c = tryParseJid(it.jid);
      return !(c instanceof JidError) && (it.subscription === "from" || it.subscription === "both") && matchesEntry(j, c);
    });
    for (const it of contacts) {
      if (block) unavailableTo(ctx, user, it.jid);
      else currentPresenceTo(ctx, user, it.jid);
    }
  }
  return true;
}

function matchesEntry(entry: string, contactBare: Jid): boolean {
  return entry === contactBare.toString() || entry === contactBare.domain || entry.startsWith(`${contactBare.toString()}/`);
}
