/**
 * The feature context: what a stream feature's half may see and do on its session
 * ({@link FeatureContext}, {@link NegotiationControl}, and the role-specific fields), and the members of
 * the session it reaches for that, declared by {@link FeatureContextHost} and implemented by the session
 * base class.
 *
 * @module
 */
import type { Jid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import type { FeatureContext, FeatureOutcome, NegotiationControl, StreamFlags } from "./features/types.js";
import type { FramingStrategy } from "./session-framing.js";
import { AUTHENTICATED, BOUND, withFlag } from "./session-shared.js";
import type { ClosedEvent, TlsInfo } from "./session-types.js";
import type { StanzaErrorCondition } from "./stanza-errors.js";
import type { Transition } from "./state.js";
import type { StreamErrorCondition } from "./stream-errors.js";

/**
 * What the feature context reaches of its session: the session base class extends this class and
 * implements its members. The context is a class in this class's body — which is what lets it use these
 * protected members without making them part of the session's public surface. The session creates its
 * context here (`ctx`), one per session.
 * @internal
 */
export abstract class FeatureContextHost<C> {
  /** The context handed to every feature of this session (one small object; its methods are shared). */
  protected readonly ctx: C;

  constructor(role: "client" | "server") {
    this.ctx = new FeatureContextHost.Context(this, role) as unknown as C;
  }

  /** The latest `now` we were given. */
  protected abstract now: number;
  /** The framing strategy (for its kind and the STARTTLS hand-over). */
  protected abstract readonly framing: FramingStrategy;
  /** The detailed state kind. */
  protected abstract kind: string;
  /** What the stream has achieved. */
  protected abstract flagState: StreamFlags;
  /** TLS facts once TLS is up. */
  protected abstract tls: TlsInfo | undefined;
  /** The bound full JID, once online. */
  protected abstract boundJid: Jid | undefined;
  /** Server: the authenticated account (localpart). */
  protected abstract username: string | undefined;
  /** Client: the configured account (bare JID). */
  protected abstract account: Jid | undefined;
  /** Server: the domain this stream serves. */
  protected abstract domain: string | undefined;
  /** Server: the peer's `from` on its stream header, if it was a valid JID. */
  protected abstract peerFrom: string | undefined;
  /** Questions pending with the application, or a hand-over: input stays buffered, unparsed. */
  protected abstract paused: boolean;

  /** The id of the current stream, for {@link FeatureContext.streamId}. */
  protected abstract currentStreamIdForFeatures(): string | undefined;
  /** Writes one element. */
  protected abstract write(el: XmlElement): void;
  /** Queues an event for `pollEvent` (of the session's event type: the context's `emit` passes it on unchecked). */
  protected abstract emit(ev: never): void;
  /** A fatal stream error detected here (RFC 6120 §4.9.1.1). */
  protected abstract fatal(condition: StreamErrorCondition, text?: string, applicationCondition?: XmlElement): void;
  /** Fills `n` random bytes from the injected source. */
  protected abstract randomBytes(n: number): Uint8Array;
  /** A random identifier, base64url without padding. */
  protected abstract randomId(bytes?: number): string;
  /** A feature's negotiation step is over (see {@link FeatureContext.done}). */
  protected abstract featureDone(restart: boolean, newFeatures: boolean): void;
  /** This session's half of the feature named `name`, if loaded. */
  protected abstract featureHalf(name: string): unknown;
  /** Resumes parsing after the application answered a question. */
  protected abstract resume(): void;
  /** Answers a stanza with a stanza error (server). */
  protected abstract replyError(stanza: XmlElement, condition: StanzaErrorCondition, text?: string): void;
  /** Moves along the role's transition table. */
  protected abstract go(t: Transition): void;
  /** Switches the parser to the post-authentication limits. */
  protected abstract authLimits(): void;
  /**
   * A full JID is bound. The server goes online at once; the client when no feature is left to negotiate
   * (the legacy session request, XEP-0198 `<enable/>`).
   */
  protected abstract onBound(resumed: boolean): void;
  /** Ends the session: `closed` event, no more input, no more timers. */
  protected abstract finish(reason: ClosedEvent["reason"], seeOtherUri?: string): void;
  /** Starts a graceful close. */
  protected abstract close(now: number): void;

  /**
   * The feature context: one per session, methods on the prototype (no closures, no per-session
   * property descriptors), reaching the session's protected members from inside its class body.
   */
  private static readonly Context = class SessionContext implements FeatureContext<unknown>, NegotiationControl {
    constructor(
      private readonly s: FeatureContextHost<unknown>,
      readonly role: "client" | "server",
    ) {}
    get now(): number {
      return this.s.now;
    }
    get framing(): "stream" | "websocket" {
      return this.s.framing.kind;
    }
    get flags(): StreamFlags {
      return this.s.flagState;
    }
    get tls(): TlsInfo | undefined {
      return this.s.tls;
    }
    get jid(): Jid | undefined {
      return this.s.boundJid;
    }
    get streamId(): string | undefined {
      return this.s.currentStreamIdForFeatures();
    }
    get ended(): boolean {
      return this.s.kind === "closed";
    }
    get account(): Jid | undefined {
      return this.s.account;
    }
    get domain(): string | undefined {
      return this.s.domain;
    }
    get username(): string | undefined {
      return this.s.username;
    }
    get peerFrom(): string | undefined {
      return this.s.peerFrom;
    }
    write(el: XmlElement): void {
      this.s.write(el);
    }
    emit(ev: unknown): void {
      this.s.emit(ev as never);
    }
    fatal(condition: StreamErrorCondition, text?: string, app?: XmlElement): void {
      this.s.fatal(condition, text, app);
    }
    randomBytes(n: number): Uint8Array {
      return this.s.randomBytes(n);
    }
    randomId(bytes?: number): string {
      return this.s.randomId(bytes);
    }
    done(outcome?: FeatureOutcome): void {
      this.s.featureDone(outcome?.restart === true, outcome?.features === true);
    }
    feature(name: string): unknown {
      return this.s.featureHalf(name);
    }
    pause(): void {
      this.s.paused = true;
    }
    resume(): void {
      if (this.s.kind !== "closed") this.s.resume();
    }
    replyError(stanza: XmlElement, condition: StanzaErrorCondition, text?: string): void {
      this.s.replyError(stanza, condition, text);
    }
    handOverTls(): void {
      // RFC 6120 §5.4.3.3 / CVE-2011-0411: not one byte after the boundary is parsed as XML.
      const tlsBytes = this.s.framing.takeUnparsed();
      this.s.go("tls-handover");
      this.s.paused = true;
      this.emit({ type: "starttls", tlsBytes });
    }
    setAuthenticated(identity: { readonly mechanism: string; readonly username?: string }): void {
      this.s.flagState = withFlag(this.s.flagState, AUTHENTICATED);
      this.s.username = identity.username;
      this.s.authLimits();
      this.emit({ type: "authenticated", ...identity });
    }
    setBound(jid: Jid, extra?: { readonly resumed?: boolean }): void {
      this.s.flagState = withFlag(this.s.flagState, BOUND);
      this.s.boundJid = jid;
      this.s.onBound(extra?.resumed === true);
    }
    end(reason: "stream-error" | "auth-failed"): void {
      this.s.framing.writeClose();
      this.s.finish(reason);
    }
    close(): void {
      this.s.close(this.s.now);
    }
  };
}
