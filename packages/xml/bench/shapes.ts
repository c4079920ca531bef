// The benchmark's "shapes" section: time per byte of hostile but parser-legal shapes (deep nesting with
// many namespace prefixes, an element with very many prefixed attributes) next to a flat stanza of the
// same size. Linear code gives about the same time per byte whatever the shape and size; the serializer
// used to take ~9 s (≈ 150 µs a byte) for the 60 × 32 message.
import { NS_CLIENT, NS_STREAMS, StreamParser, serialize, type XmlElement, type XmlLimits } from "../src/index.js";
import { flatMessage, prefixHeavyMessage } from "../test/shapes.js";

const HEADER = `<stream:stream xmlns='${NS_CLIENT}' xmlns:stream='${NS_STREAMS}' version='1.0'>`;
const CTX = { defaultNs: NS_CLIENT, prefixes: new Map([["stream", NS_STREAMS]]) };
const encoder = new TextEncoder();

/** One element with `n` namespace declarations and `n` attributes using them (needs maxAttributes ≥ 2n). */
function manyPrefixedAttributes(n: number): string {
  let s = "<message><e";
  for (let i = 0; i < n; i++) s += ` xmlns:p${i}='urn:${i}' p${i}:a='v'`;
  return `${s}/></message>`;
}

/** Median of `runs` timings of `fn`, each repeated until it has taken 20 ms; ms per call. */
function msPerCall(fn: () => void, runs = 5): number {
  fn();
  const per: number[] = [];
  for (let r = 0; r < runs; r++) {
    let n = 0;
    const t0 = performance.now();
    let t = t0;
    do {
      fn();
      n++;
      t = performance.now();
    } while (t - t0 < 20);
    per.push((t - t0) / n);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)]!;
}

function parseOnce(bytes: Uint8Array, limits: Partial<XmlLimits>): XmlElement {
  const p = new StreamParser({ limits });
  p.push(bytes);
  let el: XmlElement | undefined;
  for (let ev = p.next(); ev !== undefined; ev = p.next()) {
    if (ev.kind === "error") throw new Error(ev.error.text);
    if (ev.kind === "element") el = ev.element;
  }
  return el!;
}

export function runShapes(): void {
  const rows: Array<[string, string, Partial<XmlLimits>]> = [];
  const deep = prefixHeavyMessage(60, 32);
  rows.push(["60 levels × 32 prefixes (default limits)", deep, {}]);
  rows.push(["flat stanza, same size", flatMessage(deep.length), {}]);
  const big = { maxDepth: 1000, maxElements: 1e6, maxAttributes: 64, maxStanzaBytes: 16 << 20, maxBufferedBytes: 32 << 20 };
  const deeper = prefixHeavyMessage(600, 32);
  rows.push(["600 levels × 32 prefixes (maxDepth 1000)", deeper, big]);
  rows.push(["flat stanza, same size", flatMessage(deeper.length), big]);
  const wide = manyPrefixedAttributes(20_000);
  const wideLimits = { maxAttributes: 40_000, maxElements: 1e6, maxStanzaBytes: 16 << 20, maxBufferedBytes: 32 << 20 };
  rows.push(["20,000 prefixed attributes (maxAttributes 40,000)", wide, wideLimits]);
  rows.push(["flat stanza, same size", flatMessage(wide.length), wideLimits]);
  console.log("\nshapes: time per byte, parse (one chunk) and serialize (serialize() in the stream's context)");
  console.log("| shape | bytes | parse ns/byte | serialize ns/byte (output) |");
  console.log("|---|---:|---:|---:|");
  for (const [name, body, limits] of rows) {
    const bytes = encoder.encode(HEADER + body);
    const el = parseOnce(bytes, limits);
    const out = serialize(el, CTX).length;
    const parseMs = msPerCall(() => parseOnce(bytes, limits));
    const serMs = msPerCall(() => serialize(el, CTX));
    console.log(`| ${name} | ${body.length.toLocaleString("en")} | ${((parseMs * 1e6) / bytes.length).toFixed(1)} | ${((serMs * 1e6) / out).toFixed(1)} |`);
  }
}
