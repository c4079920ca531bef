/**
 * XEP-0077 In-Band Registration, the client half: before authentication, asks the server for the
 * registration fields (`get`), registers (`set` with username and password), and reports `registered`
 * or `registration-failed`; the session then goes on with SASL (the seed's use case 1 → 2).
 *
 * @module
 */
import { NS_CLIENT, type XmlElement } from "@xmpp-sansio/xml";
import { parseStanzaError } from "../../stanza-errors.js";
import type { ClientEvent } from "../../session-types.js";
import { definedOnly, el } from "../../util.js";
import type { ClientFeature, ClientFeatureContext, FeatureEvent } from "../types.js";
import { NS_REGISTER, NS_REGISTER_FEATURE, REGISTER_FEATURE_NAME } from "./common.js";

/** Options of the client half: the account to create. */
export interface RegisterClientOptions {
  /** The localpart to register (default: the session's account). */
  readonly username?: string;
  /** The password of the new account (give the session the same one to log in afterwards). */
  readonly password: string;
  /** Send the password without TLS (default `false`: only when the transport is secured otherwise). */
  readonly allowInClear?: boolean;
}

type Phase = "idle" | "fields" | "submit" | "over";

/** The client half: registers once, when the server offers `<register xmlns='http://jabber.org/features/iq-register'/>`. */
export class RegisterClient implements ClientFeature<ClientEvent> {
  private phase: Phase = "idle";
  private id = "";

  constructor(private readonly o: RegisterClientOptions) {}

  negotiate(features: XmlElement, ctx: ClientFeatureContext<ClientEvent>): boolean {
    if (this.phase !== "idle") return false;
    if (features.getChild("register", NS_REGISTER_FEATURE) === undefined) {
      this.fail(ctx, "service-unavailable", "the server does not offer in-band registration (XEP-0077 §8)");
      return true;
    }
    if (!ctx.flags.secure && this.o.allowInClear !== true) {
      this.fail(ctx, "not-allowed", "registration would send the password without TLS");
      return true;
    }
    this.phase = "fields";
    this.id = ctx.randomId(9);
    // XEP-0077 §3.1: ask for the fields first; an entity SHOULD NOT guess them.
    ctx.write(el("iq", NS_CLIENT, { type: "get", id: this.id }, el("query", NS_REGISTER)));
    return true;
  }

  handleElement(e: XmlElement, ctx: ClientFeatureContext<ClientEvent>): void {
    const type = e.attr("type");
    if (!(e.is("iq", NS_CLIENT) && (type === "result" || type === "error") && e.attr("id") === this.id)) {
      ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> during registration`);
      return;
    }
    if (type === "error") {
      const err = parseStanzaError(e);
      this.fail(ctx, err.condition, err.text);
      return;
    }
    if (this.phase === "fields") {
      const query = e.getChild("query", NS_REGISTER);
      if (query === undefined || query.getChild("username") === undefined || query.getChild("password") === undefined) {
        // A form we cannot fill: data forms (XEP-0004) or other required fields, or registration elsewhere (§5).
        const instructions = query?.getChildText("instructions");
        this.fail(ctx, "not-acceptable", `the server asks for fields this client cannot fill${instructions ? `: ${instructions}` : ""}`);
        return;
      }
      this.phase = "submit";
      this.id = ctx.randomId(9);
      const username = this.o.username ?? ctx.account.local;
      ctx.write(
        el(
          "iq",
          NS_CLIENT,
          { type: "set", id: this.id },
          el("query", NS_REGISTER, null, el("username", NS_REGISTER, null, username), el("password", NS_REGISTER, null, this.o.password)),
        ),
      );
      return;
    }
    this.phase = "over";
    ctx.emit({ type: "feature", feature: REGISTER_FEATURE_NAME, name: "registered", data: { username: this.o.username ?? ctx.account.local } } satisfies FeatureEvent);
    ctx.done(); // SASL comes next, on the same stream
  }

  private fail(ctx: ClientFeatureContext<ClientEvent>, condition: string, text: string | undefined): void {
    this.phase = "over";
    ctx.emit({ type: "feature", feature: REGISTER_FEATURE_NAME, name: "registration-failed", data: definedOnly({ condition, text }) } satisfies FeatureEvent);
    ctx.close();
  }
}
