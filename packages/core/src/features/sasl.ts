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
  createClientMechanism,
  createServerMechanism,
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
  type ServerMechanism,
  type ServerMechanismOptions,
  type ServerStep,
  selectMechanism,
  utf8Decode,
} from "@xmpp-sansio/sasl";
import type { XmlElement } from "@xmpp-sansio/xml";
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

/** Options of the client half (from `ClientOptions`). */
export interface SaslClientOptions {
  readonly password: string | undefined;
  readonly authzid: string | undefined;
  readonly tls: TlsPolicy;
  readonly allowPlainInClear: boolean;
  readonly preference: readonly MechanismName[];
  readonly minIterations: number;
  readonly maxIterations: number | undefined;
  readonly cache: SaltedPasswordCache | undefined;
  readonly maxAuthAttempts: number;
  /** The application's own mechanisms, preferred (in this order) over the built-in ones when offered. */
  readonly custom?: readonly CustomClientMechanism[];
  /** SCRAM's PBKDF2: computed inline, or asked of the application (`derive-key` event). */
  readonly deriveKey?: "inline" | "ask";
}

/** Options of the server half (from `ServerOptions`). */
export interface SaslServerOptions {
  readonly tls: TlsPolicy;
  readonly mechanisms: readonly string[];
  readonly allowPlainInClear: boolean;
  readonly maxAuthAttempts: number;
  /** The application's own mechanisms, offered before the built-in ones. */
  readonly custom?: readonly CustomServerMechanism[];
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

type ClientPhase = "idle" | "credentials" | "exchange" | "deriving" | "abort" | "retry";

/** The client half; `ClientSession.supplyCredentials` reaches it through {@link SaslClient.supply}. */
export class SaslClient implements ClientFeature {
  private phase: ClientPhase = "idle";
  private password: string | undefined;
  private offered: string[] = [];
  private cbTypes: string[] | undefined;
  private mech: ClientMechanism | undefined;
  private localError: SaslError | undefined;
  private attempts = 0;

  constructor(private readonly o: SaslClientOptions) {
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

  private select(ctx: ClientFeatureContext<unknown>): { mechanism: string; options: ClientMechanismOptions; custom?: CustomClientMechanism } | undefined {
    for (const c of this.o.custom ?? []) if (this.offered.includes(c.name)) return { mechanism: c.name, options: {}, custom: c };
    const sel = selectMechanism({
      offered: this.offered,
      serverChannelBindingTypes: this.cbTypes,
      channelBindings: channelBindingList(ctx.tls?.channelBinding),
      credentials: { password: true },
      tls: ctx.flags.secure,
      allowPlainInClear: this.o.allowPlainInClear,
      preference: this.o.preference,
    });
    if (sel === undefined) this.giveUp(ctx, "invalid-mechanism", `no acceptable SASL mechanism among: ${this.offered.join(", ") || "none"}`);
    return sel;
  }

  private start(ctx: ClientFeatureContext<unknown>): void {
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
      };
      this.mech = sel.custom !== undefined ? sel.custom.create(options) : createClientMechanism(sel.mechanism as MechanismName, options);
    } catch (e) {
      // The application's password or authzid is unusable (e.g. fails PRECIS OpaqueString).
      this.phase = "retry";
      ctx.emit({ type: "auth-failed", condition: "not-authorized", text: (e as Error).message, canRetry: true });
      return;
    }
    const initial = this.mech.initialResponse();
    ctx.write(el("auth", NS_SASL, { mechanism: sel.mechanism }, encodeSaslPayload(initial)));
    this.phase = "exchange";
  }

  handleElement(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    const mech = this.mech;
    if (e.ns === NS_SASL && mech !== undefined) {
      if (e.name === "challenge" && this.phase === "exchange") {
        const data = decodeSaslPayload(e.text());
        const r = isSaslError(data) ? data : mech.challenge(data ?? new Uint8Array(0));
        if (isKeyDerivationRequest(r)) {
          // PBKDF2 is the application's (adapter's) work: ask, and parse nothing until the answer.
          this.phase = "deriving";
          ctx.pause();
          ctx.emit({ type: "derive-key", hash: r.hash, password: r.password, salt: r.salt, iterations: r.iterations, length: r.length });
          return;
        }
        this.respond(r, ctx);
        return;
      }
      if (e.name === "success" && this.phase === "exchange") {
        const data = decodeSaslPayload(e.text());
        const r = isSaslError(data) ? data : mech.finish(data ?? undefined);
        if (r !== true) {
          // The server did not prove it knows our credentials (SCRAM v=): never trust this stream.
          this.giveUp(ctx, r.condition, r.text);
          return;
        }
        this.mech = undefined;
        this.password = undefined; // not needed any more; do not keep it in memory
        this.phase = "idle";
        ctx.setAuthenticated({ mechanism: mech.name });
        // RFC 6120 §6.4.6: restart at the exact byte after </success>; what follows is the new stream.
        ctx.done({ restart: true });
        return;
      }
      if (e.name === "failure") {
        const f = parseSaslFailure(e);
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
        return;
      }
    }
    ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> during sasl`);
  }

  private respond(r: Uint8Array | SaslError, ctx: ClientFeatureContext<unknown>): void {
    if (isSaslError(r)) {
      this.localError = r;
      ctx.write(el("abort", NS_SASL));
      this.phase = "abort";
      return;
    }
    ctx.write(el("response", NS_SASL, null, encodeSaslPayload(r)));
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
  private giveUp(ctx: ClientFeatureContext<unknown>, condition: string, text: string | undefined): void {
    ctx.emit(definedOnly({ type: "auth-failed" as const, condition, text, canRetry: false }));
    ctx.end("auth-failed");
  }
}

// -----------------------------------------------------------------------------------------------------
// Server

/** A credential question the server half asks the application. */
export type SaslQuestion = "scram" | "password" | "external";

/** The server half; the `answer*` calls of `ServerSession` reach it. */
export class SaslServer implements ServerFeature {
  private offered: string[] = [];
  private cbAdvertised: string[] | undefined;
  private mech: ServerMechanism | undefined;
  private exchanging = false;
  private externalAuthzid: string | undefined;
  private failures = 0;
  /** The question pending with the application, if any. */
  pending: SaslQuestion | undefined;

  constructor(private readonly o: SaslServerOptions) {}

  private tlsMandatory(ctx: ServerFeatureContext<unknown>): boolean {
    return !ctx.flags.secure && this.o.tls === "required";
  }

  offer(ctx: ServerFeatureContext<unknown>): XmlElement[] | undefined {
    this.offered = [];
    this.cbAdvertised = undefined;
    // RFC 6120 §5.3.1: when TLS is mandatory, offer nothing else before it.
    if (this.tlsMandatory(ctx)) return undefined;
    this.offered = this.mechanismsToOffer(ctx);
    // Nothing usable on this stream (e.g. `mechanisms: []` for a server that logs in with XEP-0078 only).
    if (this.offered.length === 0) return undefined;
    const out = [el("mechanisms", NS_SASL, null, ...this.offered.map((m) => el("mechanism", NS_SASL, null, m)))];
    const cbTypes = channelBindingList(ctx.tls?.channelBinding).map((b) => b.type);
    if (cbTypes.length > 0) {
      // XEP-0440: tell the client which channel-binding types we can verify.
      this.cbAdvertised = cbTypes;
      out.push(el("sasl-channel-binding", NS_SASL_CB, null, ...cbTypes.map((t) => el("channel-binding", NS_SASL_CB, { type: t }))));
    }
    return out;
  }

  private mechanismsToOffer(ctx: ServerFeatureContext<unknown>): string[] {
    const hasCb = channelBindingList(ctx.tls?.channelBinding).length > 0;
    const ids = ctx.tls?.peerIdentities ?? [];
    const secure = ctx.flags.secure;
    const out: string[] = [];
    const add = (m: string): void => {
      if (!out.includes(m)) out.push(m);
    };
    for (const c of this.o.custom ?? []) if (secure || c.allowInClear === true || this.o.allowPlainInClear) add(c.name);
    // §6.3.4: EXTERNAL first when a client certificate was verified.
    if (secure && ids.length > 0 && (this.o.mechanisms === DEFAULT_SERVER_MECHANISMS || this.o.mechanisms.includes("EXTERNAL"))) add("EXTERNAL");
    for (const m of this.o.mechanisms) {
      if (!isMechanismName(m)) continue;
      if (isScramMechanism(m)) {
        const base = m.replace(/-PLUS$/, "");
        if (hasCb) add(`${base}-PLUS`);
        if (!m.endsWith("-PLUS")) add(base);
      } else if (m === "PLAIN") {
        if (secure || this.o.allowPlainInClear) add(m);
      } else if (m === "EXTERNAL") {
        if (secure && ids.length > 0) add(m);
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
    if (e.name === "auth") {
      if (this.exchanging) {
        ctx.fatal("policy-violation", "a new <auth/> while an exchange is in progress");
        return;
      }
      this.onAuth(e, ctx);
      return;
    }
    if (e.name === "response" && this.exchanging && this.mech !== undefined) {
      const data = decodeSaslPayload(e.text());
      if (isSaslError(data)) {
        this.failure(ctx, "incorrect-encoding", data.text);
        return;
      }
      this.step(ctx, this.mech.response(data ?? new Uint8Array(0)));
      return;
    }
    if (e.name === "abort") {
      if (this.exchanging && this.mech !== undefined) this.step(ctx, this.mech.abort());
      else this.failure(ctx, "aborted", "the client aborted the exchange");
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
    const data = decodeSaslPayload(e.text());
    if (isSaslError(data)) {
      this.failure(ctx, "incorrect-encoding", data.text);
      return;
    }
    const custom = this.o.custom?.find((c) => c.name === name);
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
      offeredPlus: this.offered.some((m) => m.endsWith("-PLUS")),
      allowAuthzid: (authcid, authzid) => authzidAllowed(authcid, authzid, ctx.domain),
      random: (n) => ctx.randomBytes(n),
      downgradeProtection: { mechanisms: this.offered, channelBindingTypes: this.cbAdvertised },
    };
    this.mech = custom !== undefined ? custom.create(options) : createServerMechanism(name as MechanismName, options);
    this.step(ctx, this.mech.start(data));
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

  private step(ctx: ServerFeatureContext<unknown>, s: ServerStep): void {
    switch (s.kind) {
      case "challenge":
        ctx.write(el("challenge", NS_SASL, null, encodeSaslPayload(s.data)));
        return;
      case "success": {
        const local = safeLocal(s.identity.authcid);
        if (local === undefined) this.failure(ctx, "not-authorized", "not authorized");
        else this.success(ctx, s.identity.mechanism, local, s.data);
        return;
      }
      case "failure":
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

  private success(ctx: ServerFeatureContext<unknown>, mechanism: string, username: string, data: Uint8Array | undefined): void {
    this.mech = undefined;
    this.exchanging = false;
    ctx.write(el("success", NS_SASL, null, data === undefined ? "" : encodeSaslPayload(data)));
    ctx.setAuthenticated({ mechanism, username });
    // RFC 6120 §6.4.6: the client's next byte starts a new stream. We stopped parsing right after its
    // last SASL element (pausing for the application's answer if need be), so restart exactly there.
    ctx.done({ restart: true });
  }

  private failure(ctx: ServerFeatureContext<unknown>, condition: SaslCondition, text: string | undefined): void {
    this.mech = undefined;
    this.exchanging = false;
    this.failures++;
    ctx.write(buildSaslFailure(text === undefined ? { condition } : { condition, text }));
    const canRetry = this.failures < this.o.maxAuthAttempts;
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

function safeLocal(username: string): string | undefined {
  try {
    return prepareLocal(username);
  } catch {
    return undefined;
  }
}
