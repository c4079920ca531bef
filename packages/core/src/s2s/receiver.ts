/**
 * The receiving server of a server-to-server stream (RFC 6120 with `jabber:server`): checks the s2s
 * header rules (§4.7.1: `from` and `to` are domains), asks the application whether it serves `to`,
 * offers STARTTLS (required by default), SASL EXTERNAL when the peer's verified certificate names its
 * domain (RFC 6125/RFC 9525 `xmpp-server` identities), and Server Dialback (XEP-0220). Once a domain
 * pair is authenticated, stanzas flow from the peer, each checked (§8.1.1.1, §8.1.2.1, §4.9.3).
 *
 * Built on {@link ServerSession}: the same machinery, another feature set (no resource binding on s2s,
 * RFC 6120 §7.1).
 *
 * @module
 */
import { NS_SERVER, type XmlElement } from "@xmpp-sansio/xml";
import { starttlsFeature } from "../features/starttls.js";
import type { ServerFeature, StreamFeature } from "../features/types.js";
import type { HeaderAttributes } from "../session-framing.js";
import { ServerSession } from "../session-server.js";
import type { ServerEvent, ServerOptions } from "../session-types.js";
import { bidiFeature } from "./bidi.js";
import { type DialbackServer, dialbackFeature } from "./dialback.js";
import { s2sExternalFeature } from "./external.js";
import { S2S_PREFIXES } from "./initiator.js";
import { SessionStateError } from "../session-base.js";
import { checkS2SAddresses, DomainPairs, domainJid, domainOf, reverseAllowed, type S2SHost } from "./pairs.js";
import type { DialbackAnswer, S2SReceiverOptions } from "./types.js";

/**
 * The receiving server's session. Events are the server role's (`host-check`, `starttls`,
 * `authenticated`, `online`, `stanza`, …) plus `dialback-result-request` (answer with
 * {@link answerDialbackResult}) and `domain-authenticated`. `stanza` events carry stanzas whose `from`
 * and `to` domains are an authenticated pair; nothing is stamped (the peer is a server).
 */
export class S2SReceiverSession extends ServerSession implements S2SHost {
  private readonly pairs = new DomainPairs();
  /** XEP-0288: the initiating server asked for a bidirectional stream. */
  bidi = false;

  constructor(options: S2SReceiverOptions = {}) {
    super(options as ServerOptions & S2SReceiverOptions);
    this.contentNs = NS_SERVER;
  }

  protected override streamFeatures(options: ServerOptions): (readonly [StreamFeature, ServerFeature<ServerEvent> | undefined])[] {
    const o = options as ServerOptions & S2SReceiverOptions;
    const starttls = starttlsFeature(this.tlsPolicy);
    const bidi = bidiFeature(this, o.bidi ?? true);
    const external = s2sExternalFeature(this, o.external ?? true);
    const dialback = dialbackFeature(this, {
      secret: o.dialbackSecret,
      purpose: "authenticate",
      offer: o.dialback ?? true,
      requireSecure: this.tlsPolicy === "required",
      maxPending: o.maxPendingDialback ?? 16,
    });
    return [
      [starttls, starttls.server!() as ServerFeature<ServerEvent>],
      [bidi, bidi.server!() as ServerFeature<ServerEvent>],
      [external, external.server!() as ServerFeature<ServerEvent>],
      [dialback, dialback.server!() as ServerFeature<ServerEvent>],
    ];
  }

  // S2SHost ---------------------------------------------------------------------------------------

  /** Our domain (the `to` of the peer's header, once accepted). */
  get localDomain(): string | undefined {
    return this.domain;
  }
  /** The peer's domain (the `from` of its header). */
  get remoteDomain(): string | undefined {
    return domainOf(this.peerFrom);
  }
  /** The id of our stream header (dialback keys are made for it). */
  get receivingStreamId(): string {
    return this.currentStreamId;
  }
  /** @internal */
  authorize(from: string, to: string): void {
    this.pairs.add(from, to);
  }
  /** Whether stanzas `from` → `to` are accepted on this stream. */
  isAuthorized(from: string, to: string): boolean {
    return this.pairs.has(from, to);
  }
  /** Whether any domain pair is authenticated. */
  get anyAuthorized(): boolean {
    return this.pairs.size > 0;
  }

  // -----------------------------------------------------------------------------------------------

  protected override headerAttributes(): HeaderAttributes {
    // RFC 6120 §4.7.1: answer with from = our domain, to = the initiating server's domain.
    return { ...super.headerAttributes(), contentNs: NS_SERVER, prefixes: S2S_PREFIXES };
  }

  protected override acceptPeerHeader(header: XmlElement, restarted: boolean): boolean {
    const from = domainOf(header.attr("from"));
    if (from === undefined) {
      this.fatal("invalid-from", "a server-to-server stream header needs a 'from' domain (RFC 6120 §4.7.1)");
      return false;
    }
    if (restarted && this.pairs.size > 0 && !this.pairs.hasFrom(from)) {
      this.fatal("invalid-from", "the 'from' of a restarted stream must not change");
      return false;
    }
    return true;
  }

  /** After SASL EXTERNAL and the restart (RFC 6120 §6.4.6): the stream is online. */
  /** Online: keeps the peer's `from` (it is {@link remoteDomain}); the receiver has no SASL or bind halves to drop. */
  protected override dropNegotiationState(): void {}

  protected override afterFeatures(): void {
    if (this.flags.authenticated && !this.flags.bound) this.ctx.setBound(domainJid(this.username!));
  }

  /**
   * Answers `dialback-result-request`: whether the key was verified by the authoritative server (and
   * `to` is ours). `{ valid: false, condition }` sends `<db:result type='error'/>` (XEP-0220 §2.4).
   * Late answers (after the stream ended or restarted) are ignored.
   */
  answerDialbackResult(from: string, to: string, answer: DialbackAnswer): void {
    // Closed, or in the STARTTLS hand-over (the pending request dies with the pre-TLS stream): ignored.
    if (this.state === "closed" || this.state === "tls-handshake") return;
    const half = this.featureHalf("dialback") as DialbackServer | undefined;
    if (half === undefined || !half.isPending(from, to)) return;
    half.answer(from, to, answer, this.ctx);
    this.pump();
  }

  /** RFC 6120 §8.1.1.1, §8.1.2.1, §4.9.3.9, §4.9.3.10: s2s stanzas are addressed on both ends. */
  protected override onStanza(e: XmlElement): void {
    this.features.observeInbound(e, this.ctx);
    const problem = checkS2SAddresses(
      e,
      (from) => this.pairs.hasFrom(from),
      (from, to) => this.pairs.has(from, to),
    );
    if (problem !== undefined) {
      if (problem.kind === "stream") this.fatal(problem.condition, problem.text);
      else this.replyError(e, problem.condition, problem.text);
      return;
    }
    if (this.refuseMalformedIq(e)) return;
    if (this.features.takes(e, this.ctx)) return;
    this.emit({ type: "stanza", stanza: e });
  }

  /**
   * Sends a stanza to the initiating server: only with XEP-0288 (`bidi` requested by the peer), and only
   * in the reverse direction of an authenticated pair (`from` of our domain, `to` of the peer's).
   * @throws SessionStateError otherwise (RFC 6120 s2s streams are unidirectional).
   */
  override send(stanza: XmlElement): void {
    if (!this.bidi) throw new SessionStateError("s2s streams are unidirectional (RFC 6120 §4.7): send over an outbound stream, or let the peer request XEP-0288");
    if (!reverseAllowed(stanza, this.pairs)) throw new SessionStateError("with XEP-0288, stanzas need 'from' of our domain and 'to' of an authenticated peer domain");
    super.send(stanza);
  }
}
