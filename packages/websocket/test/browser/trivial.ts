// A trivial page: proves the bundling/serving/launch harness.
import { parseHostMetaJson, REL_WEBSOCKET } from "../../src/host-meta.js";

const links = parseHostMetaJson(JSON.stringify({ links: [{ rel: REL_WEBSOCKET, href: "wss://example.com/ws" }] }));
(globalThis as unknown as { result: unknown }).result = { links, hasWebSocket: typeof (globalThis as { WebSocket?: unknown }).WebSocket === "function" };
