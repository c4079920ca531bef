/**
 * XEP-0078 Non-SASL Authentication, the server half (obsolete; off unless loaded). Offers the feature,
 * answers the field request, and asks the application to verify a login; success authenticates and binds
 * the resource in one step (no stream restart), and the session is online.
 *
 * @module
 */
import { jid as makeJid, prepareLocal, prepareResource } from "@xmpp-sansio/jid";
import { NS_CLIENT, type XmlElement } from "@xmpp-sansio/xml";
import { SessionStateError } from "../../session-base.js";
import type { ClientEvent, ServerEvent } from "../../session-types.js";
import { el, iqProblem } from "../../util.js";
import type { FeatureEvent, ServerFeature, ServerFeatureContext, StreamFeature } from "../types.js";
import { IQ_AUTH_DEFINITION, IQ_AUTH_FEATURE_NAME, type IqAuthAnswer, type IqAuthRequest, NS_IQ_AUTH, NS_IQ_AUTH_FEATURE } from "./common.js";

/** Options of the server half. */
export interface IqAuthServerOptions {
  /**
   * Offer and accept the digest (default `true`). Verifying it needs the plaintext password: a server
   * that stores only SCRAM keys sets `false` (then only the plaintext password, over TLS, is offered).
   */
  readonly digest?: boolean;
  /**
   * Offer the feature without TLS (default `false`), with the digest only: a plaintext password is never
   * accepted in the clear. For a session whose TLS policy is `none`.
   */
  readonly allowInClear?: boolean;
  /** Failed logins per stream before it ends with `<policy-violation/>` (default 3, as SASL's). */
  readonly maxAttempts?: number;
}

const HEX40 = /^[0-9a-fA-F]{40}$/;

/** The server half. Find it with `iqAuthServer(session)`; answer `iq-auth-request` with {@link IqAuthServer.answer}. */
export class IqAuthServer implements ServerFeature<ServerEvent> {
  private pendingIq: XmlElement | undefined;
  private pendingLogin: { username: string; resource: string } | undefined;
  private ctx: ServerFeatureContext<ServerEvent> | undefined;
  private failures = 0;

  constructor(private readonly o: IqAuthServerOptions = {}) {}

  /** Whether an `iq-auth-request` waits for {@link IqAuthServer.answer}. */
  get pending(): boolean {
    return this.pendingIq !== undefined;
  }

  private usable(ctx: ServerFeatureContext<ServerEvent>): boolean {
    return ctx.flags.secure || (this.o.allowInClear === true && this.o.digest !== false);
  }

  offer(ctx: ServerFeatureContext<ServerEvent>): XmlElement | undefined {
    return this.usable(ctx) ? el("auth", NS_IQ_AUTH_FEATURE) : undefined;
  }

  offerKey(ctx: ServerFeatureContext<ServerEvent>): string {
    return this.usable(ctx) ? "1" : "";
  }

  handleElement(e: XmlElement, ctx: ServerFeatureContext<ServerEvent>): void {
    ctx.fatal("unsupported-stanza-type", `<${e.name} xmlns='${e.ns}'> is not supported`);
  }

  handleStanza(e: XmlElement, ctx: ServerFeatureContext<ServerEvent>): boolean {
    const type = e.attr("type");
    // After authentication (by SASL or by us) jabber:iq:auth is not ours: the application answers it.
    if (ctx.flags.authenticated || e.name !== "iq" || e.ns !== NS_CLIENT || (type !== "get" && type !== "set")) return false;
    const query = e.getChild("query", NS_IQ_AUTH);
    if (query === undefined) return false;
    this.ctx = ctx;
    const problem = iqProblem(e);
    if (problem !== undefined) {
      ctx.replyError(e, "bad-request", problem);
      return true;
    }
    if (!this.usable(ctx)) {
      ctx.replyError(e, "not-allowed", "jabber:iq:auth requires TLS: negotiate STARTTLS first");
      return true;
    }
    if (type === "get") this.fields(e, query, ctx);
    else this.login(e, query, ctx);
    return true;
  }

  /** XEP-0078 §3.1: the fields a login needs (the seed's `<sequence/>`/`<token/>` zero-knowledge variant is long gone). */
  private fields(e: XmlElement, query: XmlElement, ctx: ServerFeatureContext<ServerEvent>): void {
    const result = el("query", NS_IQ_AUTH, null, el("username", NS_IQ_AUTH, null, query.getChildText("username") ?? ""));
    if (ctx.flags.secure) result.append(el("password", NS_IQ_AUTH));
    if (this.o.digest !== false) result.append(el("digest", NS_IQ_AUTH));
    result.append(el("resource", NS_IQ_AUTH));
    ctx.write(el("iq", NS_CLIENT, { type: "result", id: e.attr("id") }, result));
  }

  private login(e: XmlElement, query: XmlElement, ctx: ServerFeatureContext<ServerEvent>): void {
    const username = query.getChildText("username") ?? "";
    const resource = query.getChildText("resource") ?? "";
    const password = query.getChildText("password");
    const digest = query.getChildText("digest");
    if (username === "" || resource === "" || ((password ?? "") === "" && (digest ?? "") === "")) {
      // XEP-0078 §3.3: <not-acceptable/> (406) when required information is missing.
      ctx.replyError(e, "not-acceptable", "username, resource and a password or digest are required");
      return;
    }
    let local: string;
    let res: string;
    try {
      local = prepareLocal(username);
    } catch {
      this.refuse(e, ctx, "not-authorized", "unknown user or wrong credentials");
      return;
    }
    try {
      res = prepareResource(resource);
    } catch (err) {
      ctx.replyError(e, "not-acceptable", `the resource is not valid: ${(err as Error).message}`);
      return;
    }
    let request: IqAuthRequest;
    if (digest !== undefined && digest !== "" && this.o.digest !== false) {
      if (!HEX40.test(digest)) {
        this.refuse(e, ctx, "not-authorized", "the digest must be 40 hexadecimal digits (XEP-0078 §3.2)");
        return;
      }
      request = { username: local, resource: res, digest: digest.toLowerCase(), streamId: ctx.streamId ?? "" };
    } else if (password !== undefined && password !== "") {
      if (!ctx.flags.secure) {
        ctx.replyError(e, "not-allowed", "a plaintext password is only accepted over TLS (XEP-0078 §7)");
        return;
      }
      request = { username: local, resource: res, password };
    } else {
      ctx.replyError(e, "not-acceptable", "the digest is not offered on this server: send the password over TLS");
      return;
    }
    this.pendingIq = e;
    this.pendingLogin = { username: local, resource: res };
    ctx.pause();
    ctx.emit({ type: "feature", feature: IQ_AUTH_FEATURE_NAME, name: "iq-auth-request", data: request } satisfies FeatureEvent);
  }

  /** A failed login: the error, and after `maxAttempts` of them the end of the stream. */
  private refuse(e: XmlElement, ctx: ServerFeatureContext<ServerEvent>, condition: Exclude<IqAuthAnswer, { accept: true }>["refuse"], text?: string): void {
    ctx.replyError(e, condition, text);
    if (condition !== "not-authorized") return;
    this.failures++;
    if (this.failures >= (this.o.maxAttempts ?? 3)) ctx.fatal("policy-violation", "too many failed login attempts");
  }

  /**
   * Answers `iq-auth-request`: `{ accept: true }` → `<iq type='result'/>`, the account is authenticated
   * and the requested resource bound (the session goes online); `{ refuse }` → the stanza error. Ignored
   * once the session ended. @throws SessionStateError without a pending question.
   */
  answer(answer: IqAuthAnswer): void {
    const ctx = this.ctx;
    const iq = this.pendingIq;
    const login = this.pendingLogin;
    if (ctx === undefined || iq === undefined || login === undefined) throw new SessionStateError("answer() without a pending iq-auth-request");
    this.pendingIq = undefined;
    this.pendingLogin = undefined;
    if (ctx.ended) return;
    if ("refuse" in answer) {
      this.refuse(iq, ctx, answer.refuse, answer.text);
      ctx.resume();
      return;
    }
    ctx.write(el("iq", NS_CLIENT, { type: "result", id: iq.attr("id") }));
    ctx.setAuthenticated({ mechanism: "jabber:iq:auth", username: login.username });
    ctx.setBound(makeJid(login.username, ctx.domain, login.resource));
    ctx.resume();
  }
}

/**
 * XEP-0078 (obsolete) with the server half only: what a server loads (`features: [iqAuthServerFeature({ digest: true })]`).
 * Imports no client code (`iqAuthFeature` loads both roles).
 */
export function iqAuthServerFeature(options: IqAuthServerOptions): StreamFeature<ClientEvent, ServerEvent> {
  return { ...IQ_AUTH_DEFINITION, server: () => new IqAuthServer(options) };
}
