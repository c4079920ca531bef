/**
 * The receiving entity (server) of RFC 6120 for client-to-server streams: answers the stream header,
 * offers STARTTLS / SASL / resource binding, asks the application every question that needs its data
 * (served domains, stored credentials, resources in use), then validates, stamps and delivers stanzas.
 *
 * @module
 */
import { type Jid, JidError, jid as makeJid, parseJid, prepareLocal, prepareResource, tryParseJid } from "@xmpp-sansio/jid";
import {
  createServerMechanism,
  decodeSaslPayload,
  encodeSaslPayload,
  isMechanismName,
  isSaslError,
  isScramMechanism,
  type SaslCondition,
  type ServerMechanism,
  type ServerStep,
  utf8Decode,
} from "@xmpp-sansio/sasl";
import { NS_CLIENT, NS_STREAMS, type XmlElement } from "@xmpp-sansio/xml";
import { buildSaslFailure } from "./sasl-failure.js";
import {
  channelBindingList,
  definedOnly,
  el,
  isStanza,
  NS_BIND,
  NS_SASL,
  NS_SASL_CB,
  NS_SESSION,
  NS_TLS,
  parseStreamVersion,
  SessionBase,
  SessionStateError,
} from "./session-base.js";
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

type Pending = "host" | "scram" | "password" | "external" | "bind" | undefined;

type Phase =
  | "await-open"
  | "features" // features sent; expecting <starttls/>, <auth/> (or the bind IQ once authenticated)
  | "sasl" // an exchange is in progress
  | "online";

const DEFAULT_MECHANISMS = ["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"] as const;
const SUBSCRIPTION_TYPES = new Set(["subscribe", "subscribed", "unsubscribe", "unsubscribed"]);
const IQ_TYPES = new Set(["get", "set", "result", "error"]);

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
export class ServerSession extends SessionBase<ServerEvent> implements SansIoSession<ServerEvent> {
  private readonly tlsPolicy: TlsPolicy;
  private readonly mechanisms: readonly string[];
  private readonly allowPlainInClear: boolean;
  private readonly offerLegacySession: boolean;
  private readonly defaultDomain: string | undefined;
  private readonly maxAuthAttempts: number;

  private phase: Phase = "await-open";
  private pending: Pending;
  private domain: string | undefined;
  private clientFrom: string | undefined;
  private streamId = "";
  private offered: string[] = [];
  private cbAdvertised: string[] | undefined;
  private mech: ServerMechanism | undefined;
  private externalAuthzid: string | undefined;
  private failures = 0;
  private authenticated = false;
  private username = "";
  private bindIq: XmlElement | undefined;
  private full: Jid | undefined;
  private started = false;

  constructor(options: ServerOptions & ServerExtraOptions = {}) {
    super(options);
    this.tlsPolicy = options.tls ?? "required";
    this.mechanisms = options.mechanisms ?? DEFAULT_MECHANISMS;
    this.allowPlainInClear = options.allowPlainInClear ?? false;
    this.offerLegacySession = options.offerLegacySession ?? true;
    this.defaultDomain = options.defaultDomain;
    this.maxAuthAttempts = options.maxAuthAttempts ?? 3;
  }

  /** The client's full JID once bound; undefined before. */
  get jid(): Jid | undefined {
    return this.full;
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
    if (!this.acceptTls(info, this._state === "idle")) return;
    this.phase = "await-open";
    this.headerSent = false;
    this.paused = false;
    this.pump();
  }

  /** Sends a stanza to the client (online only). Stanzas without `xmlns` get `jabber:client`. */
  send(stanza: XmlElement): void {
    if (this._state !== "online") throw new SessionStateError(`send() in state ${this._state}: the client is not bound yet`);
    this.write(stanza);
  }

  protected headerAttributes(): HeaderAttributes {
    return { from: this.domain ?? this.defaultDomain, id: this.streamId || undefined, to: this.clientFrom, lang: this.lang };
  }

  // ---------------------------------------------------------------------------------------------------
  // Answers

  /**
   * Takes the pending question. `false` when the session ended meanwhile (the answer is ignored: an
   * application that looks things up asynchronously cannot avoid that race).
   */
  private take(kind: Exclude<Pending, undefined>, what: string): boolean {
    if (this._state === "closed") return false;
    if (this.pending !== kind) throw new SessionStateError(`${what}() without a pending ${kind} question`);
    this.pending = undefined;
    return true;
  }

  /** Answers `host-check`: whether this server serves the domain the client asked for. */
  answerHost(ok: boolean): void {
    if (!this.take("host", "answerHost")) return;
    if (!ok) {
      this.fatal("host-unknown", `this server does not serve ${this.domain}`);
      return;
    }
    this.sendHeaderAndFeatures();
    this.resume();
  }

  /** Answers `scram-credentials` with the account's stored keys, or `null` for an unknown account. */
  answerScramCredentials(stored: ScramStoredCredentials | null): void {
    if (!this.take("scram", "answerScramCredentials")) return;
    this.step(this.mech!.supplyCredentials(stored));
    this.resume();
  }

  /** Answers `verify-password` (PLAIN). */
  answerPassword(ok: boolean): void {
    if (!this.take("password", "answerPassword")) return;
    this.step(this.mech!.verdict(ok));
    this.resume();
  }

  /** Answers `external-identity`: the account (localpart) the certificate maps to, or `null`. */
  answerExternal(username: string | null): void {
    if (!this.take("external", "answerExternal")) return;
    if (username === null) this.authFailure("not-authorized", "the client certificate maps to no account");
    else {
      const local = prepareLocal(username);
      const authzid = this.externalAuthzid;
      if (authzid !== undefined && !this.authzidAllowed(local, authzid)) this.authFailure("invalid-authzid", "invalid authorization identity");
      else this.authSuccess("EXTERNAL", local, undefined);
    }
    this.resume();
  }

  /** Answers `bind-request`: bind a resource (possibly another than requested) or refuse. */
  answerBind(answer: BindAnswer): void {
    if (!this.take("bind", "answerBind")) return;
    const iq = this.bindIq!;
    this.bindIq = undefined;
    if ("accept" in answer) {
      const full = makeJid(this.username, this.domain!, answer.accept);
      this.full = full;
      this.write(
        el("iq", NS_CLIENT, { type: "result", id: iq.attr("id") }, el("bind", NS_BIND, null, el("jid", NS_BIND, null, full.toString()))),
      );
      this._state = "online";
      this.phase = "online";
      this.negotiationDone();
      this.emit({ type: "online", jid: full });
    } else {
      this.replyError(iq, answer.refuse, answer.text);
    }
    this.resume();
  }

  // ---------------------------------------------------------------------------------------------------
  // Stream header and features

  protected onOpen(header: XmlElement, namespaces: ReadonlyMap<string, string>): void {
    if (this.phase !== "await-open") {
      this.fatal("bad-format", "unexpected stream header");
      return;
    }
    if (this._state === "idle") this._state = "negotiating";
    const fromAttr = header.attr("from");
    const from = fromAttr === undefined ? undefined : tryParseJid(fromAttr);
    this.clientFrom = from === undefined || from instanceof JidError ? undefined : from.toString();
    this.streamId = this.randomId();
    if (!this.checkHeader(header, namespaces)) return;
    // RFC 6120 §4.7.5: no version = pre-1.0 (not supported here); a higher major version is not ours.
    const version = parseStreamVersion(header.attr("version"));
    if (version === undefined) {
      this.fatal("unsupported-version", "pre-1.0 streams are not supported; use version='1.0'");
      return;
    }
    if (version.major !== 1) {
      this.fatal("unsupported-version", `version ${header.attr("version")} is not supported; this server speaks 1.0`);
      return;
    }
    const toAttr = header.attr("to");
    if (this.domain !== undefined) {
      // A restart: the client must keep talking to the same domain.
      if (toAttr !== undefined && !sameDomain(toAttr, this.domain)) {
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
      this.sendHeaderAndFeatures();
      return;
    }
    const to = tryParseJid(toAttr);
    if (to instanceof JidError || to.local !== "" || to.resource !== "") {
      this.fatal("host-unknown", "'to' must be a domain this server serves");
      return;
    }
    this.domain = to.domain;
    this.emitOpened(header);
    this.pending = "host";
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

  private tlsOffered(): boolean {
    return !this.secured && this.framing.kind === "stream" && (this.tlsPolicy === "required" || this.tlsPolicy === "optional");
  }

  private tlsMandatory(): boolean {
    return !this.secured && this.tlsPolicy === "required";
  }

  private sendHeaderAndFeatures(): void {
    this.writeHeader();
    const features = el("features", NS_STREAMS);
    this.offered = [];
    this.cbAdvertised = undefined;
    if (!this.authenticated) {
      if (this.tlsOffered()) {
        const starttls = el("starttls", NS_TLS);
        if (this.tlsPolicy === "required") starttls.append(el("required", NS_TLS));
        features.append(starttls);
      }
      // RFC 6120 §5.3.1: when TLS is mandatory, offer nothing else before it.
      if (!this.tlsMandatory()) {
        this.offered = this.mechanismsToOffer();
        const mechs = el("mechanisms", NS_SASL);
        for (const m of this.offered) mechs.append(el("mechanism", NS_SASL, null, m));
        features.append(mechs);
        const cbTypes = channelBindingList(this.tls?.channelBinding).map((b) => b.type);
        if (cbTypes.length > 0) {
          // XEP-0440: tell the client which channel-binding types we can verify.
          this.cbAdvertised = cbTypes;
          features.append(el("sasl-channel-binding", NS_SASL_CB, null, ...cbTypes.map((t) => el("channel-binding", NS_SASL_CB, { type: t }))));
        }
      }
    } else {
      features.append(el("bind", NS_BIND));
      if (this.offerLegacySession) features.append(el("session", NS_SESSION, null, el("optional", NS_SESSION)));
    }
    this.write(features);
    this.phase = "features";
  }

  private mechanismsToOffer(): string[] {
    const hasCb = channelBindingList(this.tls?.channelBinding).length > 0;
    const ids = this.tls?.peerIdentities ?? [];
    const out: string[] = [];
    const add = (m: string): void => {
      if (!out.includes(m)) out.push(m);
    };
    // §6.3.4: EXTERNAL first when a client certificate was verified.
    if (this.secured && ids.length > 0 && (this.mechanisms === DEFAULT_MECHANISMS || this.mechanisms.includes("EXTERNAL"))) add("EXTERNAL");
    for (const m of this.mechanisms) {
      if (!isMechanismName(m)) continue;
      if (isScramMechanism(m)) {
        const base = m.replace(/-PLUS$/, "");
        if (hasCb) add(`${base}-PLUS`);
        if (!m.endsWith("-PLUS")) add(base);
      } else if (m === "PLAIN") {
        if (this.secured || this.allowPlainInClear) add(m);
      } else if (m === "EXTERNAL") {
        if (this.secured && ids.length > 0) add(m);
      } else add(m);
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------------
  // Elements

  protected onElement(e: XmlElement): void {
    if (this.phase === "online") {
      this.onStanza(e);
      return;
    }
    if (this.phase === "await-open") {
      this.fatal("bad-format", "an element before the stream header");
      return;
    }
    if (e.ns === NS_TLS) {
      if (e.name === "starttls" && this.phase === "features" && !this.authenticated && this.tlsOffered()) {
        this.onStartTls();
        return;
      }
      // A second <starttls/>, or one we never offered (§5.4.3.3: TLS is negotiated once, before SASL).
      this.fatal("policy-violation", this.secured ? "TLS is already established" : "STARTTLS is not available on this stream");
      return;
    }
    if (e.ns === NS_SASL && !this.authenticated) {
      this.onSasl(e);
      return;
    }
    if (!this.authenticated) {
      // RFC 6120 §4.9.3.12: stanzas (or anything else) before authentication; not processed.
      this.fatal("not-authorized", "authenticate first");
      return;
    }
    this.onBindPhase(e);
  }

  private onStartTls(): void {
    this.write(el("proceed", NS_TLS));
    // Bytes after <starttls/> belong to the TLS handshake (CVE-2011-0411): never parse them.
    const tlsBytes = this.framing.takeUnparsed();
    this._state = "tls-handshake";
    this.paused = true;
    this.emit({ type: "starttls", tlsBytes });
  }

  private onSasl(e: XmlElement): void {
    if (e.name === "auth") {
      if (this.phase !== "features") {
        this.fatal("policy-violation", "a new <auth/> while an exchange is in progress");
        return;
      }
      this.onAuth(e);
      return;
    }
    if (e.name === "response" && this.phase === "sasl" && this.mech !== undefined) {
      const data = decodeSaslPayload(e.text());
      if (isSaslError(data)) {
        this.authFailure("incorrect-encoding", data.text);
        return;
      }
      this.step(this.mech.response(data ?? new Uint8Array(0)));
      return;
    }
    if (e.name === "abort") {
      if (this.phase === "sasl" && this.mech !== undefined) this.step(this.mech.abort());
      else this.authFailure("aborted", "the client aborted the exchange");
      return;
    }
    this.fatal("policy-violation", `unexpected SASL element <${e.name}/>`);
  }

  private onAuth(e: XmlElement): void {
    const name = e.attr("mechanism") ?? "";
    if (this.tlsMandatory()) {
      // RFC 6120 §5.3.1 + §6.5.3: TLS is mandatory-to-negotiate here; no mechanism is usable before it.
      this.authFailure("encryption-required", "negotiate TLS (STARTTLS) first");
      return;
    }
    if (!this.offered.includes(name)) {
      if (name === "PLAIN" && !this.secured && this.mechanisms.includes("PLAIN")) this.authFailure("encryption-required", "PLAIN needs TLS");
      else this.authFailure("invalid-mechanism", `mechanism ${name ? `'${name}' ` : ""}not offered`);
      return;
    }
    const data = decodeSaslPayload(e.text());
    if (isSaslError(data)) {
      this.authFailure("incorrect-encoding", data.text);
      return;
    }
    if (!isMechanismName(name)) {
      this.authFailure("invalid-mechanism", `mechanism '${name}' not supported`);
      return;
    }
    this.phase = "sasl";
    if (name === "EXTERNAL") {
      this.onExternal(data);
      return;
    }
    this.mech = createServerMechanism(name, {
      channelBindings: channelBindingList(this.tls?.channelBinding),
      offeredPlus: this.offered.some((m) => m.endsWith("-PLUS")),
      allowAuthzid: (authcid, authzid) => this.authzidAllowed(authcid, authzid),
      random: (n) => this.randomBytes(n),
      downgradeProtection: { mechanisms: this.offered, channelBindingTypes: this.cbAdvertised },
    });
    this.step(this.mech.start(data));
  }

  private onExternal(data: Uint8Array | null): void {
    const ids = this.tls?.peerIdentities ?? [];
    const text = data === null ? "" : utf8Decode(data);
    if (text === undefined || text.includes("\u0000")) {
      this.authFailure("malformed-request", "EXTERNAL authzid is not valid UTF-8");
      return;
    }
    if (ids.length === 0) {
      this.authFailure("not-authorized", "no client certificate was verified");
      return;
    }
    this.externalAuthzid = text === "" ? undefined : text;
    this.pending = "external";
    this.paused = true;
    this.emit(definedOnly({ type: "external-identity" as const, peerIdentities: ids, authzid: this.externalAuthzid }));
  }

  /** RFC 6120 §6.3.8: the authzid must be the bare JID of the authenticated account (or the authcid). */
  private authzidAllowed(authcid: string, authzid: string): boolean {
    try {
      const local = prepareLocal(authcid);
      if (authzid === authcid) return true;
      const j = parseJid(authzid);
      return j.local === local && j.domain === this.domain && j.resource === "";
    } catch {
      return false;
    }
  }

  private step(s: ServerStep): void {
    switch (s.kind) {
      case "challenge":
        this.write(el("challenge", NS_SASL, null, encodeSaslPayload(s.data)));
        return;
      case "success": {
        let local: string;
        try {
          local = prepareLocal(s.identity.authcid);
        } catch {
          this.authFailure("not-authorized", "not authorized");
          return;
        }
        this.authSuccess(s.identity.mechanism, local, s.data);
        return;
      }
      case "failure":
        this.authFailure(s.condition, s.text);
        return;
      case "credentials-needed": {
        const username = safeLocal(s.username);
        if (username === undefined) {
          this.step(this.mech!.refuse("not-authorized"));
          return;
        }
        this.pending = "scram";
        this.paused = true;
        this.emit(definedOnly({ type: "scram-credentials" as const, mechanism: s.mechanism, username, authzid: s.authzid }));
        return;
      }
      case "verify-password": {
        const username = safeLocal(s.username);
        if (username === undefined) {
          this.step(this.mech!.verdict(false));
          return;
        }
        this.pending = "password";
        this.paused = true;
        this.emit(definedOnly({ type: "verify-password" as const, username, password: s.password, authzid: s.authzid }));
        return;
      }
    }
  }

  private authSuccess(mechanism: string, username: string, data: Uint8Array | undefined): void {
    this.mech = undefined;
    this.write(el("success", NS_SASL, null, data === undefined ? "" : encodeSaslPayload(data)));
    this.authenticated = true;
    this.username = username;
    this.emit({ type: "authenticated", mechanism, username });
    // RFC 6120 §6.4.6: the client's next byte starts a new stream. We stopped parsing right after its
    // last SASL element (pausing for the application's answer if need be), so restart exactly there.
    this.framing.restart();
    this.authLimits();
    this.headerSent = false;
    this.phase = "await-open";
  }

  private authFailure(condition: SaslCondition, text: string | undefined): void {
    this.mech = undefined;
    this.phase = "features";
    this.failures++;
    this.write(buildSaslFailure(text === undefined ? { condition } : { condition, text }));
    const canRetry = this.failures < this.maxAuthAttempts;
    this.emit(definedOnly({ type: "auth-failed" as const, condition, text, canRetry }));
    // RFC 6120 §6.4.5: after the retry limit, close the stream with <policy-violation/>.
    if (!canRetry) this.fatal("policy-violation", "too many failed authentication attempts");
  }

  // ---------------------------------------------------------------------------------------------------
  // Resource binding (RFC 6120 §7) and stanzas (§8)

  private onBindPhase(e: XmlElement): void {
    if (!isStanza(e)) {
      this.fatal("unsupported-stanza-type", `<${e.name} xmlns='${e.ns}'> is not supported`);
      return;
    }
    const bind = e.name === "iq" && e.attr("type") === "set" ? e.getChild("bind", NS_BIND) : undefined;
    if (bind === undefined) {
      // RFC 6120 §7.1: no stanzas before a resource is bound.
      this.fatal("not-authorized", "bind a resource first");
      return;
    }
    if (!this.validIq(e)) return;
    const requested = bind.getChild("resource", NS_BIND);
    let resource: string;
    let generated = false;
    if (requested === undefined || requested.text() === "") {
      resource = this.randomId(12);
      generated = true;
    } else {
      try {
        // §7.7.2.1: the resourcepart must conform to OpaqueString (RFC 7622 §3.4), at most 1023 bytes.
        resource = prepareResource(requested.text());
      } catch (err) {
        this.replyError(e, "bad-request", err instanceof Error ? err.message : undefined);
        return;
      }
    }
    this.bindIq = e;
    this.pending = "bind";
    this.paused = true;
    this.emit({ type: "bind-request", username: this.username, resource, generated });
  }

  /** RFC 6120 §8.2.3: `id` required; `type` one of four; get/set with exactly one payload child. */
  private validIq(e: XmlElement): boolean {
    const type = e.attr("type");
    let problem: string | undefined;
    if (e.attr("id") === undefined) problem = "an IQ needs an 'id' (RFC 6120 §8.2.3)";
    else if (type === undefined || !IQ_TYPES.has(type)) problem = "an IQ 'type' must be get, set, result or error";
    else if ((type === "get" || type === "set") && e.elements().length !== 1) problem = "an IQ get/set must have exactly one child element";
    if (problem === undefined) return true;
    if (type !== "error") this.replyError(e, "bad-request", problem);
    return false;
  }

  private replyError(stanza: XmlElement, condition: StanzaErrorCondition, text?: string): void {
    const reply = errorReply(stanza, stanzaError(condition, text === undefined ? {} : { text, lang: "en" }));
    if (reply === undefined) return;
    // Our own replies come from the server (no 'from' = the server, §8.1.2.1 rule 2 allows the domain).
    if (this.full !== undefined && reply.attr("to") === undefined) reply.setAttr("to", this.full.toString());
    this.write(reply);
  }

  private onStanza(e: XmlElement): void {
    if (!isStanza(e)) {
      // RFC 6120 §4.9.3.23: a first-level element we do not support.
      this.fatal("unsupported-stanza-type", `<${e.name} xmlns='${e.ns}'> is not supported`);
      return;
    }
    const full = this.full!;
    const type = e.attr("type");
    const fromAttr = e.attr("from");
    if (fromAttr !== undefined) {
      const from = tryParseJid(fromAttr);
      // §8.1.2.1 / §4.9.3.9: only the client's own full or bare JID may be claimed.
      if (from instanceof JidError || !(from.equals(full) || from.equals(full.bare))) {
        this.fatal("invalid-from", "'from' does not match the bound JID");
        return;
      }
    }
    const toAttr = e.attr("to");
    if (toAttr !== undefined) {
      const to = tryParseJid(toAttr);
      if (to instanceof JidError) {
        // §8.3.3.8: a malformed address is never routed; the sender gets <jid-malformed/>.
        this.replyError(e, "jid-malformed", to.message);
        return;
      }
      e.setAttr("to", to.toString());
    }
    if (e.name === "iq") {
      if (!this.validIq(e)) return;
      if (type === "set" && e.getChild("session", NS_SESSION) !== undefined) {
        // RFC 3921 §3 legacy session establishment: a no-op that succeeds.
        this.write(el("iq", NS_CLIENT, { type: "result", id: e.attr("id"), to: full.toString() }));
        return;
      }
      if (type === "set" && e.getChild("bind", NS_BIND) !== undefined) {
        this.replyError(e, "not-allowed", "a resource is already bound to this stream");
        return;
      }
    }
    // §8.1.2.1 rule 1: stamp the full JID; subscription presence keeps the bare JID if the client used it.
    const stamp = e.name === "presence" && type !== undefined && SUBSCRIPTION_TYPES.has(type) && fromAttr !== undefined && !fromAttr.includes("/") ? full.bare : full;
    e.setAttr("from", stamp.toString());
    this.emit({ type: "stanza", stanza: e });
  }
}

function safeLocal(username: string): string | undefined {
  try {
    return prepareLocal(username);
  } catch {
    return undefined;
  }
}

function sameDomain(to: string, domain: string): boolean {
  const j = tryParseJid(to);
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
