import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "..", "src");
const SUPPORT = ["stream-errors.ts", "stanza-errors.ts", "sasl-failure.ts", "iq-tracker.ts", "reconnect.ts", "srv.ts"];

describe("support modules stay pure", () => {
  it.each(SUPPORT)("%s imports no node:*, Deno, DOM or timers, reads no clock and is not async", (f) => {
    // Code only: TSDoc may mention what the code avoids.
    const text = readFileSync(join(SRC, f), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    expect(text).not.toMatch(/from\s+["']node:|require\(|\bDeno\./);
    expect(text).not.toMatch(/\b(setTimeout|setInterval|setImmediate|queueMicrotask|Date\.now|new Date|performance\.|Math\.random)/);
    expect(text).not.toMatch(/\basync\s+(function|\(|[a-z])|\bawait\b|Promise/);
    expect(text).not.toMatch(/\b(window|document)\b/);
    for (const m of text.matchAll(/from\s+["']([^"']+)["']/g)) expect(m[1]).toMatch(/^@xmpp-sansio\/(xml|jid|sasl)$/);
  });
});
