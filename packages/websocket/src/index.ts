/**
 * `@xmpp-sansio/websocket`: XMPP over WebSocket (RFC 7395) — a client on the WHATWG `WebSocket` (browsers,
 * Deno, Node ≥ 22, or `ws` passed in) and XEP-0156 discovery. Browser-safe: nothing here imports `node:*`
 * or `ws`. The Node server is in `@xmpp-sansio/websocket/server`.
 *
 * @module @xmpp-sansio/websocket
 */
export {
  type AbortSignalLike,
  type DiscoveryOptions,
  discoverWebSocketEndpoints,
  type FetchInit,
  type FetchLike,
  type FetchResponseLike,
  type HostMetaLink,
  MAX_HOST_META_BYTES,
  NS_XRD,
  parseHostMetaJson,
  parseHostMetaXml,
  REL_BOSH,
  REL_WEBSOCKET,
  webSocketEndpoints,
} from "./host-meta.js";
export { type BareClient, type BareClientOptions, connectBareClient } from "./bare-client.js";
export { seeOtherUriTarget } from "./see-other-uri.js";
export { checkWebSocketUri, type EndpointPolicy } from "./uri.js";
export { type EndpointDiscovery, WebSocketClient, XmppClient, type XmppClientOptions } from "./client.js";
export { isLoopbackUri, type WebSocketConstructor, type WebSocketLike, XMPP_SUBPROTOCOL } from "./socket-rules.js";
// The shared client/server machinery and errors live in @xmpp-sansio/adapter; re-exported so users of this
// package (and code written against its earlier exports) import them from here.
export {
  AuthError,
  type BaseClientOptions,
  BindError,
  type ClientCloseInfo,
  type ClientSessionLike,
  ConnectionError,
  type EventMap,
  type HookedConnection,
  IqTimeoutError,
  monotonicNow,
  type PumpEvent,
  ServerHooksCore,
  type ServerHooksCoreOptions,
  type ServerSessionLike,
  SessionClient,
  SessionPump,
  type SessionPumpOptions,
  StanzaErrorException,
  StreamErrorException,
  TypedEmitter,
  type XmppClientEvents,
  type XmppConnection,
  type XmppServerHooks,
} from "@xmpp-sansio/adapter";
// What a bot needs, from this one import: the element builder, JIDs, stanza errors, the IQ handler types.
export * from "@xmpp-sansio/adapter/bot-kit";
