import { errorReply, type StanzaError, stanzaError, type StanzaErrorCondition } from "@xmpp-sansio/core";
import { type Jid, JidCache, JidError } from "@xmpp-sansio/jid";
import { XmlElement } from "@xmpp-sansio/xml";

/** An online client session as the router sees it. */
export interface Endpoint {
  /** The full JID bound to the session. */
  readonly jid: Jid;
  /** Queues a stanza for this client. */
  deliver(stanza: XmlElement): void;
}

/** Where both routers send stanzas for domains they do not serve: a component's first, then federation. */
export interface OtherDomainRoutes {
  /**
   * A stanza to a domain not served here (an external component's): `true` when it was taken, a stanza
   * error to answer the sender with, or `undefined` for the default `<remote-server-not-found/>`.
   */
  readonly routeExternal?: (stanza: XmlElement, to: Jid) => true | StanzaError | undefined;
  /**
   * Federation (RFC 6120 §10.4): a stanza for a remote domain (a message, presence broadcast, probe,
   * subscription, error reply). Without it such stanzas get `<remote-server-not-found/>`.
   */
  readonly remote?: (stanza: XmlElement) => void;
}

/** Options of {@link Router}. */
export interface RouterOptions extends OtherDomainRoutes {
  /** Whether a domain is served here (local). */
  serves(domain: string): boolean;
  /** Whether a local account exists (`username`: a prepared localpart, from a parsed `Jid`). */
  accountExists(username: string): boolean;
  /** Software name for XEP-0092 and disco. Default `"xmpp-sansio"`. */
  software?: string;
  /** Prepared `to` JIDs kept (parsing runs PRECIS: the bulk of routing's CPU). Default 4 096. */
  jidCacheSize?: number;
}

const NS_PING = "urn:xmpp:ping";
const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
const NS_ROSTER = "jabber:iq:roster";
const NS_VERSION = "jabber:iq:version";

interface PresenceState {
  readonly endpoint: Endpoint;
  /** Has sent initial presence and not gone unavailable: a "presence session" (RFC 6121 §4.2). */
  available: boolean;
  priority: number;
  /** The last broadcast presence, to give newly available resources of the same account. */
  last: XmlElement | undefined;
}

/**
 * Stanza routing between the sessions of one server, following RFC 6120 §10 (with the RFC 6121 §8.5
 * details a server without rosters or offline storage needs):
 *
 * - no `to` (§10.3): a message goes to the sender's bare JID; presence is broadcast to the sender's
 *   other available resources (there are no rosters here) and sets its availability and priority; an IQ
 *   is handled by the server on behalf of the account.
 * - a remote domain (§10.4): through the `remote` hook (federation), else `<remote-server-not-found/>`.
 * - the server's own domain (§10.5.1): IQs are handled here (ping, disco#info, version); other stanzas
 *   are ignored.
 * - `local@domain` (§10.5.3): no such account → `<service-unavailable/>` for message and IQ, presence
 *   ignored (§10.5.3.1; the same answer as for other failures, against directory harvesting §13.11);
 *   account exists → a message goes to the available resource(s) with the highest non-negative
 *   priority, or `<service-unavailable/>` when there is none (no offline storage, §10.5.3.2 option b);
 *   presence goes to every available resource; an IQ is handled on behalf of the account.
 * - `local@domain/resource` (§10.5.4): delivered to that session if it is online, otherwise processed as
 *   if sent to the bare JID — except an IQ, which gets `<service-unavailable/>` (RFC 6121 §8.5.3.2.1).
 *
 * Errors are never answered with errors, results never with anything (RFC 6120 §8.3.1, §8.2.3).
 */
export class Router {
  private readonly sessions = new Map<string, Map<string, PresenceState>>();
  private readonly options: RouterOptions;
  /** `to` string → prepared JID (or the error), oldest first; bounded by `jidCacheSize`. */
  private readonly jids: JidCache;

  constructor(options: RouterOptions) {
    this.options = options;
    this.jids = new JidCache(options.jidCacheSize ?? 4096);
  }

  /** The prepared JID of a `to` attribute, from the bounded cache (first in, first out). */
  private target(to: string): Jid | JidError {
    return this.jids.parse(to);
  }

  /** The key of the account's resources: the bare JID's string (made once per `Jid`, cached ones are reused). */
  private bareKey(jid: Jid): string {
    return jid.bare.toString();
  }

  /** Prepared JIDs cached (for tests). */
  get cachedJids(): number {
    return this.jids.entries;
  }

  /** Registers a session that just went online. */
  online(endpoint: Endpoint): void {
    const bare = this.bareKey(endpoint.jid);
    let resources = this.sessions.get(bare);
    if (!resources) this.sessions.set(bare, (resources = new Map()));
    resources.set(endpoint.jid.resource, { endpoint, available: false, priority: 0, last: undefined });
  }

  /**
   * Forgets a session. If it had sent presence, its other resources are told it is unavailable
   * (RFC 6121 §4.5.2: the server generates the unavailable presence when a session ends).
   */
  offline(endpoint: Endpoint): void {
    const bare = this.bareKey(endpoint.jid);
    const resources = this.sessions.get(bare);
    const state = resources?.get(endpoint.jid.resource);
    if (!resources || !state || state.endpoint !== endpoint) return;
    resources.delete(endpoint.jid.resource);
    if (resources.size === 0) this.sessions.delete(bare);
    if (state.available) {
      const unavailable = new XmlElement("presence", "jabber:client", { from: endpoint.jid.toString(), type: "unavailable" });
      for (const other of resources?.values() ?? []) if (other.available) other.endpoint.deliver(unavailable.clone());
    }
  }

  /** The full JIDs online for a bare JID. */
  resourcesOf(bare: Jid): Jid[] {
    return [...(this.sessions.get(this.bareKey(bare))?.values() ?? [])].map((s) => s.endpoint.jid);
  }

  /**
   * Routes one stanza from a local session. `from` must already be stamped with the sender's full JID
   * (the server session core does that); `to`, if present, has been checked to be a valid JID.
   */
  route(sender: Endpoint, stanza: XmlElement): void {
    const toAttr = stanza.attr("to");
    if (toAttr === undefined) {
      this.routeWithoutTo(sender, stanza);
      return;
    }
    const target = this.target(toAttr);
    if (target instanceof JidError) {
      this.bounce(sender, stanza, "jid-malformed");
      return;
    }
    if (!this.options.serves(target.domain)) {
      // A component's domain first, then federation (RFC 6120 §10.4), else an error to the sender.
      const external = this.options.routeExternal?.(stanza, target);
      if (external === true) return;
      if (external === undefined && this.options.remote !== undefined) {
        this.options.remote(stanza);
        return;
      }
      const reply = errorReply(stanza, external ?? stanzaError("remote-server-not-found"));
      if (reply) sender.deliver(reply);
      return;
    }
    if (target.local === "") {
      // §10.5.1/§10.5.2: addressed to the server itself.
      if (stanza.name === "iq") this.handleIq(sender, stanza, target);
      return;
    }
    if (!this.options.accountExists(target.local)) {
      if (stanza.name !== "presence") this.bounce(sender, stanza, "service-unavailable");
      return;
    }
    if (target.resource !== "") {
      const session = this.sessions.get(this.bareKey(target))?.get(target.resource);
      if (session) {
        session.endpoint.deliver(stanza);
        return;
      }
      if (stanza.name === "iq") {
        this.bounce(sender, stanza, "service-unavailable");
        return;
      }
    }
    this.routeToBare(sender, stanza, target);
  }

  private routeWithoutTo(sender: Endpoint, stanza: XmlElement): void {
    if (stanza.name === "message") {
      this.routeToBare(sender, stanza, sender.jid.bare);
    } else if (stanza.name === "presence") {
      this.updatePresence(sender, stanza);
    } else if (stanza.name === "iq") {
      this.handleIq(sender, stanza, sender.jid.bare);
    }
  }

  private routeToBare(sender: Endpoint, stanza: XmlElement, bare: Jid): void {
    const all = this.sessions.get(this.bareKey(bare));
    if (stanza.name === "message") {
      const type = stanza.attr("type") ?? "normal";
      if (type === "error") return;
      // RFC 6121 §8.5.2.1.1: headline to all non-negative resources, chat/normal to the highest priority.
      const targets: PresenceState[] = [];
      let top = -1;
      if (type !== "groupchat" && all !== undefined) {
        for (const s of all.values()) {
          if (!s.available || s.priority < 0) continue;
          if (type !== "headline" && s.priority > top) {
            top = s.priority;
            targets.length = 0;
          }
          if (type === "headline" || s.priority === top) targets.push(s);
        }
      }
      if (targets.length === 0) {
        this.bounce(sender, stanza, "service-unavailable");
        return;
      }
      deliverAll(targets, stanza);
    } else if (stanza.name === "presence") {
      deliverAll([...(all?.values() ?? [])].filter((s) => s.available), stanza);
    } else if (stanza.name === "iq") {
      this.handleIq(sender, stanza, bare);
    }
  }

  /** Presence without `to`: availability, priority, and a broadcast to the account's other resources. */
  private updatePresence(sender: Endpoint, presence: XmlElement): void {
    const resources = this.sessions.get(this.bareKey(sender.jid));
    const state = resources?.get(sender.jid.resource);
    if (!resources || !state) return;
    const type = presence.attr("type");
    if (type !== undefined && type !== "unavailable") return; // subscriptions need a roster; probes need nothing here
    const wasAvailable = state.available;
    state.available = type === undefined;
    const priority = Number.parseInt(presence.getChildText("priority") ?? "0", 10);
    state.priority = Number.isFinite(priority) && priority >= -128 && priority <= 127 ? priority : 0;
    state.last = state.available ? presence : undefined;
    for (const other of resources.values()) {
      if (other === state || !other.available) continue;
      other.endpoint.deliver(presence.clone());
      // RFC 6121 §4.2.2: a newly available resource learns about the account's other available ones.
      if (!wasAvailable && state.available && other.last) state.endpoint.deliver(other.last.clone());
    }
  }

  /** IQs the server answers itself (on behalf of the account or for its domain). */
  private handleIq(sender: Endpoint, iq: XmlElement, addressee: Jid): void {
    const type = iq.attr("type");
    if (type !== "get" && type !== "set") return; // results and errors to the server: nothing to do
    const payload = iq.firstElement();
    const reply = (child?: XmlElement) => {
      const r = new XmlElement("iq", iq.ns, { type: "result", id: iq.attr("id"), to: sender.jid.toString() });
      if (iq.attr("to") !== undefined) r.setAttr("from", addressee.toString());
      if (child) r.append(child);
      sender.deliver(r);
    };
    if (type === "get" && payload?.is("ping", NS_PING)) {
      reply();
      return;
    }
    if (type === "get" && payload?.is("query", NS_ROSTER) && addressee.equals(sender.jid.bare)) {
      reply(new XmlElement("query", NS_ROSTER)); // no roster storage: always empty
      return;
    }
    if (type === "get" && payload?.is("query", NS_DISCO_INFO) && payload.attr("node") === undefined) {
      const query = new XmlElement("query", NS_DISCO_INFO);
      const isServer = addressee.local === "";
      query.append(new XmlElement("identity", NS_DISCO_INFO, isServer ? { category: "server", type: "im" } : { category: "account", type: "registered" }));
      for (const feature of [NS_DISCO_INFO, NS_PING, ...(isServer ? [NS_VERSION] : [])]) {
        query.append(new XmlElement("feature", NS_DISCO_INFO, { var: feature }));
      }
      reply(query);
      return;
    }
    if (type === "get" && payload?.is("query", NS_VERSION) && addressee.local === "") {
      const query = new XmlElement("query", NS_VERSION);
      query.append(new XmlElement("name", NS_VERSION, null, [this.options.software ?? "xmpp-sansio"]));
      reply(query);
      return;
    }
    // RFC 6120 §10.3.3 / §10.5.3.2: a payload the server does not understand → <service-unavailable/>.
    this.bounce(sender, iq, "service-unavailable");
  }

  /**
   * Stanzas that will not reach the session they were delivered to (its outbound queue overflowed: the
   * client stopped reading). With no offline storage, the path of a message to an offline user: a
   * `<service-unavailable/>` error to each sender online here (RFC 6120 §8.3.3.19); presence is dropped
   * (RFC 6121 §4.3), errors and results get nothing (§8.3.1).
   */
  undeliverable(stanzas: readonly XmlElement[]): void {
    for (const stanza of stanzas) {
      if (stanza.name === "presence") continue;
      const reply = errorReply(stanza, stanzaError("service-unavailable", { text: "the recipient's session ended before the stanza was delivered" }));
      const to = reply?.attr("to");
      if (reply === undefined || to === undefined) continue;
      const sender = this.target(to);
      if (sender instanceof JidError || sender.resource === "") continue;
      this.sessions.get(this.bareKey(sender))?.get(sender.resource)?.endpoint.deliver(reply);
    }
  }

  private bounce(sender: Endpoint, stanza: XmlElement, condition: StanzaErrorCondition): void {
    const reply = errorReply(stanza, stanzaError(condition));
    if (reply) sender.deliver(reply);
  }
}

/** Delivers `stanza` to every session: the original to the first, clones to the rest. */
function deliverAll(sessions: readonly PresenceState[], stanza: XmlElement): void {
  for (let i = 0; i < sessions.length; i++) sessions[i]!.endpoint.deliver(i === 0 ? stanza : stanza.clone());
}
