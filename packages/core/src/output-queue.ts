/**
 * Output taken from the framing to be measured against `maxPendingOutputBytes` but not yet polled by the
 * adapter (oldest first). Stream framing hands everything pending out as one chunk; WebSocket framing one
 * message per call. Internal to the session base.
 *
 * @internal
 * @module
 */
import type { FramingStrategy } from "./session-framing.js";

const EMPTY_BYTES = new Uint8Array(0);
/** No output held (shared: replaced before it is written to). */
const NO_CHUNKS: Uint8Array[] = [];

/** @internal */
export class OutputQueue {
  private chunks: Uint8Array[] = NO_CHUNKS;
  private head = 0;
  /** Bytes held. */
  bytes = 0;

  /** Whether nothing is held. */
  get empty(): boolean {
    return this.head >= this.chunks.length;
  }

  /** Takes everything the framing has written so far. */
  take(framing: FramingStrategy): void {
    for (let out = framing.poll(); out !== undefined; out = framing.poll()) {
      if (this.chunks === NO_CHUNKS) this.chunks = [];
      this.chunks.push(out);
      this.bytes += out.length;
    }
  }

  /** Next output: what was taken first, then what the framing has. */
  poll(framing: FramingStrategy): Uint8Array | undefined {
    if (this.head >= this.chunks.length) return framing.poll();
    if (framing.kind === "websocket") {
      // One message per call.
      const message = this.chunks[this.head]!;
      this.chunks[this.head++] = EMPTY_BYTES;
      this.bytes -= message.length;
      if (this.head === this.chunks.length) this.reset();
      return message;
    }
    const rest = framing.poll();
    if (rest !== undefined) {
      this.chunks.push(rest); // not the shared empty array: head < length above
      this.bytes += rest.length;
    }
    if (this.chunks.length === 1) {
      const only = this.chunks[0]!;
      this.reset();
      return only;
    }
    // Stream framing: everything pending as one chunk (its size is known: `bytes`).
    const joined = new Uint8Array(this.bytes);
    let at = 0;
    for (const chunk of this.chunks) {
      joined.set(chunk, at);
      at += chunk.length;
    }
    this.reset();
    return joined;
  }

  private reset(): void {
    this.chunks = NO_CHUNKS;
    this.head = 0;
    this.bytes = 0;
  }
}
