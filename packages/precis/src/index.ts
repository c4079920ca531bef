/**
 * PRECIS (RFC 8264) string classes and the profiles XMPP needs: UsernameCaseMapped and UsernameCasePreserved
 * (RFC 8265 §3), OpaqueString (RFC 8265 §4) and Nickname (RFC 8266). Pure functions, no runtime dependency,
 * Unicode data from the JavaScript engine.
 *
 * @module @xmpp-sansio/precis
 */
export { type BidiClass, bidiClass, bidiRuleViolation, hasRightToLeft } from "./bidi.js";
export { contextRuleHolds, isVirama } from "./context.js";
export { PrecisError, type PrecisErrorCode } from "./errors.js";
export {
  isFreeformClass,
  isIdentifierClass,
  nickname,
  nicknameCompare,
  nicknameComparisonKey,
  opaqueString,
  type StringClass,
  usernameCaseMapped,
  usernameCasePreserved,
  widthMap,
} from "./profiles.js";
export { type DerivedProperty, derivedProperty } from "./properties.js";
