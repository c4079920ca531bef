/**
 * STARTTLS (RFC 6120 §5) as a stream feature of both roles. The hand-over keeps its hard byte boundary:
 * bytes after `<proceed/>` (client) or `<starttls/>` (server) belong to TLS and are never parsed.
 *
 * @module
 */
import { XmlElement } from "@xmpp-sansio/xml";
import type { TlsPolicy } from "../session-types.js";
import { sharedHalf } from "../shared-options.js";
import type { ClientFeature, ClientFeatureContext, ServerFeature, ServerFeatureContext, StreamFeature } from "./types.js";

/** `urn:ietf:params:xml:ns:xmpp-tls` (RFC 6120 §5.4). */
export const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";

const DEFINITIONS = new Map<TlsPolicy, StreamFeature>();

/**
 * STARTTLS with a TLS policy (see {@link TlsPolicy}); `required` makes it mandatory-to-negotiate. Both
 * halves are stateless, so one definition and one instance of each half serve every session.
 */
export function starttlsFeature(policy: TlsPolicy): StreamFeature {
  let def = DEFINITIONS.get(policy);
  if (def === undefined) {
    const client = new StarttlsClient(policy);
    const server = sharedHalf(new StarttlsServer(policy));
    def = {
      name: "starttls",
      namespaces: [NS_TLS],
      availability: { until: "secure" },
      restarts: true,
      mandatory: policy === "required",
      client: () => client,
      server: () => server,
    };
    DEFINITIONS.set(policy, def);
  }
  return def;
}

/**
 * STARTTLS with the client half only (what `ClientSession` loads), so a client bundle does not carry the
 * server half as it would with {@link starttlsFeature}.
 */
export function starttlsClientFeature(policy: TlsPolicy): StreamFeature {
  const client = new StarttlsClient(policy);
  return { name: "starttls", namespaces: [NS_TLS], availability: { until: "secure" }, restarts: true, mandatory: policy === "required", client: () => client };
}

/** Whether STARTTLS can be negotiated on this stream (stream framing; `wss:` is TLS already). */
function usable(policy: TlsPolicy, ctx: { readonly framing: string; readonly flags: { readonly secure: boolean } }): boolean {
  return !ctx.flags.secure && ctx.framing === "stream" && (policy === "required" || policy === "optional");
}

class StarttlsClient implements ClientFeature {
  constructor(private readonly policy: TlsPolicy) {}

  negotiate(features: XmlElement, ctx: ClientFeatureContext<unknown>): boolean {
    // RFC 6120 §5.3.4: TLS before SASL. Only for stream framing.
    if (usable(this.policy, ctx) && features.getChild("starttls", NS_TLS) !== undefined) {
      ctx.write(new XmlElement("starttls", NS_TLS));
      return true;
    }
    if (!ctx.flags.secure && this.policy === "required") {
      // No STARTTLS offer while we require TLS: a stripping attack or a misconfigured server. We never
      // continue in the clear. RFC 6120 §5.3.1 makes TLS mandatory-to-negotiate by local policy; the
      // condition for "violates local service policy" is <policy-violation/> (§4.9.3.14).
      ctx.fatal("policy-violation", "TLS is required by local policy but the server did not offer STARTTLS");
      return true;
    }
    return false;
  }

  handleElement(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    if (e.is("proceed", NS_TLS)) {
      ctx.handOverTls();
      return;
    }
    if (e.is("failure", NS_TLS)) {
      // RFC 6120 §5.4.2.2: the server closes the stream after a STARTTLS failure.
      ctx.emit({ type: "stream-error", condition: "policy-violation", text: "the server refused STARTTLS", byPeer: false });
      ctx.end("stream-error");
      return;
    }
    ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> during starttls`);
  }
}

class StarttlsServer implements ServerFeature {
  constructor(private readonly policy: TlsPolicy) {}

  offer(ctx: ServerFeatureContext<unknown>): XmlElement | undefined {
    if (!usable(this.policy, ctx)) return undefined;
    const starttls = new XmlElement("starttls", NS_TLS);
    if (this.policy === "required") starttls.append(new XmlElement("required", NS_TLS));
    return starttls;
  }

  offerKey(ctx: ServerFeatureContext<unknown>): string {
    return usable(this.policy, ctx) ? this.policy : "";
  }

  handleElement(e: XmlElement, ctx: ServerFeatureContext<unknown>): void {
    if (e.name === "starttls" && !ctx.flags.authenticated && usable(this.policy, ctx)) {
      ctx.write(new XmlElement("proceed", NS_TLS));
      // Bytes after <starttls/> belong to the TLS handshake (CVE-2011-0411): never parse them.
      ctx.handOverTls();
      return;
    }
    // A second <starttls/>, or one we never offered (§5.4.3.3: TLS is negotiated once, before SASL).
    ctx.fatal("policy-violation", ctx.flags.secure ? "TLS is already established" : "STARTTLS is not available on this stream");
  }
}
