/**
 * `XmppClient`: the core's `ClientSession` over Node TCP/TLS, with discovery, STARTTLS, Direct TLS,
 * channel binding, timers, back-pressure, reconnect, promises and typed events.
 *
 * @module
 */
import { EventEmitter, once } from "node:events";
import * as net from "node:net";
import * as tls from "node:tls";
import {
  type BaseClientOptions,
  ClientController,
  type ClientSessionLike,
  ConnectionError,
  type IqHandler,
  type IqHandlers,
  type IqRequestType,
  type StanzaFilter,
  type StanzaListener,
  type XmppClientEvents,
} from "@xmpp-sansio/adapter";
import { type ClientEvent, type ClientOptions, type ConnectionCandidate, DEFAULT_CLIENT_PARTS, type LeanClientLifecycle, type LifecycleState, streamFraming, type TlsPolicy } from "@xmpp-sansio/core";
import type { Jid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import { channelBindingFromTlsSocket } from "./channel-binding.js";
import { nodeDeriveKey } from "./derive-key.js";
import { discoverEndpoints, type SrvResolver } from "./discovery.js";
import { monotonicNow, SocketDriver } from "./driver.js";
import { pooledRandom } from "./random-pool.js";
import { connectTls, restorePeerCertificate } from "./tls-connect.js";

export type { ClientCloseInfo, ClientSessionLike, XmppClientEvents } from "@xmpp-sansio/adapter";

/** TLS settings of the client (passed to `tls.connect`). The certificate is always checked against the JID's domain. */
export interface ClientTlsOptions {
  /** Trusted CA certificates (PEM), replacing Node's default bundle. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Default `true`. Turning it off makes the connection open to interception: tests only. */
  rejectUnauthorized?: boolean;
  /** Client certificate and key (SASL EXTERNAL). */
  cert?: string | Buffer;
  /** The private key of `cert` (PEM). */
  key?: string | Buffer;
  /** TLS version bounds, e.g. `"TLSv1.2"` to get `tls-unique`. */
  minVersion?: tls.SecureVersion;
  /** Highest TLS version to offer, e.g. `"TLSv1.2"` (with `minVersion`) to test TLS 1.2 channel binding. */
  maxVersion?: tls.SecureVersion;
  /** Anything else `tls.connect` accepts (`servername` and `socket` are set by the client). */
  extra?: Omit<tls.ConnectionOptions, "socket" | "servername" | "host" | "port">;
}

/** Options of {@link XmppClient}. */
export interface XmppClientOptions extends BaseClientOptions {
  /** Connect here instead of discovering (RFC 6120 §3.2): host name or IP. */
  host?: string;
  /** Port with `host`. Default 5222, or 5223 with `directTls`. */
  port?: number;
  /** With `host`: TLS from the first byte (XEP-0368) instead of STARTTLS. */
  directTls?: boolean;
  /** TLS settings. */
  tls?: ClientTlsOptions;
  /**
   * STARTTLS policy: `"required"` (default; a missing offer aborts, no stripping), `"optional"`, or
   * `"none"` (never TLS: a loopback test server). Ignored for Direct TLS.
   */
  starttls?: Exclude<TlsPolicy, "direct">;
  /** Further core options (mechanisms, timeouts, limits, `lang`, `random`…). */
  session?: Omit<ClientOptions, "jid" | "password" | "tls">;
  /** SRV lookups (inject for tests). Default `node:dns/promises`. */
  resolveSrv?: SrvResolver;
  /** XEP-0368: `true` tries `_xmpps-client` targets first, `false` `_xmpp-client` first; default mixed by priority. */
  preferDirectTls?: boolean;
  /** TCP connect (and Direct TLS handshake) timeout per candidate, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Socket `highWaterMark` for writes (bytes). Node's default if absent. */
  writableHighWaterMark?: number;
  /**
   * Sees every chunk of XML read (`"in"`) and written (`"out"`), after TLS decryption — for logs and
   * transcripts. Called synchronously; do not keep or modify the bytes.
   */
  trace?: (direction: "in" | "out", bytes: Uint8Array) => void;
  /** Called when STARTTLS or Direct TLS has secured the connection, with the TLS socket. */
  onSecure?: (socket: tls.TLSSocket) => void;
}

/**
 * An XMPP client connection over TCP/TLS.
 *
 * @example
 * ```ts
 * const client = new XmppClient({ jid: "juliet@example.com", password: "r0m30myr0m30" });
 * client.on("message", (m) => console.log(m.getChildText("body")));
 * const me = await client.online();
 * client.send(xml("message", { to: "romeo@example.net", type: "chat" }, xml("body", {}, "Art thou not Romeo?")));
 * await client.close();
 * ```
 */
export class XmppClient extends EventEmitter<XmppClientEvents> {
  /** Our address as configured (prepared). */
  readonly address: Jid;
  private readonly options: XmppClientOptions;
  /** The transport-independent client (promises, events, reconnect), shared with the other adapters. */
  private readonly core: ClientController<XmppClientOptions>;
  private driver: SocketDriver<ClientEvent> | undefined;

  /** @throws JidError for an invalid `jid`, TypeError for a JID without localpart */
  constructor(options: XmppClientOptions) {
    super();
    this.options = options;
    this.core = new ClientController(
      options,
      this,
      { connect: (redirect) => this.connect(redirect), redirectTarget: (target) => parseSeeOtherHost(target) === undefined ? undefined : target },
      { now: monotonicNow, deriveKey: nodeDeriveKey, parts: DEFAULT_CLIENT_PARTS, framing: streamFraming },
    );
    this.address = this.core.address;
  }

  /** The full JID while online, else undefined. */
  get jid(): Jid | undefined {
    return this.core.jid;
  }

  /** The SASL mechanism of the current connection, once authenticated (e.g. `SCRAM-SHA-1-PLUS`). */
  get mechanism(): string | undefined {
    return this.core.mechanism;
  }

  /** The current socket (a `tls.TLSSocket` once TLS is up), for inspection. */
  get socket(): net.Socket | undefined {
    return this.driver?.socket;
  }

  /** Whether the session is online (stanzas may be sent). */
  get isOnline(): boolean {
    return this.core.isOnline;
  }

  /**
   * Connects (on the first call) and resolves with the bound full JID once online. Rejects with
   * `AuthError`, `StreamErrorException` or `ConnectionError` if the first connection fails
   * (reconnection only applies to connections that were online).
   */
  online(): Promise<Jid> {
    return this.core.online();
  }

  /**
   * Sends a stanza: at once while online, queued (bounded, `maxQueued`) while reconnecting and sent after
   * resumption or binding. `acked`/`failed` events tell its fate when SM is on.
   * @throws ConnectionError before `online()` or after the client stopped; `QueueFullError` (core) when the queue is full
   */
  send(stanza: XmlElement): void {
    this.core.send(stanza);
  }

  /** The core's lifecycle of the current run (`state`, `queued`, `session`), for inspection. */
  get lifecycle(): LeanClientLifecycle | undefined {
    return this.core.lifecycle;
  }

  /** What a new process needs to resume this session and send the queue (`resume` option). JSON-safe. */
  exportState(): LifecycleState | undefined {
    return this.core.exportState();
  }

  /**
   * Sends an IQ request (`get`/`set`; an `id` is assigned if missing) and resolves with the `result`.
   * Rejects with `StanzaErrorException` for `type='error'`, `IqTimeoutError` on timeout (default
   * from the core, 30 s), `ConnectionError` if the connection ends first.
   */
  iq(iq: XmlElement, options: { timeoutMs?: number } = {}): Promise<XmlElement> {
    return this.core.iq(iq, options);
  }

  /**
   * Sends `<iq type='get'>` with `payload` (to `to`, default our server/account) and resolves with the
   * result's payload, or `undefined` for an empty result; rejects like `iq()`.
   */
  iqGet(payload: XmlElement, to?: string, options: { timeoutMs?: number } = {}): Promise<XmlElement | undefined> {
    return this.core.iqGet(payload, to, options);
  }

  /** Like {@link XmppClient.iqGet} with `<iq type='set'>`. */
  iqSet(payload: XmlElement, to?: string, options: { timeoutMs?: number } = {}): Promise<XmlElement | undefined> {
    return this.core.iqSet(payload, to, options);
  }

  /**
   * Answers IQ requests of `type` with payload `<name xmlns=ns/>`: the handler returns the result
   * payload, nothing, or a `StanzaError` (or throws a `StanzaErrorException`); async allowed. Requests no
   * handler takes are answered `<service-unavailable/>`; ping, disco#info and version are built in
   * (`iqAnswers` option). Returns the function that removes the handler.
   */
  onIq(type: IqRequestType, ns: string, name: string, handler: IqHandler): () => void {
    return this.core.onIq(type, ns, name, handler);
  }

  /** Calls `listener(message, child)` for each incoming message matching `filter` (type, child element). Returns the remover. */
  onMessage(filter: StanzaFilter, listener: StanzaListener): () => void {
    return this.core.onMessage(filter, listener);
  }

  /** Calls `listener(presence, child)` for each incoming presence matching `filter`. Returns the remover. */
  onPresence(filter: StanzaFilter, listener: StanzaListener): () => void {
    return this.core.onPresence(filter, listener);
  }

  /** The IQ handlers answering requests to this client (features, identities, `addFeature`). */
  get iqHandlers(): IqHandlers {
    return this.core.iqHandlers;
  }

  /**
   * Incoming stanzas as an async iterable, from now on. Ends when the client is closed for good (after
   * `close()`, or a drop without reconnection — then it throws that error). Stop early with `break`.
   */
  stanzas(): AsyncIterableIterator<XmlElement> {
    return this.core.stanzas();
  }

  /**
   * Closes gracefully: `</stream:stream>`, then waits for the peer's (or the core's close deadline), then
   * ends the socket. Resolves once the socket is closed. Cancels a pending reconnection.
   */
  close(): Promise<void> {
    return this.core.close();
  }

  private async candidates(): Promise<ConnectionCandidate[]> {
    const o = this.options;
    if (o.host !== undefined) return [{ host: o.host, port: o.port ?? (o.directTls ? 5223 : 5222), directTls: o.directTls === true }];
    const found = await discoverEndpoints(this.address.domain, {
      ...(o.resolveSrv === undefined ? {} : { resolveSrv: o.resolveSrv }),
      ...(o.preferDirectTls === undefined ? {} : { preferDirectTls: o.preferDirectTls }),
    });
    return found.candidates;
  }

  private hwm(): { highWaterMark?: number } {
    return this.options.writableHighWaterMark === undefined ? {} : { highWaterMark: this.options.writableHighWaterMark };
  }

  /** Whether the application checks the server's identity itself (it may want the detailed certificate). */
  private ownIdentityCheck(): boolean {
    return this.options.tls?.extra?.checkServerIdentity !== undefined;
  }

  private tlsOptions(): tls.ConnectionOptions {
    const t = this.options.tls ?? {};
    const domain = this.address.domain;
    // The certificate is checked against the JID's domain, never the host we resolved or were given.
    // SNI cannot carry an IP literal (RFC 6066 §3): then only the identity check names it.
    const out: tls.ConnectionOptions = net.isIP(domain.replace(/^\[|\]$/g, ""))
      ? { ...(t.extra ?? {}), checkServerIdentity: (_host, cert) => tls.checkServerIdentity(domain.replace(/^\[|\]$/g, ""), cert) }
      : { ...(t.extra ?? {}), servername: domain };
    if (t.ca !== undefined) out.ca = t.ca;
    if (t.rejectUnauthorized !== undefined) out.rejectUnauthorized = t.rejectUnauthorized;
    if (t.cert !== undefined) out.cert = t.cert;
    if (t.key !== undefined) out.key = t.key;
    if (t.minVersion !== undefined) out.minVersion = t.minVersion;
    if (t.maxVersion !== undefined) out.maxVersion = t.maxVersion;
    return out;
  }

  /** Opens a socket to the first candidate that answers (TCP, plus the TLS handshake for Direct TLS). */
  private async open(candidates: ConnectionCandidate[]): Promise<{ socket: net.Socket; candidate: ConnectionCandidate }> {
    if (candidates.length === 0) throw new ConnectionError("no-service", `${this.address.domain} offers no XMPP client service (SRV target ".")`);
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    let lastError: unknown;
    for (const candidate of candidates) {
      const endpoint = `${candidate.host}:${candidate.port}`;
      const hwm = this.hwm();
      let socket: net.Socket;
      if (candidate.directTls) {
        socket = connectTls({ ...this.tlsOptions(), host: candidate.host, port: candidate.port, ALPNProtocols: ["xmpp-client"], ...hwm }, this.ownIdentityCheck());
      } else socket = net.connect({ host: candidate.host, port: candidate.port, allowHalfOpen: true, ...hwm });
      // Nagle's algorithm off: a login is a string of small request/answer writes, and after a TLS 1.3
      // handshake our first write follows our Finished at once — held until the server ACKs it (≈40 ms of
      // delayed ACK on Linux) whenever the server has nothing to send back first (no session tickets).
      socket.setNoDelay(true);
      try {
        await once(socket, candidate.directTls ? "secureConnect" : "connect", { signal: AbortSignal.timeout(timeoutMs) });
        if (candidate.directTls) restorePeerCertificate(socket as tls.TLSSocket);
        return { socket, candidate };
      } catch (err) {
        socket.on("error", () => {});
        socket.destroy();
        const code = (err as { name?: string }).name === "AbortError" ? "timeout" : candidate.directTls && isTlsError(err) ? "tls-failed" : "connect-failed";
        lastError = new ConnectionError(code, `could not connect to ${endpoint}: ${(err as Error).message}`, { cause: err, endpoint });
        if (code === "tls-failed") break; // a certificate problem is not solved by another address
      }
    }
    throw lastError instanceof Error ? lastError : new ConnectionError("connect-failed", "could not connect");
  }

  private async connect(redirect: string | undefined): Promise<void> {
    const target = redirect === undefined ? undefined : parseSeeOtherHost(redirect);
    const { socket, candidate } = await this.open(target === undefined ? await this.candidates() : [{ host: target.host, port: target.port, directTls: false }]);
    if (this.core.closedByUser) {
      socket.destroy();
      throw new ConnectionError("closed", "closed before the connection was established");
    }
    const endpoint = `${candidate.host}:${candidate.port}`;
    const tlsPolicy: TlsPolicy = candidate.directTls ? "direct" : (this.options.starttls ?? "required");
    const sessionOptions: Omit<ClientOptions, "jid" | "password"> = { random: pooledRandom, ...(this.options.session ?? {}), tls: tlsPolicy };
    let driver: SocketDriver<ClientEvent>;
    try {
      driver = new SocketDriver<ClientEvent>({
        socket,
        side: "client",
        createPump: (io) => this.core.attach(sessionOptions, { ...io, closeTransport: io.onClosed }),
        upgrade: (plain) => connectTls({ ...this.tlsOptions(), ...this.hwm(), socket: plain }, this.ownIdentityCheck()),
        onTlsError: (err) => this.core.transportError(new ConnectionError("tls-failed", `TLS handshake failed: ${err.message}`, { cause: err, endpoint })),
        onSocketClose: (err) => {
          this.core.transportEnded(driver.pump, err);
        },
        ...(this.options.trace ? { trace: this.options.trace } : {}),
        onSecure: (secure) => {
          restorePeerCertificate(secure);
          this.options.onSecure?.(secure);
        },
        onInternalError: (err) => this.core.transportError(new ConnectionError("closed", `internal error: ${(err as Error)?.message ?? String(err)}`, { cause: err })),
      });
    } catch (err) {
      socket.destroy(); // invalid options (e.g. a JID without localpart): nothing to say on the wire
      throw err;
    }
    this.driver = driver;
    driver.interact((s, now) => {
      if (candidate.directTls) this.options.onSecure?.(socket as tls.TLSSocket);
      if (candidate.directTls) s.tlsEstablished({ channelBinding: channelBindingFromTlsSocket(socket as tls.TLSSocket, "client") }, now);
      (s as ClientSessionLike).start(now);
    });
  }
}

/** A `see-other-host` redirect as the controller passes it (`xmpp:host[:port]`, RFC 6120 §4.9.3.19). */
function parseSeeOtherHost(target: string): { host: string; port: number } | undefined {
  const m = /^xmpp:(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(target);
  if (m === null) return undefined;
  const port = m[2] === undefined ? 5222 : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

function isTlsError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? "";
  return code.startsWith("ERR_TLS") || code.startsWith("ERR_SSL") || /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME/.test(code);
}
