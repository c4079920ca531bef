/**
 * XEP-0388 SASL2, XEP-0386 Bind2, XEP-0484 FAST: one stream feature (`sasl2`) whose halves the sessions
 * create when the `sasl2` option enables them (client: by default; server: when given).
 *
 * @module
 */
import type { StreamFeature } from "../types.js";
import { Sasl2Client } from "./client.js";
import { NS_SASL2 } from "./common.js";
import { Sasl2Server } from "./server.js";

/** What SASL2 is, without its halves (the sessions create those with their options). */
export const SASL2_DEFINITION: StreamFeature = {
  name: "sasl2",
  namespaces: [NS_SASL2],
  availability: { until: "authenticated" },
  restarts: false,
  mandatory: true,
};

/** The SASL2 half of a client session, if loaded. */
export function sasl2Client(session: { featureHalf(name: string): unknown }): Sasl2Client | undefined {
  const h = session.featureHalf("sasl2");
  return h instanceof Sasl2Client ? h : undefined;
}

/** The SASL2 half of a server session, if loaded. */
export function sasl2Server(session: { featureHalf(name: string): unknown }): Sasl2Server | undefined {
  const h = session.featureHalf("sasl2");
  return h instanceof Sasl2Server ? h : undefined;
}

export { Sasl2Client } from "./client.js";
export * from "./common.js";
export * from "./fast.js";
export { Sasl2Server } from "./server.js";
export * from "./upgrade.js";
