/**
 * The presence subscription state machine of RFC 6121 Appendix A, as data: the nine states (A.1), the
 * handling of outbound subscription stanzas by the user's server (A.2) and of inbound ones by the
 * contact's server (A.3). Every table is copied cell by cell; the tests compare them with the RFC text.
 *
 * @module
 */
import { type RosterItem, type Subscription, rosterItem } from "./roster-item.js";

/** The nine subscription states of RFC 6121 Appendix A.1, named as in the RFC. */
export type SubscriptionState =
  | "None"
  | "None + Pending Out"
  | "None + Pending In"
  | "None + Pending Out/In"
  | "To"
  | "To + Pending In"
  | "From"
  | "From + Pending Out"
  | "Both";

/** All nine states, in the RFC's order. */
export const SUBSCRIPTION_STATES: readonly SubscriptionState[] = Object.freeze([
  "None",
  "None + Pending Out",
  "None + Pending In",
  "None + Pending Out/In",
  "To",
  "To + Pending In",
  "From",
  "From + Pending Out",
  "Both",
] as const);

/** The four presence types that manage subscriptions (RFC 6121 §3). */
export type SubscriptionPresenceType = "subscribe" | "subscribed" | "unsubscribe" | "unsubscribed";

/** The four subscription presence types, in the order of Appendix A. */
export const SUBSCRIPTION_TYPES: readonly SubscriptionPresenceType[] = Object.freeze([
  "subscribe",
  "unsubscribe",
  "subscribed",
  "unsubscribed",
] as const);

/** True for `subscribe`, `subscribed`, `unsubscribe` and `unsubscribed`. */
export function isSubscriptionType(t: string | undefined): t is SubscriptionPresenceType {
  return t === "subscribe" || t === "subscribed" || t === "unsubscribe" || t === "unsubscribed";
}

/** One cell of a table: whether the stanza goes on (routed or delivered) and the new state (`undefined`: no change). */
export interface Transition {
  /** A.2: ROUTE? — A.3: DELIVER? */
  readonly pass: boolean;
  /** A.3.1 footnote `*`: the server SHOULD auto-reply with `subscribed` (the user is already subscribed). */
  readonly autoReply?: "subscribed";
  /** NEW STATE, or `undefined` for "no state change". */
  readonly next?: SubscriptionState;
}

/** A subscription table of RFC 6121 Appendix A: for each state, what a presence of each type does. */
export type SubscriptionTable = Readonly<Record<SubscriptionState, Transition>>;

const t = (pass: boolean, next?: SubscriptionState, autoReply?: "subscribed"): Transition =>
  Object.freeze({ pass, ...(next === undefined ? {} : { next }), ...(autoReply === undefined ? {} : { autoReply }) });

/** RFC 6121 Appendix A.2: the user's server processing outbound subscription stanzas (ROUTE?, NEW STATE). */
export const OUTBOUND: Readonly<Record<SubscriptionPresenceType, SubscriptionTable>> = Object.freeze({
  // A.2.1
  subscribe: Object.freeze({
    None: t(true, "None + Pending Out"),
    "None + Pending Out": t(true),
    "None + Pending In": t(true, "None + Pending Out/In"),
    "None + Pending Out/In": t(true),
    To: t(true),
    "To + Pending In": t(true),
    From: t(true, "From + Pending Out"),
    "From + Pending Out": t(true),
    Both: t(true),
  }),
  // A.2.2
  unsubscribe: Object.freeze({
    None: t(true),
    "None + Pending Out": t(true, "None"),
    "None + Pending In": t(true),
    "None + Pending Out/In": t(true, "None + Pending In"),
    To: t(true, "None"),
    "To + Pending In": t(true, "None + Pending In"),
    From: t(true),
    "From + Pending Out": t(true, "From"),
    Both: t(true, "From"),
  }),
  // A.2.3
  subscribed: Object.freeze({
    None: t(false),
    "None + Pending Out": t(false),
    "None + Pending In": t(true, "From"),
    "None + Pending Out/In": t(true, "From + Pending Out"),
    To: t(false),
    "To + Pending In": t(true, "Both"),
    From: t(false),
    "From + Pending Out": t(false),
    Both: t(false),
  }),
  // A.2.4
  unsubscribed: Object.freeze({
    None: t(false),
    "None + Pending Out": t(false),
    "None + Pending In": t(true, "None"),
    "None + Pending Out/In": t(true, "None + Pending Out"),
    To: t(false),
    "To + Pending In": t(true, "To"),
    From: t(true, "None"),
    "From + Pending Out": t(true, "None + Pending Out"),
    Both: t(true, "To"),
  }),
});

/** RFC 6121 Appendix A.3: the contact's server processing inbound subscription stanzas (DELIVER?, NEW STATE). */
export const INBOUND: Readonly<Record<SubscriptionPresenceType, SubscriptionTable>> = Object.freeze({
  // A.3.1 (`*`: the server SHOULD auto-reply with subscribed)
  subscribe: Object.freeze({
    None: t(true, "None + Pending In"),
    "None + Pending Out": t(true, "None + Pending Out/In"),
    "None + Pending In": t(false),
    "None + Pending Out/In": t(false),
    To: t(true, "To + Pending In"),
    "To + Pending In": t(false),
    From: t(false, undefined, "subscribed"),
    "From + Pending Out": t(false, undefined, "subscribed"),
    Both: t(false, undefined, "subscribed"),
  }),
  // A.3.2
  unsubscribe: Object.freeze({
    None: t(false),
    "None + Pending Out": t(false),
    "None + Pending In": t(true, "None"),
    "None + Pending Out/In": t(true, "None + Pending Out"),
    To: t(false),
    "To + Pending In": t(true, "To"),
    From: t(true, "None"),
    "From + Pending Out": t(true, "None + Pending Out"),
    Both: t(true, "To"),
  }),
  // A.3.3
  subscribed: Object.freeze({
    None: t(false),
    "None + Pending Out": t(true, "To"),
    "None + Pending In": t(false),
    "None + Pending Out/In": t(true, "To + Pending In"),
    To: t(false),
    "To + Pending In": t(false),
    From: t(false),
    "From + Pending Out": t(true, "Both"),
    Both: t(false),
  }),
  // A.3.4
  unsubscribed: Object.freeze({
    None: t(false),
    "None + Pending Out": t(true, "None"),
    "None + Pending In": t(false),
    "None + Pending Out/In": t(true, "None + Pending In"),
    To: t(true, "None"),
    "To + Pending In": t(true, "None + Pending In"),
    From: t(false),
    "From + Pending Out": t(true, "From"),
    Both: t(true, "From"),
  }),
});

/** The two directions of a state: the user's subscription to the contact, and the contact's to the user. */
export interface StateParts {
  /** User → contact: `none`, `pending` (ask='subscribe', "Pending Out") or `subscribed` ("To"). */
  readonly out: "none" | "pending" | "subscribed";
  /** Contact → user: `none`, `pending` (an unanswered request, "Pending In") or `subscribed` ("From"). */
  readonly in: "none" | "pending" | "subscribed";
}

const PARTS: Readonly<Record<SubscriptionState, StateParts>> = Object.freeze({
  None: { out: "none", in: "none" },
  "None + Pending Out": { out: "pending", in: "none" },
  "None + Pending In": { out: "none", in: "pending" },
  "None + Pending Out/In": { out: "pending", in: "pending" },
  To: { out: "subscribed", in: "none" },
  "To + Pending In": { out: "subscribed", in: "pending" },
  From: { out: "none", in: "subscribed" },
  "From + Pending Out": { out: "pending", in: "subscribed" },
  Both: { out: "subscribed", in: "subscribed" },
});

/** Splits a state into its two directions. */
export function stateParts(s: SubscriptionState): StateParts {
  return PARTS[s];
}

/** Joins two directions into a state (every combination is one of the nine). */
export function stateFromParts(p: StateParts): SubscriptionState {
  for (const s of SUBSCRIPTION_STATES) {
    const q = PARTS[s];
    if (q.out === p.out && q.in === p.in) return s;
  }
  throw new TypeError("unreachable");
}

/**
 * The state of a contact as the server sees it: the roster item (or none) plus whether an inbound request is
 * pending. A pending request is ignored when the contact is already subscribed (`from`/`both`).
 */
export function stateOf(item: RosterItem | undefined, pendingIn: boolean): SubscriptionState {
  const sub: Subscription = item?.subscription ?? "none";
  const to = sub === "to" || sub === "both";
  const from = sub === "from" || sub === "both";
  return stateFromParts({
    out: to ? "subscribed" : item?.ask === true ? "pending" : "none",
    in: from ? "subscribed" : pendingIn ? "pending" : "none",
  });
}

/** The roster `subscription` value of a state (A.1: pending parts are not part of it). */
export function subscriptionOf(s: SubscriptionState): Subscription {
  const p = PARTS[s];
  const to = p.out === "subscribed";
  const from = p.in === "subscribed";
  return to ? (from ? "both" : "to") : from ? "from" : "none";
}

/** Whether a state carries `ask='subscribe'` (a pending outbound request). */
export function askOf(s: SubscriptionState): boolean {
  return PARTS[s].out === "pending";
}

/** Whether a state has an inbound request pending. */
export function pendingInOf(s: SubscriptionState): boolean {
  return PARTS[s].in === "pending";
}

/**
 * The roster item after a state change: subscription and ask follow the state, everything else is kept;
 * a missing item is created with no name and no groups. Pre-approval is dropped once the contact is
 * subscribed (it has been used).
 */
export function applyState(item: RosterItem | undefined, jid: string, s: SubscriptionState): RosterItem {
  const base = item ?? rosterItem(jid);
  const subscription = subscriptionOf(s);
  const from = subscription === "from" || subscription === "both";
  return { ...base, subscription, ask: askOf(s), approved: from ? false : base.approved };
}
