// The CLI's component flags: `serve --component-port P --component DOMAIN=SECRET_FILE` accepts our
// XmppComponent; wrong uses are refused with a message and a sysexits exit code (64 usage, 65 data, 66 no input).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type StreamErrorException, XmppComponent } from "@xmpp-sansio/node";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli.js";

let dir: string;
let err: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "xmpp-cli-comp-"));
  err = [];
  vi.spyOn(console, "error").mockImplementation((line: string) => void err.push(line));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe("CLI: serve --component-port / --component", () => {
  it("refuses --component without --component-port, a malformed spec, and an unreadable or empty secret file", async () => {
    const file = join(dir, "secret");
    writeFileSync(file, "\n");
    for (const args of [
      ["--component", `comp.localhost=${file}`],
      ["--component-port", "0", "--component", "comp.localhost"],
      ["--component-port", "0", "--component", `comp.localhost=${join(dir, "missing")}`],
      ["--component-port", "0", "--component", `comp.localhost=${file}`],
      ["--component-port", "70000"],
    ]) {
      err.length = 0;
      expect([64, 65, 66]).toContain(await main(["serve", "--port", "0", "--data", dir, ...args]));
      expect(err.join("\n")).toMatch(/--component/);
    }
  });

  it("serve accepts a component with the secret from the file and refuses a wrong one; SIGTERM ends it", async () => {
    const file = join(dir, "comp.secret");
    writeFileSync(file, "file-s3cr3t\nignored second line\n");
    const entry = fileURLToPath(new URL("../src/main.ts", import.meta.url));
    const args = ["--conditions=source", "--import", "tsx", entry, "serve", "--port", "0", "--data", join(dir, "data"), "--component-port", "0", "--component", `comp.localhost=${file}`];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      let port: number | undefined;
      for await (const line of createInterface({ input: child.stdout! })) {
        const found = /components on 127\.0\.0\.1:(\d+)/.exec(line);
        if (found) {
          port = Number(found[1]);
          break;
        }
      }
      expect(port).toBeGreaterThan(0);
      const wrong = new XmppComponent({ domain: "comp.localhost", secret: "file-s3cr3t\n", host: "127.0.0.1", port: port!, reconnect: false });
      expect(((await wrong.online().catch((e: unknown) => e)) as StreamErrorException).condition).toBe("not-authorized");
      const bot = new XmppComponent({ domain: "comp.localhost", secret: "file-s3cr3t", host: "127.0.0.1", port: port!, reconnect: false });
      bot.on("error", () => {});
      await bot.online();
      const closed = new Promise<{ error?: Error }>((resolve) => bot.once("close", resolve));
      child.kill("SIGTERM"); // <system-shutdown/> to the component too
      expect(((await closed).error as StreamErrorException).condition).toBe("system-shutdown");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
