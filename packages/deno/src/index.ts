/**
 * `@xmpp-sansio/deno`: the xmpp-sansio core on Deno — `XmppClient` over `Deno.connect` + `Deno.startTls`
 * or `Deno.connectTls` (XEP-0368, ALPN `xmpp-client`), and `XmppServer` on `Deno.listen` /
 * `Deno.listenTls`. Same client API and typed errors as `@xmpp-sansio/node` and `@xmpp-sansio/websocket`.
 *
 * @module @xmpp-sansio/deno
 */
export { XmppClient, type XmppClientOptions } from "./client.js";
// The structural Deno connection types the adapter is written against (a `ServerConnection` wraps a `DenoConn`).
export type { DenoConn, DenoTlsConn } from "./deno-api.js";
export { ServerConnection, XmppServer, type XmppServerEvents, type XmppServerOptions } from "./server.js";
export {
  AuthError,
  BindError,
  type ClientCloseInfo,
  ConnectionError,
  IqTimeoutError,
  type OnlineInfo,
  StanzaErrorException,
  StreamErrorException,
  streamManagementOf,
  type XmppClientEvents,
  type XmppServerHooks,
} from "@xmpp-sansio/adapter";
// What a bot needs, from this one import: the element builder, JIDs, stanza errors, the IQ handler types.
export * from "@xmpp-sansio/adapter/bot-kit";
