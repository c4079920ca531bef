/**
 * Redirect handling of the client: a `see-other-uri` (RFC 7395 §3.7) or `see-other-host`
 * (RFC 6120 §4.9.3.19) offered by the last connection is followed at most {@link MAX_REDIRECTS} times in
 * a row, and only where the transport accepts the target.
 *
 * @module
 */
import type { ClientTransport } from "./client-types.js";
import { ConnectionError } from "./errors.js";

/** Maximum redirects followed in a row (reset once online). */
export const MAX_REDIRECTS = 3;

/** What {@link Redirects.decide} concluded when the lifecycle schedules a reconnection. */
export type RedirectDecision = { follow: true } | { follow: false; refused?: ConnectionError };

/** The redirect state of one client run. */
export class Redirects {
  private offeredTarget: string | undefined;
  private next: string | undefined;
  private count = 0;

  /** A new run: nothing offered, nothing followed. */
  reset(): void {
    this.offeredTarget = undefined;
    this.next = undefined;
    this.count = 0;
  }

  /** Online again: the count of redirects in a row starts over. */
  online(): void {
    this.count = 0;
  }

  /** The current connection's peer asked us to go to `target` (`xmpp:host[:port]` or a WebSocket URI). */
  offered(target: string): void {
    this.offeredTarget = target;
  }

  /** The target the next connection goes to (once), or undefined for the configured endpoint. */
  takeNext(): string | undefined {
    const t = this.next;
    this.next = undefined;
    return t;
  }

  /**
   * The lifecycle schedules a reconnection: follow the offered redirect if there is one, the client was
   * not closed, fewer than {@link MAX_REDIRECTS} were followed in a row and the transport accepts it;
   * a refused redirect is reported as the reason the client stops.
   */
  decide(userClosed: boolean, transport: ClientTransport): RedirectDecision {
    const target = this.offeredTarget;
    this.offeredTarget = undefined;
    if (target === undefined) return { follow: false };
    const follow = userClosed || this.count >= MAX_REDIRECTS ? undefined : transport.redirectTarget?.(target);
    if (follow !== undefined) {
      this.count++;
      this.next = follow;
      return { follow: true };
    }
    return { follow: false, refused: new ConnectionError("connect-failed", `redirect to ${JSON.stringify(target)} refused (not equally secure, invalid, or too many)`) };
  }
}
