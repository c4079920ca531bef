/**
 * The server half of SASL2 (XEP-0388) with Bind2 (XEP-0386), Stream Management inline (XEP-0198 enable
 * in Bind2, resume in `<authenticate/>`), FAST (XEP-0484) and tasks (`<continue/>`). The SASL exchange
 * itself — mechanisms, the credential questions, the failure limit, the channel-binding policy — is the
 * RFC 6120 server half's ({@link SaslServer}); this class only changes the wire format and what happens
 * after success (no stream restart).
 *
 * @module
 */
import { jid as makeJid, prepareResource } from "@xmpp-sansio/jid";
import { decodeSaslPayload, encodeSaslPayload, isSaslError, type SaslCondition } from "@xmpp-sansio/sasl";
import type { XmlElement } from "@xmpp-sansio/xml";
import type { BindAnswer } from "../../session-types.js";
import { el, trimmedText } from "../../util.js";
import { channelBindingList, NS_SASL_CB, SaslServer, type SaslServerOptions, safeLocal } from "../sasl.js";
import { NS_SM, SmServer } from "../sm/sm.js";
import type { ServerFeatureContext } from "../types.js";
import { childText, NS_BIND2, NS_SASL2, s2, type Sasl2LoginInfo, type Sasl2ServerSettings, type Sasl2TaskStep, sasl2Failure } from "./common.js";
import { NS_SASL_UPGRADE } from "./upgrade.js";
import { fastRecordAging, type FastTokenRecord, type HtMechanism, isHtMechanism, issueFastToken, NS_FAST, usableHtMechanisms, userAgentHash, verifyFast } from "./fast.js";


/** What the client asked for in `<authenticate/>` besides the exchange. */
interface Request {
  readonly userAgentId: string | undefined;
  readonly bind: XmlElement | undefined;
  readonly resume: XmlElement | undefined;
  readonly requestToken: HtMechanism | undefined;
  readonly fast: XmlElement | undefined;
  readonly upgrades: readonly string[];
}

/** The server half of SASL2; `ServerSession` routes the credential and bind answers here while it asks. */
export class Sasl2Server extends SaslServer {
  private req: Request | undefined;
  private fastRecord: FastTokenRecord | undefined;
  private login: { info: Sasl2LoginInfo; additional: Uint8Array | undefined } | undefined;
  private tasks: string[] = [];
  private task: ReturnType<NonNullable<Sasl2ServerSettings["tasks"]>[number]["create"]> | undefined;
  /** The `bind-request` question is pending. */
  bindPending = false;
  private extras: XmlElement[] = [];

  constructor(
    o: SaslServerOptions,
    private readonly s: Sasl2ServerSettings,
    counter?: { failures: number },
  ) {
    super(o, counter);
  }

  private usable(ctx: ServerFeatureContext<unknown>): boolean {
    // XEP-0388 §3: SASL2 only on an encrypted stream (a `tls: "none"` test stream aside).
    return ctx.flags.secure || this.o.tls === "none";
  }

  private fastMechanisms(ctx: ServerFeatureContext<unknown>): HtMechanism[] {
    if (this.s.fast === undefined) return [];
    const allowed = this.s.fast.mechanisms;
    return usableHtMechanisms(ctx.tls?.channelBinding).filter((m) => allowed === undefined || allowed.includes(m));
  }

  override offer(ctx: ServerFeatureContext<unknown>): XmlElement[] | undefined {
    this.offered = [];
    if (!this.usable(ctx)) return undefined;
    this.offered = this.mechanismsToOffer(ctx);
    const inline = s2("inline");
    const sm = ctx.feature("sm") instanceof SmServer;
    if (this.s.bind2 !== false) {
      const vars = [...(sm ? [NS_SM] : []), ...(this.s.bind2Inline ?? [])];
      const features = vars.map((v) => el("feature", NS_BIND2, { var: v }));
      inline.append(el("bind", NS_BIND2, null, el("inline", NS_BIND2, null, ...features)));
    }
    const fast = this.fastMechanisms(ctx);
    if (fast.length > 0) inline.append(el("fast", NS_FAST, null, ...fast.map((m) => el("mechanism", NS_FAST, null, m))));
    if (sm) inline.append(el("sm", NS_SM));
    const out = [s2("authentication", null, ...this.offered.map((m) => s2("mechanism", null, m)), inline)];
    const cbTypes = channelBindingList(ctx.tls?.channelBinding).map((b) => b.type);
    this.cbAdvertised = cbTypes.length > 0 ? cbTypes : undefined;
    // The XEP-0440 list is the RFC 6120 half's to offer; alone, SASL2 offers it.
    if (this.s.sasl1 === false && cbTypes.length > 0) {
      out.push(el("sasl-channel-binding", NS_SASL_CB, null, ...cbTypes.map((t) => el("channel-binding", NS_SASL_CB, { type: t }))));
    }
    return out;
  }

  override offerKey(ctx: ServerFeatureContext<unknown>): string {
    // What `offer` does to this half, and everything its elements depend on besides the options.
    this.offered = [];
    if (!this.usable(ctx)) return "";
    this.offered = this.mechanismsToOffer(ctx);
    const sm = ctx.feature("sm") instanceof SmServer;
    const cbTypes = channelBindingList(ctx.tls?.channelBinding).map((b) => b.type);
    this.cbAdvertised = cbTypes.length > 0 ? cbTypes : undefined;
    return `${this.offered.join(" ")}|${sm ? "sm" : ""}|${this.fastMechanisms(ctx).join(" ")}|${cbTypes.join(" ")}`;
  }

  override handleElement(e: XmlElement, ctx: ServerFeatureContext<unknown>): void {
    if (e.ns !== NS_SASL2) {
      ctx.fatal("unsupported-stanza-type", `<${e.name} xmlns='${e.ns}'> is not supported`);
      return;
    }
    if (this.login !== undefined && this.tasks.length > 0 && (e.name === "next" || e.name === "task-data")) {
      this.handleTask(e, ctx);
      return;
    }
    if (ctx.flags.authenticated || this.login !== undefined) {
      ctx.fatal("policy-violation", `<${e.name}/> after authentication`);
      return;
    }
    this.handleExchange(e, ctx, "authenticate", (x) => this.onAuthenticate(x, ctx));
  }

  private onAuthenticate(e: XmlElement, ctx: ServerFeatureContext<unknown>): void {
    const name = e.attr("mechanism") ?? "";
    const ua = e.getChild("user-agent", NS_SASL2);
    const uaId = ua?.attr("id");
    const rt = e.getChild("request-token", NS_FAST)?.attr("mechanism");
    this.req = {
      userAgentId: uaId !== undefined && uaId !== "" && uaId.length <= 256 ? uaId : undefined,
      bind: this.s.bind2 === false ? undefined : e.getChild("bind", NS_BIND2),
      resume: e.getChild("resume", NS_SM),
      requestToken: rt !== undefined && isHtMechanism(rt) && this.fastMechanisms(ctx).includes(rt) ? rt : undefined,
      fast: e.getChild("fast", NS_FAST),
      upgrades: e.getChildren("upgrade", NS_SASL_UPGRADE).slice(0, 8).map((u) => trimmedText(u)),
    };
    if (!this.usable(ctx)) {
      this.failure(ctx, "encryption-required", "SASL2 needs TLS");
      return;
    }
    const initial = childText(e, "initial-response");
    if (isHtMechanism(name) && this.fastMechanisms(ctx).includes(name)) {
      this.onFast(name, initial, ctx);
      return;
    }
    if (!this.offered.includes(name)) {
      this.failure(ctx, "invalid-mechanism", `mechanism ${name ? `'${name}' ` : ""}not offered`);
      return;
    }
    // XEP-0388: an empty <initial-response/> is an empty response ("="), none is no initial response.
    this.startExchange(name, initial === undefined ? undefined : initial === "" ? "=" : initial, ctx);
  }

  /** XEP-0484: a login with a token, checked against the store. */
  private onFast(mechanism: HtMechanism, initial: string | undefined, ctx: ServerFeatureContext<unknown>): void {
    const fast = this.s.fast!;
    const ua = this.req?.userAgentId;
    const data = initial === undefined ? null : decodeSaslPayload(initial);
    if (isSaslError(data) || ua === undefined) {
      this.failure(ctx, "malformed-request", isSaslError(data) ? data.text : "FAST needs a <user-agent id/>");
      return;
    }
    const countAttr = this.req?.fast?.attr("count");
    const count = countAttr !== undefined && /^[0-9]{1,15}$/.test(countAttr) ? Number(countAttr) : undefined;
    const r = verifyFast(fast, { mechanism, initial: data, userAgentId: ua, count, now: ctx.now, cb: ctx.tls?.channelBinding, prepare: safeLocal });
    if ("refused" in r) {
      this.failure(ctx, r.refused === "expired" ? "credentials-expired" : "not-authorized", `FAST token ${r.refused}`);
      return;
    }
    // XEP-0484 replay protection: the count is spent at once — before any question (tasks, binding) lets
    // another connection present the same count while this login is still in progress.
    fast.store.setCount(r.username, ua, r.record.id, count!);
    this.fastRecord = { ...r.record, count: count! };
    this.success(ctx, mechanism, r.username, r.data);
  }

  protected override writeChallenge(data: Uint8Array, ctx: ServerFeatureContext<unknown>): void {
    ctx.write(s2("challenge", null, encodeSaslPayload(data)));
  }

  protected override writeFailure(condition: SaslCondition, text: string | undefined, ctx: ServerFeatureContext<unknown>): void {
    this.req = undefined;
    ctx.write(sasl2Failure(condition, text));
  }

  /** The exchange succeeded: tasks first (`<continue/>`), then completion. No stream restart (XEP-0388). */
  protected override success(ctx: ServerFeatureContext<unknown>, mechanism: string, username: string, data: Uint8Array | undefined): void {
    this.mech = undefined;
    this.exchanging = false;
    const info: Sasl2LoginInfo = { username, mechanism, userAgentId: this.req?.userAgentId, upgrades: this.req?.upgrades ?? [] };
    this.login = { info, additional: data };
    this.tasks = (this.s.tasks ?? []).filter((t) => t.required(info)).map((t) => t.name);
    if (this.tasks.length > 0) {
      const c = s2("continue");
      if (data !== undefined) c.append(s2("additional-data", null, encodeSaslPayload(data)));
      c.append(s2("tasks", null, ...this.tasks.map((t) => s2("task", null, t))));
      ctx.write(c);
      return;
    }
    this.complete(ctx);
  }

  private handleTask(e: XmlElement, ctx: ServerFeatureContext<unknown>): void {
    const login = this.login!;
    let step: Sasl2TaskStep;
    if (e.name === "next") {
      const name = e.attr("task") ?? "";
      const def = this.s.tasks?.find((t) => t.name === name);
      if (this.task !== undefined || def === undefined || !this.tasks.includes(name)) {
        this.taskFailed(ctx, "malformed-request", `task '${name}' was not offered`);
        return;
      }
      this.task = def.create(login.info, (n, d) => ctx.emit({ type: "feature", feature: "sasl2", name: n, data: d }));
      step = this.task.start();
    } else {
      if (this.task === undefined) {
        this.taskFailed(ctx, "malformed-request", "<task-data/> before <next/>");
        return;
      }
      step = this.task.data(e.elements());
    }
    if ("data" in step) ctx.write(s2("task-data", null, ...step.data));
    else if ("fail" in step) this.taskFailed(ctx, step.fail, step.text);
    else {
      this.task = undefined;
      this.tasks = [];
      if (step.additional !== undefined) login.additional = step.additional;
      this.complete(ctx);
    }
  }

  private taskFailed(ctx: ServerFeatureContext<unknown>, condition: SaslCondition, text: string | undefined): void {
    this.login = undefined;
    this.task = undefined;
    this.tasks = [];
    this.failure(ctx, condition, text);
  }

  /** Authenticated: FAST bookkeeping, then inline resumption or binding, then `<success/>`. */
  private complete(ctx: ServerFeatureContext<unknown>): void {
    const { info } = this.login!;
    ctx.setAuthenticated({ mechanism: info.mechanism, username: info.username });
    this.extras = [];
    this.fastBookkeeping(info, ctx);
    const sm = ctx.feature("sm");
    if (this.req?.resume !== undefined && sm instanceof SmServer) {
      this.resumeInline(sm, this.req.resume, ctx);
      return;
    }
    this.bindOrFinish(ctx);
  }

  private fastBookkeeping(info: Sasl2LoginInfo, ctx: ServerFeatureContext<unknown>): void {
    const fast = this.s.fast;
    const ua = info.userAgentId;
    if (fast === undefined || ua === undefined) return;
    const used = this.fastRecord; // its count was recorded when it was verified
    if (used !== undefined && this.req?.fast?.attr("invalidate") === "true") {
      fast.store.invalidate(info.username, ua);
      return;
    }
    const mechanism = this.req?.requestToken ?? (used !== undefined && fastRecordAging(fast, used, ctx.now) ? used.mechanism : undefined);
    if (mechanism !== undefined) {
      this.extras.push(issueFastToken(fast, { username: info.username, userAgentId: ua, mechanism, now: ctx.now, randomId: ctx.randomId(16) }));
    }
  }

  /**
   * XEP-0198 resumption inside `<authenticate/>`: the SM half asks `resume-request` as usual; what it
   * writes first (`<resumed/>` or `<failed/>`) goes into our `<success/>`, retransmitted stanzas after it.
   */
  private resumeInline(sm: SmServer, resume: XmlElement, ctx: ServerFeatureContext<unknown>): void {
    let first = true;
    let held = false;
    const inner: ServerFeatureContext<unknown> = Object.create(ctx, {
      write: {
        value: (x: XmlElement) => {
          if (!first) return ctx.write(x);
          first = false;
          this.extras.push(x);
          if (x.name === "resumed") this.finish(ctx, undefined, true);
          else {
            held = true; // resumption failed: bind (if asked) before answering
            this.bindOrFinish(ctx);
          }
        },
      },
      // While we still bind after a failed resumption, parsing stays paused (the bind question).
      resume: { value: () => (held && this.bindPending ? undefined : ctx.resume()) },
    });
    sm.handleResume(resume, inner);
  }

  private bindOrFinish(ctx: ServerFeatureContext<unknown>): void {
    const bind = this.req?.bind;
    if (bind === undefined) {
      this.finish(ctx, undefined);
      return;
    }
    // XEP-0386 §2.3: the server picks the resource: the client's tag and a hash of its user-agent id,
    // the same on every login of this installation (the application's conflict policy applies).
    const tag = trimmedText(bind.getChild("tag", NS_BIND2)).slice(0, 64);
    const ua = this.req?.userAgentId;
    let resource: string;
    try {
      resource = prepareResource(`${tag === "" ? "xmpp" : tag}.${ua === undefined ? ctx.randomId(6) : userAgentHash(ua)}`);
    } catch {
      resource = `xmpp.${ua === undefined ? ctx.randomId(6) : userAgentHash(ua)}`;
    }
    this.bindPending = true;
    ctx.pause();
    ctx.emit({ type: "bind-request", username: ctx.username!, resource, generated: true });
  }

  /** Answers the Bind2 `bind-request`. A refusal still completes the login: the client binds the RFC 6120 way. */
  answerBind(answer: BindAnswer, ctx: ServerFeatureContext<unknown>): void {
    this.bindPending = false;
    if ("accept" in answer) {
      const full = makeJid(ctx.username!, ctx.domain, answer.accept);
      ctx.setBound(full);
      // The application's inline features (XEP-0386 §2.4), e.g. carbons <enable/>: handed over once bound.
      const own = this.s.bind2Inline ?? [];
      const inline = own.length === 0 ? [] : (this.req?.bind?.elements() ?? []).filter((c) => own.includes(c.ns));
      if (inline.length > 0) ctx.emit({ type: "feature", feature: "sasl2", name: "bind2-inline", data: inline });
      const bound = el("bound", NS_BIND2);
      const sm = ctx.feature("sm");
      const enable = this.req?.bind?.getChild("enable", NS_SM);
      if (enable !== undefined && sm instanceof SmServer) bound.append(sm.enable(enable, ctx));
      this.finish(ctx, bound);
    } else this.finish(ctx, undefined);
    ctx.resume();
  }

  private finish(ctx: ServerFeatureContext<unknown>, bound: XmlElement | undefined, resumed = false): void {
    const login = this.login!;
    const success = s2("success");
    if (login.additional !== undefined) success.append(s2("additional-data", null, encodeSaslPayload(login.additional)));
    const id = ctx.jid ?? makeJid(login.info.username, ctx.domain);
    success.append(s2("authorization-identifier", null, id.toString()));
    if (bound !== undefined) success.append(bound);
    for (const x of this.extras) success.append(x);
    ctx.write(success);
    this.req = undefined;
    this.fastRecord = undefined;
    // XEP-0388 §2.6: no restart. Not bound yet: new features follow (resource binding, SM).
    ctx.done(ctx.flags.bound || resumed ? {} : { features: true });
  }
}
