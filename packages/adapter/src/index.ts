/**
 * `@xmpp-sansio/adapter`: the runtime-neutral toolkit the Node, WebSocket and Deno adapters are built
 * from — typed errors, a typed emitter, the promise/event client over a `ClientSession`
 * ({@link ClientController}, {@link SessionClient}), the session pump (output with optional
 * back-pressure, events, one timer) and the server's hook dispatch ({@link ServerHooksCore}). Uses
 * promises and `setTimeout` (injectable), never `node:*`, `Deno` or the DOM.
 *
 * @module @xmpp-sansio/adapter
 */
export { ClientController } from "./client.js";
export {
  type BaseClientOptions,
  type ClientCloseInfo,
  type ClientEventSink,
  type ClientIo,
  type ClientSessionLike,
  type ClientTransport,
  FATAL_STREAM_ERRORS,
  type StanzaFailureReason,
  type XmppClientEvents,
} from "./client-types.js";
export { DeadlineScheduler, type DeadlineTarget } from "./deadlines.js";
export { type DeriveKeyFunction, type DeriveKeyRequest, deriveSaltedPassword, deriveSaltedPasswordJs } from "./derive-key.js";
export { type EventMap, type EventsOf, TypedEmitter } from "./emitter.js";
export { AuthError, BindError, ConnectionError, IqHandlerError, IqTimeoutError, StanzaErrorException, StreamErrorException } from "./errors.js";
export {
  type DiscoIdentity,
  type IqHandler,
  type IqHandlerResult,
  IqHandlers,
  type IqHandlersOptions,
  type IqRequestType,
  NS_DISCO_INFO,
  NS_PING,
  NS_VERSION,
  resultReply,
} from "./iq-handlers.js";
export {
  AddressGate,
  type AddressLimits,
  DEFAULT_ADDRESS_LIMITS,
  DEFAULT_OUTBOUND_LIMITS,
  DEFAULT_RATE_LIMITS,
  logSafe,
  type OutboundLimits,
  OutboundQueue,
  type PendingBytes,
  type RateLimit,
  type RateLimits,
  ReadLimiter,
  resolveOutboundLimits,
  resolveRateLimits,
  type ServerLimits,
  TokenBucket,
} from "./limits.js";
export { PendingIqs } from "./pending-iqs.js";
export { type PumpEvent, type PumpIo, SessionPump, type SessionPumpOptions } from "./pump.js";
export { globalTimers, monotonicNow, type PumpTimers } from "./timers.js";
export {
  authFailureLine,
  type HookedConnection,
  type MaybePromise,
  type OnlineInfo,
  type ServerEventSink,
  ServerHooksCore,
  type ServerHooksCoreOptions,
  type ServerSessionLike,
  serverEventsOf,
  streamManagementOf,
  type XmppConnection,
  type XmppServerHooks,
} from "./server-core.js";
export { SessionClient } from "./session-client.js";
export { matchStanza, type StanzaFilter, type StanzaListener, stanzaType } from "./stanza-match.js";
export { ConnectionTranscript, consoleTranscript, redactSasl, type TranscriptFunction } from "./transcript.js";
