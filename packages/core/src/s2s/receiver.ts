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
import { JidError, tryParseJid } from "@xmpp-sansio/jid";
import { NS_SERVER, type XmlElement } from "@xmpp-sansio/xml";
import { starttlsFeature } from "../features/starttls.js";
import type { ServerFeature, StreamFeature } from "../features/types.js";
import type { HeaderAttributes } from "../session-framing.js";
import { ServerSession } from "../session-server.js";
import type { ServerEvent, ServerOptions } from "../session-types.js";
import { type DialbackServer, dialbackFeature } from "./dialback.js";
import { s2sExternalFeature } from "./external.js";
import { S2S_PREFIXES } from "./initiator.js";
import { DomainPairs, domainJid, domainOf, type S2SHost } from "./pairs.js";
import type { DialbackAnswer, S2SReceiverOptions } from "./types.js";

/**
 * The receiving server's session. Events are the server role's (`host-check`, `starttls`,
 * `authenticated`, `online`, `stanza`, …) plus `dialback-result-request` (answer with
 * {@link answerDialbackResult}) and `domain-authenticated`. `stanza` events carry stanzas whose `from`
 * and `to` domains are an authenticated pair; nothing is stamped (the peer is a server).
 */
export class S2SReceiverSession extends ServerSession implements S2SHost {
  private readonly pairs = new DomainPairs();

  constructor(options: S2SReceiverOptions = {}) {
    super(options as ServerOptions & S2SReceiverOptions);
    this.contentNs = NS_SERVER;
  }

  protected override streamFeatures(options: ServerOptions): (readonly [StreamFeature, ServerFeature<ServerEvent> | undefined])[] {
    const o = options as ServerOptions & S2SReceiverOptions;
    const starttls = starttlsFeature(this.tlsPolicy);
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
    this.observeInbound(e);
    const fromAttr = e.attr("from");
    const toAttr = e.attr("to");
    if (fromAttr === undefined || toAttr === undefined) {
      this.fatal("improper-addressing", "a stanza between servers needs 'from' and 'to' (RFC 6120 §8.1.1.1, §8.1.2.1)");
      return;
    }
    const from = tryParseJid(fromAttr);
    if (from instanceof JidError || !this.pairs.hasFrom(from.domain)) {
      this.fatal("invalid-from", `'from' ${from instanceof JidError ? "is not a JID" : `(${from.domain}) is not an authenticated domain of this stream`}`);
      return;
    }
    const to = tryParseJid(toAttr);
    if (to instanceof JidError) {
      this.replyError(e, "jid-malformed", to.message);
      return;
    }
    if (!this.pairs.has(from.domain, to.domain)) {
      this.fatal("host-unknown", `${to.domain} is not a domain ${from.domain} was authenticated for on this stream`);
      return;
    }
    e.setAttr("from", from.toString());
    e.setAttr("to", to.toString());
    if (this.refuseMalformedIq(e)) return;
    if (this.featureTakes(e)) return;
    this.emit({ type: "stanza", stanza: e });
  }
}
