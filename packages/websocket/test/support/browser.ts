// Test support: headless Chromium through playwright-core, pages bundled with esbuild at test time and
// served from a loopback http server (which can also carry our WebSocket XMPP server).
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Why browser tests are skipped, or undefined when Chromium is there. */
export const chromiumMissing: string | undefined = existsSync(CHROMIUM_PATH)
  ? undefined
  : `Chromium not found at ${CHROMIUM_PATH}: browser tests skipped (.ci/run installs it; or set CHROMIUM_PATH)`;
if (chromiumMissing !== undefined) console.warn(chromiumMissing);

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
}

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Bundles a browser entry (a file under test/browser) for the browser. `inputs`: every module esbuild read;
 * `included`: those with bytes in the output (what tree-shaking kept).
 */
export async function bundleForBrowser(entry: string): Promise<{ js: string; inputs: string[]; included: string[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), "xmpp-ws-bundle-"));
  try {
    const outfile = path.join(dir, "page.js");
    const result = await esbuild.build({
      entryPoints: [path.resolve(here, "../browser", entry)],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      conditions: ["source"],
      outfile,
      metafile: true,
      logLevel: "silent",
    });
    const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
    const included = Object.entries(output?.inputs ?? {})
      .filter(([, i]) => i.bytesInOutput > 0)
      .map(([name]) => name);
    return { js: await readFile(outfile, "utf8"), inputs: Object.keys(result.metafile.inputs), included };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A loopback http server serving one page (`/`) and its script (`/page.js`). */
export async function servePage(js: string): Promise<{ server: http.Server; url: string; close(): Promise<void> }> {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>xmpp-sansio</title></head><body><script type="module" src="/page.js"></script></body></html>`;
  const server = http.createServer((req, res) => {
    if (req.url === "/" || req.url?.startsWith("/?")) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(html);
    } else if (req.url === "/page.js") {
      res.writeHead(200, { "content-type": "text/javascript; charset=utf-8" });
      res.end(js);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
