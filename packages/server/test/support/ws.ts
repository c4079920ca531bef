// `ws` for our WebSocket client on Node 20 (no global WebSocket).
import Ws from "ws";
import type { WebSocketConstructor } from "@xmpp-sansio/websocket";

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
