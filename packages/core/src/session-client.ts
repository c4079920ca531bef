/**
 * The initiating entity (client) of RFC 6120: opens the stream, negotiates STARTTLS, SASL and resource
 * binding, then exchanges stanzas and tracks IQ requests.
 *
 * @module
 */
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import {
  type ClientMechanism,
  createClientMechanism,
  DEFAULT_MECHANISM_PREFERENCE,
  decodeSaslPayload,
  encodeSaslPayload,
  isMechanismName,
  isSaslError,
  type MechanismName,
  type SaltedPasswordCache,
  type SaslError,
  selectMechanism,
} from "@xmpp-sansio/sasl";
import { NS_CLIENT, type XmlElement } from "@xmpp-sansio/xml";
import { IqTracker } from "./iq-tracker.js";
import { parseSaslFailure } from "./sasl-failure.js";
import {
  channelBindingList,
  definedOnly,
  el,
  NS_BIND,
  NS_SASL,
  NS_SASL_CB,
  NS_SESSION,
  NS_TLS,
  parseStreamVersion,
  SessionBase,
  SessionStateError,
  trimmedText,
} from "./session-base.js";
import type { HeaderAttributes } from "./session-framing.js";
import type { ClientEvent, ClientOptions, SansIoSession, TlsInfo, TlsPolicy } from "./session-types.js";
import { parseStanzaError } from "./stanza-errors.js";

type Phase =
  | "idle"
  | "await-open" // our header is out, waiting for the server's
  | "await-features"
  | "starttls" // <starttls/> sent, waiting for <proceed/>
  | "credentials" // asked the application for a password
  | "sasl" // <auth/> sent, exchanging challenges
  | "sasl-abort" // we sent <abort/>, waiting for the failure
  | "auth-retry" // a failure the application may retry with supplyCredentials()
  | "bind" // bind request sent
  | "session" // legacy session request sent
  | "online"
  | "done";

/** SASL failure conditions after which trying again (other password) makes sense (RFC 6120 §6.4.5). */
const RETRYABLE = new Set(["not-authorized", "temporary-auth-failure", "credentials-expired", "aborted"]);

/** Extra client options of this implementation (on top of {@link ClientOptions}). */
export interface ClientExtraOptions {
  /**
   * A SCRAM SaltedPassword cache (from `createSaltedPasswordCache()` of `@xmpp-sansio/sasl`) so that
   * reconnects skip PBKDF2. Password-equivalent: keep it in memory only.
   */
  saltedPasswordCache?: SaltedPasswordCache;
  /** How many SASL attempts the client makes before giving up (RFC 6120 §6.4.5). Default 3. */
  maxAuthAttempts?: number;
}

/**
 * The client side of an XMPP session as a sans-IO state machine.
 *
 * Drive it like every session of this package: `start(now)`, then in a loop `receive(bytes, now)` →
 * drain `pollEvent()` (answer `credentials-needed` with {@link ClientSession.supplyCredentials}, hand the
 * socket to TLS on `starttls`) → write `pollTransmit()` → wait until `nextTimeout()`.
 *
 * @example
 * ```ts
 * const c = new ClientSession({ jid: "juliet@im.example.com/balcony", password: "r0m30myr0m30" });
 * c.start(now);
 * for (let out = c.pollTransmit(); out; out = c.pollTransmit()) socket.write(out);
 * ```
 */
export class ClientSession extends SessionBase<ClientEvent> implements SansIoSession<ClientEvent> {
  private readonly account: Jid;
  private readonly requestedResource: string;
  private password: string | undefined;
  private readonly authzid: string | undefined;
  private readonly tlsPolicy: TlsPolicy;
  private readonly allowPlainInClear: boolean;
  private readonly preference: readonly MechanismName[];
  private readonly minIterations: number;
  private readonly cache: SaltedPasswordCache | undefined;
  private readonly maxAuthAttempts: number;

  private phase: Phase = "idle";
  private authenticated = false;
  private offered: string[] = [];
  private cbTypes: string[] | undefined;
  private mech: ClientMechanism | undefined;
  private localError: SaslError | undefined;
  private authAttempts = 0;
  private bindId = "";
  private bindRetried = false;
  private sessionRequired = false;
  private sessionId = "";
  private boundJid: Jid | undefined;
  private tracker: IqTracker | undefined;
  /** The server's stream id (RFC 6120 §4.7.3), forgotten at each restart. */
  streamId: string | undefined;

  constructor(options: ClientOptions & ClientExtraOptions) {
    super(options);
    const j = typeof options.jid === "string" ? parseJid(options.jid) : options.jid;
    this.account = j.bare;
    this.requestedResource = j.resource;
    this.password = options.password;
    this.authzid = options.authzid;
    this.tlsPolicy = options.tls ?? "required";
    this.allowPlainInClear = options.allowPlainInClear ?? false;
    this.preference = (options.mechanisms ?? DEFAULT_MECHANISM_PREFERENCE).filter(isMechanismName);
    this.minIterations = options.minScramIterations ?? 4096;
    this.cache = options.saltedPasswordCache;
    this.maxAuthAttempts = options.maxAuthAttempts ?? 3;
    if (this.account.local === "") throw new TypeError("the client JID needs a localpart (the account)");
  }

  /** The full JID once bound (online); before that, the configured account (bare) JID. */
  get jid(): Jid {
    return this.boundJid ?? this.account;
  }

  /** Opens the stream. */
  start(now: number): void {
    if (this.phase !== "idle") throw new SessionStateError("start() was already called");
    this.tick(now);
    if (this.tlsPolicy === "direct" && !this.secured) {
      throw new SessionStateError('tls: "direct" — call tlsEstablished() before start()');
    }
    this._state = "negotiating";
    this.negotiationDeadline = now + this.timeouts.negotiationMs;
    this.openStream();
  }

  private openStream(): void {
    this.streamId = undefined;
    this.phase = "await-open";
    this.writeHeader();
  }

  protected headerAttributes(): HeaderAttributes {
    // RFC 6120 §4.7.1: a client SHOULD include 'from' (its bare JID) — we do, as in the §9.1 example.
    return { to: this.account.domain, from: this.account.toString(), lang: this.lang };
  }

  /**
   * TLS is up: after a `starttls` event (the stream restarts, everything learned before is discarded,
   * RFC 6120 §5.4.3.3), or before `start` with `tls: "direct"` / a `wss:` WebSocket.
   */
  tlsEstablished(info: TlsInfo, now: number): void {
    this.tick(now);
    if (!this.acceptTls(info, this.phase === "idle")) return;
    this.paused = false;
    this.offered = [];
    this.cbTypes = undefined;
    this.openStream();
  }

  /**
   * Supplies the password after `credentials-needed`, or tries again after an `auth-failed` event with
   * `canRetry: true` (RFC 6120 §6.4.5).
   */
  supplyCredentials(credentials: { password: string }): void {
    if (this.phase !== "credentials" && this.phase !== "auth-retry") {
      throw new SessionStateError("supplyCredentials() is only valid after credentials-needed or a retryable auth-failed");
    }
    this.password = credentials.password;
    this.startAuth();
  }

  /** Sends a stanza (online only). Stanzas without `xmlns` get `jabber:client`. */
  send(stanza: XmlElement): void {
    if (this._state !== "online") throw new SessionStateError(`send() in state ${this._state}: wait for the online event`);
    this.write(stanza);
  }

  /**
   * Sends an IQ request (`get` or `set`) and tracks it: the answer comes as `iq-response` — only from the
   * addressed JID — or `iq-timeout` after `timeoutMs` (default `timeouts.iqMs`). Sets a random `id` if the
   * IQ has none. Returns the id.
   */
  sendIq(iq: XmlElement, now: number, timeoutMs?: number): string {
    if (this._state !== "online") throw new SessionStateError(`sendIq() in state ${this._state}: wait for the online event`);
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
      this.write(iq);
    } catch (e) {
      this.tracker.cancel(id);
      throw e;
    }
    return id;
  }

  /** Sends a whitespace keepalive (RFC 6120 §4.6.1); a no-op with WebSocket framing (use pings there). */
  sendKeepalive(): void {
    if (this._state !== "online" && this._state !== "negotiating") throw new SessionStateError(`sendKeepalive() in state ${this._state}`);
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
    this.phase = "done";
    // Outstanding requests will never be answered: each ends with iq-timeout (before `closed`).
    if (this.tracker !== undefined) for (const id of this.tracker.cancelAll()) this.emit({ type: "iq-timeout", id });
  }

  // ---------------------------------------------------------------------------------------------------

  protected onOpen(header: XmlElement, namespaces: ReadonlyMap<string, string>): void {
    if (this.phase !== "await-open") {
      this.fatal("bad-format", "unexpected stream header");
      return;
    }
    if (!this.checkHeader(header, namespaces)) return;
    const version = parseStreamVersion(header.attr("version"));
    // RFC 6120 §4.7.5: we speak 1.0 and need the server to (features exist only from 1.0 on).
    if (version === undefined || version.major !== 1) {
      this.fatal("unsupported-version", "this client requires an XMPP 1.0 stream");
      return;
    }
    this.streamId = header.attr("id");
    this.phase = "await-features";
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
    switch (this.phase) {
      case "await-features":
        if (e.is("features", "http://etherx.jabber.org/streams")) this.onFeatures(e);
        else this.unexpected(e);
        return;
      case "starttls":
        if (e.is("proceed", NS_TLS)) this.onProceed();
        else if (e.is("failure", NS_TLS)) {
          // RFC 6120 §5.4.2.2: the server closes the stream after a STARTTLS failure.
          this.emit({ type: "stream-error", condition: "policy-violation", text: "the server refused STARTTLS", byPeer: false });
          this.framing.writeClose();
          this.finish("stream-error");
        } else this.unexpected(e);
        return;
      case "sasl":
      case "sasl-abort":
        this.onSasl(e);
        return;
      case "bind":
      case "session":
        this.onBindReply(e);
        return;
      case "online":
        this.onStanza(e);
        return;
      default:
        this.unexpected(e);
    }
  }

  private unexpected(e: XmlElement): void {
    this.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> during ${this.phase}`);
  }

  private onFeatures(f: XmlElement): void {
    // STARTTLS first (RFC 6120 §5.3.4: TLS before SASL). Only for stream framing: wss: is TLS already.
    if (!this.secured && this.framing.kind === "stream" && this.tlsPolicy !== "none") {
      if (f.getChild("starttls", NS_TLS) !== undefined) {
        this.write(el("starttls", NS_TLS));
        this.phase = "starttls";
        return;
      }
    }
    if (!this.secured && this.tlsPolicy === "required") {
      // No STARTTLS offer while we require TLS: a stripping attack or a misconfigured server. We never
      // continue in the clear. RFC 6120 §5.3.1 makes TLS mandatory-to-negotiate by local policy; the
      // condition for "violates local service policy" is <policy-violation/> (§4.9.3.14).
      this.fatal("policy-violation", "TLS is required by local policy but the server did not offer STARTTLS");
      return;
    }
    if (!this.authenticated) {
      const mechs = f.getChild("mechanisms", NS_SASL);
      if (mechs === undefined) {
        this.fatal("policy-violation", "the server offered no SASL mechanisms");
        return;
      }
      this.offered = mechs.getChildren("mechanism").map((m) => trimmedText(m));
      const cb = f.getChild("sasl-channel-binding", NS_SASL_CB);
      this.cbTypes = cb === undefined ? undefined : cb.getChildren("channel-binding").map((c) => c.attr("type") ?? "");
      if (this.password === undefined) {
        const sel = this.select();
        if (sel === undefined) return;
        this.phase = "credentials";
        this.emit({ type: "credentials-needed", mechanism: sel.mechanism });
        return;
      }
      this.startAuth();
      return;
    }
    if (f.getChild("bind", NS_BIND) === undefined) {
      this.fatal("undefined-condition", "the server did not offer resource binding (RFC 6120 §7.3.1)");
      return;
    }
    const session = f.getChild("session", NS_SESSION);
    this.sessionRequired = session !== undefined && session.getChild("optional", NS_SESSION) === undefined;
    this.sendBind(this.requestedResource);
  }

  private onProceed(): void {
    // RFC 6120 §5.4.3.3 / CVE-2011-0411: not one byte after <proceed/> is parsed as XML; they belong to TLS.
    const tlsBytes = this.framing.takeUnparsed();
    this._state = "tls-handshake";
    this.phase = "await-open";
    this.paused = true;
    this.emit({ type: "starttls", tlsBytes });
  }

  private select(): ReturnType<typeof selectMechanism> {
    const sel = selectMechanism({
      offered: this.offered,
      serverChannelBindingTypes: this.cbTypes,
      channelBindings: channelBindingList(this.tls?.channelBinding),
      credentials: { password: true },
      tls: this.secured,
      allowPlainInClear: this.allowPlainInClear,
      preference: this.preference,
    });
    if (sel === undefined) {
      this.authGiveUp("invalid-mechanism", `no acceptable SASL mechanism among: ${this.offered.join(", ") || "none"}`);
    }
    return sel;
  }

  private startAuth(): void {
    const sel = this.select();
    if (sel === undefined) return;
    this.authAttempts++;
    this.localError = undefined;
    try {
      this.mech = createClientMechanism(sel.mechanism, {
        username: this.account.local,
        password: this.password ?? "",
        ...(this.authzid === undefined ? {} : { authzid: this.authzid }),
        ...sel.options,
        random: (n) => this.randomBytes(n),
        minIterations: this.minIterations,
        downgradeProtection: { mechanisms: this.offered, channelBindingTypes: this.cbTypes },
        ...(this.cache === undefined ? {} : { saltedPasswordCache: this.cache }),
      });
    } catch (e) {
      // The application's password or authzid is unusable (e.g. fails PRECIS OpaqueString).
      this.phase = "auth-retry";
      this.emit({ type: "auth-failed", condition: "not-authorized", text: (e as Error).message, canRetry: true });
      return;
    }
    const initial = this.mech.initialResponse();
    this.write(el("auth", NS_SASL, { mechanism: sel.mechanism }, encodeSaslPayload(initial)));
    this.phase = "sasl";
  }

  private onSasl(e: XmlElement): void {
    const mech = this.mech!;
    if (e.is("challenge", NS_SASL) && this.phase === "sasl") {
      const data = decodeSaslPayload(e.text());
      const r = isSaslError(data) ? data : mech.challenge(data ?? new Uint8Array(0));
      if (isSaslError(r)) {
        this.localError = r;
        this.write(el("abort", NS_SASL));
        this.phase = "sasl-abort";
        return;
      }
      this.write(el("response", NS_SASL, null, encodeSaslPayload(r)));
      return;
    }
    if (e.is("success", NS_SASL) && this.phase === "sasl") {
      const data = decodeSaslPayload(e.text());
      const r = isSaslError(data) ? data : mech.finish(data ?? undefined);
      if (r !== true) {
        // The server did not prove it knows our credentials (SCRAM v=): never trust this stream.
        this.authGiveUp(r.condition, r.text);
        return;
      }
      this.authenticated = true;
      this.mech = undefined;
      this.password = undefined; // not needed any more; do not keep it in memory
      this.emit({ type: "authenticated", mechanism: mech.name });
      // RFC 6120 §6.4.6: restart at the exact byte after </success>; what follows is the new stream.
      this.framing.restart();
      this.authLimits();
      this.openStream();
      return;
    }
    if (e.is("failure", NS_SASL)) {
      const f = parseSaslFailure(e);
      this.mech = undefined;
      if (this.localError !== undefined) {
        this.authGiveUp(this.localError.condition, this.localError.text);
        return;
      }
      const canRetry = RETRYABLE.has(f.condition) && this.authAttempts < this.maxAuthAttempts;
      if (canRetry) {
        this.phase = "auth-retry";
        this.emit(definedOnly({ type: "auth-failed" as const, condition: f.condition, text: f.text, canRetry: true }));
        return;
      }
      this.authGiveUp(f.condition, f.text);
      return;
    }
    this.unexpected(e);
  }

  /** Authentication cannot succeed: report, close the stream, and end (reason `auth-failed`). */
  private authGiveUp(condition: string, text: string | undefined): void {
    this.emit(definedOnly({ type: "auth-failed" as const, condition, text, canRetry: false }));
    this.framing.writeClose();
    this.finish("auth-failed");
  }

  private sendBind(resource: string): void {
    this.bindId = this.randomId(9);
    const bind = el("bind", NS_BIND);
    if (resource !== "") bind.append(el("resource", NS_BIND, null, resource));
    this.write(el("iq", NS_CLIENT, { type: "set", id: this.bindId }, bind));
    this.phase = "bind";
  }

  private onBindReply(e: XmlElement): void {
    const id = e.attr("id");
    const type = e.attr("type");
    const ours = e.is("iq", NS_CLIENT) && (type === "result" || type === "error");
    if (!ours || (id !== this.bindId && id !== this.sessionId)) {
      this.unexpected(e);
      return;
    }
    if (this.phase === "bind") {
      if (type === "error") {
        const err = parseStanzaError(e);
        if (err.condition === "conflict" && this.requestedResource !== "" && !this.bindRetried) {
          // RFC 6120 §7.7.2.2: our resource is taken; ask the server to generate one instead.
          this.bindRetried = true;
          this.sendBind("");
          return;
        }
        this.emit(definedOnly({ type: "bind-failed" as const, condition: err.condition, text: err.text }));
        this.close(this.now);
        return;
      }
      const jidText = trimmedText(e.getChild("bind", NS_BIND)?.getChild("jid", NS_BIND));
      let bound: Jid;
      try {
        bound = parseJid(jidText);
      } catch {
        this.fatal("undefined-condition", "the server returned an invalid JID from resource binding");
        return;
      }
      // §7.6.1: trust the server's JID — but it must be a full JID of our account.
      if (bound.resource === "" || !bound.bare.equals(this.account)) {
        this.fatal("undefined-condition", `the server bound a JID of another account: ${bound.toString()}`);
        return;
      }
      this.boundJid = bound;
      if (this.sessionRequired) {
        // RFC 3921 §3: legacy session establishment, when the server does not mark it <optional/>.
        this.sessionId = this.randomId(9);
        this.write(el("iq", NS_CLIENT, { type: "set", id: this.sessionId }, el("session", NS_SESSION)));
        this.phase = "session";
        return;
      }
      this.goOnline();
      return;
    }
    if (type === "error") {
      const err = parseStanzaError(e);
      this.emit(definedOnly({ type: "bind-failed" as const, condition: err.condition, text: err.text }));
      this.close(this.now);
      return;
    }
    this.goOnline();
  }

  private goOnline(): void {
    this.phase = "online";
    this._state = "online";
    this.negotiationDone();
    this.emit({ type: "online", jid: this.boundJid! });
  }

  private onStanza(e: XmlElement): void {
    if (this.tracker !== undefined && e.name === "iq" && e.ns === NS_CLIENT) {
      const m = this.tracker.match(e, this.jid);
      if (m !== undefined) {
        this.emit({ type: "iq-response", id: m.id, stanza: e });
        return;
      }
    }
    // Anything else (messages, presence, requests, replies from a JID we did not ask, extension
    // elements such as XEP-0198's) is the application's.
    this.emit({ type: "stanza", stanza: e });
  }
}
