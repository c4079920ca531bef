import type { JidError } from "./errors.js";
import { type Jid, tryParseJid } from "./jid.js";

/**
 * A bounded cache of parsed and prepared JIDs, keyed by the string as received: a server parses the same
 * few addresses with every stanza (`to`, `from`), and preparing one (PRECIS, the domain rules) costs far
 * more than a map lookup. Holds at most `size` entries; the oldest goes first (first in, first out), so a
 * peer sending ever new addresses costs one entry each and evicts, never grows. {@link Jid}s are
 * immutable, so one instance may be shared by any number of sessions.
 *
 * @example
 * ```ts
 * const jids = new JidCache(4096);
 * const to = jids.parse(stanza.attr("to")!); // a Jid, or the JidError
 * ```
 */
export class JidCache {
  /** The most entries kept. */
  readonly size: number;
  private readonly map = new Map<string, Jid | JidError>();

  /** `size`: the most entries kept (0: nothing is kept, every call parses). Default 4 096. */
  constructor(size = 4096) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError("the JID cache size must be an integer ≥ 0");
    this.size = size;
  }

  /** Like {@link tryParseJid}: the prepared JID, or the {@link JidError} (both are cached). */
  parse(input: string): Jid | JidError {
    let jid = this.map.get(input);
    if (jid === undefined) {
      jid = tryParseJid(input);
      if (this.size > 0) {
        if (this.map.size >= this.size) this.map.delete(this.map.keys().next().value!);
        this.map.set(input, jid);
      }
    }
    return jid;
  }

  /** Entries held. */
  get entries(): number {
    return this.map.size;
  }

  /** Forgets every entry. */
  clear(): void {
    this.map.clear();
  }
}
