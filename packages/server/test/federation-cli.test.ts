// The CLI's federation settings: refusals before anything is written, and `serve --federation` listening
// for s2s (the banner names the port; a raw s2s stream header gets the s2s features back).
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli.js";
import { parseCommandLine, settingsFromConfig } from "../src/cli/settings.js";

let dir: string;
let err: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "xmpp-cli-s2s-"));
  err = [];
  vi.spyOn(console, "error").mockImplementation((line: string) => void err.push(line));
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe("CLI: serve --federation", () => {
  it("refuses federation settings without --federation, a bad peer address and a short secret, writing nothing", async () => {
    const short = join(dir, "short.secret");
    writeFileSync(short, "tooshort\n");
    const data = join(dir, "data");
    for (const [args, code, text] of [
      [["--s2s-port", "5269"], 64, /--s2s-port needs --federation/],
      [["--federation", "--s2s-peer", "b.test=host:99999"], 64, /--s2s-peer b\.test=host:99999: expected HOST or HOST:PORT/],
      [["--federation", "--s2s-peer", "b.test"], 64, /expected DOMAIN=HOST\[:PORT\]/],
      [["--federation", "--dialback-secret-file", short], 65, /at least 16 characters/],
      [["--federation", "--s2s-ca", join(dir, "missing.pem")], 66, /cannot read the CA file/],
    ] as const) {
      err.length = 0;
      expect(await main(["serve", "--port", "0", "--data", data, ...args])).toBe(code);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(text);
    }
    expect(readdirSync(dir)).toEqual(["short.secret"]);
  });

  it("reads the [federation] table, peers included", () => {
    const s = settingsFromConfig({ federation: { enabled: true, port: 5270, peers: { "B.Test": "127.0.0.3:5269" } } }, join(dir, "x.toml"));
    expect(s).toEqual({ federation: true, s2sPort: 5270, s2sHosts: { "b.test": "127.0.0.3:5269" } });
    expect(parseCommandLine(["serve", "--federation", "--s2s-peer", "b.test=[::1]:5270"]).flags).toEqual({ federation: true, s2sHosts: { "b.test": "[::1]:5270" } });
  });

  it("listens for s2s: the banner names the port and a peer's stream header gets s2s features", async () => {
    const secret = join(dir, "dialback.secret");
    writeFileSync(secret, "a-dialback-secret-of-some-length\n");
    const entry = fileURLToPath(new URL("../src/main.ts", import.meta.url));
    const args = ["--conditions=source", "--import", "tsx", entry, "serve", "--domain", "a.test", "--port", "0", "--data", join(dir, "data")];
    const child = spawn(process.execPath, [...args, "--federation", "--s2s-port", "0", "--dialback-secret-file", secret], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      let port: number | undefined;
      for await (const line of createInterface({ input: child.stdout! })) {
        const found = /s2s on 127\.0\.0\.1:(\d+)/.exec(line);
        if (found) {
          port = Number(found[1]);
          break;
        }
      }
      expect(port).toBeGreaterThan(0);
      const socket = connect(port!, "127.0.0.1");
      let got = "";
      await new Promise<void>((resolve, reject) => {
        socket.on("error", reject);
        socket.on("data", (chunk) => {
          got += chunk.toString();
          if (got.includes("</stream:features>")) resolve();
        });
        socket.write(
          "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' from='b.test' to='a.test' version='1.0'>",
        );
      });
      socket.destroy();
      expect(got).toMatch(/<starttls xmlns=['"]urn:ietf:params:xml:ns:xmpp-tls['"]/);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
