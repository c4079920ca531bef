// The client's fast path on Node's `ws` package (internal). The WHATWG `WebSocket` API that browsers have
// can send a text frame only from a string and hands text frames over as strings, so every stanza costs a
// UTF-8 decode and an encode each way, and every `send` is a system call. `ws`'s own API can do without
// both: `send(bytes, { binary: false })` writes the serializer's UTF-8 bytes as a text frame, its
// `message` event gives a text frame's bytes, and the TCP socket (from the `upgrade` event's response) can
// be corked for a turn of the event loop, so a turn's stanzas leave in one `writev` — as the server does.
// Detected by duck typing (`on`, `pause`, `terminate`: none of them exists on the WHATWG `WebSocket`), so
// this file imports nothing from Node and the client stays browser-safe.

/** The part of a Node socket used to batch writes. */
interface Corkable {
  cork(): void;
  uncork(): void;
}

/** `ws`'s `WebSocket` (Node), as far as the fast path uses it. */
interface NodeWebSocket {
  on(event: "upgrade", listener: (response: { socket?: unknown }) => void): unknown;
  on(event: "message", listener: (data: unknown, isBinary: boolean) => void): unknown;
  send(data: Uint8Array, options: { binary: boolean }): void;
  pause(): void;
  terminate(): void;
}

/** Bytes-in, bytes-out access to a `ws` WebSocket. */
export interface FastWebSocket {
  /** Sends UTF-8 bytes as one text frame; the frames of one turn of the event loop go out together. */
  sendText(bytes: Uint8Array): void;
  /** Delivers each received message as bytes (`ws` already checked a text frame's UTF-8). */
  onMessage(listener: (bytes: Uint8Array, binary: boolean) => void): void;
}

function isNodeWebSocket(ws: unknown): ws is NodeWebSocket {
  const w = ws as Partial<Record<"on" | "pause" | "terminate" | "send", unknown>>;
  return typeof w.on === "function" && typeof w.pause === "function" && typeof w.terminate === "function" && typeof w.send === "function";
}

function isCorkable(s: unknown): s is Corkable {
  return s !== null && typeof s === "object" && typeof (s as Corkable).cork === "function" && typeof (s as Corkable).uncork === "function";
}

/**
 * The fast path for a `ws` WebSocket, or `undefined` for any other implementation. Call it right after
 * constructing the WebSocket (before its `open`), so that the `upgrade` event is still to come.
 */
export function fastWebSocket(ws: unknown): FastWebSocket | undefined {
  if (!isNodeWebSocket(ws)) return undefined;
  let socket: Corkable | undefined;
  ws.on("upgrade", (response) => {
    if (isCorkable(response.socket)) socket = response.socket;
  });
  let corked = false;
  const uncork = () => {
    corked = false;
    socket?.uncork();
  };
  return {
    sendText(bytes) {
      if (!corked && socket !== undefined) {
        corked = true;
        socket.cork();
        queueMicrotask(uncork);
      }
      ws.send(bytes, { binary: false });
    },
    onMessage(listener) {
      ws.on("message", (data, isBinary) => {
        if (data instanceof Uint8Array) listener(data, isBinary);
        else if (data instanceof ArrayBuffer) listener(new Uint8Array(data), isBinary);
        else if (Array.isArray(data)) listener(concat(data as Uint8Array[]), isBinary);
        else listener(new Uint8Array(0), true);
      });
    },
  };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
