import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleForBrowser, chromiumMissing, launchChromium, servePage } from "./support/browser.js";

describe.skipIf(chromiumMissing !== undefined)("browser harness (headless Chromium)", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("runs a bundled page that uses this package", async () => {
    const { js } = await bundleForBrowser("trivial.ts");
    const site = await servePage(js);
    try {
      const page = await browser.newPage();
      await page.goto(site.url);
      await page.waitForFunction(() => (globalThis as unknown as { result?: unknown }).result !== undefined, undefined, { timeout: 20_000 });
      const result = await page.evaluate(() => (globalThis as unknown as { result: unknown }).result);
      expect(result).toEqual({ links: [{ rel: "urn:xmpp:alt-connections:websocket", href: "wss://example.com/ws" }], hasWebSocket: true });
      await page.close();
    } finally {
      await site.close();
    }
  });
});
