/**
 * XMPP instant messaging and presence (RFC 6121) as sans-IO logic for both roles.
 *
 * - Server: {@link ImServer} decides, from a stanza and a read-only {@link ImStoreView}, what to deliver
 *   where and which store mutations to make ({@link ImAction}); {@link MemoryImStore} and
 *   {@link processLocally} are a complete in-memory loop around it.
 * - Subscription state machine: the RFC 6121 Appendix A tables as data ({@link OUTBOUND}, {@link INBOUND}).
 * - Client: {@link Roster} (pushes, versioning, persistable cache, subscription events) and presence builders.
 * - Payloads: `jabber:x:*` (encrypted, envelope, event, expire, oob, roster, signed) and `vcard-temp`.
 *
 * @module @xmpp-sansio/im
 */
export * from "./namespaces.js";
export {
  buildRosterItem,
  type BuildItemOptions,
  isSubscription,
  type ParsedRosterItem,
  parseRosterItem,
  type RosterItem,
  type RosterItemProblem,
  rosterItem,
  SUBSCRIPTIONS,
  type Subscription,
} from "./roster-item.js";
export {
  applyState,
  askOf,
  INBOUND,
  isSubscriptionType,
  OUTBOUND,
  pendingInOf,
  type StateParts,
  stateFromParts,
  stateOf,
  stateParts,
  SUBSCRIPTION_STATES,
  SUBSCRIPTION_TYPES,
  type SubscriptionPresenceType,
  type SubscriptionState,
  type SubscriptionTable,
  subscriptionOf,
  type Transition,
} from "./subscription.js";
export * from "./server-types.js";
export { ImServer } from "./server.js";
export { isBlockedBy, nextRosterVersion } from "./server-context.js";
export { type MessageType, messageType } from "./server-message.js";
export { parsePriority } from "./server-presence.js";
export { type LocalRun, MemoryImStore, processLocally } from "./memory-store.js";
export { isExpired, offlineDelivery, offlineEventNotification, stampOfflineStored } from "./offline.js";
export { Roster, type RosterCache, type RosterEvent, type RosterOptions } from "./client-roster.js";
export {
  approveSubscription,
  availablePresence,
  denySubscription,
  type ParsedPresence,
  type PresenceFields,
  parsePresence,
  type Show,
  subscribe,
  unavailablePresence,
  unsubscribe,
} from "./client-presence.js";
export {
  buildEncrypted,
  buildEnvelope,
  buildExpire,
  buildMessageEvent,
  buildOob,
  buildRosterExchange,
  buildSigned,
  type EnvelopeAddress,
  type EnvelopeKind,
  type Expire,
  isLegacyX,
  type MessageEvent,
  type MessageEventKind,
  messageEventNotification,
  type OobData,
  parseEncrypted,
  parseEnvelope,
  parseExpire,
  parseMessageEvent,
  parseOob,
  parseRosterExchange,
  parseSigned,
  type SuggestedContact,
} from "./payloads.js";
export {
  buildVCard,
  classifyVCardIq,
  emptyVCard,
  parseVCard,
  type VCard,
  type VCardAddress,
  type VCardEmail,
  type VCardName,
  type VCardPhoto,
  type VCardRequest,
  type VCardTel,
  vcardGet,
  vcardResult,
  vcardSet,
} from "./vcard.js";
