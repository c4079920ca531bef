import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "..", "src");

describe("src/ stays sans-IO", () => {
  const files = readdirSync(SRC).filter((f) => f.endsWith(".ts"));
  it.each(files)("%s imports no node:*, Deno, DOM or timers and is not async", (f) => {
    // Code only: drop block and line comments (TSDoc may mention what the code avoids).
    const text = readFileSync(join(SRC, f), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    expect(text).not.toMatch(/from\s+["']node:|require\(|\bDeno\./);
    expect(text).not.toMatch(/\b(setTimeout|setInterval|setImmediate|queueMicrotask|Date\.now|performance\.)/);
    expect(text).not.toMatch(/\basync\s+(function|\(|[a-z])|\bawait\b|Promise/);
    // Browser builds' codecs (`*.browser.ts`, chosen by the package's `browser` field) may use what every
    // browser has: the Encoding API and btoa/atob. Everywhere else the package needs none of it.
    if (f.endsWith(".browser.ts")) expect(text).not.toMatch(/\b(window|document)\b/);
    else expect(text).not.toMatch(/\b(window|document|TextEncoder|TextDecoder|atob|btoa)\b/);
    for (const m of text.matchAll(/from\s+["']([^"']+)["']/g)) {
      expect(m[1]).toMatch(/^(\.\/|@xmpp-sansio\/precis$)/);
    }
  });
});
