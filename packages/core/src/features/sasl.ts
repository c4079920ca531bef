/**
 * SASL (RFC 6120 §6) as a stream feature of both roles, on the mechanisms of `@xmpp-sansio/sasl`.
 * Client: mechanism selection (XEP-0440 channel binding, XEP-0474 downgrade protection), retries, the
 * password question. Server: the offer, the exchange, and the credential questions to the application.
 *
 * @module
 */
import { parseJid, prepareLocal } from "@xmpp-sansio/jid";
import {
  type ClientMechanism,
  type ClientMechanismOptions,
  type CustomClientMechanism,
  type CustomServerMechanism,
  createScramClientMechanism,
  createServerMechanism,
  DEFAULT_MECHANISM_PREFERENCE,
  decodeSaslPayload,
  encodeSaslPayload,
  isKeyDerivationRequest,
  isMechanismName,
  isSaslError,
  isScramMechanism,
  type MechanismName,
  type SaltedPasswordCache,
  type SaslCondition,
  type SaslError,
  type ScramCrypto,
  type ScramHashFunction,
  type ServerMechanism,
  type ServerMechanismOptions,
  type ServerStep,
  selectMechanism,
  utf8Decode,
} from "@xmpp-sansio/sasl";
import type { XmlElement } from "@xmpp-sansio/xml";
import type { OneShotMechanismsClientPart } from "../client-parts.js";
import { buildSaslFailure, NS_XMPP_SASL, parseSaslFailure } from "../sasl-failure.js";
import type { ChannelBindingData, ScramStoredCredentials, TlsPolicy } from "../session-types.js";
import { definedOnly, el, trimmedText } from "../util.js";
import type { ClientFeature, ClientFeatureContext, ServerFeature, ServerFeatureContext, StreamFeature } from "./types.js";

/** `urn:ietf:params:xml:ns:xmpp-sasl` (RFC 6120 §6.4). */
export const NS_SASL = NS_XMPP_SASL;
/** `urn:xmpp:sasl-cb:0` (XEP-0440: SASL channel-binding type capability). */
export const NS_SASL_CB = "urn:xmpp:sasl-cb:0";

/** Mechanisms a server offers by default, in order. */
export const DEFAULT_SERVER_MECHANISMS = ["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"] as const;

/** Lenient policy: channel-binding type refusals (not counted as failures) allowed per stream. */
const MAX_CB_TYPE_REFUSALS = 10;

/** SASL failure conditions after which trying again (other password) makes sense (RFC 6120 §6.4.5). */
const RETRYABLE = new Set(["not-authorized", "temporary-auth-failure", "credentials-expired", "aborted"]);

/** Channel-binding data as the list the sasl package takes, in the XEP-0440 preference order. */
export function channelBindingList(data: ChannelBindingData | undefined): { type: "tls-exporter" | "tls-unique" | "tls-server-end-point"; data: Uint8Array }[] {
  const out: { type: "tls-exporter" | "tls-unique" | "tls-server-end-point"; data: Uint8Array }[] = [];
  if (data === undefined) return out;
  for (const type of ["tls-exporter", "tls-unique", "tls-server-end-point"] as const) {
    const d = data[type];
    if (d instanceof Uint8Array && d.length > 0) out.push({ type, data: d });
  }
  return out;
}

// -----------------------------------------------------------------------------------------------------
// Client

/** The hash of a SCRAM mechanism name (`SCRAM-SHA-256-PLUS` → `SHA-256`). */
export function scramHashName(mechanism: string): string {
  return mechanism.slice(6).replace(/-PLUS$/, "");
}

/** Whether a built-in mechanism's code is loaded: a SCRAM one with its hash function, the others with their part. */
function isLoaded(m: MechanismName, hashes: readonly ScramHashFunction[] | undefined, oneShot: boolean): boolean {
  return isScramMechanism(m) ? hashes?.some((h) => h.name === scramHashName(m)) === true : oneShot;
}

/**
 * The client's mechanism preference with the mechanisms whose code is not loaded left out: a SCRAM
 * mechanism needs its hash function (the `hashes` part), PLAIN, ANONYMOUS and EXTERNAL need the
 * `oneShotMechanisms` part. Checks what a lean client is given, before any connection: `mechanisms` may
 * not name a mechanism whose code is missing, and the default preference needs at least one hash (no
 * silent fall-back from SCRAM to PLAIN); without the one-shot part the default preference is SCRAM only.
 * @param mechanisms - `ClientOptions.mechanisms` (default: the library's preference)
 * @param hashes - the hash functions loaded (`parts.hashes`)
 * @param oneShot - whether the `oneShotMechanisms` part is loaded (default `true`, as in full clients)
 * @throws TypeError naming the mechanism whose hash function or part is missing
 */
export function mechanismsWithHashes(mechanisms: readonly string[] | undefined, hashes: readonly ScramHashFunction[], oneShot = true): MechanismName[] {
  const wanted = (mechanisms ?? DEFAULT_MECHANISM_PREFERENCE).filter(isMechanismName);
  const missing = mechanisms === undefined ? (hashes.length === 0 ? ["SCRAM"] : []) : wanted.filter((m) => !isLoaded(m, hashes, oneShot));
  if (missing.length > 0) {
    // A missing hash is named first (as before the one-shot part); the same advice follows either.
    const noHash = missing.filter((m) => m.startsWith("SCRAM"));
    throw new TypeError(
      `${(noHash.length > 0 ? noHash : missing).join(", ")} needs ${noHash.length > 0 ? "its hash function: pass parts: { hashes: [sha256Hash] }" : "the one-shot mechanisms part: pass parts: { oneShotMechanisms: oneShotMechanismsClientPart }"} (from @xmpp-sansio/core), or use a full client (ClientSession, XmppClient)`,
    );
  }
  return wanted.filter((m) => isLoaded(m, hashes, oneShot));
}

/** Options of the client half (from `ClientOptions`). */
export interface SaslClientOptions {
  /** The password (`ClientOptions.password`); `undefined`: ask with `credentials-needed`. */
  readonly password: string | undefined;
  /** The authorization identity to request, if any. */
  readonly authzid: string | undefined;
  /** The session's TLS policy: with `"required"`, SASL never runs before TLS. */
  readonly tls: TlsPolicy;
  /** Whether PLAIN may be used on a stream without TLS. */
  readonly allowPlainInClear: boolean;
  /** Mechanisms we may use, most preferred first (`ClientOptions.mechanisms`). */
  readonly preference: readonly MechanismName[];
  /** Lowest SCRAM iteration count accepted from the server (`minScramIterations`). */
  readonly minIterations: number;
  /** Highest SCRAM iteration count accepted (`maxScramIterations`); `undefined`: `DEFAULT_CLIENT_MAX_ITERATIONS`. */
  readonly maxIterations: number | undefined;
  /** Cache of SCRAM SaltedPasswords (skips PBKDF2 on reconnection), if any. */
  readonly cache: SaltedPasswordCache | undefined;
  /** SASL attempts before the client gives up (RFC 6120 §6.4.5). */
  readonly maxAuthAttempts: number;
  /** The application's own mechanisms, preferred (in this order) over the built-in ones when offered. */
  readonly custom?: readonly CustomClientMechanism[];
  /** SCRAM's PBKDF2: computed inline, or asked of the application (`derive-key` event). */
  readonly deriveKey?: "inline" | "ask";
  /**
   * SCRAM's hash functions (`sha256Hash`… of `@xmpp-sansio/sasl`, the `hashes` client part): a SCRAM
   * mechanism is used only with its hash here. Default none (no SCRAM).
   */
  readonly scramHashes?: readonly ScramHashFunction[];
  /**
   * PLAIN, ANONYMOUS and EXTERNAL (the `oneShotMechanisms` client part): used only when given. Default none
   * (SCRAM only).
   */
  readonly oneShotMechanisms?: OneShotMechanismsClientPart;
  /**
   * Force the channel-binding type of `-PLUS` mechanisms. Default: the server's XEP-0440 list; without
   * one, the binding the connection's TLS version has (`tls-unique` up to TLS 1.2, `tls-exporter` on 1.3).
   */
  readonly channelBindingType?: "tls-exporter" | "tls-unique" | "tls-server-end-point";
}

/** Options of the server half (from `ServerOptions`). */
export interface SaslServerOptions {
  /** The session's TLS policy: with `"required"`, mechanisms are offered only after TLS. */
  readonly tls: TlsPolicy;
  /** Mechanisms offered, in order (`-PLUS` variants added when channel binding exists). */
  readonly mechanisms: readonly string[];
  /** Whether PLAIN is offered on a stream without TLS. */
  readonly allowPlainInClear: boolean;
  /**
   * Failed attempts allowed before the stream ends with `<policy-violation/>` (RFC 6120 §6.4.5 lets the server
   * limit retries).
   */
  readonly maxAuthAttempts: number;
  /** The application's own mechanisms, offered before the built-in ones. */
  readonly custom?: readonly CustomServerMechanism[];
  /**
   * `lenient` (default): a request for a channel-binding type this connection cannot provide (e.g.
   * `tls-unique` on TLS 1.3) is refused without counting as a failed credential, and a later `y` on the
   * same stream is not taken for a downgrade (the client did see the `-PLUS` offer). `strict`: both are
   * failures, as RFC 5802 §6 reads literally. See `docs/sasl.md`.
   */
  readonly channelBindingPolicy?: "lenient" | "strict";
  /** SCRAM's H and HMAC (`ServerOptions.scramCrypto`); default the pure-JS ones. */
  readonly crypto?: ScramCrypto;
  /**
   * The stream's failed-attempt counter, shared by every SASL profile offered on it (RFC 6120 SASL and
   * XEP-0388 SASL2 count together toward `maxAuthAttempts`).
   */
  readonly counter?: { failures: number };
  /** Offer RFC 6120 SASL. Default true (`false`: SASL2 only). */
  readonly enabled?: boolean;
}

/** What SASL is, without its halves (the sessions create those with their options). */
export const SASL_DEFINITION: StreamFeature = {
  name: "sasl",
  namespaces: [NS_SASL],
  availability: { until: "authenticated" },
  restarts: true,
  mandatory: true,
};

/** The SASL feature; the same definition serves both roles (each half takes its own options). */
export function saslFeature(options: { client?: SaslClientOptions; server?: SaslServerOptions }): StreamFeature {
  const { client, server } = options;
  return {
    ...SASL_DEFINITION,
    ...(client === undefined ? {} : { client: () => new SaslClient(client) }),
    ...(server === undefined ? {} : { server: () => new SaslServer(server) }),
  };
}

/** Where the client half of SASL stands. */
export type SaslClientPhase = "idle" | "credentials" | "exchange" | "deriving" | "abort" | "retry";

/** The client half; `ClientSession.supplyCredentials` reaches it through {@link SaslClient.supply}. */
export class SaslClient implements ClientFeature {
  /** Where the exchange stands: waiting for credentials, exchanging, deriving a key, aborting or retrying. */
  protected phase: SaslClientPhase = "idle";
  /** The password in use (from the options, or `supplyCredentials`). */
  protected password: string | undefined;
  /** The mechanisms the server offered on this stream. */
  protected offered: string[] = [];
  /** The channel-binding types the server announced (XEP-0440), if it did. */
  protected cbTypes: string[] | undefined;
  /** The mechanism of the running exchange. */
  protected mech: ClientMechanism | undefined;
  private localError: SaslError | undefined;
  /** Failed attempts so far on this stream (bounded by `maxAuthAttempts`). */
  protected attempts = 0;

  /** @param o The resolved client options. */
  constructor(protected readonly o: SaslClientOptions) {
    this.password = o.password;
  }

  negotiate(features: XmlElement, ctx: ClientFeatureContext<unknown>): boolean {
    const mechs = features.getChild("mechanisms", NS_SASL);
    if (mechs === undefined) {
      ctx.fatal("policy-violation", "the server offered no SASL mechanisms");
      return true;
    }
    this.offered = mechs.getChildren("mechanism").map((m) => trimmedText(m));
    const cb = features.getChild("sasl-channel-binding", NS_SASL_CB);
    this.cbTypes = cb === undefined ? undefined : cb.getChildren("channel-binding").map((c) => c.attr("type") ?? "");
    return this.begin(ctx);
  }

  /** Starts with the password, or asks for it (`credentials-needed`). */
  protected begin(ctx: ClientFeatureContext<unknown>): boolean {
    if (this.password === undefined) {
      const sel = this.select(ctx);
      if (sel === undefined) return true;
      this.phase = "credentials";
      ctx.emit({ type: "credentials-needed", mechanism: sel.mechanism });
      return true;
    }
    this.start(ctx);
    return true;
  }

  /** The application supplied a password (after `credentials-needed`, or a retryable `auth-failed`). */
  supply(password: string, ctx: ClientFeatureContext<unknown>): boolean {
    if (this.phase !== "credentials" && this.phase !== "retry") return false;
    this.password = password;
    this.start(ctx);
    return true;
  }

  handleRestart(): void {
    this.offered = [];
    this.cbTypes = undefined;
  }

  /** The mechanism to use now (the application's own first, then the strongest built-in one). */
  protected select(ctx: ClientFeatureContext<unknown>): { mechanism: string; options: ClientMechanismOptions; custom?: CustomClientMechanism } | undefined {
    for (const c of this.o.custom ?? []) if (this.offered.includes(c.name)) return { mechanism: c.name, options: {}, custom: c };
    const sel = selectMechanism({
      offered: this.offered,
      serverChannelBindingTypes: this.cbTypes,
      channelBindings: channelBindingList(ctx.tls?.channelBinding),
      credentials: { password: true },
      tls: ctx.flags.secure,
      allowPlainInClear: this.o.allowPlainInClear,
      // A mechanism only with its code loaded (a SCRAM one with its hash function, PLAIN with its part).
      preference: this.o.preference.filter((m) => isLoaded(m, this.o.scramHashes, this.o.oneShotMechanisms !== undefined)),
      ...(this.o.channelBindingType === undefined ? {} : { channelBindingPreference: [this.o.channelBindingType], forceChannelBindingType: true }),
    });
    if (sel === undefined) this.giveUp(ctx, "invalid-mechanism", `no acceptable SASL mechanism among: ${this.offered.join(", ") || "none"}`);
    return sel;
  }

  /** Starts an exchange with the selected mechanism (writes the first element). */
  protected start(ctx: ClientFeatureContext<unknown>): void {
    const sel = this.select(ctx);
    if (sel === undefined) return;
    this.attempts++;
    this.localError = undefined;
    try {
      const options: ClientMechanismOptions = {
        username: ctx.account.local,
        password: this.password ?? "",
        ...(this.o.authzid === undefined ? {} : { authzid: this.o.authzid }),
        ...sel.options,
        random: (n) => ctx.randomBytes(n),
        minIterations: this.o.minIterations,
        ...(this.o.maxIterations === undefined ? {} : { maxIterations: this.o.maxIterations }),
        downgradeProtection: { mechanisms: this.offered, channelBindingTypes: this.cbTypes },
        ...(this.o.cache === undefined ? {} : { saltedPasswordCache: this.o.cache }),
        ...(this.o.deriveKey === undefined ? {} : { deriveKey: this.o.deriveKey }),
        scramHashes: this.o.scramHashes ?? [],
      };
      const name = sel.mechanism as MechanismName;
      // select() kept only loaded mechanisms: a non-SCRAM one implies the one-shot part.
      this.mech =
        sel.custom !== undefined ? sel.custom.create(options) : isScramMechanism(name) ? createScramClientMechanism(name, options) : this.o.oneShotMechanisms!(name, options);
    } catch (e) {
      // The application's password or authzid is unusable (e.g. fails PRECIS OpaqueString).
      this.phase = "retry";
      ctx.emit({ type: "auth-failed", condition: "not-authorized", text: (e as Error).message, canRetry: true });
      return;
    }
    const initial = this.mech.initialResponse();
    this.phase = "exchange";
    this.writeAuth(sel.mechanism, initial, ctx);
  }

  /** Writes the first element of an exchange (RFC 6120: `<auth/>`). */
  protected writeAuth(mechanism: string, initial: Uint8Array | null, ctx: ClientFeatureContext<unknown>): void {
    ctx.write(el("auth", NS_SASL, { mechanism }, encodeSaslPayload(initial)));
  }

  /** Writes a response (`<response/>`) or the abort (`<abort/>`) of the current profile. */
  protected writeStep(data: Uint8Array | "abort", ctx: ClientFeatureContext<unknown>): void {
    ctx.write(data === "abort" ? el("abort", NS_SASL) : el("response", NS_SASL, null, encodeSaslPayload(data)));
  }

  handleElement(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    if (e.ns === NS_SASL && this.mech !== undefined) {
      if (e.name === "challenge" && this.phase === "exchange") {
        this.handleChallenge(e.text(), ctx);
        return;
      }
      if (e.name === "success" && this.phase === "exchange") {
        if (!this.verifySuccess(e.text(), ctx)) return;
        // RFC 6120 §6.4.6: restart at the exact byte after </success>; what follows is the new stream.
        ctx.done({ restart: true });
        return;
      }
      if (e.name === "failure") {
        this.handleFailure(parseSaslFailure(e), ctx);
        return;
      }
    }
    ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> during sasl`);
  }

  /** A challenge (base64 text): the mechanism's response, or the `derive-key` question. */
  protected handleChallenge(text: string, ctx: ClientFeatureContext<unknown>): void {
    const mech = this.mech!;
    const data = decodeSaslPayload(text);
    const r = isSaslError(data) ? data : mech.challenge(data ?? new Uint8Array(0));
    if (isKeyDerivationRequest(r)) {
      // PBKDF2 is the application's (adapter's) work: ask, and parse nothing until the answer.
      this.phase = "deriving";
      ctx.pause();
      ctx.emit({ type: "derive-key", hash: r.hash, password: r.password, salt: r.salt, iterations: r.iterations, length: r.length, hashFunction: r.hashFunction });
      return;
    }
    this.respond(r, ctx);
  }

  /**
   * Success with its additional data (base64 text, or `undefined`): the mechanism checks it (SCRAM's
   * server signature). `true` and authenticated; `false` when the session was given up.
   */
  protected verifySuccess(text: string | undefined, ctx: ClientFeatureContext<unknown>): boolean {
    const mech = this.mech!;
    const data = text === undefined ? null : decodeSaslPayload(text);
    const r = isSaslError(data) ? data : mech.finish(data ?? undefined);
    if (r !== true) {
      // The server did not prove it knows our credentials (SCRAM v=): never trust this stream.
      this.giveUp(ctx, r.condition, r.text);
      return false;
    }
    this.mech = undefined;
    this.password = undefined; // not needed any more; do not keep it in memory
    this.phase = "idle";
    ctx.setAuthenticated({ mechanism: mech.name });
    return true;
  }

  /** A failure: retry when it makes sense (RFC 6120 §6.4.5), else give up. */
  protected handleFailure(f: { condition: string; text?: string | undefined }, ctx: ClientFeatureContext<unknown>): void {
    this.mech = undefined;
    if (this.localError !== undefined) {
      this.giveUp(ctx, this.localError.condition, this.localError.text);
      return;
    }
    if (RETRYABLE.has(f.condition) && this.attempts < this.o.maxAuthAttempts) {
      this.phase = "retry";
      ctx.emit(definedOnly({ type: "auth-failed" as const, condition: f.condition, text: f.text, canRetry: true }));
      return;
    }
    this.giveUp(ctx, f.condition, f.text);
  }

  private respond(r: Uint8Array | SaslError, ctx: ClientFeatureContext<unknown>): void {
    if (isSaslError(r)) {
      this.localError = r;
      this.writeStep("abort", ctx);
      this.phase = "abort";
      return;
    }
    this.writeStep(r, ctx);
  }

  /** The answer to `derive-key`: the SaltedPassword. `false` when no derivation was asked. */
  supplyDerivedKey(saltedPassword: Uint8Array, ctx: ClientFeatureContext<unknown>): boolean {
    if (this.phase !== "deriving" || this.mech?.supplySaltedPassword === undefined) return false;
    this.phase = "exchange";
    this.respond(this.mech.supplySaltedPassword(saltedPassword), ctx);
    ctx.resume();
    return true;
  }

  /** Authentication cannot succeed: report, close the stream, and end (reason `auth-failed`). */
  protected giveUp(ctx: ClientFeatureContext<unknown>, condition: string, text: string | undefined): void {
    ctx.emit(definedOnly({ type: "auth-failed" as const, condition, text, canRetry: false }));
    ctx.end("auth-failed");
  }
}

// -----------------------------------------------------------------------------------------------------
// Server

/** A credential question the server half asks the application. */
export type SaslQuestion = "scram" | "password" | "external";

/** The server half; the `answer*` calls of `ServerSession` reach it. */
/** Nothing offered (shared: `offered` is replaced, never written to). */
const NO_OFFER: string[] = [];
/** The mechanisms offered, per (shared) options object and stream facts (see `mechanismsToOffer`). */
const offeredLists = new WeakMap<SaslServerOptions, string[][]>();

export class SaslServer implements ServerFeature {
  /** The mechanisms offered on this stream (the shared empty array until an offer, and again after success). */
  protected offered: string[] = NO_OFFER;
  /** The channel-binding types announced (XEP-0440), if any. */
  protected cbAdvertised: string[] | undefined;
  /** The mechanism of the running exchange. */
  protected mech: ServerMechanism | undefined;
  /** Whether an exchange is in progress (between `<auth/>` and its outcome). */
  protected exchanging = false;
  private externalAuthzid: string | undefined;
  /** Failed attempts: shared with the other SASL profile of the stream, else made at the first failure. */
  private counter: { failures: number } | undefined;
  /** The client asked for a channel-binding type we lack (lenient policy: it saw the `-PLUS` offer). */
  private cbTypeRefused = 0;
  /** The question pending with the application, if any. */
  pending: SaslQuestion | undefined;

  /**
   * @param o The resolved server options (may be shared by many sessions: nothing of one stream is kept in it).
   * @param counter The stream's failed-attempt counter shared with its other SASL profile (else `o.counter`,
   *   else one of its own, made at the first failure).
   */
  constructor(
    protected readonly o: SaslServerOptions,
    counter?: { failures: number },
  ) {
    this.counter = counter ?? o.counter;
  }

  /** Whether TLS must come first: the policy is `"required"` and the stream is not secure yet. */
  protected tlsMandatory(ctx: ServerFeatureContext<unknown>): boolean {
    return !ctx.flags.secure && this.o.tls === "required";
  }

  offer(ctx: ServerFeatureContext<unknown>): XmlElement[] | undefined {
    if (!this.prepareOffer(ctx)) return undefined;
    const out = [el("mechanisms", NS_SASL, null, ...this.offered.map((m) => el("mechanism", NS_SASL, null, m)))];
    const cbTypes = this.cbAdvertised;
    // XEP-0440: tell the client which channel-binding types we can verify.
    if (cbTypes !== undefined) out.push(el("sasl-channel-binding", NS_SASL_CB, null, ...cbTypes.map((t) => el("channel-binding", NS_SASL_CB, { type: t }))));
    return out;
  }

  /** The offer's state (mechanisms, channel-binding types); `false` when nothing is offered. */
  private prepareOffer(ctx: ServerFeatureContext<unknown>): boolean {
    this.offered = NO_OFFER;
    this.cbAdvertised = undefined;
    // RFC 6120 §5.3.1: when TLS is mandatory, offer nothing else before it.
    if (this.tlsMandatory(ctx) || this.o.enabled === false) return false;
    this.offered = this.mechanismsToOffer(ctx);
    // Nothing usable on this stream (e.g. `mechanisms: []` for a server that logs in with XEP-0078 only).
    if (this.offered.length === 0) return false;
    const cbTypes = channelBindingList(ctx.tls?.channelBinding).map((b) => b.type);
    if (cbTypes.length > 0) this.cbAdvertised = cbTypes;
    return true;
  }

  offerKey(ctx: ServerFeatureContext<unknown>): string {
    if (!this.prepareOffer(ctx)) return "";
    return this.cbAdvertised === undefined ? this.offered.join(" ") : `${this.offered.join(" ")}|${this.cbAdvertised.join(" ")}`;
  }

  /**
   * The mechanisms this stream offers (custom, EXTERNAL with a verified certificate, SCRAM(-PLUS), PLAIN):
   * a function of the options and three facts of the stream, so one list per options object and facts,
   * shared by the sessions (never written to).
   */
  protected mechanismsToOffer(ctx: ServerFeatureContext<unknown>): string[] {
    const hasCb = channelBindingList(ctx.tls?.channelBinding).length > 0;
    const hasIds = (ctx.tls?.peerIdentities?.length ?? 0) > 0;
    const secure = ctx.flags.secure;
    let lists = offeredLists.get(this.o);
    if (lists === undefined) offeredLists.set(this.o, (lists = []));
    const slot = (hasCb ? 4 : 0) | (hasIds ? 2 : 0) | (secure ? 1 : 0);
    return (lists[slot] ??= this.listMechanisms(hasCb, hasIds, secure));
  }

  private listMechanisms(hasCb: boolean, hasIds: boolean, secure: boolean): string[] {
    const out: string[] = [];
    const add = (m: string): void => {
      if (!out.includes(m)) out.push(m);
    };
    for (const c of this.o.custom ?? []) if (secure || c.allowInClear === true || this.o.allowPlainInClear) add(c.name);
    // §6.3.4: EXTERNAL first when a client certificate was verified.
    if (secure && hasIds && (this.o.mechanisms === DEFAULT_SERVER_MECHANISMS || this.o.mechanisms.includes("EXTERNAL"))) add("EXTERNAL");
    for (const m of this.o.mechanisms) {
      if (!isMechanismName(m)) continue;
      if (isScramMechanism(m)) {
        const base = m.replace(/-PLUS$/, "");
        if (hasCb) add(`${base}-PLUS`);
        if (!m.endsWith("-PLUS")) add(base);
      } else if (m === "PLAIN") {
        if (secure || this.o.allowPlainInClear) add(m);
      } else if (m === "EXTERNAL") {
        if (secure && hasIds) add(m);
      } else add(m);
    }
    return out;
  }

  handleRestart(): void {
    this.mech = undefined;
    this.exchanging = false;
  }

  handleElement(e: XmlElement, ctx: ServerFeatureContext<unknown>): void {
    if (ctx.flags.authenticated) {
      ctx.fatal("unsupported-stanza-type", `<${e.name} xmlns='${e.ns}'> is not supported`);
      return;
    }
    this.handleExchange(e, ctx, "auth", (x) => this.onAuth(x, ctx));
  }

  /**
   * The elements of an exchange, the same in every SASL profile: the start (`<auth/>`, SASL2
   * `<authenticate/>`), `<response/>`, `<abort/>`; anything else is a policy violation.
   */
  protected handleExchange(e: XmlElement, ctx: ServerFeatureContext<unknown>, start: string, onStart: (e: XmlElement) => void): void {
    if (e.name === start) {
      if (this.exchanging) ctx.fatal("policy-violation", `a new <${start}/> while an exchange is in progress`);
      else onStart(e);
      return;
    }
    if (e.name === "response" && this.exchanging && this.mech !== undefined) {
      this.handleResponse(e.text(), ctx);
      return;
    }
    if (e.name === "abort") {
      this.handleAbort(ctx);
      return;
    }
    ctx.fatal("policy-violation", `unexpected SASL element <${e.name}/>`);
  }

  private onAuth(e: XmlElement, ctx: ServerFeatureContext<unknown>): void {
    const name = e.attr("mechanism") ?? "";
    if (this.tlsMandatory(ctx)) {
      // RFC 6120 §5.3.1 + §6.5.3: TLS is mandatory-to-negotiate here; no mechanism is usable before it.
      this.failure(ctx, "encryption-required", "negotiate TLS (STARTTLS) first");
      return;
    }
    if (!this.offered.includes(name)) {
      if (name === "PLAIN" && !ctx.flags.secure && this.o.mechanisms.includes("PLAIN")) this.failure(ctx, "encryption-required", "PLAIN needs TLS");
      else this.failure(ctx, "invalid-mechanism", `mechanism ${name ? `'${name}' ` : ""}not offered`);
      return;
    }
    this.startExchange(name, e.text(), ctx);
  }

  /** Starts the exchange of an offered mechanism with its initial response (base64 text). */
  protected startExchange(name: string, initial: string | undefined, ctx: ServerFeatureContext<unknown>, own?: CustomServerMechanism): void {
    const data = initial === undefined ? null : decodeSaslPayload(initial);
    if (isSaslError(data)) {
      this.failure(ctx, "incorrect-encoding", data.text);
      return;
    }
    const custom = own ?? this.o.custom?.find((c) => c.name === name);
    if (custom === undefined && !isMechanismName(name)) {
      this.failure(ctx, "invalid-mechanism", `mechanism '${name}' not supported`);
      return;
    }
    this.exchanging = true;
    if (name === "EXTERNAL" && custom === undefined) {
      this.onExternal(data, ctx);
      return;
    }
    const options: ServerMechanismOptions = {
      channelBindings: channelBindingList(ctx.tls?.channelBinding),
      // Lenient policy: a client that asked for a binding we lack did see the -PLUS offer; its `y` now
      // tells the truth (it supports channel binding, just not a type we have), not a downgrade.
      offeredPlus: this.offered.some((m) => m.endsWith("-PLUS")) && this.cbTypeRefused === 0,
      allowAuthzid: (authcid, authzid) => authzidAllowed(authcid, authzid, ctx.domain),
      random: (n) => ctx.randomBytes(n),
      downgradeProtection: { mechanisms: this.offered, channelBindingTypes: this.cbAdvertised },
      ...(this.o.crypto === undefined ? {} : { crypto: this.o.crypto }),
    };
    this.mech = custom !== undefined ? custom.create(options) : createServerMechanism(name as MechanismName, options);
    this.step(ctx, this.mech.start(data));
  }

  /** A response (base64 text) during an exchange. */
  protected handleResponse(text: string, ctx: ServerFeatureContext<unknown>): void {
    const data = decodeSaslPayload(text);
    if (isSaslError(data)) {
      this.failure(ctx, "incorrect-encoding", data.text);
      return;
    }
    this.step(ctx, this.mech!.response(data ?? new Uint8Array(0)));
  }

  /** The client aborted. */
  protected handleAbort(ctx: ServerFeatureContext<unknown>): void {
    if (this.exchanging && this.mech !== undefined) this.step(ctx, this.mech.abort());
    else this.failure(ctx, "aborted", "the client aborted the exchange");
  }

  private onExternal(data: Uint8Array | null, ctx: ServerFeatureContext<unknown>): void {
    const ids = ctx.tls?.peerIdentities ?? [];
    const text = data === null ? "" : utf8Decode(data);
    if (text === undefined || text.includes("\u0000")) {
      this.failure(ctx, "malformed-request", "EXTERNAL authzid is not valid UTF-8");
      return;
    }
    if (ids.length === 0) {
      this.failure(ctx, "not-authorized", "no client certificate was verified");
      return;
    }
    this.externalAuthzid = text === "" ? undefined : text;
    this.ask("external", ctx);
    ctx.emit(definedOnly({ type: "external-identity" as const, peerIdentities: ids, authzid: this.externalAuthzid }));
  }

  private ask(q: SaslQuestion, ctx: ServerFeatureContext<unknown>): void {
    this.pending = q;
    ctx.pause();
  }

  /** Answers `scram-credentials`. */
  answerScram(stored: ScramStoredCredentials | null, ctx: ServerFeatureContext<unknown>): void {
    this.pending = undefined;
    this.step(ctx, this.mech!.supplyCredentials(stored));
    ctx.resume();
  }

  /** Answers `verify-password`. */
  answerPassword(ok: boolean, ctx: ServerFeatureContext<unknown>): void {
    this.pending = undefined;
    this.step(ctx, this.mech!.verdict(ok));
    ctx.resume();
  }

  /** Answers `external-identity`. */
  answerExternal(username: string | null, ctx: ServerFeatureContext<unknown>): void {
    this.pending = undefined;
    if (username === null) this.failure(ctx, "not-authorized", "the client certificate maps to no account");
    else {
      const local = prepareLocal(username);
      const authzid = this.externalAuthzid;
      if (authzid !== undefined && !authzidAllowed(local, authzid, ctx.domain)) this.failure(ctx, "invalid-authzid", "invalid authorization identity");
      else this.success(ctx, "EXTERNAL", local, undefined);
    }
    ctx.resume();
  }

  /** Acts on one step of the server mechanism: a challenge, success, or failure. */
  protected step(ctx: ServerFeatureContext<unknown>, s: ServerStep): void {
    switch (s.kind) {
      case "challenge":
        this.writeChallenge(s.data, ctx);
        return;
      case "success": {
        const local = safeLocal(s.identity.authcid);
        if (local === undefined) this.failure(ctx, "not-authorized", "not authorized");
        else this.success(ctx, s.identity.mechanism, local, s.data);
        return;
      }
      case "failure":
        if (s.reason === "unsupported-channel-binding-type" && this.o.channelBindingPolicy !== "strict") {
          this.cbTypeUnavailable(ctx, s.condition, s.text);
          return;
        }
        this.failure(ctx, s.condition, s.text);
        return;
      case "credentials-needed": {
        const username = safeLocal(s.username);
        if (username === undefined) {
          this.step(ctx, this.mech!.refuse("not-authorized"));
          return;
        }
        this.ask("scram", ctx);
        ctx.emit(definedOnly({ type: "scram-credentials" as const, mechanism: s.mechanism, username, authzid: s.authzid }));
        return;
      }
      case "verify-password": {
        const username = safeLocal(s.username);
        if (username === undefined) {
          this.step(ctx, this.mech!.verdict(false));
          return;
        }
        this.ask("password", ctx);
        ctx.emit(definedOnly({ type: "verify-password" as const, username, password: s.password, authzid: s.authzid }));
        return;
      }
    }
  }

  /** Writes a challenge of the current profile. */
  protected writeChallenge(data: Uint8Array, ctx: ServerFeatureContext<unknown>): void {
    ctx.write(el("challenge", NS_SASL, null, encodeSaslPayload(data)));
  }

  /** Writes a failure of the current profile. */
  protected writeFailure(condition: SaslCondition, text: string | undefined, ctx: ServerFeatureContext<unknown>): void {
    ctx.write(buildSaslFailure(text === undefined ? { condition } : { condition, text }));
  }

  /** The exchange succeeded: answer, set the flag, restart (the SASL2 profile overrides this). */
  protected success(ctx: ServerFeatureContext<unknown>, mechanism: string, username: string, data: Uint8Array | undefined): void {
    this.mech = undefined;
    this.exchanging = false;
    // Authenticated for good: what was offered is of no more use (an idle session keeps none of it).
    this.offered = NO_OFFER;
    this.cbAdvertised = undefined;
    ctx.write(el("success", NS_SASL, null, data === undefined ? "" : encodeSaslPayload(data)));
    ctx.setAuthenticated({ mechanism, username });
    // RFC 6120 §6.4.6: the client's next byte starts a new stream. We stopped parsing right after its
    // last SASL element (pausing for the application's answer if need be), so restart exactly there.
    ctx.done({ restart: true });
  }

  /**
   * Lenient channel-binding policy: the client asked for a binding type this connection lacks (a
   * `tls-unique` request on TLS 1.3). Refused, but no credential was checked, so it does not count as a
   * failed attempt; bounded on its own (a client looping on it is closed after 10).
   */
  private cbTypeUnavailable(ctx: ServerFeatureContext<unknown>, condition: SaslCondition, text: string | undefined): void {
    this.mech = undefined;
    this.exchanging = false;
    this.cbTypeRefused++;
    this.writeFailure(condition, text, ctx);
    const canRetry = this.cbTypeRefused < MAX_CB_TYPE_REFUSALS;
    ctx.emit(definedOnly({ type: "auth-failed" as const, condition, text, canRetry }));
    if (!canRetry) ctx.fatal("policy-violation", "too many authentication attempts");
  }

  /** A failed attempt: answer, count it, close after `maxAuthAttempts` (RFC 6120 §6.4.5). */
  protected failure(ctx: ServerFeatureContext<unknown>, condition: SaslCondition, text: string | undefined): void {
    this.mech = undefined;
    this.exchanging = false;
    const counter = (this.counter ??= { failures: 0 });
    counter.failures++;
    this.writeFailure(condition, text, ctx);
    const canRetry = counter.failures < this.o.maxAuthAttempts;
    ctx.emit(definedOnly({ type: "auth-failed" as const, condition, text, canRetry }));
    // RFC 6120 §6.4.5: after the retry limit, close the stream with <policy-violation/>.
    if (!canRetry) ctx.fatal("policy-violation", "too many failed authentication attempts");
  }
}

/** RFC 6120 §6.3.8: the authzid must be the bare JID of the authenticated account (or the authcid). */
function authzidAllowed(authcid: string, authzid: string, domain: string): boolean {
  try {
    const local = prepareLocal(authcid);
    if (authzid === authcid) return true;
    const j = parseJid(authzid);
    return j.local === local && j.domain === domain && j.resource === "";
  } catch {
    return false;
  }
}

/** The PRECIS-prepared localpart, or `undefined` when `username` is not a valid one. */
export function safeLocal(username: string): string | undefined {
  try {
    return prepareLocal(username);
  } catch {
    return undefined;
  }
}
