/**
 * vcard-temp (XEP-0054): the common fields as a typed object, building and parsing; the IQs to fetch and
 * publish one. Unknown elements are kept in `extra` so that parse → build does not lose them.
 *
 * @module
 */
import { errorReply, stanzaError } from "@xmpp-sansio/core";
import { type Jid, JidError, parseJid, tryParseJid } from "@xmpp-sansio/jid";
import { XmlElement, xml } from "@xmpp-sansio/xml";
import { NS_VCARD } from "./namespaces.js";

/** Structured name (`<N/>`). */
export interface VCardName {
  /** Family name (`<FAMILY/>`). */
  readonly family?: string;
  /** Given name (`<GIVEN/>`). */
  readonly given?: string;
  /** Middle name (`<MIDDLE/>`). */
  readonly middle?: string;
  /** Honorific prefix, e.g. "Dr." (`<PREFIX/>`). */
  readonly prefix?: string;
  /** Honorific suffix, e.g. "Jr." (`<SUFFIX/>`). */
  readonly suffix?: string;
}

/** A telephone number with its type flags (`HOME`, `WORK`, `VOICE`, `FAX`, `CELL`, `PREF`, …). */
export interface VCardTel {
  /** Type flags as element names (`HOME`, `CELL`, …), in document order. */
  readonly types: readonly string[];
  /** The number as written (`<NUMBER/>`), not normalized. */
  readonly number: string;
}

/** An e-mail address with its type flags (`HOME`, `WORK`, `INTERNET`, `PREF`, `X400`). */
export interface VCardEmail {
  /** Type flags as element names (`INTERNET`, `PREF`, …), in document order. */
  readonly types: readonly string[];
  /** The address (`<USERID/>`), as written. */
  readonly userid: string;
}

/** A postal address with its type flags (`HOME`, `WORK`, `POSTAL`, `PARCEL`, `DOM`, `INTL`, `PREF`). */
export interface VCardAddress {
  /** Type flags as element names (`HOME`, `WORK`, …), in document order. */
  readonly types: readonly string[];
  /** Post office box (`<POBOX/>`). */
  readonly pobox?: string;
  /** Extended address, e.g. a flat number (`<EXTADD/>`). */
  readonly extadd?: string;
  /** Street and number (`<STREET/>`). */
  readonly street?: string;
  /** City (`<LOCALITY/>`). */
  readonly locality?: string;
  /** State or province (`<REGION/>`). */
  readonly region?: string;
  /** Postal code (`<PCODE/>`). */
  readonly pcode?: string;
  /** Country (`<CTRY/>`). */
  readonly ctry?: string;
}

/** A photo: inline (`type` + base64 `binval`) or external (`extval` URL). */
export interface VCardPhoto {
  /** Media type of `binval`, e.g. `image/png` (`<TYPE/>`). */
  readonly type?: string;
  /** The image, base64 (`<BINVAL/>`), as written (not decoded). */
  readonly binval?: string;
  /** URL of an external image (`<EXTVAL/>`). */
  readonly extval?: string;
}

/** The common fields of a vcard-temp. */
export interface VCard {
  /** Formatted name, the display name (`<FN/>`). */
  readonly fn?: string;
  /** Structured name (`<N/>`). */
  readonly n?: VCardName;
  /** Nickname (`<NICKNAME/>`). */
  readonly nickname?: string;
  /** Home page (`<URL/>`). */
  readonly url?: string;
  /** Birthday as written, ISO 8601 `YYYY-MM-DD` by XEP-0054 (`<BDAY/>`); not validated. */
  readonly bday?: string;
  /** Organization (`<ORG/>`): its `name` (`<ORGNAME/>`) and `units` (`<ORGUNIT/>`, in order). */
  readonly org?: { readonly name?: string; readonly units: readonly string[] };
  /** Job title (`<TITLE/>`). */
  readonly title?: string;
  /** Role or occupation (`<ROLE/>`). */
  readonly role?: string;
  /** Telephone numbers (`<TEL/>`), in document order. */
  readonly tel: readonly VCardTel[];
  /** E-mail addresses (`<EMAIL/>`), in document order. */
  readonly email: readonly VCardEmail[];
  /** Postal addresses (`<ADR/>`), in document order. */
  readonly adr: readonly VCardAddress[];
  /** The owner's JID (`<JABBERID/>`). */
  readonly jabberId?: string;
  /** Free-form description (`<DESC/>`). */
  readonly desc?: string;
  /** Avatar (`<PHOTO/>`). */
  readonly photo?: VCardPhoto;
  /** Other elements, kept as they came. */
  readonly extra: readonly XmlElement[];
}

const TEL_TYPES = ["HOME", "WORK", "VOICE", "FAX", "PAGER", "MSG", "CELL", "VIDEO", "BBS", "MODEM", "ISDN", "PCS", "PREF"];
const EMAIL_TYPES = ["HOME", "WORK", "INTERNET", "PREF", "X400"];
const ADR_TYPES = ["HOME", "WORK", "POSTAL", "PARCEL", "DOM", "INTL", "PREF"];
const ADR_FIELDS = ["pobox", "extadd", "street", "locality", "region", "pcode", "ctry"] as const;
const N_FIELDS = ["family", "given", "middle", "prefix", "suffix"] as const;
const SIMPLE = [
  ["fn", "FN"],
  ["nickname", "NICKNAME"],
  ["url", "URL"],
  ["bday", "BDAY"],
  ["title", "TITLE"],
  ["role", "ROLE"],
  ["jabberId", "JABBERID"],
  ["desc", "DESC"],
] as const;
const KNOWN = new Set(["FN", "N", "NICKNAME", "URL", "BDAY", "ORG", "TITLE", "ROLE", "TEL", "EMAIL", "ADR", "JABBERID", "DESC", "PHOTO"]);

/** An empty vCard. */
export function emptyVCard(): VCard {
  return { tel: [], email: [], adr: [], extra: [] };
}

const text = (name: string, value: string | undefined) => (value === undefined ? null : xml(name, {}, value));

/** `<vCard xmlns='vcard-temp'>` from the fields. */
export function buildVCard(v: VCard): XmlElement {
  const el = new XmlElement("vCard", NS_VCARD);
  for (const [key, name] of SIMPLE) {
    if (key === "jabberId" || key === "desc") continue;
    el.append(text(name, v[key]));
  }
  if (v.n !== undefined) el.append(xml("N", {}, ...N_FIELDS.map((f) => text(f.toUpperCase(), v.n?.[f]))));
  if (v.org !== undefined) el.append(xml("ORG", {}, text("ORGNAME", v.org.name), ...v.org.units.map((u) => xml("ORGUNIT", {}, u))));
  for (const t of v.tel) el.append(xml("TEL", {}, ...t.types.map((x) => xml(x)), xml("NUMBER", {}, t.number)));
  for (const a of v.adr) el.append(xml("ADR", {}, ...a.types.map((x) => xml(x)), ...ADR_FIELDS.map((f) => text(f.toUpperCase(), a[f]))));
  for (const e of v.email) el.append(xml("EMAIL", {}, ...e.types.map((x) => xml(x)), xml("USERID", {}, e.userid)));
  el.append(text("JABBERID", v.jabberId), text("DESC", v.desc));
  if (v.photo !== undefined) el.append(xml("PHOTO", {}, text("TYPE", v.photo.type), text("BINVAL", v.photo.binval), text("EXTVAL", v.photo.extval)));
  for (const x of v.extra) el.append(x.clone());
  return el;
}

function types(el: XmlElement, allowed: readonly string[]): string[] {
  return el.elements().filter((c) => c.ns === NS_VCARD && allowed.includes(c.name)).map((c) => c.name);
}

/** Reads a vCard (the `<vCard/>` or a stanza containing it); `undefined` when there is none. Never throws. */
export function parseVCard(stanzaOrVCard: XmlElement): VCard | undefined {
  const v = stanzaOrVCard.is("vCard", NS_VCARD) ? stanzaOrVCard : stanzaOrVCard.getChild("vCard", NS_VCARD);
  if (v === undefined) return undefined;
  const out: Record<string, unknown> = { tel: [], email: [], adr: [], extra: [] };
  const t = (el: XmlElement, name: string) => el.getChildText(name, NS_VCARD);
  for (const [key, name] of SIMPLE) {
    const s = t(v, name);
    if (s !== undefined) out[key] = s;
  }
  for (const c of v.elements()) {
    if (c.ns !== NS_VCARD || !KNOWN.has(c.name)) {
      (out.extra as XmlElement[]).push(c);
      continue;
    }
    if (c.name === "N" && out.n === undefined) {
      const n: Record<string, string> = {};
      for (const f of N_FIELDS) {
        const s = t(c, f.toUpperCase());
        if (s !== undefined) n[f] = s;
      }
      out.n = n;
    } else if (c.name === "ORG" && out.org === undefined) {
      const name = t(c, "ORGNAME");
      const units = c.getChildren("ORGUNIT", NS_VCARD).map((u) => u.text());
      out.org = name === undefined ? { units } : { name, units };
    } else if (c.name === "TEL") {
      const number = t(c, "NUMBER");
      if (number !== undefined) (out.tel as VCardTel[]).push({ types: types(c, TEL_TYPES), number });
    } else if (c.name === "EMAIL") {
      const userid = t(c, "USERID");
      if (userid !== undefined) (out.email as VCardEmail[]).push({ types: types(c, EMAIL_TYPES), userid });
    } else if (c.name === "ADR") {
      const a: Record<string, unknown> = { types: types(c, ADR_TYPES) };
      for (const f of ADR_FIELDS) {
        const s = t(c, f.toUpperCase());
        if (s !== undefined) a[f] = s;
      }
      (out.adr as VCardAddress[]).push(a as unknown as VCardAddress);
    } else if (c.name === "PHOTO" && out.photo === undefined) {
      const p: Record<string, string> = {};
      for (const [k, n] of [["type", "TYPE"], ["binval", "BINVAL"], ["extval", "EXTVAL"]] as const) {
        const s = t(c, n);
        if (s !== undefined) p[k] = k === "binval" ? s.replace(/[ \t\r\n]/g, "") : s;
      }
      out.photo = p;
    }
  }
  return out as unknown as VCard;
}

/** The IQ fetching a vCard: ours (no `to`) or a contact's (its bare JID, XEP-0054 §3.2). */
export function vcardGet(id: string, of?: Jid | string): XmlElement {
  const to = of === undefined ? undefined : (typeof of === "string" ? parseJid(of) : of).bare.toString();
  return xml("iq", { type: "get", id, to }, new XmlElement("vCard", NS_VCARD));
}

/** The IQ publishing our vCard (XEP-0054 §3.3). */
export function vcardSet(id: string, v: VCard): XmlElement {
  return xml("iq", { type: "set", id }, buildVCard(v));
}

/** What a vcard-temp IQ from a local session asks the server for (XEP-0054 §3), see {@link classifyVCardIq}. */
export type VCardRequest =
  /** Fetch the vCard of `of` (a bare JID string: the sender's own when the IQ had no `to`). */
  | { readonly kind: "get"; readonly of: string }
  /** Store this vCard as the sender's own. */
  | { readonly kind: "set"; readonly vcard: XmlElement }
  /** Refuse: answer with this error reply. */
  | { readonly kind: "error"; readonly reply: XmlElement };

/**
 * Classifies a vcard-temp IQ from a local session (`sender` its full JID): a get for the sender's own or
 * another account's vCard, a set of one's own (no `to`, or one's own bare JID), or an error reply — a set
 * for someone else is `not-allowed` (the seed's 405), anything else `bad-request`. Returns `undefined`
 * when the IQ is not a vcard-temp request.
 */
export function classifyVCardIq(iq: XmlElement, sender: Jid): VCardRequest | undefined {
  const v = iq.getChild("vCard", NS_VCARD);
  const type = iq.attr("type");
  if (iq.name !== "iq" || v === undefined || (type !== "get" && type !== "set")) return undefined;
  const own = sender.bare.toString();
  const rawTo = iq.attr("to");
  const to = rawTo === undefined ? undefined : tryParseJid(rawTo);
  if (to instanceof JidError) return { kind: "error", reply: errorReply(iq, stanzaError("jid-malformed"))! };
  const target = to === undefined ? own : to.bare.toString();
  if (type === "get") return { kind: "get", of: target };
  if (target !== own) return { kind: "error", reply: errorReply(iq, stanzaError("not-allowed", { text: "only one's own vCard can be set" }))! };
  return { kind: "set", vcard: v.clone() };
}

/**
 * The answer to a vcard-temp get: the stored vCard, or an empty `<vCard/>` when there is none
 * (XEP-0054 §3.1 — `item-not-found` would reveal whether the account exists).
 */
export function vcardResult(iq: XmlElement, stored: XmlElement | undefined): XmlElement {
  return xml("iq", { type: "result", id: iq.attr("id"), to: iq.attr("from"), from: iq.attr("to") }, stored?.clone() ?? new XmlElement("vCard", NS_VCARD));
}
