/**
 * XMPP addresses (RFC 7622): parse, prepare with PRECIS, compare and format JIDs; XEP-0106 escaping;
 * RFC 3492 Punycode for internationalized domain names. Pure, no runtime dependency besides
 * `@xmpp-sansio/precis`.
 *
 * @module @xmpp-sansio/jid
 */
export { JidCache } from "./cache.js";
export { prepareDomain } from "./domain.js";
export { JidError, type JidErrorReason, type JidPart } from "./errors.js";
export { escapeLocal, unescapeLocal } from "./escape.js";
export { Jid, jid, parseJid, prepareLocal, prepareResource, tryParseJid } from "./jid.js";
export { PunycodeError, punycodeDecode, punycodeEncode } from "./punycode.js";
