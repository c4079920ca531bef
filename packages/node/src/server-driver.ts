/**
 * The per-connection machinery of `XmppServer`: one object per client connection with its state as
 * fields and its behaviour on the prototype — the socket driver, the session pump's IO, the read rate
 * limit and fair slicing, the outbound queue and the end of the connection — so that an idle connection
 * costs no closures and no runtime timer (its deadline lives in the server's {@link DeadlineScheduler}).
 * Internal.
 *
 * @module
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import {
  type AddressGate,
  type DeadlineScheduler,
  type OutboundLimits,
  OutboundQueue,
  type RateLimits,
  type ServerHooksCore,
  type ServerSessionLike,
  SessionPump,
  type SessionPumpOptions,
  TokenBucket,
} from "@xmpp-sansio/adapter";
import { defineBitFlags, type ServerEvent, type TlsInfo } from "@xmpp-sansio/core";
import { BASE_FLAGS, monotonicNow, SocketDriverBase } from "./driver.js";
import type { ServerConnection } from "./server.js";

/** After authentication, input is fed to a session at most this much per turn of the event loop. */
const FAIR_SLICE_BYTES = 8 * 1024;

/** What the connections of one server share (built once per server). @internal */
export interface ServerHost {
  readonly core: ServerHooksCore<ServerConnection>;
  readonly gate: AddressGate;
  readonly scheduler: DeadlineScheduler;
  /** Read rates (resolved once). */
  readonly rates: Readonly<Required<RateLimits>>;
  /** Outbound caps (resolved once). */
  readonly outbound: Readonly<Required<OutboundLimits>>;
  /** STARTTLS: the server side of TLS over the plain socket. */
  upgrade(plain: Socket): TLSSocket;
  /** Identities of a verified client certificate. */
  tlsInfo(socket: TLSSocket): Omit<TlsInfo, "channelBinding">;
  /** The `tls-server-end-point` of the one certificate served, when known in advance (renewed with it). */
  endPoint: Uint8Array | undefined;
  /** A hook or the session failed on this connection. */
  hookError(error: unknown, connection: ServerConnection): void;
}

/**
 * One client connection's driver (internal half of {@link ServerConnection}): it is its own pump's IO
 * and options object, so its pump and listeners need no closures.
 * @internal
 */
export class ServerSocketDriver extends SocketDriverBase<ServerEvent> implements SessionPumpOptions<ServerEvent> {
  declare session: ServerSessionLike;
  /** The public side; set right after construction. */
  conn!: ServerConnection;
  readonly scheduler: DeadlineScheduler;
  private readonly host: ServerHost;
  /** The address counted by the gate (undefined: not counted). */
  private readonly admittedAddress: string | undefined;
  /** Whether reads are paused (rate limit or fair slicing). */
  declare readsPaused: boolean;
  /** The server's idle sweep: 0 traffic since the last sweep, 1 none, 2 trimmed. */
  idleSweeps = 0;
  declare private authenticated: boolean;
  /** The read rate's bucket of the current phase; none while full (made when input comes). */
  private bucket: TokenBucket | undefined;
  declare private rateHold: boolean;
  private resumeTimer: NodeJS.Timeout | undefined;
  private slices: Uint8Array[] | undefined;
  declare private draining: boolean;
  private queue: OutboundQueue | undefined;
  private closedP: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(host: ServerHost, socket: Socket, session: ServerSessionLike, admitted: boolean) {
    super(socket, "server");
    this.host = host;
    this.scheduler = host.scheduler;
    this.admittedAddress = admitted ? socket.remoteAddress : undefined;
    this.session = session;
    this.pump = new SessionPump<ServerEvent>(this);
  }

  /** @internal settles when the socket has closed (made on first use). */
  get closedPromise(): Promise<void> {
    if (this.closedP === undefined) {
      this.closedP = this.closed ? Promise.resolve() : new Promise<void>((resolve) => (this.resolveClosed = resolve));
    }
    return this.closedP;
  }

  /** The bounded outbound queue; made on first use, dropped by {@link idle} while it holds nothing. */
  get outbound(): OutboundQueue {
    if (this.queue === undefined) this.queue = new OutboundQueue(this, this.host.outbound);
    return this.queue;
  }

  /** After the overflow's stream error: destroy the socket if it has not closed within `ms`. */
  closeAfterGrace(ms: number): void {
    if (this.graceTimer !== undefined || this.closed) return;
    this.graceTimer = setTimeout(destroyDriver, ms, this);
    this.graceTimer.unref();
  }

  /**
   * The server's idle sweep, once per period: after a whole period without traffic the session lets go of
   * its buffers, and what a quiet connection can do without is dropped (a full rate bucket, an empty
   * outbound queue).
   */
  idle(now: number): void {
    if (this.idleSweeps === 0) {
      this.idleSweeps = 1;
      return;
    }
    if (this.idleSweeps === 1) {
      this.idleSweeps = 2;
      this.session.trim?.();
    }
    if (this.bucket?.isFull(now) === true) this.bucket = undefined; // a new one starts full: the same
    if (this.queue?.empty === true) this.queue = undefined;
  }

  // --- the pump's options -------------------------------------------------------------------------

  /** Every session event but `starttls`: the hooks. */
  onEvent(ev: ServerEvent): void {
    if (ev.type === "authenticated" && !this.authenticated) {
      this.authenticated = true;
      this.bucket = undefined; // the authenticated rate, from a fresh (full) bucket
    }
    this.host.core.onEvent(this.conn, ev);
  }

  /**
   * No back-pressure into the session: its output goes to the socket at once, where the outbound queue
   * measures it (bytes and stanzas) and closes the connection past its caps.
   */
  override write(bytes: Uint8Array): boolean {
    super.write(bytes);
    this.idleSweeps = 0;
    this.host.core.wrote(this.conn, bytes.length);
    return true;
  }

  // --- the driver's decisions -----------------------------------------------------------------------

  /**
   * Read rate: every chunk read is taken from a token bucket; in debt, reads pause until it is paid.
   * Fairness: after authentication, a large chunk is fed to the session in slices, one per turn of the
   * event loop (reads paused meanwhile), so other connections' input is handled in between.
   */
  protected override handleInput(chunk: Buffer): void {
    this.idleSweeps = 0;
    const limit = this.authenticated ? this.host.rates.authenticated : this.host.rates.preAuth;
    if (limit !== null) {
      const now = monotonicNow();
      this.bucket ??= new TokenBucket(limit.bytesPerSecond, limit.burstBytes, now);
      const wait = this.bucket.take(chunk.length, now);
      if (wait > 0 && this.resumeTimer === undefined) {
        this.rateHold = true;
        this.holdReads();
        this.resumeTimer = setTimeout(endRateHold, Math.ceil(wait), this);
      }
    }
    // Before authentication (STARTTLS may move the rest of a chunk to TLS) every chunk is fed at once.
    if (!this.authenticated || (!this.draining && chunk.length <= FAIR_SLICE_BYTES)) {
      if (this.draining) this.slices!.push(chunk);
      else this.feed(chunk);
      return;
    }
    const slices = (this.slices ??= []);
    for (let i = 0; i < chunk.length; i += FAIR_SLICE_BYTES) slices.push(chunk.subarray(i, i + FAIR_SLICE_BYTES));
    if (this.draining) return;
    this.draining = true;
    this.holdReads();
    this.drainStep();
  }

  /** @internal the rate limit's pause is over */
  endRateHold(): void {
    this.resumeTimer = undefined;
    this.rateHold = false;
    this.holdReads();
  }

  /** @internal feeds the next slice (one per turn of the event loop) */
  drainStep(): void {
    const slices = this.slices!;
    const next = slices.shift();
    if (next !== undefined && !this.closed) this.feed(next);
    if (slices.length > 0 && !this.closed) setImmediate(drainNext, this);
    else {
      this.slices = undefined;
      this.draining = false;
      this.holdReads();
    }
  }

  private holdReads(): void {
    const hold = this.rateHold || this.draining;
    this.readsPaused = hold;
    if (this.closed) return;
    if (hold) this.sock.pause();
    else this.sock.resume();
  }

  protected upgrade(plain: Socket): TLSSocket {
    return this.host.upgrade(plain);
  }

  protected override tlsInfo(socket: TLSSocket): Omit<TlsInfo, "channelBinding"> {
    return this.host.tlsInfo(socket);
  }

  protected override serverEndPoint(): Uint8Array | undefined {
    return this.host.endPoint;
  }

  protected override internalError(error: unknown): void {
    this.host.hookError(error, this.conn);
  }

  protected socketClosed(): void {
    if (this.resumeTimer !== undefined) clearTimeout(this.resumeTimer);
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    if (this.admittedAddress !== undefined) this.host.gate.close(this.admittedAddress, monotonicNow());
    this.host.core.closed(this.conn);
    this.resolveClosed?.();
  }
}

function destroyDriver(driver: ServerSocketDriver): void {
  driver.destroy();
}
function endRateHold(driver: ServerSocketDriver): void {
  driver.endRateHold();
}
function drainNext(driver: ServerSocketDriver): void {
  driver.drainStep();
}

// Its flags are bits of the base class's `bits` (one slot for eight flags per connection).
defineBitFlags(ServerSocketDriver.prototype, "bits", ["readsPaused", "authenticated", "rateHold", "draining"], BASE_FLAGS);
