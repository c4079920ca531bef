export { type AccountsFile, AccountStore, type AccountStoreOptions, type StoredKeys } from "./accounts.js";
export { type Endpoint, Router, type RouterOptions } from "./router.js";
export { type CertificatePair, generateSelfSignedCertificate, type SelfSignedOptions } from "./certificate.js";
