/**
 * XEP-0077 In-Band Registration: namespaces, the definition, the question and answer types, and the
 * IQ builders both halves share.
 *
 * @module
 */
import { NS_CLIENT, type XmlElement } from "@xmpp-sansio/xml";
import type { FeatureEvent, StreamFeature } from "../types.js";
import { el } from "../../util.js";

/** `jabber:iq:register` (XEP-0077 §3). */
export const NS_REGISTER = "jabber:iq:register";
/** `http://jabber.org/features/iq-register`: the stream feature (XEP-0077 §8). */
export const NS_REGISTER_FEATURE = "http://jabber.org/features/iq-register";

/** The feature's name (in `feature` events and for `featureHalf`). */
export const REGISTER_FEATURE_NAME = "register";

/**
 * What in-band registration is, without its halves. It travels in IQ stanzas (it owns no nonza
 * namespace); it is offered and taken before authentication, and after it takes password changes and
 * account removals as IQs of the online session.
 */
export const REGISTER_DEFINITION: StreamFeature = {
  name: REGISTER_FEATURE_NAME,
  namespaces: [],
  availability: { until: "authenticated" },
  restarts: false,
  mandatory: false,
};

/**
 * A question to the application (server): the `data` of a `feature` event named `register-request`.
 * Answer with `registerServer(session).answer(...)`; input is held meanwhile.
 *
 * - `register`: create the account `username` (the PRECIS-prepared localpart) with `password` (as the
 *   client sent it; it passed the PRECIS OpaqueString profile). Before authentication.
 * - `change-password`: the authenticated account `username` sets `password` (XEP-0077 §3.3).
 * - `remove`: delete the authenticated account `username` (XEP-0077 §3.2). After a successful answer
 *   the stream ends with `<not-authorized/>`; the application ends the account's other sessions.
 */
export type RegisterRequest =
  | { readonly action: "register"; readonly username: string; readonly password: string }
  | { readonly action: "change-password"; readonly username: string; readonly password: string }
  | { readonly action: "remove"; readonly username: string };

/** Why the application refuses a {@link RegisterRequest} (each maps to its XEP-0077 / XEP-0086 error). */
export type RegisterRefusal =
  /** 409: the username is taken (XEP-0077 §3.1 example 6). */
  | "conflict"
  /** 406: the username or password does not meet the server's policy (e.g. too weak). */
  | "not-acceptable"
  /** 405: registration, password change or removal is not allowed (for this account). */
  | "not-allowed"
  /** 401: not authorized (e.g. the change is refused on this channel). */
  | "not-authorized"
  /** 500 (wait): too many registrations for now — the application's rate limit (per address, per hour). */
  | "resource-constraint"
  /** 500: the account store failed. */
  | "internal-server-error";

/** The application's answer to a {@link RegisterRequest}. */
export type RegisterAnswer = { readonly ok: true } | { readonly refuse: RegisterRefusal; readonly text?: string };

/** The `register-request` question, if `ev` is one. */
export function registerRequestOf(ev: { readonly type: string }): RegisterRequest | undefined {
  const f = ev as FeatureEvent;
  return f.type === "feature" && f.feature === REGISTER_FEATURE_NAME && f.name === "register-request" ? (f.data as RegisterRequest) : undefined;
}

/** What a client-side registration ended with: the `data` of the `registered` / `registration-failed` events. */
export type RegistrationOutcome =
  | { readonly registered: true; readonly username: string }
  | { readonly registered: false; readonly condition: string; readonly text?: string };

/** The outcome of the client's registration, if `ev` is its `registered` or `registration-failed` event. */
export function registrationOutcomeOf(ev: { readonly type: string }): RegistrationOutcome | undefined {
  const f = ev as FeatureEvent;
  if (f.type !== "feature" || f.feature !== REGISTER_FEATURE_NAME) return undefined;
  if (f.name === "registered") return { registered: true, ...(f.data as { username: string }) };
  if (f.name === "registration-failed") return { registered: false, ...(f.data as { condition: string; text?: string }) };
  return undefined;
}

/**
 * XEP-0077 §3.3: the IQ an online client sends to change its password (send with `sendIq`; a `result`
 * means done). `username` is the localpart of the logged-in account.
 */
export function changePasswordIq(username: string, password: string): XmlElement {
  return el(
    "iq",
    NS_CLIENT,
    { type: "set" },
    el("query", NS_REGISTER, null, el("username", NS_REGISTER, null, username), el("password", NS_REGISTER, null, password)),
  );
}

/**
 * XEP-0077 §3.2: the IQ an online client sends to remove its account (send with `sendIq`). On success
 * the server answers `result` and then ends the stream with `<not-authorized/>`.
 */
export function removeAccountIq(): XmlElement {
  return el("iq", NS_CLIENT, { type: "set" }, el("query", NS_REGISTER, null, el("remove", NS_REGISTER)));
}
