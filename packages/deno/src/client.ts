/**
 * `XmppClient` for Deno: the core's `ClientSession` over `Deno.connect` + `Deno.startTls` (STARTTLS) or
 * `Deno.connectTls` with ALPN `xmpp-client` (XEP-0368 Direct TLS), with SRV discovery through
 * `Deno.resolveDns`. Same API and typed errors as `@xmpp-sansio/node` and `@xmpp-sansio/websocket`.
 *
 * Channel binding: Deno exposes neither `tls-exporter` nor `tls-unique` nor the peer certificate, so
 * none is advertised and SCRAM-*-PLUS is never chosen (rather than a broken -PLUS).
 *
 * @module
 */
import { type BaseClientOptions, ConnectionError, SessionClient, type SessionPump } from "@xmpp-sansio/adapter";
import { type ClientEvent, type ClientOptions, type ConnectionCandidate, connectionCandidates, DEFAULT_CLIENT_PARTS, type SrvRecord, streamFraming, type TlsPolicy } from "@xmpp-sansio/core";
import { type DenoConn, deno, writeAll } from "./deno-api.js";

/** Options of the Deno {@link XmppClient}. */
export interface XmppClientOptions extends BaseClientOptions {
  /** Connect here instead of discovering (RFC 6120 §3.2): host name or IP. */
  host?: string;
  /** Port with `host`. Default 5222, or 5223 with `directTls`. */
  port?: number;
  /** With `host`: TLS from the first byte (XEP-0368) instead of STARTTLS. */
  directTls?: boolean;
  /** TLS settings. The certificate is always checked against the JID's domain. */
  tls?: {
    /** Trusted CA certificates (PEM), in addition to Deno's default roots. */
    caCerts?: string[];
  };
  /** STARTTLS policy: `"required"` (default), `"optional"`, or `"none"` (a loopback test server). */
  starttls?: Exclude<TlsPolicy, "direct">;
  /** Further core options (mechanisms, timeouts, limits, `lang`, `random`…). */
  session?: Omit<ClientOptions, "jid" | "password" | "tls" | "framing">;
  /** XEP-0368 ordering: `true` tries `_xmpps-client` first, `false` `_xmpp-client` first. */
  preferDirectTls?: boolean;
  /** TCP connect (and Direct TLS handshake) timeout per candidate, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** SRV lookups (inject for tests). Default `Deno.resolveDns(name, "SRV")`. */
  resolveSrv?: (name: string) => Promise<SrvRecord[]>;
}

const READ_SIZE = 16 * 1024;

function withTimeout<T>(p: Promise<T>, ms: number, onLate: (value: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const t = setTimeout(() => {
      done = true;
      reject(new Error(`timed out after ${ms} ms`));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(t);
        if (done) onLate(v);
        else resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        if (!done) reject(e);
      },
    );
  });
}

/**
 * An XMPP client over TCP/TLS on Deno.
 *
 * @example
 * ```ts
 * import { XmppClient } from "@xmpp-sansio/deno";
 * const client = new XmppClient({ jid: "juliet@example.com", password: "r0m30myr0m30" });
 * await client.online();
 * for await (const stanza of client.stanzas()) console.log(stanza.name);
 * ```
 */
export class XmppClient extends SessionClient<XmppClientOptions> {
  /** @throws JidError for an invalid `jid`, TypeError for a JID without localpart */
  constructor(options: XmppClientOptions) {
    super(options, { parts: DEFAULT_CLIENT_PARTS, framing: streamFraming });
  }

  private async candidates(): Promise<ConnectionCandidate[]> {
    const o = this.options;
    if (o.host !== undefined) return [{ host: o.host, port: o.port ?? (o.directTls ? 5223 : 5222), directTls: o.directTls === true }];
    const domain = this.address.domain;
    const resolve =
      o.resolveSrv ??
      (async (name: string) => (await deno().resolveDns(name, "SRV")).map((r) => ({ name: r.target.replace(/\.$/, ""), port: r.port, priority: r.priority, weight: r.weight })));
    const lookup = async (name: string) => {
      try {
        return await resolve(name);
      } catch {
        return undefined; // RFC 6120 §3.2.1: no records → fall back
      }
    };
    const [srvClientTls, srvClient] = await Promise.all([lookup(`_xmpps-client._tcp.${domain}`), lookup(`_xmpp-client._tcp.${domain}`)]);
    return connectionCandidates({
      domain,
      srvClient,
      srvClientTls,
      random: () => crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32,
      ...(o.preferDirectTls === undefined ? {} : { preferDirectTls: o.preferDirectTls }),
    });
  }

  private async open(candidates: ConnectionCandidate[]): Promise<{ conn: DenoConn; candidate: ConnectionCandidate }> {
    if (candidates.length === 0) throw new ConnectionError("no-service", `${this.address.domain} offers no XMPP client service (SRV target ".")`);
    const d = deno();
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    const caCerts = this.options.tls?.caCerts;
    let lastError: unknown;
    for (const candidate of candidates) {
      const endpoint = `${candidate.host}:${candidate.port}`;
      try {
        if (candidate.directTls) {
          const opening = (async () => {
            const tls = await d.connectTls({ hostname: candidate.host, port: candidate.port, alpnProtocols: ["xmpp-client"], ...(caCerts === undefined ? {} : { caCerts }) });
            try {
              await tls.handshake();
            } catch (err) {
              tls.close();
              throw err;
            }
            return tls;
          })();
          return { conn: await withTimeout(opening, timeoutMs, (c) => c.close()), candidate };
        }
        return { conn: await withTimeout(d.connect({ hostname: candidate.host, port: candidate.port }), timeoutMs, (c) => c.close()), candidate };
      } catch (err) {
        const tlsFailure = candidate.directTls && /certificate|tls|handshake|alert/i.test(String((err as Error).message));
        lastError = new ConnectionError(tlsFailure ? "tls-failed" : "connect-failed", `could not connect to ${endpoint}: ${(err as Error).message}`, { cause: err, endpoint });
        if (tlsFailure) break;
      }
    }
    throw lastError instanceof Error ? lastError : new ConnectionError("connect-failed", "could not connect");
  }

  protected override async connectOnce(): Promise<void> {
    const { conn: first, candidate } = await this.open(await this.candidates());
    if (this.closedByUser) {
      first.close();
      throw new ConnectionError("closed", "closed before the connection was established");
    }
    const endpoint = `${candidate.host}:${candidate.port}`;
    let conn = first;
    let writeChain: Promise<void> = Promise.resolve();
    let closed = false;
    let upgrading = false;
    const closeConn = () => {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch {
        // already closed
      }
    };
    const policy: TlsPolicy = candidate.directTls ? "direct" : (this.options.starttls ?? "required");
    const pump: SessionPump<ClientEvent> = this.attach(
      { ...(this.options.session ?? {}), tls: policy },
      {
        write: (data) => {
          const copy = data.slice();
          const target = conn;
          writeChain = writeChain.then(() => writeAll(target, copy)).catch((err: Error) => {
            this.transportError(new ConnectionError("connection-lost", `write to ${endpoint} failed: ${err.message}`, { cause: err, endpoint }));
            closeConn();
          });
        },
        // The session is over and its output queued: close once the writes are out.
        closeTransport: () => {
          void writeChain.then(closeConn);
        },
        onStartTls: (tlsBytes) => {
          upgrading = true;
          if (tlsBytes.length > 0) {
            // The server sent TLS bytes before our ClientHello: impossible in a correct exchange, and Deno
            // cannot hand buffered bytes to its TLS layer. Refuse rather than guess.
            this.transportError(new ConnectionError("tls-failed", "data after <proceed/> before the TLS handshake", { endpoint }));
            closeConn();
          }
        },
      },
    );
    const readLoop = async (): Promise<void> => {
      const buf = new Uint8Array(READ_SIZE);
      for (;;) {
        let n: number | null;
        try {
          n = await conn.read(buf);
        } catch (err) {
          if (!closed) this.transportError(new ConnectionError("connection-lost", `read from ${endpoint} failed: ${(err as Error).message}`, { cause: err, endpoint }));
          n = null;
        }
        if (n === null) break;
        const chunk = buf.slice(0, n);
        pump.guarded((s, now) => s.receive(chunk, now));
        if (upgrading) {
          // STARTTLS: no further read on the plain connection; upgrade once our output is written.
          upgrading = false;
          if (closed) break;
          try {
            await writeChain;
            const tls = await deno().startTls(conn, { hostname: this.address.domain, ...(this.options.tls?.caCerts === undefined ? {} : { caCerts: this.options.tls.caCerts }) });
            conn = tls;
            await tls.handshake();
          } catch (err) {
            this.transportError(new ConnectionError("tls-failed", `TLS handshake with ${endpoint} failed: ${(err as Error).message}`, { cause: err, endpoint }));
            break;
          }
          pump.guarded((s, now) => s.tlsEstablished({ channelBinding: {} }, now));
        }
      }
      closeConn();
      this.transportEnded(pump);
    };
    pump.interact((s, now) => {
      if (candidate.directTls) s.tlsEstablished({ channelBinding: {} }, now);
      (s as unknown as { start(now: number): void }).start(now);
    });
    void readLoop();
  }
}
