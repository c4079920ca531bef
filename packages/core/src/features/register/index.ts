/**
 * XEP-0077 In-Band Registration as a stream feature of both roles (off unless loaded: pass
 * `registerFeature(...)` in the `features` option). See `docs/registration.md`.
 *
 * @module
 */
import type { ClientEvent, ServerEvent } from "../../session-types.js";
import type { StreamFeature } from "../types.js";
import { RegisterClient, type RegisterClientOptions } from "./client.js";
import { REGISTER_DEFINITION, REGISTER_FEATURE_NAME } from "./common.js";
import { RegisterServer, type RegisterServerOptions } from "./server.js";

export * from "./common.js";
export { RegisterClient, type RegisterClientOptions } from "./client.js";
export { RegisterServer, type RegisterServerOptions } from "./server.js";

/**
 * In-band registration (XEP-0077). The server half (given `server` options, `{}` for the defaults)
 * offers it before authentication over TLS and asks the application (`register-request`); the client
 * half (given `client` options: the password of the new account) registers before SASL.
 *
 * @example
 * ```ts
 * new ServerSession({ features: [registerFeature({ server: { maxAttempts: 3 } })] });
 * new ClientSession({ jid, password, features: [registerFeature({ client: { password } })] });
 * ```
 */
export function registerFeature(options: { client?: RegisterClientOptions; server?: RegisterServerOptions }): StreamFeature<ClientEvent, ServerEvent> {
  const { client, server } = options;
  return {
    ...REGISTER_DEFINITION,
    ...(client === undefined ? {} : { client: () => new RegisterClient(client) }),
    ...(server === undefined ? {} : { server: () => new RegisterServer(server) }),
  };
}

/** The registration half of a server session, if the feature is loaded (answer `register-request` on it). */
export function registerServer(session: { featureHalf(name: string): unknown }): RegisterServer | undefined {
  const h = session.featureHalf(REGISTER_FEATURE_NAME);
  return h instanceof RegisterServer ? h : undefined;
}
