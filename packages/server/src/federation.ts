/**
 * Federation of the reference server (RFC 6120 §10.4, server-to-server): the Node adapter's `S2SManager`
 * wired to the router — stanzas to a domain we do not serve leave through s2s, authenticated inbound s2s
 * stanzas are routed to local users as if from any other sender, and failures come back to the sender
 * as `<remote-server-not-found/>` / `<remote-server-timeout/>`.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { type Jid, JidError, tryParseJid } from "@xmpp-sansio/jid";
import { type RateLimits, S2SManager, type S2SStaticHost, type SrvResolver } from "@xmpp-sansio/node";
import type { XmlElement } from "@xmpp-sansio/xml";
import type { CertificatePair } from "./certificate.js";
import type { Endpoint } from "./router.js";

/** The `federation` option of `startServer`: server-to-server streams (off unless given). */
export interface FederationOptions {
  /**
   * The dialback secret (XEP-0185 keys). Default: 32 random bytes drawn at start — enough for one process;
   * give a fixed one when several processes serve the domain.
   */
  readonly secret?: string;
  /** Address of the s2s listener. Default: the server's `host`. */
  readonly host?: string;
  /** Port of the s2s listener (RFC 6120 §3.2.2: 5269). Default 5269; 0 for an ephemeral port; `null`: outbound only. */
  readonly port?: number | null;
  /** A Direct TLS s2s listener too (XEP-0368, `_xmpps-server._tcp`), on `host`. Default none; 0 for an ephemeral port. */
  readonly directTlsPort?: number;
  /**
   * Fixed places of peer domains (DNS is not asked for them): `"127.0.0.3"` (port 5269) or
   * `{ host, port, directTls }`. Tests and private deployments.
   */
  readonly hosts?: Readonly<Record<string, string | S2SStaticHost>>;
  /** SRV lookup override (`_xmpp-server._tcp`, `_xmpps-server._tcp`). Default: the system resolver. */
  readonly resolveSrv?: SrvResolver;
  /** A/AAAA lookup override. Default `dns.lookup` (so `/etc/hosts` counts). */
  readonly resolveHost?: (host: string) => Promise<string[]>;
  /**
   * Our certificate for s2s (as TLS server and as TLS client). Default: the server's. Peers authenticate
   * us with SASL EXTERNAL when it names our domain and they trust its issuer; otherwise by dialback.
   */
  readonly tls?: CertificatePair;
  /** CAs trusted for peers' certificates (PEM). Default: Node's bundle. */
  readonly ca?: string | readonly string[];
  /** SASL EXTERNAL with certificates, both ways. Default true. */
  readonly external?: boolean;
  /** Server Dialback (XEP-0220), both ways. Default true. */
  readonly dialback?: boolean;
  /** An s2s stream idle this long is closed. Default 300 000 ms. */
  readonly idleTimeoutMs?: number;
  /** Stanzas held per remote domain while connecting. Default 1 000. */
  readonly maxQueued?: number;
  /** Per TCP connection attempt. Default 10 000 ms. */
  readonly connectTimeoutMs?: number;
  /**
   * Read rates of inbound s2s streams, before and after the peer authenticated (reads pause, nothing is
   * dropped). Default: 10 KiB/s (burst 32 KiB), then 1 MiB/s (burst 4 MiB) — `DEFAULT_S2S_RATE_LIMITS`.
   */
  readonly rate?: RateLimits;
}

/** What federation needs from the router: route one stanza as coming from `sender`. */
export interface FederationRouter {
  /** Routes an inbound s2s stanza (already checked: `from` of the peer's domain, `to` of ours) as from `sender`. */
  route(sender: Endpoint, stanza: XmlElement): void;
}

/** The running federation of a server. */
export interface Federation {
  /** The s2s manager (outbound streams, inbound listener). */
  readonly manager: S2SManager;
  /** The s2s port bound, when there is a listener. */
  readonly port: number | undefined;
  /** Sends a stanza of a local sender to its remote domain (the router's `remote` hook). */
  send(stanza: XmlElement): void;
  /** Stops: streams end, queued stanzas come back to their senders as errors. */
  close(): Promise<void>;
}

/**
 * Starts federation for `domain`: the s2s listener (unless `port: null`) and the outbound side. `router`
 * is asked lazily (it is built with this federation's `send` as its `remote` hook).
 */
export async function startFederation(args: {
  readonly domain: string;
  readonly options: FederationOptions;
  readonly tls: CertificatePair;
  readonly host: string;
  readonly router: () => FederationRouter;
  readonly log: (line: string) => void;
}): Promise<Federation> {
  const { domain, options, log } = args;
  const pair = options.tls ?? args.tls;
  const hosts: Record<string, S2SStaticHost> = {};
  for (const [d, h] of Object.entries(options.hosts ?? {})) hosts[d] = typeof h === "string" ? { host: h } : h;
  // A remote sender as the router sees it: replies and errors to it go back out through s2s.
  // Keyed by the `from` attribute as received (bounded, oldest out): parsing a JID runs PRECIS.
  const remoteEndpoints = new Map<string, Endpoint | undefined>();
  const remote = (from: string): Endpoint | undefined => {
    if (remoteEndpoints.has(from)) return remoteEndpoints.get(from);
    const jid: Jid | JidError = tryParseJid(from);
    const e = jid instanceof JidError ? undefined : { jid, deliver: (s: XmlElement) => manager.send(s) };
    if (remoteEndpoints.size >= 4_096) remoteEndpoints.delete(remoteEndpoints.keys().next().value!);
    remoteEndpoints.set(from, e);
    return e;
  };
  const manager: S2SManager = new S2SManager({
    serves: (d) => d === domain,
    dialbackSecret: options.secret ?? randomBytes(32).toString("hex"),
    tls: { cert: pair.cert, key: pair.key, ...(options.ca === undefined ? {} : { ca: typeof options.ca === "string" ? options.ca : [...options.ca] }) },
    listen: options.port === null ? null : { host: options.host ?? args.host, port: options.port ?? 5269 },
    hosts,
    ...(options.directTlsPort === undefined ? {} : { directTlsPort: options.directTlsPort }),
    ...(options.resolveSrv === undefined ? {} : { resolveSrv: options.resolveSrv }),
    ...(options.resolveHost === undefined ? {} : { resolveHost: options.resolveHost }),
    ...(options.external === undefined ? {} : { external: options.external }),
    ...(options.dialback === undefined ? {} : { dialback: options.dialback }),
    ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
    ...(options.maxQueued === undefined ? {} : { maxQueued: options.maxQueued }),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
    ...(options.rate === undefined ? {} : { rate: options.rate }),
    onStanza: (stanza) => {
      const sender = remote(stanza.attr("from") ?? "");
      if (sender !== undefined) args.router().route(sender, stanza); // (the core checked 'from')
    },
    onBounce: (reply) => {
      // The error goes to the local sender, from the remote address it could not reach.
      const sender = reply === undefined ? undefined : remote(reply.attr("from") ?? "");
      if (sender !== undefined) args.router().route(sender, reply!);
    },
    log,
  });
  const { port } = await manager.listen();
  if (port !== undefined) log(`s2s     listening on ${options.host ?? args.host}:${port} for ${domain}`);
  return {
    manager,
    port,
    send: (stanza) => manager.send(stanza),
    close: () => manager.close(),
  };
}
