/**
 * The domain pairs a server-to-server stream has authenticated (RFC 6120 §13.7.2, XEP-0220 §2.5:
 * several pairs may share one stream). Internal.
 *
 * @internal
 * @module
 */
import { type Jid, JidError, parseJid, tryParseJid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";

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
  /** Whether the domain pair was authenticated on this stream (RFC 6120 §8.1.1.2: only such stanzas are accepted). */
  isAuthorized(from: string, to: string): boolean;
  /** Whether any pair is authenticated yet. */
  readonly anyAuthorized: boolean;
  /** XEP-0288: stanzas flow both ways on this stream (the `<bidi/>` request was sent / received). */
  bidi: boolean;
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

  /** Whether some pair has `to` as its receiving domain (the reverse direction of XEP-0288). */
  hasTo(to: string): boolean {
    for (const set of this.pairs.values()) if (set.has(to)) return true;
    return false;
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

/** What is wrong with the addresses of a stanza received on a server-to-server stream. */
export type S2SAddressProblem =
  | { readonly kind: "stream"; readonly condition: "improper-addressing" | "invalid-from" | "host-unknown"; readonly text: string }
  | { readonly kind: "stanza"; readonly condition: "jid-malformed"; readonly text: string };

/**
 * Checks (and canonicalizes) `from`/`to` of a stanza received over s2s against the pairs the sender may
 * use (`mayFrom(domain)`: any pair from it; `mayPair(from, to)`). RFC 6120 §8.1.1.1, §8.1.2.1, §4.9.3.
 */
export function checkS2SAddresses(e: XmlElement, mayFrom: (from: string) => boolean, mayPair: (from: string, to: string) => boolean): S2SAddressProblem | undefined {
  const fromAttr = e.attr("from");
  const toAttr = e.attr("to");
  if (fromAttr === undefined || toAttr === undefined) {
    return { kind: "stream", condition: "improper-addressing", text: "a stanza between servers needs 'from' and 'to' (RFC 6120 §8.1.1.1, §8.1.2.1)" };
  }
  const from = tryParseJid(fromAttr);
  if (from instanceof JidError || !mayFrom(from.domain)) {
    const why = from instanceof JidError ? "is not a JID" : `(${from.domain}) is not an authenticated domain of this stream`;
    return { kind: "stream", condition: "invalid-from", text: `'from' ${why}` };
  }
  const to = tryParseJid(toAttr);
  if (to instanceof JidError) return { kind: "stanza", condition: "jid-malformed", text: to.message };
  if (!mayPair(from.domain, to.domain)) {
    return { kind: "stream", condition: "host-unknown", text: `${to.domain} is not a domain ${from.domain} was authenticated for on this stream` };
  }
  e.setAttr("from", from.toString());
  e.setAttr("to", to.toString());
  return undefined;
}

/** XEP-0288: whether a stanza may be sent in the reverse direction of an authenticated pair. */
export function reverseAllowed(stanza: XmlElement, pairs: DomainPairs): boolean {
  const from = domainPartOf(stanza.attr("from"));
  const to = domainPartOf(stanza.attr("to"));
  return from !== undefined && to !== undefined && pairs.has(to, from);
}

/** The domain of any JID, or `undefined`. */
export function domainPartOf(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const j = tryParseJid(address);
  return j instanceof JidError ? undefined : j.domain;
}
