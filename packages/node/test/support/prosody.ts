// A throwaway Prosody on loopback for one test file (see /work/shared/interop/PROSODY.md). The one
// Prosody harness of the repository: the websocket and deno tests import it by relative path.
// Usage:
//   const prosody = prosodyFixture({ passwordHash: "SHA-256" });   // registers beforeAll/afterAll
//   it("…", () => { prosody.get().c2sPort … });
//   const p = await startProsody({ websocket: true });  // p.webSocketUrl; await p.stop()
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { makeCert } from "./certs.js";

/** Whether `prosody` and `prosodyctl` are installed (CI installs them; see .ci/run). */
export function hasProsody(): boolean {
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
  return found("prosody") && found("prosodyctl") && found("openssl");
}

/** Why the Prosody tests are skipped, or undefined when prosody, prosodyctl and openssl are installed. */
export const prosodyMissing: string | undefined = hasProsody()
  ? undefined
  : "prosody, prosodyctl or openssl not installed: Prosody interop tests skipped (.ci/run installs them)";

export interface ProsodyOptions {
  /** `internal_hashed` storage hash: SCRAM-SHA-1 (default) or SCRAM-SHA-256 are offered accordingly. */
  passwordHash?: "SHA-1" | "SHA-256";
  /** Only TLS 1.2 (`ssl.protocol = "tlsv1_2"`): Prosody 0.12 then offers -PLUS with `tls-unique`. */
  tls12Only?: boolean;
  /** Accounts to register: localpart → password. Default juliet and romeo of PROSODY.md. */
  accounts?: Record<string, string>;
  /** The VirtualHost. Default `localhost` (the certificate's name). */
  domain?: string;
  /**
   * Enable `mod_websocket` on the http port, with `consider_websocket_secure` (so plain `ws:` on loopback
   * is treated as encrypted and SASL is offered): see `webSocketUrl`.
   */
  websocket?: boolean;
  /**
   * `"debug"` (default, for tests: every stanza in `prosody.debug.log`) or `"info"`: only the info log,
   * to a file — how operators run it, for benchmarks (a debug log costs Prosody a lot of CPU per stanza).
   */
  logLevel?: "debug" | "info";
  /**
   * External components (XEP-0114): domain → `component_secret`, each a `Component` section, accepted on
   * `componentPort` (`component_ports`, on 127.0.0.1).
   */
  components?: Record<string, string>;
  /** The certificate's key: RSA 2048 (default) or EC P-256 (as the demo server's, for benchmarks). */
  keyType?: "rsa" | "ec";
  /** Lua appended to the global section of the configuration (e.g. `network_settings = { nagle = false }`). */
  extraConfig?: string;
}

export interface RunningProsody {
  domain: string;
  c2sPort: number;
  directTlsPort: number;
  /**
   * PEM of the self-signed certificate (an end-entity one, `CA:FALSE`, which rustls/Deno accept too):
   * trust it with the `ca` option.
   */
  caCert: string;
  /** Path of that certificate (`caCerts` for Deno, `PROSODY_CA`). */
  certFile: string;
  /** The http port (`mod_websocket` with the `websocket` option). */
  httpPort: number;
  /** `ws://127.0.0.1:<httpPort>/xmpp-websocket` (served only with the `websocket` option). */
  webSocketUrl: string;
  /** The component port (`component_ports`; components are accepted only with the `components` option). */
  componentPort: number;
  base: string;
  pid: number;
  accounts: Record<string, string>;
  /** The debug log so far (every stanza), for failure messages. */
  debugLog(): string;
  /** Stops Prosody (SIGTERM, SIGKILL after 10 s) and removes its directory unless `KEEP_PROSODY` is set. */
  stop(): Promise<void>;
}

/** Picks `n` distinct free loopback ports (bind to 0, read, release). */
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

function config(base: string, domain: string, ports: number[], options: ProsodyOptions): string {
  const [c2s, direct, s2s, http, https, component] = ports;
  const proto = options.tls12Only ? ` protocol = "tlsv1_2";` : "";
  const ssl = `{ certificate = base .. "/localhost.crt"; key = base .. "/localhost.key";${proto} }`;
  return `local base = ${JSON.stringify(base)}
run_as_root = true
pidfile = base .. "/prosody.pid"
data_path = base .. "/data"
interfaces = { "127.0.0.1" }
c2s_interfaces = { "127.0.0.1" }; c2s_direct_tls_interfaces = { "127.0.0.1" }
s2s_interfaces = { "127.0.0.1" }; http_interfaces = { "127.0.0.1" }; https_interfaces = { "127.0.0.1" }
c2s_ports = { ${c2s} }; c2s_direct_tls_ports = { ${direct} }; s2s_ports = { ${s2s} }
http_ports = { ${http} }; https_ports = { ${https} }; http_default_host = ${JSON.stringify(domain)}
component_ports = { ${component} }; component_interfaces = { "127.0.0.1" }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "posix"; "smacks"; "carbons"; "ping"; "offline";${options.websocket ? ' "websocket";' : ""} }
c2s_require_encryption = true
${options.websocket ? "consider_websocket_secure = true" : ""}
authentication = "internal_hashed"
${options.passwordHash === "SHA-256" ? 'password_hash = "SHA-256"' : ""}
storage = "internal"
ssl = ${ssl}
log = { { levels = { min = "info" }, to = "file", filename = base .. "/prosody.log" };${
    options.logLevel === "info" ? "" : '\n        { levels = { min = "debug" }, to = "file", filename = base .. "/prosody.debug.log" };'
  } }
${options.extraConfig ?? ""}
VirtualHost ${JSON.stringify(domain)}
  ssl = ${ssl}
${Object.entries(options.components ?? {})
  .map(([d, secret]) => `Component ${JSON.stringify(d)}\n  component_secret = ${JSON.stringify(secret)}\n`)
  .join("")}`;
}

/** Polls until `port` accepts a TCP connection, the process exits, or `timeoutMs` passes. */
async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  child.once("exit", () => (exited = true));
  for (let attempt = 0; ; attempt++) {
    if (exited) throw new Error(`prosody exited during start-up (code ${child.exitCode})`);
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
    // Back off a little between attempts (bounded: ~10 ms … 100 ms).
    await new Promise((r) => setTimeout(r, Math.min(100, 10 * (attempt + 1))));
  }
}

/** Starts Prosody. Call `stop()` afterwards (the fixture does). */
export async function startProsody(options: ProsodyOptions = {}): Promise<RunningProsody> {
  const domain = options.domain ?? "localhost";
  const accounts = options.accounts ?? { juliet: "r0m30myr0m30", romeo: "j0liet" };
  const base = mkdtempSync(join(tmpdir(), "xmpp-sansio-prosody-"));
  mkdirSync(join(base, "data"), { recursive: true });
  const cert = makeCert({ cn: domain, dir: base, leaf: true, ...(options.keyType === undefined ? {} : { keyType: options.keyType }) });
  // Prosody looks for <base>/localhost.{crt,key}; makeCert named them after the CN.
  if (domain !== "localhost") {
    writeFileSync(join(base, "localhost.crt"), cert.cert);
    writeFileSync(join(base, "localhost.key"), cert.key);
  }
  const ports = await freePorts(6);
  const cfg = join(base, "prosody.cfg.lua");
  writeFileSync(cfg, config(base, domain, ports, options));
  for (const [user, password] of Object.entries(accounts)) {
    execFileSync("prosodyctl", ["--config", cfg, "register", user, domain, password], { stdio: "pipe", timeout: 30_000 });
  }
  const out = join(base, "stdout");
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
    writeFileSync(out, Buffer.concat(chunks));
    if (process.env.KEEP_PROSODY === undefined) rmSync(base, { recursive: true, force: true });
  };
  try {
    await waitForPort(ports[0]!, child, 20_000);
    // mod_websocket's http listener comes up on its own: wait for it too.
    if (options.websocket) await waitForPort(ports[3]!, child, 20_000);
    if (options.components !== undefined) await waitForPort(ports[5]!, child, 20_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${Buffer.concat(chunks).toString()}`);
  }
  return {
    domain,
    c2sPort: ports[0]!,
    directTlsPort: ports[1]!,
    caCert: cert.cert,
    certFile: join(base, "localhost.crt"),
    httpPort: ports[3]!,
    webSocketUrl: `ws://127.0.0.1:${ports[3]!}/xmpp-websocket`,
    componentPort: ports[5]!,
    base,
    pid: child.pid!,
    accounts,
    debugLog() {
      try {
        return readFileSync(join(base, "prosody.debug.log"), "utf8");
      } catch {
        return "";
      }
    },
    stop,
  };
}

/** Registers `beforeAll`/`afterAll` that start and stop one Prosody for the calling test file (or describe). */
export function prosodyFixture(options: ProsodyOptions = {}): { get(): RunningProsody } {
  let running: RunningProsody | undefined;
  beforeAll(async () => {
    running = await startProsody(options);
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
  }, 30_000);
  return {
    get() {
      if (running === undefined) throw new Error("prosody is not running");
      return running;
    },
  };
}
