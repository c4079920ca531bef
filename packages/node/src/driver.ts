/**
 * Binds one sans-IO session to a Node socket: reads into `receive`, writes `pollTransmit` with
 * back-pressure, one timer from `nextTimeout`, the STARTTLS hand-over, and the end of the transport.
 * Shared by the client and the server. Internal.
 *
 * @module
 */
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import type { TLSSocket } from "node:tls";
import type { SansIoSession, TlsInfo } from "@xmpp-sansio/core";
import { buildStreamError, type StreamErrorCondition } from "@xmpp-sansio/core";
import { serialize } from "@xmpp-sansio/xml";
import { channelBindingFromTlsSocket, type TlsSide } from "./channel-binding.js";

/** The events a driver must understand; everything else is passed through. */
type DriverEvent = { readonly type: string; readonly tlsBytes?: Uint8Array };

/** Monotonic milliseconds: what the core's `now` means here. */
export const monotonicNow = (): number => performance.now();

export interface SocketDriverOptions<E extends DriverEvent> {
  session: SansIoSession<E>;
  socket: Socket;
  side: TlsSide;
  /** Every event but `starttls` (handled here), in order. May call into the session; the driver re-pumps. */
  onEvent(event: E): void;
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
  /** Clock. Default `performance.now`. */
  now?: () => number;
  /** How long the socket may linger after `end()` before it is destroyed. Default 5 000 ms. */
  lingerMs?: number;
  /** Sees every chunk read (`in`) and written (`out`) as the session sees it: XML, never TLS records. */
  trace?(direction: "in" | "out", bytes: Uint8Array): void;
  /** STARTTLS finished: the TLS socket, before the session hears of it. */
  onSecure?(socket: TLSSocket): void;
}

/**
 * Runs a session over a socket. Every interaction with the session goes through {@link SocketDriver.interact}
 * (or happens inside `onEvent`), after which output is written, events are dispatched and the timer is
 * re-armed.
 */
export class SocketDriver<E extends DriverEvent> {
  readonly session: SansIoSession<E>;
  private sock: Socket;
  private readonly opts: SocketDriverOptions<E>;
  private readonly now: () => number;
  private pumping = false;
  private again = false;
  private blocked = false;
  private ended = false;
  private closedNotified = false;
  private transportGone = false;
  private firstError: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt: number | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private readonly onData = (chunk: Buffer) => {
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
  private readonly onDrain = () => {
    this.blocked = false;
    this.pump();
  };

  constructor(options: SocketDriverOptions<E>) {
    this.opts = options;
    this.session = options.session;
    this.sock = options.socket;
    this.now = options.now ?? monotonicNow;
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
    try {
      fn(this.session, this.now());
    } finally {
      this.pump();
    }
  }

  /**
   * Like {@link SocketDriver.interact}, for calls the socket or a timer makes (no caller to throw to): an
   * exception — a bug in the session or in an event handler — ends this connection with
   * `<internal-server-error/>` and is reported to `onInternalError`, instead of becoming an uncaught
   * exception that would take the process down.
   */
  guarded(fn: (session: SansIoSession<E>, now: number) => void): void {
    try {
      this.interact(fn);
    } catch (err) {
      this.firstError ??= err as Error;
      try {
        this.opts.onInternalError?.(err);
      } finally {
        this.abort("internal-server-error");
      }
    }
  }

  /**
   * Ends the connection with a stream error written by the adapter itself (an application hook failed,
   * or the server shuts down): flushes the session's output, writes `<stream:error/>` and
   * `</stream:stream>`, ends the socket and tells the session the transport is gone.
   */
  abort(condition: StreamErrorCondition, text?: string, header?: string): void {
    if (this.ended || this.closedNotified) return;
    if (this.handshaking) {
      // Mid-STARTTLS: nothing can be said in XML, and end() on an unfinished TLS handshake may hang.
      this.ended = true;
      this.sock.destroy();
      return;
    }
    this.flush(true);
    const err = serialize(buildStreamError(text === undefined ? { condition } : { condition, text }));
    const enc = new TextEncoder();
    // `header`: our stream header when the session has not sent one yet (RFC 6120 §4.9.1.2).
    this.write(concat(concat(enc.encode(header ?? ""), err), enc.encode("</stream:stream>")));
    this.endSocket();
    this.gone();
  }

  /** Destroys the socket now (no goodbye). */
  destroy(): void {
    this.sock.destroy();
  }

  /** Writes output, dispatches events until none is left, re-arms the timer. Re-entrant calls fold in. */
  pump(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        this.flush(false);
        for (let ev = this.session.pollEvent(); ev !== undefined; ev = this.session.pollEvent()) {
          if (ev.type === "starttls") {
            this.startTls(ev.tlsBytes ?? new Uint8Array());
            continue;
          }
          if (ev.type === "closed") {
            this.flush(true);
            // A peer that let the close deadline pass gets no more patience: drop the connection.
            if ((ev as { reason?: string }).reason === "timeout") this.destroyAfterFlush();
            else this.endSocket();
          }
          this.opts.onEvent(ev);
          this.flush(false);
        }
      } while (this.again);
    } finally {
      this.pumping = false;
      this.rearm();
    }
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

  /** Writes pending output; stops at back-pressure unless `force` (STARTTLS, close: order matters more). */
  private flush(force: boolean): void {
    if (this.ended) {
      // Output after end() cannot be written; drain it so the session's buffer does not grow.
      while (this.session.pollTransmit() !== undefined);
      return;
    }
    while (force || !this.blocked) {
      const bytes = this.session.pollTransmit();
      if (bytes === undefined) break;
      this.write(bytes);
    }
  }

  private write(bytes: Uint8Array): void {
    if (this.sock.destroyed || !this.sock.writable) return;
    this.opts.trace?.("out", bytes);
    // false: the socket's buffer is over its highWaterMark; stop draining the session until 'drain'.
    if (!this.sock.write(bytes)) this.blocked = true;
  }

  private startTls(tlsBytes: Uint8Array): void {
    // Everything the session has (e.g. <proceed/>) goes out on the plain socket first.
    this.flush(true);
    const plain = this.sock;
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
    this.blocked = false;
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

  private rearm(): void {
    if (this.closedNotified) {
      this.clearTimer();
      return;
    }
    const at = this.session.nextTimeout();
    if (at === this.timerAt) return;
    this.clearTimer();
    if (at === undefined) return;
    this.timerAt = at;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = undefined;
        this.guarded((s, now) => s.handleTimeout(now));
      },
      Math.max(0, Math.ceil(at - this.now())),
    );
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = undefined;
  }

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
    else this.pump();
  }

  private finish(): void {
    if (this.closedNotified) return;
    this.closedNotified = true;
    this.clearTimer();
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    this.opts.onSocketClose(this.firstError);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
