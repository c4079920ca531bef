// Runs the Deno test files (test-deno/*_test.ts) with the `deno` binary from npm, so that the project's one
// test command covers them. Servers the Deno tests talk to (our Node server, Prosody) are started here and
// passed via env; everything is on loopback with ephemeral ports and stopped afterwards.
import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XmppServer } from "@xmpp-sansio/node";
import { ACCOUNTS, scramCredentials } from "../../websocket/test/support/demo-server.js";
import { prosodyMissing, type RunningProsody, startProsody } from "../../node/test/support/prosody.js";

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DENO = path.join(pkg, "node_modules", ".bin", "deno");
const denoMissing = existsSync(DENO) ? undefined : `${DENO} missing (the deno devDependency is not installed): Deno tests skipped`;
if (denoMissing !== undefined) console.warn(denoMissing);

/** Runs `deno test` on the given files; resolves with the exit code and the combined output. */
function denoTest(files: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(DENO, ["test", "--allow-net", "--allow-env", "--allow-read", ...files], {
      cwd: pkg,
      env: { ...process.env, NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

/** A self-signed end-entity certificate (CA:FALSE: rustls, Deno's TLS, refuses a CA certificate as the server's). */
function makeCert(): { dir: string; certFile: string; keyFile: string; cert: string; key: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "xmpp-sansio-deno-cert-"));
  const certFile = path.join(dir, "localhost.crt");
  const keyFile = path.join(dir, "localhost.key");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth", "-keyout", keyFile, "-out", certFile],
    { stdio: "pipe", timeout: 30_000 },
  );
  return { dir, certFile, keyFile, cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
}

describe.skipIf(denoMissing !== undefined)("deno test", () => {
  let cert: ReturnType<typeof makeCert>;
  beforeAll(() => {
    cert = makeCert();
  });
  afterAll(() => {
    rmSync(cert.dir, { recursive: true, force: true });
  });

  it("workspace sources load and run in Deno; the client API matches the other transports", async () => {
    const { code, output } = await denoTest(["test-deno/trivial_test.ts", "test-deno/api_test.ts"]);
    expect(output).toMatch(/ok \| 2 passed \| 0 failed/);
    expect(code, output).toBe(0);
  });

  it("Deno client ↔ Deno server (plain TCP and Direct TLS)", async () => {
    const { code, output } = await denoTest(["test-deno/self_test.ts"], { XMPP_TEST_CERT: cert.certFile, XMPP_TEST_KEY: cert.keyFile });
    expect(output).toMatch(/ok \| 1 passed \| 0 failed/);
    expect(code, output).toBe(0);
  });

  it("Deno client → our Node server (STARTTLS via Deno.startTls, Direct TLS via Deno.connectTls)", async () => {
    const server: XmppServer = new XmppServer({
      domains: "localhost",
      host: "127.0.0.1",
      port: 0,
      directTlsPort: 0,
      tls: { key: cert.key, cert: cert.cert },
      hooks: {
        scramCredentials: (username, mechanism) => (ACCOUNTS[username] === undefined ? null : scramCredentials(ACCOUNTS[username]!, mechanism)),
        stanza: (_conn, stanza) => {
          const to = stanza.attr("to");
          if (stanza.name === "message" && to !== undefined) for (const c of server.connectionsOf(to)) c.send(stanza);
        },
      },
    });
    const { port, directTlsPort } = await server.listen();
    try {
      const { code, output } = await denoTest(["test-deno/node_server_test.ts"], {
        XMPP_NODE_PORT: String(port),
        XMPP_NODE_DIRECT_PORT: String(directTlsPort),
        XMPP_TEST_CERT: cert.certFile,
      });
      expect(output).toMatch(/ok \| 1 passed \| 0 failed/);
      expect(code, output).toBe(0);
    } finally {
      await server.close();
    }
  });

  describe.skipIf(prosodyMissing !== undefined)("against Prosody 0.12", () => {
    let p: RunningProsody;
    beforeAll(async () => {
      p = await startProsody({ accounts: { juliet: "r0m30myr0m30", romeo: "j0liet" } });
    }, 60_000);
    afterAll(async () => {
      await p?.stop();
    }, 30_000);

    it("Deno client → Prosody (STARTTLS and Direct TLS)", async () => {
      const { code, output } = await denoTest(["test-deno/prosody_test.ts"], {
        PROSODY_PORT: String(p.c2sPort),
        PROSODY_DIRECT_PORT: String(p.directTlsPort),
        PROSODY_CA: p.certFile,
      });
      expect(output).toMatch(/ok \| 1 passed \| 0 failed/);
      expect(code, output).toBe(0);
    });
  });
});
