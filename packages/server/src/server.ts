import { type ServerConnection, XmppServer, type XmppServerOptions } from "@xmpp-sansio/node";
import type { ScramHash } from "@xmpp-sansio/sasl";
import type { AccountStore } from "./accounts.js";
import { type CertificatePair, generateSelfSignedCertificate } from "./certificate.js";
import { type Endpoint, Router } from "./router.js";

/** Options of {@link startServer}. */
export interface StartServerOptions {
  /** The domain served (JIDs `user@domain`). */
  readonly domain: string;
  /** The accounts. */
  readonly accounts: AccountStore;
  /** Listening address. Default `127.0.0.1`. */
  readonly host?: string;
  /** STARTTLS port. Default 5222; 0 for an ephemeral port. */
  readonly port?: number;
  /** Direct TLS port (XEP-0368). Default none; 0 for an ephemeral port. */
  readonly directTlsPort?: number;
  /** Certificate and key (PEM). Default: a self-signed one generated now for `domain`. */
  readonly tls?: CertificatePair;
  /** SASL mechanisms offered, strongest first. -PLUS variants are added by the core when TLS gives channel binding. */
  readonly mechanisms?: readonly string[];
  /** Receives one line per connection event. */
  readonly log?: (line: string) => void;
}

/** A running server. */
export interface RunningServer {
  readonly server: XmppServer;
  readonly router: Router;
  /** The ports actually bound. */
  readonly port: number | undefined;
  readonly directTlsPort: number | undefined;
  /** The certificate in use (PEM), for clients that must trust a generated one. */
  readonly certificate: string;
  /** Graceful stop: `<system-shutdown/>` to every client, then the listeners close. */
  close(): Promise<void>;
}

const DEFAULT_MECHANISMS = ["SCRAM-SHA-512", "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"];

/**
 * Starts the demo server: the Node adapter's `XmppServer` with SCRAM accounts and RFC 6120 §10 routing
 * between the connected clients. Everything here uses only the public API of the xmpp-sansio packages.
 *
 * @example
 * ```ts
 * const accounts = new AccountStore();
 * accounts.add("juliet", "r0m30myr0m30");
 * const running = await startServer({ domain: "im.example.com", accounts, port: 0 });
 * // … clients connect to 127.0.0.1:running.port, trusting running.certificate
 * await running.close();
 * ```
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const pair = options.tls ?? generateSelfSignedCertificate({ dnsNames: [options.domain, "localhost"] });
  const { accounts, domain } = options;
  const log = options.log ?? (() => {});
  const router = new Router({ serves: (d) => d === domain, accountExists: (u) => accounts.has(u) });
  const endpoints = new WeakMap<ServerConnection, Endpoint>();
  const endpointOf = (connection: ServerConnection): Endpoint | undefined => {
    let endpoint = endpoints.get(connection);
    if (!endpoint && connection.jid) {
      endpoint = { jid: connection.jid, deliver: (stanza) => connection.isOnline && connection.send(stanza) };
      endpoints.set(connection, endpoint);
    }
    return endpoint;
  };
  const serverOptions: XmppServerOptions = {
    domains: domain,
    tls: { cert: pair.cert, key: pair.key },
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 5222,
    ...(options.directTlsPort === undefined ? {} : { directTlsPort: options.directTlsPort }),
    session: { mechanisms: options.mechanisms ?? DEFAULT_MECHANISMS },
    resourceConflict: "assign-new",
    hooks: {
      serves: (d) => d === domain,
      scramCredentials: (username, mechanism) => accounts.scramKeys(username, hashOf(mechanism)) ?? null,
      verifyPassword: (username, password) => accounts.verifyPassword(username, password),
      stanza: (connection, stanza) => {
        const endpoint = endpointOf(connection);
        if (endpoint) router.route(endpoint, stanza);
      },
      online: (connection) => {
        const endpoint = endpointOf(connection);
        if (endpoint) router.online(endpoint);
        log(`online  ${connection.jid} from ${connection.remoteAddress}${connection.directTls ? " (direct TLS)" : ""}`);
      },
      offline: (connection) => {
        const endpoint = endpoints.get(connection);
        if (endpoint) router.offline(endpoint);
        log(`offline ${connection.jid}`);
      },
    },
  };
  const server = new XmppServer(serverOptions);
  server.on("hookError", (error, connection) => log(`error   connection ${connection.id}: ${String(error)}`));
  const ports = await server.listen();
  return {
    server,
    router,
    port: ports.port,
    directTlsPort: ports.directTlsPort,
    certificate: pair.cert,
    close: () => server.close(),
  };
}

function hashOf(mechanism: string): ScramHash {
  if (mechanism.startsWith("SCRAM-SHA-512")) return "SHA-512";
  if (mechanism.startsWith("SCRAM-SHA-256")) return "SHA-256";
  return "SHA-1";
}
