/**
 * The WebSocket server's fast path for what clients send most: complete, unfragmented, masked text frames
 * (RFC 6455 §5.2, §5.3), decoded straight from the socket's chunks. `ws`'s receiver costs ≈ 2 µs per frame
 * (a state machine step, three buffer views and two events per frame); this costs a fraction of that.
 * From the first frame of any other kind on — a control frame (ping, pong, close), a fragment, a binary
 * frame, reserved bits, an unmasked frame, a 64-bit length, a payload over the limit — every byte goes to
 * `ws`'s receiver, as if it had had them all along, so everything but the common case keeps `ws`'s
 * handling (pongs, the closing handshake, protocol errors and their close codes). Node only; internal.
 *
 * @internal
 * @module
 */
/// <reference types="node" />
import type { Socket } from "node:net";

/**
 * Takes the socket's `data` events over from `ws` (its `socketOnData` listener, added when the upgrade
 * completed) and gives each complete text message to `onMessage`, in order, until a frame of another kind
 * arrives; then hands that frame and everything after it back to `ws`. Does nothing if the socket's
 * listeners are not as `ws` 8 leaves them (then `ws` keeps doing all of it).
 */
export function takeOverTextFrames(socket: Socket, maxPayload: number, onMessage: (message: Uint8Array) => void): void {
  const listeners = socket.listeners("data");
  if (listeners.length !== 1 || listeners[0]!.name !== "socketOnData") return;
  const wsData = listeners[0] as (this: Socket, chunk: Buffer) => void;
  // A frame that came in pieces: its bytes so far, and how many it has in all (0: its header is incomplete).
  let held: Buffer[] | undefined;
  let heldBytes = 0;
  let need = 0;
  const handOver = (rest: Buffer) => {
    socket.off("data", fast);
    socket.on("data", wsData);
    if (rest.length > 0) wsData.call(socket, rest); // `ws` listens with `this` = the socket
  };
  const fast = (chunk: Buffer) => {
    let buf = chunk;
    if (held !== undefined) {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < need) return;
      buf = Buffer.concat(held, heldBytes);
      held = undefined;
      heldBytes = 0;
    }
    need = 0;
    const end = buf.length;
    let at = 0;
    while (end - at >= 2) {
      const b1 = buf[at + 1]!;
      let len = b1 & 0x7f;
      // FIN and opcode 1 (text) with no reserved bit, masked (as every client frame must be), no 64-bit length.
      if (buf[at] !== 0x81 || b1 < 0x80 || len === 127) return handOver(buf.subarray(at));
      let start = at + 6; // after the 2-byte header and the masking key
      if (len === 126) {
        if (end - at < 4) break;
        len = (buf[at + 2]! << 8) | buf[at + 3]!;
        start = at + 8;
      }
      if (len > maxPayload) return handOver(buf.subarray(at)); // `ws` closes with 1009
      if (end - start < len) {
        need = start - at + len;
        break;
      }
      unmask(buf, start, len);
      // A plain view (a Buffer's `subarray` costs a species lookup and a FastBuffer).
      onMessage(new Uint8Array(buf.buffer, buf.byteOffset + start, len));
      at = start + len;
    }
    if (at < end) {
      held = [buf.subarray(at)];
      heldBytes = end - at;
    }
  };
  socket.off("data", wsData);
  socket.on("data", fast);
}

/** The four bytes of a masking key (rotated), and the same bytes read as one word in the platform's order. */
const KEY = new Uint8Array(4);
const KEY_WORD = new Int32Array(KEY.buffer);

let wordsBuf: Buffer | undefined;
let wordsView: Int32Array = new Int32Array(0);
let wordsAt = 0;
/** The chunk's memory as 32-bit words from its first 4-byte boundary on (one view per chunk, kept). */
function wordsOf(buf: Buffer): Int32Array {
  if (buf !== wordsBuf) {
    wordsBuf = buf;
    wordsAt = (buf.byteOffset + 3) & ~3;
    wordsView = new Int32Array(buf.buffer, wordsAt, Math.max(0, (buf.byteOffset + buf.length - wordsAt) >> 2));
  }
  return wordsView;
}

/**
 * XORs `buf[start..start+len)` with the 4-byte masking key just before it (RFC 6455 §5.3): byte by byte
 * up to a 4-byte boundary of the underlying memory, then a word at a time (a quarter of the loads and
 * stores: unmasking was most of the fast path's cost), then the last bytes.
 */
function unmask(buf: Buffer, start: number, len: number): void {
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
