import { execFileSync, spawn } from "node:child_process";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSelfSignedCertificate, saveCertificate } from "../src/certificate.js";

/** The certificates in a PEM text, in order. */
const certificates = (pemText: string) => pemText.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g)!.map((p) => new X509Certificate(p));

/** A TLS server on loopback presenting `pair`, answering "ok". */
async function serve(pair: { cert: string; key: string }): Promise<{ port: number; close(): void }> {
  const server = tls.createServer({ cert: pair.cert, key: pair.key }, (socket) => socket.end("ok"));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

describe("generateSelfSignedCertificate", () => {
  it("makes a CA and a leaf signed by it: the leaf CA:FALSE for serverAuth and clientAuth (s2s), naming the domains and loopback once each", () => {
    const pair = generateSelfSignedCertificate({ dnsNames: ["im.example.com", "localhost", "LOCALHOST"], ipAddresses: ["127.0.0.1", "::1", "0:0:0:0:0:0:0:1"], now: new Date("2026-01-01T00:00:00Z"), days: 30 });
    const [leaf, caInChain, ...rest] = certificates(pair.cert);
    expect(rest).toEqual([]);
    const ca = new X509Certificate(pair.ca!);
    expect(caInChain!.raw.equals(ca.raw)).toBe(true);
    // The leaf: an end entity, issued and signed by the CA.
    expect(leaf!.ca).toBe(false);
    expect(leaf!.checkPrivateKey(createPrivateKey(pair.key))).toBe(true);
    expect(leaf!.checkIssued(ca)).toBe(true);
    expect(leaf!.verify(ca.publicKey)).toBe(true);
    expect(leaf!.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]); // extendedKeyUsage: serverAuth, clientAuth (s2s)
    expect(leaf!.subjectAltName).toBe("DNS:im.example.com, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    expect(leaf!.checkHost("im.example.com")).toBe("im.example.com");
    expect(leaf!.checkHost("localhost")).toBe("localhost");
    expect(leaf!.checkHost("example.net")).toBeUndefined();
    expect(leaf!.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(leaf!.checkIP("::1")).toBe("::1");
    expect(leaf!.subject).toBe("CN=im.example.com");
    expect(new Date(leaf!.validTo).getTime() - new Date("2026-01-01T00:00:00Z").getTime()).toBe(30 * 86_400_000);
    // The CA: self-signed, a CA, not usable as the server's own certificate.
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.subject).toMatch(/^CN=xmpp-sansio demo CA [0-9a-f]{8} for im\.example\.com$/);
    expect(ca.checkHost("im.example.com")).toBeUndefined();
    expect(() => generateSelfSignedCertificate({ dnsNames: [] })).toThrow(TypeError);
  });

  it("passes openssl's server-purpose verification against the CA alone", () => {
    let openssl = true;
    try {
      execFileSync("openssl", ["version"], { stdio: "pipe" });
    } catch {
      openssl = false;
    }
    if (!openssl) return void console.warn("openssl missing: verification skipped");
    const dir = mkdtempSync(path.join(tmpdir(), "xmpp-sansio-cert-"));
    try {
      const pair = generateSelfSignedCertificate({ dnsNames: ["localhost"] });
      writeFileSync(path.join(dir, "ca.pem"), pair.ca!);
      writeFileSync(path.join(dir, "leaf.pem"), certificates(pair.cert)[0]!.toString());
      const out = execFileSync("openssl", ["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", path.join(dir, "ca.pem"), path.join(dir, "leaf.pem")], { encoding: "utf8" });
      expect(out.trim()).toBe(`${path.join(dir, "leaf.pem")}: OK`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is accepted by a Node TLS client trusting the CA (or the whole chain, as callers of .cert do) and checking the JID's domain", async () => {
    const pair = generateSelfSignedCertificate({ dnsNames: ["im.example.com"] });
    const server = await serve(pair);
    try {
      for (const ca of [pair.ca!, pair.cert]) {
        const good = tls.connect({ host: "127.0.0.1", port: server.port, servername: "im.example.com", ca });
        await once(good, "secureConnect");
        expect(good.authorized).toBe(true);
        good.destroy();
      }
      const wrongName = tls.connect({ host: "127.0.0.1", port: server.port, servername: "example.net", ca: pair.ca! });
      const [error] = await once(wrongName, "error");
      expect((error as NodeJS.ErrnoException).code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
      const untrusted = tls.connect({ host: "127.0.0.1", port: server.port, servername: "im.example.com" });
      const [error2] = await once(untrusted, "error");
      expect((error2 as NodeJS.ErrnoException).code).toBe("SELF_SIGNED_CERT_IN_CHAIN");
    } finally {
      server.close();
    }
  });

  it("saveCertificate writes the chain, the key (0600) and the CA, and says how to trust the CA", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "xmpp-sansio-cert-"));
    try {
      const pair = generateSelfSignedCertificate({ dnsNames: ["localhost"] });
      const saved = saveCertificate(path.join(dir, "data"), "localhost", pair);
      expect(readFileSync(saved.certFile, "utf8")).toBe(pair.cert);
      expect(readFileSync(saved.keyFile, "utf8")).toBe(pair.key);
      expect(statSync(saved.keyFile).mode & 0o777).toBe(0o600);
      expect(readFileSync(saved.caFile!, "utf8")).toBe(pair.ca);
      expect(saved.message).toContain(`NODE_EXTRA_CA_CERTS=${saved.caFile}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Deno's TLS client (rustls) refuses a CA certificate as the server's (`CaUsedAsEndEntity`): the reason
// for the CA + leaf. Runs the `deno` binary that @xmpp-sansio/deno installs from npm.
const DENO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../deno/node_modules/.bin/deno");
const denoMissing = existsSync(DENO) ? undefined : `${DENO} missing: the Deno TLS check is skipped`;

describe.skipIf(denoMissing !== undefined)("with Deno's TLS client", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), "xmpp-sansio-cert-deno-"));
    writeFileSync(
      path.join(dir, "connect.ts"),
      `const [port, caFile, name] = Deno.args;
const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
try {
  const secure = await Deno.startTls(conn, { hostname: name, caCerts: [await Deno.readTextFile(caFile)] });
  const buf = new Uint8Array(2);
  await secure.read(buf);
  console.log("deno read:", new TextDecoder().decode(buf));
  secure.close();
} catch (e) {
  console.log("deno error:", String(e));
  Deno.exit(1);
}
`,
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const denoConnect = (port: number, caFile: string, name: string) =>
    new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(DENO, ["run", "--allow-net", "--allow-read", path.join(dir, "connect.ts"), String(port), caFile, name], {
        env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code, output }));
    });

  it("accepts the leaf when it trusts the CA, for the domain; refuses another name", async () => {
    const pair = generateSelfSignedCertificate({ dnsNames: ["localhost", "localhost"] });
    const caFile = path.join(dir, "ca.pem");
    writeFileSync(caFile, pair.ca!);
    const server = await serve(pair);
    try {
      const ok = await denoConnect(server.port, caFile, "localhost");
      expect(ok.output).toContain("deno read: ok");
      expect(ok.code, ok.output).toBe(0);
      const wrong = await denoConnect(server.port, caFile, "example.net");
      expect(wrong.output).toMatch(/deno error: .*(NotValidForName|certificate not valid for name)/i);
      expect(wrong.code).toBe(1);
    } finally {
      server.close();
    }
  });
});
