/**
 * The initiating entity (client) of RFC 6120: opens the stream, negotiates the loaded stream features
 * (STARTTLS, SASL, the application's features, resource binding, legacy session), then exchanges stanzas
 * and tracks IQ requests.
 *
 * @module
 */
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import type { SaltedPasswordCache } from "@xmpp-sansio/sasl";
import { NS_CLIENT, NS_STREAMS, type XmlElement } from "@xmpp-sansio/xml";
import { BIND_DEFINITION, BindClient } from "./features/bind.js";
import { mechanismsWithHashes, SASL_DEFINITION, SaslClient, type SaslClientOptions } from "./features/sasl.js";
import { type ClientParts, DEFAULT_CLIENT_PARTS } from "./client-parts.js";
import { requirePart } from "./require-part.js";
import { SESSION_DEFINITION, SessionClient } from "./features/session.js";
import { type ClientFeature, type ClientFeatureContext, featuresByPhase, isAvailable, type StreamFeature } from "./features/types.js";
import { framingOf, type SessionFraming } from "./framings.js";
import { FeatureSet } from "./feature-set.js";
import { IqTracker } from "./iq-tracker.js";
import { definedOnly, LeanSessionBase, parseStreamVersion, SessionStateError } from "./session-base.js";
import type { HeaderAttributes } from "./session-framing.js";
import type { ClientEvent, ClientOptions, SansIoSession, TlsInfo, TlsPolicy } from "./session-types.js";
import { CLIENT_TRANSITIONS, type ClientStateKind } from "./state.js";
import { el, isStanza } from "./util.js";

/** Default cap on the SCRAM iteration count a server may ask of the client (see `maxScramIterations`). */
export const DEFAULT_CLIENT_MAX_ITERATIONS = 100_000;

/** Stanzas kept while bound but not yet online (see `onElement`). */
const MAX_EARLY_STANZAS = 1000;

/** `urn:xmpp:ping` (XEP-0199). */
const NS_PING = "urn:xmpp:ping";

/** Extra client options of this implementation (on top of {@link ClientOptions}). */
export interface ClientExtraOptions {
  /**
   * A SCRAM SaltedPassword cache (from `createSaltedPasswordCache()` of `@xmpp-sansio/sasl`) so that
   * reconnects skip PBKDF2. Password-equivalent: keep it in memory only.
   */
  saltedPasswordCache?: SaltedPasswordCache;
  /** How many SASL attempts the client makes before giving up (RFC 6120 §6.4.5). Default 3. */
  maxAuthAttempts?: number;
  /**
   * @deprecated Removed: `true` throws a `TypeError`. Load XEP-0078 (obsolete) yourself, so that clients
   * without it do not ship its code: `features: [iqAuthClientFeature({ password, resource })]`.
   */
  useIqAuth?: boolean;
  /**
   * The optional parts loaded (see `client-parts`): with {@link LeanClientSession} only those given;
   * {@link ClientSession} adds the missing ones of `DEFAULT_CLIENT_PARTS`. A part also needs its option on
   * (`sasl2` not `false`).
   */
  parts?: ClientParts;
}

/**
 * The client side of an XMPP session as a sans-IO state machine, loading only the optional parts it is
 * given (`parts`: SASL2/Bind2/FAST, STARTTLS) — what a small bundle uses; {@link ClientSession} loads them all.
 *
 * Drive it like every session of this package: `start(now)`, then in a loop `receive(bytes, now)` →
 * drain `pollEvent()` (answer `credentials-needed` with {@link ClientSession.supplyCredentials}, hand the
 * socket to TLS on `starttls`) → write `pollTransmit()` → wait until `nextTimeout()`.
 *
 * Features are negotiated in this order: STARTTLS, SASL, the application's `features` in the order
 * given (e.g. Stream Management), resource binding, the legacy session. After each completed step every
 * feature is asked again (`negotiate`), in order, until none starts; then the session is online.
 *
 * @example
 * ```ts
 * const c = new ClientSession({ jid: "juliet@im.example.com/balcony", password: "r0m30myr0m30" });
 * c.start(now);
 * for (let out = c.pollTransmit(); out; out = c.pollTransmit()) socket.write(out);
 * ```
 */
export class LeanClientSession
  extends LeanSessionBase<ClientEvent, ClientStateKind, ClientFeature<ClientEvent>, ClientFeatureContext<ClientEvent>>
  implements SansIoSession<ClientEvent>
{
  /** The TLS policy of `ClientOptions.tls` (default `"required"`). */
  protected readonly tlsPolicy: TlsPolicy;
  private sasl: SaslClient | undefined;
  private sasl2: SaslClient | undefined;
  /** The current stream's `<stream:features/>`. */
  private offer: XmlElement | undefined;
  /** The feature negotiating now. */
  private active: ClientFeature<ClientEvent> | undefined;
  private activeName = "";
  private resumed = false;
  /** A <stream:features/> already arrived online (tolerated once, see onElement). */
  private featuresSeenOnline = false;
  private pingId: string | undefined;
  private early: XmlElement[] = [];
  private tracker: IqTracker | undefined;
  /** The server's stream id (RFC 6120 §4.7.3), forgotten at each restart. */
  streamId: string | undefined;

  constructor(options: ClientOptions & ClientExtraOptions) {
    super(options, CLIENT_TRANSITIONS, "client", leanFraming(options.framing));
    const j = typeof options.jid === "string" ? parseJid(options.jid) : options.jid;
    this.account = j.bare;
    this.tlsPolicy = options.tls ?? "required";
    this.features = FeatureSet.load(this.streamFeatures(options, j));
  }

  /**
   * The features this stream negotiates, in order (called once by the constructor; the s2s initiator
   * loads its own set). Client-to-server: STARTTLS, the authentication-phase features (registration,
   * jabber:iq:auth, SASL2), SASL, the application's, binding, legacy session.
   */
  protected streamFeatures(options: ClientOptions & ClientExtraOptions, j: Jid): (readonly [StreamFeature, ClientFeature<ClientEvent> | undefined])[] {
    if (j.local === "") throw new TypeError("the client JID needs a localpart (the account)");
    const hashes = options.parts?.hashes ?? [];
    const oneShot = options.parts?.oneShotMechanisms;
    const saslOptions: SaslClientOptions = {
      password: options.password,
      authzid: options.authzid,
      tls: this.tlsPolicy,
      allowPlainInClear: options.allowPlainInClear ?? false,
      preference: mechanismsWithHashes(options.mechanisms, hashes, oneShot !== undefined),
      minIterations: options.minScramIterations ?? 4096,
      maxIterations: options.maxScramIterations ?? DEFAULT_CLIENT_MAX_ITERATIONS,
      cache: options.saltedPasswordCache,
      maxAuthAttempts: options.maxAuthAttempts ?? 3,
      ...(options.deriveKey === undefined ? {} : { deriveKey: options.deriveKey }),
      scramHashes: hashes,
      ...(oneShot === undefined ? {} : { oneShotMechanisms: oneShot }),
      ...(options.customMechanisms === undefined ? {} : { custom: options.customMechanisms }),
      ...(options.channelBindingType === undefined ? {} : { channelBindingType: options.channelBindingType }),
    };
    this.sasl = new SaslClient(saslOptions);
    // XEP-0388: SASL2 before RFC 6120 SASL, so it is preferred when offered (when its part is loaded).
    const part = options.parts?.sasl2;
    requirePart(part, options.sasl2, ["sasl2", "sasl2ClientPart"], "ClientSession");
    this.sasl2 = part === undefined || options.sasl2 === false ? undefined : part.create(saslOptions, options.sasl2 ?? {}, j);
    // STARTTLS only where the policy may use it (a WebSocket or Direct TLS session never does).
    const needsStarttls = this.tlsPolicy === "required" || this.tlsPolicy === "optional";
    if (needsStarttls && options.parts?.starttls === undefined) {
      throw new TypeError(`tls: "${this.tlsPolicy}" needs the STARTTLS part: pass parts: { starttls: starttlsClientPart } (or use ClientSession)`);
    }
    const starttls = needsStarttls ? options.parts!.starttls!(this.tlsPolicy) : undefined;
    if (options.useIqAuth === true) throw new TypeError("useIqAuth was removed: pass features: [iqAuthClientFeature({ password, resource })] (XEP-0078)");
    const features = options.features ?? [];
    const [authPhase, later] = featuresByPhase(features, (def) => def.client?.() as ClientFeature<ClientEvent> | undefined);
    return [
      ...(starttls === undefined ? [] : [[starttls, starttls.client!() as ClientFeature<ClientEvent>] as const]),
      ...authPhase,
      ...(this.sasl2 === undefined ? [] : [[part!.definition, this.sasl2 as ClientFeature<ClientEvent>] as const]),
      [SASL_DEFINITION, this.sasl as ClientFeature<ClientEvent>],
      ...later,
      [BIND_DEFINITION, new BindClient(j.resource) as ClientFeature<ClientEvent>],
      [SESSION_DEFINITION, new SessionClient() as ClientFeature<ClientEvent>],
    ];
  }

  /** The full JID once bound (online); before that, the configured account (bare) JID. */
  get jid(): Jid {
    return this.boundJid ?? this.account!;
  }

  /** Opens the stream. */
  start(now: number): void {
    if (this.kind !== "idle") throw new SessionStateError("start() was already called");
    this.tick(now);
    if (this.tlsPolicy === "direct" && !this.secured) {
      throw new SessionStateError('tls: "direct" — call tlsEstablished() before start()');
    }
    this.go("start");
    this.negotiationDeadline = now + this.timeouts.negotiationMs;
    this.openStream();
  }

  private openStream(): void {
    this.streamId = undefined;
    this.offer = undefined;
    this.writeHeader();
  }

  protected currentStreamIdForFeatures(): string | undefined {
    return this.streamId;
  }

  protected headerAttributes(): HeaderAttributes {
    // RFC 6120 §4.7.1: a client SHOULD include 'from' (its bare JID) — we do, as in the §9.1 example.
    return { to: this.account!.domain, from: this.account!.toString(), lang: this.lang };
  }

  /**
   * TLS is up: after a `starttls` event (the stream restarts, everything learned before is discarded,
   * RFC 6120 §5.4.3.3), or before `start` with `tls: "direct"` / a `wss:` WebSocket.
   */
  tlsEstablished(info: TlsInfo, now: number): void {
    this.tick(now);
    if (!this.acceptTls(info, this.kind === "idle")) return;
    this.paused = false;
    this.active = undefined;
    this.openStream();
  }

  /**
   * Supplies the password after `credentials-needed`, or tries again after an `auth-failed` event with
   * `canRetry: true` (RFC 6120 §6.4.5).
   */
  supplyCredentials(credentials: { password: string }): void {
    if (this.kind === "closed" || !(this.sasl2?.supply(credentials.password, this.ctx) === true || this.sasl?.supply(credentials.password, this.ctx) === true)) {
      throw new SessionStateError("supplyCredentials() is only valid after credentials-needed or a retryable auth-failed");
    }
  }

  /** Answers `derive-key` with the SaltedPassword the adapter computed. */
  supplyDerivedKey(saltedPassword: Uint8Array): void {
    if (this.kind === "closed") return; // the answer of an asynchronous derivation may come late
    if (!(this.sasl2?.supplyDerivedKey(saltedPassword, this.ctx) === true || this.sasl?.supplyDerivedKey(saltedPassword, this.ctx) === true)) throw new SessionStateError("supplyDerivedKey() without a pending derive-key event");
  }

  /** Sends a stanza (online only). Stanzas without `xmlns` get `jabber:client`. */
  send(stanza: XmlElement): void {
    if (this.kind !== "online") throw new SessionStateError(`send() in state ${this.state}: wait for the online event`);
    this.writeStanza(stanza);
  }

  /**
   * Sends an IQ request (`get` or `set`) and tracks it: the answer comes as `iq-response` — only from the
   * addressed JID — or `iq-timeout` after `timeoutMs` (default `timeouts.iqMs`). Sets a random `id` if the
   * IQ has none. Returns the id.
   */
  sendIq(iq: XmlElement, now: number, timeoutMs?: number): string {
    if (this.kind !== "online") throw new SessionStateError(`sendIq() in state ${this.state}: wait for the online event`);
    const type = iq.attr("type");
    if (iq.name !== "iq" || (type !== "get" && type !== "set")) throw new SessionStateError("sendIq() takes an <iq type='get'|'set'>");
    this.tick(now);
    let id = iq.attr("id");
    if (id === undefined) {
      id = this.randomId(12);
      iq.setAttr("id", id);
    }
    const toAttr = iq.attr("to");
    const to = toAttr === undefined ? undefined : parseJid(toAttr);
    this.tracker ??= new IqTracker();
    this.tracker.track(id, to, this.jid, now + (timeoutMs ?? this.timeouts.iqMs));
    try {
      this.writeStanza(iq);
    } catch (e) {
      this.tracker.cancel(id);
      throw e;
    }
    return id;
  }

  /** Sends a whitespace keepalive (RFC 6120 §4.6.1); a no-op with WebSocket framing (use pings there). */
  sendKeepalive(): void {
    if (this.state !== "online" && this.state !== "negotiating") throw new SessionStateError(`sendKeepalive() in state ${this.state}`);
    this.framing.writeKeepalive();
  }

  protected override extraDeadline(): number | undefined {
    return this.tracker?.nextDeadline();
  }

  protected override onTimeout(now: number): void {
    if (this.tracker === undefined) return;
    for (const id of this.tracker.expire(now)) this.emit({ type: "iq-timeout", id });
  }

  protected override onFinish(): void {
    // Outstanding requests will never be answered: each ends with iq-timeout (before `closed`).
    if (this.tracker !== undefined) for (const id of this.tracker.cancelAll()) this.emit({ type: "iq-timeout", id });
  }

  // ---------------------------------------------------------------------------------------------------
  // Negotiation

  protected onOpen(header: XmlElement, namespaces: ReadonlyMap<string, string>): void {
    if (this.kind !== "await-header") {
      this.fatal("bad-format", "unexpected stream header");
      return;
    }
    if (!this.checkHeader(header, namespaces)) return;
    const version = parseStreamVersion(header.attr("version"));
    // RFC 6120 §4.7.5: we speak 1.0 and need the server to (features exist only from 1.0 on).
    if (version === undefined ? !this.versionless : version.major !== 1) {
      this.fatal("unsupported-version", "this client requires an XMPP 1.0 stream");
      return;
    }
    this.streamId = header.attr("id");
    this.go("header");
    this.emit({
      type: "stream-opened",
      header: definedOnly({
        to: header.attr("to"),
        from: header.attr("from"),
        id: this.streamId,
        version: header.attr("version"),
        lang: header.attr("xml:lang"),
      }),
    });
  }

  protected onElement(e: XmlElement): void {
    switch (this.kind) {
      case "await-features":
        if (e.is("features", NS_STREAMS)) {
          this.offer = e;
          this.negotiateNext();
        } else this.unexpected(e);
        return;
      case "negotiating":
        if (this.flagState.bound && isStanza(e, this.contentNs) && !isIqAnswer(e)) {
          // Bound but still negotiating (legacy session, XEP-0198 <enable/>): the server may already
          // route stanzas to us. Keep them (bounded) and deliver them once online, in order. (IQ answers
          // are the negotiating feature's: we sent no other request yet.)
          if (this.early.length >= MAX_EARLY_STANZAS) this.fatal("policy-violation", `more than ${MAX_EARLY_STANZAS} stanzas before the session was online`);
          else this.early.push(e);
          return;
        }
        this.active!.handleElement(e, this.ctx);
        return;
      case "online": {
        // XEP-0388: servers may send <stream:features/> after a SASL2 success even when Bind2 already
        // bound the stream (Prosody's mod_sasl2 always does); nothing is left to negotiate: ignore it.
        if (e.is("features", NS_STREAMS) && this.flagState.authenticated && this.streamId !== undefined && !this.featuresSeenOnline) {
          this.featuresSeenOnline = true;
          return;
        }
        const owner = this.features.ownerOf(e.ns);
        if (owner !== undefined) owner.handleElement(e, this.ctx);
        else if (isStanza(e, this.contentNs)) this.onStanza(e);
        // RFC 6120 §4.9.3.23: a first-level element that is neither a stanza nor owned by a feature.
        else this.fatal("unsupported-stanza-type", `<${e.name} xmlns='${e.ns}'> is not supported`);
        return;
      }
      default:
        this.unexpected(e);
    }
  }

  private unexpected(e: XmlElement): void {
    this.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> in state ${this.kind}`);
  }

  /** Asks every available feature, in order, whether it starts now; online when none does and bound. */
  private negotiateNext(): void {
    const offer = this.offer!;
    for (let i = 0; i < this.defs.length; i++) {
      const def = this.defs[i]!;
      const half = this.halves[i]!;
      if (!isAvailable(def.availability, this.flagState)) continue;
      if (half.negotiate(offer, this.ctx)) {
        // The feature may have ended the stream (a stream error) or closed it (a refusal it reported).
        if ((this.kind as string) === "closed" || (this.kind as string) === "closing") return;
        this.active = half;
        this.activeName = def.name;
        if (this.kind !== "tls-handshake") this.go("negotiate");
        return;
      }
      if ((this.kind as string) === "closed") return;
    }
    this.active = undefined;
    if (this.flagState.bound) {
      this.goOnline(this.resumed);
      const early = this.early;
      this.early = [];
      for (const stanza of early) {
        if ((this.kind as string) !== "online") return;
        this.emit({ type: "stanza", stanza });
      }
      return;
    }
    this.fatal("undefined-condition", "no stream feature left to negotiate, and no resource is bound");
  }

  protected featureDone(restart: boolean, newFeatures: boolean): void {
    this.active = undefined;
    if (restart) {
      this.restartStream();
      this.go("restart");
      this.openStream();
      return;
    }
    if (newFeatures && this.kind === "negotiating") {
      // XEP-0388: authenticated without a restart; the server's next element is <stream:features/>.
      this.offer = undefined;
      this.go("features");
      return;
    }
    if (this.kind === "negotiating" || this.kind === "await-features") this.negotiateNext();
  }

  /** XEP-0199: a ping to our server; its answer (any input) proves the server alive. */
  protected defaultProbe(): boolean {
    this.pingId = this.randomId(9);
    this.write(el("iq", NS_CLIENT, { type: "get", id: this.pingId, to: this.account!.domain }, el("ping", NS_PING)));
    return true;
  }

  protected onBound(resumed: boolean): void {
    this.resumed = resumed;
  }

  /** The feature negotiating now (`negotiating` state), for diagnostics. */
  get negotiatingFeature(): string | undefined {
    return this.kind === "negotiating" ? this.activeName : undefined;
  }

  /** A stanza received online. */
  protected onStanza(e: XmlElement): void {
    this.features.observeInbound(e, this.ctx);
    if (this.pingId !== undefined && e.name === "iq" && e.attr("id") === this.pingId && e.attr("type") !== "get" && e.attr("type") !== "set") {
      this.pingId = undefined; // the answer to our keepalive ping (result, or an error from a server without XEP-0199)
      return;
    }
    if (this.tracker !== undefined && e.name === "iq" && e.ns === this.contentNs) {
      const m = this.tracker.match(e, this.jid);
      if (m !== undefined) {
        this.emit({ type: "iq-response", id: m.id, stanza: e });
        return;
      }
    }
    if (this.features.takes(e, this.ctx)) return;
    // Anything else (messages, presence, requests, replies from a JID we did not ask) is the application's.
    this.emit({ type: "stanza", stanza: e });
  }
}

/**
 * The client side of an XMPP session with every optional part loaded: {@link LeanClientSession} with the
 * parts of `DEFAULT_CLIENT_PARTS` not given in `parts` (SASL2/Bind2/FAST — switch it off with `sasl2: false` — and STARTTLS),
 * and the framing named by `framing` (`"stream"`, the default, or `"websocket"`; a framing value too).
 */
export class ClientSession extends LeanClientSession {
  constructor(options: ClientOptions & ClientExtraOptions) {
    super({ ...options, framing: framingOf(options.framing), parts: { ...DEFAULT_CLIENT_PARTS, ...options.parts } });
  }
}

/** A lean session's framing: a value, never a name (resolving a name would bundle both framings). */
function leanFraming(framing: ClientOptions["framing"]): SessionFraming {
  if (typeof framing === "object") return framing;
  throw new TypeError(
    `a lean client needs its framing as a value: pass framing: ${framing === "websocket" ? "webSocketFraming" : "streamFraming"} (from @xmpp-sansio/core), or use ClientSession`,
  );
}

function isIqAnswer(e: XmlElement): boolean {
  const type = e.attr("type");
  return e.name === "iq" && (type === "result" || type === "error");
}
