import { xml } from "@xmpp-sansio/xml";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type WebSocketConstructor, XmppClient } from "../src/index.js";
import { bundleForBrowser, chromiumMissing, launchChromium, servePage } from "./support/browser.js";
import { ACCOUNTS, DOMAIN, startDemoServer } from "./support/demo-server.js";

describe.skipIf(chromiumMissing !== undefined)("a real browser (headless Chromium) ↔ our WebSocket server ↔ a Node client", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("the browser bundle contains no node:* and no ws", async () => {
    const { inputs } = await bundleForBrowser("chat.ts");
    expect(inputs.some((i) => i.includes("websocket/src/client.ts"))).toBe(true);
    // Messages are parsed by the compact parser of one element (xml's browser build of FramedParser).
    expect(inputs.some((i) => i.includes("xml/src/framing.browser.ts"))).toBe(true);
    expect(inputs.some((i) => i.includes("xml/src/element-parser.ts"))).toBe(true);
    expect(inputs.filter((i) => /node_modules\/(\.pnpm\/)?ws[@/]|^node:|websocket\/src\/server\.ts/.test(i))).toEqual([]);
  });

  it("logs in from the page over ws://127.0.0.1 and exchanges messages with a Node client", async () => {
    const { js } = await bundleForBrowser("chat.ts");
    const site = await servePage(js);
    const demo = await startDemoServer({ httpServer: site.server });
    const romeo = new XmppClient({ jid: `romeo@${DOMAIN}/node`, password: ACCOUNTS.romeo!, service: demo.url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const page = await browser.newPage();
    try {
      const query = new URLSearchParams({ jid: `juliet@${DOMAIN}/browser`, password: ACCOUNTS.juliet!, service: demo.url });
      await page.goto(`${site.url}?${query}`);
      await page.waitForFunction(() => {
        const s = (globalThis as unknown as { state?: { online?: string; error?: string } }).state;
        return s?.online !== undefined || s?.error !== undefined;
      }, undefined, { timeout: 30_000 });
      const state = await page.evaluate(() => (globalThis as unknown as { state: unknown }).state);
      expect(state).toMatchObject({ online: `juliet@${DOMAIN}/browser` });
      // The server saw a SCRAM login (no channel binding in a browser) over a non-TLS loopback WebSocket.
      const conn = demo.server.connectionFor(`juliet@${DOMAIN}/browser`);
      expect(conn?.mechanism).toBe("SCRAM-SHA-512");
      expect(conn?.origin).toBe(site.url.replace(/\/$/, ""));

      await romeo.online();
      const reply = new Promise<string | undefined>((resolve) => romeo.once("message", (m) => resolve(m.getChildText("body"))));
      romeo.send(xml("message", { to: `juliet@${DOMAIN}/browser`, type: "chat" }, xml("body", {}, "But soft! What light through yonder window breaks? ☀")));
      expect(await reply).toBe("browser got: But soft! What light through yonder window breaks? ☀");
      const received = await page.evaluate(() => (globalThis as unknown as { state: { received: string[] } }).state.received);
      expect(received).toEqual(["But soft! What light through yonder window breaks? ☀"]);

      // Close from the page: graceful <close/> both ways.
      await page.evaluate(() => (globalThis as unknown as { client: { close(): Promise<void> } }).client.close());
      await page.waitForFunction(() => (globalThis as unknown as { state: { closed?: boolean } }).state.closed === true, undefined, { timeout: 10_000 });
      for (let i = 0; i < 200 && demo.server.connectionFor(`juliet@${DOMAIN}/browser`) !== undefined; i++) await new Promise((r) => setImmediate(r));
      expect(demo.server.connectionFor(`juliet@${DOMAIN}/browser`)).toBeUndefined();
    } finally {
      await page.close();
      await romeo.close();
      await demo.close();
      await site.close();
    }
  });

  it("connectBareClient: the core session on the page's WebSocket logs in, chats, refuses an unhandled IQ and closes", async () => {
    const { js, included: inputs } = await bundleForBrowser("bare-chat.ts");
    // No adapter client, lifecycle or IQ-handler registry in this page: the core session and the binding.
    expect(inputs.some((i) => i.includes("websocket/src/bare-client.ts"))).toBe(true);
    expect(inputs.filter((i) => /adapter\/src\/(client|lifecycle|iq-handlers|pump)\.ts|core\/src\/lifecycle\.ts/.test(i))).toEqual([]);
    const site = await servePage(js);
    const demo = await startDemoServer({ httpServer: site.server });
    const romeo = new XmppClient({ jid: `romeo@${DOMAIN}/node`, password: ACCOUNTS.romeo!, service: demo.url, WebSocket: WebSocket as unknown as WebSocketConstructor });
    const page = await browser.newPage();
    type State = { online?: string; received: string[]; events: string[]; ended?: string };
    const state = () => page.evaluate(() => (globalThis as unknown as { state: State }).state);
    try {
      const query = new URLSearchParams({ jid: `juliet@${DOMAIN}/bare`, password: ACCOUNTS.juliet!, service: demo.url });
      await page.goto(`${site.url}?${query}`);
      await page.waitForFunction(() => {
        const s = (globalThis as unknown as { state?: State }).state;
        return s?.online !== undefined || s?.ended !== undefined;
      }, undefined, { timeout: 30_000 });
      expect(await state()).toMatchObject({ online: `juliet@${DOMAIN}/bare` });
      expect(demo.server.connectionFor(`juliet@${DOMAIN}/bare`)?.mechanism).toBe("SCRAM-SHA-256");

      await romeo.online();
      const reply = new Promise<string | undefined>((resolve) => romeo.once("message", (m) => resolve(m.getChildText("body"))));
      romeo.send(xml("message", { to: `juliet@${DOMAIN}/bare`, type: "chat" }, xml("body", {}, "Good night, good night! ☾")));
      expect(await reply).toBe("bare got: Good night, good night! ☾");
      const refused = await romeo.iq(xml("iq", { type: "get", to: `juliet@${DOMAIN}/bare` }, xml("ping", { xmlns: "urn:xmpp:ping" }))).then(
        () => "answered",
        (e: { condition?: string }) => e.condition,
      );
      expect(refused).toBe("service-unavailable");

      await page.evaluate(() => (globalThis as unknown as { client: { close(): void } }).client.close());
      await page.waitForFunction(() => (globalThis as unknown as { state: State }).state.ended !== undefined, undefined, { timeout: 10_000 });
      const end = await state();
      expect(end.ended).toBe("clean");
      expect(end.events.at(-1)).toBe("closed");
    } finally {
      await page.close();
      await romeo.close();
      await demo.close();
      await site.close();
    }
  });
});
