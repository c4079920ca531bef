export { type AccountsFile, AccountStore, type AccountStoreOptions, type StoredKeys } from "./accounts.js";
export { type CertificatePair, generateSelfSignedCertificate, type SelfSignedOptions } from "./certificate.js";
export { main } from "./cli.js";
export { type DemoOptions, type DemoResult, runDemo } from "./demo.js";
export {
  type OfflineOutcome,
  type OfflineStore,
  type RouterLike,
  type SessionClock,
  type SessionConnection,
  SessionTable,
  type SessionTableOptions,
  type SmHalfLike,
} from "./resumption.js";
export { type Endpoint, Router, type RouterOptions } from "./router.js";
export {
  type HookConnection,
  type RunningServer,
  type StartServerOptions,
  type StreamManagementSettings,
  startServer,
  type WebSocketListenOptions,
} from "./server.js";
