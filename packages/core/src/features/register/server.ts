/**
 * XEP-0077 In-Band Registration, the server half: the stream feature before authentication, the
 * registration fields, and the three requests (register before authentication; password change and
 * account removal after it), each a question to the application.
 *
 * @module
 */
import { prepareLocal } from "@xmpp-sansio/jid";
import { preparePassword } from "@xmpp-sansio/sasl";
import { NS_CLIENT, type XmlElement } from "@xmpp-sansio/xml";
import { SessionStateError } from "../../session-base.js";
import type { ServerEvent } from "../../session-types.js";
import { el, iqProblem } from "../../util.js";
import type { FeatureEvent, ServerFeature, ServerFeatureContext } from "../types.js";
import { NS_REGISTER, NS_REGISTER_FEATURE, REGISTER_FEATURE_NAME, type RegisterAnswer, type RegisterRequest } from "./common.js";

/** Options of the server half. */
export interface RegisterServerOptions {
  /**
   * Whether new accounts may be created in-band (default `true`). With `false` the feature is not
   * offered and registration requests get `<service-unavailable/>` (XEP-0077 §3.1), while password
   * changes and removals after login still work.
   */
  readonly registration?: boolean;
  /** Whether an online user may change the password in-band (default `true`; else `<not-allowed/>`). */
  readonly passwordChange?: boolean;
  /** Whether an online user may remove the account in-band (default `true`; else `<not-allowed/>`). */
  readonly removal?: boolean;
  /**
   * Allow registration and password changes without TLS (default `false`). Set it only when the
   * session's TLS policy is `none` (a loopback test server, a transport secured otherwise).
   */
  readonly allowInClear?: boolean;
  /** Text of `<instructions/>` in the registration form. */
  readonly instructions?: string;
  /** Registration attempts (`set` requests) per stream before it ends with `<policy-violation/>`. Default 3. */
  readonly maxAttempts?: number;
  /** Longest accepted password in UTF-8 bytes (default 1024; longer: `<not-acceptable/>`). */
  readonly maxPasswordBytes?: number;
}

const ENCODER = new TextEncoder();
const DEFAULT_INSTRUCTIONS = "Choose a username and password for use with this server.";

/** The server half. Find it with `registerServer(session)`; answer `register-request` with {@link RegisterServer.answer}. */
export class RegisterServer implements ServerFeature<ServerEvent> {
  private pendingIq: XmlElement | undefined;
  private pendingAction: RegisterRequest["action"] | undefined;
  private ctx: ServerFeatureContext<ServerEvent> | undefined;
  private attempts = 0;

  constructor(private readonly o: RegisterServerOptions = {}) {}

  /** Whether a `register-request` waits for {@link RegisterServer.answer}. */
  get pending(): boolean {
    return this.pendingIq !== undefined;
  }

  private get clearOk(): boolean {
    return this.o.allowInClear === true;
  }

  offer(ctx: ServerFeatureContext<ServerEvent>): XmlElement | undefined {
    return this.offered(ctx) ? el("register", NS_REGISTER_FEATURE) : undefined;
  }

  offerKey(ctx: ServerFeatureContext<ServerEvent>): string {
    return this.offered(ctx) ? "1" : "";
  }

  /** Whether this stream advertises registration (on, and over TLS unless allowed in the clear). */
  private offered(ctx: ServerFeatureContext<ServerEvent>): boolean {
    return this.o.registration !== false && (ctx.flags.secure || this.clearOk);
  }

  handleElement(e: XmlElement, ctx: ServerFeatureContext<ServerEvent>): void {
    ctx.fatal("unsupported-stanza-type", `<${e.name} xmlns='${e.ns}'> is not supported`);
  }

  handleStanza(e: XmlElement, ctx: ServerFeatureContext<ServerEvent>): boolean {
    const type = e.attr("type");
    if (e.name !== "iq" || e.ns !== NS_CLIENT || (type !== "get" && type !== "set")) return false;
    const query = e.getChild("query", NS_REGISTER);
    if (query === undefined) return false;
    // Online, only requests to our server are ours (a MUC service or gateway has its own registration).
    const to = e.attr("to");
    if (to !== undefined && to !== ctx.domain) return false;
    this.ctx = ctx;
    const problem = iqProblem(e);
    if (problem !== undefined) {
      ctx.replyError(e, "bad-request", problem);
      return true;
    }
    if (ctx.flags.authenticated) this.online(e, type, query, ctx);
    else this.beforeAuth(e, type, query, ctx);
    return true;
  }

  private beforeAuth(e: XmlElement, type: "get" | "set", query: XmlElement, ctx: ServerFeatureContext<ServerEvent>): void {
    if (this.o.registration === false) {
      // XEP-0077 §3.1: a host that does not support in-band registration answers <service-unavailable/>.
      ctx.replyError(e, "service-unavailable", "in-band registration is not enabled on this server");
      return;
    }
    if (!ctx.flags.secure && !this.clearOk) {
      ctx.replyError(e, "not-allowed", "in-band registration requires TLS: negotiate STARTTLS first");
      return;
    }
    if (type === "get") {
      // XEP-0077 §3.1 example 2: the fields we need. Data forms (§4, XEP-0004) are not offered.
      ctx.write(
        iqResult(
          e,
          ctx,
          el(
            "query",
            NS_REGISTER,
            null,
            el("instructions", NS_REGISTER, null, this.o.instructions ?? DEFAULT_INSTRUCTIONS),
            el("username", NS_REGISTER),
            el("password", NS_REGISTER),
          ),
        ),
      );
      return;
    }
    this.attempts++;
    if (this.attempts > (this.o.maxAttempts ?? 3)) {
      ctx.fatal("policy-violation", "too many registration attempts on this stream");
      return;
    }
    if (query.getChild("remove", NS_REGISTER) !== undefined) {
      // XEP-0077 §3.2: a removal without a 'from' (no account on this stream) is unexpected.
      ctx.replyError(e, "unexpected-request", "log in before removing an account");
      return;
    }
    const fields = this.credentials(e, query, ctx, "not-acceptable");
    if (fields === undefined) return;
    let username: string;
    try {
      username = prepareLocal(fields.username);
    } catch (err) {
      ctx.replyError(e, "jid-malformed", `the username is not a valid localpart: ${(err as Error).message}`);
      return;
    }
    this.ask(e, { action: "register", username, password: fields.password }, ctx);
  }

  private online(e: XmlElement, type: "get" | "set", query: XmlElement, ctx: ServerFeatureContext<ServerEvent>): void {
    const username = ctx.username ?? "";
    if (type === "get") {
      // XEP-0077 §3.1: an entity already registered gets <registered/> and its current username.
      ctx.write(iqResult(e, ctx, el("query", NS_REGISTER, null, el("registered", NS_REGISTER), el("username", NS_REGISTER, null, username), el("password", NS_REGISTER))));
      return;
    }
    if (query.getChild("remove", NS_REGISTER) !== undefined) {
      if (query.elements().length !== 1) {
        // XEP-0077 §3.2: <remove/> must be the only child of <query/>.
        ctx.replyError(e, "bad-request", "<remove/> must be the only child of <query/>");
        return;
      }
      if (this.o.removal === false) {
        ctx.replyError(e, "not-allowed", "in-band account removal is not allowed on this server");
        return;
      }
      this.ask(e, { action: "remove", username }, ctx);
      return;
    }
    if (this.o.passwordChange === false) {
      ctx.replyError(e, "not-allowed", "in-band password changes are not allowed on this server");
      return;
    }
    if (!ctx.flags.secure && !this.clearOk) {
      // XEP-0077 §3.3: <not-authorized/> when the channel is not safe enough for a password change.
      ctx.replyError(e, "not-authorized", "password changes require TLS");
      return;
    }
    const fields = this.credentials(e, query, ctx, "bad-request");
    if (fields === undefined) return;
    let claimed: string;
    try {
      claimed = prepareLocal(fields.username);
    } catch {
      claimed = "";
    }
    if (claimed !== username) {
      ctx.replyError(e, "not-authorized", "a password can only be changed for the logged-in account");
      return;
    }
    this.ask(e, { action: "change-password", username, password: fields.password }, ctx);
  }

  /** The username and password of a `set`, or `undefined` after answering with the error. */
  private credentials(
    e: XmlElement,
    query: XmlElement,
    ctx: ServerFeatureContext<ServerEvent>,
    missing: "not-acceptable" | "bad-request",
  ): { username: string; password: string } | undefined {
    const username = query.getChild("username", NS_REGISTER)?.text() ?? "";
    const password = query.getChild("password", NS_REGISTER)?.text() ?? "";
    if (username === "" || password === "") {
      // XEP-0077 §3.1 example 7 (406: some required information not provided; the seed: an empty password).
      ctx.replyError(e, missing, "a username and a non-empty password are required");
      return undefined;
    }
    const max = this.o.maxPasswordBytes ?? 1024;
    if (ENCODER.encode(password).length > max) {
      ctx.replyError(e, "not-acceptable", `the password is longer than ${max} bytes`);
      return undefined;
    }
    if (preparePassword(password) === undefined) {
      // The account's SCRAM keys are derived from the OpaqueString form (RFC 8265 §4.2); a password
      // without one (control characters, unassigned code points, …) could never log in.
      ctx.replyError(e, "not-acceptable", "the password is not valid under PRECIS OpaqueString (RFC 8265 §4.2)");
      return undefined;
    }
    return { username, password };
  }

  private ask(e: XmlElement, request: RegisterRequest, ctx: ServerFeatureContext<ServerEvent>): void {
    this.pendingIq = e;
    this.pendingAction = request.action;
    ctx.pause();
    ctx.emit({ type: "feature", feature: REGISTER_FEATURE_NAME, name: "register-request", data: request } satisfies FeatureEvent);
  }

  /**
   * Answers `register-request`: `{ ok: true }` → `<iq type='result'/>` (after a removal the stream then
   * ends with `<not-authorized/>`, XEP-0077 §3.2); `{ refuse }` → the matching stanza error. Ignored once
   * the session ended. @throws SessionStateError without a pending question.
   */
  answer(answer: RegisterAnswer): void {
    const ctx = this.ctx;
    const iq = this.pendingIq;
    if (ctx === undefined || iq === undefined) throw new SessionStateError("answer() without a pending register-request");
    const action = this.pendingAction;
    this.pendingIq = undefined;
    this.pendingAction = undefined;
    if (ctx.ended) return;
    if ("refuse" in answer) {
      ctx.replyError(iq, answer.refuse, answer.text);
      ctx.resume();
      return;
    }
    ctx.write(iqResult(iq, ctx));
    if (action === "remove") {
      // XEP-0077 §3.2: the account is gone; its sessions end with a <not-authorized/> stream error.
      ctx.fatal("not-authorized", "the account was removed");
      return;
    }
    ctx.resume();
  }
}

/** `<iq type='result'/>` answering `iq` (to the bound JID online; no `to` before authentication). */
function iqResult(iq: XmlElement, ctx: ServerFeatureContext<ServerEvent>, payload?: XmlElement): XmlElement {
  const attrs = { type: "result", id: iq.attr("id"), to: ctx.jid?.toString() };
  return payload === undefined ? el("iq", NS_CLIENT, attrs) : el("iq", NS_CLIENT, attrs, payload);
}
