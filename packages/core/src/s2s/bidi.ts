/**
 * XEP-0288 Bidirectional Server-to-Server Connections as a stream feature of both s2s roles: the
 * receiving server offers `<bidi xmlns='urn:xmpp:features:bidi'/>`; the initiating server, when it wants
 * it, sends `<bidi xmlns='urn:xmpp:bidi'/>` before authenticating (XEP-0288 §2) and goes on at once (no
 * answer). From then on stanzas flow both ways: the receiving server sends in the reverse direction of
 * the authenticated pairs (`from` its domain, `to` the initiator's), and the initiating server accepts
 * those. The initiating server trusts the receiving server's identity as it connected to it (DNS, and
 * the certificate its adapter verified) — the XEP's security model.
 *
 * @module
 */
import { XmlElement } from "@xmpp-sansio/xml";
import type { ClientFeature, ClientFeatureContext, ServerFeature, ServerFeatureContext, StreamFeature } from "../features/types.js";
import type { S2SHost } from "./pairs.js";

/** `urn:xmpp:bidi` (XEP-0288): the request. */
export const NS_BIDI = "urn:xmpp:bidi";
/** `urn:xmpp:features:bidi` (XEP-0288): the offer. */
export const NS_BIDI_FEATURE = "urn:xmpp:features:bidi";

/** The bidi feature of one session (`enabled`: offer it / ask for it). */
export function bidiFeature(host: S2SHost, enabled: boolean): StreamFeature {
  return {
    name: "bidi",
    namespaces: [NS_BIDI],
    availability: { until: "authenticated" },
    restarts: false,
    mandatory: false,
    client: () => new BidiClient(host, enabled),
    server: () => new BidiServer(host, enabled),
  };
}

class BidiClient implements ClientFeature {
  constructor(
    private readonly host: S2SHost,
    private readonly enabled: boolean,
  ) {}

  negotiate(features: XmlElement, ctx: ClientFeatureContext<unknown>): boolean {
    if (this.enabled && !this.host.bidi && features.getChild("bidi", NS_BIDI_FEATURE) !== undefined) {
      ctx.write(new XmlElement("bidi", NS_BIDI));
      this.host.bidi = true;
    }
    return false; // nothing to wait for
  }

  handleElement(e: XmlElement, ctx: ClientFeatureContext<unknown>): void {
    ctx.fatal("unsupported-stanza-type", `unexpected <${e.name} xmlns='${e.ns}'> from the receiving server`);
  }
}

class BidiServer implements ServerFeature {
  constructor(
    private readonly host: S2SHost,
    private readonly enabled: boolean,
  ) {}

  offer(): XmlElement | undefined {
    return this.enabled && !this.host.bidi ? new XmlElement("bidi", NS_BIDI_FEATURE) : undefined;
  }

  handleElement(e: XmlElement, ctx: ServerFeatureContext<unknown>): void {
    if (e.name === "bidi" && this.enabled && !ctx.flags.authenticated) {
      this.host.bidi = true;
      return;
    }
    ctx.fatal("unsupported-stanza-type", this.enabled ? "<bidi/> only before authentication (XEP-0288 §2)" : "bidirectional streams are not offered");
  }
}
