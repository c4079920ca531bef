/**
 * Resource binding (RFC 6120 §7) as a stream feature of both roles. The server never picks a resource
 * on its own authority beyond generating one: it asks the application (`bind-request`), which applies
 * its conflict policy (§7.7.2.2, `resolveResourceConflict`).
 *
 * @module
 */
import { type Jid, jid as makeJid, parseJid, prepareResource } from "@xmpp-sansio/jid";
import { NS_CLIENT, type XmlElement } from "@xmpp-sansio/xml";
import type { BindAnswer } from "../session-types.js";
import { parseStanzaError } from "../stanza-errors.js";
import { definedOnly, el, iqProblem, trimmedText } from "../util.js";
import type { ClientFeature, ClientFeatureContext, ServerFeature, ServerFeatureContext, StreamFeature } from "./types.js";

/** `urn:ietf:params:xml:ns:xmpp-bind` (RFC 6120 §7). */
export const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";

/** What resource binding is, without its halves. Binding travels in IQ stanzas: it owns no nonza namespace. */
export const BIND_DEFINITION: StreamFeature = {
  name: "bind",
  namespaces: [],
  availability: { requires: { authenticated: true }, until: "bound" },
  restarts: false,
  mandatory: true,
};

/** Resource binding. The client asks for `requestedResource` (empty: let the server choose). */
export function bindFeature(requestedResource = ""): StreamFeature {
  return { ...BIND_DEFINITION, client: () => new BindClient(requestedResource), server: () => new BindServer() };
}

function isBindSet(e: XmlElement): XmlElement | undefined {
  return e.name === "iq" && e.ns === NS_CLIENT && e.attr("type") === "set" ? e.getChild("bind", NS_BIND) : undefined;
}

/** The client half. */
export class BindClient implements ClientFeature {
  private id = "";
  private retried = false;

  constructor(private readonly requested: string) {}

  negotiate(features: XmlElement, ctx: ClientFeatureContext<unknown>): boolean {
    if (features.getChild("bind", NS_BIND) === undefined) {
      ctx.fatal("undefined-condition", "the server did not offer resource binding (RFC 6120 §7.3.1)");
      return true;
    }
    this.send(this.requested, ctx);
    return true;
  }

  private send(resource: string, ctx: ClientFeatureContext<unknown>): void {
    this.id = ctx.randomId(9);
    const bind = el("bind", NS_BIND);
    if (resource !== "") bind.append(el("resource", NS_BIND, null, resource));
    ctx.write(el("iq", NS_CLIENT, { type: "set", id: this.id }, bind));
  }

  handleElement(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    const type = e.attr("type");
    if (!(e.is("iq", NS_CLIENT) && (type === "result" || type === "error") && e.attr("id") === this.id)) {
      ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> during bind`);
      return;
    }
    if (type === "error") {
      const err = parseStanzaError(e);
      if (err.condition === "conflict" && this.requested !== "" && !this.retried) {
        // RFC 6120 §7.7.2.2: our resource is taken; ask the server to generate one instead.
        this.retried = true;
        this.send("", ctx);
        return;
      }
      ctx.emit(definedOnly({ type: "bind-failed" as const, condition: err.condition, text: err.text }));
      ctx.close();
      return;
    }
    let bound: Jid;
    try {
      bound = parseJid(trimmedText(e.getChild("bind", NS_BIND)?.getChild("jid", NS_BIND)));
    } catch {
      ctx.fatal("undefined-condition", "the server returned an invalid JID from resource binding");
      return;
    }
    // §7.6.1: trust the server's JID — but it must be a full JID of our account.
    if (bound.resource === "" || !bound.bare.equals(ctx.account)) {
      ctx.fatal("undefined-condition", `the server bound a JID of another account: ${bound.toString()}`);
      return;
    }
    ctx.setBound(bound);
    ctx.done();
  }
}

/** The server half; `ServerSession.answerBind` reaches it. */
export class BindServer implements ServerFeature {
  private iq: XmlElement | undefined;

  offer(): XmlElement {
    return el("bind", NS_BIND);
  }

  offerKey(): string {
    return "";
  }

  /** Whether a `bind-request` question is pending. */
  get pending(): boolean {
    return this.iq !== undefined;
  }

  handleElement(e: XmlElement, ctx: ServerFeatureContext<unknown>): void {
    ctx.fatal("unsupported-stanza-type", `<${e.name} xmlns='${e.ns}'> is not supported`);
  }

  handleStanza(e: XmlElement, ctx: ServerFeatureContext<unknown>): boolean {
    const bind = isBindSet(e);
    if (bind === undefined) return false;
    if (ctx.flags.bound) {
      ctx.replyError(e, "not-allowed", "a resource is already bound to this stream");
      return true;
    }
    const problem = iqProblem(e);
    if (problem !== undefined) {
      ctx.replyError(e, "bad-request", problem);
      return true;
    }
    // RFC 6120 §7.4 and its schema (Appendix A.7): <bind/> holds at most one <resource/> (a server's
    // <jid/> never comes from the client), nothing else.
    const children = bind.elements();
    if (children.length > 1 || (children.length === 1 && !children[0]!.is("resource", NS_BIND))) {
      ctx.replyError(e, "bad-request", "<bind/> may hold one <resource/> and nothing else (RFC 6120 §7.4)");
      return true;
    }
    const requested = children[0];
    let resource: string;
    let generated = false;
    if (requested === undefined || requested.text() === "") {
      resource = ctx.randomId(12);
      generated = true;
    } else {
      try {
        // §7.7.2.1: the resourcepart must conform to OpaqueString (RFC 7622 §3.4), at most 1023 bytes.
        resource = prepareResource(requested.text());
      } catch (err) {
        ctx.replyError(e, "bad-request", err instanceof Error ? err.message : undefined);
        return true;
      }
    }
    this.iq = e;
    ctx.pause();
    ctx.emit({ type: "bind-request", username: ctx.username!, resource, generated });
    return true;
  }

  /** Answers `bind-request`: bind a resource (possibly another than requested) or refuse. */
  answer(answer: BindAnswer, ctx: ServerFeatureContext<unknown>): void {
    const iq = this.iq!;
    this.iq = undefined;
    if ("accept" in answer) {
      const full = makeJid(ctx.username!, ctx.domain, answer.accept);
      ctx.write(el("iq", NS_CLIENT, { type: "result", id: iq.attr("id") }, el("bind", NS_BIND, null, el("jid", NS_BIND, null, full.toString()))));
      ctx.setBound(full);
    } else {
      ctx.replyError(iq, answer.refuse, answer.text);
    }
    ctx.resume();
  }
}
