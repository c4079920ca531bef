export {};
export * from "./iq-tracker.js";
export * from "./reconnect.js";
export * from "./sasl-failure.js";
export * from "./srv.js";
export * from "./stanza-errors.js";
export * from "./stream-errors.js";
