/**
 * SASL EXTERNAL for server-to-server streams (RFC 6120 §6.4, §13.7.2; XEP-0178 §3): the receiving
 * server offers it only when the peer's verified certificate authenticates the domain of its stream
 * header (RFC 6125/RFC 9525 `xmpp-server` names), and the initiating server uses it when offered.
 *
 * @module
 */
import { base64Decode, utf8Decode } from "@xmpp-sansio/sasl";
import { XmlElement } from "@xmpp-sansio/xml";
import { NS_XMPP_SASL as NS_SASL } from "../sasl-failure.js";
import type { ClientFeature, ClientFeatureContext, ServerFeature, ServerFeatureContext, StreamFeature } from "../features/types.js";
import { trimmedText } from "../util.js";
import { matchesXmppServerIdentity } from "./identity.js";
import { domainJid, type S2SHost } from "./pairs.js";

/** Failed EXTERNAL attempts before `<policy-violation/>` (RFC 6120 §6.4.5). */
const MAX_ATTEMPTS = 2;

function failure(condition: string, text?: string): XmlElement {
  const f = new XmlElement("failure", NS_SASL).append(new XmlElement(condition, NS_SASL));
  if (text !== undefined) f.append(new XmlElement("text", NS_SASL, { "xml:lang": "en" }).append(text));
  return f;
}

/** The s2s EXTERNAL feature of one session (it owns the SASL namespace on s2s streams). */
export function s2sExternalFeature(host: S2SHost, enabled: boolean): StreamFeature {
  return {
    name: "sasl",
    namespaces: [NS_SASL],
    availability: { requires: { secure: true }, until: "authenticated" },
    restarts: true,
    mandatory: false,
    client: () => new ExternalClient(host, enabled),
    server: () => new ExternalServer(host, enabled),
  };
}

class ExternalClient implements ClientFeature {
  private failed = false;
  constructor(
    private readonly host: S2SHost,
    private readonly enabled: boolean,
  ) {}

  negotiate(features: XmlElement, ctx: ClientFeatureContext<unknown>): boolean {
    if (!this.enabled || this.failed || ctx.flags.authenticated) return false;
    const mechs = features.getChild("mechanisms", NS_SASL);
    if (mechs === undefined || !mechs.getChildren("mechanism", NS_SASL).some((m) => trimmedText(m) === "EXTERNAL")) return false;
    // An empty authorization identity: the authentication identity (our certificate's domain) is used.
    ctx.write(new XmlElement("auth", NS_SASL, { mechanism: "EXTERNAL" }).append("="));
    return true;
  }

  handleElement(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    if (e.is("success", NS_SASL) && !ctx.flags.authenticated) {
      const local = this.host.localDomain!;
      this.host.authorize(local, this.host.remoteDomain!);
      ctx.setAuthenticated({ mechanism: "EXTERNAL", username: local });
      ctx.setBound(domainJid(local));
      ctx.done({ restart: true });
      return;
    }
    if (e.is("failure", NS_SASL) && !ctx.flags.authenticated) {
      // RFC 6120 §6.4.5 / XEP-0178 §3: try the next method (dialback) on the same stream.
      this.failed = true;
      ctx.done();
      return;
    }
    ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> during SASL EXTERNAL`);
  }

  handleRestart(): void {
    this.failed = false;
  }
}

class ExternalServer implements ServerFeature {
  private failures = 0;
  constructor(
    private readonly host: S2SHost,
    private readonly enabled: boolean,
  ) {}

  private usable(ctx: ServerFeatureContext<unknown>): boolean {
    const peer = this.host.remoteDomain;
    if (!this.enabled || ctx.flags.authenticated || !ctx.flags.secure || peer === undefined || ctx.tls === undefined) return false;
    return matchesXmppServerIdentity(peer, ctx.tls.peerIdentities) || matchesXmppServerIdentity(peer, ctx.tls.peerCertIdentities);
  }

  offer(ctx: ServerFeatureContext<unknown>): XmlElement | undefined {
    // XEP-0178 §3 step 6: offer EXTERNAL only when the certificate is good for the peer's domain.
    if (!this.usable(ctx)) return undefined;
    return new XmlElement("mechanisms", NS_SASL).append(new XmlElement("mechanism", NS_SASL).append("EXTERNAL"));
  }

  handleElement(e: XmlElement, ctx: ServerFeatureContext<unknown>): void {
    if (e.name === "abort") {
      ctx.write(failure("aborted"));
      return;
    }
    if (e.name !== "auth") {
      ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'>: no SASL exchange is in progress`);
      return;
    }
    const problem = this.check(e, ctx);
    if (problem === undefined) {
      const peer = this.host.remoteDomain!;
      ctx.write(new XmlElement("success", NS_SASL));
      this.host.authorize(peer, this.host.localDomain!);
      ctx.setAuthenticated({ mechanism: "EXTERNAL", username: peer });
      ctx.emit({ type: "domain-authenticated", from: peer, to: this.host.localDomain!, method: "EXTERNAL" });
      ctx.done({ restart: true });
      return;
    }
    ctx.write(failure(problem[0], problem[1]));
    if (++this.failures >= MAX_ATTEMPTS) ctx.fatal("policy-violation", `${this.failures} failed SASL attempts`);
  }

  private check(e: XmlElement, ctx: ServerFeatureContext<unknown>): [string, string] | undefined {
    if (e.attr("mechanism") !== "EXTERNAL" || !this.usable(ctx)) return ["invalid-mechanism", "only EXTERNAL, and only for a certificate of the stream's 'from' domain"];
    const text = trimmedText(e);
    if (text !== "" && text !== "=") {
      const bytes = base64Decode(text);
      const authzid = bytes === undefined ? undefined : utf8Decode(bytes);
      if (authzid === undefined) return ["incorrect-encoding", "the authorization identity is not base64 of UTF-8"];
      // RFC 6120 §6.3.8, XEP-0178 §3: an authorization identity, if any, must be the stream's 'from'.
      if (authzid !== this.host.remoteDomain) return ["invalid-authzid", "the authorization identity must be the stream's 'from' domain"];
    }
    return undefined;
  }
}
