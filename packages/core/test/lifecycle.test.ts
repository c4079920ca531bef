// The client lifecycle as a pure state machine: connect → online → lost → reconnect with backoff →
// resume (or bind again) → online; a bounded send queue while not online; when not to reconnect.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { xml } from "@xmpp-sansio/xml";
import { ClientLifecycle, LIFECYCLE_RECONNECT_DEFAULTS, type LifecycleState, QueueFullError } from "../src/index.js";
import { fuzz, fuzzFactor } from "../../../test-support/fuzz.js";
import { World } from "./sm-world.js";

describe("ClientLifecycle", () => {
  it("connects, queues what is sent before online, and flushes it in order once online", () => {
    const w = new World();
    w.startLifecycle();
    w.clientSends("a");
    w.clientSends("b");
    expect(w.life!.queued).toBe(2);
    w.run();
    expect(w.lifeEvents[0]).toEqual({ type: "connect", attempt: 0 });
    expect(w.life!.sessionState).toBe("online");
    expect(w.life!.queued).toBe(0);
    w.clientSends("c");
    w.run();
    expect(w.receivedByServer).toEqual(["a", "b", "c"]);
  });

  it("after a cut it reconnects within the first backoff ceiling and resumes; sends in between arrive once", () => {
    const w = new World({ client: { ackEvery: 100, ackAfterMs: 10_000 } });
    w.startLifecycle();
    w.clientSends("c1");
    w.run();
    w.cut();
    const r = w.lifeEvents.find((e) => e.type === "reconnecting");
    expect(r).toMatchObject({ attempt: 1 });
    expect((r as { delayMs: number }).delayMs).toBeLessThan(LIFECYCLE_RECONNECT_DEFAULTS.initialDelayMs!);
    w.clientSends("c2"); // queued
    expect(w.life!.queued).toBe(1);
    w.advance(1000);
    expect(w.clientEvents.filter((e) => e.type === "online").at(-1)).toMatchObject({ resumed: true });
    expect(w.receivedByServer).toEqual(["c1", "c2"]);
  });

  it("backs off while the server stays away: ceilings 1 s, 2 s, 4 s, 8 s, 8 s…; a stable session resets it", () => {
    const life = new ClientLifecycle({ session: { jid: "bot@example.com", password: "x" }, reconnect: { random: () => 0.999 } });
    life.start(0);
    expect(life.pollEvent()).toEqual({ type: "connect", attempt: 0 });
    const delays: number[] = [];
    let now = 0;
    for (let i = 0; i < 6; i++) {
      life.connectFailed(now);
      const ev = life.pollEvent();
      expect(ev?.type).toBe("reconnecting");
      delays.push((ev as { delayMs: number }).delayMs);
      now = life.nextTimeout()!;
      life.handleTimeout(now);
      expect(life.pollEvent()).toMatchObject({ type: "connect" });
    }
    expect(delays).toEqual([999, 1998, 3996, 7992, 7992, 7992]);
  });

  it("stops instead of reconnecting after an authentication failure, a <conflict/>, or close()", () => {
    const w = new World();
    w.startLifecycle();
    w.run();
    w.link!.server.abort("conflict", "replaced", w.now);
    w.run();
    expect(w.lifeEvents.at(-1)).toEqual({ type: "stopped", reason: "stream-error", condition: "conflict" });
    expect(w.life!.state).toBe("stopped");

    const w2 = new World();
    w2.startLifecycle();
    w2.run();
    w2.life!.close(w2.now);
    w2.run();
    expect(w2.lifeEvents.at(-1)).toEqual({ type: "stopped", reason: "closed" });
    expect(() => w2.life!.send(xml("message"))).toThrow(/after close/);
  });

  it("bounds the queue", () => {
    const life = new ClientLifecycle({ session: { jid: "bot@example.com", password: "x" }, maxQueued: 2 });
    life.send(xml("message"));
    life.send(xml("message"));
    expect(() => life.send(xml("message"))).toThrow(QueueFullError);
  });

  it("a restarted process resumes from the exported state and sends what was still queued", () => {
    const w = new World({ client: { ackEvery: 100, ackAfterMs: 10_000 } });
    w.startLifecycle();
    w.clientSends("c1");
    w.run();
    w.cut();
    w.clientSends("c2");
    const saved = JSON.parse(JSON.stringify(w.life!.exportState())) as LifecycleState;
    expect(saved.sm?.unacked.length).toBe(1);
    expect(saved.queued.length).toBe(1);
    // the old process is gone; a new one starts from the saved state
    w.life = undefined;
    w.startLifecycle(saved);
    w.run();
    expect(w.clientEvents.filter((e) => e.type === "online").at(-1)).toMatchObject({ resumed: true });
    expect(w.receivedByServer).toEqual(["c1", "c2"]);
  });
});

describe("ClientLifecycle under fault injection (fast-check)", () => {
  type Step = { kind: "send" } | { kind: "server-send" } | { kind: "cut"; c2s: number; s2c: number } | { kind: "wait"; ms: number } | { kind: "restart" };
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 5, arbitrary: fc.constant({ kind: "send" as const }) },
    { weight: 5, arbitrary: fc.constant({ kind: "server-send" as const }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("cut" as const), c2s: fc.nat(500), s2c: fc.nat(500) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("wait" as const), ms: fc.nat(9000) }) },
    { weight: 1, arbitrary: fc.constant({ kind: "restart" as const }) },
  );

  it("nothing sent through the lifecycle is lost or duplicated across cuts and restarts", { timeout: Math.max(60_000, 2000 * fuzzFactor() * 60) }, () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), fc.integer({ min: 1, max: 6 }), fc.nat(500), (steps, ackEvery, seed) => {
        const sm = { ackEvery, ackAfterMs: 300 };
        const w = new World({ client: sm, server: sm, seed, maxResumeSeconds: 3600 });
        w.startLifecycle();
        let n = 0;
        for (const s of steps) {
          if (s.kind === "send") w.clientSends(`c${n++}`);
          else if (s.kind === "server-send") w.serverSends(`s${n++}`);
          else if (s.kind === "cut") {
            if (w.link !== undefined && !w.link.cut) w.link.cutAfter = { c2s: s.c2s, s2c: s.s2c };
            w.run();
          } else if (s.kind === "wait") w.advance(s.ms);
          else {
            const saved = JSON.parse(JSON.stringify(w.life!.exportState())) as LifecycleState;
            if (w.link !== undefined && !w.link.cut) w.cut();
            w.life = undefined;
            w.startLifecycle(saved);
          }
          w.run();
        }
        // Heal: let the lifecycle reconnect (a planned cut may still strike once) and settle the acks.
        for (let i = 0; i < 4; i++) {
          w.advance(9000);
          if (w.life!.sessionState === "online") break;
        }
        expect(w.life!.sessionState).toBe("online");
        delete w.link!.cutAfter;
        w.advance(1000);
        const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
        const gotS = count(w.receivedByServer);
        const gotC = count(w.receivedByClient);
        for (const [id, k] of [...gotS, ...gotC]) expect(k, `${id} delivered twice`).toBe(1);
        for (const id of w.sentByClient) expect(gotS.has(id) !== w.clientReportedFailed.includes(id), `${id}: delivered xor reported`).toBe(true);
        for (const id of w.sentByServer) expect(gotC.has(id) !== w.serverReportedUndelivered.includes(id), `${id}: delivered xor reported`).toBe(true);
      }),
      fuzz(2000),
    );
  });
});
