/**
 * Client-side tracking of outstanding IQ requests: which reply answers which request (and only from the
 * entity the request was addressed to), and which requests timed out. Pure: time is passed in.
 *
 * @module
 */
import { Jid, tryParseJid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";

/** A reply matched to an outstanding request by {@link IqTracker.match}. */
export interface IqReplyMatch {
  /** The request's `id`. */
  id: string;
  /** `result` or `error`, from the reply's `type`. */
  kind: "result" | "error";
}

interface Entry {
  readonly id: string;
  readonly deadline: number;
  /** Insertion order, to expire requests with equal deadlines in the order they were sent. */
  readonly seq: number;
  /** The address the request was sent to, or `undefined` for none. */
  readonly to: Jid | undefined;
  /** The canonical string of {@link Entry.to}, for a fast path before JID preparation. */
  readonly toText: string | undefined;
  /** True when the request went to the user's own server or account (no `to`, own bare JID, own domain). */
  readonly toServer: boolean;
  /** False once matched, cancelled or expired; the heap drops dead entries lazily. */
  live: boolean;
}

function before(a: Entry, b: Entry): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

/**
 * Tracks outstanding IQ requests (RFC 6120 §8.2.3) and matches replies to them.
 *
 * A reply is accepted only from the entity the request was addressed to, so a third party that guesses an
 * id cannot answer for someone else (the reply-spoofing class):
 * - request with a `to` other than the user's own account or domain: the reply's `from` must be that
 *   JID (compared after RFC 7622 preparation);
 * - request to the server — no `to`, `to` the user's own bare JID, or `to` the user's domain: the reply may
 *   come without `from`, from the user's bare JID, or from the domain. The server answers such requests
 *   on behalf of the account (RFC 6120 §10.3.3) and a stanza without `from` comes from the user's server
 *   (§8.1.2.1 rule 4); it stamps its own stanzas with the domain (§8.1.2.1 rule 2) and account data with
 *   the bare JID or no `from` (rule 3).
 *
 * A reply from any other address is not matched and leaves the request outstanding. Requests expire when
 * `now >= deadline`. Deadlines sit in a binary min-heap with lazy deletion (compacted when dead entries
 * dominate): `track`, `match` and `expire` are O(log n) amortised, so thousands of outstanding requests
 * are cheap.
 *
 * @example
 * ```ts
 * const iqs = new IqTracker();
 * iqs.track("r1", parseJid("pubsub.example.com"), me, now + 30_000);
 * iqs.match(incomingIq, me); // { id: "r1", kind: "result" } or undefined
 * iqs.expire(later);         // ["r1"] if it timed out
 * ```
 */
export class IqTracker {
  private readonly entries = new Map<string, Entry>();
  private heap: Entry[] = [];
  private seq = 0;

  /** Number of outstanding requests. */
  get size(): number {
    return this.entries.size;
  }

  /** Whether a request with this id is outstanding. */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /**
   * Starts tracking a request that was sent.
   *
   * @param id - the request's `id` (unique among outstanding requests; unpredictable ids are a good
   *   second line of defence against spoofed replies)
   * @param to - the request's `to`, or `undefined` if it had none
   * @param ownJid - the user's JID as known now (bare before resource binding is fine; before
   *   authentication, the domain alone)
   * @param deadline - the instant (same clock as `now` in {@link IqTracker.expire}) at which it times out
   * @throws TypeError if `id` is already outstanding or `deadline` is not a number
   */
  track(id: string, to: Jid | undefined, ownJid: Jid, deadline: number): void {
    if (typeof id !== "string") throw new TypeError("an IQ id must be a string");
    if (this.entries.has(id)) throw new TypeError(`IQ id "${id}" is already outstanding`);
    if (typeof deadline !== "number" || Number.isNaN(deadline)) throw new TypeError("deadline must be a number");
    const toServer = to === undefined || isOwnServer(to, ownJid);
    const entry: Entry = { id, deadline, seq: this.seq++, to, toText: to?.toString(), toServer, live: true };
    this.entries.set(id, entry);
    this.push(entry);
  }

  /**
   * Matches an incoming stanza to an outstanding request. Returns `undefined` — and leaves every request
   * outstanding — unless the stanza is an `iq` of type `result` or `error` whose `id` is outstanding and
   * whose `from` is acceptable for that request (see the class description). A match ends tracking.
   * Never throws on peer input.
   *
   * @param stanza - a received top-level element
   * @param ownJid - the user's JID as known now (after resource binding, the full JID)
   */
  match(stanza: XmlElement, ownJid: Jid): IqReplyMatch | undefined {
    if (stanza.name !== "iq") return undefined;
    const type = stanza.attr("type");
    if (type !== "result" && type !== "error") return undefined;
    const id = stanza.attr("id");
    if (id === undefined) return undefined;
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    if (!fromAcceptable(entry, stanza.attr("from"), ownJid)) return undefined;
    this.remove(entry);
    return { id, kind: type };
  }

  /**
   * Stops tracking a request (the application gave up on it).
   *
   * @returns whether it was outstanding
   */
  cancel(id: string): boolean {
    const entry = this.entries.get(id);
    if (entry === undefined) return false;
    this.remove(entry);
    return true;
  }

  /**
   * Removes and returns every request whose deadline has come (`deadline <= now`), earliest deadline
   * first (equal deadlines in the order they were tracked).
   */
  expire(now: number): string[] {
    const out: string[] = [];
    for (;;) {
      const top = this.peekLive();
      if (top === undefined || top.deadline > now) break;
      this.pop();
      top.live = false;
      this.entries.delete(top.id);
      out.push(top.id);
    }
    return out;
  }

  /** The earliest deadline among outstanding requests, or `undefined` if there are none. */
  nextDeadline(): number | undefined {
    return this.peekLive()?.deadline;
  }

  /**
   * Stops tracking everything (the stream ended) and returns the ids that were outstanding, in deadline
   * order.
   */
  cancelAll(): string[] {
    const all = [...this.entries.values()].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
    for (const e of all) e.live = false;
    this.entries.clear();
    this.heap = [];
    return all.map((e) => e.id);
  }

  // -------------------------------------------------------------------------------------------------

  private remove(entry: Entry): void {
    entry.live = false;
    this.entries.delete(entry.id);
    // Lazy deletion: rebuild the heap once dead entries outnumber live ones (amortised O(1) per removal).
    if (this.heap.length > 32 && this.heap.length > 2 * this.entries.size) this.rebuild();
  }

  private rebuild(): void {
    const live = this.heap.filter((e) => e.live);
    this.heap = live;
    for (let i = (live.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private peekLive(): Entry | undefined {
    while (this.heap.length > 0 && !this.heap[0]!.live) this.pop();
    return this.heap[0];
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    this.siftDown(0);
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const item = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, item)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = item;
  }
}

/** Whether `to` addresses the user's own account or server: the bare JID, or the domain. */
function isOwnServer(to: Jid, own: Jid): boolean {
  if (to.resource !== "" || to.domain !== own.domain) return false;
  return to.local === "" || to.local === own.local;
}

function fromAcceptable(entry: Entry, from: string | undefined, own: Jid): boolean {
  if (entry.toServer) {
    if (from === undefined) return true;
    const f = parse(from);
    if (f === undefined || f.resource !== "" || f.domain !== own.domain) return false;
    // The domain itself, or the user's bare JID (as known now), or the bare JID the request went to.
    return f.local === "" || f.local === own.local || (entry.to !== undefined && f.equals(entry.to));
  }
  if (from === undefined) return false;
  if (from === entry.toText) return true;
  const f = parse(from);
  return f !== undefined && entry.to !== undefined && f.equals(entry.to);
}

function parse(s: string): Jid | undefined {
  try {
    const j = tryParseJid(s);
    return j instanceof Jid ? j : undefined;
  } catch {
    return undefined;
  }
}
