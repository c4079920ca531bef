/**
 * XEP-0114 (Jabber Component Protocol), both roles: a component connects to a server with
 * `jabber:component:accept`, `to` = its domain; the server answers with a stream id (no features:
 * component streams are pre-1.0 streams); the component proves the shared secret with
 * `<handshake>hex(SHA1(streamId + secret))</handshake>`; the server answers `<handshake/>` or closes with
 * `<not-authorized/>`. Then stanzas flow; the server accepts only a `from` of the component's domain.
 *
 * Built on {@link ClientSession} / {@link ServerSession}: the handshake is a stream feature of one step.
 *
 * @module
 */
import type { Jid } from "@xmpp-sansio/jid";
import { JidError, tryParseJid } from "@xmpp-sansio/jid";
import { NS_STREAMS, XmlElement } from "@xmpp-sansio/xml";
import type { ClientFeature, ClientFeatureContext, ServerFeature, StreamFeature } from "../features/types.js";
import { SessionStateError } from "../session-base.js";
import { ClientSession } from "../session-client.js";
import type { HeaderAttributes } from "../session-framing.js";
import { ServerSession } from "../session-server.js";
import type { ClientEvent, ClientOptions, ServerEvent, ServerOptions } from "../session-types.js";
import { componentHandshake, verifyComponentHandshake } from "../s2s/keys.js";
import { domainJid, domainOf } from "../s2s/pairs.js";
import { trimmedText } from "../util.js";
import { type ComponentOptions, type ComponentServerOptions, NS_COMPONENT_ACCEPT } from "./types.js";

const HANDSHAKE: StreamFeature = { name: "handshake", namespaces: [], availability: { until: "authenticated" }, restarts: false, mandatory: true };

/** The component's handshake step (one instance per session: it knows the secret). */
class HandshakeClient implements ClientFeature {
  constructor(
    private readonly secret: string,
    private readonly streamId: () => string | undefined,
  ) {}

  negotiate(_features: XmlElement, ctx: ClientFeatureContext<unknown>): boolean {
    if (ctx.flags.authenticated) return false;
    ctx.write(new XmlElement("handshake", NS_COMPONENT_ACCEPT).append(componentHandshake(this.streamId() ?? "", this.secret)));
    return true;
  }

  handleElement(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    if (!e.is("handshake", NS_COMPONENT_ACCEPT)) {
      ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> before the handshake was answered`);
      return;
    }
    ctx.setAuthenticated({ mechanism: "handshake", username: ctx.account.domain });
    ctx.setBound(ctx.account);
    ctx.done();
  }
}

/**
 * A component (XEP-0114) connecting to a server. Drive it like a `ClientSession`: `start(now)`, then the
 * usual loop; `online` once the server accepted the handshake. Stanzas it sends should carry a `from` of
 * its domain (the server refuses others).
 */
export class ComponentSession extends ClientSession {
  constructor(options: ComponentOptions) {
    const domain = domainOf(options.domain);
    if (domain === undefined) throw new TypeError("the component domain must be a domain (XEP-0114)");
    super({ ...options, jid: domain, tls: options.tls ?? "none" } as ClientOptions & ComponentOptions);
    this.contentNs = NS_COMPONENT_ACCEPT;
    this.versionless = true;
  }

  protected override streamFeatures(options: ClientOptions, _j: Jid): (readonly [StreamFeature, ClientFeature<ClientEvent> | undefined])[] {
    const secret = (options as ClientOptions & ComponentOptions).secret;
    if (typeof secret !== "string") throw new TypeError("the component needs its shared secret");
    return [[HANDSHAKE, new HandshakeClient(secret, () => this.streamId) as ClientFeature<ClientEvent>]];
  }

  protected override headerAttributes(): HeaderAttributes {
    // XEP-0114 §3: to = the component's domain; a pre-1.0 stream (no version, no features).
    return { to: this.jid.domain, lang: this.lang, contentNs: NS_COMPONENT_ACCEPT, noVersion: true };
  }

  protected override onOpen(header: XmlElement, namespaces: ReadonlyMap<string, string>): void {
    super.onOpen(header, namespaces);
    if (this.detailedState !== "await-features") return;
    if (this.streamId === undefined || this.streamId === "") {
      this.fatal("bad-format", "the server's stream header has no id to hash the secret with (XEP-0114 §3)");
      return;
    }
    // No <stream:features/> follows on a component stream: the handshake starts now.
    this.onElement(new XmlElement("features", NS_STREAMS));
  }

  /** Whitespace keepalive: a component has no account to ping from. */
  protected override defaultProbe(): boolean {
    this.framing.writeKeepalive();
    return false;
  }
}

/** The server's side of the handshake. */
class HandshakeServer implements ServerFeature {
  offer(): undefined {
    return undefined;
  }
  handleElement(): void {}
}

/**
 * A server accepting an XEP-0114 component. Questions: `host-check` (is `domain` a component of ours?),
 * then `component-secret` (answer with {@link answerComponentSecret}). Stanzas from the component arrive
 * as `stanza` events, with a `from` of its domain (else `<invalid-from/>`).
 */
export class ComponentServerSession extends ServerSession {
  private handshake: string | undefined;
  private secretPending = false;

  constructor(options: ComponentServerOptions = {}) {
    super({ ...options, tls: options.tls ?? "none" } as ServerOptions);
    this.contentNs = NS_COMPONENT_ACCEPT;
    this.versionless = true;
  }

  protected override streamFeatures(): (readonly [StreamFeature, ServerFeature<ServerEvent> | undefined])[] {
    return [[HANDSHAKE, new HandshakeServer() as ServerFeature<ServerEvent>]];
  }

  protected override headerAttributes(): HeaderAttributes {
    // XEP-0114 §3: from = the component's domain, id = the stream id the handshake is computed over.
    return { from: this.domain, id: this.currentStreamId, lang: this.lang, contentNs: NS_COMPONENT_ACCEPT, noVersion: true };
  }

  protected override sendHeaderAndFeatures(): void {
    this.writeHeader();
  }

  protected override onElement(e: XmlElement): void {
    if (!e.is("handshake", NS_COMPONENT_ACCEPT)) {
      super.onElement(e);
      return;
    }
    if (this.flags.authenticated || this.detailedState !== "features") {
      this.fatal("not-authorized", "an unexpected handshake");
      return;
    }
    this.handshake = trimmedText(e);
    this.secretPending = true;
    this.paused = true;
    this.emit({ type: "component-secret", domain: this.domain! });
  }

  /**
   * Answers `component-secret`: the component's shared secret, or `null` when it has none. With
   * `conflict: true` (another connection already serves the domain) a valid handshake is refused with
   * `<conflict/>` instead of going online — Prosody's default `component_conflict_resolve = "kick_new"`;
   * an invalid one still gets `<not-authorized/>`, so the conflict is told only to holders of the secret.
   */
  answerComponentSecret(secret: string | null, options: { readonly conflict?: boolean } = {}): void {
    if (!this.answering(this.secretPending, "answerComponentSecret")) return;
    this.secretPending = false;
    const ok = secret !== null && verifyComponentHandshake(this.currentStreamId, secret, this.handshake ?? "");
    this.handshake = undefined;
    if (!ok) {
      // XEP-0114 §3: a wrong handshake ends the stream with <not-authorized/>.
      this.fatal("not-authorized", "the handshake does not match the shared secret");
      return;
    }
    if (options.conflict === true) {
      // RFC 6120 §4.9.3.3: a new stream conflicts with an existing one for the same entity.
      this.fatal("conflict", `a component for ${this.domain} is already connected`);
      return;
    }
    this.write(new XmlElement("handshake", NS_COMPONENT_ACCEPT));
    this.ctx.setAuthenticated({ mechanism: "handshake", username: this.domain! });
    this.ctx.setBound(domainJid(this.domain!));
    this.resume();
  }

  /** Stanzas from the component: `from` must be of its domain (XEP-0114 §3, RFC 6120 §4.9.3.9). */
  protected override onStanza(e: XmlElement): void {
    this.features.observeInbound(e, this.ctx);
    const fromAttr = e.attr("from");
    const from = fromAttr === undefined ? undefined : tryParseJid(fromAttr);
    if (from === undefined) {
      this.fatal("improper-addressing", "a component's stanza needs 'from' (XEP-0114 §3)");
      return;
    }
    if (from instanceof JidError || from.domain !== this.domain) {
      this.fatal("invalid-from", `'from' must be of the component's domain ${this.domain}`);
      return;
    }
    const toAttr = e.attr("to");
    if (toAttr !== undefined) {
      const to = tryParseJid(toAttr);
      if (to instanceof JidError) {
        this.replyError(e, "jid-malformed", to.message);
        return;
      }
      e.setAttr("to", to.toString());
    }
    e.setAttr("from", from.toString());
    if (this.refuseMalformedIq(e) || this.features.takes(e, this.ctx)) return;
    this.emit({ type: "stanza", stanza: e });
  }

  /** @throws SessionStateError: a component session has no resource binding. */
  override answerBind(): void {
    throw new SessionStateError("answerBind() on a component session");
  }
}
