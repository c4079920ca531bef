/**
 * What the IM server logic reads (a view of the store) and what it returns (actions). The logic never
 * writes: the caller applies the actions of one call, in order, in one transaction.
 *
 * @module
 */
import type { Jid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import type { RosterItem } from "./roster-item.js";

/** One connected resource of a local user (a bound session). */
export interface SessionState {
  /** The resourcepart. */
  readonly resource: string;
  /** True after initial presence and until unavailable presence (RFC 6121 §4.1: an "available resource"). */
  readonly available: boolean;
  /** Priority of the last broadcast presence (0 when none, §4.7.2.3). */
  readonly priority: number;
  /** The last broadcast available presence as sent by the client (no `to`), if any. */
  readonly presence?: XmlElement;
  /** The session has requested the roster: it is an "interested resource" and gets roster pushes (§2.1.6). */
  readonly interested: boolean;
  /** JIDs (canonical strings, full or bare) this resource sent directed available presence to (§4.6). */
  readonly directed: readonly string[];
}

/** Read-only view of the store the logic decides from. All JIDs are canonical strings. */
export interface ImStoreView {
  /** True when the domain is served here (its users are local). */
  isLocalDomain(domain: string): boolean;
  /** True when the local account exists (`user` is a bare JID). */
  userExists(user: string): boolean;
  /** The whole roster of a user. */
  roster(user: string): readonly RosterItem[];
  /** One roster item, or `undefined`. */
  rosterItem(user: string, contact: string): RosterItem | undefined;
  /** The current roster version (`""` when the roster never changed). */
  rosterVersion(user: string): string;
  /** The stored inbound subscription request of `contact` to `user` ("Pending In"), or `undefined`. */
  pendingIn(user: string, contact: string): XmlElement | undefined;
  /** All stored inbound subscription requests of a user (redelivered on initial presence, §3.1.3). */
  pendingInAll(user: string): readonly XmlElement[];
  /** Connected resources of a user. */
  sessions(user: string): readonly SessionState[];
  /** Number of messages in the user's offline store. */
  offlineCount(user: string): number;
  /** The user's XEP-0191 blocklist: bare JIDs, full JIDs or domains, canonical. */
  blocklist(user: string): readonly string[];
}

/** Options of {@link ImServer}. */
export interface ImServerOptions {
  /**
   * Maximum number of messages kept offline per user (XEP-0160); `0` disables offline storage. Default 100.
   * A message to a user with a full store is refused with `<service-unavailable/>`.
   */
  offlineLimit?: number;
  /** Support subscription pre-approval (RFC 6121 §3.4). Default true. */
  preApproval?: boolean;
  /** Support roster versioning (RFC 6121 §2.6). Default true. */
  rosterVersioning?: boolean;
  /** Maximum roster size; a set beyond it gets `<not-allowed/>`. Default 1000. */
  maxRosterItems?: number;
  /** Maximum length of a roster item `name` and of a group name (in UTF-16 units); longer → `<not-acceptable/>`. Default 1023. */
  maxNameLength?: number;
  /** Maximum number of groups of one item. Default 100. */
  maxGroups?: number;
  /** Directed presence targets tracked per session (§4.6); more → `<resource-constraint/>`. Default 1000. */
  maxDirected?: number;
  /**
   * Inbound subscription requests kept waiting per user (§3.1.3); a new one beyond it is refused with
   * `<resource-constraint/>`. Default 1000.
   */
  maxPendingIn?: number;
  /**
   * Delivery of `normal`/`chat` messages to a bare JID with several non-negative resources (§8.5.2.1.1):
   * `highest` (the resources sharing the highest priority, the default) or `all` (every non-negative one).
   */
  bareMessageDelivery?: "highest" | "all";
  /** Ids of server-generated IQs (roster pushes). Default: `push1`, `push2`, … */
  nextId?: () => string;
}

/** A stanza to write to one local session (a connected resource), as is. */
export interface DeliverAction {
  readonly kind: "deliver";
  /** The session's full JID. */
  readonly to: Jid;
  /** The stanza to write, addressed as it should arrive. */
  readonly stanza: XmlElement;
}

/**
 * A stanza to route on by its `to`: for a local domain the caller feeds it to
 * {@link ImServer.handleInbound} (after applying the mutations that came before it); for a remote domain
 * it goes to the server-to-server layer.
 */
export interface RouteAction {
  readonly kind: "route";
  /** The stanza to route, its `to` deciding where. */
  readonly stanza: XmlElement;
}

/** Not an IM stanza: the server's other handlers (disco, vCard, private storage, …) take it, as received. */
export interface UnhandledAction {
  readonly kind: "unhandled";
  /** The stanza as received (its `from` already stamped). */
  readonly stanza: XmlElement;
}

/** Store or replace a roster item; the roster version becomes `ver`. */
export interface RosterSetAction {
  readonly kind: "roster-set";
  /** The account (localpart) whose roster changes. */
  readonly user: string;
  /** The item as it is to be stored (replaces any item with the same JID). */
  readonly item: RosterItem;
  /** The roster's new version string (RFC 6121 §2.6). */
  readonly ver: string;
}

/** Remove a roster item; the roster version becomes `ver`. */
export interface RosterRemoveAction {
  readonly kind: "roster-remove";
  /** The account (localpart) whose roster changes. */
  readonly user: string;
  /** The bare JID of the contact to remove. */
  readonly contact: string;
  /** The roster's new version string (RFC 6121 §2.6). */
  readonly ver: string;
}

/** Store (or replace) the pending inbound subscription request of `contact` to `user`. */
export interface PendingInSetAction {
  readonly kind: "pending-in-set";
  /** The account (localpart) the request is addressed to. */
  readonly user: string;
  /** The requesting contact's bare JID. */
  readonly contact: string;
  /** The request as to be redelivered: `from` the contact's bare JID, `to` the user's bare JID. */
  readonly stanza: XmlElement;
}

/** Forget the pending inbound subscription request of `contact` to `user`. */
export interface PendingInRemoveAction {
  readonly kind: "pending-in-remove";
  /** The account (localpart) the request was addressed to. */
  readonly user: string;
  /** The requesting contact's bare JID. */
  readonly contact: string;
}

/** Store a message in the user's offline store (XEP-0160). The caller stamps the time it stores it at. */
export interface OfflineStoreAction {
  readonly kind: "offline-store";
  /** The account (localpart) the message is for. */
  readonly user: string;
  /** The message as to be delivered later ({@link offlineDelivery} adds the XEP-0203 delay stamp when it is flushed). */
  readonly stanza: XmlElement;
}

/**
 * The resource became available with non-negative priority: deliver the user's offline messages to it
 * (oldest first, with XEP-0203 delay stamps, dropping expired ones: see {@link offlineDelivery}) and empty
 * the store.
 */
export interface OfflineFlushAction {
  readonly kind: "offline-flush";
  /** The full JID of the session that gets the stored messages. */
  readonly to: Jid;
}

/** The session's broadcast presence changed: record availability, priority and the presence. */
export interface SessionPresenceAction {
  readonly kind: "session-presence";
  /** The account (localpart) of the session. */
  readonly user: string;
  /** The session's resource. */
  readonly resource: string;
  /** Whether the session is now available (false after unavailable presence). */
  readonly available: boolean;
  /** The presence priority (RFC 6121 §4.7.2.3, −128…127); a negative one gets no bare-JID messages. */
  readonly priority: number;
  /** The presence to remember (absent when unavailable). */
  readonly presence?: XmlElement;
}

/** The session requested the roster: it now gets roster pushes. */
export interface SessionInterestedAction {
  readonly kind: "session-interested";
  /** The account (localpart) of the session. */
  readonly user: string;
  /** The session's resource. */
  readonly resource: string;
}

/** Remember (`add`) or forget (`remove`) a directed presence target of a session; `clear` forgets them all. */
export interface DirectedAction {
  /**
   * `directed-add`: remember `jid`; `directed-remove`: forget it; `directed-clear`: forget every target (the
   * session went unavailable).
   */
  readonly kind: "directed-add" | "directed-remove" | "directed-clear";
  /** The account (localpart) of the session. */
  readonly user: string;
  /** The session's resource. */
  readonly resource: string;
  /** The target (absent for `directed-clear`). */
  readonly jid?: string;
}

/** Add or remove blocklist entries (XEP-0191); an empty `jids` with `blocklist-remove` empties the list. */
export interface BlocklistAction {
  /** `blocklist-add` or `blocklist-remove` (XEP-0191 `<block/>` / `<unblock/>`). */
  readonly kind: "blocklist-add" | "blocklist-remove";
  /** The account (localpart) whose block list changes. */
  readonly user: string;
  /** The JIDs to add or remove (bare, full or domain JIDs, as given). */
  readonly jids: readonly string[];
}

/** The output of the IM logic: deliveries, routes and store mutations, to apply in order. */
export type ImAction =
  | DeliverAction
  | RouteAction
  | UnhandledAction
  | RosterSetAction
  | RosterRemoveAction
  | PendingInSetAction
  | PendingInRemoveAction
  | OfflineStoreAction
  | OfflineFlushAction
  | SessionPresenceAction
  | SessionInterestedAction
  | DirectedAction
  | BlocklistAction;

/** Store mutations among the actions (everything but `deliver`, `route`, `unhandled` and `offline-flush`). */
export type ImMutation = Exclude<ImAction, DeliverAction | RouteAction | UnhandledAction | OfflineFlushAction>;

/** True for actions that change the store. */
export function isMutation(a: ImAction): a is ImMutation {
  return a.kind !== "deliver" && a.kind !== "route" && a.kind !== "unhandled" && a.kind !== "offline-flush";
}
