// Properties of the server logic over random sequences of stanzas from several local users and resources.
import fc from "fast-check";
import { type Jid, parseJid } from "@xmpp-sansio/jid";
import { xml, type XmlElement } from "@xmpp-sansio/xml";
import { describe, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { type LocalRun, MemoryImStore, processLocally } from "../src/memory-store.js";
import { NS_ROSTER } from "../src/namespaces.js";
import { ImServer } from "../src/server.js";
import { stateOf, stateParts } from "../src/subscription.js";

const USERS = ["alice@example.com", "bob@example.com", "carol@example.com"];
const RESOURCES = ["r1", "r2"];

type Op =
  | { k: "presence"; u: number; r: number; priority: number; unavailable: boolean }
  | { k: "sub"; u: number; r: number; type: "subscribe" | "subscribed" | "unsubscribe" | "unsubscribed"; t: number }
  | { k: "set" | "remove" | "get"; u: number; r: number; t: number }
  | { k: "probe"; u: number; r: number; t: number }
  | { k: "directed"; u: number; r: number; t: number; tr: number; unavailable: boolean }
  | { k: "message"; u: number; r: number; t: number; tr: number | null; type: string }
  | { k: "end"; u: number; r: number };

const idx = (n: number) => fc.nat({ max: n - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant("presence" as const), u: idx(3), r: idx(2), priority: fc.integer({ min: -3, max: 3 }), unavailable: fc.boolean() }),
  fc.record({
    k: fc.constant("sub" as const),
    u: idx(3),
    r: idx(2),
    type: fc.constantFrom("subscribe" as const, "subscribed" as const, "unsubscribe" as const, "unsubscribed" as const),
    t: idx(3),
  }),
  fc.record({ k: fc.constantFrom("set" as const, "remove" as const, "get" as const), u: idx(3), r: idx(2), t: idx(3) }),
  fc.record({ k: fc.constant("probe" as const), u: idx(3), r: idx(2), t: idx(3) }),
  fc.record({ k: fc.constant("directed" as const), u: idx(3), r: idx(2), t: idx(3), tr: idx(2), unavailable: fc.boolean() }),
  fc.record({
    k: fc.constant("message" as const),
    u: idx(3),
    r: idx(2),
    t: idx(3),
    tr: fc.option(idx(2)),
    type: fc.constantFrom("chat", "normal", "headline", "groupchat", "error"),
  }),
  fc.record({ k: fc.constant("end" as const), u: idx(3), r: idx(2) }),
);

function stanzaOf(o: Exclude<Op, { k: "end" }>): XmlElement {
  const target = USERS["t" in o ? o.t : 0]!;
  switch (o.k) {
    case "presence":
      return o.unavailable ? xml("presence", { type: "unavailable" }) : xml("presence", {}, xml("priority", {}, String(o.priority)));
    case "sub":
      return xml("presence", { type: o.type, to: target });
    case "set":
      return xml("iq", { type: "set", id: "s" }, xml("query", { xmlns: NS_ROSTER }, xml("item", { jid: target })));
    case "remove":
      return xml("iq", { type: "set", id: "s" }, xml("query", { xmlns: NS_ROSTER }, xml("item", { jid: target, subscription: "remove" })));
    case "get":
      return xml("iq", { type: "get", id: "g" }, xml("query", { xmlns: NS_ROSTER, ver: "" }));
    case "probe":
      return xml("presence", { type: "probe", to: target });
    case "directed":
      return xml("presence", { to: `${target}/${RESOURCES[o.tr]}`, type: o.unavailable ? "unavailable" : undefined });
    case "message":
      return xml("message", { to: o.tr === null ? target : `${target}/${RESOURCES[o.tr]}`, type: o.type }, xml("body", {}, "x"));
  }
}

interface Step {
  run: LocalRun;
  store: MemoryImStore;
}

/** Runs the ops; sessions connect on first use. Calls `check` after each step. */
function play(ops: readonly Op[], check: (s: Step) => void, im = new ImServer({ offlineLimit: 5 })): MemoryImStore {
  const store = new MemoryImStore(["example.com"]);
  for (const u of USERS) store.addUser(u);
  for (const o of ops) {
    const full = parseJid(`${USERS[o.u]}/${RESOURCES[o.r]}`);
    const connected = store.sessions(full.bare.toString()).some((s) => s.resource === full.resource);
    let run: LocalRun;
    if (o.k === "end") {
      if (!connected) continue;
      run = processLocally(im, store, { sessionEnd: full });
    } else {
      if (!connected) store.connect(full);
      const st = stanzaOf(o);
      st.setAttr("from", full.toString());
      run = processLocally(im, store, { stanza: st, from: full });
    }
    check({ run, store });
  }
  return store;
}

function viewOf(store: MemoryImStore, a: string, b: string) {
  return stateParts(stateOf(store.rosterItem(a, b), store.pendingIn(a, b) !== undefined));
}

describe("server properties", () => {
  it("subscription state is symmetric: each user's view of a contact mirrors the contact's view", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        play(ops, ({ store }) => {
          for (const a of USERS) {
            for (const b of USERS) {
              if (a === b) continue;
              const ab = viewOf(store, a, b);
              const ba = viewOf(store, b, a);
              if (ab.out !== ba.in) throw new Error(`${a}→${b}: ${a} sees ${ab.out}, ${b} sees ${ba.in}`);
            }
          }
        });
      }),
      fuzz(300),
    );
  });

  it("a probe is never delivered to a client", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        play(ops, ({ run }) => {
          for (const d of run.delivered) if (d.stanza.name === "presence" && d.stanza.attr("type") === "probe") throw new Error("probe delivered");
        });
      }),
      fuzz(300),
    );
  });

  it("messages and presence reach only connected resources, and unavailable ones only when addressed to their full JID", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        play(ops, ({ run, store }) => {
          for (const d of run.delivered) {
            if (d.stanza.name === "iq") continue;
            const sess = store.sessions(d.to.bare.toString()).find((s) => s.resource === d.to.resource);
            if (sess === undefined) throw new Error(`delivery to ${d.to} which is not connected`);
            if (!sess.available && d.stanza.attr("to") !== d.to.toString()) {
              throw new Error(`${d.stanza.name} ${d.stanza.attr("type") ?? ""} to unavailable ${d.to} (to=${d.stanza.attr("to")})`);
            }
          }
        });
      }),
      fuzz(300),
    );
  });

  it("the roster version strictly increases with every roster mutation, and pushes carry it", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const last = new Map<string, number>();
        play(ops, ({ run }) => {
          const vers = new Map<string, string[]>();
          for (const a of run.actions) {
            if (a.kind !== "roster-set" && a.kind !== "roster-remove") continue;
            const v = Number(a.ver);
            if (!(v > (last.get(a.user) ?? 0))) throw new Error(`version ${a.ver} after ${last.get(a.user)}`);
            last.set(a.user, v);
            vers.set(a.user, [...(vers.get(a.user) ?? []), a.ver]);
          }
          for (const d of run.delivered) {
            const q = d.stanza.name === "iq" && d.stanza.attr("type") === "set" ? d.stanza.getChild("query", NS_ROSTER) : undefined;
            if (q === undefined) continue;
            if (!(vers.get(d.to.bare.toString()) ?? []).includes(q.attr("ver")!)) throw new Error(`push with ver ${q.attr("ver")}`);
          }
        });
      }),
      fuzz(300),
    );
  });

  it("every delivery goes to a session of the addressed account, and nothing throws", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        play(ops, ({ run }) => {
          for (const d of run.delivered) {
            const to: Jid = d.to;
            if (to.resource === "") throw new Error("delivery to a bare JID");
          }
        });
      }),
      fuzz(200),
    );
  });
});

describe("hostile input", () => {
  const jidish = fc.oneof(
    fc.constantFrom("alice@example.com", "alice@example.com/r1", "bob@example.com/zz", "ghost@example.com", "example.com", "x@remote.example/r", "a@@b", "", "@", "/x"),
    fc.string({ maxLength: 12 }),
  );
  const text = fc.oneof(fc.constantFrom("", "5", "-129", "127", "+3", " 1 ", "1e2", "chat", "remove"), fc.string({ maxLength: 8 }));
  const child: fc.Arbitrary<XmlElement> = fc.oneof(
    fc.record({ n: fc.constantFrom("priority", "show", "status", "body"), t: text }).map(({ n, t }) => xml(n, {}, t)),
    fc
      .record({
        items: fc.array(fc.record({ jid: fc.option(jidish, { nil: undefined }), sub: fc.option(text, { nil: undefined }), name: fc.option(text, { nil: undefined }), groups: fc.array(text, { maxLength: 3 }) }), { maxLength: 3 }),
        ver: fc.option(text, { nil: undefined }),
      })
      .map(({ items, ver }) =>
        xml("query", { xmlns: NS_ROSTER, ver }, ...items.map((i) => xml("item", { jid: i.jid, subscription: i.sub, name: i.name }, ...i.groups.map((g) => xml("group", {}, g))))),
      ),
    fc
      .record({ n: fc.constantFrom("block", "unblock", "blocklist", "other"), jids: fc.array(jidish, { maxLength: 3 }) })
      .map(({ n, jids }) => xml(n, { xmlns: "urn:xmpp:blocking" }, ...jids.map((j) => xml("item", { jid: j })))),
    fc.constantFrom("offline", "composing").map((e) => xml("x", { xmlns: "jabber:x:event" }, xml(e))),
  );
  const stanza = fc
    .record({
      name: fc.constantFrom("message", "presence", "iq", "foo"),
      type: fc.option(fc.oneof(fc.constantFrom("chat", "normal", "groupchat", "headline", "error", "get", "set", "result", "subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe", "unavailable"), fc.string({ maxLength: 6 })), { nil: undefined }),
      to: fc.option(jidish, { nil: undefined }),
      from: fc.option(jidish, { nil: undefined }),
      id: fc.option(fc.string({ maxLength: 4 }), { nil: undefined }),
      children: fc.array(child, { maxLength: 3 }),
    })
    .map(({ name, type, to, from, id, children }) => xml(name, { type, to, from, id }, ...children));

  it("handleOutbound/handleInbound never throw, and every delivery goes to a connected full JID", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 10 }), fc.array(fc.tuple(fc.boolean(), stanza, fc.nat({ max: 5 })), { maxLength: 10 }), (setupOps, inputs) => {
        const store = play(setupOps, () => {});
        const im = new ImServer({ offlineLimit: 3 });
        for (const [outbound, st, who] of inputs) {
          const full = parseJid(`${USERS[who % 3]}/${RESOURCES[who % 2]}`);
          if (!store.sessions(full.bare.toString()).some((s) => s.resource === full.resource)) store.connect(full);
          const run = outbound ? processLocally(im, store, { stanza: st, from: full }) : undefined;
          const actions = run?.actions ?? im.handleInbound(st, store);
          if (run === undefined) {
            for (const a of actions) if (a.kind !== "deliver" && a.kind !== "route" && a.kind !== "unhandled" && a.kind !== "offline-flush") store.apply(a);
          }
          for (const a of actions) {
            if (a.kind !== "deliver") continue;
            if (a.to.resource === "") throw new Error("delivery to a bare JID");
            if (!store.sessions(a.to.bare.toString()).some((s) => s.resource === a.to.resource)) throw new Error(`delivery to ${a.to}, not connected`);
          }
        }
      }),
      fuzz(300),
    );
  });
});
