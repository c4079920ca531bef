// discoverWebSocketEndpoints with the runtime's own fetch: `globalThis.fetch` must type-check as the
// `fetch` option (a compile-time check run by `pnpm typecheck`) and work, against a loopback http server.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import { type DiscoveryOptions, discoverWebSocketEndpoints, type FetchLike } from "../src/index.js";

const XRD = `<?xml version='1.0' encoding='utf-8'?>
<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>
  <Link rel="urn:xmpp:alt-connections:websocket" href="ws://127.0.0.1:5280/xmpp-websocket"/>
</XRD>`;

describe("discoverWebSocketEndpoints with the global fetch", () => {
  let server: http.Server;
  let base: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(`${req.url} ${req.headers.accept}`);
      if (req.url === "/.well-known/host-meta") res.writeHead(200, { "content-type": "application/xrd+xml" }).end(XRD);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("accepts globalThis.fetch and an AbortSignal (types) and fetches with them (runtime)", async () => {
    expectTypeOf(globalThis.fetch).toExtend<FetchLike>();
    const options: DiscoveryOptions = { fetch: globalThis.fetch, signal: new AbortController().signal, baseUrl: base, allowInsecure: true };
    expect(await discoverWebSocketEndpoints("localhost", options)).toEqual(["ws://127.0.0.1:5280/xmpp-websocket"]);
    expect(seen.sort()).toEqual(["/.well-known/host-meta application/xrd+xml", "/.well-known/host-meta.json application/json"]);
  });

  it("passes the signal on: an aborted signal means no links", async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await discoverWebSocketEndpoints("localhost", { fetch: globalThis.fetch, signal: controller.signal, baseUrl: base, allowInsecure: true })).toEqual([]);
  });
});
