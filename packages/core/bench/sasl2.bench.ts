// SASL2 / Bind2 / FAST benchmark (client core ↔ server core in one process, no I/O, tls: "none" so the
// STARTTLS round trip — the same on every path — is left out).
// Run: pnpm -F @xmpp-sansio/core bench:sasl2
//
// Prints: round trips from the first byte to online for each path (a round trip = one flight of the client
// answered by one flight of the server), and logins per second for SASL2 SCRAM-SHA-256 (4096 iterations,
// with and without the client's SaltedPassword cache) vs a FAST token, sequentially and 20 interleaved.
import { createSaltedPasswordCache, deriveScramCredentials, type SaltedPasswordCache } from "@xmpp-sansio/sasl";
import {
  ClientSession,
  type ClientOptions,
  type FastToken,
  MemoryFastTokenStore,
  ServerSession,
  type SmState,
  sasl2Client,
  smClient,
  smServer,
  streamManagement,
} from "../src/index.js";
import { random } from "./support.js";

const DOMAIN = "im.example.com";
const PASSWORD = "r0m30myr0m30";
const STORED = deriveScramCredentials("SHA-256", PASSWORD, new TextEncoder().encode("0123456789abcdef"), 4096);
const UA = { id: "bench-installation", software: "Bench" };
const SECRET = new Uint8Array(32).fill(9);
const store = new MemoryFastTokenStore();


interface Login {
  client: ClientSession;
  server: ServerSession;
  serverSm?: SmState;
}

interface PathOptions {
  sasl2: boolean;
  token?: FastToken;
  requestToken?: boolean;
  resume?: { client: SmState; server: SmState };
  cache?: SaltedPasswordCache;
  /** Log in with a full JID: SASL2, then the RFC 6120 bind of that resource (no Bind2). */
  fullJid?: boolean;
}

function login(o: PathOptions): Login {
  const copts: ClientOptions & { saltedPasswordCache?: SaltedPasswordCache } = {
    // Bare: the client uses Bind2. A full JID binds its own resource the RFC 6120 way after SASL2.
    jid: o.fullJid === true ? "juliet@im.example.com/balcony" : "juliet@im.example.com",
    ...(o.token === undefined ? { password: PASSWORD } : {}),
    tls: "none",
    mechanisms: ["SCRAM-SHA-256"],
    random,
    sasl2: o.sasl2 ? { userAgent: UA, fast: { ...(o.token === undefined ? {} : { token: o.token }), ...(o.requestToken ? { request: "HT-SHA-256-NONE" as const } : {}) } } : false,
    features: [streamManagement(o.resume === undefined ? {} : { resume: o.resume.client })],
    ...(o.cache ? { saltedPasswordCache: o.cache } : {}),
  };
  const client = new ClientSession(copts);
  const server = new ServerSession({ tls: "none", random, sasl2: { fast: { secret: SECRET, store } }, features: [streamManagement()] });
  const l: Login = { client, server };
  if (o.resume !== undefined) l.serverSm = o.resume.server;
  client.start(0);
  return l;
}

/** One lockstep round: the client's flight to the server (questions answered), the server's flight back. */
function round(l: Login): boolean {
  let moved = false;
  for (let b = l.client.pollTransmit(); b; b = l.client.pollTransmit()) {
    l.server.receive(b, 0);
    moved = true;
  }
  for (let ev = l.server.pollEvent(); ev; ev = l.server.pollEvent()) {
    if (ev.type === "host-check") l.server.answerHost(ev.domain === DOMAIN);
    else if (ev.type === "scram-credentials") l.server.answerScramCredentials(STORED);
    else if (ev.type === "bind-request") l.server.answerBind({ accept: ev.resource });
    else if (ev.type === "resume-request") smServer(l.server)!.answerResume({ state: l.serverSm! });
  }
  for (let b = l.server.pollTransmit(); b; b = l.server.pollTransmit()) {
    l.client.receive(b, 0);
    moved = true;
  }
  while (l.client.pollEvent());
  return moved;
}

function toOnline(l: Login): number {
  let rounds = 0;
  while (l.client.state !== "online") {
    if (!round(l)) throw new Error(`stuck in ${l.client.state}`);
    rounds++;
  }
  round(l); // the server's last words (none expected), and the server side online
  return rounds;
}

function rate(label: string, minMs: number, fn: () => void): void {
  for (let i = 0; i < 5; i++) fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    fn();
    n++;
    t = performance.now();
  }
  console.log(`${label.padEnd(64)} ${((n * 1000) / (t - t0)).toFixed(0).padStart(8)} logins/s   (${((t - t0) / n).toFixed(3)} ms each)`);
}

// A token for the FAST paths, and a detached SM session to resume.
const first = login({ sasl2: true, requestToken: true });
toOnline(first);
let token = sasl2Client(first.client)!.fastToken!;
const clientSm = smClient(first.client)!.exportState()!;
const serverSm = smServer(first.server)!.takeOver(first.server.jid, smServer(first.server)!.resumptionId!)!;

console.log("round trips from the stream header to online (no TLS on every path):");
console.log(`  RFC 6120 SASL SCRAM + bind + SM <enable/>              ${toOnline(login({ sasl2: false }))}`);
console.log(`  SASL2 SCRAM + Bind2 (SM enabled inline)                ${toOnline(login({ sasl2: true }))}`);
console.log(`  SASL2 SCRAM, full JID: RFC 6120 bind + SM <enable/>    ${toOnline(login({ sasl2: true, fullJid: true }))}`);
const fastLogin = login({ sasl2: true, token, resume: { client: clientSm, server: serverSm } });
console.log(`  SASL2 FAST token + inline SM resume                    ${toOnline(fastLogin)}`);
token = sasl2Client(fastLogin.client)!.fastToken!;

const ms = Number(process.env.BENCH_MS ?? 1500);
rate("SASL2 SCRAM-SHA-256 (4096 it.) + Bind2, sequential", ms, () => void toOnline(login({ sasl2: true })));
const cache = createSaltedPasswordCache();
rate("SASL2 SCRAM-SHA-256 + Bind2, client SaltedPassword cache", ms, () => void toOnline(login({ sasl2: true, cache })));
rate("SASL2 FAST HT-SHA-256-NONE + Bind2, sequential", ms, () => {
  const l = login({ sasl2: true, token });
  toOnline(l);
  token = sasl2Client(l.client)!.fastToken!;
});
function concurrent(make: () => Login, after: (l: Login) => void): () => void {
  return () => {
    const all = Array.from({ length: 20 }, make);
    for (let live = all; live.length > 0; ) {
      for (const l of live) round(l);
      live = live.filter((l) => l.client.state !== "online");
    }
    for (const l of all) after(l);
  };
}
const perBatch = (label: string, fn: () => void): void => {
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    fn();
    n += 20;
  }
  console.log(`${label.padEnd(64)} ${((n * 1000) / (performance.now() - t0)).toFixed(0).padStart(8)} logins/s`);
};
perBatch("SASL2 SCRAM-SHA-256 + Bind2, 20 interleaved", concurrent(() => login({ sasl2: true }), () => undefined));
perBatch("SASL2 FAST + Bind2, 20 interleaved (one token, counts in order)", () => {
  const all: Login[] = [];
  for (let i = 0; i < 20; i++) {
    const l = login({ sasl2: true, token });
    token = { ...token, count: token.count + 1 };
    all.push(l);
  }
  for (let live = all; live.length > 0; ) {
    for (const l of live) round(l);
    live = live.filter((l) => l.client.state !== "online" && l.client.state !== "closed");
  }
  token = { ...token, count: token.count + 1 };
});
