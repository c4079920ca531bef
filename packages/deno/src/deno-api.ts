/**
 * The part of the `Deno` namespace this adapter uses, typed locally so that the sources also typecheck
 * with `tsc` (no Deno types there) and run unchanged under `deno test`.
 *
 * @module
 */

/** `Deno.Conn` (TCP or TLS). */
export interface DenoConn {
  /** Reads into `buffer`; resolves with the byte count, or `null` at the end of the stream (the peer closed). */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes (part of) `data`; resolves with the number of bytes written, which may be fewer than given. */
  write(data: Uint8Array): Promise<number>;
  /** Closes the connection both ways at once (pending reads reject). */
  close(): void;
  /** Half-closes: no more writes (TCP FIN), reads go on until the peer closes too. */
  closeWrite(): Promise<void>;
  /** The peer's address (`Deno.NetAddr`): host name or IP and port, for logs and per-IP limits. */
  readonly remoteAddr: { hostname?: string; port?: number; transport?: string };
}

/** `Deno.TlsConn`. */
export interface DenoTlsConn extends DenoConn {
  /**
   * Runs the TLS handshake (`Deno.startTls` connections need it before channel binding); resolves with the ALPN
   * protocol chosen (`xmpp-client` for XEP-0368), or `null`.
   */
  handshake(): Promise<{ alpnProtocol: string | null }>;
}

/** `Deno.Listener`. */
export interface DenoListener {
  accept(): Promise<DenoConn>;
  close(): void;
  readonly addr: { hostname?: string; port?: number };
}

export interface DenoConnectTlsOptions {
  hostname: string;
  port: number;
  caCerts?: string[];
  alpnProtocols?: string[];
}

export interface DenoStartTlsOptions {
  hostname: string;
  caCerts?: string[];
  alpnProtocols?: string[];
}

export interface DenoApi {
  connect(options: { hostname: string; port: number; transport?: "tcp" }): Promise<DenoConn>;
  connectTls(options: DenoConnectTlsOptions): Promise<DenoTlsConn>;
  startTls(conn: DenoConn, options: DenoStartTlsOptions): Promise<DenoTlsConn>;
  listen(options: { hostname?: string; port: number; transport?: "tcp" }): DenoListener;
  listenTls(options: { hostname?: string; port: number; cert: string; key: string; alpnProtocols?: string[] }): DenoListener;
  resolveDns(query: string, type: "SRV"): Promise<Array<{ priority: number; weight: number; port: number; target: string }>>;
}

/** `globalThis.Deno`, or a clear error outside Deno. */
export function deno(): DenoApi {
  const d = (globalThis as unknown as { Deno?: DenoApi }).Deno;
  if (d === undefined) throw new TypeError("@xmpp-sansio/deno runs on Deno (globalThis.Deno is missing)");
  return d;
}

/** Writes all of `data` (Deno writes may be partial). */
export async function writeAll(conn: DenoConn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}
