// The client's fast path on Node's `ws` package (internal). The WHATWG `WebSocket` API that browsers have
// can send a text frame only from a string and hands text frames over as strings, so every stanza costs a
// UTF-8 decode and an encode each way, and every `send` is a system call. On a `ws` WebSocket the client
// does without both, and without most of `ws`'s per-message work:
// - out: plain text messages are framed here (client-frames.ts: masked with a fresh key each, one buffer)
//   and a turn's frames leave in one socket write, straight to `ws`'s socket, whenever `ws`'s Sender has
//   nothing queued and no extension was negotiated; otherwise `ws.send(bytes, { binary: false })`. Every
//   frame `ws` writes itself (close, ping, pong, a queued message) goes through its Sender's `sendFrame`,
//   which writes the frames framed here first, so the order on the wire is the order of the calls.
// - in: the socket's complete, unfragmented, unmasked text frames are decoded here (server-frames.ts, as
//   the server does for its side); from the first frame of any other kind on, `ws`'s receiver has them all.
// Detected by duck typing (`on`, `pause`, `terminate`: none of them exists on the WHATWG `WebSocket`), so
// this file imports nothing from Node and the client stays browser-safe; `ws`'s internals are checked for
// the shape of `ws` 8 before the fast paths are taken, else everything goes through `ws`'s API.
import { ClientTextFrames, type RandomFill } from "./client-frames.js";
import { concatChunks } from "./frames.js";
import { type DataSocket, takeOverTextFrames } from "./server-frames.js";

/** The part of a Node socket used to batch writes. */
interface NodeSocket {
  cork(): void;
  uncork(): void;
  write(chunk: Uint8Array): boolean;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
}

/** `ws`'s Sender (8.x), as far as the fast path relies on it. */
interface WsSender {
  _queue: unknown[];
  _state: number;
  _bufferedBytes: number;
  sendFrame(list: unknown[], cb?: unknown): void;
}

/** `ws`'s `WebSocket` (Node), as far as the fast path uses it. */
interface NodeWebSocket {
  on(event: "open", listener: () => void): unknown;
  on(event: "message", listener: (data: unknown, isBinary: boolean) => void): unknown;
  send(data: Uint8Array, options: { binary: boolean }): void;
  pause(): void;
  terminate(): void;
  readonly readyState: number;
  _socket?: unknown;
  _sender?: Partial<WsSender> | null;
  _receiver?: { _maxPayload?: unknown } | null;
  _extensions?: object;
}

/** Bytes-in, bytes-out access to a `ws` WebSocket. */
export interface FastWebSocket {
  /** Sends UTF-8 bytes as one text frame; the frames of one turn of the event loop go out together. */
  sendText(bytes: Uint8Array): void;
  /** Delivers each received message as bytes (text frames: UTF-8 left to the XML parser to check). */
  onMessage(listener: (bytes: Uint8Array, binary: boolean) => void): void;
}

/** Options of {@link fastWebSocket} (tests). */
export interface FastWebSocketOptions {
  /** The masking keys' source. Default: `crypto.getRandomValues`. */
  random?: RandomFill;
}

const OPEN = 1;
/** `ws`'s Sender state with nothing in progress (no compression, no Blob being read). */
const SENDER_IDLE = 0;

function isNodeWebSocket(ws: unknown): ws is NodeWebSocket {
  const w = ws as Partial<Record<"on" | "pause" | "terminate" | "send", unknown>>;
  return typeof w.on === "function" && typeof w.pause === "function" && typeof w.terminate === "function" && typeof w.send === "function";
}

function isNodeSocket(s: unknown): s is NodeSocket {
  const n = s as Partial<Record<keyof NodeSocket, unknown>> | null;
  return n !== null && typeof n === "object" && typeof n.cork === "function" && typeof n.uncork === "function" && typeof n.write === "function" && typeof n.destroyed === "boolean";
}

function isWsSender(s: unknown): s is WsSender {
  const w = s as Partial<WsSender> | null | undefined;
  return w != null && Array.isArray(w._queue) && typeof w._state === "number" && typeof w._bufferedBytes === "number" && typeof w.sendFrame === "function";
}

/**
 * The fast path for a `ws` WebSocket, or `undefined` for any other implementation. Call it right after
 * constructing the WebSocket (before its `open`).
 */
export function fastWebSocket(ws: unknown, options: FastWebSocketOptions = {}): FastWebSocket | undefined {
  if (!isNodeWebSocket(ws)) return undefined;
  let socket: NodeSocket | undefined;
  /** `ws`'s Sender when the direct path is possible (no extension negotiated, the shape of `ws` 8). */
  let sender: WsSender | undefined;
  let message: ((bytes: Uint8Array, binary: boolean) => void) | undefined;
  // Frames framed here and not yet written are counted in `ws.bufferedAmount` (through the Sender's count,
  // which the getter adds to the socket's) until they are written.
  const frames = new ClientTextFrames((chunk) => {
    if (sender !== undefined) sender._bufferedBytes -= chunk.length;
    // Bytes framed while the connection was open; `ws` may have ended or destroyed the socket since.
    if (socket !== undefined && !socket.destroyed && !socket.writableEnded) socket.write(chunk);
  }, options.random);
  const flush = () => frames.flush();
  ws.on("open", () => {
    if (!isNodeSocket(ws._socket)) return;
    socket = ws._socket;
    const s = ws._sender;
    if (isWsSender(s) && ws._extensions !== undefined && Object.keys(ws._extensions).length === 0) {
      sender = s;
      // Whatever `ws` writes itself from now on comes after what was framed here before it.
      const sendFrame = s.sendFrame;
      s.sendFrame = function (this: WsSender, list, cb) {
        flush();
        sendFrame.call(this, list, cb);
      };
    }
    // Server frames are never masked (RFC 6455 §5.1); ws's maxPayload 0 means no limit.
    const max = ws._receiver?._maxPayload;
    takeOverTextFrames(socket as unknown as DataSocket, typeof max === "number" && max > 0 ? max : Number.POSITIVE_INFINITY, (bytes) => message?.(bytes, false), false);
  });
  let corked = false;
  const endTurn = () => {
    corked = false;
    flush();
    socket?.uncork();
  };
  return {
    sendText(bytes) {
      if (!corked && socket !== undefined) {
        corked = true;
        socket.cork();
        queueMicrotask(endTurn);
      }
      // (`sender` is set only with `socket`: the turn's end, above, writes what is framed here.)
      if (sender !== undefined && ws.readyState === OPEN && sender._state === SENDER_IDLE && sender._queue.length === 0) {
        sender._bufferedBytes += frames.add(bytes);
      } else {
        flush();
        ws.send(bytes, { binary: false });
      }
    },
    onMessage(listener) {
      message = listener;
      ws.on("message", (data, isBinary) => {
        if (data instanceof Uint8Array) listener(data, isBinary);
        else if (data instanceof ArrayBuffer) listener(new Uint8Array(data), isBinary);
        else if (Array.isArray(data)) listener(concatChunks(data as Uint8Array[]), isBinary);
        else listener(new Uint8Array(0), true);
      });
    },
  };
}
