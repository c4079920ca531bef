/**
 * The IQ services the server answers itself, next to the IM logic: XEP-0054 vcard-temp, XEP-0049
 * private XML, XEP-0280 carbons (enable/disable), XEP-0030 disco#info/#items, XEP-0092 version,
 * XEP-0199 ping. One function: an IQ get/set in, the reply out.
 *
 * @module
 */
import { errorReply, stanzaError } from "@xmpp-sansio/core";
import { classifyVCardIq, NS_BLOCKING, NS_VCARD, vcardResult } from "@xmpp-sansio/im";
import { type Jid, JidError } from "@xmpp-sansio/jid";
import { toXmlString, XmlElement } from "@xmpp-sansio/xml";
import type { Storage } from "./store/types.js";

const NS_PING = "urn:xmpp:ping";
const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
const NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items";
const NS_VERSION = "jabber:iq:version";
const NS_PRIVATE = "jabber:iq:private";
const NS_CARBONS = "urn:xmpp:carbons:2";
const NS_ROSTER = "jabber:iq:roster";
const NS_OFFLINE = "msgoffline";

/** Features of the server's domain (disco#info): exactly the services answered here. */
export const SERVER_FEATURES: readonly string[] = [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VERSION, NS_ROSTER, NS_BLOCKING, NS_VCARD, NS_PRIVATE, NS_CARBONS, NS_OFFLINE];
/** Features of an account's bare JID (disco#info on behalf of the account, XEP-0030 §3.1). */
export const ACCOUNT_FEATURES: readonly string[] = [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_PING, NS_VCARD];

/** What the services need. */
export interface ServiceContext {
  readonly domain: string;
  readonly storage: Storage;
  readonly software: string;
  readonly version: string;
  target(jid: string): Jid | JidError;
  parse(xml: string): XmlElement | undefined;
  /** Turns carbons on/off for the sending session. */
  setCarbons(on: boolean): void;
}

/** Most bytes of one private XML element or vCard kept (a peer fills our disk otherwise). */
const MAX_STORED_BYTES = 64 * 1024;

/**
 * The reply to an IQ get/set that the IM logic left to the server (`from` its sender, a local full JID):
 * addressed to the account (no `to`, or a bare JID) or to the server's domain.
 */
export function answerServiceIq(ctx: ServiceContext, iq: XmlElement, from: Jid): XmlElement {
  const type = iq.attr("type")!;
  const payload = iq.firstElement();
  const toAttr = iq.attr("to");
  const to = toAttr === undefined ? from.bare : ctx.target(toAttr);
  if (to instanceof JidError) return errorReply(iq, stanzaError("jid-malformed"))!;
  const isServer = to.local === "" && to.domain === ctx.domain;
  const isOwn = to.equals(from.bare);
  const result = (child?: XmlElement): XmlElement => {
    const r = new XmlElement("iq", iq.ns, { type: "result", id: iq.attr("id"), to: from.toString(), from: toAttr === undefined ? undefined : to.toString() });
    if (child !== undefined) r.append(child);
    return r;
  };
  const fail = (condition: Parameters<typeof stanzaError>[0], text?: string) => errorReply(iq, stanzaError(condition, text === undefined ? {} : { text }))!;
  if (payload === undefined || iq.elements().length !== 1) return fail("bad-request", "an IQ request carries exactly one payload");
  const local = from.local;

  if (payload.is("ping", NS_PING) && type === "get" && (isServer || isOwn)) return result();
  if (payload.is("query", NS_DISCO_INFO) && type === "get" && (isServer || isOwn) && payload.attr("node") === undefined) {
    const q = new XmlElement("query", NS_DISCO_INFO);
    q.append(new XmlElement("identity", NS_DISCO_INFO, isServer ? { category: "server", type: "im", name: ctx.software } : { category: "account", type: "registered" }));
    for (const f of isServer ? SERVER_FEATURES : ACCOUNT_FEATURES) q.append(new XmlElement("feature", NS_DISCO_INFO, { var: f }));
    return result(q);
  }
  if (payload.is("query", NS_DISCO_ITEMS) && type === "get" && (isServer || isOwn) && payload.attr("node") === undefined) {
    return result(new XmlElement("query", NS_DISCO_ITEMS)); // no components or services at other addresses
  }
  if (payload.is("query", NS_VERSION) && type === "get" && isServer) {
    return result(new XmlElement("query", NS_VERSION, null, [new XmlElement("name", NS_VERSION, null, [ctx.software]), new XmlElement("version", NS_VERSION, null, [ctx.version])]));
  }
  if (payload.ns === NS_VCARD && payload.name === "vCard") {
    const req = classifyVCardIq(iq, from);
    if (req === undefined) return fail("bad-request");
    if (req.kind === "error") return req.reply;
    if (req.kind === "set") {
      const s = toXmlString(req.vcard);
      if (s.length > MAX_STORED_BYTES) return fail("not-acceptable", "the vCard is too large");
      ctx.storage.vcards.set(local, s);
      return result();
    }
    const of = ctx.target(req.of);
    const stored = of instanceof JidError || of.domain !== ctx.domain || of.local === "" ? undefined : ctx.storage.vcards.get(of.local);
    const reply = vcardResult(iq, stored === undefined ? undefined : ctx.parse(stored));
    return reply;
  }
  if (payload.is("query", NS_PRIVATE)) {
    // XEP-0049 §2: one's own storage only; exactly one child, not in jabber:client / jabber:server / jabber:iq:private.
    if (!isOwn) return fail("forbidden", "private storage belongs to its own account");
    const children = payload.elements();
    const child = children[0];
    if (children.length !== 1 || child === undefined || child.ns === "" || child.ns === "jabber:client" || child.ns === "jabber:server" || child.ns === NS_PRIVATE) {
      return fail("not-acceptable", "exactly one namespaced element");
    }
    if (type === "get") {
      const stored = ctx.storage.privateXml.get(local, child.ns);
      const q = new XmlElement("query", NS_PRIVATE);
      q.append((stored === undefined ? undefined : ctx.parse(stored)) ?? new XmlElement(child.name, child.ns));
      return result(q);
    }
    const s = toXmlString(child);
    if (s.length > MAX_STORED_BYTES) return fail("not-acceptable", "the element is too large");
    ctx.storage.privateXml.set(local, child.ns, s);
    return result();
  }
  if ((payload.is("enable", NS_CARBONS) || payload.is("disable", NS_CARBONS)) && type === "set" && (isServer || isOwn)) {
    ctx.setCarbons(payload.name === "enable");
    return result();
  }
  // RFC 6120 §10.3.3 / §10.5.3.2: a payload the server does not understand.
  return fail("service-unavailable");
}
