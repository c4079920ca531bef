/**
 * The part of the `Deno` namespace this adapter uses, typed locally so that the sources also typecheck
 * with `tsc` (no Deno types there) and run unchanged under `deno test`.
 *
 * @module
 */

/** `Deno.Conn` (TCP or TLS). */
export interface DenoConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  close(): void;
  closeWrite(): Promise<void>;
  readonly remoteAddr: { hostname?: string; port?: number; transport?: string };
}

/** `Deno.TlsConn`. */
export interface DenoTlsConn extends DenoConn {
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
