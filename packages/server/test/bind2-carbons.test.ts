// XEP-0280 carbons enabled inline in XEP-0386 Bind2 on the IM server (storage given): offered as a Bind2
// inline feature, and an <enable xmlns='urn:xmpp:carbons:2'/> inside <bind/> turns carbons on for the
// new resource — it gets the sent copy of a chat message of another resource with no IQ. Without storage
// (no carbons) the feature is not offered.
import { XmppClient } from "@xmpp-sansio/node";
import { xml } from "@xmpp-sansio/xml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { generateSelfSignedCertificate } from "../src/certificate.js";
import { type RunningServer, startServer } from "../src/server.js";
import { openSqliteStorage } from "../src/store/sqlite.js";
import type { Storage } from "../src/store/types.js";
import { RawClient } from "./support/raw.js";

const DOMAIN = "localhost";
const NS_SASL2 = "urn:xmpp:sasl:2";
const NS_BIND2 = "urn:xmpp:bind:0";
const NS_CARBONS = "urn:xmpp:carbons:2";
const pair = generateSelfSignedCertificate({ dnsNames: [DOMAIN] });
const header = `<?xml version='1.0'?><stream:stream to='${DOMAIN}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("carbons inline in Bind2 (IM server)", () => {
  let storage: Storage;
  let im: RunningServer;
  let plain: RunningServer;
  const raws: RawClient[] = [];
  const clients: XmppClient[] = [];
  let romeo: XmppClient;
  beforeAll(async () => {
    storage = openSqliteStorage(":memory:");
    const accounts = new AccountStore({ records: storage.accounts, iterations: 4096 });
    accounts.add("juliet", "r0m30myr0m30");
    accounts.add("romeo", "j0liet");
    im = await startServer({ domain: DOMAIN, accounts, storage, tls: pair, port: 0, directTlsPort: 0 });
    plain = await startServer({ domain: DOMAIN, accounts: new AccountStore({ records: storage.accounts }), tls: pair, port: 0, directTlsPort: 0 });
  });
  afterAll(async () => {
    for (const r of raws) r.destroy();
    await Promise.all(clients.map((c) => c.close()));
    await im?.close();
    await plain?.close();
    storage?.close();
  });

  const login = async (server: RunningServer, bind: string) => {
    const c = await RawClient.connect(server.directTlsPort!, server.certificate);
    raws.push(c);
    c.write(header);
    const features = (await c.until(/<stream:features>([\s\S]*?)<\/stream:features>/))[1]!;
    c.write(
      `<authenticate xmlns='${NS_SASL2}' mechanism='PLAIN'><initial-response>${b64("\0juliet\0r0m30myr0m30")}</initial-response>` +
        `<user-agent id='0b6f2a1e-carbons'/>${bind}</authenticate>`,
    );
    const success = (await c.until(/<success [^>]*>[\s\S]*?<\/success>|<failure [\s\S]*?<\/failure>/))[0];
    return { c, features, success };
  };

  it("is offered, and <enable/> inside <bind/> turns carbons on for that resource", async () => {
    const { c, features, success } = await login(im, `<bind xmlns='${NS_BIND2}'><tag>phone</tag><enable xmlns='${NS_CARBONS}'/></bind>`);
    expect(features).toContain(`<feature var='${NS_CARBONS}'/>`);
    expect(success).toMatch(/^<success /);
    const jid = /<authorization-identifier>([^<]+)<\/authorization-identifier>/.exec(success)![1]!;
    expect(jid).toMatch(/^juliet@localhost\/phone\./);
    // No carbons IQ was sent: a chat message of juliet's other resource comes back to us as a sent carbon.
    c.write("<presence/>");
    romeo = new XmppClient({ jid: `romeo@${DOMAIN}/orchard`, password: "j0liet", host: "127.0.0.1", port: im.port!, tls: { ca: pair.cert } });
    const other = new XmppClient({ jid: `juliet@${DOMAIN}/laptop`, password: "r0m30myr0m30", host: "127.0.0.1", port: im.port!, tls: { ca: pair.cert } });
    clients.push(romeo, other);
    await Promise.all([romeo.online(), other.online()]);
    other.send(xml("message", { to: `romeo@${DOMAIN}/orchard`, type: "chat", id: "c1" }, xml("body", {}, "a copy for the phone")));
    const carbon = (await c.until(/<message [^>]*>[\s\S]*?<\/message>/))[0];
    expect(carbon).toContain(`<sent xmlns='${NS_CARBONS}'>`);
    expect(carbon).toContain("a copy for the phone");
  });

  it("a Bind2 login without <enable/> gets no carbons (the flag is per resource and off by default)", async () => {
    const { c, success } = await login(im, `<bind xmlns='${NS_BIND2}'><tag>tablet</tag></bind>`);
    expect(success).toMatch(/^<success /);
    const other = new XmppClient({ jid: `juliet@${DOMAIN}/desk`, password: "r0m30myr0m30", host: "127.0.0.1", port: im.port!, tls: { ca: pair.cert } });
    clients.push(other);
    await other.online();
    const delivered = new Promise<void>((resolve) => romeo.on("message", (m) => m.attr("id") === "c2" && resolve()));
    other.send(xml("message", { to: `romeo@${DOMAIN}/orchard`, type: "chat", id: "c2" }, xml("body", {}, "not for the tablet")));
    await delivered;
    // Romeo has it, so the server has routed it (carbons are written in the same turn); a ping round trip
    // on our socket then shows everything the server wrote to us before it.
    c.write("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
    await c.until(/<iq [^>]*id='p1'/);
    expect(c.text).not.toContain("not for the tablet");
  });

  it("is not offered without storage (no carbons there)", async () => {
    const { features } = await login(plain, "");
    expect(features).toContain(`<bind xmlns='${NS_BIND2}'>`);
    expect(features).not.toContain(NS_CARBONS);
  });
});
