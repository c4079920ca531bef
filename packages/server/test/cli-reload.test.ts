// SIGHUP: `serve` reads its certificate again — new connections (Direct TLS and STARTTLS) get the new one,
// open ones keep theirs, a certificate that does not load is logged and the old one stays — and checks the
// accounts database. One child process gets real signals; reloadServer is also called directly.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import * as tls from "node:tls";
import { fileURLToPath } from "node:url";
import { XmppClient } from "@xmpp-sansio/node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Logger } from "../src/cli/logger.js";
import { loadOrCreateCertificate, reloadServer } from "../src/cli/reload.js";
import { type CertificatePair, generateSelfSignedCertificate } from "../src/certificate.js";
import { AccountStore } from "../src/accounts.js";
import { startServer } from "../src/server.js";
import { openSqliteStorage } from "../src/store/sqlite.js";

const PACKAGE = fileURLToPath(new URL("..", import.meta.url));
const MAIN = join(PACKAGE, "src", "main.ts");
const DOCS = readFileSync(new URL("../../../docs/server.md", import.meta.url), "utf8");

let dir: string;
const children = new Set<ChildProcess>();
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "xmpp-cli-reload-"));
});
afterEach(() => {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
  rmSync(dir, { recursive: true, force: true });
});

type Record_ = { level: string; event: string; msg: string; [k: string]: unknown };

/** Starts `serve` with JSON logs; `next(pred)` resolves with the first record matching after the last one `next` gave. */
function serve(args: string[]) {
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, "serve", "--log-format", "json", ...args], {
    cwd: PACKAGE,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const records: Record_[] = [];
  const waiters: { pred: (r: Record_) => boolean; resolve: (r: Record_) => void }[] = [];
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => void (stderr += c.toString()));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const r = JSON.parse(line) as Record_;
    records.push(r);
    for (const w of [...waiters]) if (w.pred(r)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(r);
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  let cursor = 0; // records before it were matched (or skipped) by an earlier `next`
  const next = (pred: (r: Record_) => boolean) => {
    const index = records.findIndex((r, i) => i >= cursor && pred(r));
    if (index !== -1) {
      cursor = index + 1;
      return Promise.resolve(records[index]!);
    }
    cursor = records.length;
    return Promise.race([
      new Promise<Record_>((resolve) => waiters.push({ pred, resolve })),
      exited.then((code) => Promise.reject(new Error(`serve exited (${code}); stderr: ${stderr}`))),
    ]).then((r) => {
      cursor = records.indexOf(r) + 1;
      return r;
    });
  };
  return { child, records, next, exited };
}

function writePair(pair: CertificatePair): { cert: string; key: string } {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  writeFileSync(cert, pair.cert);
  writeFileSync(key, pair.key);
  return { cert, key };
}

/** A Direct TLS handshake trusting only `ca`: true when the server's certificate chains to it. */
async function handshake(port: number, ca: string, alpn = "xmpp-client"): Promise<boolean> {
  const socket = tls.connect({ host: "127.0.0.1", port, ca, servername: "localhost", ALPNProtocols: [alpn] });
  try {
    await once(socket, "secureConnect");
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

describe("serve on SIGHUP", () => {
  it("gives new connections the new certificate, keeps open ones, and keeps the old one when the new one is bad", async () => {
    const first = generateSelfSignedCertificate({ dnsNames: ["localhost"] });
    const second = generateSelfSignedCertificate({ dnsNames: ["localhost"] });
    const files = writePair(first);
    const server = serve(["--port", "0", "--direct-tls-port", "0", "--cert", files.cert, "--key", files.key, "--data", join(dir, "data")]);
    const listen = await server.next((r) => r.event === "listen");
    const port = listen.port as number;
    const directTlsPort = listen.directTlsPort as number;
    expect(await handshake(directTlsPort, first.ca!)).toBe(true);

    // An open connection from before the reload (STARTTLS, logged in) stays.
    const juliet = new XmppClient({ jid: "juliet@localhost", password: "r0m30myr0m30", host: "127.0.0.1", port, tls: { ca: first.ca! } });
    await juliet.online();

    writePair(second);
    server.child.kill("SIGHUP");
    const reloaded = await server.next((r) => r.event === "reload" && /^certificate/.test(r.msg));
    expect(reloaded.level).toBe("info");
    expect(reloaded.msg).toMatch(/^certificate reloaded from .*cert\.pem; new connections use it$/);
    const accounts = await server.next((r) => r.event === "reload" && /^accounts:/.test(r.msg));
    expect(accounts.accounts).toBe(2); // the demo accounts

    expect(await handshake(directTlsPort, second.ca!)).toBe(true);
    expect(await handshake(directTlsPort, first.ca!)).toBe(false);
    // STARTTLS gets the new certificate too
    const romeo = new XmppClient({ jid: "romeo@localhost", password: "j0liet", host: "127.0.0.1", port, tls: { ca: second.ca! } });
    await romeo.online();
    await romeo.close();
    const stale = new XmppClient({ jid: "romeo@localhost", password: "j0liet", host: "127.0.0.1", port, tls: { ca: first.ca! }, reconnect: false });
    await expect(stale.online()).rejects.toThrow();
    await stale.close();
    expect(juliet.isOnline).toBe(true);

    // A certificate that does not load: an error, and the second one stays.
    writeFileSync(files.cert, "-----BEGIN CERTIFICATE-----\nnonsense\n-----END CERTIFICATE-----\n");
    server.child.kill("SIGHUP");
    const failed = await server.next((r) => r.event === "reload" && /^certificate/.test(r.msg));
    expect(failed.level).toBe("error");
    expect(failed.msg).toMatch(/^certificate not reloaded, the old one stays: .*cert\.pem is not a PEM certificate/);
    expect(await handshake(directTlsPort, second.ca!)).toBe(true);
    expect(juliet.isOnline).toBe(true);

    // A failed login: a warning with the address, which the documented JSON fail2ban filter matches.
    const intruder = new XmppClient({ jid: "juliet@localhost", password: "wrong", host: "127.0.0.1", port, tls: { ca: second.ca! }, reconnect: false });
    await expect(intruder.online()).rejects.toThrow();
    await intruder.close();
    const auth = await server.next((r) => r.event === "auth");
    expect(auth).toMatchObject({ level: "warn", ip: "127.0.0.1", msg: "authentication failed for juliet from 127.0.0.1 (not-authorized)" });
    const failregex = [...DOCS.matchAll(/^failregex\s*=\s*(.+)$/gm)][1]![1]!;
    expect(new RegExp(failregex.replace("<HOST>", "(?<host>\\S+)")).exec(JSON.stringify(auth))?.groups?.host).toBe("127.0.0.1");

    await juliet.close();
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    // connections were logged with their address
    expect(server.records.some((r) => r.event === "connect" && r.ip === "127.0.0.1")).toBe(true);
    expect(server.records.some((r) => r.event === "close" && r.ip === "127.0.0.1")).toBe(true);
    expect(server.records.some((r) => r.event === "online" && r.jid !== undefined)).toBe(true);
  }, 30_000);
});

describe("reloadServer", () => {
  it("reloads a generated certificate from the data directory, and says so when it is gone", () => {
    const storage = openSqliteStorage(join(dir, "db.sqlite"));
    try {
      const lines: string[] = [];
      const log = new Logger({ write: (l) => lines.push(l) });
      const given: CertificatePair[] = [];
      const target = { setCertificate: (pair: CertificatePair) => void given.push(pair) };
      const source = { kind: "generated", dir, domain: "example.com" } as const;
      expect(reloadServer(target, source, storage, dir, log)).toBe(false); // nothing on disk yet
      expect(lines[0]).toMatch(/ERROR reload {2}certificate not reloaded, the old one stays: .*example\.com\.crt or its key is missing$/);
      expect(given).toEqual([]);
      const pair = generateSelfSignedCertificate({ dnsNames: ["example.com"] });
      writeFileSync(join(dir, "example.com.crt"), pair.cert);
      writeFileSync(join(dir, "example.com.key"), pair.key);
      writeFileSync(join(dir, "accounts.json"), "{}");
      lines.length = 0;
      expect(reloadServer(target, source, storage, dir, log)).toBe(true);
      expect(given).toEqual([{ cert: pair.cert, key: pair.key }]);
      expect(lines).toHaveLength(3);
      expect(lines[1]).toMatch(/INFO {2}reload {2}accounts: 0 in /);
      expect(lines[2]).toMatch(/WARN {2}reload {2}.*accounts\.json is not read again/);
      // a key that is not the certificate's
      writeFileSync(join(dir, "example.com.key"), generateSelfSignedCertificate({ dnsNames: ["x"] }).key);
      lines.length = 0;
      expect(reloadServer(target, source, storage, dir, log)).toBe(false);
      expect(lines[0]).toMatch(/example\.com\.key is not the key of the certificate/);
      expect(given).toHaveLength(1);
    } finally {
      storage.close();
    }
  });
});

describe("RunningServer.setCertificate", () => {
  it("changes the certificate of the wss: listener, Direct TLS and s2s Direct TLS; a bad pair throws and changes nothing", async () => {
    const first = generateSelfSignedCertificate({ dnsNames: ["localhost"] });
    const second = generateSelfSignedCertificate({ dnsNames: ["localhost"] });
    const running = await startServer({
      domain: "localhost",
      accounts: new AccountStore(),
      port: 0,
      directTlsPort: 0,
      websocket: { port: 0, tls: true },
      tls: first,
      federation: { host: "127.0.0.1", port: null, directTlsPort: 0 },
    });
    try {
      const ports: [number, string][] = [
        [running.directTlsPort!, "xmpp-client"],
        [running.websocketPort!, "http/1.1"],
        [running.federation!.manager.address().directTlsPort!, "xmpp-server"],
      ];
      for (const [port, alpn] of ports) expect(await handshake(port, first.ca!, alpn)).toBe(true);
      running.setCertificate(second);
      expect(running.certificate).toBe(second.cert);
      for (const [port, alpn] of ports) {
        expect(await handshake(port, second.ca!, alpn)).toBe(true);
        expect(await handshake(port, first.ca!, alpn)).toBe(false);
      }
      expect(() => running.setCertificate({ cert: second.cert, key: first.key })).toThrow();
      expect(running.certificate).toBe(second.cert);
      for (const [port, alpn] of ports) expect(await handshake(port, second.ca!, alpn)).toBe(true);
    } finally {
      await running.close();
    }
  });
});

describe("the generated certificate", () => {
  it("is saved with its CA on first start, and every start says which CA file clients trust", () => {
    const said: string[] = [];
    const say = (_event: string, msg: string) => void said.push(msg);
    const source = { kind: "generated", dir, domain: "example.com" } as const;
    const pair = loadOrCreateCertificate(source, say);
    expect(readdirSync(dir).sort()).toEqual(["example.com-ca.crt", "example.com.crt", "example.com.key"]);
    expect(readFileSync(join(dir, "example.com-ca.crt"), "utf8")).toBe(pair.ca);
    const ca = join(dir, "example.com-ca.crt");
    expect(said[0]).toContain(`signed by a private CA in ${ca}; clients must trust that CA, e.g. NODE_EXTRA_CA_CERTS=${ca}`);
    const again = loadOrCreateCertificate(source, say);
    expect(again).toEqual({ cert: pair.cert, key: pair.key });
    expect(said[1]).toBe(`certificate ${join(dir, "example.com.crt")}, signed by the private CA in ${ca}; clients must trust that CA (e.g. NODE_EXTRA_CA_CERTS=${ca})`);
  });
});
