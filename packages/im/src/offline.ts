/**
 * What offline storage implies for the legacy payloads: the XEP-0022 `<offline/>` event the server sends
 * back when it stores a message, and XEP-0023 expiry honoured by the store; plus XEP-0203 delay stamps
 * on delivery. Pure: time is passed in (milliseconds since the epoch).
 *
 * @module
 */
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { NS_DELAY, NS_X_EVENT, NS_X_EXPIRE } from "./namespaces.js";

/**
 * The XEP-0022 offline notification for a message the server has just stored: when the message has an
 * `id` and requests the `<offline/>` event (a `jabber:x:event` with `<offline/>` and no `<id/>`), a
 * `<message from=recipient-bare to=sender><x xmlns='jabber:x:event'><offline/><id>…</id></x></message>`;
 * otherwise `undefined`.
 */
export function offlineEventNotification(m: XmlElement): XmlElement | undefined {
  const x = m.getChild("x", NS_X_EVENT);
  const id = m.attr("id");
  const from = m.attr("from");
  const to = m.attr("to");
  if (x === undefined || id === undefined || from === undefined || to === undefined) return undefined;
  if (x.getChild("offline", NS_X_EVENT) === undefined || x.getChild("id", NS_X_EVENT) !== undefined) return undefined;
  const slash = to.indexOf("/");
  const bare = slash < 0 ? to : to.slice(0, slash);
  return xml("message", { from: bare, to: from }, xml("x", { xmlns: NS_X_EVENT }, xml("offline"), xml("id", {}, id)));
}

function expireSeconds(x: XmlElement): number | undefined {
  const s = x.attr("seconds");
  if (s === undefined || !/^[0-9]{1,12}$/.test(s)) return undefined;
  return Number(s);
}

/**
 * The message as the offline store keeps it: a copy whose `jabber:x:expire` (if any, with valid `seconds`)
 * carries `stored` = `nowMs` in whole seconds since the epoch (XEP-0023 §4). Other messages are copied as is.
 */
export function stampOfflineStored(m: XmlElement, nowMs: number): XmlElement {
  const c = m.clone();
  const x = c.getChild("x", NS_X_EXPIRE);
  if (x !== undefined && expireSeconds(x) !== undefined) x.setAttr("stored", String(Math.floor(nowMs / 1000)));
  return c;
}

/** Whether a stored message has expired at `nowMs` (XEP-0023): stored + seconds ≤ now. */
export function isExpired(m: XmlElement, nowMs: number, storedAtMs?: number): boolean {
  const x = m.getChild("x", NS_X_EXPIRE);
  if (x === undefined) return false;
  const seconds = expireSeconds(x);
  if (seconds === undefined) return false;
  const storedAttr = x.attr("stored");
  const stored = storedAtMs !== undefined ? storedAtMs / 1000 : storedAttr !== undefined && /^[0-9]{1,12}$/.test(storedAttr) ? Number(storedAttr) : undefined;
  if (stored === undefined) return false;
  return stored + seconds <= nowMs / 1000;
}

/**
 * A stored message ready to deliver at `nowMs`, or `undefined` when it has expired (then it is dropped):
 * `seconds` of `jabber:x:expire` is rewritten to the time left (XEP-0023 §4), and a XEP-0203 `<delay/>`
 * stamped with the storage time (from `delayFrom`, usually the server's domain) is added.
 *
 * @param storedAtMs - when the store took the message (defaults to the `stored` attribute)
 */
export function offlineDelivery(m: XmlElement, nowMs: number, storedAtMs: number, delayFrom?: string): XmlElement | undefined {
  if (isExpired(m, nowMs, storedAtMs)) return undefined;
  const c = m.clone();
  const x = c.getChild("x", NS_X_EXPIRE);
  const seconds = x === undefined ? undefined : expireSeconds(x);
  if (x !== undefined && seconds !== undefined) {
    const left = Math.max(1, Math.ceil(seconds - (nowMs - storedAtMs) / 1000));
    x.setAttr("seconds", String(left));
  }
  if (c.getChild("delay", NS_DELAY) === undefined && Number.isFinite(storedAtMs)) {
    c.append(xml("delay", { xmlns: NS_DELAY, from: delayFrom, stamp: new Date(storedAtMs).toISOString().replace(/\.\d{3}Z$/, "Z") }));
  }
  return c;
}
