// Client interop: our ClientSession (core, driven by a minimal node:net/node:tls loop) against Prosody 0.12
// with Debian's prosody-modules (2023-02 drafts) mod_sasl2, mod_sasl2_bind2, mod_sasl2_fast on loopback:
// SASL2 SCRAM login with Bind2, a FAST token request, and a second login with the token and no password.
//
// Shims and quirks of that combination (documented in docs/sasl2.md):
// - mod_compat_conn_tls.lua (copied next to this file from /work/shared/interop/prosody-plugins): Prosody 0.12
//   connections lack ssl_info()/ssl_exportkeyingmaterial(), which mod_sasl2 calls on every TLS connection.
// - mod_sasl2_sm is not loaded: it needs a newer mod_smacks (`do_enable`) and crashes on 0.12.
// - HT-SHA-256-EXPR crashes mod_sasl2_fast on 0.12 (`cb` is nil), so the token is requested for -NONE.
// - Prosody sends <stream:features/> after every SASL2 success, also when Bind2 bound (the client ignores it).
// Skipped unless prosody, prosodyctl, openssl and /usr/lib/prosody/modules/mod_sasl2 exist.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientSession, type FastToken, sasl2Client } from "../packages/core/src/index.js";

const MODULES = "/usr/lib/prosody/modules";
const available = ["/usr/bin/prosody", "/usr/bin/prosodyctl", `${MODULES}/mod_sasl2/mod_sasl2.lua`, `${MODULES}/mod_sasl2_fast/mod_sasl2_fast.lua`].every((f) => existsSync(f));
const UA = { id: "6f1c1b1e-6a0c-4d8b-9d7f-1b2c3d4e5f60", software: "xmpp-sansio" };

let base = "";
let port = 0;
let stop: () => Promise<void> = async () => undefined;

async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, "127.0.0.1");
  await new Promise((r) => s.once("listening", r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

beforeAll(async () => {
  if (!available) return;
  base = mkdtempSync(join(tmpdir(), "xmpp-sansio-sasl2-"));
  mkdirSync(join(base, "data"));
  mkdirSync(join(base, "plugins"));
  writeFileSync(join(base, "plugins", "mod_compat_conn_tls.lua"), readFileSync(join(import.meta.dirname, "prosody", "mod_compat_conn_tls.lua")));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-addext", "basicConstraints=critical,CA:FALSE", "-keyout", join(base, "k.pem"), "-out", join(base, "c.pem")], { stdio: "pipe" });
  port = await freePort();
  const cfg = join(base, "prosody.cfg.lua");
  writeFileSync(
    cfg,
    `local base = ${JSON.stringify(base)}
run_as_root = true
pidfile = base .. "/prosody.pid"
data_path = base .. "/data"
plugin_paths = { base .. "/plugins", ${JSON.stringify(MODULES)} }
interfaces = { "127.0.0.1" }
c2s_interfaces = { "127.0.0.1" }; c2s_ports = { ${port} }
c2s_direct_tls_ports = { }; s2s_ports = { }; http_ports = { }; https_ports = { }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "posix"; "smacks"; "ping"; "compat_conn_tls"; "sasl2"; "sasl2_bind2"; "sasl2_fast"; }
c2s_require_encryption = true
authentication = "internal_hashed"
storage = "internal"
ssl = { certificate = base .. "/c.pem"; key = base .. "/k.pem"; }
log = { { levels = { min = "debug" }, to = "file", filename = base .. "/prosody.log" } }
VirtualHost "localhost"
  ssl = { certificate = base .. "/c.pem"; key = base .. "/k.pem"; }
`,
  );
  execFileSync("prosodyctl", ["--config", cfg, "register", "juliet", "localhost", "r0m30myr0m30"], { stdio: "pipe" });
  const child = spawn("prosody", ["--config", cfg, "-F"], { stdio: "ignore" });
  const exited = new Promise((r) => child.once("exit", r));
  stop = async () => {
    child.kill("SIGTERM");
    await exited;
    if (process.env.KEEP_PROSODY === undefined) rmSync(base, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    const up = await new Promise<boolean>((r) => net.connect(port, "127.0.0.1").once("connect", function (this: net.Socket) { this.destroy(); r(true); }).once("error", () => r(false)));
    if (up) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("prosody did not start");
});

afterAll(() => stop());

/** One login over STARTTLS; resolves once online (then closes) or closed. */
function login(o: { password?: string; token?: FastToken }): Promise<{ events: string[]; jid: string; token: FastToken | undefined }> {
  const ca = readFileSync(join(base, "c.pem"));
  const c = new ClientSession({
    jid: "juliet@localhost",
    ...(o.password === undefined ? {} : { password: o.password }),
    sasl2: { userAgent: UA, fast: { ...(o.token === undefined ? {} : { token: o.token }), request: "HT-SHA-256-NONE" } },
  });
  return new Promise((resolve, reject) => {
    let sock: net.Socket = net.connect(port, "127.0.0.1");
    const events: string[] = [];
    const timer = setTimeout(() => reject(new Error(`timeout; events: ${events.join(" ")}`)), 10_000);
    const done = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ events, jid: c.jid.toString(), token: sasl2Client(c)?.fastToken });
    };
    const flush = (): void => {
      for (let b = c.pollTransmit(); b; b = c.pollTransmit()) sock.write(b);
      for (let ev = c.pollEvent(); ev; ev = c.pollEvent()) {
        events.push(ev.type === "authenticated" ? `authenticated:${ev.mechanism}` : ev.type);
        if (ev.type === "starttls") {
          sock.removeAllListeners("data");
          sock = tls.connect({ socket: sock, servername: "localhost", ca });
          sock.on("data", onData);
          sock.once("secureConnect", () => {
            const t = sock as tls.TLSSocket;
            const cb = t.getProtocol() === "TLSv1.3" ? { "tls-exporter": t.exportKeyingMaterial(32, "EXPORTER-Channel-Binding", Buffer.alloc(0)) } : { "tls-unique": t.getFinished()! };
            c.tlsEstablished({ channelBinding: cb }, performance.now());
            flush();
          });
        }
        if (ev.type === "online") {
          c.close(performance.now());
          for (let b = c.pollTransmit(); b; b = c.pollTransmit()) sock.write(b);
          return done();
        }
        if (ev.type === "closed") return done();
      }
    };
    const onData = (b: Buffer): void => {
      c.receive(new Uint8Array(b), performance.now());
      flush();
    };
    sock.on("data", onData);
    sock.once("connect", () => {
      c.start(performance.now());
      flush();
    });
  });
}

describe.skipIf(!available)("Prosody 0.12 + mod_sasl2/bind2/fast (client interop)", () => {
  it("SASL2 SCRAM + Bind2 + FAST request, then a FAST login without password", async () => {
    const first = await login({ password: "r0m30myr0m30" });
    expect(first.events).toContain("online");
    expect(first.events.filter((e) => e === "stream-opened")).toHaveLength(2); // no restart after SASL2
    expect(first.events).toContain("authenticated:SCRAM-SHA-1");
    expect(first.jid).toMatch(/^juliet@localhost\/xmpp-sansio~/); // Bind2: Prosody's tag~hash resource
    expect(first.token).toMatchObject({ mechanism: "HT-SHA-256-NONE", count: 0 });
    const again = await login({ token: first.token! });
    expect(again.events).toContain("authenticated:HT-SHA-256-NONE");
    expect(again.events).toContain("online");
    expect(again.jid).toBe(first.jid); // the same installation gets the same resource
    // The request is repeated on every login, so Prosody rotates the token: a fresh one (count 0).
    expect(again.token).toMatchObject({ mechanism: "HT-SHA-256-NONE", count: 0 });
    expect(again.token!.token).not.toBe(first.token!.token);
  });
});
