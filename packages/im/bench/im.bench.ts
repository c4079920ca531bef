// Benchmarks of the IM server logic on the in-memory store (no I/O): roster get with 500 items, presence
// broadcast to 500 contacts, initial presence (broadcast + 500 probes), a bare-JID message.
// Run: pnpm -F @xmpp-sansio/im bench   (node --expose-gc gives the heap figures)
import { parseJid } from "@xmpp-sansio/jid";
import { xml } from "@xmpp-sansio/xml";
import { ImServer, MemoryImStore, NS_ROSTER } from "../src/index.js";

const N = 500;
const user = "juliet@example.com";
const me = parseJid(`${user}/balcony`);

function setup(): MemoryImStore {
  const store = new MemoryImStore(["example.com"]);
  store.addUser(user);
  for (let i = 0; i < N; i++) {
    store.apply({
      kind: "roster-set",
      user,
      item: { jid: `contact${i}@remote${i % 20}.example`, name: `Contact ${i}`, groups: ["Friends"], subscription: "both", ask: false, approved: false },
      ver: String(i + 1),
    });
  }
  store.connect(me);
  store.apply({ kind: "session-presence", user, resource: "balcony", available: true, priority: 0, presence: xml("presence") });
  return store;
}

const gc = (globalThis as { gc?: () => void }).gc;
function bench(name: string, iterations: number, fn: () => unknown): void {
  for (let i = 0; i < Math.min(50, iterations); i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  const ms = (performance.now() - t0) / iterations;
  // Allocation of one call: heap growth across a single call right after a full GC (median of 9).
  let alloc = "";
  if (gc !== undefined) {
    const d: number[] = [];
    for (let i = 0; i < 9; i++) {
      gc();
      const h = process.memoryUsage().heapUsed;
      fn();
      d.push(process.memoryUsage().heapUsed - h);
    }
    d.sort((a, b) => a - b);
    alloc = `  ${(d[4]! / 1024).toFixed(1).padStart(7)} KiB allocated/op`;
  }
  console.log(`${name.padEnd(52)} ${ms.toFixed(3).padStart(8)} ms/op${alloc}`);
}

const im = new ImServer();
const store = setup();
const get = xml("iq", { type: "get", id: "r" }, xml("query", { xmlns: NS_ROSTER, ver: "" }));
const status = xml("presence", {}, xml("show", {}, "away"));
const initialStore = setup();
initialStore.apply({ kind: "session-presence", user, resource: "balcony", available: false, priority: 0 });
const initial = xml("presence");
const msg = xml("message", { from: "romeo@remote.example/x", to: user, type: "chat" }, xml("body", {}, "hi"));

console.log(`@xmpp-sansio/im, ${N} roster items (node ${process.version})`);
bench(`roster get (${N} items, full result)`, 200, () => im.handleOutbound(get, me, store));
bench(`subsequent presence broadcast to ${N} contacts`, 200, () => im.handleOutbound(status, me, store));
bench(`initial presence: ${N} broadcasts + ${N} probes`, 200, () => im.handleOutbound(initial, me, initialStore));
bench("chat message to the bare JID", 20000, () => im.handleInbound(msg, store));
