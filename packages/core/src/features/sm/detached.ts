/**
 * The server application's table of detached XEP-0198 sessions, as pure logic with `now` passed in:
 * keep a session for its `max` seconds, hold stanzas addressed to it meanwhile, hand it to a resuming
 * client, and report what expired so the sender is told (XEP-0198 §6). After expiry the final `h` is
 * kept for a while (a tombstone), so a late `<resume/>` still learns which of its stanzas were handled
 * (`<failed h/>`, XEP-0198 v1.6) and resends nothing twice.
 *
 * @module
 */
import { NS_CLIENT, toXmlString, type XmlElement } from "@xmpp-sansio/xml";
import type { SmState } from "../../session-types.js";
import { importSmState } from "./state.js";

/** Settings of {@link DetachedSessions}. */
export interface DetachedSessionsOptions {
  /** Most sessions held at once; past it the one expiring first goes early. Default 10 000. */
  maxSessions?: number;
  /** Most stanzas held per session (unacknowledged plus new); more are refused. Default 500. */
  maxStanzas?: number;
  /** How long an expired session's `h` is remembered (ms). Default 3 600 000 (1 hour). */
  tombstoneMs?: number;
  /** Most tombstones kept (oldest dropped first). Default 100 000. */
  maxTombstones?: number;
}

/** A session that ended for good: its stanzas were never acknowledged and must be answered for. */
export interface ExpiredSession {
  /** The session's state when it was detached. */
  readonly state: SmState;
  /**
   * The stanzas never acknowledged plus those routed to the detached session, oldest first: bounce them or store
   * them offline (XEP-0198 §6).
   */
  readonly stanzas: XmlElement[];
}

interface Entry {
  state: SmState & { unacked: string[] };
  expires: number;
}

/** Outcome of {@link DetachedSessions.take}. */
export type TakeResult = { readonly state: SmState } | { readonly expired: true; readonly h: number } | undefined;

/**
 * @example
 * ```ts
 * const detached = new DetachedSessions();
 * // session ended while resumable:
 * case "sm-detached": detached.detach(ev.state, now); break;
 * // a stanza for that JID meanwhile: detached.hold(jid, stanza) || bounceOrStoreOffline(stanza);
 * // a client resumes: const t = detached.take(ev.previd);
 * //   sm.answerResume(t && "state" in t ? { state: t.state } : { refuse: "item-not-found", ...(t ? { h: t.h } : {}) });
 * // timer: for (const x of detached.expire(now)) bounceOrStoreOffline(...x.stanzas);
 * ```
 */
export class DetachedSessions {
  private readonly byId = new Map<string, Entry>();
  private readonly byJid = new Map<string, string>();
  private readonly tombstones = new Map<string, { h: number; until: number }>();
  private heap: { expires: number; id: string }[] = [];
  private readonly maxSessions: number;
  private readonly maxStanzas: number;
  private readonly tombstoneMs: number;
  private readonly maxTombstones: number;

  constructor(options: DetachedSessionsOptions = {}) {
    this.maxSessions = options.maxSessions ?? 10_000;
    this.maxStanzas = options.maxStanzas ?? 500;
    this.tombstoneMs = options.tombstoneMs ?? 3_600_000;
    this.maxTombstones = options.maxTombstones ?? 100_000;
  }

  /** Sessions held now. */
  get size(): number {
    return this.byId.size;
  }

  /**
   * Keeps a session that ended while resumable, until `now + max` seconds. A session already held for
   * the same JID is replaced (it can no longer be resumed: the newer one supersedes it) and returned as
   * expired, as is the session evicted when the table is full.
   */
  detach(state: SmState, now: number): ExpiredSession[] {
    const out: ExpiredSession[] = [];
    const old = this.byJid.get(state.jid);
    if (old !== undefined) out.push(this.remove(old, now)!);
    const entry: Entry = { state: { ...state, unacked: [...state.unacked] }, expires: now + (state.max ?? 300) * 1000 };
    this.byId.set(state.id, entry);
    this.byJid.set(state.jid, state.id);
    this.push({ expires: entry.expires, id: state.id });
    while (this.byId.size > this.maxSessions) {
      const first = this.popLive();
      if (first === undefined) break;
      out.push(this.remove(first, now)!);
    }
    return out;
  }

  /** Whether a session is held for the full JID. */
  has(jid: string): boolean {
    return this.byJid.has(jid);
  }

  /**
   * Holds a stanza for the detached session of `jid` (a full JID): it is sent after resumption, with the
   * session's numbering. `false` when no session is held or it is full: treat the stanza as to an
   * unavailable resource.
   */
  hold(jid: string, stanza: XmlElement): boolean {
    const id = this.byJid.get(jid);
    if (id === undefined) return false;
    const entry = this.byId.get(id)!;
    if (entry.state.unacked.length >= this.maxStanzas) return false;
    // Stanzas built without a namespace get the stream's content namespace, as on the wire.
    if (stanza.ns === "") stanza.adoptNamespace(NS_CLIENT);
    entry.state.unacked.push(toXmlString(stanza));
    return true;
  }

  /** Takes the session `id` for resumption; an expired one answers with its last `h` if still known. */
  take(id: string, now: number): TakeResult {
    const entry = this.byId.get(id);
    if (entry !== undefined) {
      this.byId.delete(id);
      this.byJid.delete(entry.state.jid);
      return { state: entry.state };
    }
    const t = this.tombstones.get(id);
    if (t !== undefined && t.until > now) return { expired: true, h: t.h };
    return undefined;
  }

  /**
   * Ends the session `id` now (a fresh bind of the same full JID superseded it, say): its stanzas are
   * returned to be answered for, and its final `h` is kept as a tombstone for a late `<resume/>`.
   */
  end(id: string, now: number): ExpiredSession | undefined {
    return this.remove(id, now);
  }

  /** Ends the sessions whose time is up; their stanzas must be answered for (error or offline storage). */
  expire(now: number): ExpiredSession[] {
    const out: ExpiredSession[] = [];
    while (this.heap.length > 0 && this.heap[0]!.expires <= now) {
      const { id, expires } = this.pop()!;
      const entry = this.byId.get(id);
      if (entry !== undefined && entry.expires === expires) out.push(this.remove(id, now)!);
    }
    for (const [id, t] of this.tombstones) {
      if (t.until > now) break; // insertion order is expiry order (same tombstoneMs)
      this.tombstones.delete(id);
    }
    return out;
  }

  /** When `expire` must be called next. */
  nextTimeout(): number | undefined {
    while (this.heap.length > 0 && this.byId.get(this.heap[0]!.id)?.expires !== this.heap[0]!.expires) this.pop();
    return this.heap[0]?.expires;
  }

  private remove(id: string, now: number): ExpiredSession | undefined {
    const entry = this.byId.get(id);
    if (entry === undefined) return undefined;
    this.byId.delete(id);
    if (this.byJid.get(entry.state.jid) === id) this.byJid.delete(entry.state.jid);
    this.tombstones.set(id, { h: entry.state.inbound, until: now + this.tombstoneMs });
    if (this.tombstones.size > this.maxTombstones) this.tombstones.delete(this.tombstones.keys().next().value!);
    return { state: entry.state, stanzas: importSmState(entry.state).unacked };
  }

  private popLive(): string | undefined {
    for (let top = this.pop(); top !== undefined; top = this.pop()) {
      if (this.byId.get(top.id)?.expires === top.expires) return top.id;
    }
    return undefined;
  }

  // A binary min-heap on `expires` (entries of removed sessions are skipped lazily).
  private push(item: { expires: number; id: string }): void {
    const h = this.heap;
    h.push(item);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (h[p]!.expires <= h[i]!.expires) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private pop(): { expires: number; id: string } | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.expires < h[m]!.expires) m = l;
        if (r < h.length && h[r]!.expires < h[m]!.expires) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}
