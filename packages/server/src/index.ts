export { type AccountsFile, AccountStore, type AccountStoreOptions, type StoredKeys } from "./accounts.js";
export { type CertificatePair, generateSelfSignedCertificate, type SavedCertificate, type SelfSignedOptions, saveCertificate } from "./certificate.js";
export { main } from "./cli.js";
export { type DemoOptions, type DemoResult, runDemo } from "./demo.js";
export { type Endpoint, Router, type RouterOptions } from "./router.js";
export { type RunningServer, type StartServerOptions, startServer, type WebSocketListenOptions } from "./server.js";
