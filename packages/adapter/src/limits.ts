/**
 * The server's load protections that do not depend on a runtime: a token bucket (read rate limits, login
 * attempts), the per-connection outbound queue (what a slow reader may make us hold) and the per-address
 * gate (connections and login attempts per IP). Pure classes: every method that needs the time takes
 * `now` (milliseconds, monotonic), so they are tested without clocks or sleeps.
 *
 * @module
 */
import type { XmlElement } from "@xmpp-sansio/xml";

/**
 * A token bucket (like Prosody's `mod_limits`): `rate` tokens per second, at most `burst` banked. Taking
 * more than is banked is allowed and puts the bucket in debt; the answer says how long to wait until the
 * debt is paid, which is how long a reader pauses. Pure: the time is passed in.
 */
export class TokenBucket {
  /** Tokens per second. */
  readonly rate: number;
  /** Capacity (and the starting balance). */
  readonly burst: number;
  private balance: number;
  private at: number;

  /** @throws RangeError unless `rate` and `burst` are positive finite numbers */
  constructor(rate: number, burst: number, now: number) {
    if (!(rate > 0 && Number.isFinite(rate))) throw new RangeError("rate must be a positive number");
    if (!(burst > 0 && Number.isFinite(burst))) throw new RangeError("burst must be a positive number");
    this.rate = rate;
    this.burst = burst;
    this.balance = burst;
    this.at = now;
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.balance = Math.min(this.burst, this.balance + ((now - this.at) * this.rate) / 1000);
      this.at = now;
    }
  }

  /** Tokens available at `now` (negative: in debt). */
  available(now: number): number {
    this.refill(now);
    return this.balance;
  }

  /**
   * Takes `n` tokens (even into debt) and returns the milliseconds until the balance is no longer
   * negative: 0 when there was enough.
   */
  take(n: number, now: number): number {
    this.refill(now);
    this.balance -= n;
    return this.balance >= 0 ? 0 : (-this.balance * 1000) / this.rate;
  }

  /** Takes one token if one is there; false (and nothing taken) otherwise. */
  tryTake(now: number): boolean {
    this.refill(now);
    if (this.balance < 1) return false;
    this.balance -= 1;
    return true;
  }

  /** Whether the bucket is full at `now` (it then carries no state worth keeping). */
  isFull(now: number): boolean {
    this.refill(now);
    return this.balance >= this.burst;
  }
}

/** A read rate: bytes per second with a burst. */
export interface RateLimit {
  /** Sustained rate in bytes per second. */
  readonly bytesPerSecond: number;
  /** Bytes that may arrive at once before reads pause (the bucket's size). */
  readonly burstBytes: number;
}

/** Per-connection read rates by phase; `null` switches a phase's limit off. */
export interface RateLimits {
  /** Before authentication. Default {@link DEFAULT_RATE_LIMITS}`.preAuth`. */
  readonly preAuth?: RateLimit | null;
  /** After authentication. Default {@link DEFAULT_RATE_LIMITS}`.authenticated`. */
  readonly authenticated?: RateLimit | null;
}

/** Default read rates: 10 KiB/s (burst 32 KiB) before authentication, 256 KiB/s (burst 1 MiB) after. */
export const DEFAULT_RATE_LIMITS: Readonly<Required<RateLimits>> = Object.freeze({
  preAuth: Object.freeze({ bytesPerSecond: 10 * 1024, burstBytes: 32 * 1024 }),
  authenticated: Object.freeze({ bytesPerSecond: 256 * 1024, burstBytes: 1024 * 1024 }),
});

/**
 * The read side of one connection: a token bucket per phase. The adapter calls {@link ReadLimiter.consume}
 * with every chunk it reads and pauses reads for the returned milliseconds (pausing, never dropping).
 */
export class ReadLimiter {
  private bucket: TokenBucket | undefined;
  private readonly limits: Readonly<Required<RateLimits>>;
  private authenticatedPhase = false;

  constructor(limits: RateLimits | undefined, now: number) {
    this.limits = resolveRateLimits(limits);
    this.bucket = bucketOf(this.limits.preAuth, now);
  }

  /** The session authenticated: from now on the authenticated rate applies (a fresh, full bucket). */
  authenticated(now: number): void {
    if (this.authenticatedPhase) return;
    this.authenticatedPhase = true;
    this.bucket = bucketOf(this.limits.authenticated, now);
  }

  /** `bytes` were read at `now`: milliseconds to pause reading (0: keep reading). */
  consume(bytes: number, now: number): number {
    return this.bucket === undefined ? 0 : this.bucket.take(bytes, now);
  }
}

const resolvedRates = new WeakMap<RateLimits, Readonly<Required<RateLimits>>>();

/**
 * `limits` with the defaults filled in, as one frozen object per `limits` object (so that every
 * connection of a server shares it): `undefined` gives {@link DEFAULT_RATE_LIMITS} itself.
 */
export function resolveRateLimits(limits: RateLimits | undefined): Readonly<Required<RateLimits>> {
  if (limits === undefined) return DEFAULT_RATE_LIMITS;
  let r = resolvedRates.get(limits);
  if (r === undefined) {
    r = Object.freeze({
      preAuth: limits.preAuth === undefined ? DEFAULT_RATE_LIMITS.preAuth : limits.preAuth,
      authenticated: limits.authenticated === undefined ? DEFAULT_RATE_LIMITS.authenticated : limits.authenticated,
    });
    resolvedRates.set(limits, r);
  }
  return r;
}

function bucketOf(limit: RateLimit | null, now: number): TokenBucket | undefined {
  return limit === null ? undefined : new TokenBucket(limit.bytesPerSecond, limit.burstBytes, now);
}

/** Caps on what one connection's outbound queue may hold (a peer that does not read). */
export interface OutboundLimits {
  /** Bytes written but not yet taken by the operating system. Default 1 MiB. */
  readonly maxBytes?: number;
  /** Stanzas sent to the connection whose bytes are still held. Default 10 000. */
  readonly maxStanzas?: number;
  /** After the overflow's stream error, how long the peer has to read it before the transport is destroyed. Default 2 000 ms. */
  readonly closeGraceMs?: number;
}

/** Default outbound caps. */
export const DEFAULT_OUTBOUND_LIMITS: Readonly<Required<OutboundLimits>> = Object.freeze({ maxBytes: 1024 * 1024, maxStanzas: 10_000, closeGraceMs: 2_000 });

const resolvedOutbound = new WeakMap<OutboundLimits, Readonly<Required<OutboundLimits>>>();

/**
 * `limits` with the defaults filled in and checked, as one frozen object per `limits` object (every
 * connection of a server shares it): `undefined` gives {@link DEFAULT_OUTBOUND_LIMITS} itself.
 * @throws RangeError unless `maxBytes` and `maxStanzas` are positive
 */
export function resolveOutboundLimits(limits: OutboundLimits | undefined): Readonly<Required<OutboundLimits>> {
  if (limits === undefined) return DEFAULT_OUTBOUND_LIMITS;
  let r = resolvedOutbound.get(limits);
  if (r === undefined) {
    r = Object.freeze({ ...DEFAULT_OUTBOUND_LIMITS, ...definedOnly(limits) });
    if (!(r.maxBytes > 0) || !(r.maxStanzas > 0)) throw new RangeError("outbound limits must be positive");
    resolvedOutbound.set(limits, r);
  }
  return r;
}

/** Where an {@link OutboundQueue} reads the bytes its transport holds: a function, or a stream's `writableLength`. */
export type PendingBytes = (() => number) | { readonly writableLength: number };

const NO_ENDS: number[] = [];
const NO_STANZAS: XmlElement[] = [];

/**
 * The outbound queue of one connection as the adapter sees it: the bytes written to the transport and not
 * yet taken by the operating system (`pending()`, from the transport), and the stanzas sent whose bytes are
 * among them — so that when the queue overflows, the stanzas not delivered can go back to the application.
 */
export class OutboundQueue {
  /** The caps. */
  readonly limits: Readonly<Required<OutboundLimits>>;
  private readonly source: PendingBytes;
  private written = 0;
  // Shared empty arrays until a stanza has to be remembered (most connections never hold one).
  private ends: number[] = NO_ENDS;
  private stanzas: XmlElement[] = NO_STANZAS;
  private head = 0;
  /** Set once the queue has overflowed: nothing more is sent on this connection. */
  overflowed = false;

  /**
   * `pending`: the transport's count of bytes written and not yet flushed (a function, or an object with
   * a `writableLength` such as a Node stream). `limits` are resolved once per object ({@link resolveOutboundLimits}).
   */
  constructor(pending: PendingBytes, limits?: OutboundLimits) {
    this.source = pending;
    this.limits = resolveOutboundLimits(limits);
  }

  private pending(): number {
    const s = this.source;
    return typeof s === "function" ? s() : s.writableLength;
  }

  /**
   * Whether the queue remembers nothing (no stanza held, not overflowed): it may then be dropped and made
   * anew. Forgets the stanzas whose bytes have left since they were tracked first (over TLS a write is
   * still held when tracked, and nothing else may ask again before the connection goes idle).
   */
  get empty(): boolean {
    this.prune();
    return !this.overflowed && this.head === this.stanzas.length && this.pending() === 0;
  }

  /** Bytes held by the transport. */
  get heldBytes(): number {
    return this.pending();
  }

  /** Stanzas sent whose bytes are still held. */
  get heldStanzas(): number {
    this.prune();
    return this.stanzas.length - this.head;
  }

  /** The transport took `n` bytes of output. */
  wrote(n: number): void {
    this.written += n;
  }

  /** `stanza` was just sent (its bytes are the last written). */
  track(stanza: XmlElement): void {
    if (this.pending() === 0) {
      // Everything written so far has left (the usual case): nothing to remember, not even this one.
      if (this.head < this.stanzas.length) this.clear();
      return;
    }
    if (this.stanzas === NO_STANZAS) {
      this.ends = [];
      this.stanzas = [];
    }
    this.ends.push(this.written);
    this.stanzas.push(stanza);
  }

  private clear(): void {
    this.ends = NO_ENDS;
    this.stanzas = NO_STANZAS;
    this.head = 0;
  }

  /** Whether the bytes held are over the cap. */
  get overBytes(): boolean {
    return this.pending() > this.limits.maxBytes;
  }

  /** Whether one more stanza would break a cap. */
  get full(): boolean {
    return this.overBytes || this.heldStanzas >= this.limits.maxStanzas;
  }

  /** Marks the queue overflowed and returns the stanzas whose bytes are still held (oldest first). */
  overflow(): XmlElement[] {
    this.overflowed = true;
    const unsent = this.stanzas.slice(this.head);
    this.clear();
    return unsent;
  }

  private prune(): void {
    if (this.head === this.stanzas.length) return;
    const flushed = this.written - this.pending();
    while (this.head < this.stanzas.length && this.ends[this.head]! <= flushed) this.head++;
    if (this.head === this.stanzas.length) this.clear();
    else if (this.head > 1024 && this.head * 2 > this.stanzas.length) {
      this.ends = this.ends.slice(this.head);
      this.stanzas = this.stanzas.slice(this.head);
      this.head = 0;
    }
  }
}

/** Caps per remote address. */
export interface AddressLimits {
  /** Open connections per IP address. Default 100; `null`: no cap. */
  readonly maxConnectionsPerIp?: number | null;
  /** Login attempts (SASL exchanges started) per IP address per window. Default 20; `null`: no cap. */
  readonly maxLoginAttemptsPerIp?: number | null;
  /** The window of `maxLoginAttemptsPerIp` (milliseconds; attempts come back at an even rate). Default 60 000. */
  readonly loginWindowMs?: number;
}

/** Default caps per address. */
export const DEFAULT_ADDRESS_LIMITS: Readonly<Required<AddressLimits>> = Object.freeze({ maxConnectionsPerIp: 100, maxLoginAttemptsPerIp: 20, loginWindowMs: 60_000 });

interface AddressState {
  connections: number;
  logins: TokenBucket | undefined;
}

/**
 * Connections and login attempts per remote address. Memory: one entry per address with open connections
 * or recent attempts (entries whose state is back to neutral are swept).
 */
export class AddressGate {
  /** The caps. */
  readonly limits: Readonly<Required<AddressLimits>>;
  private readonly byAddress = new Map<string, AddressState>();
  private sweepAt = 1024;

  constructor(limits?: AddressLimits) {
    this.limits = { ...DEFAULT_ADDRESS_LIMITS, ...definedOnly(limits) };
  }

  /** Addresses tracked (for tests and metrics). */
  get size(): number {
    return this.byAddress.size;
  }

  /** A connection from `address` opened; false if it is over the cap (it is then not counted). */
  open(address: string | undefined, now: number): boolean {
    if (address === undefined) return true;
    const s = this.state(address, now);
    const max = this.limits.maxConnectionsPerIp;
    if (max !== null && s.connections >= max) return false;
    s.connections++;
    return true;
  }

  /** A connection counted by {@link AddressGate.open} closed. */
  close(address: string | undefined, now: number): void {
    if (address === undefined) return;
    const s = this.byAddress.get(address);
    if (s === undefined) return;
    s.connections = Math.max(0, s.connections - 1);
    if (s.connections === 0 && (s.logins === undefined || s.logins.isFull(now))) this.byAddress.delete(address);
  }

  /** A login attempt from `address`; false if it is over the cap. */
  loginAttempt(address: string | undefined, now: number): boolean {
    const max = this.limits.maxLoginAttemptsPerIp;
    if (address === undefined || max === null) return true;
    const s = this.state(address, now);
    s.logins ??= new TokenBucket((max * 1000) / this.limits.loginWindowMs, max, now);
    return s.logins.tryTake(now);
  }

  private state(address: string, now: number): AddressState {
    let s = this.byAddress.get(address);
    if (s === undefined) {
      if (this.byAddress.size >= this.sweepAt) this.sweep(now);
      s = { connections: 0, logins: undefined };
      this.byAddress.set(address, s);
    }
    return s;
  }

  private sweep(now: number): void {
    for (const [address, s] of this.byAddress) if (s.connections === 0 && (s.logins === undefined || s.logins.isFull(now))) this.byAddress.delete(address);
    this.sweepAt = Math.max(1024, this.byAddress.size * 2);
  }
}

function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  const out: Partial<T> = {};
  if (o === undefined) return out;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * A login name as it may appear in a log line: printable ASCII without spaces or quotes kept, anything else
 * percent-encoded, so that a peer cannot forge or split log lines (fail2ban reads them).
 */
export function logSafe(value: string): string {
  let out = "";
  for (const ch of value.length > 256 ? `${value.slice(0, 256)}…` : value) {
    const c = ch.codePointAt(0)!;
    out += c > 0x20 && c < 0x7f && ch !== "%" && ch !== '"' && ch !== "'" ? ch : percent(ch);
  }
  return out === "" ? "-" : out;
}

function percent(ch: string): string {
  try {
    const e = encodeURIComponent(ch);
    return e === ch ? `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}` : e;
  } catch {
    return "%3F"; // a lone surrogate
  }
}

/** The load limits of a server listener (all three adapters take the same object). */
export interface ServerLimits {
  /** What a connection that does not read may make us hold. Defaults: {@link DEFAULT_OUTBOUND_LIMITS}. */
  readonly outbound?: OutboundLimits;
  /** Read rates per connection, by phase (reads pause, nothing is dropped). Defaults: {@link DEFAULT_RATE_LIMITS}. */
  readonly rate?: RateLimits;
  /** Connections and login attempts per IP address. Defaults: {@link DEFAULT_ADDRESS_LIMITS}. */
  readonly address?: AddressLimits;
}
