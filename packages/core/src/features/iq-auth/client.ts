/**
 * XEP-0078 Non-SASL Authentication, the client half (obsolete; off unless loaded). Used only when the
 * server offers no SASL mechanism: asks for the fields, logs in with the digest when the server offers
 * it (and sent a stream id), else with the plaintext password over TLS only; success binds the resource
 * in the same step.
 *
 * @module
 */
import { jid as makeJid } from "@xmpp-sansio/jid";
import { NS_CLIENT, type XmlElement } from "@xmpp-sansio/xml";
import { NS_SASL } from "../sasl.js";
import { parseStanzaError } from "../../stanza-errors.js";
import type { ClientEvent, ServerEvent } from "../../session-types.js";
import { definedOnly, el } from "../../util.js";
import type { ClientFeature, ClientFeatureContext, StreamFeature } from "../types.js";
import { IQ_AUTH_DEFINITION, iqAuthDigest, NS_IQ_AUTH } from "./common.js";

/** Options of the client half. */
export interface IqAuthClientOptions {
  /** The account's password. */
  readonly password: string;
  /** The resource to bind (default: a random one). */
  readonly resource?: string;
}

type Phase = "idle" | "fields" | "login" | "over";

/** The client half: logs in once, when SASL is not offered. */
export class IqAuthClient implements ClientFeature<ClientEvent> {
  private phase: Phase = "idle";
  private id = "";
  private resource = "";

  constructor(private readonly o: IqAuthClientOptions) {}

  negotiate(features: XmlElement, ctx: ClientFeatureContext<ClientEvent>): boolean {
    // SASL first (XEP-0078 §1: a client MUST prefer SASL when the server offers it).
    if (this.phase !== "idle" || (features.getChild("mechanisms", NS_SASL)?.getChildren("mechanism").length ?? 0) > 0) return false;
    this.phase = "fields";
    this.id = ctx.randomId(9);
    ctx.write(el("iq", NS_CLIENT, { type: "get", id: this.id }, el("query", NS_IQ_AUTH, null, el("username", NS_IQ_AUTH, null, ctx.account.local))));
    return true;
  }

  handleElement(e: XmlElement, ctx: ClientFeatureContext<ClientEvent>): void {
    const type = e.attr("type");
    if (!(e.is("iq", NS_CLIENT) && (type === "result" || type === "error") && e.attr("id") === this.id)) {
      ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> during jabber:iq:auth`);
      return;
    }
    if (type === "error") {
      const err = parseStanzaError(e);
      this.fail(ctx, err.condition, err.text);
      return;
    }
    if (this.phase === "fields") {
      const fields = e.getChild("query", NS_IQ_AUTH);
      const query = el("query", NS_IQ_AUTH, null, el("username", NS_IQ_AUTH, null, ctx.account.local));
      this.resource = this.o.resource ?? ctx.randomId(9);
      query.append(el("resource", NS_IQ_AUTH, null, this.resource));
      if (fields?.getChild("digest") !== undefined && ctx.streamId !== undefined && ctx.streamId !== "") {
        query.append(el("digest", NS_IQ_AUTH, null, iqAuthDigest(ctx.streamId, this.o.password)));
      } else if (fields?.getChild("password") !== undefined && ctx.flags.secure) {
        query.append(el("password", NS_IQ_AUTH, null, this.o.password));
      } else {
        this.fail(ctx, "encryption-required", "the server offers neither a digest nor TLS for the password");
        return;
      }
      this.phase = "login";
      this.id = ctx.randomId(9);
      ctx.write(el("iq", NS_CLIENT, { type: "set", id: this.id }, query));
      return;
    }
    this.phase = "over";
    ctx.setAuthenticated({ mechanism: "jabber:iq:auth" });
    // XEP-0078 §3.2: the login bound the resource we asked for.
    ctx.setBound(makeJid(ctx.account.local, ctx.account.domain, this.resource));
    ctx.done();
  }

  private fail(ctx: ClientFeatureContext<ClientEvent>, condition: string, text: string | undefined): void {
    this.phase = "over";
    ctx.emit({ type: "auth-failed", condition, canRetry: false, ...definedOnly({ text }) });
    ctx.close();
  }
}

/**
 * XEP-0078 (obsolete) with the client half only: what a client loads (`features: [iqAuthClientFeature(...)]`).
 * Imports no server code, so a client bundle does not carry it (`iqAuthFeature` loads both roles).
 */
export function iqAuthClientFeature(options: IqAuthClientOptions): StreamFeature<ClientEvent, ServerEvent> {
  return { ...IQ_AUTH_DEFINITION, client: () => new IqAuthClient(options) };
}
