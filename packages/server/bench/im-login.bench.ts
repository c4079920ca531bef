// Login to presence broadcast through the real server on its database: a user with BENCH_IM_CONTACTS
// (200) mutual contacts, BENCH_IM_ONLINE (20) of them connected and available. Per round: the TLS +
// SCRAM + bind login (`online()`), then initial presence until every online contact has received it and
// the user has the answers to its probes (one presence per contact: the online ones' current presence,
// `unavailable` for the others). Prints median and p90 over BENCH_IM_ROUNDS (10); asserts nothing.
//
//   pnpm -F @xmpp-sansio/server bench:im
import { XmppClient } from "@xmpp-sansio/node";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { AccountStore } from "../src/accounts.js";
import { generateSelfSignedCertificate } from "../src/certificate.js";
import { startServer } from "../src/server.js";
import { openSqliteStorage } from "../src/store/sqlite.js";

const CONTACTS = Number(process.env.BENCH_IM_CONTACTS ?? 200);
const ONLINE = Math.min(CONTACTS, Number(process.env.BENCH_IM_ONLINE ?? 20));
const ROUNDS = Number(process.env.BENCH_IM_ROUNDS ?? 10);
const DOMAIN = "localhost";

const storage = openSqliteStorage(":memory:");
const accounts = new AccountStore({ records: storage.accounts });
accounts.add("user", "pw");
for (let i = 0; i < CONTACTS; i++) accounts.add(`c${i}`, "pw");
storage.transaction(() => {
  for (let i = 0; i < CONTACTS; i++) {
    storage.rosters.setItem("user", { jid: `c${i}@${DOMAIN}`, subscription: "both", ask: false, approved: false, groups: ["Friends"] });
    storage.rosters.setItem(`c${i}`, { jid: `user@${DOMAIN}`, subscription: "both", ask: false, approved: false, groups: [] });
  }
});
const tls = generateSelfSignedCertificate({ dnsNames: [DOMAIN] });
const running = await startServer({ domain: DOMAIN, accounts, tls, port: 0, storage, mechanisms: ["SCRAM-SHA-1"], limits: { address: { maxLoginAttemptsPerIp: null, maxConnectionsPerIp: null } } });
const port = running.port!;
const client = (name: string, resource: string) => new XmppClient({ jid: `${name}@${DOMAIN}/${resource}`, password: "pw", host: "127.0.0.1", port, tls: { ca: tls.cert } });

// The online contacts: each counts presences from the user.
let waitingContacts = 0;
let onContactsDone: (() => void) | undefined;
const contacts: XmppClient[] = [];
for (let i = 0; i < ONLINE; i++) {
  const c = client(`c${i}`, "r");
  c.on("presence", (p: XmlElement) => {
    if (p.attr("from")?.startsWith("user@") && p.attr("type") === undefined && --waitingContacts === 0) onContactsDone?.();
  });
  await c.online();
  c.send(xml("presence"));
  contacts.push(c);
}

const login: number[] = [];
const broadcast: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const user = client("user", `r${round}`);
  let answers = 0;
  let onAnswers: (() => void) | undefined;
  user.on("presence", (p: XmlElement) => {
    if (p.attr("from")?.startsWith("c") && ++answers === CONTACTS) onAnswers?.();
  });
  const t0 = performance.now();
  await user.online();
  const t1 = performance.now();
  waitingContacts = ONLINE;
  const contactsDone = new Promise<void>((r) => (onContactsDone = r));
  const answersDone = new Promise<void>((r) => (onAnswers = r));
  user.send(xml("presence"));
  await Promise.all([contactsDone, answersDone]);
  const t2 = performance.now();
  login.push(t1 - t0);
  broadcast.push(t2 - t1);
  await user.close();
}
const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]!.toFixed(1)} ms, p90 ${s[Math.min(s.length - 1, Math.floor(s.length * 0.9))]!.toFixed(1)} ms`;
};
console.log(`IM login, ${CONTACTS} mutual contacts (${ONLINE} online), ${ROUNDS} rounds, SQLite :memory:, loopback TLS:`);
console.log(`  login (TLS + SCRAM-SHA-1 + bind): ${stat(login)}`);
console.log(`  initial presence → ${ONLINE} contacts have it and ${CONTACTS} probe answers arrived: ${stat(broadcast)}`);
await Promise.all(contacts.map((c) => c.close()));
await running.close();
storage.close();
