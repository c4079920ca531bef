// A throwaway Prosody 0.12 with mod_websocket on loopback (see /work/shared/interop/PROSODY.md).
// packages/node/test/support/prosody.ts has no WebSocket listener (no mod_websocket, no http port in its
// result); once it grows a `websocket` option this file should go and that harness be imported instead.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

/** Why the Prosody tests are skipped, or undefined when prosody, prosodyctl and openssl are installed. */
export const prosodyMissing: string | undefined = (() => {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "");
  const found = (name: string) =>
    dirs.some((d) => {
      try {
        accessSync(join(d, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  const missing = ["prosody", "prosodyctl", "openssl"].filter((n) => !found(n));
  return missing.length === 0 ? undefined : `${missing.join(", ")} not installed: Prosody interop tests skipped (.ci/run installs them)`;
})();

export interface RunningProsody {
  domain: string;
  /** `ws://127.0.0.1:<port>/xmpp-websocket` */
  webSocketUrl: string;
  httpPort: number;
  /** STARTTLS c2s port. */
  c2sPort: number;
  /** Direct TLS c2s port (XEP-0368). */
  directTlsPort: number;
  /** Path of the self-signed certificate (CA:FALSE, so rustls/Deno accept it as a trust anchor too). */
  certFile: string;
  accounts: Record<string, string>;
  debugLog(): string;
  stop(): Promise<void>;
}

async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      servers.push(s);
      s.listen(0, "127.0.0.1");
      await once(s, "listening");
      ports.push((s.address() as net.AddressInfo).port);
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
  return ports;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`prosody exited during start-up (code ${child.exitCode})`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (performance.now() > deadline) throw new Error(`prosody did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, Math.min(100, 10 * (attempt + 1))));
  }
}

/** Starts Prosody with mod_websocket (`consider_websocket_secure`, so plain ws on loopback offers SASL). */
export async function startProsody(options: { passwordHash?: "SHA-1" | "SHA-256"; accounts?: Record<string, string> } = {}): Promise<RunningProsody> {
  const domain = "localhost";
  const accounts = options.accounts ?? { juliet: "r0m30myr0m30", romeo: "j0liet" };
  const base = mkdtempSync(join(tmpdir(), "xmpp-sansio-prosody-ws-"));
  mkdirSync(join(base, "data"), { recursive: true });
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "30", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth", "-keyout", join(base, "localhost.key"), "-out", join(base, "localhost.crt")],
    { stdio: "pipe", timeout: 30_000 },
  );
  const [c2s, direct, s2s, http, https] = await freePorts(5);
  const cfg = join(base, "prosody.cfg.lua");
  writeFileSync(
    cfg,
    `local base = ${JSON.stringify(base)}
run_as_root = true
pidfile = base .. "/prosody.pid"
data_path = base .. "/data"
interfaces = { "127.0.0.1" }
c2s_interfaces = { "127.0.0.1" }; c2s_direct_tls_interfaces = { "127.0.0.1" }
s2s_interfaces = { "127.0.0.1" }; http_interfaces = { "127.0.0.1" }; https_interfaces = { "127.0.0.1" }
c2s_ports = { ${c2s} }; c2s_direct_tls_ports = { ${direct} }; s2s_ports = { ${s2s} }
http_ports = { ${http} }; https_ports = { ${https} }; http_default_host = "localhost"
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "posix"; "ping"; "websocket"; }
c2s_require_encryption = true
consider_websocket_secure = true
authentication = "internal_hashed"
${options.passwordHash === "SHA-256" ? 'password_hash = "SHA-256"' : ""}
storage = "internal"
ssl = { certificate = base .. "/localhost.crt"; key = base .. "/localhost.key"; }
log = { { levels = { min = "info" }, to = "file", filename = base .. "/prosody.log" };
        { levels = { min = "debug" }, to = "file", filename = base .. "/prosody.debug.log" }; }
VirtualHost "localhost"
  ssl = { certificate = base .. "/localhost.crt"; key = base .. "/localhost.key"; }
`,
  );
  for (const [user, password] of Object.entries(accounts)) {
    execFileSync("prosodyctl", ["--config", cfg, "register", user, domain, password], { stdio: "pipe", timeout: 30_000 });
  }
  const child = spawn("prosody", ["--config", cfg, "-F"], { stdio: ["ignore", "pipe", "pipe"] });
  const chunks: Buffer[] = [];
  child.stdout?.on("data", (b: Buffer) => chunks.push(b));
  child.stderr?.on("data", (b: Buffer) => chunks.push(b));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (process.env.KEEP_PROSODY === undefined) rmSync(base, { recursive: true, force: true });
  };
  try {
    await waitForPort(http!, child, 20_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${Buffer.concat(chunks).toString()}`);
  }
  return {
    domain,
    webSocketUrl: `ws://127.0.0.1:${http}/xmpp-websocket`,
    httpPort: http!,
    c2sPort: c2s!,
    directTlsPort: direct!,
    certFile: join(base, "localhost.crt"),
    accounts,
    debugLog: () => {
      try {
        return readFileSync(join(base, "prosody.debug.log"), "utf8");
      } catch {
        return "";
      }
    },
    stop,
  };
}
