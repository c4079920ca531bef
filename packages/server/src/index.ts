/**
 * The reference XMPP server, built only from the public API: SCRAM accounts, RFC 6120 §10 routing, the IM
 * server on SQLite ({@link ImRouter}), Stream Management resumption, certificates, the demo and the CLI
 * ({@link main}). See `docs/server.md` for the command line and the operations.
 *
 * @module @xmpp-sansio/server
 */
export { type AccountsFile, AccountStore, type AccountStoreOptions, MemoryAccountRecords, type StoredKeys } from "./accounts.js";
export { type CertificatePair, generateSelfSignedCertificate, type SavedCertificate, type SelfSignedOptions, saveCertificate } from "./certificate.js";
export { main, PASSWORD_ENV } from "./cli.js";
export { ComponentHub, type ComponentHubOptions, type ComponentRoute, type ComponentsOptions, routeOf } from "./components.js";
export { type DemoOptions, type DemoResult, runDemo } from "./demo.js";
export {
  type OfflineOutcome,
  type OfflineStoreHook,
  SessionEndpoint,
  type SessionPhase,
  type RouterLike,
  type SessionClock,
  type SessionConnection,
  SessionTable,
  type SessionTableOptions,
  type SmHalfLike,
} from "./resumption.js";
export { type Federation, type FederationOptions, type FederationRouter, startFederation } from "./federation.js";
export { ImRouter, type ImRouterOptions } from "./im-router.js";
export { type Endpoint, type OtherDomainRoutes, Router, type RouterOptions } from "./router.js";
export { ACCOUNT_FEATURES, SERVER_FEATURES } from "./services.js";
export {
  type HookConnection,
  type FastSettings,
  type RunningServer,
  type Sasl2Settings,
  type StartServerOptions,
  type StreamManagementSettings,
  startServer,
  type WebSocketListenOptions,
} from "./server.js";
export * from "./store/index.js";
