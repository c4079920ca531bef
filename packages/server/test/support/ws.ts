// `ws` for our WebSocket client on Node 20 (no global WebSocket). It is a dependency of
// @xmpp-sansio/websocket, not of this package, so it is loaded from there.
import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { WebSocketConstructor } from "@xmpp-sansio/websocket";

const fromWebsocketPackage = createRequire(realpathSync(fileURLToPath(new URL("../../node_modules/@xmpp-sansio/websocket/package.json", import.meta.url))));

type WsClass = new (url: string, protocols: string | string[], options?: { ca?: string }) => unknown;
const Ws = fromWebsocketPackage("ws") as WsClass;

/** `ws` as a WHATWG-shaped constructor. */
export const WebSocket = Ws as unknown as WebSocketConstructor;

/** `ws` trusting `ca` (for `wss:` with the server's generated certificate; verification stays on). */
export function webSocketTrusting(ca: string): WebSocketConstructor {
  class Trusting extends (Ws as new (url: string, protocols: string | string[], options?: { ca?: string }) => object) {
    constructor(url: string, protocols: string | string[]) {
      super(url, protocols, { ca });
    }
  }
  return Trusting as unknown as WebSocketConstructor;
}
