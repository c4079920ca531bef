/**
 * Message and IQ delivery to local users (RFC 6121 §8.5) and offline storage (XEP-0160).
 *
 * @internal
 * @module
 */
import type { Jid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import { offlineEventNotification } from "./offline.js";
import { type Ctx, sessionJid } from "./server-context.js";
import type { SessionState } from "./server-types.js";

/** The message types of RFC 6121 §5.2.2; anything else is handled as `normal`. */
export type MessageType = "normal" | "chat" | "groupchat" | "headline" | "error";

/** The type of a message, unknown values read as `normal` (RFC 6121 §5.2.2). */
export function messageType(m: XmlElement): MessageType {
  const t = m.attr("type");
  return t === "chat" || t === "groupchat" || t === "headline" || t === "error" ? t : "normal";
}

function nonNegative(ctx: Ctx, user: string): SessionState[] {
  return ctx.available(user).filter((x) => x.priority >= 0);
}

/** §8.5.2: a message to a local user's bare JID. */
export function messageToBare(ctx: Ctx, m: XmlElement, user: string): void {
  const type = messageType(m);
  if (type === "error") return;
  if (type === "groupchat") {
    ctx.bounce(m, "service-unavailable", { text: "no groupchat to a user's bare JID" });
    return;
  }
  const targets = nonNegative(ctx, user);
  if (targets.length > 0) {
    let chosen = targets;
    if (type !== "headline" && ctx.s.bareMessageDelivery === "highest") {
      const top = Math.max(...targets.map((x) => x.priority));
      chosen = targets.filter((x) => x.priority === top);
    }
    for (const sess of chosen) {
      const to = sessionJid(user, sess);
      if (to !== undefined) ctx.deliver(to, m.clone());
    }
    return;
  }
  if (type === "headline") return;
  storeOffline(ctx, m, user);
}

function storeOffline(ctx: Ctx, m: XmlElement, user: string): void {
  if (ctx.s.offlineLimit <= 0) {
    ctx.bounce(m, "service-unavailable", { text: "the recipient is offline" });
    return;
  }
  if (ctx.view.offlineCount(user) >= ctx.s.offlineLimit) {
    ctx.bounce(m, "service-unavailable", { text: "the recipient's offline storage is full" });
    return;
  }
  ctx.actions.push({ kind: "offline-store", user, stanza: m });
  const note = offlineEventNotification(m);
  if (note !== undefined) ctx.route(note);
}

/** §8.5.3: a message to a local user's full JID. */
export function messageToFull(ctx: Ctx, m: XmlElement, to: Jid): void {
  const user = to.bare.toString();
  if (ctx.sessions(user).some((x) => x.resource === to.resource)) {
    ctx.deliver(to, m);
    return;
  }
  // §8.5.3.2.1: chat is treated as addressed to the bare JID; normal and groupchat get an error; headline and
  // error are dropped.
  const type = messageType(m);
  if (type === "chat") messageToBare(ctx, m, user);
  else if (type === "normal" || type === "groupchat") ctx.bounce(m, "service-unavailable", { text: "no such resource" });
}

/** §8.5.1: a message to a local account that does not exist. */
export function messageNoSuchUser(ctx: Ctx, m: XmlElement): void {
  const type = messageType(m);
  if (type !== "error" && type !== "headline") ctx.bounce(m, "service-unavailable", { text: "no such user" });
}

/** §8.5.3.1/§8.5.3.2.3: an IQ to a local user's full JID. */
export function iqToFull(ctx: Ctx, iq: XmlElement, to: Jid): void {
  const user = to.bare.toString();
  if (ctx.sessions(user).some((x) => x.resource === to.resource)) {
    ctx.deliver(to, iq);
    return;
  }
  const type = iq.attr("type");
  if (type === "get" || type === "set") ctx.bounce(iq, "service-unavailable", { text: "no such resource" });
}
