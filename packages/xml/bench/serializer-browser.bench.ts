// The compact serializer of browser builds (serializer.browser.ts) against the byte writer, on the
// shapes of element-parser.bench.ts: CPU time per element written and taken as bytes (what a WebSocket
// framing does per message), interleaved rounds (A, B, A, B …), median. Prints figures only.
//
//   npx esbuild packages/xml/bench/serializer-browser.bench.ts --bundle --platform=node --format=esm \
//     --conditions=source --outfile=.tmp/ser-bench.mjs && node .tmp/ser-bench.mjs               (BENCH_ROUNDS=15)
import * as compact from "../src/serializer.browser.js";
import { FramedParser, type XmlElement } from "../src/index.js";
import * as full from "../src/serializer.js";
import { flatMessage, prefixHeavyMessage } from "../test/shapes.js";

const enc = new TextEncoder();
const parse = (s: string): XmlElement => {
  const r = new FramedParser().parse(enc.encode(s));
  if ("condition" in r) throw new Error(r.text);
  return r;
};
const chat = parse(
  "<message xmlns='jabber:client' from='romeo@montague.example/orchard' to='juliet@capulet.example/balcony' id='a1b2c3' type='chat'><body>Wherefore art thou, Romeo? café 😀 &amp; &lt;3</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
);
const items = Array.from({ length: 50 }, (_, k) => `<item jid='friend${k}@example.com' name='Friend ${k}' subscription='both'><group>Friends</group></item>`).join("");
const roster = parse(`<iq xmlns='jabber:client' type='result' id='r1' to='juliet@capulet.example/balcony'><query xmlns='jabber:iq:roster' ver='v42'>${items}</query></iq>`);
const CASES = [
  ["chat message", chat, 20000],
  ["roster result (50 items)", roster, 2000],
  ["64 KiB flat message", parse(flatMessage(64 * 1024)), 100],
  ["prefix-heavy (30 × 16 bindings)", parse(prefixHeavyMessage(30, 16)), 300],
  ["prefix-heavy (60 × 32 bindings)", parse(prefixHeavyMessage(60, 32)), 30],
] as const;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const fullWriter = new full.XmlWriter(256);
const compactWriter = new compact.XmlWriter();

for (const [name, el, n] of CASES) {
  const fns: Record<string, (e: XmlElement) => Uint8Array> = {
    "byte writer": (e) => fullWriter.element(e).takeShared(),
    compact: (e) => compactWriter.element(e).takeShared(),
  };
  const sizes = Object.values(fns).map((f) => f(el).length);
  if (sizes[0] !== sizes[1]) throw new Error(`${name}: the two writers differ`);
  const runs: Record<string, number[]> = { "byte writer": [], compact: [] };
  for (let r = 0; r < ROUNDS + 2; r++) {
    for (const [k, f] of Object.entries(fns)) {
      const t = process.cpuUsage();
      for (let i = 0; i < n; i++) f(el);
      const d = process.cpuUsage(t);
      if (r >= 2) runs[k]!.push(((d.user + d.system) * 1000) / n); // ns per element
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(`${name} (${sizes[0]} bytes):`);
  for (const [k, xs] of Object.entries(runs)) console.log(`  ${k.padEnd(12)} ${(median(xs) / 1000).toFixed(2).padStart(9)} µs CPU per element`);
}
