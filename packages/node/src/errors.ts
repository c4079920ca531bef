/**
 * Typed exceptions of the Node adapter: the shared classes of `@xmpp-sansio/adapter` (the same in the
 * WebSocket and Deno adapters, so `instanceof` holds across transports), re-exported.
 *
 * @module
 */
export { AuthError, BindError, ConnectionError, IqTimeoutError, StanzaErrorException, StreamErrorException } from "@xmpp-sansio/adapter";
