// Federation with Prosody (Debian's 0.12) both ways, on loopback: our reference server serves a.test (s2s on
// 127.0.0.2), Prosody serves p.test (s2s on 127.0.0.3). Our server finds Prosody through its static host
// map; Prosody finds us through a test-only plugin that fixes the address of a.test (see
// support/prosody-s2s.ts: no /etc/hosts edit, no DNS server). A client on each side: subscription,
// presence and messages in both directions, over dialback (nobody trusts the other's certificate) and over
// SASL EXTERNAL (each trusts the other's CA). Skipped, with the reason printed, when prosody is absent.
import * as net from "node:net";
import { xml } from "@xmpp-sansio/xml";
import { afterEach, describe, expect, it } from "vitest";
import { AccountStore } from "../src/accounts.js";
import { generateSelfSignedCertificate } from "../src/certificate.js";
import { type RunningServer, startServer } from "../src/server.js";
import { openSqliteStorage } from "../src/store/sqlite.js";
import type { Storage } from "../src/store/types.js";
import { imAcrossDomains, Peer } from "./support/im-peer.js";
import { type ProsodyS2S, prosodyMissing, startProsodyS2S } from "./support/prosody-s2s.js";

if (prosodyMissing !== undefined) console.log(prosodyMissing);

const OURS = { domain: "a.test", address: "127.0.0.2" } as const;
const THEIRS = { domain: "p.test", address: "127.0.0.3" } as const;

async function freePort(host: string): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, host, () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
}, 30_000);

async function setUp(mode: "dialback" | "external"): Promise<{ ours: RunningServer; prosody: ProsodyS2S; juliet: Peer; romeo: Peer; log: string[] }> {
  const c2s = generateSelfSignedCertificate({ dnsNames: [OURS.domain] });
  const s2s = mode === "external" ? c2s : generateSelfSignedCertificate({ dnsNames: ["localhost"] });
  const storage: Storage = openSqliteStorage(":memory:");
  const accounts = new AccountStore({ records: storage.accounts });
  accounts.add("juliet", "r0m30myr0m30");
  const log: string[] = [];
  // Prosody's plugin needs our s2s port, we need Prosody's: pick ours first, then start Prosody, then us.
  const ourPort = await freePort(OURS.address);
  const prosody = await startProsodyS2S({
    domain: THEIRS.domain,
    s2sAddress: THEIRS.address,
    fixedHosts: { [OURS.domain]: [OURS.address, ourPort] },
    ...(mode === "external" ? { trust: s2s.ca! } : {}),
    accounts: { romeo: "j0liet" },
  });
  cleanups.push(() => prosody.stop());
  const ours = await startServer({
    domain: OURS.domain,
    accounts,
    storage,
    tls: c2s,
    port: 0,
    log: (l) => log.push(l),
    federation: {
      host: OURS.address,
      port: ourPort,
      hosts: { [THEIRS.domain]: { host: THEIRS.address, port: prosody.s2sPort } },
      tls: s2s,
      // Dialback: Prosody's self-signed certificate is not trusted (Node's bundle), nor ours by Prosody.
      ...(mode === "external" ? { ca: [prosody.cert] } : {}),
    },
  });
  cleanups.push(async () => {
    await ours.close();
    storage.close();
  });
  const juliet = new Peer(`juliet@${OURS.domain}/balcony`, "r0m30myr0m30", ours.port!, c2s.cert);
  const romeo = new Peer(`romeo@${THEIRS.domain}/garden`, "j0liet", prosody.c2sPort, prosody.cert);
  cleanups.push(async () => {
    await Promise.all([juliet.client.close(), romeo.client.close()]);
  });
  await Promise.all([juliet.client.online(), romeo.client.online()]);
  // RFC 6121 §2.1.6: Prosody sends roster pushes and inbound subscription approvals only to "interested"
  // resources, those that fetched the roster.
  const rosterGet = () => xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" }));
  await Promise.all([juliet.client.iq(rosterGet()), romeo.client.iq(rosterGet())]);
  juliet.send(xml("presence", {}));
  romeo.send(xml("presence", {}));
  return { ours, prosody, juliet, romeo, log };
}

describe.skipIf(prosodyMissing !== undefined)("federation with Prosody", () => {
  it("dialback both ways: subscription, presence and messages in both directions", async () => {
    const { ours, prosody, juliet, romeo, log } = await setUp("dialback");
    try {
      await imAcrossDomains(juliet, `juliet@${OURS.domain}`, romeo, `romeo@${THEIRS.domain}`);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- ours:\n${log.join("\n")}\n--- prosody:\n${prosody.debugLog().slice(-6000)}`);
    }
    expect(ours.federation!.manager.outbound(OURS.domain, THEIRS.domain)?.mechanism).toBe("dialback");
    expect(log.some((l) => l.includes(`${THEIRS.domain} → ${OURS.domain} authenticated (dialback)`))).toBe(true);
  }, 30_000);

  it("SASL EXTERNAL with certificates both trust: subscription, presence and messages in both directions", async () => {
    const { ours, prosody, juliet, romeo, log } = await setUp("external");
    try {
      await imAcrossDomains(juliet, `juliet@${OURS.domain}`, romeo, `romeo@${THEIRS.domain}`);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- ours:\n${log.join("\n")}\n--- prosody:\n${prosody.debugLog().slice(-6000)}`);
    }
    expect(ours.federation!.manager.outbound(OURS.domain, THEIRS.domain)?.mechanism).toBe("EXTERNAL");
    expect(log.some((l) => l.includes(`${THEIRS.domain} → ${OURS.domain} authenticated (EXTERNAL)`))).toBe(true);
  }, 30_000);
});
