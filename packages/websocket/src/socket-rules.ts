/**
 * What every WebSocket client of this package does with its socket, whichever drives the session
 * (`WebSocketClient` through the adapter, `connectBareClient` directly): the endpoint rule, the WebSocket
 * class, the `xmpp` subprotocol, the opening handshake's failures, the core options for an endpoint,
 * starting the session on an open socket and handing it a frame (RFC 7395). Browser-safe.
 *
 * @module
 */
import { ConnectionError } from "@xmpp-sansio/adapter";
import { type ClientOptions, type SansIoSession, webSocketFraming } from "@xmpp-sansio/core";
import { checkWebSocketUri, parseUrl } from "./uri.js";

/** RFC 7395 §3.1: the WebSocket subprotocol of XMPP. */
export const XMPP_SUBPROTOCOL = "xmpp";

/** The WHATWG `WebSocket` as far as this client uses it (browsers, Deno, Node ≥ 22, `ws`). */
export interface WebSocketLike {
  /** The subprotocol the server selected; must be `xmpp` (RFC 7395 §3.1), else the client closes. */
  readonly protocol: string;
  /** `WebSocket.readyState`: 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Set to `"arraybuffer"` by the client; XMPP frames are text anyway (RFC 7395 §3.2). */
  binaryType: string;
  /** Sends one text frame: one XML element or `<open/>`/`<close/>` (RFC 7395 §3.3). */
  send(data: string): void;
  /** Starts the closing handshake (RFC 6455 §7); `code` 1000 for a normal end. */
  close(code?: number, reason?: string): void;
  /** Listens for the socket opening, closing or failing. */
  addEventListener(type: "open" | "close" | "error", listener: (event: unknown) => void): void;
  /** Listens for frames: `event.data` is a `string` for text frames (binary frames are a protocol error). */
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
}

/** A `WebSocket` constructor (`globalThis.WebSocket`, or `ws`'s default export on Node 20). */
export type WebSocketConstructor = new (url: string, protocols: string | string[]) => WebSocketLike;

/** Whether a `ws:`/`wss:` URI points at this machine. */
export function isLoopbackUri(uri: string): boolean {
  const url = parseUrl(uri);
  if (url === undefined) return false;
  const h = url.hostname.toLowerCase();
  return h === "localhost" || h === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The endpoint, normalized, if a client may use it: `wss:`, or `ws:` to loopback or with `allowInsecure`
 * (`checkWebSocketUri`); else `undefined`.
 */
export function acceptableEndpoint(uri: string, allowInsecure: boolean | undefined): string | undefined {
  return checkWebSocketUri(uri, { allowInsecure: allowInsecure === true || isLoopbackUri(uri) });
}

/** The `WebSocket` class: the one given, else the platform's. @throws TypeError when there is none */
export function webSocketClass(given: WebSocketConstructor | undefined): WebSocketConstructor {
  const Ctor = given ?? (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (Ctor === undefined) throw new TypeError("no WebSocket implementation: pass options.WebSocket (e.g. the `ws` package on Node 20)");
  return Ctor;
}

/** How an opening handshake failed (the `ConnectionError`s of {@link handshakeFailure}). */
export type HandshakeFailure = "constructor" | "timeout" | "subprotocol" | "error" | "closed";

/** The `ConnectionError` for a failed opening handshake with `uri`: `timeout`, else `connect-failed`. */
export function handshakeFailure(kind: HandshakeFailure, uri: string, cause?: unknown): ConnectionError {
  const text =
    kind === "timeout"
      ? `WebSocket handshake with ${uri} timed out`
      : kind === "subprotocol"
        ? // RFC 7395 §3.1: without the xmpp subprotocol the server does not speak XMPP here.
          `${uri} did not accept the "xmpp" WebSocket subprotocol`
        : kind === "closed"
          ? `${uri} closed during the WebSocket handshake`
          : kind === "error"
            ? `could not connect to ${uri}`
            : `could not open ${uri}: ${(cause as Error)?.message}`;
  return new ConnectionError(kind === "timeout" ? "timeout" : "connect-failed", text, { cause, endpoint: uri });
}

/**
 * The core options of a client session over `uri`: WebSocket framing; `tls: "direct"` on `wss:` (the
 * browser's TLS), else `"none"`, with PLAIN allowed in the clear only where `ws:` itself is allowed
 * (loopback, or `allowInsecure`) unless `base` says otherwise.
 */
export function webSocketSessionOptions<T extends Pick<ClientOptions, "allowPlainInClear">>(uri: string, allowInsecure: boolean | undefined, base: T): T & Pick<ClientOptions, "framing" | "tls"> {
  const secure = uri.startsWith("wss:");
  const options: T & Pick<ClientOptions, "framing" | "tls"> = { ...base, framing: webSocketFraming, tls: secure ? "direct" : "none" };
  if (!secure && options.allowPlainInClear === undefined) options.allowPlainInClear = isLoopbackUri(uri) || allowInsecure === true;
  return options;
}

/** What a client session offers to be started on a socket and fed its frames (the core's `ClientSession`). */
export type SocketSession = Pick<SansIoSession<unknown>, "tlsEstablished" | "receiveMessage"> & { start(now: number): void };

/**
 * Starts a session on a socket that has just opened: on `wss:` the TLS is the browser's, so it is
 * established before `start`, with no channel-binding data (no WebSocket API exposes any: -PLUS is never
 * chosen).
 */
export function startOnSocket(session: SocketSession, uri: string, now: number): void {
  if (uri.startsWith("wss:")) session.tlsEstablished({ channelBinding: {} }, now);
  session.start(now);
}

/** Hands one received frame to the session: text as text; anything else as binary, which the core refuses (RFC 7395 §3.2). */
export function receiveFrame(session: Pick<SocketSession, "receiveMessage">, data: unknown, now: number): void {
  if (typeof data === "string") session.receiveMessage(data, false, now);
  else session.receiveMessage(data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(), true, now);
}
