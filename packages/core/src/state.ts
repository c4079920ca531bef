/**
 * The session's own states, as tagged unions, and the legal transitions of each role as one table in
 * code (in the spirit of h11). `docs/core.md` shows the tables rendered by {@link renderTransitions};
 * a test keeps the two equal. Features keep their sub-states (a SASL exchange, a pending bind) to
 * themselves; the session only knows which feature is negotiating.
 *
 * @module
 */
import type { Jid } from "@xmpp-sansio/jid";
import type { SessionState } from "./session-types.js";

/** Where a client session stands. */
export type ClientState =
  | { readonly kind: "idle" }
  | { readonly kind: "await-header" }
  | { readonly kind: "await-features" }
  | { readonly kind: "negotiating"; readonly feature: string }
  | { readonly kind: "tls-handshake" }
  | { readonly kind: "online"; readonly jid: Jid }
  | { readonly kind: "closing" }
  | { readonly kind: "closed" };

/** Where a server session stands. */
export type ServerState =
  | { readonly kind: "idle" }
  | { readonly kind: "await-header" }
  | { readonly kind: "host-check" }
  | { readonly kind: "features" }
  | { readonly kind: "tls-handshake" }
  | { readonly kind: "online"; readonly jid: Jid }
  | { readonly kind: "closing" }
  | { readonly kind: "closed" };

/** The names of the client's detailed states (see `docs/core.md`, "State machine"). */
export type ClientStateKind = ClientState["kind"];
/** The names of the server's detailed states (see `docs/core.md`, "State machine"). */
export type ServerStateKind = ServerState["kind"];

/** What moves a session from one state to the next. */
export type Transition =
  | "start" // client: start(); server: the first byte or start()
  | "header" // the peer's stream header (server: the first of the session)
  | "reopen" // server: the peer's header of a restarted stream (no new host check)
  | "host-accepted" // server: answerHost(true)
  | "features" // client: a new <stream:features/> follows without a restart (XEP-0388 SASL2 success)
  | "negotiate" // a feature started (or went on to) its negotiation step
  | "restart" // a feature's step restarts the stream (SASL success)
  | "tls-handover" // STARTTLS boundary reached
  | "tls-established" // tlsEstablished() after a hand-over
  | "bound" // a full JID is bound (bind, or XEP-0198 resumption)
  | "close" // we sent our end of the stream
  | "end"; // the session is over (any reason)

/** A role's transition table: for each state, the transitions it allows and where they lead. */
export type TransitionTable<K extends string> = { readonly [S in K]: Partial<Record<Transition, K>> };

/**
 * Client transitions. `close` is legal from every state but `closing`/`closed`, `end` from every state
 * but `closed`; both are added by `transition` and listed once in the rendered table.
 */
export const CLIENT_TRANSITIONS: TransitionTable<ClientStateKind> = {
  idle: { start: "await-header" },
  "await-header": { header: "await-features" },
  "await-features": { negotiate: "negotiating", bound: "online" },
  negotiating: { negotiate: "negotiating", features: "await-features", restart: "await-header", "tls-handover": "tls-handshake", bound: "online" },
  "tls-handshake": { "tls-established": "await-header" },
  online: {},
  closing: {},
  closed: {},
};

/** Server transitions (same convention as {@link CLIENT_TRANSITIONS}). */
export const SERVER_TRANSITIONS: TransitionTable<ServerStateKind> = {
  idle: { header: "host-check" },
  "await-header": { header: "host-check", reopen: "features" },
  "host-check": { "host-accepted": "features" },
  features: { restart: "await-header", "tls-handover": "tls-handshake", bound: "online" },
  "tls-handshake": { "tls-established": "await-header" },
  online: {},
  closing: {},
  closed: {},
};

/** The state `from` goes to on `t`, or `undefined` when the table does not allow it. */
export function transition<K extends string>(table: TransitionTable<K>, from: K, t: Transition): K | undefined {
  if (t === "end") return from === "closed" ? undefined : ("closed" as K);
  if (t === "close") return from === "closed" || from === "closing" ? undefined : ("closing" as K);
  return table[from][t];
}

/** The coarse public {@link SessionState} of a detailed state. */
export function coarseState(kind: ClientStateKind | ServerStateKind): SessionState {
  switch (kind) {
    case "idle":
      return "idle";
    case "tls-handshake":
      return "tls-handshake";
    case "online":
      return "online";
    case "closing":
      return "closing";
    case "closed":
      return "closed";
    default:
      return "negotiating";
  }
}

/** Renders a table as Markdown rows `| from | transition | to |` (the form `docs/core.md` shows). */
export function renderTransitions<K extends string>(table: TransitionTable<K>): string {
  const rows = ["| from | on | to |", "|---|---|---|"];
  for (const from of Object.keys(table) as K[]) {
    for (const [t, to] of Object.entries(table[from]) as [Transition, K][]) rows.push(`| \`${from}\` | ${t} | \`${to}\` |`);
  }
  rows.push("| any but `closing`, `closed` | close | `closing` |");
  rows.push("| any but `closed` | end | `closed` |");
  return rows.join("\n");
}
