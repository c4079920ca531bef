/**
 * The XMPP session (RFC 6120, both roles) as a sans-IO state machine: bytes and the current time go in,
 * bytes, events and the next deadline come out. {@link ClientSession} and {@link ServerSession} negotiate
 * streams, STARTTLS, SASL, resource binding and the pluggable stream features (Stream Management, SASL2,
 * registration, dialback), validate stanzas and map every fault to its stream, stanza or SASL error.
 * No sockets, timers, clocks or `async` inside — see `docs/core.md`.
 *
 * @module @xmpp-sansio/core
 */
/** @internal Boolean fields as bits of one number (for per-connection objects of the adapters). */
export { defineBitFlags } from "./bit-flags.js";
export * from "./iq-tracker.js";
export * from "./lifecycle.js";
export * from "./reconnect.js";
export * from "./sasl-failure.js";
export * from "./srv.js";
export * from "./stanza-errors.js";
export * from "./stream-errors.js";
export * from "./session-types.js";
/** @internal The base class and framing strategy the two role classes are built on (exported for declarations). */
export type { FramingStrategy, HeaderAttributes, InputEvent } from "./session-framing.js";
/** @internal What the feature context reaches of the session: the base class of `LeanSessionBase` (exported for declarations). */
export type { FeatureContextHost } from "./feature-context.js";
/** @internal A session's loaded features and their hook lists (the type of a protected member; exported for declarations). */
export type { FeatureSet } from "./feature-set.js";
export {
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_MAX_PENDING_OUTPUT_BYTES,
  NS_BIND,
  NS_SASL,
  NS_SASL_CB,
  NS_SESSION,
  NS_TLS,
  LeanSessionBase,
  parseStreamVersion,
  SessionBase,
  SessionStateError,
  type StreamVersion,
} from "./session-base.js";
export { bindFeature } from "./features/bind.js";
export { channelBindingList, DEFAULT_SERVER_MECHANISMS, mechanismsWithHashes, SaslClient, type SaslClientOptions, type SaslClientPhase, SaslServer, type SaslServerOptions, type SaslQuestion, saslFeature } from "./features/sasl.js";
export { sessionFeature } from "./features/session.js";
export { starttlsClientFeature, starttlsFeature } from "./features/starttls.js";
export * from "./features/sm/index.js";
export * from "./features/register/index.js";
export * from "./features/iq-auth/index.js";
export * from "./features/types.js";
export {
  CLIENT_TRANSITIONS,
  type ClientState,
  type ClientStateKind,
  coarseState,
  renderTransitions,
  SERVER_TRANSITIONS,
  type ServerState,
  type ServerStateKind,
  type Transition,
  type TransitionTable,
} from "./state.js";
export { ClientSession, type ClientExtraOptions, DEFAULT_CLIENT_MAX_ITERATIONS, LeanClientSession } from "./session-client.js";
export { type SessionFraming, streamFraming, webSocketFraming } from "./framings.js";
/** SCRAM's hash functions as values (the `hashes` client part), from `@xmpp-sansio/sasl`. */
export { type ScramHashFunction, sha1Hash, sha256Hash, sha512Hash } from "@xmpp-sansio/sasl";
export { type ClientParts, DEFAULT_CLIENT_PARTS, type OneShotMechanismsClientPart, oneShotMechanismsClientPart, type ReconnectClientPart, type Sasl2ClientPart, type SmClientPart, type StarttlsClientPart, sasl2ClientPart, smClientPart, starttlsClientPart } from "./client-parts.js";
export { requirePart } from "./require-part.js";
export { resolveResourceConflict, ServerSession, type ServerExtraOptions, serviceUnavailable } from "./session-server.js";
export * from "./features/sasl2/index.js";
export { type CertIdentity, matchesDnsId, matchesXmppServerIdentity } from "./s2s/identity.js";
export { componentHandshake, dialbackKey, verifyComponentHandshake, verifyDialbackKey } from "./s2s/keys.js";
export { S2SInitiatorSession } from "./s2s/initiator.js";
export { S2SReceiverSession } from "./s2s/receiver.js";
export * from "./s2s/types.js";
export type { S2SHost } from "./s2s/pairs.js";
export { ComponentServerSession, ComponentSession } from "./component/component.js";
export * from "./component/types.js";
