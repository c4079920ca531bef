/**
 * Presence on the server: subscription stanzas through the Appendix A tables (§3), probes (§4.3), broadcast
 * of initial, subsequent and unavailable presence (§4.2, §4.4, §4.5), directed presence (§4.6).
 *
 * @internal
 * @module
 */
import { type Jid, JidError, tryParseJid } from "@xmpp-sansio/jid";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { type Ctx, sessionJid } from "./server-context.js";
import type { SessionState } from "./server-types.js";
import {
  INBOUND,
  isSubscriptionType,
  OUTBOUND,
  type SubscriptionPresenceType,
  type SubscriptionState,
  stateFromParts,
  stateParts,
} from "./subscription.js";

/** A copy of a presence with new addresses (`undefined` removes the attribute). */
function readdress(p: XmlElement, from: string | undefined, to: string | undefined): XmlElement {
  const c = p.clone();
  c.setAttr("from", from);
  c.setAttr("to", to);
  return c;
}

/** Sends the current presence of each of `user`'s available resources to `to` (§3.1.5, §4.3.2). */
export function currentPresenceTo(ctx: Ctx, user: string, to: string): void {
  for (const sess of ctx.available(user)) {
    const from = sessionJid(user, sess);
    if (from === undefined) continue;
    const p = sess.presence === undefined ? xml("presence") : sess.presence;
    ctx.route(readdress(p, from.toString(), to));
  }
}

/** Sends unavailable presence from each of `user`'s available resources to `to` (§3.2.2, §3.3.3). */
export function unavailableTo(ctx: Ctx, user: string, to: string): void {
  for (const sess of ctx.available(user)) {
    const from = sessionJid(user, sess);
    if (from !== undefined) ctx.route(xml("presence", { type: "unavailable", from: from.toString(), to }));
  }
}

/** Valid presence priority (§4.7.2.3): an integer from -128 to 127; absent is 0. */
export function parsePriority(p: XmlElement): number | undefined {
  const el = p.getChild("priority");
  if (el === undefined) return 0;
  const s = el.text().trim();
  if (!/^[+-]?[0-9]{1,3}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= -128 && n <= 127 ? n : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Outbound (from a local session)

/** A presence stanza from a local session. */
export function presenceOutbound(ctx: Ctx, p: XmlElement, sender: Jid, to: Jid | undefined): void {
  const user = sender.bare.toString();
  const type = p.attr("type");
  if (isSubscriptionType(type)) {
    if (to === undefined) {
      ctx.replyError(p, sender, "bad-request", { text: "a subscription request needs a 'to'" });
      return;
    }
    if (to.bare.toString() === user) {
      ctx.replyError(p, sender, "bad-request", { text: "no presence subscription to one's own account" });
      return;
    }
    if (ctx.blocked(user, to)) return;
    subscriptionOutbound(ctx, p, sender, type, user, to.bare.toString());
    return;
  }
  if (type === "probe") {
    // A client's probe is routed as the user's (§4.3); the contact's server answers it, it is never delivered.
    if (to === undefined || ctx.blocked(user, to)) return;
    ctx.route(readdress(p, user, to.bare.toString()));
    return;
  }
  if (type === "error") {
    if (to !== undefined) ctx.route(p);
    return;
  }
  if (type !== undefined && type !== "unavailable") {
    ctx.replyError(p, sender, "bad-request", { text: `unknown presence type "${type}"` });
    return;
  }
  if (to === undefined) broadcast(ctx, p, sender, type === "unavailable");
  else directed(ctx, p, sender, to, type === "unavailable");
}

function subscriptionOutbound(ctx: Ctx, p: XmlElement, sender: Jid, type: SubscriptionPresenceType, user: string, contact: string): void {
  const before = ctx.state(user, contact);
  const cell = OUTBOUND[type][before];
  const stamped = readdress(p, user, contact);
  const creates = (type === "subscribe" || type === "subscribed") && ctx.item(user, contact) === undefined;
  if (creates && ctx.roster(user).length >= ctx.s.maxRosterItems) {
    ctx.replyError(p, sender, "not-allowed", { text: `the roster is full (${ctx.s.maxRosterItems} items)` });
    return;
  }
  if (cell.pass) {
    if (cell.next !== undefined) ctx.moveTo(user, contact, cell.next);
    const lostFrom = stateParts(before).in === "subscribed" && cell.next !== undefined && stateParts(cell.next).in !== "subscribed";
    ctx.route(stamped);
    if (type === "subscribed") currentPresenceTo(ctx, user, contact);
    if (lostFrom) unavailableTo(ctx, user, contact);
    return;
  }
  // Not routed. §3.4: "subscribed" with no pending request is a pre-approval; "unsubscribed" cancels one.
  const item = ctx.item(user, contact);
  if (type === "subscribed" && ctx.s.preApproval && stateParts(before).in === "none") {
    if (item === undefined) ctx.upsertItem(user, { jid: contact, groups: [], subscription: "none", ask: false, approved: true });
    else if (!item.approved) ctx.upsertItem(user, { ...item, approved: true });
  } else if (type === "unsubscribed" && item?.approved === true) {
    ctx.upsertItem(user, { ...item, approved: false });
  }
}

function broadcast(ctx: Ctx, p: XmlElement, sender: Jid, unavailable: boolean): void {
  const user = sender.bare.toString();
  const sessions = ctx.sessions(user);
  const me = sessions.find((x) => x.resource === sender.resource);
  const wasAvailable = me?.available === true;
  const priority = unavailable ? 0 : parsePriority(p);
  if (priority === undefined) {
    ctx.replyError(p, sender, "bad-request", { text: "priority must be an integer from -128 to 127" });
    return;
  }
  const stored = unavailable ? undefined : readdress(p, sender.toString(), undefined);
  const updated: SessionState = {
    resource: sender.resource,
    available: !unavailable,
    priority,
    interested: me?.interested ?? false,
    directed: unavailable ? [] : (me?.directed ?? []),
    ...(stored === undefined ? {} : { presence: stored }),
  };
  ctx.overrideSessions(user, [...sessions.filter((x) => x.resource !== sender.resource), updated]);
  ctx.actions.push({
    kind: "session-presence",
    user,
    resource: sender.resource,
    available: !unavailable,
    priority,
    ...(stored === undefined ? {} : { presence: stored }),
  });
  const from = sender.toString();
  const subscribers = ctx.roster(user).filter((it) => it.subscription === "from" || it.subscription === "both");
  const covered = new Set<string>();
  if (!unavailable || wasAvailable) {
    for (const it of subscribers) {
      if (ctx.blockedBare(user, it.jid)) continue;
      covered.add(it.jid);
      ctx.route(readdress(p, from, it.jid));
    }
    // §4.2.2 / §4.4.2: to all of the user's available resources, the sender included; §4.5.2: not to the sender.
    for (const sess of sessions) {
      if (!sess.available || sess.resource === sender.resource) continue;
      const to = sessionJid(user, sess);
      if (to !== undefined) ctx.deliver(to, readdress(p, from, to.toString()));
    }
    if (!unavailable) ctx.deliver(sender, readdress(p, from, from));
  }
  if (unavailable) {
    // §4.6.3: entities that got directed presence get the unavailable too.
    for (const d of me?.directed ?? []) {
      if (covered.has(d)) continue;
      ctx.route(readdress(p, from, d));
    }
    if ((me?.directed.length ?? 0) > 0) ctx.actions.push({ kind: "directed-clear", user, resource: sender.resource });
    return;
  }
  if (!wasAvailable) {
    // Initial presence (§4.2.2): probes to the contacts we are subscribed to, the other resources' presence,
    // the pending subscription requests (§3.1.3).
    for (const it of ctx.roster(user)) {
      if (it.subscription !== "to" && it.subscription !== "both") continue;
      if (ctx.blockedBare(user, it.jid)) continue;
      ctx.route(xml("presence", { type: "probe", from: user, to: it.jid }));
    }
    for (const sess of sessions) {
      if (!sess.available || sess.resource === sender.resource) continue;
      const other = sessionJid(user, sess);
      if (other === undefined) continue;
      const op = sess.presence ?? xml("presence");
      ctx.deliver(sender, readdress(op, other.toString(), from));
    }
    for (const req of ctx.view.pendingInAll(user)) {
      const rf = req.attr("from");
      const rj = rf === undefined ? undefined : tryParseJid(rf);
      if (rj === undefined || rj instanceof JidError || ctx.blocked(user, rj)) continue;
      if (!ctx.hasPending(user, rj.bare.toString())) continue;
      ctx.deliver(sender, readdress(req, rj.bare.toString(), user));
    }
  }
  if (priority >= 0 && (!wasAvailable || (me?.priority ?? 0) < 0)) ctx.actions.push({ kind: "offline-flush", to: sender });
}

function directed(ctx: Ctx, p: XmlElement, sender: Jid, to: Jid, unavailable: boolean): void {
  const user = sender.bare.toString();
  if (ctx.blocked(user, to)) return;
  const target = to.toString();
  const me = ctx.sessions(user).find((x) => x.resource === sender.resource);
  const tracked = me?.directed.includes(target) ?? false;
  if (!unavailable && !tracked) {
    if ((me?.directed.length ?? 0) >= ctx.s.maxDirected) {
      ctx.replyError(p, sender, "resource-constraint", { text: "too many directed presence targets" });
      return;
    }
    ctx.actions.push({ kind: "directed-add", user, resource: sender.resource, jid: target });
  }
  if (unavailable && tracked) ctx.actions.push({ kind: "directed-remove", user, resource: sender.resource, jid: target });
  ctx.route(p);
}

/** Unavailable presence for a session that ends without having sent it (§4.5.2, §4.6.3). */
export function sessionEnd(ctx: Ctx, full: Jid): void {
  const user = full.bare.toString();
  const me = ctx.sessions(user).find((x) => x.resource === full.resource);
  if (me === undefined || (!me.available && me.directed.length === 0)) return;
  broadcast(ctx, xml("presence", { type: "unavailable", from: full.toString() }), full, true);
}

// ---------------------------------------------------------------------------------------------------
// Inbound (to a local user)

function deliverToAvailable(ctx: Ctx, user: string, stanza: XmlElement): void {
  for (const sess of ctx.available(user)) {
    const to = sessionJid(user, sess);
    if (to !== undefined) ctx.deliver(to, stanza.clone());
  }
}

/** A presence stanza addressed to an existing local user. */
export function presenceInbound(ctx: Ctx, p: XmlElement, from: Jid, to: Jid): void {
  const user = to.bare.toString();
  const type = p.attr("type");
  const blocked = ctx.blocked(user, from);
  if (isSubscriptionType(type)) {
    // Blocked contacts may still end a subscription (so both rosters stay consistent), never start one.
    if (blocked && (type === "subscribe" || type === "subscribed")) return;
    subscriptionInbound(ctx, p, type, user, from.bare.toString(), blocked);
    return;
  }
  if (type === "probe") {
    if (!blocked) probeInbound(ctx, from, user);
    return;
  }
  if (blocked) return;
  if (type !== undefined && type !== "unavailable" && type !== "error") return;
  if (to.resource === "") {
    if (type !== "error") deliverToAvailable(ctx, user, p);
    return;
  }
  // §8.5.3: a full JID gets it when that resource is connected; otherwise it is dropped.
  if (ctx.sessions(user).some((x) => x.resource === to.resource)) ctx.deliver(to, p);
}

function subscriptionInbound(
  ctx: Ctx,
  p: XmlElement,
  type: SubscriptionPresenceType,
  user: string,
  contact: string,
  blocked: boolean,
): void {
  const before = ctx.state(user, contact);
  const cell = INBOUND[type][before];
  const stamped = readdress(p, contact, user);
  if (type === "subscribe") {
    if (cell.autoReply === "subscribed") {
      ctx.route(xml("presence", { type: "subscribed", from: user, to: contact }));
      return;
    }
    const item = ctx.item(user, contact);
    if (ctx.s.preApproval && item?.approved === true && stateParts(before).in === "none") {
      // §3.4: pre-approved — approve on the contact's behalf, nothing is delivered.
      const next: SubscriptionState = stateFromParts({ out: stateParts(before).out, in: "subscribed" });
      ctx.moveTo(user, contact, next);
      ctx.route(xml("presence", { type: "subscribed", from: user, to: contact }));
      currentPresenceTo(ctx, user, contact);
      return;
    }
    if (!cell.pass) return;
    if (ctx.view.pendingInAll(user).length >= ctx.s.maxPendingIn) {
      ctx.bounce(p, "resource-constraint", { text: "too many subscription requests are waiting for this user" });
      return;
    }
    ctx.setPending(user, contact, stamped);
    if (cell.next !== undefined) ctx.moveTo(user, contact, cell.next);
    deliverToAvailable(ctx, user, stamped);
    return;
  }
  if (!cell.pass) return;
  const lostFrom = type === "unsubscribe" && stateParts(before).in === "subscribed";
  if (cell.next !== undefined) ctx.moveTo(user, contact, cell.next);
  if (!blocked) deliverToAvailable(ctx, user, stamped);
  if (lostFrom && !blocked) unavailableTo(ctx, user, contact);
}

function probeInbound(ctx: Ctx, from: Jid, user: string): void {
  const contact = from.bare.toString();
  const replyTo = from.toString();
  if (contact === user) {
    // One's own probe: the presence of the available resources.
    currentPresenceTo(ctx, user, replyTo);
    return;
  }
  const inbound = stateParts(ctx.state(user, contact)).in;
  if (inbound !== "subscribed") {
    // §4.6: resources that sent the prober directed presence answer for themselves.
    let answered = false;
    for (const sess of ctx.available(user)) {
      if (!sess.directed.includes(replyTo) && !sess.directed.includes(contact)) continue;
      const fromJid = sessionJid(user, sess);
      if (fromJid === undefined) continue;
      ctx.route(readdress(sess.presence ?? xml("presence"), fromJid.toString(), replyTo));
      answered = true;
    }
    if (answered) return;
  }
  if (inbound === "pending") return; // a request awaits the user's answer: reveal nothing, cancel nothing
  if (inbound === "none") {
    // §4.3.2: not subscribed — tell the prober so (its roster is out of step).
    ctx.route(xml("presence", { type: "unsubscribed", from: user, to: contact }));
    return;
  }
  if (ctx.available(user).length === 0) {
    ctx.route(xml("presence", { type: "unavailable", from: user, to: replyTo }));
    return;
  }
  currentPresenceTo(ctx, user, replyTo);
}

/** Presence to a local account that does not exist (§8.5.1). */
export function presenceNoSuchUser(ctx: Ctx, p: XmlElement, from: Jid, to: Jid): void {
  const type = p.attr("type");
  if (type === "subscribe" || type === "probe") {
    ctx.route(xml("presence", { type: "unsubscribed", from: to.bare.toString(), to: from.bare.toString() }));
  }
}
