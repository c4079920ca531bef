// RFC 6455 frame pieces shared by the server's frames (server.ts, server-frames.ts) and the Node client's
// (client-frames.ts): the header of a FIN text frame and the masking XOR (§5.2, §5.3). Internal; no Node
// imports (the client's side is bundled for Node only, but this file stays plain JavaScript).

/** Bytes of a text frame's header (RFC 6455 §5.2) for a payload of `n` bytes, masking key included if `masked`. */
export function frameHeaderBytes(n: number, masked: boolean): number {
  return (n < 126 ? 2 : n < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes the header of a FIN text frame (opcode 1) for a payload of `n` bytes at `out[at]`: the 7-, 16- or
 * 64-bit length (§5.2: the shortest that fits), and with `key` the MASK bit and the four bytes of
 * `key[keyAt..keyAt+4)` as the masking key. Returns where the payload starts.
 */
export function writeTextFrameHeader(out: Uint8Array, at: number, n: number, key?: Uint8Array, keyAt = 0): number {
  const m = key === undefined ? 0 : 0x80;
  out[at] = 0x81;
  if (n < 126) {
    out[at + 1] = m | n;
    at += 2;
  } else if (n < 65536) {
    out[at + 1] = m | 126;
    out[at + 2] = n >>> 8;
    out[at + 3] = n & 0xff;
    at += 4;
  } else {
    out[at + 1] = m | 127;
    const high = Math.floor(n / 2 ** 32);
    out[at + 2] = high >>> 24;
    out[at + 3] = (high >>> 16) & 0xff;
    out[at + 4] = (high >>> 8) & 0xff;
    out[at + 5] = high & 0xff;
    out[at + 6] = n >>> 24;
    out[at + 7] = (n >>> 16) & 0xff;
    out[at + 8] = (n >>> 8) & 0xff;
    out[at + 9] = n & 0xff;
    at += 10;
  }
  if (key === undefined) return at;
  out[at] = key[keyAt]!;
  out[at + 1] = key[keyAt + 1]!;
  out[at + 2] = key[keyAt + 2]!;
  out[at + 3] = key[keyAt + 3]!;
  return at + 4;
}

/** The four bytes of a masking key (rotated), and the same bytes read as one word in the platform's order. */
const KEY = new Uint8Array(4);
const KEY_WORD = new Int32Array(KEY.buffer);

let wordsBuf: Uint8Array | undefined;
let wordsView: Int32Array = new Int32Array(0);
let wordsAt = 0;
/** The buffer's memory as 32-bit words from its first 4-byte boundary on (one view per buffer, kept). */
function wordsOf(buf: Uint8Array): Int32Array {
  if (buf !== wordsBuf) {
    wordsBuf = buf;
    wordsAt = (buf.byteOffset + 3) & ~3;
    wordsView = new Int32Array(buf.buffer, wordsAt, Math.max(0, (buf.byteOffset + buf.length - wordsAt) >> 2));
  }
  return wordsView;
}

/**
 * XORs `buf[start..start+len)` with the 4-byte masking key just before it, as it lies in a frame (RFC 6455
 * §5.3: masking and unmasking are the same operation): byte by byte up to a 4-byte boundary of the
 * underlying memory, then a word at a time (a quarter of the loads and stores), then the last bytes.
 */
export function applyMask(buf: Uint8Array, start: number, len: number): void {
  const k = start - 4;
  const k0 = buf[k]!;
  const k1 = buf[k + 1]!;
  const k2 = buf[k + 2]!;
  const k3 = buf[k + 3]!;
  if ((k0 | k1 | k2 | k3) === 0) return;
  const end = start + len;
  let i = start;
  if (len >= 32) {
    const lead = (4 - ((buf.byteOffset + start) & 3)) & 3;
    for (; i < start + lead; i++) buf[i] = buf[i]! ^ buf[k + ((i - start) & 3)]!;
    // The key as it lines up with the words from here on (rotated by `lead`), in the platform's byte order.
    KEY[0] = buf[k + (lead & 3)]!;
    KEY[1] = buf[k + ((lead + 1) & 3)]!;
    KEY[2] = buf[k + ((lead + 2) & 3)]!;
    KEY[3] = buf[k + ((lead + 3) & 3)]!;
    const key = KEY_WORD[0]!;
    const n = (end - i) >> 2;
    const words = wordsOf(buf);
    const w0 = (buf.byteOffset + i - wordsAt) >> 2;
    for (let w = w0; w < w0 + n; w++) words[w] = words[w]! ^ key;
    i += n << 2;
  } else {
    for (; i + 4 <= end; i += 4) {
      buf[i] = buf[i]! ^ k0;
      buf[i + 1] = buf[i + 1]! ^ k1;
      buf[i + 2] = buf[i + 2]! ^ k2;
      buf[i + 3] = buf[i + 3]! ^ k3;
    }
  }
  for (; i < end; i++) buf[i] = buf[i]! ^ buf[k + ((i - start) & 3)]!;
}

/** Node's `Buffer`, as far as {@link concatChunks} uses it (no Node types in this file). */
type NodeBufferClass = { concat(list: readonly Uint8Array[], totalLength?: number): Uint8Array };

/**
 * Node's `Buffer.concat` of socket chunks. The fast paths run on Node's sockets only; `Buffer` is looked
 * up when called, so this file still loads where there is none (Deno type-checks the client's entry point).
 */
export function concatChunks(parts: readonly Uint8Array[], totalLength?: number): Uint8Array {
  return (globalThis as unknown as { Buffer: NodeBufferClass }).Buffer.concat(parts, totalLength);
}
