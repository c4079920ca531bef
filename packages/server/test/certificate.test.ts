import { createPrivateKey, X509Certificate } from "node:crypto";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { describe, expect, it } from "vitest";
import { generateSelfSignedCertificate } from "../src/certificate.js";

describe("generateSelfSignedCertificate", () => {
  it("makes a matching key pair whose certificate names the domains and loopback addresses", () => {
    const pair = generateSelfSignedCertificate({ dnsNames: ["im.example.com", "localhost"], now: new Date("2026-01-01T00:00:00Z"), days: 30 });
    const cert = new X509Certificate(pair.cert);
    expect(cert.checkPrivateKey(createPrivateKey(pair.key))).toBe(true);
    expect(cert.checkHost("im.example.com")).toBe("im.example.com");
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.checkHost("example.net")).toBeUndefined();
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.subject).toBe("CN=im.example.com");
    expect(new Date(cert.validTo).getTime() - new Date("2026-01-01T00:00:00Z").getTime()).toBe(30 * 86_400_000);
    expect(() => generateSelfSignedCertificate({ dnsNames: [] })).toThrow(TypeError);
    expect(cert.checkIP("::1")).toBe("::1");
  });

  it("is accepted by a Node TLS client that trusts it as a CA and checks the JID's domain", async () => {
    const pair = generateSelfSignedCertificate({ dnsNames: ["im.example.com"] });
    const server = tls.createServer({ cert: pair.cert, key: pair.key }, (socket) => socket.end("ok"));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    try {
      const good = tls.connect({ host: "127.0.0.1", port, servername: "im.example.com", ca: pair.cert });
      await once(good, "secureConnect");
      expect(good.authorized).toBe(true);
      good.destroy();
      const wrongName = tls.connect({ host: "127.0.0.1", port, servername: "example.net", ca: pair.cert });
      const [error] = await once(wrongName, "error");
      expect((error as NodeJS.ErrnoException).code).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
    } finally {
      server.close();
    }
  });
});
