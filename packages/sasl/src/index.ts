/**
 * `@xmpp-sansio/sasl` — SASL mechanisms as small synchronous sans-IO state machines, for both the
 * client and the server: PLAIN, ANONYMOUS, EXTERNAL, SCRAM-SHA-1/256/512 and their -PLUS
 * (channel-binding) variants, with XEP-0440 and XEP-0474 helpers. Raw bytes in, raw bytes out; the
 * session core does the XMPP framing.
 *
 * @module @xmpp-sansio/sasl
 */
export { base64Decode, base64Encode } from "./base64.js";
export { concatBytes, constantTimeEqual, utf8Decode, utf8Encode } from "./bytes.js";
export { createClientMechanism, createLeanClientMechanism, createScramClientMechanism } from "./client.js";
export { createOneShotClientMechanism } from "./client-one-shot.js";
export { isKeyDerivationRequest } from "./client-types.js";
export { type CustomClientMechanism, type CustomServerMechanism, isValidMechanismName } from "./custom.js";
export type {
  ClientDowngradeProtection,
  ClientMechanism,
  ClientMechanismOptions,
  ClientMechanismState,
  KeyDerivationRequest,
  SaltedPasswordCache,
  SaltedPasswordCacheKey,
} from "./client-types.js";
export { digest, hmac, pbkdf2, SCRAM_HASH_FUNCTIONS, type ScramHashFunction, sha1Hash, sha256Hash, sha512Hash } from "./hash.js";
export {
  type AdvertisedMechanisms,
  computeDowngradeProtectionHash,
  downgradeProtectionInput,
  verifyDowngradeProtectionHash,
} from "./downgrade.js";
export {
  conditionForScramServerError,
  isSaslCondition,
  isSaslError,
  SASL_CONDITIONS,
  type SaslCondition,
  type SaslError,
  type SaslErrorReason,
  saslError,
} from "./errors.js";
export { preparePassword } from "./prep.js";
export { escapeSaslname, unescapeSaslname } from "./saslname.js";
export {
  createSaltedPasswordCache,
  DEFAULT_MAX_ITERATIONS,
  DEFAULT_MIN_ITERATIONS,
} from "./scram-client.js";
export { deriveScramCredentials } from "./scram-server.js";
export {
  chooseChannelBinding,
  DEFAULT_MECHANISM_PREFERENCE,
  type MechanismSelection,
  type MechanismSelectionInput,
  selectMechanism,
} from "./select.js";
export { createServerMechanism } from "./server.js";
export type {
  CredentialsNeededQuestion,
  ScramCredentials,
  ScramCrypto,
  ServerChallengeStep,
  ServerFailureStep,
  ServerMechanism,
  ServerMechanismOptions,
  ServerMechanismState,
  ServerQuestion,
  ServerStep,
  ServerSuccessStep,
  VerifyPasswordQuestion,
} from "./server-types.js";
export {
  type AuthzidPolicy,
  CHANNEL_BINDING_TYPES,
  type ChannelBinding,
  type ChannelBindingType,
  defaultRandomBytes,
  isChannelBindingType,
  isMechanismName,
  isScramMechanism,
  MECHANISM_NAMES,
  type MechanismName,
  type OneShotMechanismName,
  type RandomBytes,
  type SaslIdentity,
  type ScramHash,
  type ScramMechanismName,
} from "./types.js";
export { decodeSaslPayload, encodeSaslPayload } from "./xmpp.js";
