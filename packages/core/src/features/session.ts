/**
 * The legacy session request (RFC 3921 §3; kept by draft-cridland-xmpp-session as `<optional/>`) as a
 * stream feature of both roles: the server offers it as optional and answers requests (a no-op that
 * succeeds); the client performs it only when the server does not mark it optional.
 *
 * @module
 */
import { NS_CLIENT, type XmlElement } from "@xmpp-sansio/xml";
import { sharedHalf } from "../shared-options.js";
import { parseStanzaError } from "../stanza-errors.js";
import { definedOnly, el } from "../util.js";
import type { ClientFeature, ClientFeatureContext, ServerFeature, ServerFeatureContext, StreamFeature } from "./types.js";

/** `urn:ietf:params:xml:ns:xmpp-session` (RFC 3921 §3, kept by draft-cridland-xmpp-session as optional). */
export const NS_SESSION = "urn:ietf:params:xml:ns:xmpp-session";

/** What the legacy session is, without its halves. */
export const SESSION_DEFINITION: StreamFeature = {
  name: "session",
  namespaces: [],
  availability: { requires: { authenticated: true } },
  restarts: false,
  mandatory: false,
};

/** The legacy session feature; `offer: false` makes the server not advertise it (requests still succeed). */
export function sessionFeature(offer = true): StreamFeature {
  return { ...SESSION_DEFINITION, client: () => new SessionClient(), server: () => sessionServer(offer) };
}

const SESSION_SERVERS = new Map<boolean, ServerFeature>();

/** The server half is stateless: one instance per setting serves every session. */
export function sessionServer(offer: boolean): ServerFeature {
  let half = SESSION_SERVERS.get(offer);
  if (half === undefined) SESSION_SERVERS.set(offer, (half = sharedHalf(new SessionServer(offer))));
  return half;
}

/** The client half. */
export class SessionClient implements ClientFeature {
  private id: string | undefined;
  private finished = false;

  negotiate(features: XmlElement, ctx: ClientFeatureContext<unknown>): boolean {
    if (!ctx.flags.bound || this.finished || this.id !== undefined) return false;
    const session = features.getChild("session", NS_SESSION);
    if (session === undefined || session.getChild("optional", NS_SESSION) !== undefined) return false;
    this.id = ctx.randomId(9);
    ctx.write(el("iq", NS_CLIENT, { type: "set", id: this.id }, el("session", NS_SESSION)));
    return true;
  }

  handleElement(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    const type = e.attr("type");
    if (!(e.is("iq", NS_CLIENT) && (type === "result" || type === "error") && e.attr("id") === this.id)) {
      ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> during session`);
      return;
    }
    this.finished = true;
    if (type === "error") {
      const err = parseStanzaError(e);
      ctx.emit(definedOnly({ type: "bind-failed" as const, condition: err.condition, text: err.text }));
      ctx.close();
      return;
    }
    ctx.done();
  }
}

class SessionServer implements ServerFeature {
  constructor(private readonly advertise: boolean) {}

  offer(ctx: ServerFeatureContext<unknown>): XmlElement | undefined {
    return this.offered(ctx) ? el("session", NS_SESSION, null, el("optional", NS_SESSION)) : undefined;
  }

  offerKey(ctx: ServerFeatureContext<unknown>): string {
    return this.offered(ctx) ? "1" : "";
  }

  /** Whether this stream advertises the legacy session (when configured, until a resource is bound). */
  private offered(ctx: ServerFeatureContext<unknown>): boolean {
    return this.advertise && !ctx.flags.bound;
  }

  handleElement(e: XmlElement, ctx: ServerFeatureContext<unknown>): void {
    ctx.fatal("unsupported-stanza-type", `<${e.name} xmlns='${e.ns}'> is not supported`);
  }

  handleStanza(e: XmlElement, ctx: ServerFeatureContext<unknown>): boolean {
    if (!ctx.flags.bound || e.name !== "iq" || e.attr("type") !== "set" || e.getChild("session", NS_SESSION) === undefined) return false;
    // RFC 3921 §3 legacy session establishment: a no-op that succeeds.
    ctx.write(el("iq", NS_CLIENT, { type: "result", id: e.attr("id"), to: ctx.jid!.toString() }));
    return true;
  }
}
