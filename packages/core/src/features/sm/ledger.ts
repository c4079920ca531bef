/**
 * XEP-0198 counting, shared by both halves: our `h` for the peer's stanzas, the peer's last `h` for
 * ours, and the queue of our stanzas not yet acknowledged. Counters are unsigned 32-bit and wrap
 * (XEP-0198 §4: `h` is an xs:unsignedInt; after 2^32 − 1 comes 0).
 *
 * @internal
 * @module
 */
import type { XmlElement } from "@xmpp-sansio/xml";

/** `a − b` modulo 2^32. */
export function diff32(a: number, b: number): number {
  return (a - b) >>> 0;
}

/** `a + n` modulo 2^32. */
export function add32(a: number, n: number): number {
  return (a + n) >>> 0;
}

/** An `h` attribute: a decimal xs:unsignedInt, else `undefined`. */
export function parseH(value: string | undefined): number | undefined {
  if (value === undefined || !/^[0-9]{1,10}$/.test(value)) return undefined;
  const n = Number(value);
  return n <= 0xffff_ffff ? n : undefined;
}

/** The outcome of an acknowledgement. */
export type AckResult = { readonly acked: XmlElement[] } | { readonly tooHigh: true; readonly sent: number };

/** Counters and the unacknowledged queue of one SM session. */
export class Ledger {
  /** Stanzas of the peer's we handled (our `h`). */
  inbound = 0;
  /** The peer's last `h`. */
  acked = 0;
  private queue: XmlElement[] = [];
  private head = 0;

  constructor(init?: { inbound: number; acked: number; unacked: XmlElement[] }) {
    if (init !== undefined) {
      this.inbound = init.inbound;
      this.acked = init.acked;
      this.queue = init.unacked;
    }
  }

  /** Our stanzas not yet acknowledged. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Our stanzas sent so far (modulo 2^32). */
  get sent(): number {
    return add32(this.acked, this.pending);
  }

  /** The unacknowledged stanzas, oldest first (a copy). */
  unacked(): XmlElement[] {
    return this.queue.slice(this.head);
  }

  /** Counts an outbound stanza: it stays here until an `<a h/>` covers it. */
  push(stanza: XmlElement): void {
    this.queue.push(stanza);
  }

  /** The peer handled our stanzas up to `h`: drops them from the queue and returns them, oldest first. */
  ack(h: number): AckResult {
    const n = diff32(h, this.acked);
    if (n > this.pending) return { tooHigh: true, sent: this.sent };
    const acked = this.queue.slice(this.head, this.head + n);
    this.head += n;
    this.acked = h;
    // Compact once the dead prefix is at least half the array: amortised O(1) per stanza.
    if (this.head > 64 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return { acked };
  }

  /** Empties the queue; returns what it held. */
  drain(): XmlElement[] {
    const rest = this.unacked();
    this.queue = [];
    this.head = 0;
    return rest;
  }
}
