// SASL2 (XEP-0388), Bind2 (XEP-0386) and FAST (XEP-0484) on the reference server, on loopback with raw
// Direct TLS sockets: a password login that binds inline and asks for a token, a login with the token
// (the HMAC computed here by hand, per XEP-0484, not with the core's client code), and a replay refused.
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { generateSelfSignedCertificate } from "../src/certificate.js";
import { type RunningServer, startServer } from "../src/server.js";
import { RawClient, re } from "./support/raw.js";

const DOMAIN = "localhost";
const NS_SASL2 = "urn:xmpp:sasl:2";
const NS_BIND2 = "urn:xmpp:bind:0";
const NS_FAST = "urn:xmpp:fast:0";
const UA = "d4565fa7-4d72-4749-b3d3-740edbf87770";
const accounts = new AccountStore();
accounts.add("juliet", "r0m30myr0m30");
const pair = generateSelfSignedCertificate({ dnsNames: [DOMAIN] });
const header = `<?xml version='1.0'?><stream:stream to='${DOMAIN}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;
const b64 = (b: Uint8Array | string) => Buffer.from(b).toString("base64");
const userAgent = `<user-agent id='${UA}'><software>raw test</software></user-agent>`;

/** HT-SHA-256-NONE initial response (XEP-0484 §3): username, NUL, HMAC-SHA-256(token, "Initiator" || cb-data), no cb data for NONE. */
function htNone(username: string, token: string): string {
  const mac = createHmac("sha256", Buffer.from(token, "utf8")).update("Initiator").digest();
  return b64(Buffer.concat([Buffer.from(username, "utf8"), Buffer.from([0]), mac]));
}

describe("SASL2 + Bind2 + FAST on the reference server (raw socket, Direct TLS)", () => {
  let running: RunningServer;
  let off: RunningServer;
  let bare: RunningServer;
  const open: RawClient[] = [];
  const raw = async (server: RunningServer) => {
    const c = await RawClient.connect(server.directTlsPort!, server.certificate);
    open.push(c);
    return c;
  };
  const features = async (c: RawClient) => {
    c.write(header);
    return (await c.until(/<stream:features>([\s\S]*?)<\/stream:features>/))[1]!;
  };
  beforeAll(async () => {
    // SASL2, Bind2 and FAST are on by default.
    running = await startServer({ domain: DOMAIN, accounts, tls: pair, port: 0, directTlsPort: 0 });
    off = await startServer({ domain: DOMAIN, accounts, tls: pair, port: 0, directTlsPort: 0, sasl2: false });
    bare = await startServer({ domain: DOMAIN, accounts, tls: pair, port: 0, directTlsPort: 0, sasl2: { bind2: false, fast: false } });
  });
  afterAll(async () => {
    for (const c of open) c.destroy();
    await running?.close();
    await off?.close();
    await bare?.close();
  });

  it("password login with Bind2 and a token request, the token logs in with count 1, the same count again is refused", async () => {
    const first = await raw(running);
    const offered = await features(first);
    expect(offered).toContain(`<authentication xmlns='${NS_SASL2}'>`);
    expect(offered).toContain(`<mechanism>HT-SHA-256-NONE</mechanism>`);
    expect(offered).toContain(`<bind xmlns='${NS_BIND2}'>`);
    first.write(
      `<authenticate xmlns='${NS_SASL2}' mechanism='PLAIN'><initial-response>${b64("\0juliet\0r0m30myr0m30")}</initial-response>${userAgent}` +
        `<bind xmlns='${NS_BIND2}'><tag>balcony</tag></bind><request-token xmlns='${NS_FAST}' mechanism='HT-SHA-256-NONE'/></authenticate>`,
    );
    const success = (await first.until(/<success [^>]*>[\s\S]*?<\/success>|<failure [\s\S]*?<\/failure>/))[0];
    expect(success).toMatch(new RegExp(`^<success xmlns='${re(NS_SASL2)}'>`));
    const jid = /<authorization-identifier>([^<]+)<\/authorization-identifier>/.exec(success)?.[1];
    expect(jid).toMatch(/^juliet@localhost\/balcony\.[A-Za-z0-9_-]+$/);
    expect(success).toContain(`<bound xmlns='${NS_BIND2}'/>`);
    const token = /<token [^>]*token='([^']+)'/.exec(success)?.[1];
    expect(token).toBeDefined();
    // Bound inline: stanzas flow with no stream restart and no RFC 6120 bind.
    first.write(`<iq type='get' id='ping-1'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await first.until(/<iq [^>]*id='ping-1'[^>]*type='result'|<iq [^>]*type='result'[^>]*id='ping-1'/);

    const second = await raw(running);
    await features(second);
    second.write(
      `<authenticate xmlns='${NS_SASL2}' mechanism='HT-SHA-256-NONE'><initial-response>${htNone("juliet", token!)}</initial-response>${userAgent}` +
        `<fast xmlns='${NS_FAST}' count='1'/></authenticate>`,
    );
    const fastSuccess = (await second.until(/<success [^>]*>[\s\S]*?<\/success>|<failure [\s\S]*?<\/failure>/))[0];
    expect(fastSuccess).toMatch(/^<success /);
    // Mutual authentication: the server proves it knows the token too (HMAC(token, "Responder")).
    const responder = createHmac("sha256", Buffer.from(token!, "utf8")).update("Responder").digest("base64");
    expect(fastSuccess).toContain(`<additional-data>${responder}</additional-data>`);
    expect(fastSuccess).toContain("<authorization-identifier>juliet@localhost</authorization-identifier>");

    const third = await raw(running);
    await features(third);
    third.write(
      `<authenticate xmlns='${NS_SASL2}' mechanism='HT-SHA-256-NONE'><initial-response>${htNone("juliet", token!)}</initial-response>${userAgent}` +
        `<fast xmlns='${NS_FAST}' count='1'/></authenticate>`,
    );
    const refused = (await third.until(/<success [^>]*>[\s\S]*?<\/success>|<failure [\s\S]*?<\/failure>/))[0];
    expect(refused).toMatch(/^<failure xmlns='urn:xmpp:sasl:2'><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-sasl'\/>/);
    expect(refused).toContain("FAST token replayed");

    // A wrong token is refused too; the right one with a fresh count still works.
    const fourth = await raw(running);
    await features(fourth);
    fourth.write(
      `<authenticate xmlns='${NS_SASL2}' mechanism='HT-SHA-256-NONE'><initial-response>${htNone("juliet", `${token}x`)}</initial-response>${userAgent}` +
        `<fast xmlns='${NS_FAST}' count='2'/></authenticate>`,
    );
    expect((await fourth.until(/<success [^>]*>[\s\S]*?<\/success>|<failure [\s\S]*?<\/failure>/))[0]).toMatch(/^<failure /);
    const fifth = await raw(running);
    await features(fifth);
    fifth.write(
      `<authenticate xmlns='${NS_SASL2}' mechanism='HT-SHA-256-NONE'><initial-response>${htNone("juliet", token!)}</initial-response>${userAgent}` +
        `<fast xmlns='${NS_FAST}' count='2'/></authenticate>`,
    );
    expect((await fifth.until(/<success [^>]*>[\s\S]*?<\/success>|<failure [\s\S]*?<\/failure>/))[0]).toMatch(/^<success /);
  });

  it("with sasl2: false no SASL2 is offered (RFC 6120 SASL only)", async () => {
    const c = await raw(off);
    const offered = await features(c);
    expect(offered).toContain("<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>");
    expect(offered).not.toContain(NS_SASL2);
  });

  it("bind2: false and fast: false leave SASL2 without Bind2 and FAST; the client then binds the RFC 6120 way", async () => {
    const c = await raw(bare);
    const offered = await features(c);
    expect(offered).toContain(`<authentication xmlns='${NS_SASL2}'>`);
    expect(offered).not.toContain(NS_BIND2);
    expect(offered).not.toContain(NS_FAST);
    c.write(`<authenticate xmlns='${NS_SASL2}' mechanism='PLAIN'><initial-response>${b64("\0juliet\0r0m30myr0m30")}</initial-response>${userAgent}</authenticate>`);
    const success = (await c.until(/<success [^>]*>[\s\S]*?<\/success>|<failure [\s\S]*?<\/failure>/))[0];
    expect(success).toContain("<authorization-identifier>juliet@localhost</authorization-identifier>");
    expect(success).not.toContain("<bound");
    // XEP-0388 §2.6: no restart; new features (resource binding) follow at once.
    const next = (await c.until(/<stream:features>([\s\S]*?)<\/stream:features>/))[1]!;
    expect(next).toContain("<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>");
  });
});
