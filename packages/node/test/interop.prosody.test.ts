// Our client (real core + Node adapter) against a real Prosody 0.12 on loopback.
import type { TLSSocket } from "node:tls";
import { xml } from "@xmpp-sansio/xml";
import { afterEach, describe, expect, it } from "vitest";
import { AuthError, type ClientCloseInfo, XmppClient, type XmppClientOptions } from "../src/index.js";
import { hasProsody, prosodyFixture, type RunningProsody } from "./support/prosody.js";

const available = hasProsody();
if (!available) console.warn("interop.prosody.test.ts: prosody/prosodyctl/openssl not installed — skipped (CI installs them via .ci/run)");
const describeProsody = available ? describe : describe.skip;

const clients: XmppClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(p: RunningProsody, user: string, extra: Partial<XmppClientOptions> = {}): XmppClient {
  const c = new XmppClient({
    jid: `${user}@${p.domain}`,
    password: p.accounts[user]!,
    host: "127.0.0.1",
    port: extra.directTls ? p.directTlsPort : p.c2sPort,
    tls: { ca: p.caCert },
    ...extra,
  });
  clients.push(c);
  return c;
}

describeProsody("against Prosody 0.12 (password_hash SHA-1, TLS 1.2 and 1.3)", () => {
  const prosody = prosodyFixture();

  it("STARTTLS (TLS 1.3) + SCRAM-SHA-1, bind, message delivery to a second account, clean close", async () => {
    const p = prosody.get();
    const juliet = client(p, "juliet");
    const romeo = client(p, "romeo");
    const [jj, rj] = await Promise.all([juliet.online(), romeo.online()]);
    expect(jj.bare.toString()).toBe("juliet@localhost");
    expect(jj.resource).not.toBe("");
    expect(rj.bare.toString()).toBe("romeo@localhost");
    expect((juliet.socket as TLSSocket).getProtocol()).toBe("TLSv1.3");
    expect(juliet.mechanism).toBe("SCRAM-SHA-1"); // Prosody 0.12 has no tls-exporter: no -PLUS on 1.3

    const body = `Art thou not Romeo? ${Date.now()}`;
    const inbox = romeo.stanzas();
    juliet.send(xml("message", { to: rj.toString(), type: "chat" }, xml("body", {}, body)));
    for await (const stanza of inbox) {
      if (stanza.name === "message" && stanza.getChildText("body") === body) {
        expect(stanza.attr("from")).toBe(jj.toString());
        break;
      }
    }

    // An IQ round trip: XEP-0199 ping to the server.
    const pong = await juliet.iq(xml("iq", { type: "get", to: p.domain }, xml("ping", { xmlns: "urn:xmpp:ping" })), { timeoutMs: 10_000 });
    expect(pong.attr("type")).toBe("result");

    const closed = new Promise<ClientCloseInfo>((r) => juliet.once("close", r));
    await juliet.close();
    const info = await closed;
    expect(info.reason).toBe("closed");
    expect(info.error).toBeUndefined();
  });

  it("TLS 1.2: SCRAM-SHA-1-PLUS with tls-unique", async () => {
    const p = prosody.get();
    const juliet = client(p, "juliet", { tls: { ca: p.caCert, maxVersion: "TLSv1.2" } });
    await juliet.online();
    expect((juliet.socket as TLSSocket).getProtocol()).toBe("TLSv1.2");
    expect(juliet.mechanism).toBe("SCRAM-SHA-1-PLUS");
  });

  it("Direct TLS (XEP-0368)", async () => {
    const p = prosody.get();
    const juliet = client(p, "juliet", { directTls: true });
    const j = await juliet.online();
    expect(j.bare.toString()).toBe("juliet@localhost");
    expect(juliet.socket).toBeDefined();
  });

  it("a wrong password is a typed AuthError with <not-authorized/>", async () => {
    const p = prosody.get();
    const juliet = client(p, "juliet", { password: "not-the-password" });
    const err = await juliet.online().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).condition).toBe("not-authorized");
  });
});

describeProsody("against Prosody 0.12 with password_hash = SHA-256", () => {
  const prosody = prosodyFixture({ passwordHash: "SHA-256" });

  it("SCRAM-SHA-256 over STARTTLS (TLS 1.3)", async () => {
    const p = prosody.get();
    const juliet = client(p, "juliet");
    await juliet.online();
    expect(juliet.mechanism).toBe("SCRAM-SHA-256");
  });
});

describeProsody("against Prosody 0.12 configured for TLS 1.2 only", () => {
  const prosody = prosodyFixture({ tls12Only: true });

  it("the client, without any version setting, gets TLS 1.2 and SCRAM-SHA-1-PLUS (tls-unique)", async () => {
    const p = prosody.get();
    const juliet = client(p, "juliet");
    await juliet.online();
    expect((juliet.socket as TLSSocket).getProtocol()).toBe("TLSv1.2");
    expect(juliet.mechanism).toBe("SCRAM-SHA-1-PLUS");
  });
});
