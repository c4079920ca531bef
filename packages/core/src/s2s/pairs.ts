/**
 * The domain pairs a server-to-server stream has authenticated (RFC 6120 §13.7.2, XEP-0220 §2.5:
 * several pairs may share one stream). Internal.
 *
 * @internal
 * @module
 */
import { type Jid, JidError, parseJid, tryParseJid } from "@xmpp-sansio/jid";

/** The host a server-to-server feature works for: the stream's identity and its authenticated pairs. */
export interface S2SHost {
  /** Our domain (initiator: `from`; receiver: the `to` of the peer's header). */
  readonly localDomain: string | undefined;
  /** The peer's domain (initiator: `to`; receiver: the `from` of the peer's header). */
  readonly remoteDomain: string | undefined;
  /** The id of the receiving server's stream header (ours on the receiver, the peer's on the initiator). */
  readonly receivingStreamId: string | undefined;
  /** Records an authenticated pair (`from` = the originating domain, `to` = the receiving domain). */
  authorize(from: string, to: string): void;
  isAuthorized(from: string, to: string): boolean;
  /** Whether any pair is authenticated yet. */
  readonly anyAuthorized: boolean;
}

/** Authenticated (originating → receiving) domain pairs, bounded. */
export class DomainPairs {
  private readonly pairs = new Map<string, Set<string>>();
  private count = 0;

  constructor(private readonly max = 1000) {}

  add(from: string, to: string): boolean {
    let set = this.pairs.get(from);
    if (set?.has(to) === true) return true;
    if (this.count >= this.max) return false;
    if (set === undefined) this.pairs.set(from, (set = new Set()));
    set.add(to);
    this.count++;
    return true;
  }

  has(from: string, to: string): boolean {
    return this.pairs.get(from)?.has(to) === true;
  }

  hasFrom(from: string): boolean {
    return this.pairs.has(from);
  }

  get size(): number {
    return this.count;
  }
}

/** The domain of a domain-only JID (`example.com`), prepared; `undefined` for anything else. */
export function domainOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const j = tryParseJid(value);
  if (j instanceof JidError || j.local !== "" || j.resource !== "") return undefined;
  return j.domain;
}

/** The JID of a domain that was validated already. */
export function domainJid(domain: string): Jid {
  return parseJid(domain);
}
