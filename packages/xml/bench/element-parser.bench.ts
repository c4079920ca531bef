// The compact parser of browser builds (parseElementMessage) against the streaming parser on RFC 7395
// messages: CPU time per message, interleaved rounds (A, B, C, A, B, C …), median. Prints figures only.
//
//   npx esbuild packages/xml/bench/element-parser.bench.ts --bundle --platform=node --format=esm \
//     --conditions=source --outfile=.tmp/ep-bench.mjs && node .tmp/ep-bench.mjs              (BENCH_ROUNDS=15)
//
// Run it bundled: under tsx every closure the parser creates per call is wrapped by esbuild's keepNames
// helper (a defineProperty each), which a browser bundle does not do; that triples the compact figures.
//
// "streaming, JS path" is StreamParser in fragments framing without the WebAssembly fast path (what
// browser builds ran before); "FramedParser" is the Node build (fast path, parser kept between messages).
import { parseElementMessage } from "../src/element-parser.js";
import { DEFAULT_XML_LIMITS, FramedParser, StreamParser } from "../src/index.js";
import { flatMessage, prefixHeavyMessage } from "../test/shapes.js";

const enc = new TextEncoder();
const chat = enc.encode(
  "<message xmlns='jabber:client' from='romeo@montague.example/orchard' to='juliet@capulet.example/balcony' id='a1b2c3' type='chat'><body>Wherefore art thou, Romeo? café 😀 &amp; &lt;3</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>",
);
const items = Array.from({ length: 50 }, (_, k) => `<item jid='friend${k}@example.com' name='Friend ${k}' subscription='both'><group>Friends</group></item>`).join("");
const roster = enc.encode(`<iq xmlns='jabber:client' type='result' id='r1' to='juliet@capulet.example/balcony'><query xmlns='jabber:iq:roster' ver='v42'>${items}</query></iq>`);
const big = enc.encode(flatMessage(64 * 1024));
const prefixes = enc.encode(prefixHeavyMessage(30, 16));
const CASES = [
  ["chat message", chat, 20000],
  ["roster result (50 items)", roster, 2000],
  ["64 KiB flat message", big, 100],
  ["prefix-heavy (30 × 16 bindings)", prefixes, 300],
] as const;

const streamingJs = (m: Uint8Array) => {
  const p = new StreamParser({ framing: "fragments", fastPath: false });
  p.push(m);
  return p.next();
};
const framed = new FramedParser();
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);

for (const [name, message, n] of CASES) {
  const runs: Record<string, number[]> = { compact: [], "streaming, JS path": [], FramedParser: [] };
  const fns: Record<string, (m: Uint8Array) => unknown> = {
    compact: (m) => parseElementMessage(m, DEFAULT_XML_LIMITS),
    "streaming, JS path": streamingJs,
    FramedParser: (m) => framed.parse(m),
  };
  for (const f of Object.values(fns)) if ("condition" in (f(message) as object)) throw new Error(`${name}: refused`);
  for (let r = 0; r < ROUNDS + 2; r++) {
    for (const [k, f] of Object.entries(fns)) {
      const t = process.cpuUsage();
      for (let i = 0; i < n; i++) f(message);
      const d = process.cpuUsage(t);
      if (r >= 2) runs[k]!.push(((d.user + d.system) * 1000) / n); // ns per message
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  console.log(`${name} (${message.length} bytes):`);
  for (const [k, xs] of Object.entries(runs)) console.log(`  ${k.padEnd(20)} ${(median(xs) / 1000).toFixed(2).padStart(9)} µs CPU per message`);
}
