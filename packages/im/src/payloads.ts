/**
 * The legacy `jabber:x:*` payloads of the seed document (Jabber protocol overview §6.19–§6.25): typed
 * builders and parsers. Parsers take the stanza (or the `<x/>` itself), never throw, and return
 * `undefined` when the payload is absent.
 *
 * @module
 */
import { JidError, tryParseJid } from "@xmpp-sansio/jid";
import { XmlElement, xml } from "@xmpp-sansio/xml";
import { NS_X_ENCRYPTED, NS_X_ENVELOPE, NS_X_EVENT, NS_X_EXPIRE, NS_X_OOB, NS_X_ROSTER, NS_X_SIGNED } from "./namespaces.js";

function xOf(stanzaOrX: XmlElement, ns: string): XmlElement | undefined {
  if (stanzaOrX.name === "x" && stanzaOrX.ns === ns) return stanzaOrX;
  return stanzaOrX.getChild("x", ns);
}

function trimWs(s: string): string {
  return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
}

// ---- jabber:x:encrypted and jabber:x:signed (XEP-0027)

/** `<x xmlns='jabber:x:encrypted'>` with the ASCII-armoured OpenPGP message body (no armour headers). */
export function buildEncrypted(armoredBody: string): XmlElement {
  return xml("x", { xmlns: NS_X_ENCRYPTED }, armoredBody);
}

/** The encrypted data of a message (whitespace around it trimmed), or `undefined`. */
export function parseEncrypted(stanzaOrX: XmlElement): string | undefined {
  const x = xOf(stanzaOrX, NS_X_ENCRYPTED);
  return x === undefined ? undefined : trimWs(x.text());
}

/** `<x xmlns='jabber:x:signed'>` with the ASCII-armoured signature of the presence status. */
export function buildSigned(armoredSignature: string): XmlElement {
  return xml("x", { xmlns: NS_X_SIGNED }, armoredSignature);
}

/** The signature of a presence (whitespace around it trimmed), or `undefined`. */
export function parseSigned(stanzaOrX: XmlElement): string | undefined {
  const x = xOf(stanzaOrX, NS_X_SIGNED);
  return x === undefined ? undefined : trimWs(x.text());
}

// ---- jabber:x:envelope

/** The address kinds of `jabber:x:envelope`. */
export type EnvelopeKind = "to" | "cc" | "replyto" | "from" | "forwardedby";

const ENVELOPE_KINDS: readonly EnvelopeKind[] = ["to", "cc", "replyto", "from", "forwardedby"];

/** One address of an envelope: its kind, the `jid` and the optional display text. */
export interface EnvelopeAddress {
  /** Which header the address is: `to`, `cc`, `replyto`, `from` or `forwardedby`. */
  readonly kind: EnvelopeKind;
  /** The address's JID, as written. */
  readonly jid: string;
  /** Display text for the address (`desc`), if given. */
  readonly name?: string;
}

/** `<x xmlns='jabber:x:envelope'>` with the addresses in order. */
export function buildEnvelope(addresses: readonly EnvelopeAddress[]): XmlElement {
  return xml("x", { xmlns: NS_X_ENVELOPE }, ...addresses.map((a) => xml(a.kind, { jid: a.jid }, a.name ?? null)));
}

/** The addresses of an envelope (entries without a valid `jid` skipped), or `undefined`. */
export function parseEnvelope(stanzaOrX: XmlElement): EnvelopeAddress[] | undefined {
  const x = xOf(stanzaOrX, NS_X_ENVELOPE);
  if (x === undefined) return undefined;
  const out: EnvelopeAddress[] = [];
  for (const el of x.elements()) {
    if (el.ns !== NS_X_ENVELOPE || !(ENVELOPE_KINDS as readonly string[]).includes(el.name)) continue;
    const raw = el.attr("jid");
    const j = raw === undefined ? undefined : tryParseJid(raw);
    if (j === undefined || j instanceof JidError) continue;
    const name = el.text();
    out.push(name === "" ? { kind: el.name as EnvelopeKind, jid: j.toString() } : { kind: el.name as EnvelopeKind, jid: j.toString(), name });
  }
  return out;
}

// ---- jabber:x:event (XEP-0022)

/** The four message events. */
export type MessageEventKind = "offline" | "delivered" | "displayed" | "composing";

const EVENT_KINDS: readonly MessageEventKind[] = ["offline", "delivered", "displayed", "composing"];

/**
 * A `jabber:x:event`: a *request* (in a message with content, no `id`) or a *notification* (`id` names the
 * message it is about; no events means "cancelled", e.g. the user stopped composing).
 */
export interface MessageEvent {
  /**
   * Requested or notified events (`offline`, `delivered`, `displayed`, `composing`); empty in a notification means
   * "cancelled".
   */
  readonly events: readonly MessageEventKind[];
  /** Notification only: the id of the message the event is about. */
  readonly id?: string;
}

/** `<x xmlns='jabber:x:event'>`: a request (no `id`) or a notification (with the id of the message). */
export function buildMessageEvent(ev: MessageEvent): XmlElement {
  return xml("x", { xmlns: NS_X_EVENT }, ...ev.events.map((k) => xml(k)), ev.id === undefined ? null : xml("id", {}, ev.id));
}

/** Reads a `jabber:x:event`, or `undefined`. Unknown children are ignored; events are listed once each. */
export function parseMessageEvent(stanzaOrX: XmlElement): MessageEvent | undefined {
  const x = xOf(stanzaOrX, NS_X_EVENT);
  if (x === undefined) return undefined;
  const events = EVENT_KINDS.filter((k) => x.getChild(k, NS_X_EVENT) !== undefined);
  const id = x.getChildText("id", NS_X_EVENT);
  return id === undefined ? { events } : { events, id };
}

/**
 * The notification a client sends for a requested event (XEP-0022 §4): `<message to=requester><x><event/><id/></x>`,
 * or `undefined` when the message did not request that event or has no `id`.
 */
export function messageEventNotification(request: XmlElement, kind: Exclude<MessageEventKind, "offline">): XmlElement | undefined {
  const ev = parseMessageEvent(request);
  const id = request.attr("id");
  const from = request.attr("from");
  if (ev === undefined || ev.id !== undefined || id === undefined || !ev.events.includes(kind)) return undefined;
  return xml("message", { to: from }, buildMessageEvent({ events: [kind], id }));
}

// ---- jabber:x:expire (XEP-0023)

/** A message's lifetime: `seconds` from sending; `stored` (seconds since the epoch) set by an offline store. */
export interface Expire {
  /** Lifetime in seconds from sending (XEP-0023 `seconds`); past it the message is dropped instead of delivered. */
  readonly seconds: number;
  /** Set by an offline store: when the message was stored, seconds since the epoch (XEP-0023 `stored`). */
  readonly stored?: number;
}

/** `<x xmlns='jabber:x:expire' seconds='…'/>`. @throws RangeError for a negative or non-integer `seconds` */
export function buildExpire(e: Expire): XmlElement {
  if (!Number.isSafeInteger(e.seconds) || e.seconds < 0) throw new RangeError(`seconds must be a non-negative integer, got ${e.seconds}`);
  return xml("x", { xmlns: NS_X_EXPIRE, seconds: String(e.seconds), stored: e.stored === undefined ? undefined : String(e.stored) });
}

/** Reads a `jabber:x:expire`; `undefined` when absent or when `seconds` is not a non-negative integer. */
export function parseExpire(stanzaOrX: XmlElement): Expire | undefined {
  const x = xOf(stanzaOrX, NS_X_EXPIRE);
  const s = x?.attr("seconds");
  if (x === undefined || s === undefined || !/^[0-9]{1,12}$/.test(s)) return undefined;
  const st = x.attr("stored");
  return st !== undefined && /^[0-9]{1,12}$/.test(st) ? { seconds: Number(s), stored: Number(st) } : { seconds: Number(s) };
}

// ---- jabber:x:oob (XEP-0066)

/** An out-of-band attachment: the URL and an optional description. */
export interface OobData {
  /** The attachment's URL (XEP-0066 `<url/>`). */
  readonly url: string;
  /** What the URL points to, for humans (`<desc/>`). */
  readonly desc?: string;
}

/** `<x xmlns='jabber:x:oob'><url/><desc/></x>` (one per attachment). */
export function buildOob(o: OobData): XmlElement {
  return xml("x", { xmlns: NS_X_OOB }, xml("url", {}, o.url), o.desc === undefined ? null : xml("desc", {}, o.desc));
}

/** Every `jabber:x:oob` attachment of a message (those without a `<url/>` skipped). */
export function parseOob(stanza: XmlElement): OobData[] {
  const xs = stanza.name === "x" && stanza.ns === NS_X_OOB ? [stanza] : stanza.getChildren("x", NS_X_OOB);
  const out: OobData[] = [];
  for (const x of xs) {
    const url = x.getChildText("url", NS_X_OOB);
    if (url === undefined || trimWs(url) === "") continue;
    const desc = x.getChildText("desc", NS_X_OOB);
    out.push(desc === undefined ? { url: trimWs(url) } : { url: trimWs(url), desc });
  }
  return out;
}

// ---- jabber:x:roster (XEP-0093)

/** A contact suggested in a message: JID, optional name and groups. */
export interface SuggestedContact {
  /** The suggested contact's JID. */
  readonly jid: string;
  /** A name for the contact, if suggested. */
  readonly name?: string;
  /** Roster groups suggested for the contact (may be empty). */
  readonly groups: readonly string[];
}

/** `<x xmlns='jabber:x:roster'>` with one `<item/>` per contact. */
export function buildRosterExchange(items: readonly SuggestedContact[]): XmlElement {
  return xml(
    "x",
    { xmlns: NS_X_ROSTER },
    ...items.map((i) => xml("item", { jid: i.jid, name: i.name }, ...i.groups.map((g) => xml("group", {}, g)))),
  );
}

/** The suggested contacts (items with an invalid or missing `jid` skipped), or `undefined`. */
export function parseRosterExchange(stanzaOrX: XmlElement): SuggestedContact[] | undefined {
  const x = xOf(stanzaOrX, NS_X_ROSTER);
  if (x === undefined) return undefined;
  const out: SuggestedContact[] = [];
  for (const it of x.getChildren("item", NS_X_ROSTER)) {
    const raw = it.attr("jid");
    const j = raw === undefined ? undefined : tryParseJid(raw);
    if (j === undefined || j instanceof JidError) continue;
    const groups = [...new Set(it.getChildren("group", NS_X_ROSTER).map((g) => g.text()))].filter((g) => g !== "");
    const name = it.attr("name");
    out.push(name === undefined ? { jid: j.toString(), groups } : { jid: j.toString(), name, groups });
  }
  return out;
}

/** True when an element is one of the `jabber:x:*` payloads above. */
export function isLegacyX(el: XmlElement): boolean {
  return el instanceof XmlElement && el.name === "x" && el.ns.startsWith("jabber:x:");
}
