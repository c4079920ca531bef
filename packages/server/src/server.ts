import { randomBytes } from "node:crypto";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import {
  type FastTokenStore,
  type HtMechanism,
  MemoryFastTokenStore,
  type FeatureEvent,
  iqAuthFeature,
  iqAuthRequestOf,
  iqAuthServer,
  registerFeature,
  registerRequestOf,
  registerServer,
  resolveResourceConflict,
  type ServerOptions,
  type SmState,
  type StreamErrorCondition,
  streamManagement,
} from "@xmpp-sansio/core";
import type { Jid } from "@xmpp-sansio/jid";
import { authFailureLine, type ServerLimits, streamManagementOf, XmppServer, type XmppServerOptions } from "@xmpp-sansio/node";
import type { ScramHash } from "@xmpp-sansio/sasl";
import type { XmppWebSocketServer } from "@xmpp-sansio/websocket/server";
import type { XmlElement } from "@xmpp-sansio/xml";
import type { AccountStore } from "./accounts.js";
import { type CertificatePair, generateSelfSignedCertificate } from "./certificate.js";
import type { ImServerOptions } from "@xmpp-sansio/im";
import { type Federation, type FederationOptions, startFederation } from "./federation.js";
import { ImRouter } from "./im-router.js";
import { ComponentHub, type ComponentsOptions } from "./components.js";
import { type OfflineStoreHook, SessionTable } from "./resumption.js";
import { Router } from "./router.js";
import type { Storage } from "./store/types.js";

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
  /**
   * Also serve XMPP over WebSocket (RFC 7395) on this port (0 for an ephemeral one), with the same
   * accounts, hooks and router as the TCP ports, so TCP and WebSocket clients reach each other.
   */
  readonly websocket?: WebSocketListenOptions;
  /** SASL mechanisms offered, strongest first. -PLUS variants are added by the core when TLS gives channel binding. */
  readonly mechanisms?: readonly string[];
  /** Receives one line per connection event. */
  readonly log?: (line: string) => void;
  /**
   * XEP-0198 Stream Management on every c2s session (TCP and WebSocket): acknowledgements and resumption.
   * Default on (`true` = the defaults below); `false` turns it off (`<enable/>` is then answered with the
   * RFC's `<unsupported-stanza-type/>`, as by any server without it).
   */
  readonly streamManagement?: boolean | StreamManagementSettings;
  /**
   * Offline storage (XEP-0160) for `chat`/`normal` messages that reached nobody because the session they
   * were sent to ended unacknowledged (XEP-0198 §6) or expired while detached: return `true` (or a promise
   * of it) when stored — then the sender gets no error. Without it the sender gets `<service-unavailable/>`.
   */
  readonly offlineStore?: OfflineStoreHook;
  /**
   * Load limits of every listener (outbound queue per connection, read rates, connections and login
   * attempts per IP). Default: the adapter's defaults (docs/server.md, "Load limits").
   */
  readonly limits?: ServerLimits;
  /**
   * The database: with it the server is an IM server (RFC 6121 rosters, subscriptions, presence
   * broadcast, XEP-0160 offline messages, XEP-0191 blocking, vcard-temp, private XML, carbons) — see
   * docs/server.md, "IM". Without it, the plain RFC 6120 §10 router (no rosters, no offline storage).
   * Messages of expired XEP-0198 sessions then go to its offline store (`offlineStore` is not used).
   * `accounts` must then keep its records in the same storage (`new AccountStore({ records: storage.accounts })`).
   */
  readonly storage?: Storage;
  /** Options of the IM logic (offline limit, roster size, …), with `storage`. */
  readonly im?: ImServerOptions;
  /**
   * XEP-0077 in-band registration of new accounts (over TLS). Default false: not offered, and a request
   * gets `<service-unavailable/>`. Password change and account removal after login are always on; removal
   * ends the account's other sessions.
   */
  readonly allowRegistration?: boolean;
  /**
   * XEP-0078 `jabber:iq:auth` (obsolete; the seed's use case 2). Default false. Loaded with
   * `digest: false`: the accounts keep only SCRAM keys, so only the plaintext password over TLS works.
   */
  readonly iqAuth?: boolean;
  /**
   * XEP-0388 SASL2 with XEP-0386 Bind2 and XEP-0484 FAST tokens, beside RFC 6120 SASL, on every listener.
   * Default on (`true` = the defaults below); `false` offers RFC 6120 SASL only. See docs/server.md,
   * "SASL2, Bind2, FAST".
   */
  readonly sasl2?: boolean | Sasl2Settings;
  /**
   * External components (XEP-0114): a component port with per-domain secrets; stanzas to a component's
   * domain go to it, its stanzas into the normal routing. Default off. See docs/server.md, "Components".
   */
  readonly components?: ComponentsOptions;
  /**
   * Federation (server-to-server, RFC 6120 §10.4): stanzas to other domains leave through s2s streams
   * (SASL EXTERNAL with certificates, else dialback), inbound s2s stanzas reach local users, and the IM
   * rules (subscriptions, presence, offline storage) work across domains. Default off: remote domains get
   * `<remote-server-not-found/>`. See docs/federation.md.
   */
  readonly federation?: FederationOptions;
}

/** SASL2 settings of {@link startServer}. */
export interface Sasl2Settings {
  /**
   * Offer Bind2 inline binding. Default true. With Bind2 the server picks the resource (`tag.<hash>`,
   * XEP-0386 §2.3), so clients that ask for a fixed resource (ours, xmpp.js) get another one.
   */
  readonly bind2?: boolean;
  /**
   * FAST tokens. Default on: records in `storage.fastTokens` when the storage has them (SQLite: they
   * survive a restart, with a persistent `secret`), else in memory; `false` turns FAST off.
   */
  readonly fast?: false | FastSettings;
}

/** FAST settings of {@link startServer}. */
export interface FastSettings {
  /** Where the token records go. Default `storage.fastTokens`, else a {@link MemoryFastTokenStore}. */
  readonly store?: FastTokenStore;
  /**
   * The key tokens are derived from (≥ 32 bytes), kept outside the token store. Default 32 random bytes
   * drawn at start (every token dies with the process); `loadOrCreateFastKey(dataDir)` gives a persistent one.
   */
  readonly secret?: Uint8Array;
  /** Token lifetime in ms. Default 14 days. */
  readonly ttlMs?: number;
  /** HT mechanisms offered (those whose channel binding the connection has). Default all four. */
  readonly mechanisms?: readonly HtMechanism[];
}

/** Stream Management settings of {@link startServer}. */
export interface StreamManagementSettings {
  /** The most seconds a detached session is kept for resumption (and the `max` granted). Default 300. */
  readonly maxResumeSeconds?: number;
  /** Most detached sessions kept at once; past it the one expiring first ends early. Default 10 000. */
  readonly maxDetached?: number;
  /** Most stanzas held per detached session (unacknowledged plus new ones); more are undeliverable. Default 500. */
  readonly maxHeldStanzas?: number;
}

/** The WebSocket listener of {@link startServer}. */
export interface WebSocketListenOptions {
  /** Port of the HTTP server that accepts the WebSocket upgrade. 0 for an ephemeral port. */
  readonly port: number;
  /** Upgrade path. Default `/xmpp-websocket` (the name XEP-0156 examples and Prosody use). */
  readonly path?: string;
  /**
   * Serve `wss:` (HTTPS with the server's certificate) instead of `ws:`. Default false: plain `ws:`, for
   * loopback or behind a TLS-terminating proxy — SCRAM is still offered there, PLAIN is not (the core's
   * no-TLS policy).
   */
  readonly tls?: boolean;
}

/** A running server. */
export interface RunningServer {
  /** The TCP listener (STARTTLS on `port`, Direct TLS on `directTlsPort`). */
  readonly server: XmppServer;
  /** The router: an {@link ImRouter} when `storage` was given, the plain {@link Router} otherwise. */
  readonly router: Router | ImRouter;
  /** The sessions as the router sees them, with the detached XEP-0198 sessions. */
  readonly sessions: SessionTable<HookConnection>;
  /** The ports actually bound. */
  readonly port: number | undefined;
  /** The Direct TLS port (XEP-0368), when one was asked for. */
  readonly directTlsPort: number | undefined;
  /** The WebSocket server, when `websocket` was given. */
  readonly websocket: XmppWebSocketServer | undefined;
  /** The WebSocket port bound, when `websocket` was given. */
  readonly websocketPort: number | undefined;
  /** The WebSocket URL for clients on this host (`ws://host:port/path` or `wss://…`), when `websocket` was given. */
  readonly websocketUrl: string | undefined;
  /** The certificate in use (PEM), for clients that must trust a generated one. */
  readonly certificate: string;
  /**
   * Replaces the certificate and key on every TLS listener (STARTTLS, Direct TLS, `wss:`, and federation's
   * s2s streams unless `federation.tls` gave them a certificate of their own): connections accepted from
   * now on get it, open ones keep theirs. Throws, changing nothing, when the pair does not load (bad PEM, a
   * key that does not match). The CLI calls it on SIGHUP.
   */
  setCertificate(pair: CertificatePair): void;
  /** The component listener and its routing, when `components` was given. */
  readonly components: ComponentHub | undefined;
  /** The component port bound, when `components` was given. */
  readonly componentPort: number | undefined;
  /** Federation, when the `federation` option was given (its s2s manager and port). */
  readonly federation: Federation | undefined;
  /** Graceful stop: `<system-shutdown/>` to every client (TCP and WebSocket), then the listeners close. */
  close(): Promise<void>;
}

const NS_CARBONS = "urn:xmpp:carbons:2";
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
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => {});
  const mechanisms = options.mechanisms ?? DEFAULT_MECHANISMS;
  // One router for every transport: a TCP client and a WebSocket client are just two endpoints.
  const storage = options.storage;
  const components =
    options.components === undefined ? undefined : new ComponentHub({ ...options.components, domain, log, route: (sender, stanza) => router.route(sender, stanza) });
  const external = components === undefined ? {} : { routeExternal: components.routeExternal };
  // Federation: stanzas to remote domains go out through s2s (set up below, once the router exists); the
  // routers ask the components first.
  let federation: Federation | undefined;
  const remote = options.federation === undefined ? {} : { remote: (stanza: XmlElement) => federation!.send(stanza) };
  const imRouter =
    storage === undefined ? undefined : new ImRouter({ domain, storage, ...(options.im === undefined ? {} : { im: options.im }), ...external, ...remote });
  const router: Router | ImRouter = imRouter ?? new Router({ serves: (d) => d === domain, accountExists: (u) => accounts.hasPrepared(u), ...external, ...remote });
  if (options.federation !== undefined) federation = await startFederation({ domain, options: options.federation, tls: pair, host, router: () => router, log });
  // With the IM router a re-routed message it stored offline is done; anything else goes to the store directly.
  const offlineStore: OfflineStoreHook | undefined =
    imRouter === undefined ? options.offlineStore : (stanza) => imRouter.takeStoredOffline() || imRouter.storeOffline(stanza);
  const sm = options.streamManagement === false ? undefined : options.streamManagement === true ? {} : (options.streamManagement ?? {});
  // One endpoint per full JID, stable across XEP-0198 resumptions, shared by every transport.
  const sessions = new SessionTable<HookConnection>({
    router,
    domain,
    smOf: (connection) => streamManagementOf(connection),
    log,
    ...(sm?.maxDetached === undefined ? {} : { maxDetached: sm.maxDetached }),
    ...(sm?.maxHeldStanzas === undefined ? {} : { maxHeldStanzas: sm.maxHeldStanzas }),
    ...(offlineStore === undefined ? {} : { offlineStore }),
  });
  const features = [
    ...(sm === undefined ? [] : [streamManagement({ maxResumeSeconds: sm.maxResumeSeconds ?? 300 })]),
    registerFeature({ server: { registration: options.allowRegistration === true } }),
    ...(options.iqAuth === true ? [iqAuthFeature({ server: { digest: false } })] : []),
  ];
  const s2 = options.sasl2 === false ? undefined : options.sasl2 === true || options.sasl2 === undefined ? {} : options.sasl2;
  const fast = s2 === undefined || s2.fast === false ? undefined : (s2.fast ?? {});
  const sasl2: ServerOptions["sasl2"] =
    s2 === undefined
      ? undefined
      : {
          bind2: s2.bind2 !== false,
          // XEP-0280 carbons exist with the IM router: offered inline in Bind2 (XEP-0386 §2.4).
          ...(imRouter === undefined ? {} : { bind2Inline: [NS_CARBONS] }),
          ...(fast === undefined
            ? {}
            : {
                fast: {
                  secret: fast.secret ?? new Uint8Array(randomBytes(32)),
                  store: fast.store ?? options.storage?.fastTokens ?? new MemoryFastTokenStore(),
                  wallClock: () => Date.now(),
                  ...(fast.ttlMs === undefined ? {} : { ttlMs: fast.ttlMs }),
                  ...(fast.mechanisms === undefined ? {} : { mechanisms: fast.mechanisms }),
                },
              }),
        };
  const sessionOptions: Omit<ServerOptions, "tls" | "defaultDomain"> = { mechanisms, features, ...(sasl2 === undefined ? {} : { sasl2 }) };
  // The online connections of each account: an account removal ends the others (XEP-0077 §3.2).
  const byAccount = new Map<string, Set<HookConnection>>();
  // Carbons enabled inline in Bind2, for connections whose `online` has not run yet.
  const carbonsPending = new WeakSet<HookConnection>();
  const feature = (connection: HookConnection, ev: FeatureEvent): FeatureAnswer | undefined => {
    if (ev.feature === "sasl2" && ev.name === "bind2-inline") {
      const carbons = (ev.data as readonly XmlElement[]).some((e) => e.name === "enable" && e.ns === NS_CARBONS);
      if (carbons && (connection.jid === undefined || imRouter?.enableCarbons(connection.jid) !== true)) carbonsPending.add(connection);
      return undefined;
    }
    const reg = registerRequestOf(ev);
    if (reg !== undefined) {
      let ok = false;
      try {
        if (reg.action === "register") ok = accounts.create(reg.username, reg.password);
        else if (reg.action === "change-password") {
          accounts.add(reg.username, reg.password);
          storage?.fastTokens?.invalidateUser(reg.username); // a new password ends every FAST token
          ok = true;
        } else ok = accounts.remove(reg.username);
      } catch {
        return (s) => withHalves(s, (h) => registerServer(h)?.answer({ refuse: "not-acceptable" }));
      }
      if (reg.action === "remove" && ok) {
        log(`removed account ${reg.username}`);
        for (const other of byAccount.get(reg.username) ?? []) if (other !== connection) void other.closeWithError("not-authorized", "the account was removed");
      } else if (reg.action === "register" && ok) log(`registered account ${reg.username}`);
      const answer = ok ? { ok: true as const } : { refuse: reg.action === "register" ? ("conflict" as const) : ("internal-server-error" as const) };
      return (s) => withHalves(s, (h) => registerServer(h)?.answer(answer));
    }
    const auth = iqAuthRequestOf(ev);
    if (auth !== undefined) {
      const ok = "password" in auth && accounts.verifyPassword(auth.username, auth.password);
      return (s) => withHalves(s, (h) => iqAuthServer(h)?.answer(ok ? { accept: true } : { refuse: "not-authorized" }));
    }
    return undefined;
  };
  // The same hooks serve both servers; only the label in the log differs.
  const hooksFor = (transport: (connection: HookConnection) => string) => ({
    serves: (d: string) => d === domain,
    scramCredentials: (username: string, mechanism: string) => accounts.scramKeys(username, hashOf(mechanism)) ?? null,
    verifyPassword: (username: string, password: string) => accounts.verifyPassword(username, password),
    // One policy over every transport's sessions (each listener alone sees only its own connections).
    bind: (username: string, resource: string) => resolveResourceConflict(resource, sessions.resourcesInUse(`${username}@${domain}`), "assign-new"),
    stanza: (connection: HookConnection, stanza: XmlElement) => {
      const endpoint = sessions.endpointOf(connection);
      if (endpoint) router.route(endpoint, stanza);
    },
    feature,
    online: (connection: HookConnection, info: { readonly resumed: boolean }) => {
      if (connection.username !== undefined) {
        let set = byAccount.get(connection.username);
        if (set === undefined) byAccount.set(connection.username, (set = new Set()));
        set.add(connection);
      }
      sessions.online(connection, info);
      if (carbonsPending.delete(connection) && connection.jid !== undefined) imRouter?.enableCarbons(connection.jid);
      log(`${info.resumed ? "resumed" : "online "} ${connection.jid} from ${connection.remoteAddress} (${transport(connection)}, ${connection.mechanism})`);
    },
    offline: (connection: HookConnection) => {
      const set = connection.username === undefined ? undefined : byAccount.get(connection.username);
      set?.delete(connection);
      if (set?.size === 0) byAccount.delete(connection.username!);
      // A detached session stays online for the router until it expires; a taken-over one lives on elsewhere.
      if (sessions.offline(connection) === "offline") log(`offline ${connection.jid}`);
    },
    resume: (previd: string, h: number, connection: HookConnection) => sessions.resume(previd, h, connection),
    detached: (connection: HookConnection, state: SmState) => sessions.detached(connection, state),
    undelivered: (connection: HookConnection, stanzas: readonly XmlElement[]) => sessions.undelivered(connection, stanzas),
    // A slow reader's queue overflowed: what it held takes the offline path (here: errors to the senders).
    undeliverable: (_connection: HookConnection, stanzas: readonly XmlElement[]) => router.undeliverable(stanzas),
  });
  const limitLog = (connection: HookConnection, condition: string, text: string) =>
    log(`limit   connection ${connection.id} from ${connection.remoteAddress}: ${condition}: ${text}`);
  const authLog = (connection: HookConnection, username: string | undefined, condition: string) =>
    log(`auth    ${authFailureLine(username, connection.remoteAddress, condition)}`);
  const serverOptions: XmppServerOptions = {
    domains: domain,
    tls: { cert: pair.cert, key: pair.key },
    host,
    port: options.port ?? 5222,
    ...(options.directTlsPort === undefined ? {} : { directTlsPort: options.directTlsPort }),
    session: sessionOptions,
    resourceConflict: "assign-new",
    hooks: hooksFor((c) => (c.directTls ? "direct TLS" : "STARTTLS")),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  };
  const server = new XmppServer(serverOptions);
  server.on("hookError", (error, connection) => log(`error   connection ${connection.id}: ${String(error)}`));
  server.on("authFailed", authLog);
  server.on("limit", limitLog);
  const ports = await server.listen().catch(async (error: unknown) => {
    await federation?.close();
    throw error;
  });
  let componentPort: number | undefined;
  try {
    componentPort = await components?.listen();
  } catch (error) {
    await Promise.all([server.close(), federation?.close()]);
    sessions.close();
    throw error;
  }

  let websocket: XmppWebSocketServer | undefined;
  let websocketPort: number | undefined;
  let websocketUrl: string | undefined;
  let https: HttpsServer | undefined;
  if (options.websocket !== undefined) {
    const ws = options.websocket;
    const path = ws.path ?? "/xmpp-websocket";
    try {
      // Loaded on demand: `ws` is only needed when the WebSocket listener is wanted.
      const { XmppWebSocketServer } = await import("@xmpp-sansio/websocket/server");
      if (ws.tls === true) https = createHttpsServer({ cert: pair.cert, key: pair.key }, (_req, res) => res.writeHead(426, { upgrade: "websocket" }).end());
      websocket = new XmppWebSocketServer({
        domains: domain,
        path,
        ...(https === undefined ? { host, port: ws.port } : { server: https, secure: true }),
        session: sessionOptions,
        resourceConflict: "assign-new",
        hooks: hooksFor(() => (ws.tls === true ? "WebSocket wss" : "WebSocket ws")),
        ...(options.limits === undefined ? {} : { limits: options.limits }),
      });
      websocket.on("hookError", (error, connection) => log(`error   connection ws-${connection.id}: ${String(error)}`));
      websocket.on("authFailed", authLog);
      websocket.on("limit", limitLog);
      if (https === undefined) {
        websocketPort = (await websocket.listen()).port;
      } else {
        const h = https;
        await new Promise<void>((resolve, reject) => {
          h.once("error", reject);
          h.listen(ws.port, host, () => {
            h.off("error", reject);
            resolve();
          });
        });
        websocketPort = websocket.address().port;
      }
      const hostPart = host.includes(":") ? `[${host}]` : host;
      websocketUrl = `${https === undefined ? "ws" : "wss"}://${hostPart}:${websocketPort}${path}`;
    } catch (error) {
      await websocket?.close();
      if (https?.listening) await new Promise<void>((r) => https?.close(() => r()));
      await components?.close();
      await server.close();
      await federation?.close();
      sessions.close();
      throw error;
    }
  }

  let certificate = pair.cert;
  return {
    server,
    router,
    sessions,
    port: ports.port,
    directTlsPort: ports.directTlsPort,
    websocket,
    websocketPort,
    websocketUrl,
    get certificate() {
      return certificate;
    },
    setCertificate: (next: CertificatePair) => {
      server.setSecureContext({ cert: next.cert, key: next.key }); // throws first when the pair is bad
      https?.setSecureContext({ cert: next.cert, key: next.key });
      if (options.federation !== undefined && options.federation.tls === undefined) federation?.manager.setCertificate(next);
      certificate = next.cert;
    },
    components,
    componentPort,
    federation,
    close: async () => {
      await Promise.all([server.close(), websocket?.close(), components?.close(), federation?.close()]);
      if (https?.listening) {
        const h = https;
        h.closeAllConnections();
        await new Promise<void>((r) => h.close(() => r()));
      }
      // Sessions detached by the shutdown end now: their stanzas go to offline storage or back as errors.
      sessions.close();
    },
  };
}

/** What the hooks use of a connection: members that the TCP and the WebSocket connections both have. */
export interface HookConnection {
  /** A process-unique connection number, for logs. */
  readonly id: number;
  /** The bound full JID, once online. */
  readonly jid: Jid | undefined;
  /** The authenticated account (localpart), once authenticated. */
  readonly username: string | undefined;
  /** Whether resource binding completed and the stream is still open. */
  readonly isOnline: boolean;
  /** The peer's IP address, if known (logged with failed logins). */
  readonly remoteAddress: string | undefined;
  /** The SASL mechanism the client authenticated with. */
  readonly mechanism: string | undefined;
  /** True on a Direct TLS connection (XEP-0368), false or absent with STARTTLS or WebSocket. */
  readonly directTls?: boolean;
  /** @internal the adapter's pump, for `streamManagementOf` */
  readonly pump: Parameters<typeof streamManagementOf>[0]["pump"];
  /** Sends a stanza to this client (only while online). */
  send(stanza: XmlElement): void;
  /** Ends the stream with a stream error (RFC 6120 §4.9); resolves once the connection is closed. */
  closeWithError(condition: StreamErrorCondition, text?: string): Promise<void>;
}

/** What the `feature` hook returns: the answer to run on the session. */
type FeatureAnswer = (session: { featureHalf?(name: string): unknown }) => void;

/** Runs `fn` on a session that has feature halves (the core's `ServerSession` always has). */
function withHalves(session: { featureHalf?(name: string): unknown }, fn: (s: { featureHalf(name: string): unknown }) => void): void {
  const featureHalf = session.featureHalf;
  if (featureHalf !== undefined) fn({ featureHalf: (name) => featureHalf.call(session, name) });
}

function hashOf(mechanism: string): ScramHash {
  if (mechanism.startsWith("SCRAM-SHA-512")) return "SHA-512";
  if (mechanism.startsWith("SCRAM-SHA-256")) return "SHA-256";
  return "SHA-1";
}
