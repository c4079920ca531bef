/**
 * DNS SRV target selection (RFC 2782, RFC 6120 §3.2, XEP-0368) as pure functions: the adapter does the
 * lookups, these order the answers. Randomness is injected.
 *
 * @module
 */

/** One SRV resource record, as DNS libraries return it (Node's `dns.resolveSrv` has this shape). */
export interface SrvRecord {
  /** Target host name; `.` (the root; some resolvers give `""`) means "no service" (RFC 2782). */
  name: string;
  /** Port on the target. */
  port: number;
  /** Lower is tried first (0–65535). */
  priority: number;
  /** Relative share among records of equal priority (0–65535); 0 means "very rarely, if others exist". */
  weight: number;
}

/** Whether an SRV target is the root domain (`.`, or `""` as some resolvers report it). */
function isRoot(name: string): boolean {
  return name === "." || name === "";
}

/**
 * Whether an SRV answer says the service is decidedly not available at the domain: a single record whose
 * target is `.` (RFC 2782; RFC 6120 §3.2.1 step 3: the initiating entity MUST abort SRV processing, and
 * must not fall back to A/AAAA on the domain either).
 */
export function isNoService(records: readonly SrvRecord[] | undefined): boolean {
  return records !== undefined && records.length === 1 && isRoot(records[0]!.name);
}

function weightOf(r: SrvRecord): number {
  const w = r.weight;
  return typeof w === "number" && Number.isFinite(w) && w > 0 ? Math.floor(w) : 0;
}

function priorityOf(r: SrvRecord): number {
  const p = r.priority;
  return typeof p === "number" && !Number.isNaN(p) ? p : Number.POSITIVE_INFINITY;
}

function draw(random: () => number, n: number): number {
  // A uniform integer in [0, n] from a float in [0, 1); out-of-range randomness is clamped.
  let r = random();
  if (!(r >= 0)) r = 0;
  else if (r >= 1) r = 1 - Number.EPSILON;
  return Math.min(n, Math.floor(r * (n + 1)));
}

/**
 * Orders SRV records as RFC 2782 ("Usage rules") prescribes: by priority, lowest first; within a priority,
 * by repeated weighted random selection — zero-weight records first in the candidate list, running sums of
 * the weights, a uniform integer in `[0, sum]`, the first record whose running sum is ≥ it is next, then
 * the same again over the rest. A zero-weight record is thus picked before others only rarely (with
 * probability 1/(sum+1) for the first of them), and records that all weigh 0 keep their input order.
 *
 * Every input record appears exactly once in the output; the input is not modified. Weights that are not
 * positive finite numbers count as 0; a `NaN` priority sorts last.
 *
 * @param records - the SRV answer (all records of one or several services)
 * @param random - uniform numbers in `[0, 1)`
 * @returns the records in the order to try them
 */
export function orderSrvRecords<T extends SrvRecord>(records: readonly T[], random: () => number): T[] {
  const sorted = [...records].sort((a, b) => priorityOf(a) - priorityOf(b) || 0);
  const out: T[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i + 1;
    const p = priorityOf(sorted[i]!);
    while (j < sorted.length && priorityOf(sorted[j]!) === p) j++;
    // Zero weights first, each group in input order (the sort above is stable).
    const group = sorted.slice(i, j);
    const pending = [...group.filter((r) => weightOf(r) === 0), ...group.filter((r) => weightOf(r) > 0)];
    let sum = 0;
    for (const r of pending) sum += weightOf(r);
    while (pending.length > 0) {
      const target = draw(random, sum);
      let running = 0;
      let k = 0;
      for (; k < pending.length - 1; k++) {
        running += weightOf(pending[k]!);
        if (running >= target) break;
      }
      const [picked] = pending.splice(k, 1);
      sum -= weightOf(picked!);
      out.push(picked!);
    }
    i = j;
  }
  return out;
}

/** Where to connect: a host and port, and whether TLS starts immediately (XEP-0368) or via STARTTLS. */
export interface ConnectionCandidate {
  /** Host name to resolve (A/AAAA) and connect to, without a trailing dot. */
  host: string;
  /** TCP port. */
  port: number;
  /** `true`: direct TLS, from `_xmpps-client._tcp`; `false`: plain TCP then STARTTLS. */
  directTls: boolean;
}

/** Input of {@link connectionCandidates}. */
export interface ConnectionCandidatesInput {
  /** The XMPP domain (the JID's domainpart), used for the A/AAAA fallback. */
  domain: string;
  /** The `_xmpp-client._tcp.<domain>` answer; `undefined` or empty if the lookup failed or found nothing. */
  srvClient: readonly SrvRecord[] | undefined;
  /** The `_xmpps-client._tcp.<domain>` answer (XEP-0368); `undefined` or empty likewise. */
  srvClientTls: readonly SrvRecord[] | undefined;
  /** Uniform numbers in `[0, 1)`, for the RFC 2782 weighted selection. */
  random: () => number;
  /**
   * `undefined` (default): XEP-0368 rule 1 — mix both record sets as one by priority and weight, so the
   * server operator decides. `true`: all direct-TLS candidates first; `false`: all STARTTLS candidates
   * first (XEP-0368 lets clients prefer one type). Each set is still in RFC 2782 order.
   */
  preferDirectTls?: boolean;
  /**
   * Port of the fallback to the domain itself. Default 5222; server-to-server: 5269 (RFC 6120 §3.2.2),
   * with the `_xmpp-server._tcp` / `_xmpps-server._tcp` answers passed as `srvClient` / `srvClientTls`.
   */
  fallbackPort?: number;
}

/**
 * The ordered list of places to try for a client connection (RFC 6120 §3.2, XEP-0368):
 * - the records of `_xmpps-client._tcp` (direct TLS) and `_xmpp-client._tcp` (STARTTLS), combined per
 *   {@link ConnectionCandidatesInput.preferDirectTls} and ordered by {@link orderSrvRecords};
 * - a set that is a "no service" record ({@link isNoService}) contributes nothing; for
 *   `_xmpps-client` it just means no direct TLS (XEP-0368 §6), for `_xmpp-client` no STARTTLS service;
 * - records with target `.` inside larger sets, or with a port outside 1–65535, are skipped, and
 *   duplicates (same host, port and kind) are kept once;
 * - only when neither lookup gave any record is the result the RFC 6120 §3.2.2 fallback
 *   `{ host: domain, port: fallbackPort (5222), directTls: false }`. When a "no service" record was present there is no
 *   fallback (XEP-0368 §6, RFC 6120 §3.2.1), and the result may be empty: the domain offers no service.
 *
 * RFC 6120 §3.2.1 step 8: if SRV records were found but no connection succeeded, the caller SHOULD NOT
 * fall back to the domain on its own.
 */
export function connectionCandidates(input: ConnectionCandidatesInput): ConnectionCandidate[] {
  const { domain, srvClient, srvClientTls, random, preferDirectTls, fallbackPort = 5222 } = input;
  const haveClient = srvClient !== undefined && srvClient.length > 0;
  const haveTls = srvClientTls !== undefined && srvClientTls.length > 0;
  if (!haveClient && !haveTls) return [{ host: domain, port: fallbackPort, directTls: false }];

  const tag = (set: readonly SrvRecord[] | undefined, directTls: boolean) =>
    set === undefined || isNoService(set) ? [] : set.map((r) => ({ ...r, directTls }));
  const tls = tag(srvClientTls, true);
  const plain = tag(srvClient, false);
  let ordered: Array<SrvRecord & { directTls: boolean }>;
  if (preferDirectTls === undefined) ordered = orderSrvRecords([...tls, ...plain], random);
  else {
    const a = orderSrvRecords(tls, random);
    const b = orderSrvRecords(plain, random);
    ordered = preferDirectTls ? [...a, ...b] : [...b, ...a];
  }

  const out: ConnectionCandidate[] = [];
  const seen = new Set<string>();
  for (const r of ordered) {
    if (typeof r.name !== "string" || isRoot(r.name)) continue;
    if (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535) continue;
    const host = r.name.endsWith(".") ? r.name.slice(0, -1) : r.name;
    const key = `${r.directTls ? "tls" : "tcp"}|${host.toLowerCase()}|${r.port}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ host, port: r.port, directTls: r.directTls });
  }
  return out;
}
