/**
 * External components (XEP-0114) in the reference server: a component port with per-domain secrets,
 * stanzas to a component's domain (`comp.example`, `user@comp.example/res`) delivered to it, stanzas from
 * it into the normal routing (local users, offline storage, presence). See docs/server.md, "Components".
 *
 * @module
 */
import { errorReply, type StanzaError, stanzaError } from "@xmpp-sansio/core";
import { type Jid, JidError, parseJid, tryParseJid } from "@xmpp-sansio/jid";
import { type ComponentConnection, XmppComponentServer } from "@xmpp-sansio/node";
import { XmlElement } from "@xmpp-sansio/xml";
import type { Endpoint } from "./router.js";

/** The component port of {@link startServer} (`components` option). Off unless given. */
export interface ComponentsOptions {
  /** Port of the component listener (Prosody's default is 5347). 0 for an ephemeral one. */
  readonly port: number;
  /**
   * Listening address. Default `127.0.0.1`: component streams have no TLS (XEP-0114) and the secret is
   * the only credential; listen elsewhere only on a private network.
   */
  readonly host?: string;
  /**
   * The components: domain → shared secret. A component may use its domain and every JID in it
   * (`user@domain/resource`); other domains, including subdomains of it, are not its own.
   */
  readonly secrets: Readonly<Record<string, string>>;
}

/** Where a stanza goes (see {@link routeOf}). */
export type ComponentRoute =
  /** To the component serving `domain` (delivered if connected, else bounced). */
  | { readonly kind: "component"; readonly domain: string }
  /** Into the local router (a local user, the server's own domain). */
  | { readonly kind: "local" }
  /** Another domain: there is no route to remote servers here (`<remote-server-not-found/>`). */
  | { readonly kind: "remote" }
  /** Answered at once with this error (never for an error stanza). */
  | { readonly kind: "bounce"; readonly error: StanzaError }
  /** Dropped: an error or result with nowhere to go. */
  | { readonly kind: "drop" };

/**
 * The routing decision for a stanza (pure): `to` of a component's domain → that component; of the local
 * domain → the router; missing `to` from a component → `<bad-request/>` (Prosody's answer: "Components
 * MUST specify a 'to' address on stanzas"); a malformed `to` → `<jid-malformed/>`; anything else → remote.
 */
export function routeOf(stanza: XmlElement, localDomain: string, isComponent: (domain: string) => boolean): ComponentRoute {
  const toAttr = stanza.attr("to");
  if (toAttr === undefined) return answerable(stanza, stanzaError("bad-request", { text: "a component's stanza needs a 'to' address" }));
  const to = tryParseJid(toAttr);
  if (to instanceof JidError) return answerable(stanza, stanzaError("jid-malformed", { text: "the 'to' address is not a valid JID" }));
  if (isComponent(to.domain)) return { kind: "component", domain: to.domain };
  if (to.domain === localDomain) return { kind: "local" };
  return { kind: "remote" };
}

function answerable(stanza: XmlElement, error: StanzaError): ComponentRoute {
  const type = stanza.attr("type");
  return type === "error" || (stanza.name === "iq" && type === "result") ? { kind: "drop" } : { kind: "bounce", error };
}

/** Options of {@link ComponentHub}. */
export interface ComponentHubOptions extends ComponentsOptions {
  /** The local domain (its users are routed by `route`). */
  readonly domain: string;
  /** Routes a stanza from a component into the local router, as coming from `sender`. */
  readonly route: (sender: Endpoint, stanza: XmlElement) => void;
  /** One line per event. */
  readonly log?: (line: string) => void;
}

/**
 * The component listener and its routing: owns an {@link XmppComponentServer}; `routeExternal` is the
 * routers' hook for stanzas to a domain that is not local.
 */
export class ComponentHub {
  /** The listener. */
  readonly listener: XmppComponentServer;
  private readonly o: ComponentHubOptions;
  private readonly secrets: ReadonlyMap<string, string>;
  private readonly endpoints = new Map<ComponentConnection, Endpoint>();

  /** @throws JidError when a configured component name is not a domain */
  constructor(options: ComponentHubOptions) {
    this.o = options;
    const secrets = new Map<string, string>();
    for (const [name, secret] of Object.entries(options.secrets)) {
      const jid = parseJid(name);
      if (jid.local !== "" || jid.resource !== "") throw new TypeError(`components: ${JSON.stringify(name)} is not a domain`);
      if (jid.domain === options.domain) throw new TypeError(`components: ${name} is the server's own domain`);
      secrets.set(jid.domain, secret);
    }
    this.secrets = secrets;
    const log = options.log ?? (() => {});
    this.listener = new XmppComponentServer({
      port: options.port,
      host: options.host ?? "127.0.0.1",
      hooks: {
        secret: (domain) => secrets.get(domain),
        online: (c) => {
          this.endpoints.set(c, { jid: c.jid!, deliver: (s) => c.isOnline && c.send(s) });
          log(`online  component ${c.jid} from ${c.remoteAddress}`);
        },
        offline: (c) => {
          this.endpoints.delete(c);
          log(`offline component ${c.jid}`);
        },
        stanza: (c, s) => this.fromComponent(c, s),
      },
    });
    this.listener.on("authFailed", (c, domain, condition) => log(`auth    component ${domain ?? "?"} from ${c.remoteAddress}: ${condition}`));
    this.listener.on("hookError", (err, c) => log(`error   component connection ${c.id}: ${String(err)}`));
  }

  /** Whether `domain` is a configured component (connected or not). */
  isComponent(domain: string): boolean {
    return this.secrets.has(domain);
  }

  /** Starts listening; resolves with the bound port. */
  async listen(): Promise<number> {
    return (await this.listener.listen()).port;
  }

  /** Ends every component stream (`<system-shutdown/>`) and stops listening. */
  close(): Promise<void> {
    return this.listener.close();
  }

  /**
   * The routers' hook for a stanza to a domain that is not local: `true` when delivered to a connected
   * component, a stanza error when the domain is a component's but it is not connected
   * (`<service-unavailable/>`, type `wait`: retry later — for messages and IQ requests; presence is
   * dropped), `undefined` when the domain is no component's (the router answers as for any remote domain).
   */
  routeExternal = (stanza: XmlElement, to: Jid): true | StanzaError | undefined => {
    if (!this.secrets.has(to.domain)) return undefined;
    const c = this.listener.connectionFor(to.domain);
    if (c?.isOnline) {
      c.send(stanza);
      return true;
    }
    const type = stanza.attr("type");
    if (stanza.name === "presence" || type === "error" || (stanza.name === "iq" && type === "result")) return true; // nothing to answer
    return stanzaError("service-unavailable", { type: "wait", text: `the component ${to.domain} is not connected` });
  };

  private fromComponent(c: ComponentConnection, stanza: XmlElement): void {
    const sender = this.endpoints.get(c);
    if (sender === undefined) return;
    const route = routeOf(stanza, this.o.domain, (d) => this.secrets.has(d));
    switch (route.kind) {
      case "bounce":
      case "remote": {
        const error = route.kind === "bounce" ? route.error : stanzaError("remote-server-not-found");
        const reply = errorReply(stanza, error);
        if (reply !== undefined) sender.deliver(reply);
        return;
      }
      case "component": {
        const to = parseJid(stanza.attr("to")!);
        const result = this.routeExternal(stanza, to);
        if (result !== true && result !== undefined) {
          const reply = errorReply(stanza, result);
          if (reply !== undefined) sender.deliver(reply);
        }
        return;
      }
      case "local":
        if (this.serverIq(sender, stanza)) return;
        this.o.route(sender, stanza);
        return;
      default:
        return;
    }
  }

  /**
   * IQs from a component to the server's own domain: ping is answered, other requests get
   * `<service-unavailable/>` (RFC 6120 §10.5.1, §8.3.3.19); the local router answers IQs of its users only.
   */
  private serverIq(sender: Endpoint, stanza: XmlElement): boolean {
    if (stanza.name !== "iq" || stanza.attr("to") !== this.o.domain) return false;
    const type = stanza.attr("type");
    if (type !== "get" && type !== "set") return true;
    if (type === "get" && stanza.firstElement()?.is("ping", "urn:xmpp:ping")) {
      sender.deliver(new XmlElement("iq", "jabber:client", { type: "result", id: stanza.attr("id"), from: this.o.domain, to: stanza.attr("from") }));
      return true;
    }
    const reply = errorReply(stanza, stanzaError("service-unavailable"));
    if (reply !== undefined) sender.deliver(reply);
    return true;
  }
}
