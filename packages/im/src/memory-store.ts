/**
 * An in-memory store for the IM logic: the reference implementation of {@link ImStoreView} and of every
 * mutation, plus {@link processLocally}, the loop a server runs around {@link ImServer}. Used by the tests
 * and handy for small embedded servers; a real server keeps the same model in a database.
 *
 * @module
 */
import { type Jid, JidError, tryParseJid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import type { RosterItem } from "./roster-item.js";
import type { ImServer } from "./server.js";
import type { DeliverAction, ImAction, ImMutation, ImStoreView, SessionState } from "./server-types.js";

interface UserData {
  roster: Map<string, RosterItem>;
  ver: string;
  pending: Map<string, XmlElement>;
  sessions: Map<string, SessionState>;
  offline: XmlElement[];
  blocklist: string[];
}

/** The IM model in memory: accounts, rosters, pending requests, sessions, offline queues, blocklists. */
export class MemoryImStore implements ImStoreView {
  private readonly users = new Map<string, UserData>();

  constructor(private readonly domains: readonly string[]) {}

  /** Creates an account (a bare JID string). */
  addUser(user: string): void {
    if (!this.users.has(user)) {
      this.users.set(user, { roster: new Map(), ver: "", pending: new Map(), sessions: new Map(), offline: [], blocklist: [] });
    }
  }

  /** Connects a session (bound, not yet available). */
  connect(full: Jid): void {
    const u = this.need(full.bare.toString());
    u.sessions.set(full.resource, { resource: full.resource, available: false, priority: 0, interested: false, directed: [] });
  }

  /** Forgets a session (after {@link ImServer.handleSessionEnd}'s actions were applied). */
  disconnect(full: Jid): void {
    this.users.get(full.bare.toString())?.sessions.delete(full.resource);
  }

  /** The stored offline messages of a user. */
  offline(user: string): readonly XmlElement[] {
    return this.users.get(user)?.offline ?? [];
  }

  /** Removes and returns the stored offline messages of a user. */
  takeOffline(user: string): XmlElement[] {
    const u = this.users.get(user);
    if (u === undefined) return [];
    const out = u.offline;
    u.offline = [];
    return out;
  }

  private need(user: string): UserData {
    const u = this.users.get(user);
    if (u === undefined) throw new RangeError(`no such user ${user}`);
    return u;
  }

  isLocalDomain(domain: string): boolean {
    return this.domains.includes(domain);
  }
  userExists(user: string): boolean {
    return this.users.has(user);
  }
  roster(user: string): readonly RosterItem[] {
    return [...(this.users.get(user)?.roster.values() ?? [])];
  }
  rosterItem(user: string, contact: string): RosterItem | undefined {
    return this.users.get(user)?.roster.get(contact);
  }
  rosterVersion(user: string): string {
    return this.users.get(user)?.ver ?? "";
  }
  pendingIn(user: string, contact: string): XmlElement | undefined {
    return this.users.get(user)?.pending.get(contact);
  }
  pendingInAll(user: string): readonly XmlElement[] {
    return [...(this.users.get(user)?.pending.values() ?? [])];
  }
  sessions(user: string): readonly SessionState[] {
    return [...(this.users.get(user)?.sessions.values() ?? [])];
  }
  offlineCount(user: string): number {
    return this.users.get(user)?.offline.length ?? 0;
  }
  blocklist(user: string): readonly string[] {
    return this.users.get(user)?.blocklist ?? [];
  }

  /** Applies one mutation. */
  apply(m: ImMutation): void {
    const u = this.users.get(m.user);
    if (u === undefined) return;
    switch (m.kind) {
      case "roster-set":
        u.roster.set(m.item.jid, m.item);
        u.ver = m.ver;
        break;
      case "roster-remove":
        u.roster.delete(m.contact);
        u.ver = m.ver;
        break;
      case "pending-in-set":
        u.pending.set(m.contact, m.stanza);
        break;
      case "pending-in-remove":
        u.pending.delete(m.contact);
        break;
      case "offline-store":
        u.offline.push(m.stanza);
        break;
      case "session-presence": {
        const s = u.sessions.get(m.resource);
        if (s === undefined) break;
        const next: SessionState = { ...s, available: m.available, priority: m.priority };
        if (m.presence === undefined) delete (next as { presence?: XmlElement }).presence;
        else (next as { presence?: XmlElement }).presence = m.presence;
        u.sessions.set(m.resource, next);
        break;
      }
      case "session-interested": {
        const s = u.sessions.get(m.resource);
        if (s !== undefined) u.sessions.set(m.resource, { ...s, interested: true });
        break;
      }
      case "directed-add":
      case "directed-remove":
      case "directed-clear": {
        const s = u.sessions.get(m.resource);
        if (s === undefined) break;
        const directed =
          m.kind === "directed-clear" ? [] : m.kind === "directed-add" ? [...s.directed, m.jid!] : s.directed.filter((d) => d !== m.jid);
        u.sessions.set(m.resource, { ...s, directed });
        break;
      }
      case "blocklist-add":
        u.blocklist = [...new Set([...u.blocklist, ...m.jids])];
        break;
      case "blocklist-remove":
        u.blocklist = m.jids.length === 0 ? [] : u.blocklist.filter((j) => !m.jids.includes(j));
        break;
    }
  }
}

/** What {@link processLocally} did: every delivery in order, routes that left for other domains, unhandled stanzas. */
export interface LocalRun {
  /** Every `deliver` action, in order: what each local session received. */
  readonly delivered: DeliverAction[];
  /** Stanzas routed to other domains (they would go to the server-to-server layer). */
  readonly remote: XmlElement[];
  /** Stanzas that are not IM (`unhandled` actions): disco, vCard, … for the server's other handlers. */
  readonly unhandled: XmlElement[];
  /** Every action of every call, in order (for inspection). */
  readonly actions: ImAction[];
}

/**
 * Runs one stanza from a local session through {@link ImServer.handleOutbound}, applies the mutations to
 * `store`, feeds routes to local domains to {@link ImServer.handleInbound}, and so on until nothing is left
 * (at most `maxSteps` calls). `offline-flush` delivers and empties the offline queue (no delay stamps).
 */
export function processLocally(
  im: ImServer,
  store: MemoryImStore,
  input: { stanza: XmlElement; from: Jid } | { sessionEnd: Jid },
  maxSteps = 10_000,
): LocalRun {
  const run: LocalRun = { delivered: [], remote: [], unhandled: [], actions: [] };
  const queue: XmlElement[] = [];
  const handle = (actions: ImAction[]): void => {
    for (const a of actions) {
      run.actions.push(a);
      if (a.kind === "deliver") run.delivered.push(a);
      else if (a.kind === "unhandled") run.unhandled.push(a.stanza);
      else if (a.kind === "route") {
        const to = a.stanza.attr("to");
        const j = to === undefined ? undefined : tryParseJid(to);
        if (j !== undefined && !(j instanceof JidError) && store.isLocalDomain(j.domain)) queue.push(a.stanza);
        else run.remote.push(a.stanza);
      } else if (a.kind === "offline-flush") {
        const user = a.to.bare.toString();
        for (const m of store.takeOffline(user)) run.delivered.push({ kind: "deliver", to: a.to, stanza: m });
      } else store.apply(a);
    }
  };
  if ("sessionEnd" in input) {
    handle(im.handleSessionEnd(input.sessionEnd, store));
    store.disconnect(input.sessionEnd);
  } else handle(im.handleOutbound(input.stanza, input.from, store));
  let steps = 0;
  while (queue.length > 0) {
    if (++steps > maxSteps) throw new RangeError("processLocally: too many steps (a routing loop?)");
    handle(im.handleInbound(queue.shift()!, store));
  }
  return run;
}
