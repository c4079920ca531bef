/**
 * The initiating server of a server-to-server stream (RFC 6120 with `jabber:server`): opens the stream
 * `from` our domain `to` the peer's, negotiates STARTTLS (required by default), then authenticates with
 * SASL EXTERNAL when the receiving server offers it for our certificate, else with Server Dialback
 * (XEP-0220), and goes online: stanzas flow from us to the peer (RFC 6120 streams are unidirectional).
 *
 * Built on {@link ClientSession}: the same machinery, another feature set (no resource binding on s2s,
 * RFC 6120 §7.1) and the s2s addressing rules.
 *
 * @module
 */
import type { Jid } from "@xmpp-sansio/jid";
import { NS_SERVER, type XmlElement } from "@xmpp-sansio/xml";
import { starttlsFeature } from "../features/starttls.js";
import type { ClientFeature, StreamFeature } from "../features/types.js";
import { SessionStateError } from "../session-base.js";
import { ClientSession } from "../session-client.js";
import type { HeaderAttributes } from "../session-framing.js";
import type { ClientEvent, ClientOptions } from "../session-types.js";
import { type DialbackClient, dialbackFeature } from "./dialback.js";
import { s2sExternalFeature } from "./external.js";
import { bidiFeature } from "./bidi.js";
import { checkS2SAddresses, DomainPairs, domainOf, domainPartOf, type S2SHost } from "./pairs.js";
import { errorReply, stanzaError } from "../stanza-errors.js";
import { NS_DIALBACK, type S2SInitiatorOptions } from "./types.js";

/** The `db` prefix on our stream header (XEP-0220 §2.1.1: peers expect it for dialback). */
export const S2S_PREFIXES: ReadonlyMap<string, string> = new Map([["db", NS_DIALBACK]]);

/**
 * The initiating server's session. Events are the client role's (`stream-opened`, `starttls`,
 * `authenticated`, `online`, …) plus `dialback-result` and `dialback-verify-result`.
 *
 * @example
 * ```ts
 * const s = new S2SInitiatorSession({ from: "capulet.example", to: "montague.example", dialbackSecret });
 * s.start(now); // then the usual loop: receive → pollEvent → pollTransmit → nextTimeout
 * ```
 */
export class S2SInitiatorSession extends ClientSession implements S2SHost {
  private readonly pairs = new DomainPairs();
  private readonly peer: string;
  private readonly hasSecret: boolean;
  /** XEP-0288: we asked for a bidirectional stream (option `bidi`, and the peer offered it). */
  bidi = false;

  constructor(options: S2SInitiatorOptions) {
    const from = domainOf(options.from);
    const to = domainOf(options.to);
    if (from === undefined || to === undefined) throw new TypeError("s2s: 'from' and 'to' must be domains (RFC 6120 §4.7.1)");
    super({ ...options, jid: from } as ClientOptions & S2SInitiatorOptions);
    this.peer = to;
    this.hasSecret = options.dialbackSecret !== undefined;
    this.contentNs = NS_SERVER;
  }

  protected override streamFeatures(options: ClientOptions, _j: Jid): (readonly [StreamFeature, ClientFeature<ClientEvent> | undefined])[] {
    const o = options as ClientOptions & S2SInitiatorOptions;
    const starttls = starttlsFeature(this.tlsPolicy);
    const bidi = bidiFeature(this, o.bidi === true && o.purpose !== "verify");
    const external = s2sExternalFeature(this, o.noExternal !== true && o.purpose !== "verify");
    const dialback = dialbackFeature(this, {
      secret: o.dialbackSecret,
      purpose: o.purpose ?? "authenticate",
      offer: true,
      requireSecure: this.tlsPolicy === "required",
      maxPending: 16,
    });
    return [
      [starttls, starttls.client!() as ClientFeature<ClientEvent>],
      [bidi, bidi.client!() as ClientFeature<ClientEvent>],
      [external, external.client!() as ClientFeature<ClientEvent>],
      [dialback, dialback.client!() as ClientFeature<ClientEvent>],
    ];
  }

  // S2SHost ---------------------------------------------------------------------------------------

  /** Our domain (the stream's `from`). */
  get localDomain(): string {
    return this.jid.domain;
  }
  /** The peer's domain (the stream's `to`). */
  get remoteDomain(): string {
    return this.peer;
  }
  /** The id of the receiving server's current stream header. */
  get receivingStreamId(): string | undefined {
    return this.streamId;
  }
  /** @internal */
  authorize(from: string, to: string): void {
    this.pairs.add(from, to);
  }
  /** Whether stanzas `from` → `to` may be sent on this stream (the pair is authenticated). */
  isAuthorized(from: string, to: string): boolean {
    return this.pairs.has(from, to);
  }
  /** Whether any domain pair is authenticated. */
  get anyAuthorized(): boolean {
    return this.pairs.size > 0;
  }

  // -----------------------------------------------------------------------------------------------

  protected override headerAttributes(): HeaderAttributes {
    // RFC 6120 §4.7.1: on s2s, 'from' and 'to' are domains and both are required.
    return { to: this.peer, from: this.localDomain, lang: this.lang, contentNs: NS_SERVER, prefixes: S2S_PREFIXES };
  }

  /** RFC 6120 §4.7.1: the receiving server answers `from` = the domain we asked for; another one is refused. */
  protected override onOpen(header: XmlElement, namespaces: ReadonlyMap<string, string>): void {
    super.onOpen(header, namespaces);
    const from = header.attr("from");
    if (this.detailedState === "await-features" && from !== undefined && domainOf(from) !== this.peer) {
      this.fatal("invalid-from", `the receiving server answered as '${from}', not '${this.peer}'`);
    }
  }

  /** Whitespace keepalive (RFC 6120 §4.6.1): a domain has no account to ping from. */
  protected override defaultProbe(): boolean {
    this.framing.writeKeepalive();
    return false;
  }

  /**
   * RFC 6120 §4.7: the receiving server sends no stanzas over our stream — unless XEP-0288 was negotiated;
   * then they must be in the reverse direction of an authenticated pair (§8.1.1.1, §8.1.2.1).
   */
  protected override onStanza(e: XmlElement): void {
    if (!this.bidi) {
      this.fatal("unsupported-stanza-type", `<${e.name}/> on the initiating side of a server-to-server stream: s2s streams are unidirectional`);
      return;
    }
    const problem = checkS2SAddresses(
      e,
      (from) => this.pairs.hasTo(from),
      (from, to) => this.pairs.has(to, from),
    );
    if (problem !== undefined) {
      if (problem.kind === "stream") this.fatal(problem.condition, problem.text);
      else {
        const reply = errorReply(e, stanzaError(problem.condition, { text: problem.text, lang: "en" }));
        if (reply !== undefined) this.write(reply);
      }
      return;
    }
    super.onStanza(e);
  }

  /**
   * Sends a stanza (online only). RFC 6120 §8.1.1.1, §8.1.2.1: on s2s every stanza carries `to` and `from`,
   * and their domains must be an authenticated pair of this stream.
   * @throws SessionStateError otherwise (a bug of the caller: check {@link isAuthorized} first).
   */
  override send(stanza: XmlElement): void {
    this.checkPair(stanza);
    super.send(stanza);
  }

  /** {@link ClientSession.sendIq} with the same address rule as {@link send}. */
  override sendIq(iq: XmlElement, now: number, timeoutMs?: number): string {
    this.checkPair(iq);
    return super.sendIq(iq, now, timeoutMs);
  }

  private checkPair(stanza: XmlElement): void {
    const from = stanza.attr("from");
    const to = stanza.attr("to");
    const fromDomain = domainPartOf(from);
    const toDomain = domainPartOf(to);
    if (fromDomain === undefined || toDomain === undefined || !this.pairs.has(fromDomain, toDomain)) {
      throw new SessionStateError(`s2s stanzas need 'from' and 'to' of an authenticated domain pair (RFC 6120 §8.1.1.1); got ${from ?? "no from"} → ${to ?? "no to"}`);
    }
  }

  /**
   * Piggybacking (XEP-0220 §2.5): authenticates one more pair `from` → `to` on this online stream with
   * dialback. The outcome comes as `dialback-result`.
   */
  authenticateDomain(from: string, to: string = this.peer): void {
    const f = domainOf(from);
    const t = domainOf(to);
    if (f === undefined || t === undefined) throw new TypeError("authenticateDomain(): 'from' and 'to' must be domains");
    if (this.state !== "online") throw new SessionStateError("authenticateDomain() needs an online stream");
    const half = this.dialback();
    if (half === undefined || !this.hasSecret) throw new SessionStateError("authenticateDomain() needs a dialback secret");
    half.request(f, t, this.ctx);
  }

  /**
   * Sends `<db:verify from id to>key</db:verify>` to the authoritative server (XEP-0220 §2.1.2): `from` is
   * our (receiving) domain, `to` the originating domain, `id` the stream id the key came with. The answer
   * comes as `dialback-verify-result`. Allowed online, or on a `purpose: "verify"` stream once it is set
   * up. Returns `false` when too many verifications are pending.
   */
  sendDialbackVerify(req: { readonly from: string; readonly to: string; readonly id: string; readonly key: string }): boolean {
    const half = this.dialback();
    if (half === undefined || !(this.state === "online" || half.verifyOnly)) throw new SessionStateError("sendDialbackVerify() before the stream is set up");
    return half.verify(req, this.ctx);
  }

  private dialback(): DialbackClient | undefined {
    return this.featureHalf("dialback") as DialbackClient | undefined;
  }
}

