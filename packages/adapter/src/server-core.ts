/**
 * The runtime-neutral half of a c2s server adapter: the application hooks, answering the session's
 * questions through them, the online registry (full JID → connection), the resource-conflict policy
 * (`override` ends the older session with `<conflict/>`) and hook failures (→ `<internal-server-error/>`).
 * Used by the Node TCP server, the Node WebSocket server and the Deno server; no `node:*`, no DOM.
 *
 * @module
 */
import {
  type BindAnswer,
  errorReply,
  type FeatureEvent,
  importSmState,
  type ResourceConflictPolicy,
  type ResumeAnswer,
  resolveResourceConflict,
  type SansIoSession,
  type ScramStoredCredentials,
  type ServerEvent,
  type SmServer,
  type SmState,
  type StreamErrorCondition,
  serviceUnavailable,
  smServer,
  stanzaError,
} from "@xmpp-sansio/core";
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import { IqHandlers } from "./iq-handlers.js";
import { type AddressGate, logSafe, type OutboundQueue } from "./limits.js";
import type { SessionPump } from "./pump.js";
import { globalTimers, type PumpTimers } from "./timers.js";

/** The server session surface the adapter drives (the core's `ServerSession`). */
export interface ServerSessionLike extends SansIoSession<ServerEvent> {
  /**
   * Starts the session (a receiving entity waits for the peer's header; `tls: "direct"` sessions get
   * `tlsEstablished` first).
   */
  start(now: number): void;
  /** Answers a `host-check` question: whether the `to` domain is served here (else `<host-unknown/>`). */
  answerHost(ok: boolean): void;
  /**
   * Answers a `scram-credentials` question with the account's stored SCRAM keys, or `null` for an unknown user
   * (then the exchange fails like a wrong password, RFC 5802 §5.1).
   */
  answerScramCredentials(stored: ScramStoredCredentials | null): void;
  /** Answers a `verify-password` question (PLAIN): whether the password is right. */
  answerPassword(ok: boolean): void;
  /**
   * Answers an `external-identity` question (SASL EXTERNAL): the account the certificate identity maps to, or
   * `null` to refuse.
   */
  answerExternal(username: string | null): void;
  /** Answers a `bind-request` question with the resource to bind or a refusal (RFC 6120 §7.6.2). */
  answerBind(answer: BindAnswer): void;
  /** This session's half of a loaded stream feature (the core's `ServerSession` has it; fakes may not). */
  featureHalf?(name: string): unknown;
  /** Lets go of buffers kept for speed while idle (the core's `ServerSession` has it; fakes may not). */
  trim?(): void;
}

/** A value or a promise of it (hooks may be sync or async). */
export type MaybePromise<T> = T | Promise<T>;

const microtask = (fn: () => void): void => (globalThis as unknown as { queueMicrotask(fn: () => void): void }).queueMicrotask(fn);

/**
 * What a hook sees of a connection: the members every adapter's `ServerConnection` has, so one hooks
 * object serves the TCP, WebSocket and Deno servers.
 */
export interface XmppConnection {
  /** A process-unique number, for logs. */
  readonly id: number;
  /** The peer's address and port, if known. */
  readonly remoteAddress: string | undefined;
  /** The peer's TCP port, if known (WebSocket behind a proxy: the proxy's). */
  readonly remotePort: number | undefined;
  /** The authenticated account (localpart), once authenticated. */
  readonly username: string | undefined;
  /** The SASL mechanism the client authenticated with. */
  readonly mechanism: string | undefined;
  /** The bound full JID, once online. */
  readonly jid: Jid | undefined;
  /** Whether the client is bound and stanzas may be sent. */
  readonly isOnline: boolean;
  /** Whether the transport has closed. */
  readonly closed: boolean;
  /** Whether the transport is TLS (or counts as such). */
  readonly secure: boolean;
  /** Sends a stanza to the client. @throws SessionStateError (from the core) when not online */
  send(stanza: XmlElement): void;
  /** Closes the stream gracefully. Resolves when the transport is closed. */
  close(): Promise<void>;
  /** Ends the stream with a stream error (e.g. `conflict`, `policy-violation`). Resolves when the transport is closed. */
  closeWithError(condition: StreamErrorCondition, text?: string): Promise<void>;
}

/**
 * The application side of a server (every adapter's `XmppServerHooks`). Every hook may be async; an
 * exception or rejection ends that connection with `<internal-server-error/>` and is reported through the
 * server's `hookError` event. Stanza hooks are called in arrival order (synchronously), whatever they do
 * asynchronously.
 */
export interface XmppServerHooks<C extends XmppConnection = XmppConnection> {
  /** Whether we serve `domain` (the client's `to`). Default: it is one of `domains`. */
  serves?(domain: string): MaybePromise<boolean>;
  /** Stored SCRAM credentials of `username` for `mechanism`, or `null` if unknown. */
  scramCredentials?(username: string, mechanism: string, connection: C): MaybePromise<ScramStoredCredentials | null>;
  /** PLAIN: whether the password is right. Default: refuse. */
  verifyPassword?(username: string, password: string, connection: C): MaybePromise<boolean>;
  /** SASL EXTERNAL: the account the verified certificate identities map to, or `null`. Default: `null`. */
  external?(peerIdentities: readonly string[], authzid: string | undefined, connection: C): MaybePromise<string | null>;
  /**
   * Resource binding. Default: the server's `resourceConflict` policy over the resources already online
   * for the account (`override` also ends the older session with `<conflict/>`).
   */
  bind?(username: string, resource: string, generated: boolean, connection: C): MaybePromise<BindAnswer>;
  /**
   * A stanza from an online client, `from` already stamped by the core: route it. IQ requests must be
   * answered. Default: IQ get/set get `<service-unavailable/>`, other stanzas are dropped.
   */
  stanza?(connection: C, stanza: XmlElement): MaybePromise<void>;
  /**
   * The connection is online (bound). `resumed`: it came back through XEP-0198 resumption — the same full
   * JID and presence as the session it resumed, which was never reported offline.
   */
  online?(connection: C, info: OnlineInfo): MaybePromise<void>;
  /**
   * A connection that was online has ended. With Stream Management, `detached` came first if the session
   * stays resumable; a session taken over by a resumption ends here too.
   */
  offline?(connection: C): MaybePromise<void>;
  /**
   * XEP-0198 §5: the client asks to resume session `previd`, having handled `h` of its stanzas. Answer
   * with the session's state (from `detached`, or taken over from a live connection with
   * {@link streamManagementOf}) or refuse. Default: `{ refuse: "item-not-found" }`. A state that cannot
   * be resumed after all (the connection closed while the hook ran) comes back through `detached`.
   */
  resume?(previd: string, h: number, connection: C): MaybePromise<ResumeAnswer>;
  /**
   * XEP-0198: the session ended while resumable (transport lost, timeout, stream error). Keep `state` for
   * `state.max` seconds (the core's `DetachedSessions`) and hold the stanzas addressed to its JID meanwhile.
   * Default: nothing is kept and the unacknowledged stanzas go to `undelivered`.
   */
  detached?(connection: C, state: SmState): MaybePromise<void>;
  /**
   * Stanzas sent to the client that it never acknowledged, on a Stream Management session that ended for
   * good. XEP-0198 §6: treat them as stanzas sent to an unavailable resource (an error to the sender, or
   * offline storage). Default: dropped.
   */
  undelivered?(connection: C, stanzas: readonly XmlElement[]): MaybePromise<void>;
  /**
   * Stanzas sent to `connection` that will not reach it: its outbound queue overflowed (`reason`
   * `"slow-reader"`: the peer stopped reading) and the session is being closed with `<resource-constraint/>`.
   * They take the path of stanzas to an offline resource: offline storage, or an error to the sender.
   * Default: each sender that is online on this server gets a `<service-unavailable/>` error reply (RFC
   * 6120 §8.3.3.19; errors and results get nothing, §8.3.1) — never dropped without the sender being told,
   * as far as this server can reach it. (With Stream Management the broken stream leaves the session
   * resumable: what it had written but not had acknowledged travels with its state to `detached`.)
   */
  undeliverable?(connection: C, stanzas: readonly XmlElement[], reason: "slow-reader"): MaybePromise<void>;
  /**
   * An event of a loaded stream feature (`{ type: "feature", feature, name, data }`), e.g. XEP-0077's
   * `register-request` or XEP-0078's `iq-auth-request`. Return (or resolve) a function that answers on
   * the session (`(s) => registerServer(s)!.answer(...)`); it runs inside the connection's pump, so the
   * answer is written at once. Default: feature events are ignored.
   */
  feature?(connection: C, event: FeatureEvent): MaybePromise<((session: ServerSessionLike) => void) | undefined>;
}

/** The second argument of the `online` hook. */
export interface OnlineInfo {
  /** The session resumed an earlier one (XEP-0198). */
  readonly resumed: boolean;
}

/**
 * The XEP-0198 half of a connection's session, when `streamManagement()` is among the session's
 * `features`: its state (`enabled`, `state(jid)`), and `takeOver(jid)` for a resumption that replaces a
 * connection the server still thinks alive.
 */
export function streamManagementOf(connection: { readonly pump: SessionPump<ServerEvent> }): SmServer | undefined {
  const session = connection.pump.session as Partial<ServerSessionLike>;
  return typeof session.featureHalf === "function" ? smServer(session as { featureHalf(name: string): unknown }) : undefined;
}

/** What {@link ServerHooksCore} needs of a connection of the adapter. */
export interface HookedConnection extends XmppConnection {
  username: string | undefined;
  mechanism: string | undefined;
  jid: Jid | undefined;
  /** @internal the connection's pump */
  readonly pump: SessionPump<ServerEvent>;
  /** @internal settles when the transport has closed */
  readonly closedPromise: Promise<void>;
  /**
   * @internal ends the stream with a stream error: normally `pump.abort(condition, text)` (the core's
   * `abort`), plus whatever the transport needs (e.g. a TLS handshake under way cannot carry XML).
   */
  abort(condition: StreamErrorCondition, text?: string): void;
  /** @internal the outbound queue (bytes and stanzas held for a slow reader), if the adapter bounds it */
  readonly outbound?: OutboundQueue;
  /** @internal the overflow's stream error is queued: give the peer `closeGraceMs` to read it, then destroy */
  closeAfterGrace?(ms: number): void;
}

/** Options of {@link ServerHooksCore}. */
export interface ServerHooksCoreOptions<C extends HookedConnection> {
  /** The domains served (prepared), for the default `serves`. */
  domains: readonly string[];
  /** The application. */
  hooks: XmppServerHooks<C>;
  /** RFC 6120 §7.7.2.2, for the default bind hook. Default `"assign-new"`. */
  resourceConflict?: ResourceConflictPolicy;
  /** A hook threw or rejected (the connection is being ended with `<internal-server-error/>`). */
  onHookError(error: unknown, connection: C): void;
  /** Login attempts per address (the cap ends the stream with `<policy-violation/>`). Default: none. */
  addressGate?: AddressGate;
  /** A SASL exchange failed (`username` as asked, if any): for the log line fail2ban reads. */
  onAuthFailed?(connection: C, username: string | undefined, condition: string): void;
  /** A connection was ended for a limit (`policy-violation`, `resource-constraint`): for the log. */
  onLimit?(connection: C, condition: StreamErrorCondition, text: string): void;
  /**
   * A stream error ended the session: sent by us (`byPeer` false: the peer's XML was bad, a limit, a
   * shutdown…) or received from the peer. For the log.
   */
  onStreamError?(connection: C, condition: string, text: string | undefined, byPeer: boolean): void;
}

/** What {@link serverEventsOf} emits on: a server's `EventEmitter`. */
export interface ServerEventSink {
  /** How many listeners `event` has: nothing is emitted without one. */
  listenerCount(event: string): number;
  /** Emits `event` with its arguments (like `EventEmitter.emit`). */
  emit(event: string, ...args: unknown[]): unknown;
}

/**
 * The {@link ServerHooksCoreOptions} callbacks every server adapter re-emits as its own events
 * (`authFailed`, `limit`, `streamError`), each only when someone listens.
 */
export function serverEventsOf<C extends HookedConnection>(
  sink: ServerEventSink,
): Pick<ServerHooksCoreOptions<C>, "onAuthFailed" | "onLimit" | "onStreamError"> {
  return {
    onAuthFailed: (conn, username, condition) => {
      if (sink.listenerCount("authFailed") > 0) sink.emit("authFailed", conn, username, condition);
    },
    onLimit: (conn, condition, text) => {
      if (sink.listenerCount("limit") > 0) sink.emit("limit", conn, condition, text);
    },
    onStreamError: (conn, condition, text, byPeer) => {
      if (sink.listenerCount("streamError") > 0) sink.emit("streamError", conn, condition, text, byPeer);
    },
  };
}

/**
 * The fail2ban-readable line for a failed login: `authentication failed for <user> from <ip>`, the user
 * percent-encoded where it is not printable ASCII (a peer cannot forge or split lines), `-` if unknown.
 */
export function authFailureLine(username: string | undefined, address: string | undefined, detail?: string): string {
  return `authentication failed for ${logSafe(username ?? "")} from ${address ?? "unknown"}${detail === undefined ? "" : ` (${logSafe(detail)})`}`;
}

/**
 * Hook dispatch and the online registry of one server. The adapter adds a connection to {@link live}
 * when it accepts it, passes every session event to {@link onEvent}, and calls {@link closed} when its
 * transport has closed.
 */
export class ServerHooksCore<C extends HookedConnection> {
  /** Open connections. */
  readonly live = new Set<C>();
  private readonly byJid = new Map<string, C>();
  private readonly domains: readonly string[];
  private readonly hooks: XmppServerHooks<C>;
  private readonly opts: ServerHooksCoreOptions<C>;
  /** The login name of the SASL exchange under way, per connection (for the failure log line). */
  private readonly loginName = new WeakMap<C, string>();
  /**
   * Handlers of IQ requests addressed to the server itself (`to` a served domain, or no `to`), answered
   * before the `stanza` hook sees them: `server.iqHandlers.on("get", ns, name, handler)`, the same API as
   * a client's `onIq`. No built-ins and no default answer here: requests no handler takes go on to the
   * `stanza` hook (or get `<service-unavailable/>` without one). A handler failing unexpectedly answers
   * `<internal-server-error/>` and is reported through `onHookError`.
   */
  readonly iqHandlers = new IqHandlers({ ping: false, disco: false, version: false, unhandled: "ignore" }, { category: "server", type: "im" });

  constructor(options: ServerHooksCoreOptions<C>) {
    this.opts = options;
    this.domains = options.domains;
    this.hooks = options.hooks;
  }

  /** The online connection bound to this full JID, if any. */
  connectionFor(fullJid: string | Jid): C | undefined {
    return this.byJid.get(typeof fullJid === "string" ? parseJid(fullJid).toString() : fullJid.toString());
  }

  /** The online connections of an account (bare JID). */
  connectionsOf(bareJid: string | Jid): C[] {
    const bare = (typeof bareJid === "string" ? parseJid(bareJid) : bareJid).bare;
    return [...this.live].filter((c) => c.jid?.bare.equals(bare));
  }

  /**
   * Graceful shutdown of every open connection: ends each stream with `<system-shutdown/>` and waits until
   * their transports have closed or `timeoutMs` has passed. Returns the connections still open (the
   * adapter destroys them).
   */
  async shutdown(timeoutMs: number, timers: PumpTimers = globalTimers): Promise<C[]> {
    const all = [...this.live];
    for (const c of all) c.abort("system-shutdown", "the server is shutting down");
    let timer: unknown;
    const timedOut = new Promise<void>((resolve) => {
      timer = timers.setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(all.map((c) => c.closedPromise)), timedOut]);
    timers.clearTimeout(timer);
    return [...this.live];
  }

  /**
   * Sends a stanza to a connection through its bounded outbound queue: when the queue is over a cap, the
   * connection is closed with `<resource-constraint/>` and the stanza (with those still held) goes to the
   * `undeliverable` hook. @throws SessionStateError (from the core) when the session is not online
   */
  send(conn: C, stanza: XmlElement): void {
    const q = conn.outbound;
    if (q !== undefined) {
      if (q.overflowed) {
        this.undeliverable(conn, [stanza]);
        return;
      }
      if (q.full) {
        this.overflow(conn, [stanza]);
        return;
      }
    }
    // `pump.interact((s) => s.send(stanza))` without a closure per stanza (sending needs no clock).
    const pump = conn.pump;
    try {
      pump.session.send(stanza);
    } finally {
      pump.pump();
    }
    q?.track(stanza);
  }

  /** The transport took `n` bytes of `conn`'s output: past the byte cap, the connection overflows (soon). */
  wrote(conn: C, n: number): void {
    const q = conn.outbound;
    if (q === undefined) return;
    q.wrote(n);
    // Inside the pump: the abort runs once the current dispatch is done.
    if (!q.overflowed && q.overBytes) microtask(() => this.overflow(conn, []));
  }

  /** The outbound queue of `conn` overflowed: `<resource-constraint/>`, and what it held goes to `undeliverable`. */
  private overflow(conn: C, extra: readonly XmlElement[]): void {
    const q = conn.outbound;
    if (q === undefined || q.overflowed) {
      if (extra.length > 0) this.undeliverable(conn, extra);
      return;
    }
    const held = q.heldBytes;
    // With XEP-0198 the stanzas already written are in the session's unacknowledged queue: the broken
    // stream leaves them to resumption (or to `undelivered`). Bouncing them too would deliver them twice.
    const written = q.overflow();
    const unsent = [...(streamManagementOf(conn)?.enabled === true ? [] : written), ...extra];
    const text = `the client is not reading: ${held} bytes and ${unsent.length} stanzas held (limits ${q.limits.maxBytes} bytes, ${q.limits.maxStanzas} stanzas)`;
    this.opts.onLimit?.(conn, "resource-constraint", text);
    conn.abort("resource-constraint", text);
    conn.closeAfterGrace?.(q.limits.closeGraceMs);
    if (unsent.length > 0) this.undeliverable(conn, unsent);
  }

  private undeliverable(conn: C, stanzas: readonly XmlElement[]): void {
    const h = this.hooks;
    if (h.undeliverable !== undefined) {
      Promise.resolve()
        .then(() => h.undeliverable!(conn, stanzas, "slow-reader"))
        .catch((err) => this.emitHookError(err, conn));
      return;
    }
    // Default: an error to each sender online here (a microtask later: we may be inside a sender's pump).
    microtask(() => {
      for (const stanza of stanzas) {
        if (stanza.name === "presence") continue; // RFC 6121 §4.3/§4.5: presence to a gone resource is dropped
        const reply = errorReply(stanza, stanzaError("service-unavailable", { text: "the recipient's session ended before the stanza was delivered" }));
        const to = reply?.attr("to");
        if (reply === undefined || to === undefined) continue;
        const sender = this.byJid.get(to);
        if (sender?.isOnline) this.send(sender, reply);
      }
    });
  }

  /** The connection's transport has closed: forget it, run the `offline` hook if it was online. */
  closed(conn: C): void {
    this.live.delete(conn);
    const wasOnline = conn.jid !== undefined;
    if (wasOnline && this.byJid.get(conn.jid!.toString()) === conn) this.byJid.delete(conn.jid!.toString());
    if (wasOnline && this.hooks.offline !== undefined) {
      Promise.resolve()
        .then(() => this.hooks.offline!(conn))
        .catch((err) => this.emitHookError(err, conn));
    }
  }

  private emitHookError(err: unknown, conn: C): void {
    this.opts.onHookError(err, conn);
  }

  /** Runs an async hook, then gives its answer to the session, unless the connection is gone by then. */
  private ask<T>(conn: C, hook: () => MaybePromise<T>, answer: (session: ServerSessionLike, value: T) => void): void {
    Promise.resolve()
      .then(hook)
      .then(
        (value) => {
          if (conn.pump.session.state === "closed" || conn.closed) return;
          conn.pump.interact((s) => answer(s as ServerSessionLike, value));
        },
        (err: unknown) => {
          this.emitHookError(err, conn);
          conn.abort("internal-server-error");
        },
      )
      .catch((err: unknown) => {
        // The answer itself threw (e.g. an invalid resource from the bind hook): end this connection only.
        this.emitHookError(err, conn);
        conn.abort("internal-server-error");
      });
  }

  /** Handles one session event of `conn` (questions go to the hooks). */
  onEvent(conn: C, ev: ServerEvent): void {
    const h = this.hooks;
    switch (ev.type) {
      case "host-check":
        this.ask(
          conn,
          () => (h.serves !== undefined ? h.serves(ev.domain) : this.domains.includes(ev.domain)),
          (s, ok) => s.answerHost(ok === true),
        );
        return;
      case "scram-credentials":
        if (!this.loginAttempt(conn, ev.username)) return;
        this.ask(
          conn,
          () => (h.scramCredentials !== undefined ? h.scramCredentials(ev.username, ev.mechanism, conn) : null),
          (s, stored) => s.answerScramCredentials(stored ?? null),
        );
        return;
      case "verify-password":
        if (!this.loginAttempt(conn, ev.username)) return;
        this.ask(
          conn,
          () => (h.verifyPassword !== undefined ? h.verifyPassword(ev.username, ev.password, conn) : false),
          (s, ok) => s.answerPassword(ok === true),
        );
        return;
      case "external-identity":
        if (!this.loginAttempt(conn, undefined)) return;
        this.ask(
          conn,
          () => (h.external !== undefined ? h.external(ev.peerIdentities, ev.authzid, conn) : null),
          (s, user) => s.answerExternal(user ?? null),
        );
        return;
      case "authenticated":
        if (ev.username !== undefined) conn.username = ev.username;
        conn.mechanism = ev.mechanism;
        this.loginName.delete(conn);
        return;
      case "auth-failed":
        this.opts.onAuthFailed?.(conn, this.loginName.get(conn), ev.condition);
        this.loginName.delete(conn);
        return;
      case "bind-request":
        this.ask(
          conn,
          () => (h.bind !== undefined ? h.bind(ev.username, ev.resource, ev.generated, conn) : this.defaultBind(ev.username, ev.resource)),
          (s, answer) => s.answerBind(answer),
        );
        return;
      case "online": {
        conn.jid = ev.jid;
        const key = ev.jid.toString();
        const previous = this.byJid.get(key);
        if (previous !== undefined && previous !== conn) previous.abort("conflict", "replaced by a new session");
        this.byJid.set(key, conn);
        const info: OnlineInfo = { resumed: ev.resumed === true };
        if (h.online !== undefined) this.run(conn, () => h.online!(conn, info));
        return;
      }
      case "resume-request":
        this.resume(conn, ev.previd, ev.h);
        return;
      case "sm-detached": {
        const state = ev.state;
        if (h.detached !== undefined) this.run(conn, () => h.detached!(conn, state));
        else if (h.undelivered !== undefined) this.run(conn, () => h.undelivered!(conn, importSmState(state).unacked));
        return;
      }
      case "undelivered": {
        const stanzas = ev.stanzas;
        if (h.undelivered !== undefined) this.run(conn, () => h.undelivered!(conn, stanzas));
        return;
      }
      case "feature":
        if (h.feature !== undefined) this.ask(conn, () => h.feature!(conn, ev), (s, answer) => answer?.(s));
        return;
      case "stanza": {
        const stanza = ev.stanza;
        if (this.answerIq(conn, stanza)) return;
        if (h.stanza !== undefined) this.runStanza(conn, stanza);
        else if (stanza.name === "iq" && (stanza.attr("type") === "get" || stanza.attr("type") === "set")) {
          const reply = serviceUnavailable(stanza);
          if (reply !== undefined) conn.pump.session.send(reply);
        }
        return;
      }
      case "stream-error":
        this.opts.onStreamError?.(conn, ev.condition, ev.text, ev.byPeer);
        return;
      default:
        return;
    }
  }

  /** An IQ request to the server that a registered handler takes: answered here (true), else false. */
  private answerIq(conn: C, iq: XmlElement): boolean {
    if (iq.name !== "iq") return false;
    const type = iq.attr("type");
    if (type !== "get" && type !== "set") return false;
    const payload = iq.firstElement();
    if (payload === undefined || !this.iqHandlers.has(type, payload.ns, payload.name)) return false;
    const to = iq.attr("to");
    if (to !== undefined && !this.domains.includes(to)) return false;
    const answer = this.iqHandlers.answer(iq, (err) => this.opts.onHookError(err, conn));
    const send = (reply: XmlElement) => {
      if (!this.live.has(conn)) return; // the requester is gone
      try {
        this.send(conn, reply);
      } catch {
        // the session ended meanwhile: nobody to answer
      }
    };
    if (answer instanceof Promise) void answer.then(send);
    else if (answer !== undefined) send(answer);
    return true;
  }

  /**
   * XEP-0198 resumption: asks the `resume` hook, then answers the session. A state that cannot be
   * resumed here after all (the connection closed meanwhile, or the core refused it) goes back to the
   * application through `detached`, so no session is lost between the two.
   */
  private resume(conn: C, previd: string, h: number): void {
    const hooks = this.hooks;
    const giveBack = (state: SmState) => {
      if (hooks.detached !== undefined) this.run(conn, () => hooks.detached!(conn, state));
      else if (hooks.undelivered !== undefined) this.run(conn, () => hooks.undelivered!(conn, importSmState(state).unacked));
    };
    Promise.resolve()
      .then((): MaybePromise<ResumeAnswer> => (hooks.resume !== undefined ? hooks.resume(previd, h, conn) : { refuse: "item-not-found" }))
      .then(
        (answer) => {
          const sm = streamManagementOf(conn);
          if (conn.pump.session.state === "closed" || conn.closed || sm === undefined || !sm.resumePending) {
            if ("state" in answer) giveBack(answer.state);
            return;
          }
          conn.pump.interact(() => sm.answerResume(answer));
          // The core goes online at once when it accepts a state; anything else left the state unused.
          if ("state" in answer && conn.jid === undefined) giveBack(answer.state);
        },
        (err: unknown) => {
          this.emitHookError(err, conn);
          conn.abort("internal-server-error");
        },
      )
      .catch((err: unknown) => {
        this.emitHookError(err, conn);
        conn.abort("internal-server-error");
      });
  }

  /** Counts a login attempt against the address cap; over it, the stream ends with `<policy-violation/>`. */
  private loginAttempt(conn: C, username: string | undefined): boolean {
    if (username !== undefined) this.loginName.set(conn, username);
    const gate = this.opts.addressGate;
    if (gate === undefined || gate.loginAttempt(conn.remoteAddress, conn.pump.now())) return true;
    const text = `too many login attempts from ${conn.remoteAddress}; try again later`;
    this.opts.onLimit?.(conn, "policy-violation", text);
    this.opts.onAuthFailed?.(conn, username, "too-many-attempts");
    microtask(() => conn.abort("policy-violation", text));
    return false;
  }

  /** {@link run} for the `stanza` hook, without a closure per stanza (the hot path). */
  private runStanza(conn: C, stanza: XmlElement): void {
    try {
      const r = this.hooks.stanza!(conn, stanza);
      if (r !== undefined && typeof (r as Promise<void>).then === "function") (r as Promise<void>).catch((err: unknown) => this.hookFailed(conn, err));
    } catch (err) {
      // Inside the pump: defer the abort so the current dispatch completes first.
      microtask(() => this.hookFailed(conn, err));
    }
  }

  /** A hook failed: reported, and the connection ends with `<internal-server-error/>`. */
  private hookFailed(conn: C, err: unknown): void {
    this.emitHookError(err, conn);
    conn.abort("internal-server-error");
  }

  /** Calls a hook with no answer; errors end the connection. Synchronous parts run now (stanza order). */
  private run(conn: C, hook: () => MaybePromise<void>): void {
    const fail = (err: unknown) => {
      this.emitHookError(err, conn);
      conn.abort("internal-server-error");
    };
    try {
      const r = hook();
      if (r !== undefined && typeof (r as Promise<void>).then === "function") (r as Promise<void>).catch(fail);
    } catch (err) {
      // Inside the pump: defer the abort so the current dispatch completes first.
      microtask(() => fail(err));
    }
  }

  private defaultBind(username: string, resource: string): BindAnswer {
    const policy = this.opts.resourceConflict ?? "assign-new";
    const inUse = new Set<string>();
    for (const c of this.live) if (c.jid !== undefined && c.jid.local === username) inUse.add(c.jid.resource);
    return resolveResourceConflict(resource, inUse, policy);
  }
}

