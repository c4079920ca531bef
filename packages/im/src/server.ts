/**
 * The server side of RFC 6121 as pure decisions: a stanza in, a list of actions out.
 *
 * @module
 */
import { type Jid, JidError } from "@xmpp-sansio/jid";
import { XmlElement } from "@xmpp-sansio/xml";
import { NS_BLOCKING, NS_BLOCKING_ERRORS, NS_ROSTER } from "./namespaces.js";
import { Ctx, jidAttr, type Settings } from "./server-context.js";
import { iqToFull, messageNoSuchUser, messageToBare, messageToFull } from "./server-message.js";
import { presenceInbound, presenceNoSuchUser, presenceOutbound, sessionEnd } from "./server-presence.js";
import { blockingIq, rosterGet, rosterSet } from "./server-roster.js";
import type { ImAction, ImServerOptions, ImStoreView } from "./server-types.js";

function settings(o: ImServerOptions | undefined): Settings {
  let n = 0;
  return {
    offlineLimit: o?.offlineLimit ?? 100,
    preApproval: o?.preApproval ?? true,
    rosterVersioning: o?.rosterVersioning ?? true,
    maxRosterItems: o?.maxRosterItems ?? 1000,
    maxNameLength: o?.maxNameLength ?? 1023,
    maxGroups: o?.maxGroups ?? 100,
    maxDirected: o?.maxDirected ?? 1000,
    maxPendingIn: o?.maxPendingIn ?? 1000,
    bareMessageDelivery: o?.bareMessageDelivery ?? "highest",
    nextId: o?.nextId ?? (() => `push${++n}`),
  };
}

/**
 * RFC 6121 (and XEP-0191, XEP-0160) for the server, without IO. Three entry points, each returning the
 * actions to apply in order (ideally in one store transaction):
 *
 * - {@link handleOutbound}: a stanza from a local session (its `from` already stamped by the core);
 * - {@link handleInbound}: a stanza addressed to a local user — one a `route` action produced for a local
 *   domain, or one from a remote server;
 * - {@link handleSessionEnd}: a session went away.
 *
 * The caller reads the store through {@link ImStoreView}; `route` actions to local domains are fed back
 * to {@link handleInbound} after the mutations before them were applied. See `MemoryImStore` and
 * `processLocally` for a complete loop.
 */
export class ImServer {
  private readonly s: Settings;

  constructor(options?: ImServerOptions) {
    this.s = settings(options);
  }

  /** A stanza a local session sent, `sender` being its full JID (`from` is set to it if it is not already). */
  handleOutbound(stanza: XmlElement, sender: Jid, view: ImStoreView): ImAction[] {
    const ctx = new Ctx(view, this.s);
    if (stanza.attr("from") !== sender.toString()) {
      // RFC 6120 §8.1.2.1: the server stamps the full JID of the session (the core normally has already).
      stanza = stanza.clone();
      stanza.setAttr("from", sender.toString());
    }
    const to = jidAttr(stanza, "to");
    if (to instanceof JidError) {
      ctx.replyError(stanza, sender, "jid-malformed", { text: "the 'to' address is not a valid JID" });
      return ctx.actions;
    }
    const user = sender.bare.toString();
    if (stanza.name === "presence") presenceOutbound(ctx, stanza, sender, to);
    else if (stanza.name === "iq") this.iqOutbound(ctx, stanza, sender, to, user);
    else if (stanza.name === "message") {
      if (to !== undefined && to.local !== "" && ctx.blocked(user, to)) {
        if (stanza.attr("type") !== "error") blockedReply(ctx, stanza, sender);
        return ctx.actions;
      }
      if (to === undefined) {
        // RFC 6120 §10.3.1: no 'to' means the user's own bare JID.
        const c = stanza.clone();
        c.setAttr("to", user);
        ctx.route(c);
      } else ctx.route(stanza);
    } else ctx.actions.push({ kind: "unhandled", stanza });
    return ctx.actions;
  }

  private iqOutbound(ctx: Ctx, iq: XmlElement, sender: Jid, to: Jid | undefined, user: string): void {
    const own = to === undefined || to.toString() === user;
    const payload = iq.firstElement();
    const type = iq.attr("type");
    if (payload?.ns === NS_ROSTER && payload.name === "query" && (type === "get" || type === "set")) {
      if (!own) {
        ctx.replyError(iq, sender, "forbidden", { text: "a roster belongs to its own account" });
        return;
      }
      if (type === "get") rosterGet(ctx, iq, payload, sender);
      else rosterSet(ctx, iq, payload, sender);
      return;
    }
    if (own && payload?.ns === NS_BLOCKING && blockingIq(ctx, iq, sender)) return;
    if (own || (to.local === "" && ctx.view.isLocalDomain(to.domain))) {
      ctx.actions.push({ kind: "unhandled", stanza: iq });
      return;
    }
    if (ctx.blocked(user, to) && (type === "get" || type === "set")) {
      blockedReply(ctx, iq, sender);
      return;
    }
    ctx.route(iq);
  }

  /** A stanza addressed to a local user (`to` a local domain, with a localpart; `from` present). */
  handleInbound(stanza: XmlElement, view: ImStoreView): ImAction[] {
    const ctx = new Ctx(view, this.s);
    const from = jidAttr(stanza, "from");
    const to = jidAttr(stanza, "to");
    if (from === undefined || from instanceof JidError || to === undefined || to instanceof JidError || to.local === "") {
      ctx.actions.push({ kind: "unhandled", stanza });
      return ctx.actions;
    }
    const user = to.bare.toString();
    const type = stanza.attr("type");
    if (!view.userExists(user)) {
      if (stanza.name === "message") messageNoSuchUser(ctx, stanza);
      else if (stanza.name === "presence") presenceNoSuchUser(ctx, stanza, from, to);
      else if (stanza.name === "iq" && (type === "get" || type === "set")) ctx.bounce(stanza, "service-unavailable", { text: "no such user" });
      return ctx.actions;
    }
    if (stanza.name === "presence") {
      presenceInbound(ctx, stanza, from, to);
      return ctx.actions;
    }
    // XEP-0191 §3.5: stanzas from a blocked entity are not delivered; messages and requests get an error.
    if (from.bare.toString() !== user && ctx.blocked(user, from)) {
      if ((stanza.name === "message" && type !== "error" && type !== "groupchat") || (stanza.name === "iq" && (type === "get" || type === "set"))) {
        ctx.bounce(stanza, "service-unavailable");
      }
      return ctx.actions;
    }
    if (stanza.name === "message") {
      if (to.resource === "") messageToBare(ctx, stanza, user);
      else messageToFull(ctx, stanza, to);
    } else if (stanza.name === "iq") {
      if (to.resource !== "") iqToFull(ctx, stanza, to);
      else if (stanza.firstElement()?.ns === NS_ROSTER && (type === "get" || type === "set")) {
        ctx.bounce(stanza, "forbidden", { text: "a roster belongs to its own account" });
      } else ctx.actions.push({ kind: "unhandled", stanza });
    } else ctx.actions.push({ kind: "unhandled", stanza });
    return ctx.actions;
  }

  /** A session ended (`full` its JID): unavailable presence if it had not sent it (§4.5.2, §4.6.3). */
  handleSessionEnd(full: Jid, view: ImStoreView): ImAction[] {
    const ctx = new Ctx(view, this.s);
    sessionEnd(ctx, full);
    return ctx.actions;
  }
}

function blockedReply(ctx: Ctx, stanza: XmlElement, sender: Jid): void {
  ctx.replyError(stanza, sender, "not-acceptable", {
    text: "you have blocked this entity",
    applicationCondition: new XmlElement("blocked", NS_BLOCKING_ERRORS),
  });
}
