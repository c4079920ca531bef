/**
 * Node.js adapter of xmpp-sansio: `XmppClient` (discovery, STARTTLS, Direct TLS, channel binding, timers,
 * back-pressure, reconnect), `XmppServer` (a c2s listener with async hooks), and XEP-0114 external
 * components in both roles (`XmppComponent`, `XmppComponentServer`), over the sans-IO core.
 *
 * @module @xmpp-sansio/node
 */
export {
  certificateEndPointHash,
  channelBindingFromTlsSocket,
  endPointHashName,
  serverEndPointOf,
  type TlsSide,
  tlsExporter,
  tlsServerEndPoint,
  tlsUnique,
} from "./channel-binding.js";
export {
  type ClientCloseInfo,
  type ClientSessionLike,
  type ClientTlsOptions,
  XmppClient,
  type XmppClientEvents,
  type XmppClientOptions,
} from "./client.js";
export {
  ComponentConnection,
  XmppComponentServer,
  type XmppComponentServerEvents,
  type XmppComponentServerHooks,
  type XmppComponentServerOptions,
} from "./component-server.js";
export { type ComponentCloseInfo, XmppComponent, type XmppComponentEvents, type XmppComponentOptions } from "./component.js";
export { nodeDeriveKey } from "./derive-key.js";
export { type DiscoveryOptions, type DiscoveryResult, discoverEndpoints, type SrvResolver } from "./discovery.js";
// The socket driver behind each connection (`ServerConnection.driver`), exported as types so they can be named.
export type { DriverEvent, SocketDriver, SocketDriverBase, SocketDriverOptions } from "./driver.js";
export type { ServerHost, ServerSocketDriver } from "./server-driver.js";
export { AuthError, BindError, ConnectionError, IqTimeoutError, StanzaErrorException, StreamErrorException } from "./errors.js";
export {
  type AddressLimits,
  authFailureLine,
  DEFAULT_ADDRESS_LIMITS,
  DEFAULT_OUTBOUND_LIMITS,
  DEFAULT_RATE_LIMITS,
  type OutboundLimits,
  type RateLimit,
  type RateLimits,
  ServerConnection,
  type ServerLimits,
  type ServerSessionLike,
  XmppServer,
  type XmppServerEvents,
  type XmppServerHooks,
  type XmppServerOptions,
  type XmppServerTlsOptions,
} from "./server.js";
export { type OnlineInfo, streamManagementOf } from "@xmpp-sansio/adapter";
// What a bot needs, from this one import: the element builder, JIDs, stanza errors, the IQ handler types.
export * from "@xmpp-sansio/adapter/bot-kit";
export { parseSubjectAltName, peerCertIdentitiesOf } from "./s2s-cert.js";
export { pooledRandom } from "./random-pool.js";
export { nodeScramCrypto, type ScramCrypto } from "./scram-crypto.js";
export type { S2SOutboundLink } from "./s2s-link.js";
export { DEFAULT_S2S_RATE_LIMITS, S2SManager, type S2SLinkState, type S2SManagerOptions, type S2SStaticHost, withNamespace } from "./s2s.js";
