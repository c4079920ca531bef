/**
 * XEP-0198 Stream Management (v1.6) as a stream feature of both roles: enabling, acknowledgements
 * (`<r/>`, `<a h/>`, counters modulo 2^32), resumption (`<resume/>` → `<resumed/>` with retransmission
 * of exactly the unacknowledged stanzas), and what happens to stanzas that can no longer be delivered.
 *
 * Both halves expose their steps as methods (`enableElement`, `handleEnabled`, `resume`, …) so that
 * SASL2/Bind2 (XEP-0388/0386) can enable or resume SM inline without changing this feature.
 *
 * @module
 */
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import { XmlElement } from "@xmpp-sansio/xml";
import type { ClientEvent, ServerEvent, SmState } from "../../session-types.js";
import { NS_XMPP_STANZAS as NS_STANZAS } from "../../stanza-errors.js";
import type { ClientFeature, ClientFeatureContext, ServerFeature, ServerFeatureContext, StreamFeature } from "../types.js";
import { Ledger, parseH } from "./ledger.js";
import { exportSmState, importSmState } from "./state.js";

/** `urn:xmpp:sm:3` (XEP-0198). */
export const NS_SM = "urn:xmpp:sm:3";

/** Settings of {@link streamManagement}. */
export interface StreamManagementOptions {
  /** Client: ask for a resumable session; server: grant it. Default true. */
  resumable?: boolean;
  /**
   * Seconds a detached session is kept. Client: the `max` it asks for; server: the most it grants (and
   * what it grants when the client asks for nothing). Default 300 (Prosody's `smacks_hibernation_time`).
   */
  maxResumeSeconds?: number;
  /** Request an acknowledgement (`<r/>`) after this many stanzas sent since the last request. Default 5. */
  ackEvery?: number;
  /** …or this long (ms) after the first stanza not covered by a request. Default 1000. */
  ackAfterMs?: number;
  /**
   * Most unacknowledged stanzas held. Past it the stream ends with `<resource-constraint/>` — a broken
   * stream, so the session stays resumable and nothing is lost. Default 500 (Prosody's
   * `smacks_max_queue_size`).
   */
  maxUnacked?: number;
  /** Client: resume this session (the `smState` of an earlier session — of this process or another). */
  resume?: SmState;
}

/** {@link StreamManagementOptions} with every default applied. */
export type ResolvedSmOptions = Required<Omit<StreamManagementOptions, "resume">>;

const DEFAULTS: ResolvedSmOptions = { resumable: true, maxResumeSeconds: 300, ackEvery: 5, ackAfterMs: 1000, maxUnacked: 500 };

/**
 * Stream Management, for `features` of `ClientSession` and `ServerSession`.
 *
 * @example
 * ```ts
 * const client = new ClientSession({ jid, password, features: [streamManagement()] });
 * // later, after the transport broke: resume in a new session (even in a new process)
 * const again = new ClientSession({ jid, password, features: [streamManagement({ resume: smClient(client)!.state()! })] });
 * ```
 */
export function streamManagement(options: StreamManagementOptions = {}): StreamFeature<ClientEvent, ServerEvent> {
  return { ...SM_DEFINITION, client: smClientHalf(options), server: smServerHalf(options) };
}

/** What Stream Management is, without its halves. */
const SM_DEFINITION = {
  name: "sm",
  namespaces: [NS_SM],
  availability: { requires: { authenticated: true } },
  restarts: false,
  mandatory: false,
} as const satisfies StreamFeature;

function resolveSmOptions(options: StreamManagementOptions): ResolvedSmOptions {
  const { resume: _resume, ...rest } = options;
  const o: ResolvedSmOptions = { ...DEFAULTS, ...rest };
  if (!(o.ackEvery >= 1 && o.maxUnacked >= 1 && o.maxResumeSeconds >= 0 && o.ackAfterMs >= 0)) {
    throw new RangeError("streamManagement: ackEvery and maxUnacked must be ≥ 1, maxResumeSeconds and ackAfterMs ≥ 0");
  }
  return o;
}

/**
 * Stream Management with the client half only (what `ClientLifecycle` loads): a client bundle does not
 * carry the server half, as it would with {@link streamManagement}. Same options.
 */
export function smClientFeature(options: StreamManagementOptions = {}): StreamFeature<ClientEvent, ServerEvent> {
  return { ...SM_DEFINITION, client: smClientHalf(options) };
}

/** Stream Management with the server half only (`resume` is ignored): no client code. */
export function smServerFeature(options: StreamManagementOptions = {}): StreamFeature<ClientEvent, ServerEvent> {
  return { ...SM_DEFINITION, server: smServerHalf(options) };
}

function smClientHalf(options: StreamManagementOptions): () => SmClient {
  const o = resolveSmOptions(options);
  const resume = options.resume === undefined ? undefined : importSmState(options.resume);
  return () => new SmClient(o, resume);
}

function smServerHalf(options: StreamManagementOptions): () => SmServer {
  const o = resolveSmOptions(options);
  return () => new SmServer(o);
}

/** The context either half of SM works with. */
export type SmContext = ClientFeatureContext<ClientEvent> | ServerFeatureContext<ServerEvent>;

function sm(name: string, attrs?: Record<string, string | undefined>, ...children: XmlElement[]): XmlElement {
  return new XmlElement(name, NS_SM, attrs ?? null, children);
}

/** `<failed>` with a stanza error condition (XEP-0198 §3, §5), and `h` when known (v1.6). */
function failed(condition: string, h?: number): XmlElement {
  return sm("failed", h === undefined ? undefined : { h: String(h) }, new XmlElement(condition, NS_STANZAS));
}

/** The condition of a `<failed/>`: its first child in the stanza error namespace. */
function failedCondition(e: XmlElement): string {
  return e.elements().find((c) => c.ns === NS_STANZAS)?.name ?? "undefined-condition";
}

/**
 * What both halves share: counting, acknowledging, requesting acknowledgements.
 * @internal
 */
export abstract class SmHalf {
  /** Our unacknowledged outbound stanzas and their count (XEP-0198 `h`). */
  protected ledger = new Ledger();
  /** Counting our stanzas (after `<enable/>` on the client, `<enabled/>` on the server). */
  protected countingOut = false;
  /** Counting the peer's stanzas. */
  protected countingIn = false;
  /** The resumption id (`<enabled id/>`), when resumable. */
  protected id: string | undefined;
  /** Whether the session can be resumed. */
  protected resumable = false;
  /** Seconds the server keeps a detached session (`<enabled max/>`), if it said. */
  protected max: number | undefined;
  private sinceRequest = 0;
  private requestDue: number | undefined;
  /** Our end of the stream was written: the session ends for good, even if the transport breaks first. */
  protected closing = false;
  /** The `h` of the last `<a/>` we wrote. */
  private lastAck: number | undefined;

  /** @param o The options with defaults applied. */
  constructor(protected readonly o: ResolvedSmOptions) {}

  handleInbound(): void {
    if (this.countingIn) this.ledger.inbound = (this.ledger.inbound + 1) >>> 0;
  }

  handleOutbound(stanza: XmlElement, ctx: SmContext): void {
    if (!this.countingOut) return;
    this.ledger.push(stanza);
    if (this.ledger.pending > this.o.maxUnacked) {
      ctx.fatal("resource-constraint", `more than ${this.o.maxUnacked} stanzas not acknowledged (XEP-0198)`);
      return;
    }
    if (++this.sinceRequest >= this.o.ackEvery) this.request(ctx);
    else this.requestDue ??= ctx.now + this.o.ackAfterMs;
  }

  /** Writes `<r/>`. */
  protected request(ctx: SmContext): void {
    this.sinceRequest = 0;
    this.requestDue = undefined;
    ctx.write(sm("r"));
  }

  nextTimeout(): number | undefined {
    return this.requestDue;
  }

  /** Keepalive: `<r/>` is the probe (XEP-0198 §4: the peer must answer it at once). */
  handleProbe(ctx: SmContext): boolean {
    if (!this.countingOut || !this.countingIn) return false;
    this.request(ctx);
    return true;
  }

  /** Sends the `<r/>` that is due (XEP-0198 §4, the `ackEvery`/`ackAfterMs` policy). */
  handleTimeout(now: number, ctx: SmContext): void {
    if (this.requestDue !== undefined && now >= this.requestDue && this.countingOut) this.request(ctx);
  }

  /** `<r/>` and `<a/>`, the same in both roles once SM is on. Returns false for other elements. */
  protected handleAckElements(e: XmlElement, ctx: SmContext): boolean {
    if (e.name === "r" || e.name === "a") {
      if (!(e.name === "r" ? this.countingIn : this.countingOut)) {
        // Before SM is on. The server answers as for any out-of-order SM request; a client has no
        // way to answer a server, so the stream ends.
        if (ctx.role === "server") ctx.write(failed("unexpected-request"));
        else ctx.fatal("unsupported-stanza-type", `XEP-0198 <${e.name}/> before Stream Management was enabled`);
        return true;
      }
    }
    if (e.name === "r") {
      // XEP-0198 §4: answer a request at once.
      this.writeAck(ctx);
      return true;
    }
    if (e.name === "a") {
      this.acknowledge(e.attr("h"), ctx);
      return true;
    }
    return false;
  }

  /** Applies the peer's `h`. */
  protected acknowledge(hAttr: string | undefined, ctx: SmContext): XmlElement[] | undefined {
    const h = parseH(hAttr);
    if (h === undefined) {
      ctx.fatal("bad-format", "XEP-0198: 'h' must be an unsigned 32-bit integer");
      return undefined;
    }
    const r = this.ledger.ack(h);
    if ("tooHigh" in r) {
      // XEP-0198 §4: more stanzas acknowledged than were sent.
      ctx.fatal("undefined-condition", `the peer acknowledged ${h}, but only ${r.sent} stanzas were sent`, sm("handled-count-too-high", { h: String(h), "send-count": String(r.sent) }));
      return undefined;
    }
    this.onAcked(r.acked, ctx);
    return r.acked;
  }

  /** Called with the stanzas an `<a h/>` acknowledged (the client emits `stanza-acked` for each). */
  protected onAcked(_stanzas: XmlElement[], _ctx: SmContext): void {}

  /** Writes `<a h/>` with our count. */
  private writeAck(ctx: SmContext): void {
    this.lastAck = this.ledger.inbound;
    ctx.write(sm("a", { h: String(this.ledger.inbound) }));
  }

  /** Before our end of the stream: tell the peer what we handled (XEP-0198 §7), unless it just heard it. */
  protected finalAck(ctx: SmContext): void {
    if (this.countingIn && this.lastAck !== this.ledger.inbound) this.writeAck(ctx);
  }

  /** The JSON state of this session, or `undefined` when it is not resumable. */
  state(jid: Jid | undefined, location?: string): SmState | undefined {
    if (!this.resumable || this.id === undefined || jid === undefined || !this.countingOut) return undefined;
    return exportSmState(this.id, jid.toString(), this.ledger, { max: this.max, location });
  }
}

// -----------------------------------------------------------------------------------------------------


/** The client half. Find it with `smClient(session)`. */
export class SmClient extends SmHalf implements ClientFeature<ClientEvent> {
  private phase: "idle" | "resuming" | "enable-sent" | "enabled" | "off" = "idle";
  private location: string | undefined;
  private jid: Jid | undefined;

  constructor(
    o: ResolvedSmOptions,
    private resumeFrom: { state: SmState; unacked: XmlElement[] } | undefined,
  ) {
    super(o);
  }

  /** Whether SM is on (`<enabled/>` or `<resumed/>` received). */
  get enabled(): boolean {
    return this.phase === "enabled";
  }

  /** The state to resume this session with, once it ended while resumable (or any time while enabled). */
  exportState(): SmState | undefined {
    if (this.resumeFrom !== undefined) return this.resumeFrom.state;
    return this.state(this.jid, this.location);
  }

  negotiate(features: XmlElement, ctx: ClientFeatureContext<ClientEvent>): boolean {
    const offered = features.getChild("sm", NS_SM) !== undefined;
    if (!ctx.flags.bound) {
      const from = this.resumeFrom;
      if (from === undefined || this.phase !== "idle") return false;
      if (!offered) {
        this.resumeLost(ctx, "feature-not-implemented", undefined);
        return false;
      }
      ctx.write(sm("resume", { previd: from.state.id, h: String(from.state.inbound) }));
      this.phase = "resuming";
      return true;
    }
    if (offered && this.phase === "idle") {
      // We wait for <enabled/> before going online, so no stanza of ours is ever sent in the window
      // where we cannot tell whether the server counts it (a cut there would leave its fate unknown).
      ctx.write(this.enableElement());
      this.enableSent();
      return true;
    }
    return false;
  }

  /** The `<enable/>` element this client sends (for SASL2/Bind2 inline enabling as well). */
  enableElement(): XmlElement {
    return sm("enable", {
      resume: this.o.resumable ? "true" : undefined,
      max: this.o.resumable && this.o.maxResumeSeconds > 0 ? String(this.o.maxResumeSeconds) : undefined,
    });
  }

  /** `<enable/>` is out: our stanzas count from here (XEP-0198 §3). */
  enableSent(): void {
    this.phase = "enable-sent";
    this.ledger = new Ledger();
    this.countingOut = true;
  }

  handleElement(e: XmlElement, ctx: ClientFeatureContext<ClientEvent>): void {
    if (e.ns === NS_SM) {
      if (this.phase === "resuming") {
        if (e.name === "resumed") {
          this.handleResumed(e, ctx);
          return;
        }
        if (e.name === "failed") {
          this.resumeLost(ctx, failedCondition(e), parseH(e.attr("h")));
          ctx.done();
          return;
        }
      } else if (e.name === "enabled" && this.phase === "enable-sent") {
        this.handleEnabled(e, ctx);
        ctx.done();
        return;
      } else if (e.name === "failed" && this.phase === "enable-sent") {
        this.phase = "off";
        this.countingOut = false;
        this.ledger.drain();
        ctx.emit({ type: "sm-failed", condition: failedCondition(e), resume: false });
        ctx.done();
        return;
      } else if (this.handleAckElements(e, ctx)) return;
    }
    ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'>`);
  }

  /** `<enabled/>` (also when it arrives inline in a SASL2/Bind2 success). */
  handleEnabled(e: XmlElement, ctx: ClientFeatureContext<ClientEvent>): void {
    this.phase = "enabled";
    this.countingIn = true;
    this.jid = ctx.jid;
    this.id = e.attr("id");
    this.resumable = this.id !== undefined && (e.attr("resume") === "true" || e.attr("resume") === "1");
    const max = parseH(e.attr("max"));
    this.max = max;
    this.location = e.attr("location");
    ctx.emit({
      type: "sm-enabled",
      resumable: this.resumable,
      ...(this.id === undefined ? {} : { id: this.id }),
      ...(max === undefined ? {} : { max }),
      ...(this.location === undefined ? {} : { location: this.location }),
    });
  }

  /** `<resumed/>`: acknowledge, retransmit exactly what the server did not handle, go online. */
  handleResumed(e: XmlElement, ctx: ClientFeatureContext<ClientEvent>): void {
    const from = this.resumeFrom!;
    if (e.attr("previd") !== from.state.id) {
      ctx.fatal("undefined-condition", "XEP-0198: <resumed/> for another session");
      return;
    }
    this.resumeFrom = undefined;
    this.ledger = new Ledger({ inbound: from.state.inbound, acked: from.state.acked, unacked: from.unacked });
    this.countingOut = true;
    this.countingIn = true;
    this.phase = "enabled";
    this.id = from.state.id;
    this.resumable = true;
    this.max = from.state.max;
    this.location = from.state.location;
    if (this.acknowledge(e.attr("h"), ctx) === undefined) return;
    // XEP-0198 §5: retransmit what the server did not acknowledge; they keep their sequence numbers.
    for (const s of this.ledger.unacked()) ctx.write(s);
    if (this.ledger.pending > 0) this.request(ctx);
    this.jid = parseJid(from.state.jid);
    ctx.setBound(this.jid, { resumed: true });
    ctx.done();
  }

  /**
   * The `<resume/>` to send inline in a SASL2 `<authenticate/>` (XEP-0198 with XEP-0388), or `undefined`
   * when there is nothing to resume. Marks the resumption as started (no separate `<resume/>` follows).
   */
  resumeInline(): XmlElement | undefined {
    const from = this.resumeFrom;
    if (from === undefined || this.phase !== "idle") return undefined;
    this.phase = "resuming";
    return sm("resume", { previd: from.state.id, h: String(from.state.inbound) });
  }

  /** `<failed/>` in answer to an inline `<resume/>`: acknowledged stanzas reported, the rest lost. */
  handleResumeFailed(e: XmlElement, ctx: ClientFeatureContext<ClientEvent>): void {
    if (this.resumeFrom === undefined) return;
    const phase = this.phase; // Bind2 may have sent <enable/> in the same <authenticate/>
    this.resumeLost(ctx, failedCondition(e), parseH(e.attr("h")));
    if (phase === "enable-sent") this.phase = phase;
  }

  /** Resumption is impossible: what the server handled is acknowledged, the rest reported lost. */
  private resumeLost(ctx: ClientFeatureContext<ClientEvent>, condition: string, h: number | undefined): void {
    const from = this.resumeFrom!;
    this.resumeFrom = undefined;
    this.phase = "idle";
    const ledger = new Ledger({ inbound: from.state.inbound, acked: from.state.acked, unacked: from.unacked });
    const r = h === undefined ? undefined : ledger.ack(h);
    if (r !== undefined && "acked" in r) for (const stanza of r.acked) ctx.emit({ type: "stanza-acked", stanza });
    for (const stanza of ledger.drain()) ctx.emit({ type: "stanza-failed", stanza, reason: "resume-failed" });
    ctx.emit({ type: "sm-failed", condition, resume: true });
  }

  /** Emits `stanza-acked` for each acknowledged stanza. */
  protected override onAcked(stanzas: XmlElement[], ctx: ClientFeatureContext<ClientEvent>): void {
    for (const stanza of stanzas) ctx.emit({ type: "stanza-acked", stanza });
  }

  handleEnd(clean: boolean, ctx: ClientFeatureContext<ClientEvent>): void {
    if (this.resumeFrom !== undefined) return; // never used: still resumable as it was
    clean ||= this.closing;
    if (!clean && this.resumable && this.phase === "enabled") return; // resumable: see exportState()
    if (this.countingOut) {
      const reason = clean ? "closed" : "not-resumable";
      for (const stanza of this.ledger.drain()) ctx.emit({ type: "stanza-failed", stanza, reason });
    }
    this.resumable = false;
  }

  /** Before our `</stream:stream>`: our last `<a/>`, and a last `<r/>` if stanzas wait for one. */
  handleClosing(ctx: ClientFeatureContext<ClientEvent>): void {
    this.closing = true;
    if (this.phase !== "enabled") return;
    this.finalAck(ctx);
    if (this.ledger.pending > 0) this.request(ctx);
  }
}

// -----------------------------------------------------------------------------------------------------


/** The application's answer to a `resume-request`. */
export type ResumeAnswer =
  | { readonly state: SmState }
  | { readonly refuse: "item-not-found" | "unexpected-request"; /** the old session's `h`, if still known (XEP-0198 v1.6) */ readonly h?: number };

/** The server half. Find it with `smServer(session)`. */
export class SmServer extends SmHalf implements ServerFeature<ServerEvent> {
  private phase: "idle" | "resume-asked" | "enabled" | "moved" = "idle";
  private ctx: ServerFeatureContext<ServerEvent> | undefined;
  private previd = "";

  /** Whether SM is on. */
  get enabled(): boolean {
    return this.phase === "enabled";
  }

  /** Whether a `resume-request` waits for {@link SmServer.answerResume}. */
  get resumePending(): boolean {
    return this.phase === "resume-asked";
  }

  offer(): XmlElement {
    return sm("sm");
  }

  offerKey(): string {
    return "";
  }

  handleElement(e: XmlElement, ctx: ServerFeatureContext<ServerEvent>): void {
    this.ctx = ctx;
    if (!ctx.flags.authenticated) {
      ctx.fatal("not-authorized", "authenticate first");
      return;
    }
    if (e.name === "enable") {
      ctx.write(this.enable(e, ctx));
      return;
    }
    if (e.name === "resume") {
      this.handleResume(e, ctx);
      return;
    }
    if (this.handleAckElements(e, ctx)) return;
    ctx.fatal("unsupported-stanza-type", `<${e.name} xmlns='${e.ns}'> is not supported`);
  }

  /**
   * Answers `<enable/>` (also inline in Bind2): `<enabled/>`, or `<failed/>` before binding or when SM is
   * already on (XEP-0198 §3). Our stanzas count from the answer on, the client's from its request.
   */
  enable(e: XmlElement, ctx: ServerFeatureContext<ServerEvent>): XmlElement {
    if (!ctx.flags.bound || this.phase === "enabled" || this.phase === "moved") return failed("unexpected-request");
    this.phase = "enabled";
    this.ledger = new Ledger();
    this.countingIn = true;
    this.countingOut = true;
    const asked = e.attr("resume");
    this.resumable = this.o.resumable && (asked === "true" || asked === "1");
    const max = parseH(e.attr("max"));
    this.max = this.resumable ? Math.min(max ?? this.o.maxResumeSeconds, this.o.maxResumeSeconds) : undefined;
    this.id = this.resumable ? ctx.randomId(16) : undefined;
    ctx.emit({ type: "sm-enabled", resumable: this.resumable, ...(this.id === undefined ? {} : { id: this.id }), ...(this.max === undefined ? {} : { max: this.max }) });
    return sm("enabled", { id: this.id, resume: this.resumable ? "true" : undefined, max: this.max === undefined ? undefined : String(this.max) });
  }

  /**
   * `<resume/>` (also inline in a SASL2 `<authenticate/>`): asks `resume-request`; {@link answerResume}
   * writes `<resumed/>` or `<failed/>` through the context given here.
   */
  handleResume(e: XmlElement, ctx: ServerFeatureContext<ServerEvent>): void {
    this.ctx = ctx;
    const h = parseH(e.attr("h"));
    const previd = e.attr("previd");
    if (ctx.flags.bound || this.phase !== "idle") {
      // XEP-0198 §5: resumption replaces resource binding; after it (or twice) it is out of order.
      ctx.write(failed("unexpected-request"));
      return;
    }
    if (h === undefined || previd === undefined || previd === "") {
      ctx.write(failed("bad-request"));
      return;
    }
    this.phase = "resume-asked";
    this.previd = previd;
    this.pendingH = h;
    ctx.pause();
    ctx.emit({ type: "resume-request", previd, h });
  }

  private pendingH = 0;

  /**
   * Answers `resume-request`: resume `state` (the detached or taken-over session of that id — the core
   * checks that it belongs to the authenticated account), or refuse with `<failed/>`.
   */
  answerResume(answer: ResumeAnswer): void {
    const ctx = this.ctx;
    if (ctx === undefined || this.phase !== "resume-asked") throw new TypeError("answerResume() without a pending resume-request");
    if (ctx.ended) return;
    this.phase = "idle";
    if ("refuse" in answer) {
      ctx.write(failed(answer.refuse, answer.h));
      ctx.resume();
      return;
    }
    let imported: { state: SmState; unacked: XmlElement[] };
    let jid: Jid;
    try {
      imported = importSmState(answer.state);
      jid = parseJid(imported.state.jid);
    } catch {
      ctx.write(failed("item-not-found"));
      ctx.resume();
      return;
    }
    // Only the account that owns the session may resume it (never tell others it exists).
    if (imported.state.id !== this.previd || jid.local !== ctx.username || jid.domain !== ctx.domain || jid.resource === "") {
      ctx.write(failed("item-not-found"));
      ctx.resume();
      return;
    }
    this.ledger = new Ledger({ inbound: imported.state.inbound, acked: imported.state.acked, unacked: imported.unacked });
    this.phase = "enabled";
    this.countingIn = true;
    this.countingOut = true;
    this.resumable = true;
    this.id = imported.state.id;
    this.max = imported.state.max;
    ctx.write(sm("resumed", { previd: this.id, h: String(this.ledger.inbound) }));
    if (this.acknowledge(String(this.pendingH), ctx) === undefined) return;
    // XEP-0198 §5: retransmit exactly the stanzas the client did not handle.
    for (const s of this.ledger.unacked()) ctx.write(s);
    if (this.ledger.pending > 0) this.request(ctx);
    ctx.setBound(jid, { resumed: true });
    ctx.resume();
  }

  /** The resumption id of this session, when SM is on and resumable. */
  get resumptionId(): string | undefined {
    return this.phase === "enabled" && this.resumable ? this.id : undefined;
  }

  /**
   * Takes the live state away from this session for a resumption of `previd` on another connection
   * (the same client came back before we noticed this one was dead). Nothing happens, and `undefined`
   * comes back, when this session is not `previd`. After a take-over this session reports nothing at
   * its end; close it (`abort("conflict", …)`, as Prosody's mod_smacks does).
   */
  takeOver(jid: Jid | undefined, previd: string): SmState | undefined {
    if (this.resumptionId !== previd) return undefined;
    const state = this.state(jid);
    if (state !== undefined) this.phase = "moved";
    return state;
  }

  handleEnd(clean: boolean, ctx: ServerFeatureContext<ServerEvent>): void {
    if (this.phase !== "enabled") return;
    this.phase = "moved";
    const state = clean || this.closing ? undefined : this.state(ctx.jid);
    if (state !== undefined) {
      ctx.emit({ type: "sm-detached", state });
      return;
    }
    // XEP-0198 §6: unacknowledged stanzas are treated as stanzas to an unavailable resource.
    const stanzas = this.ledger.drain();
    if (stanzas.length > 0) ctx.emit({ type: "undelivered", stanzas });
  }

  handleClosing(ctx: ServerFeatureContext<ServerEvent>): void {
    this.closing = true;
    if (this.phase === "enabled") this.finalAck(ctx);
  }
}

/** The Stream Management half of a client session, if the feature is loaded. */
export function smClient(session: { featureHalf(name: string): unknown }): SmClient | undefined {
  const h = session.featureHalf("sm");
  return h instanceof SmClient ? h : undefined;
}

/** The Stream Management half of a server session, if the feature is loaded. */
export function smServer(session: { featureHalf(name: string): unknown }): SmServer | undefined {
  const h = session.featureHalf("sm");
  return h instanceof SmServer ? h : undefined;
}
