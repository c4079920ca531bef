/**
 * `XmppComponentServer`: a listener for XEP-0114 external components (`jabber:component:accept`), one
 * core `ComponentServerSession` per TCP connection, with a per-domain secret lookup, one connection per
 * domain (a second one with the right secret gets `<conflict/>`), and stanza hooks.
 *
 * @module
 */
import { EventEmitter, once } from "node:events";
import * as net from "node:net";
import { type MaybePromise, SessionPump } from "@xmpp-sansio/adapter";
import { type ComponentServerOptions, ComponentServerSession, NS_COMPONENT_ACCEPT, type ServerEvent, type StreamErrorCondition } from "@xmpp-sansio/core";
import type { Jid } from "@xmpp-sansio/jid";
import { NS_CLIENT, type XmlElement } from "@xmpp-sansio/xml";
import { monotonicNow, SocketDriver } from "./driver.js";

/** The application side of {@link XmppComponentServer}. Every hook may be async. */
export interface XmppComponentServerHooks {
  /**
   * The shared secret of the component for `domain`, or `null`/`undefined` when `domain` is not a
   * component of ours (the stream then ends with `<host-unknown/>`, as Prosody does).
   */
  secret(domain: string): MaybePromise<string | null | undefined>;
  /** A component authenticated and is online. */
  online?(connection: ComponentConnection): MaybePromise<void>;
  /**
   * A stanza from an online component; its `from` is of the component's domain (the core checked it).
   * It is given in `jabber:client` (every element of the component namespace moved there), so a router
   * can hand it to client sessions as it is.
   */
  stanza?(connection: ComponentConnection, stanza: XmlElement): MaybePromise<void>;
  /** A component that was online went away. */
  offline?(connection: ComponentConnection): MaybePromise<void>;
}

/** Options of {@link XmppComponentServer}. */
export interface XmppComponentServerOptions {
  /** The application. */
  hooks: XmppComponentServerHooks;
  /**
   * Listening address. Default `"127.0.0.1"`: component streams are plain TCP and the secret is the only
   * credential, so the port belongs on loopback or a private network (Prosody's default
   * `component_interfaces` is loopback too).
   */
  host?: string;
  /** Port. Default 5347; 0 for an ephemeral one. */
  port?: number;
  /** Further core options (timeouts, limits, `random`…). */
  session?: Omit<ComponentServerOptions, "tls">;
  /** Most connections open at once (any state). Default 100; past it new sockets are closed at once. */
  maxConnections?: number;
  /** `close()` waits this long for components to end their streams before destroying sockets. Default 5 000 ms. */
  shutdownTimeoutMs?: number;
  /**
   * Bytes written to a component and not yet taken by its socket: past this the component is not
   * reading, and its stream ends with `<resource-constraint/>` (what was held is lost). Default 1 MiB.
   */
  maxHeldBytes?: number;
}

/** Events of {@link XmppComponentServer}. */
export interface XmppComponentServerEvents {
  /** A component connected (not yet authenticated). */
  connection: [connection: ComponentConnection];
  /** A handshake failed (`not-authorized`: wrong secret; `conflict`: the domain is already connected; `host-unknown`). */
  authFailed: [connection: ComponentConnection, domain: string | undefined, condition: string];
  /** A hook threw or rejected; that connection was ended with `<internal-server-error/>`. */
  hookError: [error: unknown, connection: ComponentConnection];
  /** The listener failed after start. Only emitted when someone listens. */
  error: [error: Error];
}

let nextId = 1;

/** One component connection as the application sees it. */
export class ComponentConnection {
  /** A process-unique number, for logs. */
  readonly id: number;
  /** The peer's address. */
  readonly remoteAddress: string | undefined;
  /** The component's domain as a JID, once online. */
  jid: Jid | undefined;
  /** The domain the component asked for (stream header `to`), once known. */
  domain: string | undefined;
  /** @internal */
  readonly driver: SocketDriver<ServerEvent>;
  /** @internal */
  readonly session: ComponentServerSession;
  /** @internal */
  readonly closedPromise: Promise<void>;
  private readonly maxHeldBytes: number;

  /** @internal */
  constructor(driver: SocketDriver<ServerEvent>, session: ComponentServerSession, remoteAddress: string | undefined, closedPromise: Promise<void>, maxHeldBytes: number) {
    this.id = nextId++;
    this.maxHeldBytes = maxHeldBytes;
    this.driver = driver;
    this.session = session;
    this.remoteAddress = remoteAddress;
    this.closedPromise = closedPromise;
  }

  /** Whether the component is online (stanzas may be sent). */
  get isOnline(): boolean {
    return this.session.state === "online";
  }

  /** Whether the socket has closed. */
  get closed(): boolean {
    return this.driver.closed;
  }

  /**
   * Sends a stanza to the component. Stanzas in `jabber:client` — from the server's router — are
   * written in the component namespace, as XEP-0114 streams carry them.
   * @throws SessionStateError (from the core) when not online
   */
  send(stanza: XmlElement): void {
    const out = rebase(stanza, NS_COMPONENT_ACCEPT);
    this.driver.interact(() => this.session.send(out));
    // Output goes to the socket at once (no back-pressure into the session); a component that does not
    // read is measured here, where its bytes wait.
    if (this.driver.socket.writableLength > this.maxHeldBytes) {
      this.driver.abort("resource-constraint", `more than ${this.maxHeldBytes} bytes written to the component and not read`);
    }
  }

  /** Bytes written to the socket and not yet taken by the operating system. */
  get heldBytes(): number {
    return this.driver.socket.writableLength;
  }

  /** Closes the stream gracefully. Resolves when the socket is closed. */
  close(): Promise<void> {
    if (!this.driver.closed) this.driver.interact((s, now) => s.close(now));
    return this.closedPromise;
  }

  /** Ends the stream with a stream error. Resolves when the socket is closed. */
  closeWithError(condition: StreamErrorCondition, text?: string): Promise<void> {
    this.driver.abort(condition, text);
    return this.closedPromise;
  }
}

/**
 * A listener for external components (XEP-0114).
 *
 * @example
 * ```ts
 * const secrets = new Map([["bot.example.com", "s3cr3t"]]);
 * const components = new XmppComponentServer({
 *   port: 5347,
 *   hooks: { secret: (d) => secrets.get(d), stanza: (c, s) => route(c.jid, s) },
 * });
 * await components.listen();
 * components.connectionFor("bot.example.com")?.send(stanza);
 * ```
 */
export class XmppComponentServer extends EventEmitter<XmppComponentServerEvents> {
  private readonly options: XmppComponentServerOptions;
  private readonly server: net.Server;
  private readonly live = new Set<ComponentConnection>();
  private readonly byDomain = new Map<string, ComponentConnection>();
  private closing = false;

  constructor(options: XmppComponentServerOptions) {
    super();
    this.options = options;
    this.server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
    this.server.on("error", (err) => {
      if (this.listenerCount("error") > 0) this.emit("error", err);
    });
  }

  /** Starts listening; resolves with the bound port. */
  async listen(): Promise<{ port: number }> {
    this.server.listen(this.options.port ?? 5347, this.options.host ?? "127.0.0.1");
    await once(this.server, "listening");
    return this.address();
  }

  /** The port listened on. */
  address(): { port: number } {
    const a = this.server.address();
    return { port: a !== null && typeof a === "object" ? a.port : 0 };
  }

  /** Connections currently open (any state). */
  get connections(): ReadonlySet<ComponentConnection> {
    return this.live;
  }

  /** The online component of `domain`, if connected. */
  connectionFor(domain: string): ComponentConnection | undefined {
    return this.byDomain.get(domain);
  }

  /** Domains with an online component. */
  get domains(): string[] {
    return [...this.byDomain.keys()];
  }

  /**
   * Stops accepting, ends every stream with `<system-shutdown/>`, waits up to `shutdownTimeoutMs` for
   * the sockets to close, then destroys the rest.
   */
  async close(): Promise<void> {
    this.closing = true;
    const stopped = this.server.listening ? new Promise<void>((r) => this.server.close(() => r())) : Promise.resolve();
    const all = [...this.live];
    for (const c of all) c.driver.abort("system-shutdown");
    const deadline = new Promise<void>((r) => setTimeout(r, this.options.shutdownTimeoutMs ?? 5_000).unref());
    await Promise.race([Promise.all(all.map((c) => c.closedPromise)), deadline]);
    for (const c of all) if (!c.closed) c.driver.destroy();
    await stopped;
  }

  private accept(socket: net.Socket): void {
    socket.on("error", () => {}); // the driver records errors
    if (this.closing || this.live.size >= (this.options.maxConnections ?? 100)) {
      socket.destroy();
      return;
    }
    const session = new ComponentServerSession({ ...(this.options.session ?? {}), tls: "none" });
    const hooks = this.options.hooks;
    let resolveClosed!: () => void;
    const closedPromise = new Promise<void>((r) => (resolveClosed = r));
    let conn!: ComponentConnection;
    let secret: string | null = null;
    let wasOnline = false;
    let failed = false;
    /** Runs a hook; a throw or rejection ends the connection with <internal-server-error/>. */
    const call = <T>(fn: () => MaybePromise<T>, then: (value: T) => void): void => {
      const fail = (err: unknown) => {
        if (this.listenerCount("hookError") > 0) this.emit("hookError", err, conn);
        conn.driver.abort("internal-server-error");
      };
      let out: MaybePromise<T>;
      try {
        out = fn();
      } catch (err) {
        fail(err);
        return;
      }
      if (out instanceof Promise) out.then((v) => !conn.closed && conn.driver.interact(() => then(v)), fail);
      else then(out);
    };
    const onEvent = (ev: ServerEvent): void => {
      switch (ev.type) {
        case "host-check":
          conn.domain = ev.domain;
          call(
            () => hooks.secret(ev.domain),
            (s) => {
              secret = s ?? null;
              if (secret === null) this.authFailed(conn, ev.domain, "host-unknown");
              session.answerHost(secret !== null);
            },
          );
          return;
        case "component-secret": {
          // Checked now, with the secret verified by the core first: only a holder of the secret learns of the conflict.
          const conflict = this.byDomain.has(ev.domain);
          session.answerComponentSecret(secret, { conflict });
          return;
        }
        case "stream-error":
          if (!ev.byPeer && !wasOnline && !failed && (ev.condition === "not-authorized" || ev.condition === "conflict")) {
            failed = true;
            this.authFailed(conn, conn.domain, ev.condition);
          }
          return;
        case "online":
          wasOnline = true;
          conn.jid = ev.jid;
          this.byDomain.set(ev.jid.domain, conn);
          if (hooks.online !== undefined) call(() => hooks.online!(conn), () => {});
          return;
        case "closed":
          // The stream is over (the socket may linger a little): the domain is free for a new connection now.
          gone();
          return;
        case "stanza":
          if (hooks.stanza !== undefined) {
            const stanza = rebase(ev.stanza, NS_CLIENT);
            call(() => hooks.stanza!(conn, stanza), () => {});
          }
          return;
        default:
          return;
      }
    };
    /** Once: the domain is released and the `offline` hook told (at the end of the stream, or of the socket). */
    const gone = (): void => {
      if (!wasOnline || conn.jid === undefined || this.byDomain.get(conn.jid.domain) !== conn) return;
      this.byDomain.delete(conn.jid.domain);
      if (hooks.offline === undefined) return;
      try {
        const r = hooks.offline(conn);
        if (r instanceof Promise) r.catch((err: unknown) => this.listenerCount("hookError") > 0 && this.emit("hookError", err, conn));
      } catch (err) {
        if (this.listenerCount("hookError") > 0) this.emit("hookError", err, conn);
      }
    };
    const driver = new SocketDriver<ServerEvent>({
      socket,
      side: "server",
      createPump: (io) =>
        new SessionPump<ServerEvent>({
          session,
          onEvent,
          now: monotonicNow,
          ...io,
          // Never block the session's output: it would pile up in the session unmeasured. The socket holds
          // it instead, bounded by `maxHeldBytes` (checked in `send`).
          write: (bytes) => {
            io.write(bytes);
            return true;
          },
        }),
      upgrade: () => {
        throw new Error("a component stream has no STARTTLS");
      },
      onInternalError: (err) => {
        if (this.listenerCount("hookError") > 0) this.emit("hookError", err, conn);
      },
      onSocketClose: () => {
        this.live.delete(conn);
        gone();
        resolveClosed();
      },
    });
    conn = new ComponentConnection(driver, session, socket.remoteAddress, closedPromise, this.options.maxHeldBytes ?? 1024 * 1024);
    this.live.add(conn);
    this.emit("connection", conn);
    driver.interact((_s, now) => session.start(now));
  }

  private authFailed(conn: ComponentConnection, domain: string | undefined, condition: string): void {
    if (this.listenerCount("authFailed") > 0) this.emit("authFailed", conn, domain, condition);
  }
}

/**
 * A copy of `stanza` moved to the content namespace `ns` (RFC 6120 §4.8.3: the same stanza on another kind
 * of stream): the stanza element and its descendants in the stanza's namespace reached through elements of
 * that namespace (`body`, `error`, …). A stanza nested in an extension (a XEP-0297 `<forwarded/>` message)
 * keeps its `jabber:client`. Returns `stanza` itself when it is in `ns` already.
 */
function rebase(stanza: XmlElement, ns: string): XmlElement {
  const from = stanza.ns;
  if (from === ns) return stanza;
  const copy = stanza.clone();
  const stack: XmlElement[] = [copy];
  for (let e = stack.pop(); e !== undefined; e = stack.pop()) {
    e.ns = ns;
    for (const c of e.children) if (typeof c !== "string" && c.ns === from) stack.push(c);
  }
  return copy;
}
