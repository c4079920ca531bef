import { createHash, X509Certificate } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificateEndPointHash, channelBindingFromTlsSocket, endPointHashName, serverEndPointOf } from "../src/channel-binding.js";
import { hasOpenssl, makeCert, type TestCert } from "./support/certs.js";

const describeTls = hasOpenssl() ? describe : describe.skip;

describeTls("channel binding from TLS sockets (loopback)", () => {
  let rsa: TestCert;
  let ec384: TestCert;
  const servers: tls.Server[] = [];

  beforeAll(() => {
    rsa = makeCert();
    ec384 = makeCert({ keyType: "ec", hash: "sha384" });
  });
  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
    rsa.cleanup();
    ec384.cleanup();
  });

  async function listen(cert: TestCert, options: tls.TlsOptions = {}): Promise<{ server: tls.Server; port: number }> {
    const server = tls.createServer({ key: cert.key, cert: cert.cert, ...options }, (s) => {
      s.on("error", () => {});
    });
    servers.push(server);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return { server, port: (server.address() as AddressInfo).port };
  }

  async function pairOf(cert: TestCert, serverOptions: tls.TlsOptions, clientOptions: tls.ConnectionOptions = {}) {
    const { port, server } = await listen(cert, serverOptions);
    const established = once(server, "secureConnection");
    const client = tls.connect({ host: "127.0.0.1", port, servername: "localhost", ca: cert.cert, ...clientOptions });
    client.on("error", () => {});
    const [[serverSocket]] = await Promise.all([established, once(client, "secureConnect")]);
    return { client, server: serverSocket as tls.TLSSocket, port, listener: server };
  }

  it("TLS 1.3: tls-exporter and tls-server-end-point equal on both sides, no tls-unique", async () => {
    const p = await pairOf(rsa, { minVersion: "TLSv1.3" });
    expect(p.client.getProtocol()).toBe("TLSv1.3");
    const c = channelBindingFromTlsSocket(p.client, "client");
    const s = channelBindingFromTlsSocket(p.server, "server");
    expect(c["tls-exporter"]).toHaveLength(32);
    expect(c["tls-exporter"]).toEqual(s["tls-exporter"]);
    expect(c["tls-unique"]).toBeUndefined();
    expect(s["tls-unique"]).toBeUndefined();
    expect(c["tls-server-end-point"]).toEqual(s["tls-server-end-point"]);
    const der = new X509Certificate(rsa.cert).raw;
    expect(Buffer.from(c["tls-server-end-point"]!)).toEqual(createHash("sha256").update(der).digest());
    p.client.destroy();
    p.server.destroy();
  });

  it("TLS 1.2 full handshake: tls-unique is the client's Finished on both sides, no tls-exporter", async () => {
    const p = await pairOf(rsa, { maxVersion: "TLSv1.2" });
    expect(p.client.getProtocol()).toBe("TLSv1.2");
    expect(p.client.isSessionReused()).toBe(false);
    const c = channelBindingFromTlsSocket(p.client, "client");
    const s = channelBindingFromTlsSocket(p.server, "server");
    expect(c["tls-unique"]).toBeDefined();
    expect(c["tls-unique"]).toEqual(s["tls-unique"]);
    expect(Buffer.from(c["tls-unique"]!)).toEqual(p.client.getFinished());
    expect(c["tls-exporter"]).toBeUndefined();
    expect(c["tls-server-end-point"]).toEqual(s["tls-server-end-point"]);
    p.client.destroy();
    p.server.destroy();
  });

  it("TLS 1.2 resumed handshake: tls-unique is the server's Finished on both sides", async () => {
    const first = await pairOf(rsa, { maxVersion: "TLSv1.2" });
    const session = first.client.getSession();
    expect(session).toBeDefined();
    first.client.end();
    first.server.end();
    const established = once(first.listener, "secureConnection");
    const client = tls.connect({ host: "127.0.0.1", port: first.port, servername: "localhost", ca: rsa.cert, session: session!, maxVersion: "TLSv1.2" });
    client.on("error", () => {});
    const [[server]] = (await Promise.all([established, once(client, "secureConnect")])) as [[tls.TLSSocket], unknown];
    expect(client.isSessionReused()).toBe(true);
    expect(server.isSessionReused()).toBe(true);
    const c = channelBindingFromTlsSocket(client, "client");
    const s = channelBindingFromTlsSocket(server, "server");
    expect(c["tls-unique"]).toEqual(s["tls-unique"]);
    expect(Buffer.from(c["tls-unique"]!)).toEqual(client.getPeerFinished());
    expect(Buffer.from(c["tls-unique"]!)).toEqual(server.getFinished());
    client.destroy();
    server.destroy();
  });

  it("tls-server-end-point uses the certificate's signature hash (ECDSA with SHA-384)", async () => {
    const p = await pairOf(ec384, {});
    const c = channelBindingFromTlsSocket(p.client, "client");
    const s = channelBindingFromTlsSocket(p.server, "server");
    const der = new X509Certificate(ec384.cert).raw;
    expect(endPointHashName(der)).toBe("sha384");
    expect(Buffer.from(c["tls-server-end-point"]!)).toEqual(createHash("sha384").update(der).digest());
    expect(c["tls-server-end-point"]).toEqual(s["tls-server-end-point"]);
    p.client.destroy();
    p.server.destroy();
  });

  it("serverEndPointOf: the hash of the one certificate served equals what the server's socket gives; none when it cannot be known", async () => {
    for (const cert of [rsa, ec384]) {
      const p = await pairOf(cert, {});
      const s = channelBindingFromTlsSocket(p.server, "server");
      expect(serverEndPointOf({ cert: cert.cert })).toEqual(s["tls-server-end-point"]);
      expect(serverEndPointOf({ cert: Buffer.from(cert.cert) })).toEqual(s["tls-server-end-point"]);
      // Given to channelBindingFromTlsSocket, it is used as is.
      const given = new Uint8Array([1, 2, 3]);
      expect(channelBindingFromTlsSocket(p.server, "server", given)["tls-server-end-point"]).toBe(given);
      p.client.destroy();
      p.server.destroy();
    }
    expect(serverEndPointOf({ cert: [rsa.cert, ec384.cert] })).toBeUndefined(); // chosen per handshake
    expect(serverEndPointOf({ pfx: Buffer.alloc(1) })).toBeUndefined();
    expect(serverEndPointOf({})).toBeUndefined();
    expect(serverEndPointOf(undefined)).toBeUndefined();
    expect(serverEndPointOf({ cert: "not a certificate" })).toBeUndefined();
  });

  it("a SHA-1 signed certificate is hashed with SHA-256 (RFC 5929 §4.1)", () => {
    const sha1 = makeCert({ hash: "sha1" });
    try {
      const der = new X509Certificate(sha1.cert).raw;
      expect(endPointHashName(der)).toBe("sha256");
      expect(Buffer.from(certificateEndPointHash(der)!)).toEqual(createHash("sha256").update(der).digest());
    } finally {
      sha1.cleanup();
    }
  });

  it("garbage is not a certificate", () => {
    expect(certificateEndPointHash(new Uint8Array([0x30, 0x82, 0xff]))).toBeUndefined();
    expect(certificateEndPointHash(new Uint8Array())).toBeUndefined();
  });
});
