/**
 * `S2SManager`: server-to-server federation over Node sockets (RFC 6120 with `jabber:server`, XEP-0220
 * dialback, XEP-0368 direct TLS). Outbound: one stream per domain pair, found through SRV (or the domain
 * on 5269), with a bounded queue while it connects and errors to senders when it fails. Inbound: an s2s
 * listener running the core's `S2SReceiverSession`, SASL EXTERNAL from the peer's verified certificate,
 * dialback keys checked with the authoritative server over verify streams. Authenticated stanzas go to
 * the application.
 *
 * @module
 */
import { once } from "node:events";
import { randomInt } from "node:crypto";
import { lookup, Resolver } from "node:dns/promises";
import * as net from "node:net";
import * as tls from "node:tls";
import { type RateLimits, ReadLimiter, SessionPump } from "@xmpp-sansio/adapter";
import {
  type ConnectionCandidate,
  connectionCandidates,
  type DialbackAnswer,
  errorReply,
  type S2SInitiatorOptions,
  S2SReceiverSession,
  type S2SReceiverOptions,
  type ServerEvent,
  type SrvRecord,
  stanzaError,
  type StanzaErrorCondition,
  type TlsPolicy,
} from "@xmpp-sansio/core";
import { tryParseJid, JidError } from "@xmpp-sansio/jid";
import { NS_CLIENT, NS_SERVER, type XmlElement } from "@xmpp-sansio/xml";
import { channelBindingFromTlsSocket } from "./channel-binding.js";
import type { SrvResolver } from "./discovery.js";
import { monotonicNow, SocketDriver } from "./driver.js";
import { peerCertIdentitiesOf } from "./s2s-cert.js";
import { type LinkContext, OutboundLink, type S2SOutboundLink } from "./s2s-link.js";

export type { LinkState as S2SLinkState } from "./s2s-link.js";

/** Where to connect for a domain, overriding DNS (tests, private deployments). */
export interface S2SStaticHost {
  /** Address or host name. */
  readonly host: string;
  /** Port. Default 5269. */
  readonly port?: number;
  /** Direct TLS (XEP-0368) instead of STARTTLS. Default false. */
  readonly directTls?: boolean;
}

/**
 * Default read rates of an inbound s2s stream: 10 KiB/s (burst 32 KiB) until the peer domain is
 * authenticated — TLS, dialback or SASL EXTERNAL need little — then 1 MiB/s (burst 4 MiB): one stream
 * carries all the traffic of a domain to ours.
 */
export const DEFAULT_S2S_RATE_LIMITS: Readonly<Required<RateLimits>> = Object.freeze({
  preAuth: Object.freeze({ bytesPerSecond: 10 * 1024, burstBytes: 32 * 1024 }),
  authenticated: Object.freeze({ bytesPerSecond: 1024 * 1024, burstBytes: 4 * 1024 * 1024 }),
});

/** Options of {@link S2SManager}. */
export interface S2SManagerOptions {
  /** Whether we serve a domain (the `to` of inbound streams, the `from` of outbound stanzas). */
  serves(domain: string): boolean;
  /**
   * The dialback secret (XEP-0185 keys): signs our outbound dialback and answers `<db:verify/>` for our
   * domains. Password-equivalent: keep it out of logs. Without it only SASL EXTERNAL authenticates us.
   */
  dialbackSecret?: string;
  /**
   * Our certificate (presented to peers as TLS server and as TLS client, for their SASL EXTERNAL) and the
   * CAs trusted for peers' certificates (default: Node's bundle). Required unless `tlsPolicy` is `"none"`.
   */
  tls?: { readonly cert: string | Buffer; readonly key: string | Buffer; readonly ca?: string | Buffer | ReadonlyArray<string | Buffer> };
  /** STARTTLS on s2s streams, both ways. Default `"required"` (RFC 6120 §5.3.1, §13.7.2). */
  tlsPolicy?: Exclude<TlsPolicy, "direct">;
  /** The inbound listener; `null`: none (outbound only). Default port 5269 on all addresses. */
  listen?: { readonly host?: string; readonly port?: number } | null;
  /**
   * A Direct TLS s2s listener (XEP-0368, ALPN `xmpp-server`; announce it as `_xmpps-server._tcp`), on the
   * `listen` host. Default none; port 0 for an ephemeral one.
   */
  directTlsPort?: number;
  /** Domains whose servers are at fixed places (DNS is not asked for them). */
  hosts?: Readonly<Record<string, S2SStaticHost>>;
  /** SRV lookup (`_xmpp-server._tcp`, `_xmpps-server._tcp`). Default: `node:dns/promises`. */
  resolveSrv?: SrvResolver;
  /** A/AAAA lookup: the addresses of a host name. Default `dns.lookup` (so `/etc/hosts` counts). */
  resolveHost?: (host: string) => Promise<string[]>;
  /** Offer SASL EXTERNAL to peers with a verified certificate, and use it outbound. Default true. */
  external?: boolean;
  /** Offer and use dialback. Default true (needs `dialbackSecret` to authenticate us). */
  dialback?: boolean;
  /** Per TCP connection attempt. Default 10 000 ms (then the next address; all timed out → `<remote-server-timeout/>`). */
  connectTimeoutMs?: number;
  /** An outbound stream with nothing sent for this long is closed; inbound likewise with nothing read. Default 300 000 ms. */
  idleTimeoutMs?: number;
  /** Stanzas held per outbound stream while it is being set up. Default 1 000 (more → `<resource-constraint/>`). */
  maxQueued?: number;
  /** Inbound connections at once (more are refused at accept). Default 1 000. */
  maxInbound?: number;
  /**
   * Read rates of every inbound stream, before and after the peer domain authenticated (reads pause,
   * nothing is dropped; `null` switches a phase off). Default {@link DEFAULT_S2S_RATE_LIMITS}.
   */
  rate?: RateLimits;
  /** How long an inbound dialback check waits for the authoritative server. Default 30 000 ms. */
  verifyTimeoutMs?: number;
  /** Further core options of every s2s session (limits, timeouts, random). */
  session?: Omit<S2SReceiverOptions & S2SInitiatorOptions, "from" | "to" | "tls" | "dialbackSecret" | "purpose" | "bidi" | "noExternal" | "external" | "dialback">;
  /**
   * An authenticated inbound stanza (`from` of the peer's domain, `to` of ours — the core checked both),
   * turned into the `jabber:client` namespace, ready for local routing.
   */
  onStanza(stanza: XmlElement, info: { readonly from: string; readonly to: string }): void;
  /**
   * A stanza that will not reach the remote domain (no address, refused, timeout, failed authentication,
   * queue full): `reply` is the error to give its sender (`<remote-server-not-found/>`,
   * `<remote-server-timeout/>`, `<resource-constraint/>`), or `undefined` for errors and results (never
   * answered, RFC 6120 §8.3.1).
   */
  onBounce(reply: XmlElement | undefined, stanza: XmlElement, condition: StanzaErrorCondition): void;
  /** One line per connection event. */
  log?: (line: string) => void;
}

/** An inbound stream as the manager tracks it. */
interface Inbound {
  readonly driver: SocketDriver<ServerEvent>;
  lastActivity: number;
  /** The read rate paused this stream once (logged the first time only). */
  limited?: boolean;
}

/**
 * Federation for a server: `send()` stanzas to remote domains, `listen()` for peers. One outbound stream
 * per (our domain, their domain) pair; inbound stanzas go to `onStanza`.
 *
 * @example
 * ```ts
 * const s2s = new S2SManager({ serves: (d) => d === "a.example", dialbackSecret, tls: { cert, key },
 *   onStanza: (st) => router.routeInbound(st), onBounce: (reply) => reply && router.deliver(reply) });
 * await s2s.listen();
 * s2s.send(message); // from a local user to someone@b.example
 * ```
 */
export class S2SManager {
  private readonly o: S2SManagerOptions;
  private readonly links = new Map<string, OutboundLink>();
  private readonly inbound = new Set<Inbound>();
  private readonly server: net.Server | undefined;
  private readonly tlsServer: tls.Server | undefined;
  private secureContext: tls.SecureContext | undefined;
  /** Our certificate and key (and trusted CAs): `options.tls`, then what {@link setCertificate} gave. */
  private tlsPair: S2SManagerOptions["tls"];
  private readonly ctx: LinkContext;
  private readonly log: (line: string) => void;
  private sweep: NodeJS.Timeout | undefined;
  /** JID attribute → prepared domainpart, oldest first (bounded). */
  private readonly domains = new Map<string, string | undefined>();
  private closing = false;

  /** The inbound read rates, the defaults filled in (one object for every stream). */
  private readonly rates: Readonly<Required<RateLimits>>;
  constructor(options: S2SManagerOptions) {
    this.o = options;
    this.rates = options.rate === undefined ? DEFAULT_S2S_RATE_LIMITS : Object.freeze({ ...DEFAULT_S2S_RATE_LIMITS, ...options.rate });
    this.log = options.log ?? (() => {});
    const policy = options.tlsPolicy ?? "required";
    if (options.tls === undefined && policy !== "none") throw new TypeError('S2SManager: `tls` (cert and key) is needed unless tlsPolicy is "none"');
    this.tlsPair = options.tls;
    if (options.tls !== undefined) this.secureContext = tls.createSecureContext(this.contextOptions());
    const resolver = options.resolveSrv ?? defaultSrvResolver();
    const resolveHost = options.resolveHost ?? (async (host: string) => (await lookup(host, { all: true })).map((a) => a.address));
    this.ctx = {
      candidates: (domain) => this.candidates(domain, resolver),
      addresses: (host) => (net.isIP(host) !== 0 ? Promise.resolve([host]) : resolveHost(host)),
      tlsOptions: (servername) => ({ ...this.contextOptions(), servername, rejectUnauthorized: false }),
      sessionOptions: (from, to, purpose, directTls) => ({
        ...(options.session ?? {}),
        from,
        to,
        purpose,
        tls: directTls ? "direct" : policy,
        ...(options.dialbackSecret === undefined || options.dialback === false ? {} : { dialbackSecret: options.dialbackSecret }),
        noExternal: options.external === false,
      }),
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
      maxQueued: options.maxQueued ?? 1_000,
      bounce: (stanza, condition, text) => this.bounce(stanza, condition, text),
      ended: (link) => {
        // The link's own pair and any piggybacked on it.
        for (const [key, l] of this.links) if (l === link) this.links.delete(key);
      },
      pairEnded: (from, link) => {
        const key = linkKey(from, link.to, link.purpose);
        if (this.links.get(key) === link) this.links.delete(key);
      },
      piggyback: options.dialbackSecret !== undefined && options.dialback !== false,
      log: this.log,
      toServerNs: (stanza) => withNamespace(stanza, NS_CLIENT, NS_SERVER),
    };
    if (options.listen !== null) {
      this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
      this.server.on("error", (err) => this.log(`s2s listener error: ${err.message}`));
    }
    if (options.directTlsPort !== undefined) {
      if (options.tls === undefined) throw new TypeError("S2SManager: a directTlsPort needs `tls`");
      this.tlsServer = tls.createServer(
        { ...this.contextOptions(), ALPNProtocols: ["xmpp-server"], requestCert: true, rejectUnauthorized: false },
        (socket) => this.accept(socket, true),
      );
      this.tlsServer.on("error", (err) => this.log(`s2s direct TLS listener error: ${err.message}`));
      this.tlsServer.on("tlsClientError", (_err, socket) => socket.destroy());
    }
  }

  /** Starts the inbound listeners (if any). Resolves with the bound ports. */
  async listen(): Promise<{ port?: number; directTlsPort?: number }> {
    const host = this.o.listen?.host ?? "::";
    if (this.server !== undefined) {
      this.server.listen(this.o.listen?.port ?? 5269, host);
      await once(this.server, "listening");
    }
    if (this.tlsServer !== undefined) {
      this.tlsServer.listen(this.o.directTlsPort, host);
      await once(this.tlsServer, "listening");
    }
    const idle = this.o.idleTimeoutMs ?? 300_000;
    this.sweep = setInterval(() => this.sweepInbound(idle), Math.max(1_000, Math.min(idle, 60_000)));
    this.sweep.unref();
    return this.address();
  }

  /** The ports listened on. */
  address(): { port?: number; directTlsPort?: number } {
    const out: { port?: number; directTlsPort?: number } = {};
    const a = this.server?.address();
    if (a !== null && a !== undefined && typeof a === "object") out.port = a.port;
    const b = this.tlsServer?.address();
    if (b !== null && b !== undefined && typeof b === "object") out.directTlsPort = b.port;
    return out;
  }

  /**
   * Sends a stanza to a remote domain: its `from` must be of a domain we serve (stamped by the c2s
   * session), its `to` of a domain we do not. Queued while the stream is being set up; on failure the
   * sender's error goes to `onBounce`. Never throws for a peer's doing.
   */
  send(stanza: XmlElement): void {
    const from = this.domainOf(stanza.attr("from"));
    const to = this.domainOf(stanza.attr("to"));
    if (from === undefined || to === undefined || !this.o.serves(from) || this.o.serves(to)) {
      this.bounce(stanza, "bad-request", "a stanza for federation needs a 'from' of our domain and a 'to' of a remote one");
      return;
    }
    if (this.closing) {
      this.bounce(stanza, "remote-server-not-found", "federation is shutting down");
      return;
    }
    this.link(from, to, "authenticate").send(stanza, from);
  }

  /** The outbound stream of a domain pair, if one exists (state, queue; tests reach the socket through `driver`). */
  outbound(from: string, to: string): S2SOutboundLink | undefined {
    return this.links.get(linkKey(from, to, "authenticate"));
  }

  /** Inbound streams open. */
  get inboundCount(): number {
    return this.inbound.size;
  }

  /**
   * Stops: the listener closes, every stream ends (`</stream:stream>`), queued stanzas are bounced; after
   * `timeoutMs` (default 2 000) the remaining sockets are destroyed.
   */
  async close(timeoutMs = 2_000): Promise<void> {
    this.closing = true;
    clearInterval(this.sweep);
    const stopped = Promise.all([this.server, this.tlsServer].filter((l) => l?.listening === true).map((l) => new Promise<void>((r) => l!.close(() => r()))));
    const drivers: SocketDriver<never>[] = [];
    for (const link of [...this.links.values()]) {
      link.close();
      if (link.driver !== undefined) drivers.push(link.driver as SocketDriver<never>);
    }
    for (const i of this.inbound) {
      i.driver.abort("system-shutdown");
      drivers.push(i.driver as SocketDriver<never>);
    }
    const closed = Promise.all(drivers.map((d) => (d.closed ? undefined : new Promise<void>((r) => d.socket.once("close", () => r())))));
    const timer = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([closed, timer]);
    for (const d of drivers) if (!d.closed) d.destroy();
    await stopped;
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Replaces our certificate and key (e.g. renewed, on SIGHUP): new inbound streams (STARTTLS and Direct
   * TLS) and new outbound ones present it; open streams keep theirs. The trusted CAs stay. Throws, and
   * changes nothing, when the pair does not load.
   */
  setCertificate(pair: { readonly cert: string | Buffer; readonly key: string | Buffer }): void {
    const next = { ...(this.tlsPair ?? {}), cert: pair.cert, key: pair.key };
    const previous = this.tlsPair;
    this.tlsPair = next;
    try {
      const context = tls.createSecureContext(this.contextOptions());
      this.tlsServer?.setSecureContext(this.contextOptions());
      this.secureContext = context;
    } catch (error) {
      this.tlsPair = previous;
      throw error;
    }
  }

  private contextOptions(): tls.SecureContextOptions {
    const t = this.tlsPair;
    if (t === undefined) return {};
    return { cert: t.cert, key: t.key, ...(t.ca === undefined ? {} : { ca: t.ca as string | Buffer | Array<string | Buffer> }) };
  }

  private link(from: string, to: string, purpose: "authenticate" | "verify"): OutboundLink {
    const key = linkKey(from, to, purpose);
    let link = this.links.get(key);
    // A stream that is closing (idle, or ended by the peer) finishes on its own; new stanzas take a new one.
    // A verify stream never goes online, so the core's negotiation deadline (60 s by default) ends it: one
    // older than VERIFY_REUSE_MS takes no new request, so none is cut short by that deadline.
    const stale = link !== undefined && purpose === "verify" && monotonicNow() - link.createdAt > VERIFY_REUSE_MS;
    if (link === undefined || !link.usable || stale) {
      // XEP-0220 §2.5: another of our domains already has an online stream to that peer: piggyback on it.
      if (purpose === "authenticate") {
        for (const l of this.links.values()) {
          if (l.to !== to || !l.canPiggyback(from)) continue;
          this.log(`s2s out: ${from} → ${to} piggybacked on the stream of ${l.from}`);
          l.addDomain(from);
          this.links.set(key, l);
          return l;
        }
      }
      this.log(`s2s out: ${from} → ${to} connecting${purpose === "verify" ? " (dialback verify)" : ""}`);
      link = new OutboundLink(from, to, purpose, this.ctx);
      this.links.set(key, link);
    }
    return link;
  }

  private async candidates(domain: string, resolveSrv: SrvResolver): Promise<ConnectionCandidate[]> {
    const fixed = this.o.hosts?.[domain];
    if (fixed !== undefined) return [{ host: fixed.host, port: fixed.port ?? 5269, directTls: fixed.directTls === true }];
    const q = async (name: string): Promise<SrvRecord[] | undefined> => {
      try {
        return await resolveSrv(name);
      } catch {
        return undefined; // no records (RFC 6120 §3.2.1 step 1: fall back)
      }
    };
    const [srvTls, srv] = await Promise.all([q(`_xmpps-server._tcp.${domain}`), q(`_xmpp-server._tcp.${domain}`)]);
    return connectionCandidates({ domain, srvClient: srv, srvClientTls: srvTls, random: () => randomInt(0, 2 ** 32) / 2 ** 32, fallbackPort: 5269 });
  }

  private bounce(stanza: XmlElement, condition: StanzaErrorCondition, text: string): void {
    const reply = errorReply(stanza, stanzaError(condition, { text, lang: "en" }));
    if (reply !== undefined) reply.adoptNamespace(stanza.ns === "" ? NS_CLIENT : stanza.ns);
    this.o.onBounce(reply, stanza, condition);
  }

  /** Dialback (XEP-0220 §2.1.2): asks the authoritative server of `originating` about `key`. */
  private verify(receiving: string, originating: string, id: string, key: string): Promise<DialbackAnswer> {
    return new Promise((resolve) => {
      if (this.closing) {
        resolve({ valid: false, condition: "remote-server-not-found" });
        return;
      }
      // An online stream of ours to that domain carries <db:verify/> as well; else a verify stream.
      const out = this.links.get(linkKey(receiving, originating, "authenticate"));
      const link = out !== undefined && out.state === "online" && out.usable ? out : this.link(receiving, originating, "verify");
      link.verify({ from: receiving, to: originating, id, key }, this.o.verifyTimeoutMs ?? 30_000, (a) =>
        resolve(a.valid ? { valid: true } : { valid: false, ...(a.condition === undefined ? {} : { condition: a.condition }) }),
      );
    });
  }

  private accept(socket: net.Socket, directTls = false): void {
    socket.on("error", () => {});
    if (this.closing || this.inbound.size >= (this.o.maxInbound ?? 1_000)) {
      socket.destroy();
      return;
    }
    const session = new S2SReceiverSession({
      ...(this.o.session ?? {}),
      tls: directTls ? "direct" : (this.o.tlsPolicy ?? "required"),
      ...(this.o.dialbackSecret === undefined ? {} : { dialbackSecret: this.o.dialbackSecret }),
      dialback: this.o.dialback !== false,
      external: this.o.external !== false,
      bidi: false,
    });
    const address = socket.remoteAddress;
    const limiter = new ReadLimiter(this.rates, monotonicNow());
    let entry!: Inbound;
    const driver: SocketDriver<ServerEvent> = new SocketDriver<ServerEvent>({
      socket,
      side: "server",
      createPump: (io) =>
        new SessionPump<ServerEvent>({
          session,
          onEvent: (ev) => {
            if (ev.type === "domain-authenticated") limiter.authenticated(monotonicNow());
            this.onInboundEvent(session, driver, ev, address);
          },
          now: monotonicNow,
          ...io,
        }),
      upgrade: (plain) => new tls.TLSSocket(plain, { isServer: true, secureContext: this.secureContext!, requestCert: true, rejectUnauthorized: false }),
      tlsInfo: (s) => {
        const ids = peerCertIdentitiesOf(s);
        return ids === undefined ? {} : { peerCertIdentities: ids };
      },
      input: (chunk, feed) => {
        const now = monotonicNow();
        entry.lastActivity = now;
        const wait = limiter.consume(chunk.length, now);
        feed(chunk);
        if (wait > 0 && !driver.closed) {
          if (!entry.limited) this.log(`s2s in (${address}): read rate exceeded, reads paused (logged once per stream)`);
          entry.limited = true;
          driver.pauseReadsFor(wait);
        }
      },
      onInternalError: (err) => this.log(`s2s in error (${address}): ${String(err)}`),
      onSocketClose: () => this.inbound.delete(entry),
    });
    entry = { driver, lastActivity: monotonicNow() };
    this.inbound.add(entry);
    driver.interact((s, now) => {
      if (directTls) {
        const t = socket as tls.TLSSocket;
        const ids = peerCertIdentitiesOf(t);
        s.tlsEstablished({ channelBinding: channelBindingFromTlsSocket(t, "server"), ...(ids === undefined ? {} : { peerCertIdentities: ids }) }, now);
      }
      (s as S2SReceiverSession).start(now);
    });
  }

  private onInboundEvent(session: S2SReceiverSession, driver: SocketDriver<ServerEvent>, ev: ServerEvent, address: string | undefined): void {
    switch (ev.type) {
      case "host-check":
        session.answerHost(this.o.serves(ev.domain));
        break;
      case "stanza": {
        const from = this.domainOf(ev.stanza.attr("from"))!;
        const to = this.domainOf(ev.stanza.attr("to"))!;
        this.o.onStanza(withNamespace(ev.stanza, NS_SERVER, NS_CLIENT), { from, to });
        break;
      }
      case "dialback-result-request": {
        const { from, to, key, streamId } = ev;
        if (!this.o.serves(to)) {
          session.answerDialbackResult(from, to, { valid: false, condition: "item-not-found" });
          break;
        }
        if (this.o.serves(from)) {
          // A peer claiming one of our own domains: never asked of ourselves (a verify stream to us).
          this.log(`s2s in: dialback for ${from} → ${to} (${address}): refused, ${from} is ours`);
          session.answerDialbackResult(from, to, { valid: false, condition: "not-authorized" });
          break;
        }
        void this.verify(to, from, streamId, key).then((answer) => {
          this.log(`s2s in: dialback for ${from} → ${to} (${address}): ${answer.valid ? "valid" : `invalid${"condition" in answer && answer.condition !== undefined ? ` (${answer.condition})` : ""}`}`);
          if (!driver.closed) driver.guarded((s) => (s as S2SReceiverSession).answerDialbackResult(from, to, answer));
        });
        break;
      }
      case "domain-authenticated":
        this.log(`s2s in: ${ev.from} → ${ev.to} authenticated (${ev.method}) from ${address}`);
        break;
      case "stream-error":
        this.log(`s2s in (${address}): ${ev.byPeer ? "peer sent" : "we sent"} <${ev.condition}/>${ev.text === undefined ? "" : `: ${ev.text}`}`);
        break;
      default:
    }
  }

  /** The prepared domainpart of a JID attribute (PRECIS is the costly part of routing: a bounded cache). */
  private domainOf(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    let d = this.domains.get(value);
    if (d === undefined && !this.domains.has(value)) {
      d = domainOfAttr(value);
      if (this.domains.size >= 4_096) this.domains.delete(this.domains.keys().next().value!);
      this.domains.set(value, d);
    }
    return d;
  }

  private sweepInbound(idleMs: number): void {
    const now = monotonicNow();
    for (const i of this.inbound) if (now - i.lastActivity > idleMs) i.driver.guarded((s, t) => s.close(t));
  }
}

/** How long a verify stream takes new `<db:verify/>` requests (then a fresh one is opened). */
const VERIFY_REUSE_MS = 20_000;

function linkKey(from: string, to: string, purpose: string): string {
  return `${purpose}\u0000${from}\u0000${to}`;
}

function domainOfAttr(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const j = tryParseJid(value);
  return j instanceof JidError ? undefined : j.domain;
}

/**
 * A copy of `stanza` with every element in namespace `from` moved to `to` (the stanza and, e.g., an
 * `<error/>` or `<body/>` inheriting it); other namespaces are kept. Iterative, linear in the stanza's size.
 */
export function withNamespace(stanza: XmlElement, from: string, to: string): XmlElement {
  if (stanza.ns !== from && stanza.ns !== "") return stanza;
  const root = stanza.clone();
  const stack: XmlElement[] = [root];
  for (let e = stack.pop(); e !== undefined; e = stack.pop()) {
    e.ns = to;
    for (const c of e.children) if (typeof c !== "string" && (c.ns === from || c.ns === "")) stack.push(c);
  }
  return root;
}

function defaultSrvResolver(): SrvResolver {
  const resolver = new Resolver();
  return (name) => resolver.resolveSrv(name);
}
