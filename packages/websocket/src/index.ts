/**
 * `@xmpp-sansio/websocket`: XMPP over WebSocket (RFC 7395) — a client on the WHATWG `WebSocket` (browsers,
 * Deno, Node ≥ 22, or `ws` passed in) and XEP-0156 discovery. Browser-safe: nothing here imports `node:*`
 * or `ws`. The Node server is in `@xmpp-sansio/websocket/server`.
 *
 * @module
 */
export {
  checkWebSocketUri,
  type DiscoveryOptions,
  discoverWebSocketEndpoints,
  type EndpointPolicy,
  type FetchLike,
  type HostMetaLink,
  MAX_HOST_META_BYTES,
  NS_XRD,
  parseHostMetaJson,
  parseHostMetaXml,
  REL_BOSH,
  REL_WEBSOCKET,
  webSocketEndpoints,
} from "./host-meta.js";
export { seeOtherUriTarget } from "./see-other-uri.js";
export { type BaseClientOptions, type ClientCloseInfo, type ClientSessionLike, SessionClient, type XmppClientEvents } from "./client-base.js";
export { isLoopbackUri, type WebSocketConstructor, type WebSocketLike, XMPP_SUBPROTOCOL, XmppClient, type XmppClientOptions } from "./client.js";
export { type EventMap, TypedEmitter } from "./emitter.js";
export { AuthError, BindError, ConnectionError, IqTimeoutError, StanzaErrorException, StreamErrorException } from "./errors.js";
export { monotonicNow, type PumpEvent, SessionPump, type SessionPumpOptions } from "./pump.js";
export {
  type HookedConnection,
  ServerHooksCore,
  type ServerHooksCoreOptions,
  type ServerSessionLike,
  type XmppConnection,
  type XmppServerHooks,
} from "./server-core.js";
