/**
 * What every session shares outside its class: the error for misuse, the defaults of the options, the eight
 * frozen {@link StreamFlags} objects and a few shared constants.
 *
 * @module
 */
import type { XmlLimits } from "@xmpp-sansio/xml";
import type { StreamFlags } from "./features/types.js";
import type { SessionTimeouts } from "./session-types.js";
import { sharedMerge } from "./shared-options.js";

/**
 * The application called a method in a state where it is not allowed (e.g. `send` before the session
 * is online, an answer to a question that was not asked). A programming error, never caused by the peer.
 */
export class SessionStateError extends TypeError {
  override readonly name = "SessionStateError";
}

/** Default timeouts (milliseconds). */
export const DEFAULT_TIMEOUTS: Readonly<Omit<SessionTimeouts, "keepaliveMs">> = Object.freeze({
  negotiationMs: 60_000,
  closeMs: 5_000,
  iqMs: 30_000,
  keepaliveAnswerMs: 60_000,
});

/** Default idle time before a keepalive probe: a client probes sooner than a server. */
export const DEFAULT_KEEPALIVE_MS = Object.freeze({ client: 240_000, server: 840_000 });

/**
 * Default cap on output the session holds for the transport (1 MiB): see
 * {@link SessionOptions.maxPendingOutputBytes}.
 */
export const DEFAULT_MAX_PENDING_OUTPUT_BYTES = 1024 * 1024;

/** Default limits before authentication: 16 KiB and 64 elements per top-level element (see docs/xml.md, Limits), the rest as after. */
export const DEFAULT_PRE_AUTH_LIMITS: Readonly<Partial<XmlLimits>> = Object.freeze({ maxStanzaBytes: 16 * 1024, maxElements: 64 });
export const SECURE = 1;
export const AUTHENTICATED = 2;
export const BOUND = 4;
/** The eight possible {@link StreamFlags}, frozen and shared by every session (indexed by the bits above). */
export const FLAGS: readonly StreamFlags[] = Array.from({ length: 8 }, (_, m) =>
  Object.freeze({ secure: (m & SECURE) !== 0, authenticated: (m & AUTHENTICATED) !== 0, bound: (m & BOUND) !== 0 }),
);
/** `flags` with one more flag set. */
export function withFlag(flags: StreamFlags, flag: number): StreamFlags {
  const m = (flags.secure ? SECURE : 0) | (flags.authenticated ? AUTHENTICATED : 0) | (flags.bound ? BOUND : 0);
  return FLAGS[m | flag]!;
}
/** The default timeouts of each role (frozen; what {@link sharedMerge} merges the options into). */
export const ROLE_TIMEOUTS = { client: sharedMerge<SessionTimeouts>(DEFAULT_TIMEOUTS, { keepaliveMs: DEFAULT_KEEPALIVE_MS.client }), server: sharedMerge<SessionTimeouts>(DEFAULT_TIMEOUTS, { keepaliveMs: DEFAULT_KEEPALIVE_MS.server }) };

/** Shared by every session whose features have no hook of a kind, and with no event pending (never written to). */
export const NO_HOOKS: never[] = [];
