/**
 * One call's working state: the actions so far, and an overlay of the roster and pending requests it
 * changed, so that later decisions in the same call see the earlier ones (and version numbers advance).
 *
 * @internal
 * @module
 */
import { errorReply, type StanzaError, stanzaError, type StanzaErrorCondition } from "@xmpp-sansio/core";
import { type Jid, JidError, tryParseJid } from "@xmpp-sansio/jid";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { NS_ROSTER } from "./namespaces.js";
import { buildRosterItem, type RosterItem } from "./roster-item.js";
import type { ImAction, ImStoreView, SessionState } from "./server-types.js";
import { applyState, pendingInOf, type SubscriptionState, stateOf } from "./subscription.js";

/** Resolved options. */
export interface Settings {
  offlineLimit: number;
  preApproval: boolean;
  rosterVersioning: boolean;
  maxRosterItems: number;
  maxNameLength: number;
  maxGroups: number;
  maxDirected: number;
  maxPendingIn: number;
  bareMessageDelivery: "highest" | "all";
  nextId: () => string;
}

/** The version after `ver`: decimal counters count up; anything else restarts at "1". */
export function nextRosterVersion(ver: string): string {
  if (/^[0-9]{1,15}$/.test(ver)) return String(Number(ver) + 1);
  return ver === "1" ? "2" : "1";
}

/** Parses a JID attribute; `undefined` when absent, a `JidError` when invalid. */
export function jidAttr(el: XmlElement, name: string): Jid | JidError | undefined {
  const v = el.attr(name);
  return v === undefined ? undefined : tryParseJid(v);
}

/** Whether a blocklist entry set matches a JID (XEP-0191 §3 / XEP-0016 matching order). */
export function isBlockedBy(list: readonly string[], j: Jid): boolean {
  if (list.length === 0) return false;
  const full = j.toString();
  const bare = j.bare.toString();
  const domain = j.domain;
  const domainRes = j.resource === "" ? undefined : `${domain}/${j.resource}`;
  for (const e of list) if (e === full || e === bare || e === domain || e === domainRes) return true;
  return false;
}

/** Working state of one call. */
export class Ctx {
  readonly actions: ImAction[] = [];
  private readonly items = new Map<string, Map<string, RosterItem | null>>();
  private readonly pending = new Map<string, Map<string, boolean>>();
  private readonly vers = new Map<string, string>();
  private readonly sessionsOverride = new Map<string, SessionState[]>();

  constructor(
    readonly view: ImStoreView,
    readonly s: Settings,
  ) {}

  // ---- reads through the overlay

  item(user: string, contact: string): RosterItem | undefined {
    const m = this.items.get(user);
    if (m?.has(contact)) return m.get(contact) ?? undefined;
    return this.view.rosterItem(user, contact);
  }

  roster(user: string): RosterItem[] {
    const m = this.items.get(user);
    const base = this.view.roster(user);
    if (m === undefined) return base.slice();
    const out: RosterItem[] = [];
    for (const it of base) if (!m.has(it.jid)) out.push(it);
    for (const v of m.values()) if (v !== null) out.push(v);
    return out;
  }

  hasPending(user: string, contact: string): boolean {
    const m = this.pending.get(user);
    if (m?.has(contact)) return m.get(contact)!;
    return this.view.pendingIn(user, contact) !== undefined;
  }

  state(user: string, contact: string): SubscriptionState {
    return stateOf(this.item(user, contact), this.hasPending(user, contact));
  }

  version(user: string): string {
    return this.vers.get(user) ?? this.view.rosterVersion(user);
  }

  sessions(user: string): readonly SessionState[] {
    return this.sessionsOverride.get(user) ?? this.view.sessions(user);
  }

  /** Replaces the sessions seen for the rest of the call (after a presence change of one of them). */
  overrideSessions(user: string, sessions: SessionState[]): void {
    this.sessionsOverride.set(user, sessions);
  }

  available(user: string): SessionState[] {
    return this.sessions(user).filter((x) => x.available);
  }

  blocked(user: string, j: Jid): boolean {
    return isBlockedBy(this.view.blocklist(user), j);
  }

  /** {@link blocked} for a canonical bare JID string (a roster item), without parsing it. */
  blockedBare(user: string, bare: string): boolean {
    const list = this.view.blocklist(user);
    if (list.length === 0) return false;
    const at = bare.indexOf("@");
    const domain = at < 0 ? bare : bare.slice(at + 1);
    return list.includes(bare) || list.includes(domain);
  }

  // ---- outputs

  deliver(to: Jid, stanza: XmlElement): void {
    this.actions.push({ kind: "deliver", to, stanza });
  }

  route(stanza: XmlElement): void {
    this.actions.push({ kind: "route", stanza });
  }

  /** Error reply to a stanza from a local session: delivered straight to that session. */
  replyError(stanza: XmlElement, sender: Jid, condition: StanzaErrorCondition, fields?: Partial<Omit<StanzaError, "condition">>): void {
    const r = errorReply(stanza, stanzaError(condition, fields));
    if (r === undefined) return;
    r.setAttr("to", sender.toString());
    this.deliver(sender, r);
  }

  /** Error reply to a stanza routed to a local user: routed back to its `from`. */
  bounce(stanza: XmlElement, condition: StanzaErrorCondition, fields?: Partial<Omit<StanzaError, "condition">>): void {
    if (stanza.attr("from") === undefined) return;
    const r = errorReply(stanza, stanzaError(condition, fields));
    if (r !== undefined) this.route(r);
  }

  // ---- roster mutations with pushes

  private setOverlayItem(user: string, contact: string, item: RosterItem | null): void {
    let m = this.items.get(user);
    if (m === undefined) this.items.set(user, (m = new Map()));
    m.set(contact, item);
  }

  private bumpVersion(user: string): string {
    const v = nextRosterVersion(this.version(user));
    this.vers.set(user, v);
    return v;
  }

  /** Stores an item and pushes it to the user's interested resources (RFC 6121 §2.1.6). */
  upsertItem(user: string, item: RosterItem): void {
    const ver = this.bumpVersion(user);
    this.setOverlayItem(user, item.jid, item);
    this.actions.push({ kind: "roster-set", user, item, ver });
    this.push(user, buildRosterItem(item, { approved: this.s.preApproval }), ver);
  }

  /** Removes an item and pushes `subscription='remove'` (§2.5.2). */
  removeItem(user: string, contact: string): void {
    const ver = this.bumpVersion(user);
    this.setOverlayItem(user, contact, null);
    this.actions.push({ kind: "roster-remove", user, contact, ver });
    this.push(user, buildRosterItem({ jid: contact, groups: [], subscription: "none", ask: false, approved: false }, { remove: true }), ver);
  }

  private push(user: string, itemEl: XmlElement, ver: string): void {
    for (const sess of this.sessions(user)) {
      if (!sess.interested) continue;
      const to = tryParseJid(`${user}/${sess.resource}`);
      if (to instanceof JidError) continue;
      const query = xml("query", { xmlns: NS_ROSTER, ver: this.s.rosterVersioning ? ver : undefined }, itemEl.clone());
      this.deliver(to, xml("iq", { type: "set", id: this.s.nextId(), to: to.toString() }, query));
    }
  }

  setPending(user: string, contact: string, stanza: XmlElement): void {
    let m = this.pending.get(user);
    if (m === undefined) this.pending.set(user, (m = new Map()));
    m.set(contact, true);
    this.actions.push({ kind: "pending-in-set", user, contact, stanza });
  }

  clearPending(user: string, contact: string): void {
    if (!this.hasPending(user, contact)) return;
    let m = this.pending.get(user);
    if (m === undefined) this.pending.set(user, (m = new Map()));
    m.set(contact, false);
    this.actions.push({ kind: "pending-in-remove", user, contact });
  }

  /**
   * Moves `user`'s relation with `contact` to `next`: the roster item follows (stored and pushed when it
   * visibly changes), a pending inbound request is forgotten when the new state has none. Setting a pending
   * request is the caller's job (it has the stanza).
   */
  moveTo(user: string, contact: string, next: SubscriptionState): void {
    const item = this.item(user, contact);
    if (!pendingInOf(next)) this.clearPending(user, contact);
    const updated = applyState(item, contact, next);
    const visible = item !== undefined || updated.subscription !== "none" || updated.ask || updated.approved;
    if (!visible) return;
    if (item !== undefined && sameItem(item, updated)) return;
    this.upsertItem(user, updated);
  }
}

function sameItem(a: RosterItem, b: RosterItem): boolean {
  return (
    a.subscription === b.subscription &&
    a.ask === b.ask &&
    a.approved === b.approved &&
    a.name === b.name &&
    a.groups.length === b.groups.length &&
    a.groups.every((g, i) => g === b.groups[i])
  );
}

/** The full JID of one of `user`'s sessions. */
export function sessionJid(user: string, sess: SessionState): Jid | undefined {
  const j = tryParseJid(`${user}/${sess.resource}`);
  return j instanceof JidError ? undefined : j;
}
