/**
 * What a bot needs besides its client, re-exported by every transport's entry point (`@xmpp-sansio/node`,
 * `@xmpp-sansio/deno`, `@xmpp-sansio/websocket`) so one import is enough: the element builder, JIDs, stanza
 * errors and the IQ handler types.
 *
 * @module
 */
export { type XmlChildInput, XmlElement, type XmlNode, xml } from "@xmpp-sansio/xml";
export { Jid, JidError, jid, parseJid } from "@xmpp-sansio/jid";
export { errorReply, type StanzaError, type StanzaErrorCondition, type StanzaErrorType, stanzaError } from "@xmpp-sansio/core";
export { IqHandlerError } from "./errors.js";
export type { DiscoIdentity, IqHandler, IqHandlerResult, IqHandlers, IqHandlersOptions, IqRequestType } from "./iq-handlers.js";
export type { StanzaFilter, StanzaListener } from "./stanza-match.js";
export type { TranscriptFunction } from "./transcript.js";
