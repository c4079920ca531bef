/**
 * Building and reading presence on the client (RFC 6121 §3, §4): availability with show/status/priority,
 * directed presence, and the four subscription presences.
 *
 * @module
 */
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import { type XmlElement, xml } from "@xmpp-sansio/xml";

/** The `<show/>` values (§4.7.2.1). */
export type Show = "away" | "chat" | "dnd" | "xa";

/** What an availability presence says. */
export interface PresenceFields {
  /** Availability sub-state; absent means plain "online". */
  show?: Show;
  /** Human-readable status text. */
  status?: string;
  /** Priority from -128 to 127 (§4.7.2.3). */
  priority?: number;
  /** `xml:lang` of the status. */
  lang?: string;
}

function bareString(j: Jid | string): string {
  return (typeof j === "string" ? parseJid(j) : j).bare.toString();
}

/**
 * An available presence: broadcast (no `to`, initial or subsequent, §4.2/§4.4) or directed (§4.6).
 *
 * @throws RangeError for a priority outside -128..127 or not an integer
 */
export function availablePresence(fields?: PresenceFields, to?: Jid | string): XmlElement {
  const p = fields?.priority;
  if (p !== undefined && (!Number.isInteger(p) || p < -128 || p > 127)) throw new RangeError(`priority must be an integer in -128..127, got ${p}`);
  return xml(
    "presence",
    { to: to === undefined ? undefined : String(to), "xml:lang": fields?.lang },
    fields?.show === undefined ? null : xml("show", {}, fields.show),
    fields?.status === undefined ? null : xml("status", {}, fields.status),
    p === undefined ? null : xml("priority", {}, String(p)),
  );
}

/** Unavailable presence (§4.5), broadcast or directed. */
export function unavailablePresence(status?: string, to?: Jid | string): XmlElement {
  return xml("presence", { type: "unavailable", to: to === undefined ? undefined : String(to) }, status === undefined ? null : xml("status", {}, status));
}

/** A subscription request to a contact's bare JID (§3.1.1), with optional status text and XEP-0172 nick. */
export function subscribe(to: Jid | string, options?: { status?: string; nick?: string }): XmlElement {
  return xml(
    "presence",
    { type: "subscribe", to: bareString(to) },
    options?.status === undefined ? null : xml("status", {}, options.status),
    options?.nick === undefined ? null : xml("nick", { xmlns: "http://jabber.org/protocol/nick" }, options.nick),
  );
}

/** Approves a subscription request, or pre-approves one (§3.1.4, §3.4). */
export function approveSubscription(to: Jid | string): XmlElement {
  return xml("presence", { type: "subscribed", to: bareString(to) });
}

/** Refuses a request, cancels a contact's subscription or a pre-approval (§3.1.4, §3.2.1). */
export function denySubscription(to: Jid | string): XmlElement {
  return xml("presence", { type: "unsubscribed", to: bareString(to) });
}

/** Ends our subscription to a contact's presence (§3.3.1). */
export function unsubscribe(to: Jid | string): XmlElement {
  return xml("presence", { type: "unsubscribe", to: bareString(to) });
}

/** A presence as read by {@link parsePresence}. */
export interface ParsedPresence {
  /** `available` for no type; otherwise the `type` attribute. */
  readonly type: "available" | "unavailable" | "subscribe" | "subscribed" | "unsubscribe" | "unsubscribed" | "probe" | "error" | "unknown";
  /**
   * `<show/>` (RFC 6121 §4.7.2.1): `away`, `chat`, `dnd` or `xa`; absent means plain available. Unknown values are
   * dropped.
   */
  readonly show?: Show;
  /** The `<status/>` text (RFC 6121 §4.7.2.2), if any (the first one; no language selection). */
  readonly status?: string;
  /** 0 when absent or invalid (§4.7.2.3). */
  readonly priority: number;
}

/** Reads a presence from a peer; never throws. Unknown `show` values are dropped. */
export function parsePresence(p: XmlElement): ParsedPresence {
  const t = p.attr("type");
  const known = ["unavailable", "subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe", "error"];
  const type = (t === undefined ? "available" : known.includes(t) ? t : "unknown") as ParsedPresence["type"];
  const showText = p.getChildText("show")?.trim();
  const show = showText === "away" || showText === "chat" || showText === "dnd" || showText === "xa" ? showText : undefined;
  const status = p.getChildText("status");
  const prioText = p.getChildText("priority")?.trim() ?? "";
  const prio = /^[+-]?[0-9]{1,3}$/.test(prioText) ? Number(prioText) : 0;
  const priority = prio >= -128 && prio <= 127 ? prio : 0;
  return { type, priority, ...(show === undefined ? {} : { show }), ...(status === undefined ? {} : { status }) };
}
