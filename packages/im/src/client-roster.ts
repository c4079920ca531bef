/**
 * The client's roster (RFC 6121 §2): the roster get with versioning, pushes checked and applied (§2.1.6),
 * subscription presences turned into typed events, and a plain-JSON cache the application can persist.
 * Sans-IO: methods take stanzas and return stanzas to send; events are drained with {@link Roster.pollEvents}.
 *
 * @module
 */
import { errorReply, stanzaError } from "@xmpp-sansio/core";
import { type Jid, JidError, parseJid, tryParseJid } from "@xmpp-sansio/jid";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { NS_ROSTER } from "./namespaces.js";
import { isSubscription, parseRosterItem, type RosterItem } from "./roster-item.js";

/** What a {@link Roster} reports, drained with {@link Roster.pollEvents}. */
export type RosterEvent =
  /** The whole roster was received (a roster get answered with items). */
  | { readonly type: "roster"; readonly items: readonly RosterItem[]; readonly version?: string }
  /** A roster get was answered "unchanged" (§2.6.3): the cached roster is current. */
  | { readonly type: "roster-unchanged"; readonly version?: string }
  /** A push added or changed an item (`previous` is the item before, if any). */
  | { readonly type: "item"; readonly item: RosterItem; readonly previous?: RosterItem }
  /** A push removed an item. */
  | { readonly type: "item-removed"; readonly jid: string; readonly previous?: RosterItem }
  /** A contact asks to see our presence (§3.1.3); answer with {@link approveSubscription} or {@link denySubscription}. */
  | { readonly type: "subscription-request"; readonly from: Jid; readonly status?: string; readonly nick?: string; readonly stanza: XmlElement }
  /** A contact approved our request: we now see its presence (§3.1.6). */
  | { readonly type: "subscription-approved"; readonly from: Jid }
  /** A contact refused our request or cancelled our subscription (§3.2). */
  | { readonly type: "subscription-cancelled"; readonly from: Jid }
  /** A contact no longer wants our presence (§3.3). */
  | { readonly type: "unsubscribed-by-contact"; readonly from: Jid }
  /** A push was refused (not from our account, or malformed); `reason` says why. */
  | { readonly type: "push-rejected"; readonly reason: string; readonly stanza: XmlElement };

/** The persistable state of a {@link Roster}: plain JSON. */
export interface RosterCache {
  /** Format marker. */
  readonly format: "xmpp-sansio-roster/1";
  /** The roster version the items correspond to, if the server versions rosters. */
  readonly version?: string;
  /** The roster items at `version`, as the client last knew them. */
  readonly items: readonly RosterItem[];
}

/** Options of {@link Roster}. */
export interface RosterOptions {
  /** Our account's JID (full or bare). Pushes are accepted only from its bare JID or without `from`. */
  account: Jid | string;
  /** A cache exported earlier by {@link Roster.exportCache} (ignored if invalid). */
  cache?: unknown;
  /** At most this many queued events before the oldest are dropped (default 10 000). */
  maxEvents?: number;
}

const MAX_EVENTS = 10_000;

/** The client's roster. */
export class Roster {
  private readonly account: Jid;
  private readonly map = new Map<string, RosterItem>();
  private ver: string | undefined;
  private readonly events: RosterEvent[] = [];
  private readonly maxEvents: number;

  constructor(options: RosterOptions) {
    this.account = (typeof options.account === "string" ? parseJid(options.account) : options.account).bare;
    this.maxEvents = options.maxEvents ?? MAX_EVENTS;
    if (options.cache !== undefined) this.importCache(options.cache);
  }

  /** The roster version we hold (`undefined` before any versioned roster was seen). */
  get version(): string | undefined {
    return this.ver;
  }

  /** All items. */
  items(): RosterItem[] {
    return [...this.map.values()];
  }

  /** The item for a JID (bare, or full: the bare part is used), or `undefined`. */
  get(jid: Jid | string): RosterItem | undefined {
    const j = typeof jid === "string" ? tryParseJid(jid) : jid;
    return j instanceof JidError ? undefined : this.map.get(j.bare.toString());
  }

  /** Events since the last call, oldest first. */
  pollEvents(): RosterEvent[] {
    return this.events.splice(0);
  }

  private emit(e: RosterEvent): void {
    this.events.push(e);
    if (this.events.length > this.maxEvents) this.events.shift();
  }

  /**
   * The roster get (§2.1.3). With a cached version it carries `ver` (§2.6.2) so that an unchanged roster
   * costs one empty result; `versioning` says whether the server advertised the `ver` stream feature.
   */
  buildGet(id: string, versioning = true): XmlElement {
    return xml("iq", { type: "get", id }, xml("query", { xmlns: NS_ROSTER, ver: versioning ? (this.ver ?? "") : undefined }));
  }

  /** Applies the result of {@link buildGet}. Returns false when the stanza is not a roster result. */
  handleResult(iq: XmlElement): boolean {
    if (iq.name !== "iq" || iq.attr("type") !== "result") return false;
    const q = iq.getChild("query", NS_ROSTER);
    if (q === undefined) {
      if (iq.elements().length > 0) return false;
      this.emit(this.ver === undefined ? { type: "roster-unchanged" } : { type: "roster-unchanged", version: this.ver });
      return true;
    }
    this.map.clear();
    for (const el of q.getChildren("item", NS_ROSTER)) {
      const item = toItem(el);
      if (item !== undefined && item !== "remove") this.map.set(item.jid, item);
    }
    const v = q.attr("ver");
    this.ver = v;
    const items = this.items();
    this.emit(v === undefined ? { type: "roster", items } : { type: "roster", items, version: v });
    return true;
  }

  /** True for a stanza that is a roster push (an IQ set with a `jabber:iq:roster` query). */
  static isPush(iq: XmlElement): boolean {
    return iq.name === "iq" && iq.attr("type") === "set" && iq.getChild("query", NS_ROSTER) !== undefined;
  }

  /**
   * Handles a roster push (§2.1.6) and returns the reply to send: a result when applied; an error when the
   * push is not from our own account (`service-unavailable`, as for any unknown IQ: it is not applied) or
   * does not carry exactly one valid item (`bad-request`).
   */
  handlePush(iq: XmlElement): XmlElement | undefined {
    const from = iq.attr("from");
    if (from !== undefined) {
      const j = tryParseJid(from);
      if (j instanceof JidError || !j.equals(this.account)) {
        this.emit({ type: "push-rejected", reason: "a roster push from another entity (RFC 6121 §2.1.6)", stanza: iq });
        return errorReply(iq, stanzaError("service-unavailable"));
      }
    }
    const q = iq.getChild("query", NS_ROSTER);
    const els = q?.getChildren("item", NS_ROSTER) ?? [];
    const item = els.length === 1 ? toItem(els[0]!) : undefined;
    if (q === undefined || item === undefined) {
      this.emit({ type: "push-rejected", reason: "a roster push carries exactly one valid item", stanza: iq });
      return errorReply(iq, stanzaError("bad-request"));
    }
    const v = q.attr("ver");
    if (v !== undefined) this.ver = v;
    if (item === "remove") {
      const jid = bareOf(els[0]!)!;
      const previous = this.map.get(jid);
      this.map.delete(jid);
      this.emit(previous === undefined ? { type: "item-removed", jid } : { type: "item-removed", jid, previous });
    } else {
      const previous = this.map.get(item.jid);
      this.map.set(item.jid, item);
      this.emit(previous === undefined ? { type: "item", item } : { type: "item", item, previous });
    }
    return xml("iq", { type: "result", id: iq.attr("id"), to: iq.attr("from") });
  }

  /**
   * Turns subscription presences into events (§3). Returns true when the presence was one (the application
   * need not look at it further).
   */
  handlePresence(p: XmlElement): boolean {
    if (p.name !== "presence") return false;
    const type = p.attr("type");
    if (type !== "subscribe" && type !== "subscribed" && type !== "unsubscribe" && type !== "unsubscribed") return false;
    const raw = p.attr("from");
    const from = raw === undefined ? undefined : tryParseJid(raw);
    if (from === undefined || from instanceof JidError) return true;
    const bare = from.bare;
    if (type === "subscribe") {
      const status = p.getChildText("status");
      const nick = p.getChildText("nick", "http://jabber.org/protocol/nick");
      this.emit({
        type: "subscription-request",
        from: bare,
        stanza: p,
        ...(status === undefined ? {} : { status }),
        ...(nick === undefined ? {} : { nick }),
      });
    } else if (type === "subscribed") this.emit({ type: "subscription-approved", from: bare });
    else if (type === "unsubscribed") this.emit({ type: "subscription-cancelled", from: bare });
    else this.emit({ type: "unsubscribed-by-contact", from: bare });
    return true;
  }

  /** The roster set adding or updating an item (§2.3): only name and groups are the client's to set. */
  buildSet(id: string, jid: Jid | string, fields?: { name?: string; groups?: readonly string[] }): XmlElement {
    const j = typeof jid === "string" ? parseJid(jid) : jid;
    const item = xml("item", { jid: j.bare.toString(), name: fields?.name }, ...(fields?.groups ?? []).map((g) => xml("group", {}, g)));
    return xml("iq", { type: "set", id }, xml("query", { xmlns: NS_ROSTER }, item));
  }

  /** The roster set removing an item (§2.5); the server also cancels the subscriptions. */
  buildRemove(id: string, jid: Jid | string): XmlElement {
    const j = typeof jid === "string" ? parseJid(jid) : jid;
    return xml("iq", { type: "set", id }, xml("query", { xmlns: NS_ROSTER }, xml("item", { jid: j.bare.toString(), subscription: "remove" })));
  }

  /** The roster as plain JSON, to persist and pass back as {@link RosterOptions.cache}. */
  exportCache(): RosterCache {
    const items = this.items().map((i) => ({ ...i, groups: [...i.groups] }));
    return this.ver === undefined ? { format: "xmpp-sansio-roster/1", items } : { format: "xmpp-sansio-roster/1", version: this.ver, items };
  }

  /** Loads a cache (replacing the roster). Returns false, changing nothing, when `data` is not a valid cache. */
  importCache(data: unknown): boolean {
    const c = validCache(data);
    if (c === undefined) return false;
    this.map.clear();
    for (const it of c.items) this.map.set(it.jid, it);
    this.ver = c.version;
    return true;
  }
}

function bareOf(el: XmlElement): string | undefined {
  const raw = el.attr("jid");
  const j = raw === undefined ? undefined : tryParseJid(raw);
  return j === undefined || j instanceof JidError ? undefined : j.bare.toString();
}

function toItem(el: XmlElement): RosterItem | "remove" | undefined {
  const p = parseRosterItem(el);
  if (typeof p === "string") return undefined;
  if (p.subscription === "remove") return "remove";
  const groups = [...new Set(p.groups)];
  const base: RosterItem = {
    jid: p.jid.bare.toString(),
    groups,
    subscription: isSubscription(p.subscription) ? p.subscription : "none",
    ask: p.ask === "subscribe",
    approved: p.approved === "true" || p.approved === "1",
  };
  return p.name === undefined ? base : { ...base, name: p.name };
}

function validCache(data: unknown): { version?: string; items: RosterItem[] } | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as Record<string, unknown>;
  if (d.format !== "xmpp-sansio-roster/1" || !Array.isArray(d.items)) return undefined;
  if (d.version !== undefined && typeof d.version !== "string") return undefined;
  const items: RosterItem[] = [];
  for (const raw of d.items as unknown[]) {
    if (typeof raw !== "object" || raw === null) return undefined;
    const r = raw as Record<string, unknown>;
    if (typeof r.jid !== "string") return undefined;
    const j = tryParseJid(r.jid);
    if (j instanceof JidError || !j.isBare()) return undefined;
    if (!Array.isArray(r.groups) || !r.groups.every((g) => typeof g === "string")) return undefined;
    if (typeof r.subscription !== "string" || !isSubscription(r.subscription)) return undefined;
    if (typeof r.ask !== "boolean" || typeof r.approved !== "boolean") return undefined;
    if (r.name !== undefined && typeof r.name !== "string") return undefined;
    const item: RosterItem = { jid: j.toString(), groups: [...(r.groups as string[])], subscription: r.subscription, ask: r.ask, approved: r.approved };
    items.push(r.name === undefined ? item : { ...item, name: r.name as string });
  }
  return d.version === undefined ? { items } : { version: d.version as string, items };
}
