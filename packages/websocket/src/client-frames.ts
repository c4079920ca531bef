// The Node client's own text frames (RFC 6455 §5.2, §5.3), used by node-ws.ts in place of `ws`'s Sender
// for plain text messages: each frame is masked with a fresh key from a pool of random bytes, a word at a
// time, into one growing buffer, and the frames of one turn of the event loop leave in one socket write.
// `ws`'s Sender costs ≈ 1 µs per message (two option objects, a buffer view, a new buffer, a byte-wise
// masking loop in JavaScript without `bufferutil`, a socket write). Internal; no Node imports (the
// random bytes come from the Web Crypto API).
import { applyMask, frameHeaderBytes, writeTextFrameHeader } from "./frames.js";

/** Fills its argument with random bytes (the masking keys' source). */
export type RandomFill = (bytes: Uint8Array) => void;

const webCrypto = (globalThis as unknown as { crypto: { getRandomValues(bytes: Uint8Array): Uint8Array } }).crypto;
/** The default source: the platform's CSPRNG (`crypto.getRandomValues`), as RFC 6455 §5.3 and §10.3 ask. */
const cryptoRandom: RandomFill = (bytes) => void webCrypto.getRandomValues(bytes);

/** Masking keys drawn at a time: one `getRandomValues` call (≈ 8 µs whatever the size) per 1024 frames. */
const KEY_POOL_BYTES = 4096;
/** Frames are written into buffers of at least this size; a turn's frames leave as one slice of one. */
const SLAB_BYTES = 64 * 1024;

/**
 * Frames text messages as a client must (FIN, opcode 1, masked with a fresh 32-bit key per frame, RFC 6455
 * §5.3) into one buffer, and hands the bytes framed so far to `write` on {@link flush} (or when the buffer
 * is full). Every payload is copied when added: the caller may reuse its bytes at once.
 *
 * @internal
 */
export class ClientTextFrames {
  private readonly write: (chunk: Uint8Array) => void;
  private readonly random: RandomFill;
  private readonly keys = new Uint8Array(KEY_POOL_BYTES);
  private keyAt = KEY_POOL_BYTES;
  private slab = new Uint8Array(0);
  /** Where the frames not yet written start in {@link slab}, and where the next one goes. */
  private from = 0;
  private at = 0;

  /** `write` takes the framed bytes (a view the writer never writes again); `random` gives the masking keys. */
  constructor(write: (chunk: Uint8Array) => void, random: RandomFill = cryptoRandom) {
    this.write = write;
    this.random = random;
  }

  /** Bytes framed and not yet handed to `write`. */
  get pending(): number {
    return this.at - this.from;
  }

  /** Frames `payload` (UTF-8 text) as one message; returns the frame's size in bytes. */
  add(payload: Uint8Array): number {
    const n = payload.length;
    const size = frameHeaderBytes(n, true) + n;
    if (this.at + size > this.slab.length) {
      this.flush();
      this.slab = new Uint8Array(Math.max(SLAB_BYTES, size));
      this.from = this.at = 0;
    }
    if (this.keyAt === KEY_POOL_BYTES) {
      this.random(this.keys);
      this.keyAt = 0;
    }
    const start = writeTextFrameHeader(this.slab, this.at, n, this.keys, this.keyAt);
    this.keyAt += 4;
    this.slab.set(payload, start);
    applyMask(this.slab, start, n);
    this.at = start + n;
    return size;
  }

  /** Hands the frames added since the last flush to `write`, as one chunk. */
  flush(): void {
    if (this.at === this.from) return;
    const chunk = this.slab.subarray(this.from, this.at);
    this.from = this.at;
    this.write(chunk);
  }
}
