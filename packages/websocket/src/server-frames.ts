/**
 * The fast path for what a WebSocket peer sends most: complete, unfragmented text frames (RFC 6455 §5.2,
 * §5.3) — masked from a client (the server's side), unmasked from a server (the Node client's side) —
 * decoded straight from the socket's chunks. `ws`'s receiver costs ≈ 2 µs per frame (a state machine
 * step, three buffer views and two events per frame); this costs a fraction of that. From the first frame
 * of any other kind on — a control frame (ping, pong, close), a fragment, a binary frame, reserved bits, a
 * frame masked otherwise than its direction requires, a 64-bit length, a payload over the limit — every
 * byte goes to `ws`'s receiver, as if it had had them all along, so everything but the common case keeps
 * `ws`'s handling (pongs, the closing handshake, protocol errors and their close codes). Node only;
 * internal.
 *
 * @internal
 * @module
 */
// No Node types here (a structural socket, plain byte arrays): the WebSocket client imports this file, and
// its entry point must typecheck where there are none (Deno, browsers).
import { applyMask, concatChunks } from "./frames.js";

/** The part of a Node socket (`net.Socket`) the take-over uses: its `data` listeners. */
export interface DataSocket {
  /** The socket's `data` listeners. */
  listeners(event: "data"): ReadonlyArray<{ readonly name: string }>;
  /** Adds a `data` listener. */
  on(event: "data", listener: (chunk: Uint8Array) => void): unknown;
  /** Removes a `data` listener. */
  off(event: "data", listener: (chunk: Uint8Array) => void): unknown;
}

/**
 * Takes the socket's `data` events over from `ws` (its `socketOnData` listener, added when the upgrade
 * completed) and gives each complete text message to `onMessage`, in order, until a frame of another kind
 * arrives; then hands that frame and everything after it back to `ws`. Does nothing if the socket's
 * listeners are not as `ws` 8 leaves them (then `ws` keeps doing all of it). `fromClient` (default): the
 * frames must be masked (§5.1: a server fails a connection on an unmasked frame) and are unmasked here;
 * `false`: the frames come from a server and must not be masked (§5.1, the client's side).
 */
export function takeOverTextFrames(socket: DataSocket, maxPayload: number, onMessage: (message: Uint8Array) => void, fromClient = true): void {
  const listeners = socket.listeners("data");
  if (listeners.length !== 1 || listeners[0]!.name !== "socketOnData") return;
  const wsData = listeners[0] as unknown as (this: DataSocket, chunk: Uint8Array) => void;
  // A frame that came in pieces: its bytes so far, and how many it has in all (0: its header is incomplete).
  let held: Uint8Array[] | undefined;
  let heldBytes = 0;
  let need = 0;
  const handOver = (rest: Uint8Array) => {
    socket.off("data", fast);
    socket.on("data", wsData);
    if (rest.length > 0) wsData.call(socket, rest); // `ws` listens with `this` = the socket
  };
  const fast = (chunk: Uint8Array) => {
    let buf = chunk;
    if (held !== undefined) {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < need) return;
      buf = concatChunks(held, heldBytes);
      held = undefined;
      heldBytes = 0;
    }
    need = 0;
    const end = buf.length;
    const keyBytes = fromClient ? 4 : 0;
    let at = 0;
    while (end - at >= 2) {
      const b1 = buf[at + 1]!;
      let len = b1 & 0x7f;
      // FIN and opcode 1 (text) with no reserved bit, masked from a client and unmasked from a server (as
      // every frame must be), no 64-bit length.
      if (buf[at] !== 0x81 || b1 >= 0x80 !== fromClient || len === 127) return handOver(buf.subarray(at));
      let start = at + 2 + keyBytes; // after the 2-byte header and the masking key
      if (len === 126) {
        if (end - at < 4) break;
        len = (buf[at + 2]! << 8) | buf[at + 3]!;
        start += 2;
      }
      if (len > maxPayload) return handOver(buf.subarray(at)); // `ws` closes with 1009
      if (end - start < len) {
        need = start - at + len;
        break;
      }
      if (fromClient) applyMask(buf, start, len);
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
