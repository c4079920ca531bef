// Fault injection for XEP-0198, both roles in one process (fast-check): random traffic in both
// directions, connections cut at random byte offsets (also mid-stanza and between <a/> and the next
// stanza), a client that gives up on a link the server still thinks alive, random delays (some beyond
// the server's detach timeout), and client process restarts through exported JSON state.
//
// Invariant: every stanza either application sent is delivered exactly once, or reported as not
// delivered to its sender; never twice; and once everything is acknowledged the counters agree.
//
// Runs: 10 000 cases by default (FUZZ_RUNS scales it: FUZZ_RUNS=100 runs 10^6; FUZZ_SEED replays).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { smClient, smServer } from "../src/index.js";
import { fuzz, fuzzFactor } from "../../../test-support/fuzz.js";
import { World } from "./sm-world.js";

type Action =
  | { readonly kind: "client-send" }
  | { readonly kind: "server-send" }
  | { readonly kind: "run" }
  | { readonly kind: "cut-after"; readonly c2s: number; readonly s2c: number }
  | { readonly kind: "cut-now" }
  | { readonly kind: "client-gives-up" }
  | { readonly kind: "wait"; readonly ms: number }
  | { readonly kind: "restart" };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: "client-send" as const }) },
  { weight: 6, arbitrary: fc.constant({ kind: "server-send" as const }) },
  { weight: 4, arbitrary: fc.constant({ kind: "run" as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("cut-after" as const), c2s: fc.nat(600), s2c: fc.nat(600) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "cut-now" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "client-gives-up" as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("wait" as const), ms: fc.oneof(fc.nat(3000), fc.integer({ min: 50_000, max: 70_000 })) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "restart" as const }) },
);

const scenario = fc.record({
  actions: fc.array(action, { minLength: 1, maxLength: 40 }),
  chunk: fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
  ackEvery: fc.integer({ min: 1, max: 8 }),
  seed: fc.nat(1000),
});

function play(s: { actions: Action[]; chunk: number | undefined; ackEvery: number; seed: number }): World {
  const sm = { ackEvery: s.ackEvery, ackAfterMs: 500 };
  const w = new World({ client: sm, server: sm, seed: s.seed, maxResumeSeconds: 60, ...(s.chunk === undefined ? {} : { chunk: s.chunk }) });
  let n = 0;
  const down = () => w.link === undefined || w.link.cut || w.link.client.state === "closed";
  const reconnect = (restart: boolean) => {
    const state = w.clientState();
    w.connect(restart && state !== undefined ? JSON.parse(JSON.stringify(state)) : state);
  };
  w.connect();
  for (const a of s.actions) {
    switch (a.kind) {
      case "client-send":
        w.clientSends(`c${n++}`);
        break;
      case "server-send":
        w.serverSends(`s${n++}`);
        break;
      case "run":
        w.run();
        break;
      case "cut-after":
        if (w.link !== undefined && !w.link.cut) w.link.cutAfter = { c2s: a.c2s, s2c: a.s2c };
        w.run();
        break;
      case "cut-now":
        w.cut();
        break;
      case "client-gives-up":
        // The client sees its link die; the server does not (yet): a half-open connection.
        if (w.link !== undefined && !w.link.cut) {
          w.link.client.transportClosed(w.now);
          w.link.cut = true;
          w.run();
        }
        break;
      case "wait":
        w.advance(a.ms);
        break;
      case "restart":
        if (down()) reconnect(true);
        break;
    }
    if (down()) reconnect(false);
  }
  // Heal: a last good connection (a planned cut may still strike first), everything acknowledged, then
  // a clean close.
  for (let i = 0; i < 3; i++) {
    if (down()) reconnect(false);
    w.run();
    w.advance(1000);
    w.run();
  }
  const l = w.link!;
  expect(l.cut).toBe(false);
  expect(l.client.state).toBe("online");
  if (l.client.state === "online") {
    const c = smClient(l.client)!.exportState();
    const sv = l.server.jid === undefined ? undefined : smServer(l.server)?.state(l.server.jid);
    if (c !== undefined && sv !== undefined) {
      // Counters agree once all is acknowledged.
      expect(c.inbound).toBe(sv.acked);
      expect(sv.inbound).toBe(c.acked);
      expect(c.unacked).toEqual([]);
      expect(sv.unacked).toEqual([]);
    }
    l.client.close(w.now);
    w.run();
  }
  w.advance(120_000); // any detached session expires (none should: the close ends them for good)
  return w;
}

function countOf(xs: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

function check(w: World): void {
  const gotS = countOf(w.receivedByServer);
  const gotC = countOf(w.receivedByClient);
  const failedC = countOf(w.clientReportedFailed);
  const undeliveredS = countOf(w.serverReportedUndelivered);
  for (const [id, n] of gotS) expect(n, `server received ${id} twice`).toBe(1);
  for (const [id, n] of gotC) expect(n, `client received ${id} twice`).toBe(1);
  for (const id of w.sentByClient) {
    const delivered = gotS.has(id);
    const reported = failedC.has(id);
    expect(delivered || reported, `${id} (client → server) neither delivered nor reported`).toBe(true);
    // The client always learns the server's h (live, resumed, or from the tombstone): exact.
    expect(delivered && reported, `${id} (client → server) delivered and reported lost`).toBe(false);
  }
  for (const id of w.sentByServer) {
    const delivered = gotC.has(id);
    const reported = undeliveredS.has(id);
    expect(delivered || reported, `${id} (server → client) neither delivered nor reported`).toBe(true);
    // A session that expired cannot tell which of its last stanzas the client handled (XEP-0198 §6):
    // there, and only there, a stanza may be both delivered and reported.
    if (w.expiredSessions === 0) expect(delivered && reported, `${id} (server → client) delivered and reported lost`).toBe(false);
  }
}

describe("XEP-0198 under fault injection (fast-check)", () => {
  // About 7 ms a case on an idle machine; the timeout allows for a loaded CI box.
  it("every stanza is delivered exactly once or reported to its sender; counters agree", { timeout: Math.max(60_000, 10_000 * fuzzFactor() * 40) }, () => {
    fc.assert(
      fc.property(scenario, (s) => {
        check(play(s));
      }),
      fuzz(10_000),
    );
  });
});
