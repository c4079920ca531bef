// XEP-0388 SASL2, XEP-0386 Bind2, XEP-0484 FAST and inline XEP-0198, both roles over the in-memory pipe.
import fc from "fast-check";
import { deriveScramCredentials } from "@xmpp-sansio/sasl";
import { XmlElement } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import {
  type ClientEvent,
  type FastToken,
  MemoryFastTokenStore,
  NS_SASL2,
  type Sasl2ClientSettings,
  type Sasl2ServerSettings,
  type Sasl2ServerTask,
  type ScramUpgradeResult,
  scramUpgradeClientTask,
  scramUpgradeServerTask,
  sasl2Client,
  smClient,
  smServer,
  streamManagement,
} from "../src/index.js";
import { CB, makePair, type PairOptions } from "./harness.js";

const SECRET = new Uint8Array(32).fill(7);
/** A client without a password (the harness defaults to Juliet's). */
const NOPW = { password: undefined } as unknown as NonNullable<PairOptions["client"]>;
const UA = { id: "d4565fa7-4d72-4749-b3d3-740edbf87770", software: "Tester", device: "Pipe" };

function fastToken(events: ClientEvent[]): FastToken | null | undefined {
  const ev = events.filter((e) => e.type === "feature" && e.feature === "sasl2" && e.name === "fast-token").at(-1);
  return ev === undefined ? undefined : ((ev as { data: FastToken | null }).data ?? null);
}

function pair(server: Sasl2ServerSettings | undefined, client: Sasl2ClientSettings | false | undefined, extra: PairOptions = {}) {
  const p = makePair({
    channelBinding: CB,
    ...extra,
    server: { ...(server === undefined ? {} : { sasl2: server }), ...extra.server },
    client: { ...(client === undefined ? {} : { sasl2: client }), ...extra.client },
  });
  p.client.start(0);
  p.run();
  return p;
}

describe("SASL2 (XEP-0388) and Bind2 (XEP-0386)", () => {
  it("logs in with SCRAM-PLUS through SASL2 and binds inline: no stream restart after success", () => {
    const p = pair({}, { userAgent: UA, bind2: { tag: "Tester" } });
    expect(p.client.state).toBe("online");
    expect(p.clientEvents.find((e) => e.type === "authenticated")).toMatchObject({ mechanism: "SCRAM-SHA-512-PLUS" });
    // Headers: initial + after STARTTLS; none after SASL2 success.
    expect(p.clientEvents.filter((e) => e.type === "stream-opened")).toHaveLength(2);
    const jid = p.client.jid.toString();
    expect(jid).toMatch(/^juliet@im\.example\.com\/Tester\.[A-Za-z0-9_-]{8}$/);
    // Stable across logins of the same installation (same user-agent id), different for another one.
    expect(pair({}, { userAgent: UA, bind2: { tag: "Tester" } }).client.jid.toString()).toBe(jid);
    expect(pair({}, { userAgent: { ...UA, id: "other" }, bind2: { tag: "Tester" } }).client.jid.toString()).not.toBe(jid);
  });

  it("tolerates the <stream:features/> some servers (Prosody) send after a success that already bound", () => {
    const p = pair({}, { userAgent: UA, bind2: {} }, {
      mutate: (dir, bytes) => {
        const t = new TextDecoder().decode(bytes);
        return dir === "s2c" && t.includes("</success>") ? new TextEncoder().encode(t.replace("</success>", "</success><stream:features><sm xmlns='urn:xmpp:sm:3'/></stream:features>")) : bytes;
      },
    });
    expect(p.client.state).toBe("online");
  });

  it("a full JID keeps its resource: Bind2 only with a bare JID or an explicit bind2 setting", () => {
    // The harness logs in as juliet@im.example.com/balcony; the server offers Bind2.
    const full = pair({}, { userAgent: UA });
    expect(full.client.state).toBe("online");
    expect(full.client.jid.resource).toBe("balcony");
    expect(full.clientEvents.filter((e) => e.type === "stream-opened")).toHaveLength(2); // SASL2: no restart
    const bare = pair({}, { userAgent: UA }, { client: { jid: "juliet@im.example.com" } });
    expect(bare.client.jid.resource).toMatch(/^Tester\.[A-Za-z0-9_-]{8}$/);
    const forced = pair({}, { userAgent: UA, bind2: { tag: "Tester" } });
    expect(forced.client.jid.resource).toMatch(/^Tester\.[A-Za-z0-9_-]{8}$/);
  });

  it("the application's Bind2 inline features: listed in the offer, their elements handed over once bound", () => {
    const seen: string[] = [];
    const p = pair({ bind2Inline: ["urn:example:inline"] }, { userAgent: UA, bind2: {} }, {
      mutate: (dir, bytes) => {
        const t = new TextDecoder().decode(bytes);
        if (dir === "s2c") seen.push(t);
        return dir === "c2s" && t.includes("</bind>") ? new TextEncoder().encode(t.replace("</bind>", "<enable xmlns='urn:example:inline'/><other xmlns='urn:example:not-listed'/></bind>")) : bytes;
      },
    });
    expect(p.client.state).toBe("online");
    expect(seen.join("")).toContain("<feature var='urn:example:inline'/>");
    const ev = p.serverEvents.find((e) => e.type === "feature" && e.name === "bind2-inline") as { data: XmlElement[] } | undefined;
    expect(ev?.data.map((e) => `${e.ns} ${e.name}`)).toEqual(["urn:example:inline enable"]);
    // Right after the session is bound (its `online`), so the application can apply it to the new resource.
    expect(p.serverEvents.findIndex((e) => e.type === "feature")).toBe(p.serverEvents.findIndex((e) => e.type === "online") + 1);
  });

  it("without Bind2 the server sends new features after success and the client binds the RFC 6120 way", () => {
    const p = pair({ bind2: false }, { userAgent: UA });
    expect(p.client.state).toBe("online");
    expect(p.client.jid.resource).toBe("balcony");
    expect(p.clientEvents.filter((e) => e.type === "stream-opened")).toHaveLength(2);
  });

  it("falls back to RFC 6120 SASL when the server does not offer SASL2, and SASL2 can be turned off", () => {
    const a = pair(undefined, { userAgent: UA });
    expect(a.client.state).toBe("online");
    expect(a.clientEvents.filter((e) => e.type === "stream-opened")).toHaveLength(3); // restart after SASL
    const b = pair({}, false);
    expect(b.client.state).toBe("online");
    expect(b.clientEvents.filter((e) => e.type === "stream-opened")).toHaveLength(3);
    const c = pair(undefined, { required: true });
    expect(c.client.state).toBe("closed");
    expect(c.clientEvents.find((e) => e.type === "auth-failed")).toMatchObject({ canRetry: false });
  });

  it("a server with SASL2 only does not offer RFC 6120 SASL", () => {
    const p = pair({ sasl1: false }, false);
    expect(p.client.state).toBe("closed");
  });

  it("a wrong password fails with a SASL2 <failure/>, retryable; the limit is shared with SASL1", () => {
    const p = pair({}, { userAgent: UA }, { client: { password: "wrong" } });
    const failed = p.clientEvents.find((e) => e.type === "auth-failed");
    expect(failed).toMatchObject({ condition: "not-authorized", canRetry: true });
    p.client.supplyCredentials({ password: "r0m30myr0m30" });
    p.run();
    expect(p.client.state).toBe("online");
  });

  it("the client checks the SCRAM server signature in <additional-data/> (a server that lies is refused)", () => {
    const p = pair({}, { userAgent: UA, bind2: {} }, {
      mutate: (dir, bytes) => {
        const s = new TextDecoder().decode(bytes);
        if (dir !== "s2c" || !s.includes("<additional-data>")) return bytes;
        return new TextEncoder().encode(s.replace(/<additional-data>[^<]*</, "<additional-data>dj1BQUFB<"));
      },
    });
    expect(p.client.state).toBe("closed");
    expect(p.clientEvents.find((e) => e.type === "auth-failed")).toMatchObject({ canRetry: false });
  });

  it("runs a server-required task (<continue/>, <next/>, <task-data/>) before <success/>", () => {
    const seen: unknown[] = [];
    const task: Sasl2ServerTask = {
      name: "X-ECHO",
      required: (i) => i.username === "juliet",
      create: (_info, emit) => ({
        start: () => ({ data: [new XmlElement("ping", "urn:example:echo", null, ["42"])] }),
        data: (children) => {
          emit("echoed", children[0]?.text());
          return children[0]?.text() === "42!" ? { done: true } : { fail: "not-authorized", text: "wrong echo" };
        },
      }),
    };
    const p = pair({ tasks: [task] }, {
      userAgent: UA,
      tasks: [{ name: "X-ECHO", create: () => ({ data: (c) => [new XmlElement("pong", "urn:example:echo", null, [`${c[0]?.text()}!`])] }) }],
    });
    for (const e of p.serverEvents) if (e.type === "feature") seen.push(e.data);
    expect(seen).toEqual(["42!"]);
    expect(p.client.state).toBe("online");
    // A client that cannot run the task gives up.
    const q = pair({ tasks: [task] }, { userAgent: UA });
    expect(q.client.state).toBe("closed");
  });
});

describe("XEP-0480 SCRAM upgrade task", () => {
  it("an account with SHA-1 credentials only gets SHA-256 ones, from the SaltedPassword the client sends", () => {
    let upgraded: ScramUpgradeResult | undefined;
    const server: Sasl2ServerSettings = {
      tasks: [scramUpgradeServerTask("UPGR-SCRAM-SHA-256", { needsUpgrade: (i) => i.username === "juliet" && upgraded === undefined, iterations: 4096, random: (n) => new Uint8Array(n).fill(1) })],
    };
    const p = pair(server, { userAgent: UA, tasks: [scramUpgradeClientTask("UPGR-SCRAM-SHA-256")] }, { client: { mechanisms: ["SCRAM-SHA-1"] } });
    expect(p.client.state).toBe("online");
    const ev = p.serverEvents.find((e) => e.type === "feature" && e.name === "scram-upgrade");
    upgraded = (ev as { data: ScramUpgradeResult }).data;
    expect(upgraded.hash).toBe("SHA-256");
    // The stored keys are exactly those of the password: a SCRAM-SHA-256 login against them works.
    const expected = deriveScramCredentials("SHA-256", "r0m30myr0m30", upgraded.credentials.salt, 4096);
    expect(upgraded.credentials.storedKey).toEqual(expected.storedKey);
    expect(upgraded.credentials.serverKey).toEqual(expected.serverKey);
    // A client that does not announce the upgrade is not asked to run it.
    upgraded = undefined;
    const q = pair(server, { userAgent: UA }, { client: { mechanisms: ["SCRAM-SHA-1"] } });
    expect(q.client.state).toBe("online");
    expect(q.serverEvents.some((e) => e.type === "feature")).toBe(false);
  });
});

describe("FAST (XEP-0484)", () => {
  function fastServer(store = new MemoryFastTokenStore(), ttlMs?: number): Sasl2ServerSettings {
    return { fast: { secret: SECRET, store, ...(ttlMs === undefined ? {} : { ttlMs }) } };
  }

  it("requests a token with a password login, then logs in with it and no password (a restarted client)", () => {
    const store = new MemoryFastTokenStore();
    const first = pair(fastServer(store), { userAgent: UA, fast: { request: true } });
    expect(first.client.state).toBe("online");
    const token = fastToken(first.clientEvents);
    expect(token).toMatchObject({ mechanism: "HT-SHA-256-EXPR", count: 0 });
    // What the store holds is not the token.
    expect(JSON.stringify(store.get("juliet", UA.id))).not.toContain((token as FastToken).token);
    // "Restart": a new session from exported JSON, no password.
    const state = JSON.parse(JSON.stringify(sasl2Client(first.client)!.fastToken)) as FastToken;
    const again = pair(fastServer(store), { userAgent: UA, fast: { token: state } }, { client: NOPW });
    expect(again.client.state).toBe("online");
    expect(again.clientEvents.find((e) => e.type === "authenticated")).toMatchObject({ mechanism: "HT-SHA-256-EXPR" });
    expect(again.clientEvents.some((e) => e.type === "credentials-needed")).toBe(false);
    expect(sasl2Client(again.client)!.fastToken?.count).toBe(1);
  });

  it("refuses a replayed count, an expired token and an invalidated one; the client falls back to the password", () => {
    const store = new MemoryFastTokenStore();
    const first = pair(fastServer(store, 1000), { userAgent: UA, fast: { request: "HT-SHA-256-NONE" } });
    const token = fastToken(first.clientEvents) as FastToken;
    expect(token.mechanism).toBe("HT-SHA-256-NONE");
    const ok = pair(fastServer(store, 1000), { userAgent: UA, fast: { token } }, { client: NOPW });
    expect(ok.client.state).toBe("online");
    // The same count again (a replay of the exchange): refused; no password → asked for one.
    const replay = pair(fastServer(store, 1000), { userAgent: UA, fast: { token } }, { client: NOPW });
    expect(replay.client.state).not.toBe("online");
    expect(replay.clientEvents.find((e) => e.type === "auth-failed")).toMatchObject({ text: "FAST token replayed" });
    expect(replay.clientEvents.some((e) => e.type === "credentials-needed")).toBe(true);
    expect(fastToken(replay.clientEvents)).toBeNull();
    // Expired: with a password the client gets in anyway.
    const expired = makePair({ channelBinding: CB, server: { sasl2: fastServer(store, 1000) }, client: { sasl2: { userAgent: UA, fast: { token: { ...token, count: 5 } } } } });
    expired.now = 5000;
    expired.client.start(5000);
    expired.run();
    expect(expired.clientEvents.find((e) => e.type === "auth-failed")).toMatchObject({ condition: "credentials-expired" });
    expect(expired.client.state).toBe("online");
    // Invalidate: the login succeeds once more, then the token is gone.
    const fresh = fastToken(pair(fastServer(store), { userAgent: UA, fast: { request: true } }).clientEvents) as FastToken;
    const inv = pair(fastServer(store), { userAgent: UA, fast: { token: fresh, invalidate: true } }, { client: NOPW });
    expect(inv.client.state).toBe("online");
    expect(fastToken(inv.clientEvents)).toBeNull();
    expect(store.get("juliet", UA.id)).toHaveLength(0);
    const after = pair(fastServer(store), { userAgent: UA, fast: { token: { ...fresh, count: 9 } } }, { client: NOPW });
    expect(after.client.state).not.toBe("online");
  });

  it("dates records on the wall clock, not the session clock: a token survives a restart of the session clock and expires by the wall", () => {
    const store = new MemoryFastTokenStore();
    let wall = 1_700_000_000_000;
    const server: Sasl2ServerSettings = { fast: { secret: SECRET, store, ttlMs: 60_000, wallClock: () => wall } };
    // Issued at session time 50 000 (a long-running process), wall time T.
    const first = makePair({ channelBinding: CB, server: { sasl2: server }, client: { sasl2: { userAgent: UA, fast: { request: true } } } });
    first.now = 50_000;
    first.client.start(first.now);
    first.run();
    const token = fastToken(first.clientEvents) as FastToken;
    expect(store.get("juliet", UA.id)[0]).toMatchObject({ issuedAt: wall, expiresAt: wall + 60_000 });
    expect(token.expiry).toBe(new Date(wall + 60_000).toISOString());
    // The server "restarts": its session clock starts at 0 again, 30 s of wall time later. Still valid.
    wall += 30_000;
    const again = pair(server, { userAgent: UA, fast: { token } }, { client: NOPW });
    expect(again.clientEvents.find((e) => e.type === "authenticated")).toMatchObject({ mechanism: "HT-SHA-256-EXPR" });
    // Past the wall-clock expiry (the session clock is still near 0): refused as expired.
    wall += 30_000;
    const late = pair(server, { userAgent: UA, fast: { token: { ...token, count: 5 } } }, { client: NOPW });
    expect(late.clientEvents.find((e) => e.type === "auth-failed")).toMatchObject({ condition: "credentials-expired" });
    // Expiry purges: the in-memory store drops expired records at its sweeps.
    store.purgeExpired(wall);
    expect(store.size).toBe(0);
  });

  it("spends the count when the token is verified, before a required task runs (no replay window while the login is in progress)", () => {
    const store = new MemoryFastTokenStore();
    const token = fastToken(pair(fastServer(store), { userAgent: UA, fast: { request: true } }).clientEvents) as FastToken;
    const order: string[] = [];
    const spy: typeof store = Object.create(store, {
      setCount: {
        value: (...a: Parameters<typeof store.setCount>) => {
          order.push(`count ${a[3]}`);
          store.setCount(...a);
        },
      },
    });
    // While the task runs (an application's question in real life), a second connection with the same
    // count must already be refused: the count has to be spent before the task starts.
    const task: Sasl2ServerTask = {
      name: "X-WAIT",
      required: () => true,
      create: () => ({
        start: () => {
          order.push("task started");
          return { data: [new XmlElement("wait", "urn:example:wait")] };
        },
        data: () => ({ done: true }),
      }),
    };
    const p = pair({ ...fastServer(spy), tasks: [task] }, { userAgent: UA, fast: { token }, tasks: [{ name: "X-WAIT", create: () => ({ data: () => [] }) }] }, { client: NOPW });
    expect(p.client.state).toBe("online");
    expect(order).toEqual(["count 1", "task started"]);
    expect(store.get("juliet", UA.id)[0]?.count).toBe(1);
  });

  it("the in-memory store is bounded: past maxEntries the pair put longest ago goes", () => {
    const store = new MemoryFastTokenStore({ maxEntries: 2 });
    const r = (ua: string) => ({ username: "juliet", userAgentId: ua, mechanism: "HT-SHA-256-NONE" as const, id: ua, expiresAt: 10, count: 0, issuedAt: 0 });
    store.put(r("a"));
    store.put(r("b"));
    store.put(r("a")); // refreshed: now the newest
    store.put(r("c"));
    expect(store.size).toBe(2);
    expect(store.get("juliet", "b")).toEqual([]);
    expect(store.get("juliet", "a")).toHaveLength(2);
  });

  it("channel-bound HT mechanisms are offered only where the binding exists", () => {
    const p = pair(fastServer(), { userAgent: UA, fast: { request: true } }, { channelBinding: { "tls-server-end-point": CB["tls-server-end-point"]! } });
    expect(fastToken(p.clientEvents)).toMatchObject({ mechanism: "HT-SHA-256-ENDP" });
    const none = pair(fastServer(), { userAgent: UA, fast: { request: true } }, { channelBinding: {} });
    expect(fastToken(none.clientEvents)).toMatchObject({ mechanism: "HT-SHA-256-NONE" });
  });
});

describe("Stream Management inline", () => {
  it("enables SM inside Bind2 and resumes inside <authenticate/> in one round trip", () => {
    const p = pair({}, { userAgent: UA }, { client: { features: [streamManagement()] }, server: { features: [streamManagement()] } });
    expect(p.client.state).toBe("online");
    expect(p.clientEvents.some((e) => e.type === "sm-enabled")).toBe(true);
    expect(smServer(p.server)!.enabled).toBe(true);
    const serverState = smServer(p.server)!.takeOver(p.server.jid, smServer(p.server)!.resumptionId!)!;
    const clientState = smClient(p.client)!.exportState()!;
    const q = makePair({
      channelBinding: CB,
      client: { sasl2: { userAgent: UA }, features: [streamManagement({ resume: clientState })] },
      server: { sasl2: {}, features: [streamManagement()] },
    });
    q.client.start(0);
    q.run();
    const ask = q.serverEvents.find((e) => e.type === "resume-request");
    expect(ask).toMatchObject({ previd: clientState.id });
    smServer(q.server)!.answerResume({ state: serverState });
    q.run();
    expect(q.client.state).toBe("online");
    expect(q.clientEvents.find((e) => e.type === "online")).toMatchObject({ resumed: true });
    expect(q.server.state).toBe("online");
    // No bind request: resumption replaced binding.
    expect(q.serverEvents.some((e) => e.type === "bind-request")).toBe(false);
  });

  it("a refused inline resumption still binds with Bind2 in the same <success/>", () => {
    const q = makePair({
      channelBinding: CB,
      client: { sasl2: { userAgent: UA }, features: [streamManagement({ resume: { v: 1, id: "gone", jid: "juliet@im.example.com/x", inbound: 0, acked: 0, unacked: [] } })] },
      server: { sasl2: {}, features: [streamManagement()] },
    });
    q.client.start(0);
    q.run();
    smServer(q.server)!.answerResume({ refuse: "item-not-found" });
    q.run();
    expect(q.client.state).toBe("online");
    expect(q.clientEvents.some((e) => e.type === "sm-failed" && e.resume)).toBe(true);
    expect(q.clientEvents.find((e) => e.type === "online")).not.toHaveProperty("resumed");
  });
});

describe("property: every mechanism × SASL1/SASL2 × Bind2 × FAST state × chunking", () => {
  it("logs in exactly when it should", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-512-PLUS", "PLAIN"),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom("none", "present", "expired", "replayed", "invalidated"),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 4 }),
        (mech, sasl2, bind2, fastState, chunks) => {
          const store = new MemoryFastTokenStore();
          const server: Sasl2ServerSettings = { bind2, fast: { secret: SECRET, store, ttlMs: 1000 } };
          let token: FastToken | undefined;
          if (fastState !== "none") {
            const t = pair(server, { userAgent: UA, fast: { request: true } });
            token = fastToken(t.clientEvents) as FastToken;
            if (fastState === "replayed") pair(server, { userAgent: UA, fast: { token } }, { client: NOPW });
            if (fastState === "invalidated") store.invalidate("juliet", UA.id);
          }
          const p = makePair({
            channelBinding: CB,
            chunks: { c2s: chunks, s2c: [...chunks].reverse() },
            server: sasl2 ? { sasl2: server } : {},
            client: { mechanisms: [mech], sasl2: { userAgent: UA, bind2: {}, ...(token === undefined ? {} : { fast: { token } }) } },
          });
          p.now = fastState === "expired" ? 10_000 : 0;
          p.client.start(p.now);
          p.run();
          expect(p.client.state).toBe("online");
          const usedFast = sasl2 && fastState === "present";
          expect(p.clientEvents.find((e) => e.type === "authenticated")).toMatchObject({ mechanism: usedFast ? "HT-SHA-256-EXPR" : mech });
          expect(p.clientEvents.filter((e) => e.type === "stream-opened")).toHaveLength(sasl2 ? 2 : 3);
          if (sasl2 && bind2) expect(p.client.jid.resource).toMatch(/^Tester\./);
          else expect(p.client.jid.resource).toBe("balcony");
          const reject = p.serverEvents.some((e) => e.type === "auth-failed");
          expect(reject).toBe(sasl2 && fastState !== "none" && fastState !== "present");
        },
      ),
      fuzz(30),
    );
  });
});

it("SASL2 elements are namespaced (sanity of the constant)", () => {
  expect(NS_SASL2).toBe("urn:xmpp:sasl:2");
});
