/**
 * The two framings as values a session is given: {@link streamFraming} (RFC 6120 XML stream over bytes)
 * and {@link webSocketFraming} (RFC 7395 messages). `LeanClientSession` and `LeanClientLifecycle` build only
 * the framing they are given, so a WebSocket bundle carries neither the stream framing nor the streaming
 * parser; the full sessions (`ClientSession`, `ServerSession`, component, s2s) keep accepting the names
 * `"stream"` and `"websocket"` and resolve them here.
 *
 * @module
 */
import type { XmlLimits } from "@xmpp-sansio/xml";
import { type FramingStrategy, StreamFraming, WebSocketFraming } from "./session-framing.js";
import type { Framing } from "./session-types.js";

/** A framing as a value: its name and a factory of the framing strategy of one session. */
export interface SessionFraming {
  /** Which framing this is. */
  readonly kind: Framing;
  /** The framing strategy of a new session, parsing with the session's pre-authentication limits. */
  create(limits: Partial<XmlLimits>): FramingStrategy;
}

/** RFC 6120 XML stream over a byte transport (TCP, TLS): pass it as `framing: streamFraming` to a lean client. */
export const streamFraming: SessionFraming = { kind: "stream", create: (limits) => new StreamFraming(limits) };

/** RFC 7395 messages over WebSocket: pass it as `framing: webSocketFraming` to a lean client. */
export const webSocketFraming: SessionFraming = { kind: "websocket", create: (limits) => new WebSocketFraming(limits) };

/**
 * The framing named by a full session's `framing` option (a name or a value; default `"stream"`).
 * @internal
 */
export function framingOf(framing: Framing | SessionFraming | undefined): SessionFraming {
  return typeof framing === "object" ? framing : framing === "websocket" ? webSocketFraming : streamFraming;
}
