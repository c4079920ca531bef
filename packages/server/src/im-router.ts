/**
 * The IM router: RFC 6121 (rosters, subscriptions, presence, offline messages, blocking) from
 * `@xmpp-sansio/im`'s `ImServer` over the server's {@link Storage}, plus the services the server answers
 * itself (vcard-temp, private XML, message carbons, disco, version, ping). It has the same surface as the
 * plain {@link Router} (`online`, `offline`, `route`, `undeliverable`), so the session table and the
 * hooks drive either.
 *
 * @module
 */
import { errorReply, type StanzaError, stanzaError, type StanzaErrorCondition } from "@xmpp-sansio/core";
import {
  type ImAction,
  ImServer,
  type ImServerOptions,
  type ImStoreView,
  NS_X_EXPIRE,
  offlineDelivery,
  offlineEventNotification,
  type RosterItem,
  type SessionState,
  stampOfflineStored,
} from "@xmpp-sansio/im";
import { type Jid, JidCache, JidError } from "@xmpp-sansio/jid";
import { FramedParser, toXmlString, XmlElement, xml } from "@xmpp-sansio/xml";
import type { Endpoint, OtherDomainRoutes } from "./router.js";
import { answerServiceIq, type ServiceContext } from "./services.js";
import type { Storage } from "./store/types.js";

/** Options of {@link ImRouter}. */
export interface ImRouterOptions extends OtherDomainRoutes {
  /** The domain served. */
  readonly domain: string;
  /**
   * Accounts, rosters, offline messages, vCards, private XML and block lists (the SQLite store of {@link
   * openSqliteStorage}).
   */
  readonly storage: Storage;
  /** Options of the IM logic (offline limit, roster size, …). */
  readonly im?: ImServerOptions;
  /** Software name and version for XEP-0092. */
  readonly software?: string;
  /** Version string for XEP-0092 `jabber:iq:version` (with `software`). Default `"0.0.0"`. */
  readonly version?: string;
  /** The clock (ms since the epoch) for offline stamps. Default `Date.now`. */
  readonly now?: () => number;
  /** Prepared `to` JIDs kept. Default 4 096. */
  readonly jidCacheSize?: number;
}

const NS_CARBONS = "urn:xmpp:carbons:2";
const NS_FORWARD = "urn:xmpp:forward:0";
const NS_HINTS = "urn:xmpp:hints";

interface Live {
  readonly endpoint: Endpoint;
  state: SessionState;
  carbons: boolean;
}

/** Most local routes one stanza may cause (a subscription fans out to a roster's worth of presences). */
const MAX_STEPS = 100_000;

/**
 * Routes every stanza of the server's sessions through the IM logic (see docs/server.md, "IM"). Store
 * mutations of one call are applied in one `storage.transaction`, then its deliveries go to the
 * endpoints (the session table: XEP-0198 holds and slow-reader limits apply as for any stanza).
 */
export class ImRouter {
  private readonly im: ImServer;
  private readonly o: ImRouterOptions;
  private readonly live = new Map<string, Map<string, Live>>();
  /** `to` string → prepared JID (or the error), oldest first; bounded by `jidCacheSize`. */
  private readonly jids: JidCache;
  private readonly parser = new FramedParser();
  private readonly now: () => number;
  /** Set when the last `route` stored a message offline (read by the session table's offline hook). */
  private storedOffline = false;
  /** The view of the store the IM logic reads. */
  readonly view: ImStoreView;

  constructor(options: ImRouterOptions) {
    this.o = options;
    this.im = new ImServer(options.im);
    this.jids = new JidCache(options.jidCacheSize ?? 4096);
    this.now = options.now ?? Date.now;
    this.view = this.makeView();
  }

  /** Prepared JIDs cached (for tests). */
  get cachedJids(): number {
    return this.jids.entries;
  }

  private target(to: string): Jid | JidError {
    return this.jids.parse(to);
  }

  /** The localpart of a local bare JID string, or `undefined`. */
  private localOf(user: string): string | undefined {
    const at = user.indexOf("@");
    if (at <= 0 || user.slice(at + 1) !== this.o.domain) return undefined;
    return user.slice(0, at);
  }

  private parse(s: string): XmlElement | undefined {
    const r = this.parser.parse(new TextEncoder().encode(s));
    return r instanceof XmlElement ? r : undefined;
  }

  private makeView(): ImStoreView {
    const st = this.o.storage;
    const local = (user: string) => this.localOf(user);
    return {
      isLocalDomain: (d) => d === this.o.domain,
      userExists: (u) => {
        const l = local(u);
        return l !== undefined && st.accounts.has(l);
      },
      roster: (u) => {
        const l = local(u);
        return l === undefined ? [] : st.rosters.get(l).items.map(toImItem);
      },
      rosterItem: (u, c) => {
        const l = local(u);
        const item = l === undefined ? undefined : st.rosters.getItem(l, c);
        return item === undefined ? undefined : toImItem(item);
      },
      rosterVersion: (u) => {
        const l = local(u);
        const v = l === undefined ? 0 : st.rosters.get(l).version;
        return v === 0 ? "" : String(v);
      },
      pendingIn: (u, c) => {
        const l = local(u);
        const p = l === undefined ? undefined : st.rosters.listPending(l).find((x) => x.jid === c);
        return p === undefined ? undefined : this.parse(p.stanza);
      },
      pendingInAll: (u) => {
        const l = local(u);
        if (l === undefined) return [];
        const out: XmlElement[] = [];
        for (const p of st.rosters.listPending(l)) {
          const e = this.parse(p.stanza);
          if (e !== undefined) out.push(e);
        }
        return out;
      },
      sessions: (u) => [...(this.live.get(u)?.values() ?? [])].map((l) => l.state),
      offlineCount: (u) => {
        const l = local(u);
        return l === undefined ? 0 : st.offline.count(l);
      },
      blocklist: (u) => {
        const l = local(u);
        return l === undefined ? [] : st.blocklists.list(l);
      },
    };
  }

  /** Registers a session that just went online (bound, not yet available). */
  online(endpoint: Endpoint): void {
    const bare = endpoint.jid.bare.toString();
    let m = this.live.get(bare);
    if (m === undefined) this.live.set(bare, (m = new Map()));
    m.set(endpoint.jid.resource, {
      endpoint,
      carbons: false,
      state: { resource: endpoint.jid.resource, available: false, priority: 0, interested: false, directed: [] },
    });
  }

  /** A session is gone for good: unavailable presence on its behalf (RFC 6121 §4.5.2), then it is forgotten. */
  offline(endpoint: Endpoint): void {
    const bare = endpoint.jid.bare.toString();
    const l = this.live.get(bare)?.get(endpoint.jid.resource);
    if (l === undefined || l.endpoint !== endpoint) return;
    this.run(this.im.handleSessionEnd(endpoint.jid, this.view));
    const m = this.live.get(bare);
    m?.delete(endpoint.jid.resource);
    if (m?.size === 0) this.live.delete(bare);
  }

  /** The full JIDs online for a bare JID. */
  resourcesOf(bare: Jid): Jid[] {
    return [...(this.live.get(bare.bare.toString())?.values() ?? [])].map((l) => l.endpoint.jid);
  }

  /** Turns message carbons on for a connected resource (XEP-0280 enabled inline in Bind2); false when it is not online. */
  enableCarbons(full: Jid): boolean {
    const l = this.live.get(full.bare.toString())?.get(full.resource);
    if (l === undefined) return false;
    l.carbons = true;
    return true;
  }

  /** Whether a connected resource enabled message carbons (XEP-0280). */
  carbonsEnabled(full: Jid): boolean {
    return this.live.get(full.bare.toString())?.get(full.resource)?.carbons === true;
  }

  /**
   * Routes one stanza. From a live session it goes through `handleOutbound`; from anyone else (the
   * session table re-routing a stanza whose resource went away, or the server's own error replies) it is
   * inbound to its local addressee.
   */
  route(sender: Endpoint, stanza: XmlElement): void {
    this.storedOffline = false;
    const own = this.live.get(sender.jid.bare.toString())?.get(sender.jid.resource);
    if (own !== undefined && own.endpoint === sender) {
      const carbon = stanza.name === "message" && isCarbonCandidate(stanza);
      this.run(this.im.handleOutbound(stanza, sender.jid, this.view));
      if (carbon) this.sentCarbons(sender.jid, stanza);
      return;
    }
    const to = this.target(stanza.attr("to") ?? "");
    if (!(to instanceof JidError) && to.domain === this.o.domain && to.local === "" && stanza.name === "iq") {
      this.serviceIq(stanza); // a remote sender's IQ to the server (federation)
      return;
    }
    if (to instanceof JidError || to.domain !== this.o.domain || to.local === "") return;
    this.run(this.im.handleInbound(stanza, this.view));
  }

  /** True once after a `route` that stored its message offline (the session table's `offlineStore` hook). */
  takeStoredOffline(): boolean {
    const s = this.storedOffline;
    this.storedOffline = false;
    return s;
  }

  /**
   * Stanzas that will not reach the session they were delivered to (its outbound queue overflowed):
   * `chat`/`normal` messages go to the recipient's offline store, other requests get
   * `<service-unavailable/>`, presence is dropped.
   */
  undeliverable(stanzas: readonly XmlElement[]): void {
    for (const stanza of stanzas) {
      if (stanza.name === "presence") continue;
      const type = stanza.attr("type") ?? "normal";
      if (stanza.name === "message" && (type === "chat" || type === "normal") && this.storeOffline(stanza)) continue;
      if (stanza.name === "message" || type === "get" || type === "set") this.bounceTo(stanza, "service-unavailable");
    }
  }

  /** Stores a message for its (local) addressee; false when it cannot be stored. */
  storeOffline(stanza: XmlElement): boolean {
    const to = this.target(stanza.attr("to") ?? "");
    if (to instanceof JidError || to.domain !== this.o.domain || to.local === "") return false;
    const now = this.now();
    const stamped = stampOfflineStored(stanza, now);
    const seconds = stanza.getChild("x", NS_X_EXPIRE)?.attr("seconds");
    const expiresAt = seconds !== undefined && /^[0-9]{1,9}$/.test(seconds) ? now + Number(seconds) * 1000 : undefined;
    return this.o.storage.offline.store(to.local, toXmlString(stamped), now, expiresAt).ok;
  }

  private bounceTo(stanza: XmlElement, condition: StanzaErrorCondition, text?: string): void {
    const reply = errorReply(stanza, stanzaError(condition, text === undefined ? {} : { text }), { includeOriginal: stanza.name === "message" });
    if (reply === undefined) return;
    this.deliverLocal(reply);
  }

  /**
   * Delivers a server-generated stanza: a reply to a connected full JID goes straight to its session (the
   * server's own replies to the account carry no `from`), anything else is routed inbound to the account.
   */
  private deliverLocal(stanza: XmlElement): void {
    const to = this.target(stanza.attr("to") ?? "");
    if (!(to instanceof JidError) && to.domain !== this.o.domain) {
      this.toOtherDomain(stanza, to); // e.g. an error for a component or a remote sender
      return;
    }
    if (to instanceof JidError || to.domain !== this.o.domain || to.local === "") return;
    const live = this.live.get(to.bare.toString())?.get(to.resource);
    if (live !== undefined) {
      live.endpoint.deliver(stanza);
      return;
    }
    if (stanza.attr("from") === undefined) return;
    this.run(this.im.handleInbound(stanza, this.view));
  }

  /**
   * Applies the actions of one call and of every local route it causes: each call's mutations in one
   * transaction, then its deliveries, routes, unhandled stanzas and offline flushes, in order.
   */
  private run(first: ImAction[]): void {
    const queue: ImAction[][] = [first];
    let steps = 0;
    while (queue.length > 0) {
      const actions = queue.shift()!;
      const vers = this.applyMutations(actions);
      const delivered = new Map<string, Set<string>>();
      for (const a of actions) {
        switch (a.kind) {
          case "deliver": {
            const stanza = vers.size > 0 ? rewriteVer(a.stanza, vers) : a.stanza;
            this.deliverTo(a.to, stanza);
            if (stanza.name === "message" && isCarbonCandidate(stanza)) {
              const bare = a.to.bare.toString();
              let set = delivered.get(bare);
              if (set === undefined) delivered.set(bare, (set = new Set()));
              set.add(a.to.resource);
              if (set.size === 1) this.receivedCarbonsLater(a.to, stanza, set);
            }
            break;
          }
          case "route": {
            const to = this.target(a.stanza.attr("to") ?? "");
            if (to instanceof JidError) break;
            if (to.domain !== this.o.domain) {
              const taken = this.toOtherDomain(a.stanza, to);
              if (taken === true) break;
              if (++steps > MAX_STEPS) break;
              const reply = errorReply(a.stanza, taken ?? stanzaError("remote-server-not-found"));
              if (reply !== undefined) queue.push(this.im.handleInbound(reply, this.view));
              break;
            }
            if (to.local === "") {
              if (a.stanza.name === "iq") this.serviceIq(a.stanza);
              break;
            }
            if (++steps > MAX_STEPS) break;
            queue.push(this.im.handleInbound(a.stanza, this.view));
            break;
          }
          case "unhandled":
            this.unhandled(a.stanza);
            break;
          case "offline-flush":
            this.flush(a.to);
            break;
          default:
        }
      }
      for (const f of this.pendingCarbons.splice(0)) f();
    }
  }

  private pendingCarbons: Array<() => void> = [];

  /** Applies the store mutations of one call in one transaction; the roster versions IM chose → the stored ones. */
  private applyMutations(actions: readonly ImAction[]): Map<string, string> {
    const vers = new Map<string, string>();
    if (!actions.some((a) => a.kind !== "deliver" && a.kind !== "route" && a.kind !== "unhandled" && a.kind !== "offline-flush")) return vers;
    const st = this.o.storage;
    const bounces: XmlElement[] = [];
    st.transaction(() => {
      for (const a of actions) {
        const l = "user" in a ? this.localOf(a.user) : undefined;
        switch (a.kind) {
          case "roster-set": {
            if (l === undefined) break;
            const v = st.rosters.setItem(l, { jid: a.item.jid, subscription: a.item.subscription, ask: a.item.ask, approved: a.item.approved, groups: a.item.groups, ...(a.item.name === undefined ? {} : { name: a.item.name }) });
            if (v !== undefined) vers.set(`${a.user} ${a.ver}`, String(v));
            break;
          }
          case "roster-remove": {
            if (l === undefined) break;
            const v = st.rosters.removeItem(l, a.contact);
            if (v !== undefined) vers.set(`${a.user} ${a.ver}`, String(v));
            break;
          }
          case "pending-in-set":
            if (l !== undefined) st.rosters.addPending(l, { jid: a.contact, stanza: toXmlString(a.stanza), receivedAt: this.now() });
            break;
          case "pending-in-remove":
            if (l !== undefined) st.rosters.removePending(l, a.contact);
            break;
          case "offline-store":
            if (this.storeOffline(a.stanza)) {
              this.storedOffline = true;
              const note = offlineEventNotification(a.stanza);
              if (note !== undefined) bounces.push(note);
            } else bounces.push(errorReply(a.stanza, stanzaError("service-unavailable", { text: "the recipient's offline storage is full" }), { includeOriginal: true })!);
            break;
          case "blocklist-add":
            if (l !== undefined) st.blocklists.add(l, a.jids);
            break;
          case "blocklist-remove":
            if (l !== undefined) st.blocklists.remove(l, a.jids.length === 0 ? undefined : a.jids);
            break;
          case "session-presence":
          case "session-interested":
          case "directed-add":
          case "directed-remove":
          case "directed-clear":
            this.applySession(a);
            break;
          default:
        }
      }
    });
    for (const b of bounces) if (b !== undefined) this.deliverLocal(b);
    return vers;
  }

  private applySession(a: ImAction): void {
    if (!("user" in a) || !("resource" in a)) return;
    const l = this.live.get(a.user)?.get(a.resource);
    if (l === undefined) return;
    const s = l.state;
    switch (a.kind) {
      case "session-presence":
        l.state = { resource: s.resource, available: a.available, priority: a.priority, interested: s.interested, directed: s.directed, ...(a.presence === undefined ? {} : { presence: a.presence }) };
        break;
      case "session-interested":
        l.state = { ...s, interested: true };
        break;
      case "directed-add":
        l.state = { ...s, directed: [...s.directed, a.jid!] };
        break;
      case "directed-remove":
        l.state = { ...s, directed: s.directed.filter((d) => d !== a.jid) };
        break;
      case "directed-clear":
        l.state = { ...s, directed: [] };
        break;
      default:
    }
  }

  private deliverTo(to: Jid, stanza: XmlElement): void {
    this.live.get(to.bare.toString())?.get(to.resource)?.endpoint.deliver(stanza);
  }

  /** XEP-0160: the queue to the newly available resource, with XEP-0203 delay stamps; expired ones dropped. */
  private flush(to: Jid): void {
    const l = this.live.get(to.bare.toString())?.get(to.resource);
    if (l === undefined) return;
    const now = this.now();
    // Deleted in the same turn as they are handed to the session (its SM queue holds them from here on).
    for (const m of this.o.storage.offline.take(to.local, now)) {
      const e = this.parse(m.stanza);
      const out = e === undefined ? undefined : offlineDelivery(e, now, m.storedAt, this.o.domain);
      if (out !== undefined) l.endpoint.deliver(out);
    }
  }

  /** XEP-0280 §6: a copy of a chat message to the sender's other carbons-enabled resources. */
  private sentCarbons(sender: Jid, stanza: XmlElement): void {
    for (const other of this.live.get(sender.bare.toString())?.values() ?? []) {
      if (!other.carbons || other.endpoint.jid.resource === sender.resource) continue;
      const copy = stanza.clone();
      if (copy.attr("from") === undefined) copy.setAttr("from", sender.toString());
      other.endpoint.deliver(
        new XmlElement("message", "jabber:client", { from: sender.bare.toString(), to: other.endpoint.jid.toString(), type: stanza.attr("type") }, [xml("sent", { xmlns: NS_CARBONS }, xml("forwarded", { xmlns: NS_FORWARD }, copy))]),
      );
    }
  }

  /** XEP-0280 §5: after this call's deliveries, a copy to the recipient's carbons-enabled resources that did not get it. */
  private receivedCarbonsLater(to: Jid, stanza: XmlElement, got: ReadonlySet<string>): void {
    this.pendingCarbons.push(() => {
      for (const other of this.live.get(to.bare.toString())?.values() ?? []) {
        if (!other.carbons || got.has(other.endpoint.jid.resource)) continue;
        other.endpoint.deliver(
          new XmlElement("message", "jabber:client", { from: to.bare.toString(), to: other.endpoint.jid.toString(), type: stanza.attr("type") }, [xml("received", { xmlns: NS_CARBONS }, xml("forwarded", { xmlns: NS_FORWARD }, stanza.clone()))]),
        );
      }
    });
  }

  /** Stanzas the IM logic leaves to the server: IQs for the account or the server; the rest is dropped. */
  private unhandled(stanza: XmlElement): void {
    if (stanza.name === "iq") this.serviceIq(stanza);
  }

  /**
   * A stanza for a domain not served here: to the component that serves it first, else out through
   * federation (RFC 6120 §10.4). `true` when taken; otherwise the component's stanza error, or `undefined`
   * when there is nowhere to send it.
   */
  private toOtherDomain(stanza: XmlElement, to: Jid): true | StanzaError | undefined {
    const external = this.o.routeExternal?.(stanza, to);
    if (external !== undefined) return external;
    if (this.o.remote === undefined) return undefined;
    this.o.remote(stanza);
    return true;
  }

  private serviceIq(iq: XmlElement): void {
    const type = iq.attr("type");
    if (type !== "get" && type !== "set") return; // results (roster pushes) and errors: nothing to do
    const from = this.target(iq.attr("from") ?? "");
    if (!(from instanceof JidError) && from.domain !== this.o.domain && this.o.remote !== undefined) {
      // A remote sender (federation): the services are for local accounts; a ping to the server is answered,
      // anything else gets an error (RFC 6120 §8.2.3: every get/set is answered).
      const pingServer = type === "get" && iq.firstElement()?.is("ping", "urn:xmpp:ping") === true && iq.attr("to") === this.o.domain;
      const reply = pingServer
        ? new XmlElement("iq", iq.ns, { type: "result", id: iq.attr("id"), from: this.o.domain, to: iq.attr("from") })
        : errorReply(iq, stanzaError("service-unavailable"));
      if (reply !== undefined) this.toOtherDomain(reply, from);
      return;
    }
    if (from instanceof JidError || from.domain !== this.o.domain || from.local === "") return;
    const sender = this.live.get(from.bare.toString())?.get(from.resource);
    const ctx: ServiceContext = {
      domain: this.o.domain,
      storage: this.o.storage,
      software: this.o.software ?? "xmpp-sansio",
      version: this.o.version ?? "0.0.0",
      target: (s) => this.target(s),
      parse: (s) => this.parse(s),
      setCarbons: (on) => {
        if (sender !== undefined) sender.carbons = on;
      },
    };
    const reply = answerServiceIq(ctx, iq, from);
    if (reply !== undefined) this.deliverLocal(reply);
  }
}

function toImItem(i: { jid: string; name?: string; subscription: RosterItem["subscription"]; ask: boolean; approved: boolean; groups: readonly string[] }): RosterItem {
  return { jid: i.jid, subscription: i.subscription, ask: i.ask, approved: i.approved, groups: i.groups, ...(i.name === undefined ? {} : { name: i.name }) };
}

/** A `chat` message with a body, without `<private/>` or `<no-copy/>` (XEP-0280 §6, §7). */
function isCarbonCandidate(m: XmlElement): boolean {
  return m.attr("type") === "chat" && m.getChild("body") !== undefined && m.getChild("private", NS_CARBONS) === undefined && m.getChild("no-copy", NS_HINTS) === undefined;
}

/** A roster push carries the version the store gave (the IM logic's counter is per account, ours is global). */
function rewriteVer(stanza: XmlElement, vers: ReadonlyMap<string, string>): XmlElement {
  if (stanza.name !== "iq") return stanza;
  const q = stanza.getChild("query", "jabber:iq:roster");
  const ver = q?.attr("ver");
  const to = stanza.attr("to") ?? "";
  const slash = to.indexOf("/");
  const stored = ver === undefined ? undefined : vers.get(`${slash < 0 ? to : to.slice(0, slash)} ${ver}`);
  if (q === undefined || stored === undefined) return stanza;
  const c = stanza.clone();
  c.getChild("query", "jabber:iq:roster")!.setAttr("ver", stored);
  return c;
}
