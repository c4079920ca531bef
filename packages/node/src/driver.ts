/**
 * Binds one sans-IO session to a Node socket: reads into `receive`, the STARTTLS hand-over, write
 * back-pressure, and the end of the transport. Output, events and the timer are the shared
 * `SessionPump` of `@xmpp-sansio/adapter`. Shared by the client and the server. Internal.
 *
 * @module
 */
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { TLSSocket } from "node:tls";
import type { PumpIo, SessionPump } from "@xmpp-sansio/adapter";
import { defineBitFlags, type SansIoSession, type StreamErrorCondition, type TlsInfo } from "@xmpp-sansio/core";
import { channelBindingFromTlsSocket, type TlsSide } from "./channel-binding.js";

/** The events a driver must understand; everything else is passed through. */
export type DriverEvent = {
  /** The event's name (`starttls` and `closed` mean something to the driver). */
  readonly type: string;
  /** With `starttls`: bytes that arrived after the STARTTLS boundary; they belong to the TLS handshake. */
  readonly tlsBytes?: Uint8Array;
};

/**
 * Monotonic whole milliseconds: what the core's `now` means here (whole, so that the times and deadlines
 * every idle session keeps are small integers, not a boxed number each).
 */
export const monotonicNow = (): number => Math.floor(performance.now());

/** Options of {@link SocketDriver}. */
export interface SocketDriverOptions<E extends DriverEvent> {
  /**
   * The TCP or TLS socket the session runs on; the driver owns it from now on (reads, writes, STARTTLS upgrade,
   * end).
   */
  socket: Socket;
  /**
   * Our TLS role on this socket (`client` or `server`): which channel-binding data (RFC 5929, RFC 9266) to extract
   * after the handshake.
   */
  side: TlsSide;
  /**
   * Builds the session's pump with the driver's I/O (write with back-pressure, STARTTLS, end of session,
   * guarded errors): `new SessionPump({ session, onEvent, ...io })` or a client controller's `attach`.
   */
  createPump(io: Required<Omit<PumpIo<E>, "onClosed">> & { onClosed(event: E): void }): SessionPump<E>;
  /**
   * STARTTLS: wraps the paused plain socket (early TLS bytes already unshifted into it) in TLS and returns
   * the TLS socket, whose handshake is under way.
   */
  upgrade(plain: Socket): TLSSocket;
  /** Extra TLS info (server: `peerIdentities` from a verified client certificate). */
  tlsInfo?(socket: TLSSocket): Omit<TlsInfo, "channelBinding">;
  /** Once, when the (last) socket has closed. `error` is the first socket error seen, if any. */
  onSocketClose(error: Error | undefined): void;
  /** An exception from the session or an event handler during socket/timer-driven processing. */
  onInternalError?(error: unknown): void;
  /** A TLS handshake or certificate error during STARTTLS. */
  onTlsError?(error: Error): void;
  /** How long the socket may linger after `end()` before it is destroyed. Default 5 000 ms. */
  lingerMs?: number;
  /** Sees every chunk read (`in`) and written (`out`) as the session sees it: XML, never TLS records. */
  trace?(direction: "in" | "out", bytes: Uint8Array): void;
  /**
   * Sees every chunk read before the session does and decides when it is fed (`feed(bytes)`, in order,
   * possibly later and in slices): the server's read rate limits and fair slicing. Default: fed at once.
   */
  input?(chunk: Buffer, feed: (bytes: Uint8Array) => void): void;
  /** STARTTLS finished: the TLS socket, before the session hears of it. */
  onSecure?(socket: TLSSocket): void;
}

/** The socket's driver, for the listeners every driver shares (no closures per connection). */
const DRIVER = Symbol("xmpp-sansio.driver");
// biome-ignore lint/suspicious/noExplicitAny: the shared listeners serve drivers of every event type
type Owned = Socket & { [DRIVER]?: SocketDriverBase<any> };

function uncorkDriver(driver: SocketDriverBase<DriverEvent>): void {
  driver.uncork();
}
function onSocketData(this: Owned, chunk: Buffer): void {
  this[DRIVER]?.handleData(chunk);
}
function onSocketEnd(this: Owned): void {
  this[DRIVER]?.handleEnd();
}
function onSocketError(this: Owned, err: Error): void {
  this[DRIVER]?.handleError(err, this);
}
function onSocketClose(this: Owned): void {
  this[DRIVER]?.handleClose();
}
function onSocketDrain(this: Owned): void {
  this[DRIVER]?.pump.resume();
}
function onTlsSecure(this: Owned): void {
  this[DRIVER]?.handleSecure(this as TLSSocket);
}

/**
 * Runs a session over a socket: the part every driver shares, with the transport-specific decisions as
 * protected methods (a subclass per use, no closures per connection). The socket listeners are shared
 * functions that find their driver on the socket. The subclass constructor sets {@link session} and
 * {@link pump}. Every interaction with the session goes through `interact` (or
 * happens inside `onEvent`), after which output is written, events are dispatched and the timer is
 * re-armed (by the pump).
 */
export abstract class SocketDriverBase<E extends DriverEvent> implements PumpIo<E> {
  /** The session driven. */
  session!: SansIoSession<E>;
  /** The shared pump: output, events, timer. */
  pump!: SessionPump<E>;
  /** The current socket: the plain one, then the TLS socket after STARTTLS. */
  protected sock: Socket;
  /** Our TLS role on the socket (which channel-binding data to extract after the handshake). */
  protected readonly side: TlsSide;
  private plain: Socket | undefined;
  /** @internal boolean state as bits (`defineBitFlags` below; subclasses add theirs from `BASE_FLAGS` up) */
  protected bits = 0;
  declare private ended: boolean;
  declare private closedNotified: boolean;
  declare private transportGone: boolean;
  /** Between the STARTTLS hand-over and the end of the TLS handshake. */
  declare private handshaking: boolean;
  private firstError: Error | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, side: TlsSide) {
    this.sock = socket;
    this.side = side;
    this.attach(socket);
  }

  // --- what a subclass decides --------------------------------------------------------------------

  /** A chunk was read: feed it to the session ({@link feed}) now, or later and in slices. */
  protected handleInput(chunk: Buffer): void {
    this.feed(chunk);
  }
  /** STARTTLS: wraps the paused plain socket (early TLS bytes already unshifted into it) in TLS. */
  protected abstract upgrade(plain: Socket): TLSSocket;
  /** Extra TLS info (server: `peerIdentities` from a verified client certificate). */
  protected tlsInfo(_socket: TLSSocket): Omit<TlsInfo, "channelBinding"> {
    return {};
  }
  /** Once, when the (last) socket has closed. `error` is the first socket error seen, if any. */
  protected abstract socketClosed(error: Error | undefined): void;
  /** An exception from the session or an event handler during socket/timer-driven processing. */
  protected internalError(_error: unknown): void {}
  /** A TLS handshake or certificate error during STARTTLS. */
  protected tlsError(_error: Error): void {}
  /** STARTTLS finished: the TLS socket, before the session hears of it. */
  protected secured(_socket: TLSSocket): void {}

  /** The server's `tls-server-end-point` when known without reading it from the socket (server side). */
  protected serverEndPoint(): Uint8Array | undefined {
    return undefined;
  }
  /** Sees every chunk read (`in`) and written (`out`) as the session sees it. */
  protected trace(_direction: "in" | "out", _bytes: Uint8Array): void {}
  /** How long the socket may linger after `end()` before it is destroyed. */
  protected get lingerMs(): number {
    return 5_000;
  }

  // --- the pump's IO (prototype methods: the driver is the pump's `io`) ----------------------------

  /** Writes one chunk; `false` when the socket is over its highWaterMark (the pump stops until 'drain'). */
  write(bytes: Uint8Array): boolean {
    // After end() nothing can be written: drop (the session is closed, its buffer must not grow).
    if (this.ended || this.sock.destroyed || !this.sock.writable) return true;
    this.trace("out", bytes);
    // Every stanza routed to this connection is a write of its own: corked from the first write of a turn
    // of the event loop to the next tick, a turn's writes leave in one `writev` (over TLS: fewer records).
    // The tick callback is one shared function (no closure per connection).
    if (this.corked === undefined) {
      this.corked = this.sock;
      this.sock.cork();
      process.nextTick(uncorkDriver, this);
    }
    return this.sock.write(bytes);
  }

  /** The socket corked for this turn's writes, if any. */
  private corked: Socket | undefined;

  /** Ends this turn's cork (see {@link write}); also before the STARTTLS hand-over. */
  uncork(): void {
    const s = this.corked;
    this.corked = undefined;
    s?.uncork();
  }

  /** The STARTTLS hand-over (all output so far has been written). */
  onStartTls(tlsBytes: Uint8Array): void {
    this.startTls(tlsBytes);
  }

  /** The session is over: end the socket (a peer that let the close deadline pass is dropped). */
  onClosed(ev: E): void {
    if ((ev as { reason?: string }).reason === "timeout") this.destroyAfterFlush();
    else this.endSocket();
  }

  /** A bug in the session or in an event handler, from a socket or timer call: end this connection. */
  onError(err: unknown): void {
    this.firstError ??= err as Error;
    try {
      this.internalError(err);
    } finally {
      this.abort("internal-server-error");
    }
  }

  // --- the socket's events (called by the shared listeners) ----------------------------------------

  /** @internal */
  handleData(chunk: Buffer): void {
    this.handleInput(chunk);
  }

  /** Gives bytes read to the session (directly, or from {@link handleInput}, possibly later). */
  feed(chunk: Uint8Array): void {
    if (this.closedNotified) return;
    this.trace("in", chunk);
    this.pump.guarded((s, now) => s.receive(chunk, now));
  }

  /** @internal */
  handleEnd(): void {
    this.gone();
  }

  /** @internal */
  handleError(err: Error, from: Socket): void {
    if (this.handshaking && from === this.sock && from !== this.plain) this.tlsError(err);
    this.firstError ??= err;
    this.sock.destroy();
  }

  /** @internal */
  handleClose(): void {
    // After STARTTLS the TLS socket closed: the TCP connection under it goes too (closing a TLS socket does
    // not always close the socket it wraps).
    this.plain?.destroy();
    this.gone();
    this.finish();
  }

  // --- for the owner --------------------------------------------------------------------------------

  /** The current socket (the TLS socket after STARTTLS). */
  get socket(): Socket {
    return this.sock;
  }

  /** Bytes written to the socket and not yet taken by the operating system. */
  get writableLength(): number {
    return this.sock.writableLength;
  }

  /** The first socket error, if any. */
  get error(): Error | undefined {
    return this.firstError;
  }

  /** True once the socket has closed. */
  get closed(): boolean {
    return this.closedNotified;
  }

  /** Calls into the session (with the current time), then writes output, dispatches events, re-arms the timer. */
  interact(fn: (session: SansIoSession<E>, now: number) => void): void {
    this.pump.interact(fn);
  }

  /**
   * Like `interact`, for calls the socket or a timer makes (no caller to throw to):
   * an exception — a bug in the session or in an event handler — ends this connection with
   * `<internal-server-error/>` and is reported to `internalError`, instead of becoming an uncaught
   * exception that would take the process down.
   */
  guarded(fn: (session: SansIoSession<E>, now: number) => void): void {
    this.pump.guarded(fn);
  }

  /**
   * Ends the connection with a stream error (an application hook failed, the server shuts down, a newer
   * session replaced this one): the core's `abort` queues `<stream:error/>` and `</stream:stream>` (after
   * our stream header if none was sent), and its `closed` event ends the socket.
   */
  abort(condition: StreamErrorCondition, text?: string): void {
    if (this.ended || this.closedNotified) return;
    if (this.handshaking) {
      // Mid-STARTTLS: nothing can be said in XML, and end() on an unfinished TLS handshake may hang.
      this.ended = true;
      this.sock.destroy();
      return;
    }
    // The session's `closed` event (now, or at the end of the running pump) ends the socket.
    this.pump.abort(condition, text);
  }

  /** Destroys the socket now (no goodbye). */
  destroy(): void {
    this.sock.destroy();
  }

  private attach(sock: Socket): void {
    (sock as Owned)[DRIVER] = this;
    sock.on("data", onSocketData);
    sock.on("end", onSocketEnd);
    sock.on("error", onSocketError);
    sock.on("close", onSocketClose);
    sock.on("drain", onSocketDrain);
  }

  private detach(sock: Socket): void {
    sock.off("data", onSocketData);
    sock.off("end", onSocketEnd);
    sock.off("close", onSocketClose);
    sock.off("drain", onSocketDrain);
    // keep the error listener: a late error on the old socket must not become an uncaught exception
  }

  private startTls(tlsBytes: Uint8Array): void {
    // Everything the session had (e.g. <proceed/>) went out on the plain socket first (the pump saw to it).
    const plain = this.sock;
    // <proceed/> (server) or <starttls/> (client) must be on the wire before TLS takes the socket over.
    this.uncork();
    // No further byte may reach the XML parser: stop reading and take our listeners off the plain socket.
    plain.pause();
    this.detach(plain);
    // Bytes that arrived after the STARTTLS boundary belong to TLS: put them back in front of the stream;
    // TLSSocket feeds a wrapped socket's buffered data to the TLS engine first.
    if (tlsBytes.length > 0) plain.unshift(Buffer.from(tlsBytes));
    let secure: TLSSocket;
    try {
      secure = this.upgrade(plain);
    } catch (err) {
      this.firstError ??= err as Error;
      this.tlsError(err as Error);
      plain.destroy();
      this.guarded((s, now) => s.transportClosed(now));
      this.finish();
      return;
    }
    this.plain = plain;
    this.sock = secure;
    // Node's TLSSocket forwards the plain socket's errors to itself (where we listen): ours can go.
    plain.off("error", onSocketError);
    this.attach(secure);
    this.handshaking = true;
    // `on`, not `once`: the event comes once, and a once-wrapper removed later would cost the socket its
    // listener table's fast mode (≈200 B per connection) — an idle connection keeps what is added here.
    secure.on(this.side === "client" ? "secureConnect" : "secure", onTlsSecure);
  }

  /** @internal the STARTTLS handshake is done */
  handleSecure(secure: TLSSocket): void {
    if (!this.handshaking) return;
    this.handshaking = false;
    this.secured(secure);
    const info: TlsInfo = { ...this.tlsInfo(secure), channelBinding: channelBindingFromTlsSocket(secure, this.side, this.serverEndPoint()) };
    this.guarded((s, now) => s.tlsEstablished(info, now));
  }

  private endSocket(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.handshaking) {
      this.sock.destroy();
      return;
    }
    this.sock.end();
    this.lingerTimer = setTimeout(destroySocket, this.lingerMs, this.sock);
    this.lingerTimer.unref();
  }

  private destroyAfterFlush(): void {
    if (this.ended) return;
    this.ended = true;
    // end() flushes what is queued, then destroy once it is out (or at once if nothing is).
    const sock = this.sock;
    sock.end(() => sock.destroy());
    this.lingerTimer = setTimeout(destroySocket, 1_000, sock);
    this.lingerTimer.unref();
  }

  /** The transport is gone (peer FIN, error, close): tell the session once. */
  private gone(): void {
    if (this.transportGone) return;
    this.transportGone = true;
    if (this.session.state !== "closed") this.guarded((s, now) => s.transportClosed(now));
    else this.pump.pump();
  }

  private finish(): void {
    if (this.closedNotified) return;
    this.closedNotified = true;
    this.pump.stop();
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    this.socketClosed(this.firstError);
  }
}

/** The first bit of {@link SocketDriverBase}'s `bits` free for a subclass's flags. @internal */
export const BASE_FLAGS = 4;
defineBitFlags(SocketDriverBase.prototype, "bits", ["ended", "closedNotified", "transportGone", "handshaking"]);

function endReadHold(driver: { endReadHold(): void }): void {
  driver.endReadHold();
}

function destroySocket(socket: Socket): void {
  socket.destroy();
}

/**
 * A `SocketDriverBase` configured by an options object (the client: one connection at a time, so
 * its closures cost nothing worth saving).
 */
export class SocketDriver<E extends DriverEvent> extends SocketDriverBase<E> {
  private readonly opts: SocketDriverOptions<E>;

  constructor(options: SocketDriverOptions<E>) {
    super(options.socket, options.side);
    this.opts = options;
    this.pump = options.createPump({
      write: (bytes) => this.write(bytes),
      onStartTls: (tlsBytes) => this.onStartTls(tlsBytes),
      onClosed: (ev) => this.onClosed(ev),
      onError: (err) => this.onError(err),
    });
    this.session = this.pump.session;
  }

  private readsHeld: NodeJS.Timeout | undefined;

  /**
   * Pauses reading from the socket (the current one: the TLS socket after STARTTLS) for `ms` milliseconds
   * — a read rate limit's back-pressure; nothing read is dropped. A pause already running is not extended.
   */
  pauseReadsFor(ms: number): void {
    if (this.readsHeld !== undefined || this.closed) return;
    this.sock.pause();
    this.readsHeld = setTimeout(endReadHold, Math.ceil(ms), this);
    this.readsHeld.unref();
  }

  /** @internal the pause of {@link pauseReadsFor} is over */
  endReadHold(): void {
    this.readsHeld = undefined;
    if (!this.closed) this.sock.resume();
  }

  protected override handleInput(chunk: Buffer): void {
    if (this.opts.input !== undefined) this.opts.input(chunk, (bytes) => this.feed(bytes));
    else this.feed(chunk);
  }
  protected upgrade(plain: Socket): TLSSocket {
    return this.opts.upgrade(plain);
  }
  protected override tlsInfo(socket: TLSSocket): Omit<TlsInfo, "channelBinding"> {
    return this.opts.tlsInfo?.(socket) ?? {};
  }
  protected socketClosed(error: Error | undefined): void {
    if (this.readsHeld !== undefined) clearTimeout(this.readsHeld);
    this.opts.onSocketClose(error);
  }
  protected override internalError(error: unknown): void {
    this.opts.onInternalError?.(error);
  }
  protected override tlsError(error: Error): void {
    this.opts.onTlsError?.(error);
  }
  protected override secured(socket: TLSSocket): void {
    this.opts.onSecure?.(socket);
  }
  protected override trace(direction: "in" | "out", bytes: Uint8Array): void {
    this.opts.trace?.(direction, bytes);
  }
  protected override get lingerMs(): number {
    return this.opts.lingerMs ?? 5_000;
  }
}
