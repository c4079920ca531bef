// A throwaway Prosody for federation tests (see /work/shared/interop/PROSODY.md): one VirtualHost, c2s on
// 127.0.0.1, s2s on its own loopback address, and a test-only plugin that makes Prosody connect to our
// domain at a fixed address instead of asking DNS.
//
// How Prosody finds our domain on loopback: Prosody 0.12 resolves s2s targets through
// `net.resolvers.service` (SRV `_xmpp-server._tcp`, then the domain's A/AAAA on 5269, with libunbound, which
// reads neither /etc/hosts nor anything we could fake without a DNS server). The plugin below
// (`mod_s2s_fixed_hosts`, written into the test's temp dir, loaded with `plugin_paths`) replaces
// `service.new` for the domains of its option `s2s_fixed_hosts = { ["a.test"] = { "127.0.0.2", 5269 } }` with
// a resolver for that address (and no XEP-0368 target), like prosody-modules' `mod_s2soutinjection` on
// newer Prosody. No /etc/hosts edit, no root, any port: nothing else on the machine is touched.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeCert } from "../../../node/test/support/certs.js";

export { prosodyMissing } from "../../../node/test/support/prosody.js";

const PLUGIN = `-- Test-only (xmpp-sansio): s2s connections to fixed addresses instead of DNS.
local service = require "net.resolvers.service";
local basic = require "net.resolvers.basic";
local fixed = module:get_option("s2s_fixed_hosts", {});
if not service.__dns_new then service.__dns_new = service.new; end
local dns_new = service.__dns_new;
service.new = function(hostname, service_name, proto, extra)
  local target = fixed[hostname];
  if target == nil then return dns_new(hostname, service_name, proto, extra); end
  if service_name == "xmpp-server" then return basic.new(target[1], target[2], proto, extra); end
  return { next = function(_, cb) cb(nil); end };
end
module:log("info", "s2s targets fixed for the test");
`;

export interface ProsodyS2SOptions {
  /** The VirtualHost, e.g. `p.test`. */
  domain: string;
  /** Loopback address of Prosody's s2s listener, e.g. `127.0.0.3`. */
  s2sAddress: string;
  /** Port of the s2s listener. Default: a free one. */
  s2sPort?: number;
  /** Where our domains are: domain → [address, port]. */
  fixedHosts: Record<string, readonly [string, number]>;
  /** PEM CAs Prosody trusts for peers' certificates (EXTERNAL); none: certificates never validate. */
  trust?: string;
  accounts: Record<string, string>;
  /** `"debug"` (default: every stanza in the debug log) or `"info"` (benchmarks). */
  logLevel?: "debug" | "info";
}

export interface ProsodyS2S {
  domain: string;
  c2sPort: number;
  s2sPort: number;
  /** Prosody's certificate (self-signed, names `domain`): trust it for c2s and s2s. */
  cert: string;
  debugLog(): string;
  stop(): Promise<void>;
}

async function freePort(host: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function waitForPort(host: string, port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`prosody exited during start-up (code ${child.exitCode})`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (performance.now() > deadline) throw new Error(`prosody did not listen on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, Math.min(100, 10 * (attempt + 1))));
  }
}

/** Starts Prosody for federation. Call `stop()` afterwards. */
export async function startProsodyS2S(o: ProsodyS2SOptions): Promise<ProsodyS2S> {
  const base = mkdtempSync(join(tmpdir(), "xmpp-sansio-prosody-s2s-"));
  mkdirSync(join(base, "data"), { recursive: true });
  mkdirSync(join(base, "plugins"), { recursive: true });
  writeFileSync(join(base, "plugins", "mod_s2s_fixed_hosts.lua"), PLUGIN);
  // openssl's default self-signed certificate (CA:TRUE, no extendedKeyUsage) serves as TLS server and client.
  const cert = makeCert({ cn: o.domain, dir: base, keyType: "ec" });
  if (o.trust !== undefined) writeFileSync(join(base, "trust.pem"), o.trust);
  const c2s = await freePort("127.0.0.1");
  const s2s = o.s2sPort ?? (await freePort(o.s2sAddress));
  const fixed = Object.entries(o.fixedHosts)
    .map(([d, [h, p]]) => `[${JSON.stringify(d)}] = { ${JSON.stringify(h)}, ${p} }`)
    .join("; ");
  const ssl = `{ certificate = base .. "/${o.domain}.crt"; key = base .. "/${o.domain}.key";${o.trust === undefined ? "" : ` cafile = base .. "/trust.pem";`} }`;
  const cfg = join(base, "prosody.cfg.lua");
  writeFileSync(
    cfg,
    `local base = ${JSON.stringify(base)}
run_as_root = true
pidfile = base .. "/prosody.pid"
data_path = base .. "/data"
plugin_paths = { base .. "/plugins" }
interfaces = { "127.0.0.1" }
c2s_interfaces = { "127.0.0.1" }; c2s_ports = { ${c2s} }; c2s_direct_tls_ports = { }
s2s_interfaces = { ${JSON.stringify(o.s2sAddress)} }; s2s_ports = { ${s2s} }
http_ports = { }; https_ports = { }
modules_enabled = { "roster"; "saslauth"; "tls"; "dialback"; "disco"; "posix"; "ping"; "offline"; "s2s_fixed_hosts"; }
s2s_fixed_hosts = { ${fixed} }
c2s_require_encryption = true
s2s_require_encryption = true
s2s_secure_auth = false
authentication = "internal_hashed"
storage = "internal"
ssl = ${ssl}
log = { { levels = { min = "info" }, to = "file", filename = base .. "/prosody.log" };${
      o.logLevel === "info" ? "" : '\n        { levels = { min = "debug" }, to = "file", filename = base .. "/prosody.debug.log" };'
    } }
VirtualHost ${JSON.stringify(o.domain)}
  ssl = ${ssl}
`,
  );
  for (const [user, password] of Object.entries(o.accounts)) {
    execFileSync("prosodyctl", ["--config", cfg, "register", user, o.domain, password], { stdio: "pipe", timeout: 30_000 });
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
    else console.log(`prosody dir kept: ${base}`);
  };
  try {
    await waitForPort("127.0.0.1", c2s, child, 20_000);
    await waitForPort(o.s2sAddress, s2s, child, 20_000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${Buffer.concat(chunks).toString()}`);
  }
  return {
    domain: o.domain,
    c2sPort: c2s,
    s2sPort: s2s,
    cert: cert.cert,
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
