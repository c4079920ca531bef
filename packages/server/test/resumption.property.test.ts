// Property: whatever happens to juliet's sessions (fresh binds, acknowledgements, dropped links with or
// without resumption, clean closes, resumptions of detached or still-live sessions, expiry), every message
// romeo sends her ends exactly once as acknowledged by one of her connections, stored offline, or
// returned to romeo as an error — never lost silently, never twice. SessionTable with the real Router,
// fake connections whose Stream Management is modelled (what a connection received and did not
// acknowledge is what its session would hand over), and a fake clock.
import { type SmState, importSmState } from "@xmpp-sansio/core";
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import { toXmlString, type XmlElement, xml } from "@xmpp-sansio/xml";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { type SessionConnection, SessionTable, type SmHalfLike } from "../src/resumption.js";
import { Router } from "../src/router.js";

const D = "im.example.com";
const MAX = 2; // seconds a detached session is kept

class Conn implements SessionConnection {
  readonly jid: Jid;
  readonly username: string;
  online = true;
  moved = false;
  /** Stanzas received; the first `acked` of them are acknowledged. */
  got: XmlElement[] = [];
  acked = 0;
  sm: SmHalfLike | undefined;
  constructor(
    jid: string,
    readonly smId: string | undefined,
  ) {
    this.jid = parseJid(jid);
    this.username = this.jid.local;
  }
  get isOnline(): boolean {
    return this.online;
  }
  send(stanza: XmlElement): void {
    if (!this.online) throw new Error("send on a closed connection");
    this.got.push(stanza);
  }
  async closeWithError(): Promise<void> {
    this.online = false;
  }
  /** The modelled SM half: the live state, and its takeover by a resumption elsewhere. */
  smHalf(): SmHalfLike {
    const self = this;
    return {
      get resumptionId() {
        return self.online && !self.moved ? self.state()?.id : undefined;
      },
      takeOver: (_jid, previd) => {
        if (self.moved || self.state()?.id !== previd) return undefined;
        self.moved = true;
        return self.state();
      },
    };
  }
  state(): SmState | undefined {
    if (this.smId === undefined) return undefined;
    return { v: 1, id: this.smId, jid: this.jid.toString(), inbound: 0, acked: 0, unacked: this.got.slice(this.acked).map((s) => toXmlString(s)), max: MAX };
  }
}

type Op =
  | { op: "connect"; res: "a" | "b"; resumable: boolean }
  | { op: "send"; to: "bare" | "a" | "b" }
  | { op: "ack"; res: "a" | "b" }
  | { op: "drop"; res: "a" | "b" }
  | { op: "close"; res: "a" | "b" }
  | { op: "closing"; res: "a" | "b"; clean: boolean }
  | { op: "resume"; res: "a" | "b"; between: boolean; fail: boolean }
  | { op: "wait"; ms: number };

const res = fc.constantFrom<"a" | "b">("a", "b");
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant("connect" as const), res, resumable: fc.boolean() }),
  fc.record({ op: fc.constant("send" as const), to: fc.constantFrom<"bare" | "a" | "b">("bare", "a", "b") }),
  fc.record({ op: fc.constant("send" as const), to: fc.constantFrom<"bare" | "a" | "b">("bare", "a", "b") }),
  fc.record({ op: fc.constant("ack" as const), res }),
  fc.record({ op: fc.constant("drop" as const), res }),
  fc.record({ op: fc.constant("close" as const), res }),
  fc.record({ op: fc.constant("closing" as const), res, clean: fc.boolean() }),
  fc.record({ op: fc.constant("resume" as const), res, between: fc.boolean(), fail: fc.boolean() }),
  fc.record({ op: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 3000 }) }),
);

function play(ops: readonly Op[], storeEvery: number, maxDetached: number): void {
  let now = 0;
  const timers: Array<{ fn: () => void; at: number; live: boolean }> = [];
  const router = new Router({ serves: (d) => d === D, accountExists: (u) => u === "juliet" || u === "romeo" });
  const stored: string[] = [];
  const table = new SessionTable<Conn>({
    router,
    domain: D,
    smOf: (c) => c.sm,
    maxDetached,
    offlineStore: (m) => {
      const n = Number((m.attr("id") ?? "m0").slice(1));
      if (storeEvery === 0 || n % storeEvery !== 0) return false;
      stored.push(m.attr("id")!);
      return true;
    },
    clock: {
      now: () => now,
      setTimeout: (fn, ms) => {
        const t = { fn, at: now + ms, live: true };
        timers.push(t);
        return t;
      },
      clearTimeout: (t) => void ((t as { live: boolean }).live = false),
    },
  });
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      const due = timers.filter((t) => t.live && t.at <= until).sort((x, y) => x.at - y.at)[0];
      if (due === undefined) break;
      now = Math.max(now, due.at);
      due.live = false;
      due.fn();
    }
    now = until;
  };
  const romeo = new Conn(`romeo@${D}/orchard`, undefined);
  table.online(romeo, { resumed: false });
  const current = new Map<"a" | "b", Conn>();
  /** The last SM id of each resource (live or detached). */
  const lastId = new Map<"a" | "b", string>();
  const ackedIds: string[] = [];
  let sent = 0;
  let ids = 0;

  const send = (target: "bare" | "a" | "b") => {
    const id = `m${++sent}`;
    const to = target === "bare" ? `juliet@${D}` : `juliet@${D}/${target}`;
    router.route(table.endpointOf(romeo)!, xml("message", { to, id, type: "chat", from: romeo.jid.toString() }, xml("body", {}, id)).adoptNamespace("jabber:client"));
  };
  const presence = (c: Conn, priority: number) =>
    router.route(table.endpointOf(c)!, xml("presence", { from: c.jid.toString() }, xml("priority", {}, String(priority))).adoptNamespace("jabber:client"));
  const ack = (c: Conn) => {
    for (const s of c.got.slice(c.acked)) if (s.name === "message" && s.attr("type") !== "error") ackedIds.push(s.attr("id")!);
    c.acked = c.got.length;
  };
  const live = (r: "a" | "b") => {
    const c = current.get(r);
    return c?.online && !c.moved ? c : undefined;
  };
  const bind = (r: "a" | "b", resumable: boolean): Conn => {
    const id = resumable ? `${r}-${++ids}` : undefined;
    const c = new Conn(`juliet@${D}/${r}`, id);
    if (id !== undefined) {
      lastId.set(r, id);
      c.sm = c.smHalf();
    }
    current.set(r, c);
    table.online(c, { resumed: false });
    presence(c, r === "a" ? 1 : 2); // distinct priorities: a message to the bare JID goes to one resource
    return c;
  };
  const end = (c: Conn, clean: boolean) => {
    c.online = false;
    const state = clean ? undefined : c.state();
    if (state !== undefined) table.detached(c, state);
    else table.undelivered(c, c.got.slice(c.acked));
    table.offline(c);
  };

  for (const o of ops) {
    switch (o.op) {
      case "connect":
        if (live(o.res) === undefined) bind(o.res, o.resumable);
        break;
      case "send":
        send(o.to);
        break;
      case "ack": {
        const c = live(o.res);
        if (c !== undefined) ack(c);
        break;
      }
      case "drop":
      case "close": {
        const c = live(o.res);
        if (c !== undefined) end(c, o.op === "close");
        break;
      }
      case "closing": {
        // The session is closing (no stanza can be sent any more) while stanzas are still routed to it.
        const c = live(o.res);
        if (c === undefined) break;
        c.online = false;
        send(o.res);
        send("bare");
        end(c, o.clean);
        break;
      }
      case "resume": {
        const id = lastId.get(o.res);
        if (id === undefined) break;
        const old = live(o.res);
        const fresh = new Conn(`juliet@${D}/${o.res}`, id);
        const answer = table.resume(id, 0, fresh);
        if (!("state" in answer)) break; // refused: the client would bind anew (a later "connect")
        if (old !== undefined) {
          expect(old.moved).toBe(true); // taken over, closed with <conflict/>
          table.offline(old);
          current.delete(o.res);
        }
        // The adapter answers the session a few microtasks later: stanzas may be routed meanwhile.
        if (o.between) send(o.res);
        if (o.fail) {
          // The new connection closed before the answer: the adapter gives the state back as detached.
          fresh.online = false;
          table.detached(fresh, answer.state);
          break;
        }
        // The core retransmits what the client did not acknowledge, then goes online.
        fresh.got = importSmState(answer.state).unacked;
        fresh.sm = fresh.smHalf();
        current.set(o.res, fresh);
        table.online(fresh, { resumed: true });
        break;
      }
      case "wait":
        advance(o.ms);
        break;
    }
  }
  // The end: every detached session expires, then the live connections acknowledge and close.
  advance(MAX * 1000 + 1);
  for (const r of ["a", "b"] as const) {
    const c = live(r);
    if (c !== undefined) {
      ack(c);
      end(c, true);
    }
  }
  advance(MAX * 1000 + 1);
  const errors = romeo.got.filter((s) => s.attr("type") === "error").map((s) => s.attr("id")!);
  const outcomes = [...ackedIds, ...stored, ...errors].sort();
  const expected = Array.from({ length: sent }, (_, i) => `m${i + 1}`).sort();
  expect(outcomes).toEqual(expected);
  expect(table.detachedCount).toBe(0);
}

describe("SessionTable: nothing is lost silently, nothing twice", () => {
  it("every message to juliet is acknowledged, stored or returned exactly once", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.constantFrom(0, 2, 3), fc.constantFrom(1, 10), (ops, storeEvery, maxDetached) => play(ops, storeEvery, maxDetached)),
      fuzz(1000),
    );
  });
});
