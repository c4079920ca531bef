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
import type { SansIoSession, StreamErrorCondition, TlsInfo } from "@xmpp-sansio/core";
import { channelBindingFromTlsSocket, type TlsSide } from "./channel-binding.js";

/** The events a driver must understand; everything else is passed through. */
export type DriverEvent = {
  /** The event's name (`starttls` and `closed` mean something to the driver). */
  readonly type: string;
  /** With `starttls`: bytes that arrived after the STARTTLS boundary; they belong to the TLS handshake. */
  readonly tlsBytes?: Uint8Array;
};

/** Monotonic milliseconds: what the core's `now` means here. */
export const monotonicNow = (): number => performance.now();

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

/**
 * Runs a session over a socket. Every interaction with the session goes through {@link SocketDriver.interact}
 * (or happens inside `onEvent`), after which output is written, events are dispatched and the timer is
 * re-armed (by the pump).
 */
export class SocketDriver<E extends DriverEvent> {
  /** The sans-IO session driven over the socket (client or server role). */
  readonly session: SansIoSession<E>;
  /** The shared pump: output, events, timer. */
  readonly pump: SessionPump<E>;
  private sock: Socket;
  private readonly opts: SocketDriverOptions<E>;
  private ended = false;
  private closedNotified = false;
  private transportGone = false;
  private firstError: Error | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly onData = (chunk: Buffer) => {
    if (this.opts.input !== undefined) this.opts.input(chunk, this.feed);
    else this.feed(chunk);
  };
  /** Gives bytes read to the session (directly, or from the `input` hook, possibly later). */
  private readonly feed = (chunk: Uint8Array) => {
    if (this.closedNotified) return;
    this.opts.trace?.("in", chunk);
    this.guarded((s, now) => s.receive(chunk, now));
  };
  private readonly onEnd = () => this.gone();
  private readonly onError = (err: Error) => {
    this.firstError ??= err;
    this.sock.destroy();
  };
  private readonly onClose = () => {
    this.gone();
    this.finish();
  };
  private readonly onDrain = () => this.pump.resume();

  constructor(options: SocketDriverOptions<E>) {
    this.opts = options;
    this.sock = options.socket;
    this.pump = options.createPump({
      write: (bytes) => this.write(bytes),
      onStartTls: (tlsBytes) => this.startTls(tlsBytes),
      onClosed: (ev) => {
        // A peer that let the close deadline pass gets no more patience: drop the connection.
        if ((ev as { reason?: string }).reason === "timeout") this.destroyAfterFlush();
        else this.endSocket();
      },
      onError: (err) => {
        // A bug in the session or in an event handler, from a socket or timer call: end this connection.
        this.firstError ??= err as Error;
        try {
          this.opts.onInternalError?.(err);
        } finally {
          this.abort("internal-server-error");
        }
      },
    });
    this.session = this.pump.session;
    this.attach(this.sock);
  }

  /** The current socket (the TLS socket after STARTTLS). */
  get socket(): Socket {
    return this.sock;
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
   * Like {@link SocketDriver.interact}, for calls the socket or a timer makes (no caller to throw to): an
   * exception — a bug in the session or in an event handler — ends this connection with
   * `<internal-server-error/>` and is reported to `onInternalError`, instead of becoming an uncaught
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
    sock.on("data", this.onData);
    sock.on("end", this.onEnd);
    sock.on("error", this.onError);
    sock.on("close", this.onClose);
    sock.on("drain", this.onDrain);
  }

  private detach(sock: Socket): void {
    sock.off("data", this.onData);
    sock.off("end", this.onEnd);
    sock.off("close", this.onClose);
    sock.off("drain", this.onDrain);
    // keep onError: a late error on the old socket must not become an uncaught exception
  }

  /** Writes one chunk; `false` when the socket is over its highWaterMark (the pump stops until 'drain'). */
  private write(bytes: Uint8Array): boolean {
    // After end() nothing can be written: drop (the session is closed, its buffer must not grow).
    if (this.ended || this.sock.destroyed || !this.sock.writable) return true;
    this.opts.trace?.("out", bytes);
    // Every stanza routed to this connection is a write of its own: corked from the first write of a turn
    // of the event loop to the next tick, a turn's writes leave in one `writev` (over TLS: fewer records).
    if (this.corked === undefined) {
      this.corked = this.sock;
      this.sock.cork();
      process.nextTick(this.uncork);
    }
    return this.sock.write(bytes);
  }

  /** The socket corked for this turn's writes, if any. */
  private corked: Socket | undefined;
  private readonly uncork = () => {
    const s = this.corked;
    this.corked = undefined;
    s?.uncork();
  };

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
      secure = this.opts.upgrade(plain);
    } catch (err) {
      this.firstError ??= err as Error;
      this.opts.onTlsError?.(err as Error);
      plain.destroy();
      this.guarded((s, now) => s.transportClosed(now));
      this.finish();
      return;
    }
    this.sock = secure;
    // The TLS socket wraps the plain one; closing it does not always close the TCP connection underneath.
    secure.once("close", () => plain.destroy());
    this.attach(secure);
    secure.off("error", this.onError);
    secure.on("error", (err: Error) => {
      if (this.handshaking) this.opts.onTlsError?.(err);
      this.onError(err);
    });
    this.handshaking = true;
    const established = () => {
      this.handshaking = false;
      this.opts.onSecure?.(secure);
      const info: TlsInfo = { ...(this.opts.tlsInfo?.(secure) ?? {}), channelBinding: channelBindingFromTlsSocket(secure, this.opts.side) };
      this.guarded((s, now) => s.tlsEstablished(info, now));
    };
    if (this.opts.side === "client") secure.once("secureConnect", established);
    else secure.once("secure", established);
  }

  /** Between the STARTTLS hand-over and the end of the TLS handshake. */
  private handshaking = false;

  private endSocket(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.handshaking) {
      this.sock.destroy();
      return;
    }
    this.sock.end();
    this.lingerTimer = setTimeout(() => this.sock.destroy(), this.opts.lingerMs ?? 5_000);
    this.lingerTimer.unref();
  }

  private destroyAfterFlush(): void {
    if (this.ended) return;
    this.ended = true;
    // end() flushes what is queued, then destroy once it is out (or at once if nothing is).
    this.sock.end(() => this.sock.destroy());
    this.lingerTimer = setTimeout(() => this.sock.destroy(), 1_000);
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
    this.opts.onSocketClose(this.firstError);
  }
}
