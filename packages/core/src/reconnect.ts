/**
 * Reconnection delays (RFC 6120 §3.3) as a pure policy: the adapter asks for the next delay, starts its
 * own timer, and resets the policy once a session has been stable.
 *
 * @module
 */

/** How a delay is drawn below the current ceiling `c`. */
export type ReconnectJitter = "full" | "equal";

/** Options of {@link ReconnectPolicy}. */
export interface ReconnectPolicyOptions {
  /**
   * Ceiling of the first delay, in ms: the first reconnection waits a random time below it. Default
   * 60 000, which is RFC 6120 §3.3: "SHOULD set the number of seconds that expire before reconnecting to
   * an unpredictable number between 0 and 60" (so that clients dropped together by a server do not all
   * come back at once). Interactive clients that reconnect after their own network change may lower it.
   */
  initialDelayMs?: number;
  /** Cap of the ceiling, in ms. Default 300 000 (5 minutes). */
  maxDelayMs?: number;
  /**
   * Growth of the ceiling per failed attempt (≥ 1). Default 2: truncated binary exponential backoff, as
   * §3.3 suggests ("back off increasingly longer between subsequent reconnection attempts").
   */
  factor?: number;
  /**
   * `full` (default): uniform in `[0, c)`. `equal`: `c/2` plus uniform in `[0, c/2)` — never very short,
   * a little less spread.
   */
  jitter?: ReconnectJitter;
  /**
   * Uniform random numbers in `[0, 1)`. Default: from `globalThis.crypto.getRandomValues`. Inject for
   * reproducible tests. Values outside `[0, 1)` (or `NaN`) are clamped.
   */
  random?: () => number;
}

function defaultRandom(): number {
  const c = (globalThis as { crypto?: { getRandomValues(a: Uint32Array): Uint32Array } }).crypto;
  if (c === undefined || typeof c.getRandomValues !== "function") {
    throw new TypeError("globalThis.crypto.getRandomValues is not available; inject a `random` function");
  }
  return c.getRandomValues(new Uint32Array(1))[0]! / 0x1_0000_0000;
}

function checkMs(name: string, v: number): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a finite number ≥ 0, got ${v}`);
  return v;
}

/**
 * RFC 6120 §3.3 reconnection policy. Attempt `n` (0 for the first reconnection after a drop) waits a
 * random time below the ceiling `c(n) = min(maxDelayMs, initialDelayMs · factor^n)`, drawn per
 * {@link ReconnectJitter}. Delays are whole milliseconds in `[0, maxDelayMs]`, and the ceiling never
 * decreases until {@link ReconnectPolicy.reset}.
 *
 * With the defaults the first delay is uniform in [0 s, 60 s), then below 120 s, 240 s, 300 s, 300 s, …
 *
 * @example
 * ```ts
 * const policy = new ReconnectPolicy({ initialDelayMs: 2_000 });
 * onDisconnect(() => scheduleAfter(policy.nextDelay(), connect)); // the adapter owns the timer
 * onStableFor60s(() => policy.reset());
 * ```
 */
export class ReconnectPolicy {
  /** Ceiling of the first delay, ms. */
  readonly initialDelayMs: number;
  /** Cap of the ceiling, ms. */
  readonly maxDelayMs: number;
  /** Growth of the ceiling per attempt. */
  readonly factor: number;
  /** How delays are drawn below the ceiling. */
  readonly jitter: ReconnectJitter;
  private readonly random: () => number;
  private _attempts = 0;
  private _ceiling: number;

  /** @throws RangeError for negative or non-finite delays, a factor below 1, or an unknown jitter */
  constructor(options: ReconnectPolicyOptions = {}) {
    this.initialDelayMs = checkMs("initialDelayMs", options.initialDelayMs ?? 60_000);
    this.maxDelayMs = checkMs("maxDelayMs", options.maxDelayMs ?? 300_000);
    const factor = options.factor ?? 2;
    if (typeof factor !== "number" || !Number.isFinite(factor) || factor < 1) throw new RangeError(`factor must be a finite number ≥ 1, got ${factor}`);
    this.factor = factor;
    const jitter = options.jitter ?? "full";
    if (jitter !== "full" && jitter !== "equal") throw new RangeError(`jitter must be "full" or "equal", got ${String(jitter)}`);
    this.jitter = jitter;
    this.random = options.random ?? defaultRandom;
    this._ceiling = Math.min(this.maxDelayMs, this.initialDelayMs);
  }

  /** How many delays were handed out since construction or the last {@link ReconnectPolicy.reset}. */
  get attempts(): number {
    return this._attempts;
  }

  /** The ceiling the next delay is drawn below, ms. */
  get ceiling(): number {
    return this._ceiling;
  }

  /** The delay before the next reconnection attempt, in whole ms, and counts the attempt. */
  nextDelay(): number {
    const c = this._ceiling;
    let r = this.random();
    if (!(r >= 0)) r = 0;
    else if (r >= 1) r = 1 - Number.EPSILON;
    const delay = this.jitter === "full" ? Math.floor(r * c) : Math.floor(c / 2 + (r * c) / 2);
    this._attempts++;
    this._ceiling = Math.min(this.maxDelayMs, c * this.factor);
    return Math.min(delay, this.maxDelayMs);
  }

  /** Back to the first attempt; call once a new session has proved stable (not merely connected). */
  reset(): void {
    this._attempts = 0;
    this._ceiling = Math.min(this.maxDelayMs, this.initialDelayMs);
  }
}

/**
 * Reconnection defaults of the lifecycle: a bot is back within a few seconds of its server. The first
 * delay is drawn below 1 s, each failed attempt doubles the ceiling up to 8 s (full jitter, so clients
 * dropped together do not return together): once the server is back, the next attempt comes within 8 s,
 * 4 s on average. RFC 6120 §3.3's 0–60 s is {@link ReconnectPolicy}'s own default, for clients that prefer it.
 */
export const LIFECYCLE_RECONNECT_DEFAULTS: Readonly<ReconnectPolicyOptions> = Object.freeze({ initialDelayMs: 1000, maxDelayMs: 8000, factor: 2 });

/**
 * Reconnection with backoff as a client part: pass it as `parts: { reconnect: reconnectClientPart }` to a
 * lean client (`LeanClientLifecycle`, `WebSocketClient`); `ClientLifecycle` and the `XmppClient`s load it by
 * default. It makes the lifecycle's {@link ReconnectPolicy} from its `reconnect` settings over
 * {@link LIFECYCLE_RECONNECT_DEFAULTS}.
 */
export const reconnectClientPart = (options: ReconnectPolicyOptions): ReconnectPolicy => new ReconnectPolicy({ ...LIFECYCLE_RECONNECT_DEFAULTS, ...options });
