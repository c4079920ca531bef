// Browser builds (package.json "browser" maps node-ws.js to this file): there is no `ws` package in a
// browser, so the client always uses the WHATWG `WebSocket` API and the Node fast path is not bundled.
import type { FastWebSocket } from "./node-ws.js";

/** No `ws` fast path in browser builds. */
export function fastWebSocket(_ws: unknown): FastWebSocket | undefined {
  return undefined;
}
