/**
 * Client connection discovery (RFC 6120 §3.2, XEP-0368): DNS SRV lookups with `node:dns/promises`, ordered
 * by the core's pure RFC 2782 selection (`connectionCandidates`).
 *
 * @module
 */
import { randomInt } from "node:crypto";
import { Resolver } from "node:dns/promises";
import { type ConnectionCandidate, connectionCandidates, type SrvRecord } from "@xmpp-sansio/core";

/** Looks up SRV records. Node's `dns.promises.resolveSrv` has this shape; inject a fake in tests. */
export type SrvResolver = (name: string) => Promise<SrvRecord[]>;

/** Options of {@link discoverEndpoints}. */
export interface DiscoveryOptions {
  /** SRV lookup. Default: `resolveSrv` of a fresh `node:dns/promises` `Resolver` (system servers). */
  resolveSrv?: SrvResolver;
  /** Uniform numbers in `[0, 1)` for the RFC 2782 weighted choice. Default: `node:crypto`. */
  random?: () => number;
  /** XEP-0368: `true` tries direct-TLS targets first, `false` STARTTLS first; default: mix by priority. */
  preferDirectTls?: boolean;
}

/** What discovery found. */
export interface DiscoveryResult {
  /** Where to try, in order. Empty when the domain says it offers no client service. */
  candidates: ConnectionCandidate[];
  /** True when the candidates came from SRV records (RFC 6120 §3.2.1 step 8: then do not fall back). */
  fromSrv: boolean;
}

/**
 * Resolves `_xmpps-client._tcp.<domain>` (XEP-0368) and `_xmpp-client._tcp.<domain>` (RFC 6120 §3.2.1) in
 * parallel and orders the answers. A lookup that fails for any reason counts as "no records" (§3.2.1
 * step 1: then fall back); only a `.` target ("no service") suppresses the A/AAAA fallback on
 * `<domain>:5222`.
 *
 * @param domain - the JID's domainpart (already prepared)
 */
export async function discoverEndpoints(domain: string, options: DiscoveryOptions = {}): Promise<DiscoveryResult> {
  const resolveSrv = options.resolveSrv ?? defaultResolver();
  const lookup = async (name: string): Promise<SrvRecord[] | undefined> => {
    try {
      return await resolveSrv(name);
    } catch {
      // ENODATA / ENOTFOUND and real failures alike: "no records" (RFC 6120 §3.2.1 step 1 → fallback).
      return undefined;
    }
  };
  const [srvClientTls, srvClient] = await Promise.all([lookup(`_xmpps-client._tcp.${domain}`), lookup(`_xmpp-client._tcp.${domain}`)]);
  const random = options.random ?? (() => randomInt(0, 2 ** 32) / 2 ** 32);
  const candidates = connectionCandidates({
    domain,
    srvClient,
    srvClientTls,
    random,
    ...(options.preferDirectTls === undefined ? {} : { preferDirectTls: options.preferDirectTls }),
  });
  const fromSrv = (srvClient !== undefined && srvClient.length > 0) || (srvClientTls !== undefined && srvClientTls.length > 0);
  return { candidates, fromSrv };
}

function defaultResolver(): SrvResolver {
  const resolver = new Resolver();
  return (name) => resolver.resolveSrv(name);
}
