/**
 * Server Dialback (XEP-0220) as a stream feature of both server-to-server roles, with XEP-0185 keys.
 *
 * - Initiating server: when the receiving server offers `<dialback xmlns='urn:xmpp:features:dialback'/>`
 *   and nothing authenticated us yet, sends `<db:result from to>KEY</db:result>` and goes online on
 *   `type='valid'`; more domain pairs may follow on the same stream ({@link DialbackClient.request}).
 *   On a connection to an authoritative server it sends `<db:verify/>` ({@link DialbackClient.verify}).
 * - Receiving server: asks the application to verify each `<db:result/>` (the `dialback-result-request`
 *   event; it checks the key with the authoritative server) and answers `valid`/`invalid`/`error`; as the
 *   authoritative server it answers `<db:verify/>` itself from the dialback secret.
 *
 * @module
 */
import { NS_SERVER, XmlElement } from "@xmpp-sansio/xml";
import type { ClientFeature, ClientFeatureContext, ServerFeature, ServerFeatureContext, StreamFeature } from "../features/types.js";
import { buildStanzaError, isStanzaErrorCondition, parseStanzaError, stanzaError } from "../stanza-errors.js";
import { trimmedText } from "../util.js";
import { dialbackKey, verifyDialbackKey } from "./keys.js";
import { domainJid, domainOf, type S2SHost } from "./pairs.js";
import { type DialbackAnswer, NS_DIALBACK, NS_DIALBACK_FEATURE } from "./types.js";

/** Longest key accepted (XEP-0185 keys are 64 hex digits; other servers' keys are short too). */
const MAX_KEY_CHARS = 1024;
/** `<db:verify/>` requests of ours awaiting an answer at once. */
const MAX_PENDING_VERIFY = 64;

function db(name: "result" | "verify", attrs: Record<string, string | undefined>, text?: string): XmlElement {
  const e = new XmlElement(name, NS_DIALBACK, attrs);
  if (text !== undefined) e.append(text);
  return e;
}

/** Configuration of one session's dialback. */
export interface DialbackConfig {
  readonly secret: string | undefined;
  /** Initiator: `"verify"` for a connection to an authoritative server only. */
  readonly purpose: "authenticate" | "verify";
  /** Receiver: offer dialback. */
  readonly offer: boolean;
  /** Both: dialback only over TLS (the TLS policy is `required`). */
  readonly requireSecure: boolean;
  /** Receiver: dialback requests waiting for the application at once. */
  readonly maxPending: number;
}

/** The dialback feature of one session. */
export function dialbackFeature(host: S2SHost, config: DialbackConfig): StreamFeature {
  return {
    name: "dialback",
    namespaces: [NS_DIALBACK],
    availability: config.requireSecure ? { requires: { secure: true } } : {},
    restarts: false,
    mandatory: false,
    client: () => new DialbackClient(host, config),
    server: () => new DialbackServer(host, config),
  };
}

/** The initiating half: sends `<db:result/>` and `<db:verify/>`, reads their answers. */
export class DialbackClient implements ClientFeature {
  /** `from \0 to` of our `<db:result/>` requests awaiting an answer. */
  private readonly pendingResults = new Set<string>();
  /** `from \0 to \0 id` of our `<db:verify/>` requests awaiting an answer. */
  private readonly pendingVerify = new Set<string>();
  private waiting = false;

  constructor(
    private readonly host: S2SHost,
    private readonly config: DialbackConfig,
  ) {}

  negotiate(features: XmlElement, ctx: ClientFeatureContext<unknown>): boolean {
    if (ctx.flags.authenticated) return false;
    if (this.config.requireSecure && !ctx.flags.secure) return false;
    if (this.config.purpose === "verify") {
      // Nothing to authenticate: the stream stays open for <db:verify/> (it never goes online).
      this.waiting = true;
      return true;
    }
    if (this.config.secret === undefined || features.getChild("dialback", NS_DIALBACK_FEATURE) === undefined) {
      ctx.fatal("not-authorized", "the receiving server offered neither SASL EXTERNAL for our certificate nor dialback (or no dialback secret is configured)");
      return true;
    }
    this.request(this.host.localDomain!, this.host.remoteDomain!, ctx);
    return true;
  }

  /** Sends `<db:result/>` for a domain pair (the first, or one more on an online stream). */
  request(from: string, to: string, ctx: ClientFeatureContext<unknown>): void {
    const pair = `${from}\u0000${to}`;
    if (this.pendingResults.has(pair)) return;
    this.pendingResults.add(pair);
    ctx.write(db("result", { from, to }, dialbackKey(this.config.secret!, to, from, this.host.receivingStreamId ?? "")));
  }

  /** Sends `<db:verify/>` to the authoritative server (we are the receiving server of another stream). */
  verify(req: { readonly from: string; readonly to: string; readonly id: string; readonly key: string }, ctx: ClientFeatureContext<unknown>): boolean {
    if (this.pendingVerify.size >= MAX_PENDING_VERIFY) return false;
    this.pendingVerify.add(`${req.from}\u0000${req.to}\u0000${req.id}`);
    ctx.write(db("verify", { from: req.from, to: req.to, id: req.id }, req.key));
    return true;
  }

  handleElement(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    const type = e.attr("type");
    const from = e.attr("from") ?? "";
    const to = e.attr("to") ?? "";
    if (e.ns === NS_DIALBACK && e.name === "verify" && this.pendingVerify.delete(`${to}\u0000${from}\u0000${e.attr("id") ?? ""}`)) {
      ctx.emit({ type: "dialback-verify-result", from: to, to: from, id: e.attr("id")!, valid: type === "valid" });
      return;
    }
    // The answer names the pair from the receiving server's side: from = receiving, to = originating.
    if (e.ns === NS_DIALBACK && e.name === "result" && (type === "valid" || type === "invalid" || type === "error") && this.pendingResults.delete(`${to}\u0000${from}`)) {
      this.onResult(to, from, type, e, ctx);
      return;
    }
    ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'${type === undefined ? "" : ` type='${type}'`}> (no dialback request of ours matches it)`);
  }

  private onResult(from: string, to: string, type: string, e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    const valid = type === "valid";
    const condition = type === "error" ? parseStanzaError(e).condition : undefined;
    ctx.emit(condition === undefined ? { type: "dialback-result", from, to, valid } : { type: "dialback-result", from, to, valid, condition });
    if (valid) {
      this.host.authorize(from, to);
      if (!ctx.flags.authenticated) {
        ctx.setAuthenticated({ mechanism: "dialback", username: from });
        ctx.setBound(domainJid(from));
        ctx.done();
      }
      return;
    }
    // XEP-0220 §2.1.3: without an authenticated pair, the stream is of no use: we end it.
    if (!this.host.anyAuthorized) ctx.end("auth-failed");
  }

  handleRestart(): void {
    this.pendingResults.clear();
    this.pendingVerify.clear();
    this.waiting = false;
  }

  /** Whether the session only waits for `<db:verify/>` answers (purpose `"verify"`). */
  get verifyOnly(): boolean {
    return this.waiting;
  }
}

/** The receiving half: offers dialback, asks about `<db:result/>`, answers `<db:verify/>`. */
export class DialbackServer implements ServerFeature {
  /** Requests asked of the application: `from \0 to`. */
  private readonly pending = new Set<string>();

  constructor(
    private readonly host: S2SHost,
    private readonly config: DialbackConfig,
  ) {}

  offer(): XmlElement | undefined {
    // XEP-0220 §2.1: <errors/> says we send dialback errors as <db:result type='error'/>.
    return this.config.offer ? new XmlElement("dialback", NS_DIALBACK_FEATURE).append(new XmlElement("errors", NS_DIALBACK_FEATURE)) : undefined;
  }

  handleElement(e: XmlElement, ctx: ServerFeatureContext<unknown>): void {
    if (e.attr("type") !== undefined || (e.name !== "result" && e.name !== "verify")) {
      ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> from the initiating server`);
      return;
    }
    if (this.config.requireSecure && !ctx.flags.secure) {
      ctx.fatal("policy-violation", "dialback is only accepted over TLS (RFC 6120 §5.3.1 by local policy)");
      return;
    }
    const from = domainOf(e.attr("from"));
    const to = domainOf(e.attr("to"));
    const key = trimmedText(e);
    if (from === undefined) {
      ctx.fatal("invalid-from", `<db:${e.name}/> needs a 'from' domain (XEP-0220 §2.4)`);
      return;
    }
    if (to === undefined) {
      ctx.fatal("host-unknown", `<db:${e.name}/> needs a 'to' domain (XEP-0220 §2.4)`);
      return;
    }
    if (key === "" || key.length > MAX_KEY_CHARS) {
      ctx.fatal("not-authorized", `<db:${e.name}/> needs a key of 1 to ${MAX_KEY_CHARS} characters`);
      return;
    }
    if (e.name === "verify") this.answerVerify(from, to, e.attr("id") ?? "", key, ctx);
    else this.askResult(from, to, key, ctx);
  }

  private askResult(from: string, to: string, key: string, ctx: ServerFeatureContext<unknown>): void {
    if (!this.config.offer) {
      ctx.fatal("unsupported-stanza-type", "dialback is not offered on this stream");
      return;
    }
    // The originating server of the first pair is the one named on its stream header (RFC 6120 §4.7.1).
    if (!this.host.anyAuthorized && from !== this.host.remoteDomain) {
      ctx.fatal("invalid-from", "the first <db:result/> must be for the stream's 'from' domain");
      return;
    }
    const pair = `${from}\u0000${to}`;
    if (this.host.isAuthorized(from, to)) {
      ctx.write(db("result", { from: to, to: from, type: "valid" }));
      return;
    }
    if (this.pending.has(pair)) return; // XEP-0220 §2.1.2: one answer per pair; a repeat waits for it
    if (this.pending.size >= this.config.maxPending) {
      ctx.fatal("policy-violation", `more than ${this.config.maxPending} dialback requests at once`);
      return;
    }
    this.pending.add(pair);
    ctx.emit({ type: "dialback-result-request", from, to, key, streamId: this.host.receivingStreamId ?? "" });
  }

  /** The authoritative server's side (XEP-0220 §2.2): the key is checked against our secret. */
  private answerVerify(from: string, to: string, id: string, key: string, ctx: ServerFeatureContext<unknown>): void {
    // from = the receiving server that asks; to = the originating domain (ours) the key was made for.
    const secret = this.config.secret;
    const valid = secret !== undefined && id !== "" && verifyDialbackKey(secret, from, to, id, key);
    ctx.write(db("verify", { from: to, to: from, id, type: valid ? "valid" : "invalid" }));
  }

  /** Whether a `dialback-result-request` for this pair awaits an answer. */
  isPending(from: string, to: string): boolean {
    return this.pending.has(`${from}\u0000${to}`);
  }

  /** The application's answer to a `dialback-result-request`. */
  answer(from: string, to: string, answer: DialbackAnswer, ctx: ServerFeatureContext<unknown>): void {
    this.pending.delete(`${from}\u0000${to}`);
    if (answer.valid) {
      ctx.write(db("result", { from: to, to: from, type: "valid" }));
      this.host.authorize(from, to);
      ctx.emit({ type: "domain-authenticated", from, to, method: "dialback" });
      if (!ctx.flags.authenticated) {
        ctx.setAuthenticated({ mechanism: "dialback", username: from });
        ctx.setBound(domainJid(from));
      }
      return;
    }
    if (answer.condition !== undefined && answer.condition !== "not-authorized" && isStanzaErrorCondition(answer.condition)) {
      ctx.write(db("result", { from: to, to: from, type: "error" }).append(buildStanzaError(stanzaError(answer.condition), NS_SERVER)));
    } else ctx.write(db("result", { from: to, to: from, type: "invalid" }));
    // XEP-0220 §2.1.3 (and RFC 3920 §8.3 step 10): a stream on which no pair is authenticated ends.
    if (!this.host.anyAuthorized && this.pending.size === 0) ctx.fatal("not-authorized", `dialback for ${from} failed`);
  }

  handleRestart(): void {
    this.pending.clear();
  }
}

