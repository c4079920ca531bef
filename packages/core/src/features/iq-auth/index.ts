/**
 * XEP-0078 Non-SASL Authentication (`jabber:iq:auth`) as a stream feature of both roles. **Obsolete**
 * (deprecated in favour of SASL) and off unless loaded: pass `iqAuthFeature(...)` in the `features`
 * option. It exists because the seed's use case 2 logs in with it. See `docs/registration.md`.
 *
 * @module
 */
import type { ClientEvent, ServerEvent } from "../../session-types.js";
import type { StreamFeature } from "../types.js";
import { type IqAuthClientOptions, iqAuthClientFeature } from "./client.js";
import { IQ_AUTH_DEFINITION, IQ_AUTH_FEATURE_NAME } from "./common.js";
import { IqAuthServer, type IqAuthServerOptions, iqAuthServerFeature } from "./server.js";

export * from "./common.js";
export { IqAuthClient, type IqAuthClientOptions, iqAuthClientFeature } from "./client.js";
export { IqAuthServer, type IqAuthServerOptions, iqAuthServerFeature } from "./server.js";

/**
 * Non-SASL authentication (XEP-0078, obsolete), both roles in one value. A client bundle should load
 * {@link iqAuthClientFeature} instead (and a server {@link iqAuthServerFeature}): this function imports
 * both halves, so a bundler keeps the unused one. The server half (given `server` options, `{}` for the
 * defaults) offers it before authentication and asks the application (`iq-auth-request`); the client
 * half (given `client` options) logs in with it only when the server offers no SASL mechanism.
 *
 * @example
 * ```ts
 * new ServerSession({ features: [iqAuthFeature({ server: { digest: true } })] });
 * new ClientSession({ jid, password, features: [iqAuthFeature({ client: { password, resource: "balcony" } })] });
 * ```
 */
export function iqAuthFeature(options: { client?: IqAuthClientOptions; server?: IqAuthServerOptions }): StreamFeature<ClientEvent, ServerEvent> {
  const { client, server } = options;
  return {
    ...IQ_AUTH_DEFINITION,
    ...(client === undefined ? {} : { client: iqAuthClientFeature(client).client }),
    ...(server === undefined ? {} : { server: iqAuthServerFeature(server).server }),
  };
}

/** The `jabber:iq:auth` half of a server session, if the feature is loaded (answer `iq-auth-request` on it). */
export function iqAuthServer(session: { featureHalf(name: string): unknown }): IqAuthServer | undefined {
  const h = session.featureHalf(IQ_AUTH_FEATURE_NAME);
  return h instanceof IqAuthServer ? h : undefined;
}
