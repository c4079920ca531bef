/**
 * The reference server's side of XEP-0198 Stream Management: one stable {@link Endpoint} per full JID for
 * the router, which a resumed stream takes over with its presence, and a table of detached sessions
 * (the core's `DetachedSessions`) behind a real timer.
 *
 * - `detached` (the session ended while resumable): the endpoint stays registered with the router — the
 *   resource stays available for presence, as XEP-0198 §5 wants a resumed session to keep its full JID and
 *   presence — and stanzas routed to it are held (`DetachedSessions.hold`) until it is resumed or expires.
 * - `resume`: a live connection with that SM id is taken over (the client came back before we noticed the
 *   old connection die) and closed with `<conflict/>`; otherwise the detached session is handed over; else
 *   `<failed><item-not-found/></failed>`, with the old `h` while the core's tombstone remembers it.
 * - `online` with `resumed`: the new connection becomes the endpoint's connection; no new presence.
 * - expiry (timer at `DetachedSessions.nextTimeout()`), a session replaced by a fresh bind of the same
 *   full JID, or the server closing: the resource goes offline (its unavailable presence is broadcast now,
 *   not when it detached) and every stanza it held is treated as sent to an unavailable resource.
 *
 * "Unavailable resource" (XEP-0198 §6, RFC 6121 §8.5.3.2.1): a message is routed again — to the full JID,
 * which is no longer online, so the router treats it as sent to the bare JID and another available
 * resource may take it; if none does, a `chat`/`normal` message is offered to `offlineStore`, and when
 * that does not take it the sender gets `<service-unavailable/>` (RFC 6121 §8.5.2.2.1, the answer that
 * does not leak presence). An IQ request gets `<service-unavailable/>` at once (RFC 6121 §8.5.3.2.1),
 * presence is dropped, and errors are never answered with errors.
 *
 * @module
 */
import {
  DetachedSessions,
  type ExpiredSession,
  errorReply,
  importSmState,
  type ResumeAnswer,
  type SmState,
  type StreamErrorCondition,
  stanzaError,
} from "@xmpp-sansio/core";
import { type Jid, JidError, parseJid, tryParseJid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import type { Endpoint } from "./router.js";

/** What the session table uses of a connection: members the TCP and the WebSocket connections both have. */
export interface SessionConnection {
  /** The bound full JID, once online. */
  readonly jid: Jid | undefined;
  /** The authenticated account (localpart). */
  readonly username: string | undefined;
  /** Whether resource binding completed and the stream is still open. */
  readonly isOnline: boolean;
  /** Sends a stanza to this client (only while online). */
  send(stanza: XmlElement): void;
  /**
   * Ends the stream with a stream error (RFC 6120 §4.9), e.g. `conflict` when a new session replaces this one;
   * resolves once the connection is closed.
   */
  closeWithError(condition: StreamErrorCondition, text?: string): Promise<void>;
}

/** What the session table needs of a connection's Stream Management half (the core's `SmServer`). */
export interface SmHalfLike {
  /** The resumption id of the live session, when it is resumable. */
  readonly resumptionId: string | undefined;
  /** Takes the live state away for a resumption of `previd` elsewhere (nothing happens for another id). */
  takeOver(jid: Jid | undefined, previd: string): SmState | undefined;
}

/** What the session table needs of the router. */
export interface RouterLike {
  /** A full JID became available: route stanzas for it to `endpoint` from now on. */
  online(endpoint: Endpoint): void;
  /** The full JID is gone (not detached: detached endpoints stay routable and hold stanzas). */
  offline(endpoint: Endpoint): void;
  /** Routes a stanza the client at `sender` sent (RFC 6120 §10). */
  route(sender: Endpoint, stanza: XmlElement): void;
}

/** A clock and timers (default: `performance.now()` and the global timers, unref'd under Node). */
export interface SessionClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds (a detached session's expiry); returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer set with `setTimeout`. */
  clearTimeout(handle: unknown): void;
}

/**
 * Offline storage (XEP-0160) for a message that reached nobody: return (or resolve) `true` when it was
 * stored — then no error goes back to the sender. Only `chat` and `normal` messages are offered.
 */
export type OfflineStoreHook = (stanza: XmlElement) => boolean | Promise<boolean>;

/** Options of {@link SessionTable}. */
export interface SessionTableOptions<C extends SessionConnection> {
  /** The router that gets endpoints online and offline and routes the held stanzas. */
  readonly router: RouterLike;
  /** The domain served (bounces come from the server's domain when there is no better `from`). */
  readonly domain: string;
  /** The SM half of a connection (the adapters' `streamManagementOf`). */
  readonly smOf: (connection: C) => SmHalfLike | undefined;
  /** Most detached sessions kept at once (the one expiring first goes early). Default 10 000. */
  readonly maxDetached?: number;
  /** Most stanzas held per detached session (unacknowledged plus new ones). Default 500. */
  readonly maxHeldStanzas?: number;
  /**
   * Where a message held by a detached session goes when the session expires unresumed (XEP-0160); without it such
   * messages bounce with `<recipient-unavailable/>`.
   */
  readonly offlineStore?: OfflineStoreHook;
  /** Where one-line notes (detached, resumed, expired) go. Default: nowhere. */
  readonly log?: (line: string) => void;
  /** Clock and timers. Default: `performance.now()` and the global timers (unref'd under Node). */
  readonly clock?: SessionClock;
}

/** What became of a connection when its `offline` hook ran. */
export type OfflineOutcome = "offline" | "detached" | "replaced" | "unknown";

/** Where a session endpoint stands. */
export type SessionPhase = "online" | "moving" | "detached" | "gone";

/** The router's view of one full JID: stable across resumptions. */
/** One full JID's place in the session table, stable across XEP-0198 resumptions. */
export class SessionEndpoint<C extends SessionConnection> implements Endpoint {
  /**
   * `online`: a live connection; `moving`: a resumption is taking it over; `detached`: the connection is gone but
   * the XEP-0198 session can still be resumed (stanzas are held); `gone`: ended.
   */
  phase: SessionPhase = "online";
  /** The SM id while detached. */
  smId: string | undefined;
  /** Stanzas routed here while a resumption is being answered (a few microtasks at most). */
  readonly pending: XmlElement[] = [];

  constructor(
    readonly jid: Jid,
    /** The live connection; `undefined` while detached or gone. */
    public connection: C | undefined,
    private readonly table: SessionTable<C>,
  ) {}

  deliver(stanza: XmlElement): void {
    this.table.deliverTo(this, stanza);
  }
}

const defaultClock = (): SessionClock => {
  const g = globalThis as unknown as { performance?: { now(): number } };
  return {
    now: () => (g.performance !== undefined ? g.performance.now() : Date.now()),
    setTimeout: (fn, ms) => {
      const t = setTimeout(fn, ms) as unknown as { unref?: () => void };
      t.unref?.(); // a detached session must not keep the process alive
      return t;
    },
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
};

/**
 * The server's sessions as the router sees them, with XEP-0198 resumption. The hooks of every transport
 * call into one table, so a client may resume over WebSocket a session it began over TCP.
 */
export class SessionTable<C extends SessionConnection> {
  private readonly byConnection = new WeakMap<C, SessionEndpoint<C>>();
  private readonly byJid = new Map<string, SessionEndpoint<C>>();
  private readonly byAccount = new Map<string, Set<SessionEndpoint<C>>>();
  private readonly bySmId = new Map<string, SessionEndpoint<C>>();
  private readonly detachedSessions: DetachedSessions;
  private readonly o: SessionTableOptions<C>;
  private readonly clock: SessionClock;
  private readonly maxHeld: number;
  private readonly serverEndpoint: Endpoint;
  private timer: unknown;
  private timerAt: number | undefined;
  private closed = false;
  /** Nesting of re-routing, and what endpoints accepted meanwhile. */
  private rerouting = 0;
  private accepted = 0;

  constructor(options: SessionTableOptions<C>) {
    this.o = options;
    this.clock = options.clock ?? defaultClock();
    this.maxHeld = options.maxHeldStanzas ?? 500;
    this.detachedSessions = new DetachedSessions({ maxSessions: options.maxDetached ?? 10_000, maxStanzas: this.maxHeld });
    this.serverEndpoint = { jid: parseJid(options.domain), deliver: () => {} };
  }

  /** Detached sessions held now. */
  get detachedCount(): number {
    return this.detachedSessions.size;
  }

  /** The endpoint of an online connection (the router's sender for its stanzas). */
  endpointOf(connection: C): Endpoint | undefined {
    const ep = this.byConnection.get(connection);
    return ep !== undefined && ep.connection === connection ? ep : undefined;
  }

  /**
   * The resources of an account that a new bind must not take (RFC 6120 §7.7.2.2), on every transport
   * this table serves: online sessions and those being resumed elsewhere. A detached session's resource is
   * not among them — a fresh bind of it supersedes the detached session (see `online`).
   */
  resourcesInUse(bareJid: string): Set<string> {
    const used = new Set<string>();
    for (const ep of this.byAccount.get(bareJid) ?? []) if (ep.phase === "online" || ep.phase === "moving") used.add(ep.jid.resource);
    return used;
  }

  /** The `online` hook. */
  online(connection: C, info: { readonly resumed: boolean }): void {
    const jid = connection.jid;
    if (jid === undefined || this.closed) return;
    const key = jid.toString();
    const existing = this.byJid.get(key);
    if (info.resumed && existing !== undefined && (existing.phase === "moving" || existing.phase === "detached")) {
      // The resumed stream takes the endpoint over: same full JID, same presence, nothing broadcast.
      existing.connection = connection;
      existing.phase = "online";
      existing.smId = undefined;
      this.byConnection.set(connection, existing);
      for (const stanza of existing.pending.splice(0)) this.deliverTo(existing, stanza);
      return;
    }
    if (existing !== undefined && existing.phase === "detached") {
      // A fresh bind of a detached session's full JID supersedes it (it can no longer be resumed).
      const taken = existing.smId === undefined ? undefined : this.detachedSessions.take(existing.smId, this.clock.now());
      this.expired(existing, taken !== undefined && "state" in taken ? taken.state : undefined);
      this.schedule();
    }
    const ep = new SessionEndpoint<C>(jid, connection, this);
    this.byConnection.set(connection, ep);
    this.index(ep);
    this.o.router.online(ep);
  }

  /** The `offline` hook: what became of the session. */
  offline(connection: C): OfflineOutcome {
    const ep = this.byConnection.get(connection);
    if (ep === undefined) return "unknown";
    this.byConnection.delete(connection);
    if (ep.connection !== connection) return ep.phase === "detached" ? "detached" : ep.phase === "gone" ? "offline" : "replaced";
    this.gone(ep);
    return "offline";
  }

  /** The `detached` hook: keep the session for a resumption. */
  detached(connection: C, state: SmState): void {
    const ep = this.byConnection.get(connection) ?? this.byJid.get(state.jid);
    if (ep === undefined || this.closed || (ep.connection !== undefined && ep.connection !== connection) || ep.phase === "gone") {
      // Nothing to attach it to (or the server is closing): its stanzas reached nobody.
      this.returnStanzas(this.stanzasOf(state));
      return;
    }
    ep.connection = undefined;
    ep.phase = "detached";
    ep.smId = state.id;
    this.bySmId.set(state.id, ep);
    const now = this.clock.now();
    for (const x of this.detachedSessions.detach(state, now)) this.expiredSession(x);
    for (const stanza of ep.pending.splice(0)) this.deliverTo(ep, stanza);
    this.o.log?.(`detached ${state.jid} (resumable for ${state.max ?? 300} s)`);
    this.schedule();
  }

  /** The `undelivered` hook: the session ended for good; its unacknowledged stanzas reached nobody. */
  undelivered(connection: C, stanzas: readonly XmlElement[]): void {
    const ep = this.byConnection.get(connection);
    // Forget the resource first, so that re-routing cannot pick it again.
    if (ep !== undefined && ep.connection === connection) this.gone(ep);
    this.returnStanzas(stanzas);
  }

  /** The `resume` hook. */
  resume(previd: string, _h: number, connection: C): ResumeAnswer {
    const username = connection.username;
    if (username === undefined || this.closed) return { refuse: "item-not-found" };
    const domain = this.serverEndpoint.jid.domain;
    const account = tryParseJid(`${username}@${domain}`);
    if (account instanceof JidError) return { refuse: "item-not-found" };
    // A live session with that id: the client came back before the server noticed the old link die.
    for (const ep of this.byAccount.get(account.bare.toString()) ?? []) {
      const old = ep.connection;
      if (ep.phase !== "online" || old === undefined) continue;
      const sm = this.o.smOf(old);
      if (sm === undefined || sm.resumptionId !== previd) continue;
      const state = sm.takeOver(ep.jid, previd);
      if (state === undefined) continue;
      ep.phase = "moving";
      ep.connection = undefined;
      void old.closeWithError("conflict", "replaced by a resumed stream");
      this.o.log?.(`takeover ${ep.jid} (its old connection is closed with <conflict/>)`);
      return { state };
    }
    const ep = this.bySmId.get(previd);
    // Only the owner may resume a session; anyone else learns nothing (not even that it exists).
    if (ep !== undefined && !ep.jid.bare.equals(account.bare)) return { refuse: "item-not-found" };
    const taken = this.detachedSessions.take(previd, this.clock.now());
    this.schedule();
    if (taken === undefined) return { refuse: "item-not-found" };
    if ("expired" in taken) return { refuse: "item-not-found", h: taken.h };
    this.bySmId.delete(previd);
    if (ep !== undefined) {
      ep.phase = "moving";
      ep.smId = undefined;
    }
    return { state: taken.state };
  }

  /**
   * Stops the timer and ends every detached session now: the resources go offline and their stanzas are
   * treated as sent to unavailable resources (offline storage, or errors to senders still connected).
   */
  close(): void {
    for (const x of this.detachedSessions.expire(Number.POSITIVE_INFINITY)) this.expiredSession(x);
    this.closed = true;
    this.clearTimer();
  }

  /** @internal a stanza the router gives the endpoint. */
  deliverTo(ep: SessionEndpoint<C>, stanza: XmlElement): void {
    switch (ep.phase) {
      case "online": {
        const c = ep.connection;
        if (c?.isOnline) {
          c.send(stanza);
          this.accepted++;
          return;
        }
        // Closing: no stanza is sent any more; the resource is as good as gone.
        this.gone(ep);
        break;
      }
      case "moving":
        if (ep.pending.length < this.maxHeld) {
          ep.pending.push(stanza);
          this.accepted++;
          return;
        }
        break;
      case "detached":
        if (this.detachedSessions.hold(ep.jid.toString(), stanza)) {
          this.accepted++;
          return;
        }
        break;
      default:
    }
    this.unavailable(stanza);
  }

  private index(ep: SessionEndpoint<C>): void {
    this.byJid.set(ep.jid.toString(), ep);
    const bare = ep.jid.bare.toString();
    let set = this.byAccount.get(bare);
    if (set === undefined) this.byAccount.set(bare, (set = new Set()));
    set.add(ep);
  }

  /** The resource is gone for good: the router forgets it (and tells the account's other resources). */
  private gone(ep: SessionEndpoint<C>): void {
    if (ep.phase === "gone") return;
    ep.phase = "gone";
    ep.connection = undefined;
    if (ep.smId !== undefined) this.bySmId.delete(ep.smId);
    ep.smId = undefined;
    if (this.byJid.get(ep.jid.toString()) === ep) this.byJid.delete(ep.jid.toString());
    const bare = ep.jid.bare.toString();
    const set = this.byAccount.get(bare);
    set?.delete(ep);
    if (set?.size === 0) this.byAccount.delete(bare);
    this.o.router.offline(ep);
    const pending = ep.pending.splice(0);
    this.returnStanzas(pending);
  }

  private expiredSession(x: ExpiredSession): void {
    const ep = this.bySmId.get(x.state.id);
    if (ep !== undefined && ep.phase === "detached" && ep.smId === x.state.id) {
      this.expired(ep, undefined);
      this.o.log?.(`expired ${x.state.jid} (${x.stanzas.length} unacknowledged stanzas treated as undeliverable)`);
    }
    this.returnStanzas(x.stanzas);
  }

  /** A detached session ends: offline now; the stanzas of `state` (if taken here) reach nobody. */
  private expired(ep: SessionEndpoint<C>, state: SmState | undefined): void {
    this.gone(ep);
    if (state !== undefined) this.returnStanzas(this.stanzasOf(state));
  }

  private stanzasOf(state: SmState): XmlElement[] {
    // The state comes from the core (valid); an unparsable one has nothing we could return anyway.
    try {
      return importSmState(state).unacked;
    } catch {
      return [];
    }
  }

  private returnStanzas(stanzas: readonly XmlElement[]): void {
    for (const stanza of stanzas) this.unavailable(stanza);
  }

  /** XEP-0198 §6: a stanza to a resource that is no longer available. */
  private unavailable(stanza: XmlElement): void {
    if (this.rerouting > 0) return; // a re-routed stanza that landed on another endpoint that cannot take it
    const type = stanza.attr("type");
    if (type === "error") return;
    if (stanza.name === "iq") {
      if (type === "get" || type === "set") this.sendError(stanza);
      return;
    }
    if (stanza.name !== "message") return; // presence to an unavailable resource is dropped
    const from = tryParseJid(stanza.attr("from") ?? "");
    if (from instanceof JidError) return;
    // Route it again: the full JID is no longer online, so the router treats it as sent to the bare JID.
    const sender: Endpoint = { jid: from, deliver: () => {} }; // the router's own bounce is replaced below
    const before = this.accepted;
    this.rerouting++;
    try {
      this.o.router.route(sender, stanza);
    } finally {
      this.rerouting--;
    }
    if (this.accepted > before) return;
    const kind = type ?? "normal";
    const store = this.o.offlineStore;
    if (store === undefined || (kind !== "chat" && kind !== "normal")) {
      this.sendError(stanza);
      return;
    }
    let stored: boolean | Promise<boolean>;
    try {
      stored = store(stanza);
    } catch {
      stored = false;
    }
    if (stored === true) return;
    if (stored === false) {
      this.sendError(stanza);
      return;
    }
    stored.then(
      (ok) => {
        if (ok !== true) this.sendError(stanza);
      },
      () => this.sendError(stanza),
    );
  }

  /**
   * `<service-unavailable/>` back to the sender, routed like any stanza (it may be detached too). A
   * message carries its original payload (RFC 6120 §8.3.1 rule 6): it is the sender's own, and it tells
   * the sender's client which text was not delivered even when it keeps no ids.
   */
  private sendError(stanza: XmlElement): void {
    const reply = errorReply(stanza, stanzaError("service-unavailable"), { includeOriginal: stanza.name === "message" });
    if (reply !== undefined && reply.attr("to") !== undefined) this.o.router.route(this.serverEndpoint, reply);
  }

  private schedule(): void {
    if (this.closed) return;
    const at = this.detachedSessions.nextTimeout();
    if (at === this.timerAt) return;
    this.clearTimer();
    if (at === undefined) return;
    this.timerAt = at;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = undefined;
        for (const x of this.detachedSessions.expire(this.clock.now())) this.expiredSession(x);
        this.schedule();
      },
      Math.max(0, Math.ceil(at - this.clock.now())),
    );
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
  }
}
