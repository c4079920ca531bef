// SessionTable with the real Router, fake connections and a fake clock: what happens to stanzas for a
// detached, resumed, superseded or expired session (XEP-0198 §5, §6; RFC 6121 §8.5.3.2.1).
import { parseStanzaError, type SmState } from "@xmpp-sansio/core";
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { type OfflineStoreHook, type SessionConnection, SessionTable, type SmHalfLike } from "../src/resumption.js";
import { Router } from "../src/router.js";

const D = "im.example.com";

class FakeConnection implements SessionConnection {
  readonly inbox: XmlElement[] = [];
  online = true;
  sm: (SmHalfLike & { id: string }) | undefined;
  closedWith: string | undefined;
  readonly jid: Jid;
  readonly username: string;
  constructor(jid: string) {
    this.jid = parseJid(jid);
    this.username = this.jid.local;
  }
  get isOnline(): boolean {
    return this.online;
  }
  send(stanza: XmlElement): void {
    if (!this.online) throw new Error("not online");
    this.inbox.push(stanza);
  }
  async closeWithError(condition: string): Promise<void> {
    this.closedWith = condition;
    this.online = false;
  }
}

function setup(opts: { offlineStore?: OfflineStoreHook; maxHeldStanzas?: number } = {}) {
  let now = 0;
  const timers: Array<{ fn: () => void; at: number; live: boolean }> = [];
  const router = new Router({ serves: (d) => d === D, accountExists: (u) => ["juliet", "romeo"].includes(u) });
  const log: string[] = [];
  const table = new SessionTable<FakeConnection>({
    router,
    domain: D,
    smOf: (c) => c.sm,
    log: (l) => log.push(l),
    ...opts,
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
  /** Advances the fake clock, firing due timers. */
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers.splice(0)) {
      if (t.live && t.at <= now) t.fn();
      else if (t.live) timers.push(t);
    }
  };
  const connect = (jid: string, presence = true): FakeConnection => {
    const c = new FakeConnection(jid);
    table.online(c, { resumed: false });
    if (presence) router.route(table.endpointOf(c)!, xml("presence", { from: jid }).adoptNamespace("jabber:client"));
    return c;
  };
  const send = (from: FakeConnection, stanza: XmlElement) => router.route(table.endpointOf(from)!, stanza.setAttr("from", from.jid.toString()).adoptNamespace("jabber:client"));
  const state = (jid: string, id: string, max = 10, unacked: string[] = []): SmState => ({ v: 1, id, jid, inbound: 0, acked: 0, unacked, max });
  return { table, router, log, advance, connect, send, state };
}

const chat = (to: string, id: string) => xml("message", { to, id, type: "chat" }, xml("body", {}, id));
const errorsIn = (c: FakeConnection) => c.inbox.filter((s) => s.attr("type") === "error").map((s) => [s.attr("id"), parseStanzaError(s).condition]);

describe("SessionTable", () => {
  it("holds stanzas for a detached session; past maxHeldStanzas the sender gets service-unavailable", () => {
    const t = setup({ maxHeldStanzas: 1 });
    const romeo = t.connect(`romeo@${D}/orchard`);
    const juliet = t.connect(`juliet@${D}/balcony`);
    t.table.detached(juliet, t.state(`juliet@${D}/balcony`, "s1"));
    t.send(romeo, chat(`juliet@${D}/balcony`, "held"));
    t.send(romeo, chat(`juliet@${D}/balcony`, "over"));
    expect(errorsIn(romeo)).toEqual([["over", "service-unavailable"]]);
    // Resumption hands over the held stanza with the state.
    const answer = t.table.resume("s1", 0, new FakeConnection(`juliet@${D}/x`));
    expect("state" in answer && answer.state.unacked.length).toBe(1);
  });

  it("IQ requests to an expired session get service-unavailable, presence is dropped, errors are not answered", () => {
    const t = setup();
    const romeo = t.connect(`romeo@${D}/orchard`);
    const juliet = t.connect(`juliet@${D}/balcony`);
    const unacked = [
      `<iq xmlns='jabber:client' type='get' id='q1' from='romeo@${D}/orchard' to='juliet@${D}/balcony'><query xmlns='jabber:iq:version'/></iq>`,
      `<iq xmlns='jabber:client' type='result' id='q2' from='romeo@${D}/orchard' to='juliet@${D}/balcony'/>`,
      `<presence xmlns='jabber:client' from='romeo@${D}/orchard' to='juliet@${D}/balcony'/>`,
      `<message xmlns='jabber:client' type='error' id='e1' from='romeo@${D}/orchard' to='juliet@${D}/balcony'/>`,
    ];
    t.table.detached(juliet, t.state(`juliet@${D}/balcony`, "s1", 10, unacked));
    t.advance(10_000);
    expect(errorsIn(romeo)).toEqual([["q1", "service-unavailable"]]);
    expect(t.log).toContain(`expired juliet@${D}/balcony (4 unacknowledged stanzas treated as undeliverable)`);
  });

  it("a fresh bind of a detached full JID supersedes it: offline presence first, then its stanzas as to the bare JID", () => {
    const t = setup();
    const romeo = t.connect(`romeo@${D}/orchard`);
    const tower = t.connect(`juliet@${D}/tower`);
    const juliet = t.connect(`juliet@${D}/balcony`);
    t.table.detached(juliet, t.state(`juliet@${D}/balcony`, "s1"));
    t.send(romeo, chat(`juliet@${D}/balcony`, "m1"));
    expect(tower.inbox.some((s) => s.name === "message")).toBe(false);
    const again = t.connect(`juliet@${D}/balcony`, false);
    expect(tower.inbox.filter((s) => s.attr("from") === `juliet@${D}/balcony`).map((s) => s.attr("type"))).toEqual([undefined, "unavailable"]);
    expect(tower.inbox.filter((s) => s.name === "message").map((s) => s.attr("id"))).toEqual(["m1"]);
    expect(again.inbox).toEqual([]);
    expect(t.table.detachedCount).toBe(0);
    // (No tombstone: DetachedSessions.take() keeps none, so the late client learns no h here.)
    expect(t.table.resume("s1", 0, new FakeConnection(`juliet@${D}/x`))).toEqual({ refuse: "item-not-found" });
  });

  it("offlineStore: a promise of false or a rejection still ends in an error; true in none", async () => {
    const answers = [Promise.resolve(false), Promise.reject(new Error("disk full")), Promise.resolve(true)];
    const t = setup({ offlineStore: () => answers.shift()! });
    const romeo = t.connect(`romeo@${D}/orchard`);
    const juliet = t.connect(`juliet@${D}/balcony`);
    const unacked = ["a", "b", "c"].map((id) => `<message xmlns='jabber:client' type='chat' id='${id}' from='romeo@${D}/orchard' to='juliet@${D}/balcony'/>`);
    t.table.detached(juliet, t.state(`juliet@${D}/balcony`, "s1", 10, unacked));
    t.advance(10_000);
    await Promise.allSettled(answers);
    await new Promise<void>((r) => queueMicrotask(r));
    expect(errorsIn(romeo)).toEqual([
      ["a", "service-unavailable"],
      ["b", "service-unavailable"],
    ]);
  });

  it("undelivered on a clean close: the resource goes offline before its stanzas are routed again", () => {
    const t = setup();
    const romeo = t.connect(`romeo@${D}/orchard`);
    const tower = t.connect(`juliet@${D}/tower`);
    const juliet = t.connect(`juliet@${D}/balcony`);
    juliet.online = false; // closing
    t.table.undelivered(juliet, [chat(`juliet@${D}/balcony`, "u1").setAttr("from", `romeo@${D}/orchard`).adoptNamespace("jabber:client")]);
    expect(tower.inbox.filter((s) => s.name === "message").map((s) => s.attr("id"))).toEqual(["u1"]);
    expect(t.table.offline(juliet)).toBe("offline");
    expect(errorsIn(romeo)).toEqual([]);
  });

  it("takeover: a live session with the id is closed with conflict; stanzas meanwhile wait for the new connection", () => {
    const t = setup();
    const romeo = t.connect(`romeo@${D}/orchard`);
    const old = t.connect(`juliet@${D}/balcony`);
    const st = t.state(`juliet@${D}/balcony`, "live-1");
    old.sm = { id: "live-1", resumptionId: "live-1", takeOver: (_jid, previd) => (previd === "live-1" ? st : undefined) };
    const fresh = new FakeConnection(`juliet@${D}/balcony`);
    expect(t.table.resume("live-1", 0, fresh)).toEqual({ state: st });
    expect(old.closedWith).toBe("conflict");
    t.send(romeo, chat(`juliet@${D}/balcony`, "between"));
    expect(t.table.offline(old)).toBe("replaced");
    t.table.online(fresh, { resumed: true });
    expect(fresh.inbox.map((s) => s.attr("id"))).toEqual(["between"]);
    expect(errorsIn(romeo)).toEqual([]);
  });

  it("close() ends every detached session now", () => {
    const t = setup();
    const romeo = t.connect(`romeo@${D}/orchard`);
    const juliet = t.connect(`juliet@${D}/balcony`);
    t.table.detached(juliet, t.state(`juliet@${D}/balcony`, "s1", 300));
    t.send(romeo, chat(`juliet@${D}/balcony`, "late"));
    t.table.close();
    expect(errorsIn(romeo)).toEqual([["late", "service-unavailable"]]);
    expect(t.table.detachedCount).toBe(0);
  });
});
