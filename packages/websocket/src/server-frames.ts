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
export function takeOverTextFrames(socket: Socket, maxPayload: number, onMessage: (message: Buffer) => void): void {
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
      onMessage(buf.subarray(start, start + len));
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

/** XORs `buf[start..start+len)` with the 4-byte masking key just before it (RFC 6455 §5.3). */
function unmask(buf: Buffer, start: number, len: number): void {
  const k0 = buf[start - 4]!;
  const k1 = buf[start - 3]!;
  const k2 = buf[start - 2]!;
  const k3 = buf[start - 1]!;
  if ((k0 | k1 | k2 | k3) === 0) return;
  const end = start + len;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    buf[i] = buf[i]! ^ k0;
    buf[i + 1] = buf[i + 1]! ^ k1;
    buf[i + 2] = buf[i + 2]! ^ k2;
    buf[i + 3] = buf[i + 3]! ^ k3;
  }
  for (; i < end; i++) buf[i] = buf[i]! ^ buf[start - 4 + ((i - start) & 3)]!;
}
