/**
 * An outstanding request of `IqTracker` and its deadline order, shared by the tracker and both builds of
 * its deadline index (`iq-deadlines.ts`, `iq-deadlines.browser.ts`). Internal.
 *
 * @internal
 * @module
 */
import type { Jid } from "@xmpp-sansio/jid";

/** An outstanding request of `IqTracker`. @internal */
export interface Entry {
  readonly id: string;
  readonly deadline: number;
  /** Insertion order, to expire requests with equal deadlines in the order they were sent. */
  readonly seq: number;
  /** The address the request was sent to, or `undefined` for none. */
  readonly to: Jid | undefined;
  /** The canonical string of {@link Entry.to}, for a fast path before JID preparation. */
  readonly toText: string | undefined;
  /** True when the request went to the user's own server or account (no `to`, own bare JID, own domain). */
  readonly toServer: boolean;
  /** False once matched, cancelled or expired; the heap drops dead entries lazily. */
  live: boolean;
}

/** Whether `a` expires before `b`: an earlier deadline, or the same one and tracked first. @internal */
export function before(a: Entry, b: Entry): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}
