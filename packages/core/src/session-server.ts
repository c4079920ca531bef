/**
 * The receiving entity (server) of RFC 6120 for client-to-server streams: answers the stream header,
 * offers the loaded stream features (STARTTLS, SASL, the application's features, resource binding, legacy
 * session), asks the application every question that needs its data (served domains, stored credentials,
 * resources in use), then validates, stamps and delivers stanzas.
 *
 * @module
 */
import { type Jid, JidCache, JidError, parseJid, tryParseJid } from "@xmpp-sansio/jid";
import { NS_STREAMS, type XmlElement } from "@xmpp-sansio/xml";
import { BIND_DEFINITION, BindServer } from "./features/bind.js";
import { DEFAULT_SERVER_MECHANISMS, SASL_DEFINITION, type SaslQuestion, SaslServer, type SaslServerOptions } from "./features/sasl.js";
import { SASL2_DEFINITION } from "./features/sasl2/index.js";
import { Sasl2Server } from "./features/sasl2/server.js";
import { SESSION_DEFINITION, sessionServer } from "./features/session.js";
import { starttlsFeature } from "./features/starttls.js";
import { featuresByPhase, isAvailable, type ServerFeature, type ServerFeatureContext, type StreamFeature } from "./features/types.js";
import { defineBitFlags } from "./bit-flags.js";
import { FeatureSet, replaceHalf, sharedSet } from "./feature-set.js";
import { sharedHalf } from "./shared-options.js";
import { parseStreamVersion, SESSION_FLAGS, SessionBase, SessionStateError } from "./session-base.js";
import type { HeaderAttributes } from "./session-framing.js";
import type {
  BindAnswer,
  ResourceConflictPolicy,
  SansIoSession,
  ScramStoredCredentials,
  ServerEvent,
  ServerOptions,
  TlsInfo,
  TlsPolicy,
} from "./session-types.js";
import { errorReply, type StanzaErrorCondition, stanzaError } from "./stanza-errors.js";
import { SERVER_TRANSITIONS, type ServerStateKind } from "./state.js";
import { definedOnly, el, iqProblem, isStanza } from "./util.js";

const SUBSCRIPTION_TYPES = new Set(["subscribe", "subscribed", "unsubscribe", "unsubscribed"]);

/**
 * The `to` and `from` addresses of stanzas received online, parsed and prepared once for all sessions of
 * the process (RFC 7622 preparation is most of a stanza's inbound CPU otherwise): bounded, oldest out
 * first; JIDs are immutable, so sharing them is safe.
 */
const STANZA_ADDRESSES = new JidCache(4096);
/** The `to` of stream headers (the domains served, two or three headers per login): parsed once each. */
const HEADER_DOMAINS = new JidCache(64);

/**
 * What an online session keeps of SASL (RFC 6120 §6): authentication is over, so an `<auth/>` or any other
 * SASL element is answered as {@link SaslServer} answers it once authenticated. Shared by every session.
 */
const SASL_DONE: ServerFeature<ServerEvent> = sharedHalf({
  offer: () => undefined,
  handleElement(e, ctx) {
    ctx.fatal("unsupported-stanza-type", `<${e.name} xmlns='${e.ns}'> is not supported`);
  },
});
/**
 * What an online session keeps of resource binding: a {@link BindServer} of a bound stream holds no state
 * (it refuses a second `<bind/>` with `<not-allowed/>`), so one serves every session.
 */
const BIND_DONE = sharedHalf(new BindServer()) as ServerFeature<ServerEvent>;

interface SaslOptionsPair {
  readonly sasl1: SaslServerOptions;
  readonly sasl2: SaslServerOptions;
  /** What they were made from (a caller that changes its options object gets a new pair). */
  readonly from: readonly unknown[];
}
const saslOptionsCache = new WeakMap<object, SaslOptionsPair>();

/** The markup of `<stream:features/>` sent by the sessions of one options object, by offer key. */
interface FeaturesCache {
  /** The options' values when it was made: any value replaced since makes a new cache. */
  readonly snapshot: Readonly<Record<string, unknown>>;
  readonly markup: Map<string, string>;
}
const featuresCaches = new WeakMap<object, FeaturesCache>();
/** At most this many forms of `<stream:features/>` are kept per options object (more are built each time). */
const MAX_CACHED_FEATURES = 32;

/** The features markup cache of these options (a new one when any option's value has been replaced). */
function featuresCacheOf(options: object): Map<string, string> {
  let cache = featuresCaches.get(options);
  if (cache !== undefined && sameValues(options as Record<string, unknown>, cache.snapshot)) return cache.markup;
  cache = { snapshot: { ...options }, markup: new Map() };
  featuresCaches.set(options, cache);
  return cache.markup;
}

function sameValues(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

/**
 * The SASL options of the sessions made with `options`: one frozen pair per options object, so that a
 * server passing the same object to every session keeps one copy, not one per session.
 */
function saslOptionsOf(options: ServerOptions & ServerExtraOptions): SaslOptionsPair {
  const from = [options.tls, options.mechanisms, options.allowPlainInClear, options.maxAuthAttempts, options.customMechanisms, options.channelBindingPolicy, options.scramCrypto, options.sasl2?.sasl1];
  let r = saslOptionsCache.get(options);
  if (r === undefined || r.from.some((v, i) => v !== from[i])) {
    const sasl2: SaslServerOptions = Object.freeze({
      tls: options.tls ?? "required",
      mechanisms: options.mechanisms ?? DEFAULT_SERVER_MECHANISMS,
      allowPlainInClear: options.allowPlainInClear ?? false,
      maxAuthAttempts: options.maxAuthAttempts ?? 3,
      ...(options.customMechanisms === undefined ? {} : { custom: options.customMechanisms }),
      ...(options.channelBindingPolicy === undefined ? {} : { channelBindingPolicy: options.channelBindingPolicy }),
      ...(options.scramCrypto === undefined ? {} : { crypto: options.scramCrypto }),
    });
    r = Object.freeze({ sasl1: Object.freeze({ ...sasl2, enabled: options.sasl2?.sasl1 !== false }), sasl2, from });
    saslOptionsCache.set(options, r);
  }
  return r;
}

/** Extra server options of this implementation (on top of {@link ServerOptions}). */
export interface ServerExtraOptions {
  /** Failed SASL attempts before the stream is closed with `<policy-violation/>` (RFC 6120 §6.4.5). Default 3. */
  maxAuthAttempts?: number;
}

/**
 * The server side of a client-to-server XMPP session as a sans-IO state machine.
 *
 * It never looks anything up itself: it emits `host-check`, `scram-credentials` / `verify-password` /
 * `external-identity` and `bind-request` events and waits (buffering input, unparsed) for the matching
 * `answer*` call. Stanzas from the client arrive as `stanza` events, validated (RFC 6120 §8) and with
 * `from` stamped (§8.1.2.1). **IQ requests (`get`/`set`) must be answered by the application** — for
 * payloads it does not handle, `session.send(serviceUnavailable(iq))` (RFC 6120 §8.2.3, §8.4).
 */
export class ServerSession
  extends SessionBase<ServerEvent, ServerStateKind, ServerFeature<ServerEvent>, ServerFeatureContext<ServerEvent>>
  implements SansIoSession<ServerEvent>
{
  /** The TLS policy of `ServerOptions.tls` (default `"required"`). */
  protected readonly tlsPolicy: TlsPolicy;
  private readonly defaultDomain: string | undefined;
  private sasl: SaslServer | undefined;
  private sasl2: Sasl2Server | undefined;
  private bind: BindServer | undefined;
  declare private hostPending: boolean;
  private streamId = "";
  declare private started: boolean;
  /** Shared by the sessions of the same options: the markup of `<stream:features/>` by offer key. */
  private readonly featuresMarkup: Map<string, string>;

  constructor(options: ServerOptions & ServerExtraOptions = {}) {
    super(options, SERVER_TRANSITIONS, "server");
    this.tlsPolicy = options.tls ?? "required";
    this.defaultDomain = options.defaultDomain;
    this.featuresMarkup = featuresCacheOf(options);
    this.features = FeatureSet.load(this.streamFeatures(options));
  }

  /**
   * The features this stream offers, in order (called once by the constructor; the s2s receiver loads
   * its own set). Client-to-server: STARTTLS, the authentication-phase features (registration,
   * jabber:iq:auth), SASL, SASL2, the application's, binding, legacy session.
   */
  protected streamFeatures(options: ServerOptions & ServerExtraOptions): (readonly [StreamFeature, ServerFeature<ServerEvent> | undefined])[] {
    const saslOptions = saslOptionsOf(options);
    // RFC 6120 SASL and SASL2 count failures together (one counter per stream, only when both are there).
    const counter = options.sasl2 === undefined ? undefined : { failures: 0 };
    this.sasl = new SaslServer(saslOptions.sasl1, counter);
    this.sasl2 = options.sasl2 === undefined ? undefined : new Sasl2Server(saslOptions.sasl2, options.sasl2, counter);
    this.bind = new BindServer();
    const starttls = starttlsFeature(this.tlsPolicy);
    const [authPhase, later] = featuresByPhase(options.features ?? [], (def) => def.server?.() as ServerFeature<ServerEvent> | undefined);
    return [
      [starttls, starttls.server!() as ServerFeature<ServerEvent>],
      ...authPhase,
      [SASL_DEFINITION, this.sasl as ServerFeature<ServerEvent>],
      ...(this.sasl2 === undefined ? [] : [[SASL2_DEFINITION, this.sasl2 as ServerFeature<ServerEvent>] as const]),
      ...later,
      [BIND_DEFINITION, this.bind as ServerFeature<ServerEvent>],
      [SESSION_DEFINITION, sessionServer(options.offerLegacySession ?? true) as ServerFeature<ServerEvent>],
    ];
  }

  /** The client's full JID once bound; undefined before. */
  get jid(): Jid | undefined {
    return this.boundJid;
  }

  /** The id of our current stream header (RFC 6120 §4.7.3): fresh at every restart. */
  get currentStreamId(): string {
    return this.streamId;
  }

  /**
   * Arms the negotiation deadline at accept time. Optional: the first `receive` does it otherwise (but a
   * peer that never sends a byte is only timed out if this was called).
   */
  start(now: number): void {
    this.tick(now);
    this.arm();
  }

  private arm(): void {
    if (this.started) return;
    this.started = true;
    this.negotiationDeadline = this.now + this.timeouts.negotiationMs;
  }

  protected override beforeInput(): void {
    if (this.tlsPolicy === "direct" && !this.secured) {
      throw new SessionStateError('tls: "direct" — call tlsEstablished() before the first receive');
    }
    this.arm();
  }

  /** TLS is up: after our `starttls` event (the stream restarts), or before any input for Direct TLS/wss:. */
  tlsEstablished(info: TlsInfo, now: number): void {
    this.tick(now);
    if (!this.acceptTls(info, this.kind === "idle")) return;
    this.headerSent = false;
    this.paused = false;
    this.pump();
  }

  /** Sends a stanza to the client (online only). Stanzas without `xmlns` get `jabber:client`. */
  send(stanza: XmlElement): void {
    if (this.kind !== "online") throw new SessionStateError(`send() in state ${this.state}: the client is not bound yet`);
    this.writeStanza(stanza);
  }

  protected currentStreamIdForFeatures(): string | undefined {
    return this.streamId || undefined;
  }

  protected headerAttributes(): HeaderAttributes {
    return { from: this.domain ?? this.defaultDomain, id: this.streamId || undefined, to: this.peerFrom, lang: this.lang };
  }

  // ---------------------------------------------------------------------------------------------------
  // Answers

  /**
   * Whether an answer may be taken: `false` when the session ended meanwhile (the answer is ignored: an
   * application that looks things up asynchronously cannot avoid that race). @throws SessionStateError
   * when the question was not asked.
   */
  protected answering(asked: boolean, what: string): boolean {
    if (this.kind === "closed") return false;
    if (!asked) throw new SessionStateError(`${what}() without a pending question`);
    return true;
  }

  /** Answers `host-check`: whether this server serves the domain the client asked for. */
  answerHost(ok: boolean): void {
    if (!this.answering(this.hostPending, "answerHost")) return;
    this.hostPending = false;
    if (!ok) {
      this.fatal("host-unknown", `this server does not serve ${this.domain}`);
      return;
    }
    this.go("host-accepted");
    this.sendHeaderAndFeatures();
    this.resume();
  }

  /** The SASL profile (RFC 6120 or XEP-0388) that asked `q`, if one did. */
  private asking(q: SaslQuestion): SaslServer | undefined {
    return this.sasl?.pending === q ? this.sasl : this.sasl2?.pending === q ? this.sasl2 : undefined;
  }

  /** Answers `scram-credentials` with the account's stored keys, or `null` for an unknown account. */
  answerScramCredentials(stored: ScramStoredCredentials | null): void {
    const s = this.asking("scram");
    if (this.answering(s !== undefined, "answerScramCredentials")) s!.answerScram(stored, this.ctx);
  }

  /** Answers `verify-password` (PLAIN). */
  answerPassword(ok: boolean): void {
    const s = this.asking("password");
    if (this.answering(s !== undefined, "answerPassword")) s!.answerPassword(ok, this.ctx);
  }

  /** Answers `external-identity`: the account (localpart) the certificate maps to, or `null`. */
  answerExternal(username: string | null): void {
    const s = this.asking("external");
    if (this.answering(s !== undefined, "answerExternal")) s!.answerExternal(username, this.ctx);
  }

  /** Answers `bind-request` (RFC 6120 binding or XEP-0386 Bind2): bind a resource (possibly another than requested) or refuse. */
  answerBind(answer: BindAnswer): void {
    const bind2 = this.sasl2?.bindPending === true;
    if (!this.answering(bind2 || this.bind?.pending === true, "answerBind")) return;
    if (bind2) this.sasl2!.answerBind(answer, this.ctx);
    else this.bind!.answer(answer, this.ctx);
  }

  // ---------------------------------------------------------------------------------------------------
  // Stream header and features

  protected onOpen(header: XmlElement, namespaces: ReadonlyMap<string, string>): void {
    if (this.kind !== "await-header" && this.kind !== "idle") {
      this.fatal("bad-format", "unexpected stream header");
      return;
    }
    const fromAttr = header.attr("from");
    const from = fromAttr === undefined ? undefined : tryParseJid(fromAttr);
    this.peerFrom = from === undefined || from instanceof JidError ? undefined : from.toString();
    this.streamId = this.randomId();
    const restarted = this.domain !== undefined;
    this.go(restarted ? "reopen" : "header");
    if (!this.checkHeader(header, namespaces)) return;
    // RFC 6120 §4.7.5: no version = pre-1.0 (not supported here); a higher major version is not ours.
    const version = parseStreamVersion(header.attr("version"));
    if (version === undefined && !this.versionless) {
      this.fatal("unsupported-version", "pre-1.0 streams are not supported; use version='1.0'");
      return;
    }
    if (version !== undefined && version.major !== 1) {
      this.fatal("unsupported-version", `version ${header.attr("version")} is not supported; this server speaks 1.0`);
      return;
    }
    if (!this.acceptPeerHeader(header, restarted)) return;
    const toAttr = header.attr("to");
    if (restarted) {
      // A restart: the client must keep talking to the same domain.
      if (toAttr !== undefined && !sameDomain(toAttr, this.domain!)) {
        this.fatal("host-unknown", "the 'to' of a restarted stream must not change");
        return;
      }
      this.emitOpened(header);
      this.sendHeaderAndFeatures();
      return;
    }
    if (toAttr === undefined) {
      // §4.7.1: a missing 'to' lets the server choose its default host, if it has one.
      if (this.defaultDomain === undefined) {
        this.fatal("host-unknown", "the stream header has no 'to' and this server has no default domain");
        return;
      }
      this.domain = parseJid(this.defaultDomain).domain;
      this.emitOpened(header);
      this.go("host-accepted");
      this.sendHeaderAndFeatures();
      return;
    }
    const to = HEADER_DOMAINS.parse(toAttr);
    if (to instanceof JidError || to.local !== "" || to.resource !== "") {
      this.fatal("host-unknown", "'to' must be a domain this server serves");
      return;
    }
    this.domain = to.domain;
    this.emitOpened(header);
    this.hostPending = true;
    this.paused = true;
    this.emit({ type: "host-check", domain: to.domain });
  }

  private emitOpened(header: XmlElement): void {
    this.emit({
      type: "stream-opened",
      header: definedOnly({
        to: header.attr("to"),
        from: header.attr("from"),
        id: header.attr("id"),
        version: header.attr("version"),
        lang: header.attr("xml:lang"),
      }),
    });
  }

  /** Our stream header and `<stream:features/>` (a component stream has no features: XEP-0114). */
  protected sendHeaderAndFeatures(): void {
    this.writeHeader();
    this.sendFeatures();
  }

  /** `<stream:features/>` for the stream's current flags. */
  private sendFeatures(): void {
    // The same options, flags and offer keys give the same elements: their markup is written again.
    const key = this.featuresKey();
    const cached = key === undefined ? undefined : this.featuresMarkup.get(key);
    if (cached !== undefined) {
      this.framing.writeMarkup(cached);
      this.afterFeatures();
      return;
    }
    const features = el("features", NS_STREAMS);
    for (let i = 0; i < this.defs.length; i++) {
      if (!isAvailable(this.defs[i]!.availability, this.flagState)) continue;
      const offered = this.halves[i]!.offer(this.ctx);
      if (offered === undefined) continue;
      if (Array.isArray(offered)) for (const o of offered) features.append(o);
      else features.append(offered as XmlElement);
    }
    if (key === undefined) this.write(features);
    else {
      const markup = this.framing.writeCapturing(features);
      if (markup !== undefined && this.featuresMarkup.size < MAX_CACHED_FEATURES) this.featuresMarkup.set(key, markup);
    }
    this.afterFeatures();
  }

  /**
   * What the `<stream:features/>` of this stream depends on beyond the options: the framing, the flags
   * and every available feature's {@link ServerFeature.offerKey} (which also does to the feature what its
   * `offer` would); `undefined` when a feature cannot tell (then the element is built).
   */
  private featuresKey(): string | undefined {
    const f = this.flagState;
    let key = `${this.framing.kind} ${this.contentNs} ${f.secure ? 1 : 0}${f.authenticated ? 1 : 0}${f.bound ? 1 : 0}`;
    for (let i = 0; i < this.defs.length; i++) {
      if (!isAvailable(this.defs[i]!.availability, f)) continue;
      const half = this.halves[i]!;
      if (half.offerKey === undefined) return undefined;
      const k = half.offerKey(this.ctx);
      if (k === undefined) return undefined;
      key += `\n${i}:${k}`;
    }
    return key;
  }

  /**
   * Hook: checks of the peer's stream header beyond RFC 6120's common ones (the s2s receiver requires a
   * `from` domain, §4.7.1). Return `false` after a `fatal`.
   */
  protected acceptPeerHeader(_header: XmlElement, _restarted: boolean): boolean {
    return true;
  }

  /** Hook: our header and `<stream:features/>` were written (the s2s receiver goes online here after SASL). */
  protected afterFeatures(): void {}

  protected featureDone(restart: boolean, newFeatures: boolean): void {
    if (newFeatures && this.kind === "features") this.sendFeatures();
    if (!restart) return;
    // RFC 6120 §6.4.6: the client's next byte starts a new stream, parsed from exactly here.
    this.restartStream();
    this.headerSent = false;
    this.go("restart");
  }

  /** RFC 6120 §4.6.1 whitespace keepalive (as Prosody after `read_timeout`); nothing answers it. */
  protected defaultProbe(): boolean {
    this.framing.writeKeepalive();
    return false;
  }

  protected onBound(resumed: boolean): void {
    this.goOnline(resumed);
  }

  protected override negotiationDone(): void {
    super.negotiationDone();
    this.dropNegotiationState();
  }

  /**
   * Online: lets go of what only negotiation needed — the SASL and binding halves (shared stand-ins answer
   * a late `<auth/>` or `<bind/>` as they would) and the `from` of the client's header (used by our
   * header only). ≈0.2 KiB less per idle session.
   */
  protected dropNegotiationState(): void {
    if (this.sasl !== undefined) {
      this.features = replaceHalf(this.features, this.sasl as ServerFeature<ServerEvent>, SASL_DONE);
      this.sasl = undefined;
    }
    if (this.bind !== undefined) {
      this.features = replaceHalf(this.features, this.bind as ServerFeature<ServerEvent>, BIND_DONE);
      this.bind = undefined;
    }
    this.peerFrom = undefined;
    this.features = sharedSet(this.features);
  }

  // ---------------------------------------------------------------------------------------------------
  // Elements

  protected onElement(e: XmlElement): void {
    if (this.kind === "await-header") {
      this.fatal("bad-format", "an element before the stream header");
      return;
    }
    const owner = this.features.ownerOf(e.ns);
    if (owner !== undefined) {
      owner.handleElement(e, this.ctx);
      return;
    }
    if (!this.flagState.authenticated) {
      // XEP-0077 / XEP-0078: a feature available now may take an IQ before authentication.
      if (this.takenBeforeAuth(e)) return;
      // RFC 6120 §4.9.3.12: stanzas (or anything else) before authentication; not processed.
      this.fatal("not-authorized", "authenticate first");
      return;
    }
    if (!isStanza(e, this.contentNs)) {
      // RFC 6120 §4.9.3.23: a first-level element no feature owns.
      this.fatal("unsupported-stanza-type", `<${e.name} xmlns='${e.ns}'> is not supported`);
      return;
    }
    if (this.kind !== "online") {
      if (this.features.takes(e, this.ctx)) return;
      // RFC 6120 §7.1: no stanzas before a resource is bound.
      this.fatal("not-authorized", "bind a resource first");
      return;
    }
    this.onStanza(e);
  }

  /**
   * Offers an IQ received before authentication to the features available now (see
   * `FeatureHooks.handleStanza`): only one addressed to no one or to our domain; its `from` and `to`
   * are removed, since an unauthenticated peer has no address (replies then carry no `to`).
   */
  private takenBeforeAuth(e: XmlElement): boolean {
    if (!isStanza(e) || e.name !== "iq") return false;
    const to = e.attr("to");
    if (to !== undefined && !sameDomain(to, this.domain!)) return false;
    e.removeAttr("from");
    e.removeAttr("to");
    for (let i = 0; i < this.defs.length; i++) {
      const half = this.halves[i]!;
      if (half.handleStanza === undefined || !isAvailable(this.defs[i]!.availability, this.flagState)) continue;
      if (half.handleStanza(e, this.ctx) || this.kind === "closed") return true;
    }
    return false;
  }

  protected override replyError(stanza: XmlElement, condition: StanzaErrorCondition, text?: string): void {
    const reply = errorReply(stanza, stanzaError(condition, text === undefined ? {} : { text, lang: "en" }));
    if (reply === undefined) return;
    // Our own replies come from the server (no 'from' = the server, §8.1.2.1 rule 2 allows the domain).
    if (this.boundJid !== undefined && reply.attr("to") === undefined) reply.setAttr("to", this.boundJid.toString());
    this.write(reply);
  }

  /** RFC 6120 §8.2.3: an IQ without a usable `id`/`type`/child gets `<bad-request/>` (not an error IQ). */
  protected refuseMalformedIq(e: XmlElement): boolean {
    if (e.name !== "iq") return false;
    const problem = iqProblem(e);
    if (problem === undefined) return false;
    if (e.attr("type") !== "error") this.replyError(e, "bad-request", problem);
    return true;
  }

  /** A stanza received online: validated (RFC 6120 §8.1), stamped, delivered. */
  protected onStanza(e: XmlElement): void {
    this.features.observeInbound(e, this.ctx);
    const full = this.boundJid!;
    const type = e.attr("type");
    const fromAttr = e.attr("from");
    if (fromAttr !== undefined) {
      const from = STANZA_ADDRESSES.parse(fromAttr);
      // §8.1.2.1 / §4.9.3.9: only the client's own full or bare JID may be claimed.
      if (from instanceof JidError || !(from.equals(full) || from.equals(full.bare))) {
        this.fatal("invalid-from", "'from' does not match the bound JID");
        return;
      }
    }
    const toAttr = e.attr("to");
    if (toAttr !== undefined) {
      const to = STANZA_ADDRESSES.parse(toAttr);
      if (to instanceof JidError) {
        // §8.3.3.8: a malformed address is never routed; the sender gets <jid-malformed/>.
        this.replyError(e, "jid-malformed", to.message);
        return;
      }
      // The prepared form (the same string object for every stanza to this address: maps hash it once).
      e.setAttr("to", to.toString());
    }
    if (this.refuseMalformedIq(e)) return;
    if (this.features.takes(e, this.ctx)) return;
    // §8.1.2.1 rule 1: stamp the full JID; subscription presence keeps the bare JID if the client used it.
    const stamp = e.name === "presence" && type !== undefined && SUBSCRIPTION_TYPES.has(type) && fromAttr !== undefined && !fromAttr.includes("/") ? full.bare : full;
    e.setAttr("from", stamp.toString());
    this.emit({ type: "stanza", stanza: e });
  }
}
defineBitFlags(ServerSession.prototype, "bits", ["hostPending", "started"], SESSION_FLAGS);

function sameDomain(to: string, domain: string): boolean {
  const j = HEADER_DOMAINS.parse(to);
  return !(j instanceof JidError) && j.local === "" && j.resource === "" && j.domain === domain;
}

/**
 * The `<service-unavailable/>` error reply to an IQ request the application does not handle (RFC 6120
 * §8.4: an entity that does not understand a get/set payload MUST answer with it). Returns `undefined`
 * for stanzas that must not be answered (results, errors). One line in a server loop:
 *
 * @example
 * ```ts
 * if (ev.type === "stanza" && ev.stanza.name === "iq") { const r = serviceUnavailable(ev.stanza); if (r) session.send(r); }
 * ```
 */
export function serviceUnavailable(iq: XmlElement): XmlElement | undefined {
  return errorReply(iq, stanzaError("service-unavailable"));
}

/**
 * Applies one of the RFC 6120 §7.7.2.2 policies for a requested resource that may already be in use by
 * another session of the same account, given the resources in use. Pure.
 *
 * - `override`: accept; the application must terminate the other session with a `<conflict/>` stream error.
 * - `refuse`: refuse with `<conflict/>` if the resource is in use.
 * - `assign-new`: accept, with a new resource (the requested one plus a suffix) if it is in use.
 *
 * @example
 * ```ts
 * session.answerBind(resolveResourceConflict(ev.resource, resourcesOf(ev.username), "assign-new"));
 * ```
 */
export function resolveResourceConflict(
  requested: string,
  inUse: ReadonlySet<string> | readonly string[],
  policy: ResourceConflictPolicy,
  random?: () => string,
): BindAnswer {
  const used = inUse instanceof Set ? inUse : new Set(inUse as readonly string[]);
  if (!used.has(requested) || policy === "override") return { accept: requested };
  if (policy === "refuse") return { refuse: "conflict", text: "the resource is in use" };
  for (let n = 2; ; n++) {
    const candidate = `${requested}.${random === undefined ? n : random()}`;
    if (!used.has(candidate)) return { accept: candidate };
  }
}
