// SASL EXTERNAL on the c2s STARTTLS port with a client certificate: the identity counts only when the
// certificate verified against the server's CAs (the STARTTLS TLSSocket never sets `authorized` itself).
import { afterEach, describe, expect, it } from "vitest";
import { XmppClient, XmppServer } from "../src/index.js";
import { hasOpenssl, makeCert, type TestCert } from "./support/certs.js";

const certs: TestCert[] = [];
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  for (const c of certs.splice(0)) c.cleanup();
});

async function run(trustClient: boolean): Promise<{ ok: boolean; asked: readonly string[][] }> {
  const server = makeCert({ cn: "localhost", keyType: "ec" });
  const client = makeCert({ cn: "juliet.example", keyType: "ec" });
  certs.push(server, client);
  const asked: string[][] = [];
  const xs = new XmppServer({
    domains: "localhost",
    host: "127.0.0.1",
    port: 0,
    tls: { key: server.key, cert: server.cert, requestCert: true, ...(trustClient ? { ca: client.cert } : {}) },
    session: { mechanisms: ["EXTERNAL"] },
    hooks: {
      external: (ids) => {
        asked.push([...ids]);
        return ids.includes("juliet.example") ? "juliet" : null;
      },
    },
  });
  const { port } = await xs.listen();
  stops.push(() => xs.close());
  // Our client's built-in selection has no EXTERNAL (c2s): a minimal one as a custom mechanism (empty
  // authzid, RFC 6120 §6.3.8: "derive it from my certificate").
  const external = {
    name: "EXTERNAL",
    create: () => ({
      name: "EXTERNAL",
      state: "in-progress" as const,
      initialResponse: () => new Uint8Array(),
      challenge: () => new Uint8Array(),
      finish: () => true as const,
    }),
  };
  const c = new XmppClient({
    jid: "juliet@localhost/r",
    password: "unused",
    host: "127.0.0.1",
    port: port!,
    tls: { ca: server.cert, cert: client.cert, key: client.key },
    session: { customMechanisms: [external] },
  });
  stops.unshift(() => c.close());
  const ok = await c.online().then(
    () => true,
    () => false,
  );
  return { ok, asked };
}

describe.skipIf(!hasOpenssl())("c2s SASL EXTERNAL after STARTTLS", () => {
  it("a client certificate the server trusts logs in", async () => {
    const { ok, asked } = await run(true);
    expect(asked).toEqual([["juliet.example"]]);
    expect(ok).toBe(true);
  });

  it("an untrusted client certificate gives no identity", async () => {
    const { ok, asked } = await run(false);
    expect(ok).toBe(false);
    expect(asked.every((ids) => ids.length === 0)).toBe(true);
  });
});
