/**
 * The runtime-neutral half of a c2s server adapter: the application hooks (same shape as
 * `@xmpp-sansio/node`'s `XmppServerHooks`), answering the session's questions through them, the online
 * registry (full JID → connection) and the default resource-conflict policy. Used by the Node WebSocket
 * server and by the Deno server; no `node:*`, no DOM.
 *
 * @module
 */
import {
  type BindAnswer,
  type ResourceConflictPolicy,
  resolveResourceConflict,
  type SansIoSession,
  type ScramStoredCredentials,
  type ServerEvent,
  type StreamErrorCondition,
  serviceUnavailable,
} from "@xmpp-sansio/core";
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import type { SessionPump } from "./pump.js";

/** The server session surface the adapter drives (the core's `ServerSession`). */
export interface ServerSessionLike extends SansIoSession<ServerEvent> {
  start(now: number): void;
  answerHost(ok: boolean): void;
  answerScramCredentials(stored: ScramStoredCredentials | null): void;
  answerPassword(ok: boolean): void;
  answerExternal(username: string | null): void;
  answerBind(answer: BindAnswer): void;
}

type MaybePromise<T> = T | Promise<T>;

/**
 * What a hook sees of a connection: the members `@xmpp-sansio/node`'s `ServerConnection` has too, so one
 * hooks object serves both the TCP and the WebSocket server.
 */
export interface XmppConnection {
  readonly id: number;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly username: string | undefined;
  readonly mechanism: string | undefined;
  readonly jid: Jid | undefined;
  readonly isOnline: boolean;
  readonly closed: boolean;
  readonly secure: boolean;
  send(stanza: XmlElement): void;
  close(): Promise<void>;
  closeWithError(condition: StreamErrorCondition, text?: string): Promise<void>;
}

/**
 * The application side of the server — the same hooks, in the same shape, as `@xmpp-sansio/node`'s
 * `XmppServerHooks`. Every hook may be async; an exception ends that connection with
 * `<internal-server-error/>` and is reported through the `hookError` event.
 */
export interface XmppServerHooks<C extends XmppConnection = XmppConnection> {
  /** Whether we serve `domain` (the client's `to`). Default: it is one of `domains`. */
  serves?(domain: string): MaybePromise<boolean>;
  /** Stored SCRAM credentials of `username` for `mechanism`, or `null` if unknown. */
  scramCredentials?(username: string, mechanism: string, connection: C): MaybePromise<ScramStoredCredentials | null>;
  /** PLAIN: whether the password is right. Default: refuse. */
  verifyPassword?(username: string, password: string, connection: C): MaybePromise<boolean>;
  /** SASL EXTERNAL: never offered over WebSocket here (no client certificates); kept for shape. */
  external?(peerIdentities: readonly string[], authzid: string | undefined, connection: C): MaybePromise<string | null>;
  /** Resource binding. Default: the `resourceConflict` policy over the resources already online. */
  bind?(username: string, resource: string, generated: boolean, connection: C): MaybePromise<BindAnswer>;
  /** A stanza from an online client, `from` stamped: route it. IQ get/set must be answered. */
  stanza?(connection: C, stanza: XmlElement): MaybePromise<void>;
  /** The connection is online (bound). */
  online?(connection: C): MaybePromise<void>;
  /** A connection that was online has ended. */
  offline?(connection: C): MaybePromise<void>;
}

/** What {@link ServerHooksCore} needs of a connection of the adapter. */
export interface HookedConnection extends XmppConnection {
  username: string | undefined;
  mechanism: string | undefined;
  jid: Jid | undefined;
  /** @internal the connection's pump */
  readonly pump: SessionPump<ServerEvent>;
  /** @internal ends the stream with a stream error written by the adapter */
  abort(condition: StreamErrorCondition, text?: string): void;
}

/** Options of {@link ServerHooksCore}. */
export interface ServerHooksCoreOptions<C extends HookedConnection> {
  domains: readonly string[];
  hooks: XmppServerHooks<C>;
  resourceConflict?: ResourceConflictPolicy;
  /** A hook threw or rejected (the connection is being ended with `<internal-server-error/>`). */
  onHookError(error: unknown, connection: C): void;
}

/** Hook dispatch and the online registry of one server. */
export class ServerHooksCore<C extends HookedConnection> {
  /** Open connections. */
  readonly live = new Set<C>();
  private readonly byJid = new Map<string, C>();
  private readonly domains: readonly string[];
  private readonly hooks: XmppServerHooks<C>;
  private readonly opts: ServerHooksCoreOptions<C>;

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
        this.ask(
          conn,
          () => (h.scramCredentials !== undefined ? h.scramCredentials(ev.username, ev.mechanism, conn) : null),
          (s, stored) => s.answerScramCredentials(stored ?? null),
        );
        return;
      case "verify-password":
        this.ask(
          conn,
          () => (h.verifyPassword !== undefined ? h.verifyPassword(ev.username, ev.password, conn) : false),
          (s, ok) => s.answerPassword(ok === true),
        );
        return;
      case "external-identity":
        this.ask(
          conn,
          () => (h.external !== undefined ? h.external(ev.peerIdentities, ev.authzid, conn) : null),
          (s, user) => s.answerExternal(user ?? null),
        );
        return;
      case "authenticated":
        if (ev.username !== undefined) conn.username = ev.username;
        conn.mechanism = ev.mechanism;
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
        if (h.online !== undefined) this.run(conn, () => h.online!(conn));
        return;
      }
      case "stanza": {
        const stanza = ev.stanza;
        if (h.stanza !== undefined) this.run(conn, () => h.stanza!(conn, stanza));
        else if (stanza.name === "iq" && (stanza.attr("type") === "get" || stanza.attr("type") === "set")) {
          const reply = serviceUnavailable(stanza);
          if (reply !== undefined) conn.pump.session.send(reply);
        }
        return;
      }
      default:
        return;
    }
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
      queueMicrotask(() => fail(err));
    }
  }

  private defaultBind(username: string, resource: string): BindAnswer {
    const policy = this.opts.resourceConflict ?? "assign-new";
    const inUse = new Set<string>();
    for (const c of this.live) if (c.jid !== undefined && c.jid.local === username) inUse.add(c.jid.resource);
    return resolveResourceConflict(resource, inUse, policy);
  }
}

