/**
 * The client half of SASL2 (XEP-0388) with Bind2 (XEP-0386), Stream Management inline (enable in Bind2,
 * resume in `<authenticate/>`), FAST (XEP-0484) and tasks. Mechanism choice, retries, the password and
 * key-derivation questions and the server-signature check are the RFC 6120 client half's
 * ({@link SaslClient}); this class changes the wire format and what follows success (no restart).
 *
 * @module
 */
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import { base64Encode, type ClientMechanism, saslError } from "@xmpp-sansio/sasl";
import type { XmlElement } from "@xmpp-sansio/xml";
import { definedOnly, el, trimmedText } from "../../util.js";
import { NS_SASL_CB, SaslClient, type SaslClientOptions } from "../sasl.js";
import { NS_SM, SmClient } from "../sm/sm.js";
import type { ClientFeatureContext } from "../types.js";
import { childText, NS_BIND2, NS_SASL2, parseSasl2Failure, s2, type Sasl2ClientSettings } from "./common.js";
import { NS_SASL_UPGRADE } from "./upgrade.js";
import { type FastToken, fastTokenExpired, type HtMechanism, htInitialResponse, htVerifyResponder, NS_FAST, parseFastToken, usableHtMechanisms } from "./fast.js";


/** The client half of SASL2. Find it with `sasl2Client(session)`; its {@link Sasl2Client.fastToken} is exportable state. */
export class Sasl2Client extends SaslClient {
  private token: FastToken | undefined;
  private usingFast: FastToken | undefined;
  private inline: XmlElement | undefined;
  private verified = false;
  private resumeEl: XmlElement | undefined;
  private requested: HtMechanism | undefined;
  private task: ReturnType<NonNullable<Sasl2ClientSettings["tasks"]>[number]["create"]> | undefined;
  private usedPassword: string | undefined;

  constructor(
    o: SaslClientOptions,
    private readonly s: Sasl2ClientSettings,
  ) {
    super(o);
    this.token = s.fast?.token;
  }

  /** The FAST token to keep for the next login (persist it; `undefined` when there is none). */
  get fastToken(): FastToken | undefined {
    return this.token;
  }

  override negotiate(features: XmlElement, ctx: ClientFeatureContext<unknown>): boolean {
    const auth = features.getChild("authentication", NS_SASL2);
    // XEP-0388 §3: SASL2 only over TLS (a `tls: "none"` test stream aside).
    if (auth === undefined || (!ctx.flags.secure && this.o.tls !== "none")) {
      if (this.s.required === true) {
        this.giveUp(ctx, "invalid-mechanism", "the server offers no SASL2 (XEP-0388) and RFC 6120 SASL is turned off");
        return true;
      }
      return false;
    }
    this.offered = auth.getChildren("mechanism", NS_SASL2).map((m) => trimmedText(m));
    const cb = features.getChild("sasl-channel-binding", NS_SASL_CB);
    this.cbTypes = cb === undefined ? undefined : cb.getChildren("channel-binding").map((c) => c.attr("type") ?? "");
    this.inline = auth.getChild("inline", NS_SASL2);
    if (this.fastCandidate(ctx) !== undefined) {
      this.start(ctx);
      return true;
    }
    return this.begin(ctx);
  }

  private offeredFast(): string[] {
    return this.inline?.getChild("fast", NS_FAST)?.getChildren("mechanism", NS_FAST).map((m) => trimmedText(m)) ?? [];
  }

  /** The token to log in with now, if any (offered, not expired, its channel binding available). */
  private fastCandidate(ctx: ClientFeatureContext<unknown>): FastToken | undefined {
    const t = this.token;
    if (t === undefined || this.s.userAgent === undefined || !this.offeredFast().includes(t.mechanism)) return undefined;
    if (fastTokenExpired(t, this.s.fast?.wallClock?.())) return undefined;
    return htInitialResponse(ctx.account.local, t, ctx.tls?.channelBinding) === undefined ? undefined : t;
  }

  private setToken(t: FastToken | undefined, ctx: ClientFeatureContext<unknown>): void {
    this.token = t;
    ctx.emit({ type: "feature", feature: "sasl2", name: "fast-token", data: t ?? null });
  }

  protected override start(ctx: ClientFeatureContext<unknown>): void {
    const t = this.fastCandidate(ctx);
    if (t === undefined) {
      this.usingFast = undefined;
      this.usedPassword = this.password;
      super.start(ctx);
      return;
    }
    const cb = ctx.tls?.channelBinding;
    const initial = htInitialResponse(ctx.account.local, t, cb)!;
    // XEP-0484 §5: every use raises the count; persist it before the attempt (a crash must not reuse it).
    const used: FastToken = { ...t, count: t.count + 1 };
    this.setToken(used, ctx);
    this.usingFast = used;
    this.attempts++;
    this.mech = htMechanism(used, cb);
    this.phase = "exchange";
    this.writeAuth(used.mechanism, initial, ctx);
  }

  protected override writeAuth(mechanism: string, initial: Uint8Array | null, ctx: ClientFeatureContext<unknown>): void {
    const a = s2("authenticate", { mechanism });
    // XEP-0388: an empty response is an empty <initial-response/> (not "=").
    if (initial !== null) a.append(s2("initial-response", null, initial.length === 0 ? "" : base64Encode(initial)));
    const ua = this.s.userAgent;
    if (ua !== undefined) {
      a.append(s2("user-agent", { id: ua.id }, ...(ua.software === undefined ? [] : [s2("software", null, ua.software)]), ...(ua.device === undefined ? [] : [s2("device", null, ua.device)])));
    }
    // XEP-0480: the upgrade tasks we can run, should the account lack their credentials.
    for (const t of this.s.tasks ?? []) if (t.name.startsWith("UPGR-")) a.append(el("upgrade", NS_SASL_UPGRADE, null, t.name));
    const sm = ctx.feature("sm");
    const smClient = sm instanceof SmClient ? sm : undefined;
    if (this.inline?.getChild("sm", NS_SM) !== undefined && smClient !== undefined) this.resumeEl ??= smClient.resumeInline();
    if (this.resumeEl !== undefined) a.append(this.resumeEl);
    const bindOffer = this.inline?.getChild("bind", NS_BIND2);
    if (bindOffer !== undefined && this.s.bind2 !== false) {
      const tag = (this.s.bind2 === undefined ? undefined : this.s.bind2.tag) ?? ua?.software ?? "xmpp-sansio";
      const bind = el("bind", NS_BIND2, null, el("tag", NS_BIND2, null, tag));
      const smInline = bindOffer.getChild("inline", NS_BIND2)?.getChildren("feature", NS_BIND2).some((f) => f.attr("var") === NS_SM) === true;
      if (smInline && smClient !== undefined && !smClient.enabled) {
        bind.append(smClient.enableElement());
        smClient.enableSent();
      }
      a.append(bind);
    }
    const fast = this.s.fast;
    if (this.usingFast !== undefined) a.append(el("fast", NS_FAST, { count: String(this.usingFast.count), invalidate: fast?.invalidate === true ? "true" : undefined }));
    this.requested = undefined;
    if (fast?.request !== undefined && fast.request !== false && fast.invalidate !== true && ua !== undefined) {
      // Channel-bound variants first (HT_MECHANISMS order: EXPR, UNIQ, ENDP, NONE), whatever the server's order.
      const usable = usableHtMechanisms(ctx.tls?.channelBinding);
      const offered = usable.filter((m) => this.offeredFast().includes(m));
      const want = typeof fast.request === "string" ? (offered.includes(fast.request) ? fast.request : undefined) : offered[0];
      if (want !== undefined) {
        this.requested = want;
        a.append(el("request-token", NS_FAST, { mechanism: want }));
      }
    }
    ctx.write(a);
  }

  protected override writeStep(data: Uint8Array | "abort", ctx: ClientFeatureContext<unknown>): void {
    ctx.write(data === "abort" ? s2("abort") : s2("response", null, data.length === 0 ? "" : base64Encode(data)));
  }

  override handleElement(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    if (e.ns === NS_SASL2 && (this.mech !== undefined || this.verified)) {
      if (e.name === "challenge" && this.phase === "exchange") {
        this.handleChallenge(e.text() === "" ? "=" : e.text(), ctx);
        return;
      }
      if (e.name === "continue" && this.phase === "exchange" && !this.verified) {
        this.onContinue(e, ctx);
        return;
      }
      if (e.name === "task-data" && this.task !== undefined) {
        this.onTaskData(e, ctx);
        return;
      }
      if (e.name === "success" && (this.phase === "exchange" || this.verified)) {
        this.onSuccess(e, ctx);
        return;
      }
      if (e.name === "failure") {
        this.onFailure(e, ctx);
        return;
      }
    }
    ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> during SASL2`);
  }

  /** Checks the success data of the mechanism (SCRAM's `v=`, HT's responder MAC) once. */
  private verify(e: XmlElement, ctx: ClientFeatureContext<unknown>): boolean {
    if (this.verified) return true;
    const text = childText(e, "additional-data");
    const password = this.usedPassword;
    if (!this.verifySuccess(text === undefined ? undefined : text === "" ? "=" : text, ctx)) return false;
    this.usedPassword = password;
    this.verified = true;
    return true;
  }

  private onContinue(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    if (!this.verify(e, ctx)) return;
    const offered = e.getChild("tasks", NS_SASL2)?.getChildren("task", NS_SASL2).map((t) => trimmedText(t)) ?? [];
    const def = this.s.tasks?.find((t) => offered.includes(t.name));
    if (def === undefined) {
      this.giveUp(ctx, "aborted", `the server requires a task this client cannot run: ${offered.join(", ") || "none"}`);
      return;
    }
    this.task = def.create({ password: this.usedPassword, username: ctx.account.local });
    ctx.write(s2("next", { task: def.name }));
  }

  private onTaskData(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    const r = this.task!.data(e.elements());
    if ("error" in r) {
      this.giveUp(ctx, "aborted", r.error);
      return;
    }
    ctx.write(s2("task-data", null, ...r));
  }

  private onSuccess(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    if (!this.verify(e, ctx)) return;
    this.usedPassword = undefined;
    this.task = undefined;
    const sm = ctx.feature("sm");
    const smClient = sm instanceof SmClient ? sm : undefined;
    const token = e.getChild("token", NS_FAST);
    if (this.usingFast !== undefined && this.s.fast?.invalidate === true) this.setToken(undefined, ctx);
    else if (token !== undefined && this.requested !== undefined) {
      const t = parseFastToken(token, this.requested);
      if (t !== undefined) this.setToken(t, ctx);
    } else if (token !== undefined && this.usingFast !== undefined) {
      const t = parseFastToken(token, this.usingFast.mechanism); // rotation
      if (t !== undefined) this.setToken(t, ctx);
    }
    const resumed = e.getChild("resumed", NS_SM);
    if (resumed !== undefined && smClient !== undefined) {
      // XEP-0198 resumption inline: the SM half binds and retransmits; we end the step ourselves.
      const inner: ClientFeatureContext<unknown> = Object.create(ctx, { done: { value: () => undefined } });
      smClient.handleResumed(resumed, inner);
      if (!ctx.ended) ctx.done();
      return;
    }
    const failed = e.getChild("failed", NS_SM);
    if (failed !== undefined && smClient !== undefined) smClient.handleResumeFailed(failed, ctx);
    const bound = e.getChild("bound", NS_BIND2);
    if (bound === undefined) {
      ctx.done({ features: true });
      return;
    }
    let jid: Jid;
    try {
      jid = parseJid(childText(e, "authorization-identifier") ?? "");
    } catch {
      ctx.fatal("undefined-condition", "the server bound an invalid JID (Bind2)");
      return;
    }
    if (jid.resource === "" || !jid.bare.equals(ctx.account)) {
      ctx.fatal("undefined-condition", `the server bound a JID of another account: ${jid.toString()}`);
      return;
    }
    ctx.setBound(jid);
    const enabled = bound.getChild("enabled", NS_SM);
    if (enabled !== undefined && smClient !== undefined) smClient.handleEnabled(enabled, ctx);
    else {
      const smFailed = bound.getChild("failed", NS_SM);
      if (smFailed !== undefined) ctx.emit(definedOnly({ type: "sm-failed" as const, condition: smFailed.elements()[0]?.name ?? "undefined-condition", resume: false }));
    }
    ctx.done();
  }

  private onFailure(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    const f = parseSasl2Failure(e);
    this.verified = false;
    this.task = undefined;
    if (this.usingFast !== undefined) {
      // The token is refused (expired, replayed, revoked): forget it, log in with the password.
      this.usingFast = undefined;
      this.mech = undefined;
      this.setToken(undefined, ctx);
      ctx.emit(definedOnly({ type: "auth-failed" as const, condition: f.condition, text: f.text, canRetry: true }));
      this.begin(ctx);
      return;
    }
    this.handleFailure(f, ctx);
  }
}

/** HT as a client mechanism value: the initial response was computed; `finish` checks the server's MAC. */
function htMechanism(token: FastToken, cb: Parameters<typeof htVerifyResponder>[1]): ClientMechanism {
  let state: ClientMechanism["state"] = "in-progress";
  return {
    name: token.mechanism,
    get state() {
      return state;
    },
    initialResponse: () => null,
    challenge: () => {
      state = "failed";
      return saslError("malformed-request", "unexpected-message", "HT expects no challenge");
    },
    finish(data) {
      if (htVerifyResponder(token, cb, data)) {
        state = "succeeded";
        return true;
      }
      state = "failed";
      return saslError("not-authorized", "invalid-proof", "the server did not prove it knows the FAST token");
    },
  };
}

