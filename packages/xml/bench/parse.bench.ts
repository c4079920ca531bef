// Parser and serializer benchmark: prints figures, asserts nothing.
//
//   pnpm -F @xmpp-sansio/xml bench            (BENCH_MB=10 for a smaller stream, BENCH_RUNS=3 for fewer runs,
//                                              BENCH_ONLY=ours to profile our parser alone,
//                                              BENCH_ONLY=serialize for the serializer rows alone,
//                                              BENCH_ONLY=shapes for time per byte of hostile shapes alone)
//
// A deterministic (seeded) XMPP stream of about 50 MB — chat messages with non-ASCII text and escapes,
// presence with XEP-0115 caps, roster results of 50 items, nested pubsub payloads — is fed in 4 KiB chunks
// to each parser; every parser builds its elements (ours, ltx) or reports events (saxes). Warm-up run,
// then the median of several runs.
import { writeFileSync } from "node:fs";
import { Parser as XmppXmlParser } from "@xmpp/xml";
import { XMLParser } from "fast-xml-parser";
import { SaxesParser } from "saxes";
import { prng } from "../test/prng.js";
import { runShapes } from "./shapes.js";
import { NS_CLIENT, NS_STREAMS, StreamParser, serialize, type XmlElement, XmlWriter } from "../src/index.js";

const TARGET_MB = Number(process.env.BENCH_MB ?? 50);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ONLY = process.env.BENCH_ONLY;
const CHUNK = 4096;
if (ONLY === "shapes") {
  runShapes();
  process.exit(0);
}

// ------------------------------------------------------------------------------------------------------
// Deterministic stream generation

const rnd = prng(0x5eed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const int = (n: number) => Math.floor(rnd() * n);

const WORDS = [
  "wherefore", "art", "thou", "Romeo", "deny", "thy", "father", "and", "refuse", "name", "rose", "by", "any", "other",
  "would", "smell", "as", "sweet", "café", "naïve", "Grüße", "日本語", "Привет", "😀", "¿qué?", "&amp;", "&lt;3", "&gt;",
  "&apos;tis", "&quot;love&quot;", "ça", "mañana", "Ελληνικά", "🌹", "x&#x1F600;",
];
const USERS = ["juliet", "romeo", "nurse", "mercutio", "benvolio", "tybalt", "capulet", "montague", "friar", "paris"];
const DOMAINS = ["capulet.example", "montague.example", "verona.example", "shakespeare.lit"];
const jid = () => `${pick(USERS)}${int(100)}@${pick(DOMAINS)}`;
const full = () => `${jid()}/${pick(["balcony", "orchard", "chamber", "phone"])}${int(10)}`;
const id = () => int(1e9).toString(36);
const sentence = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(" ");

function chat(): string {
  return (
    `<message from='${full()}' to='${full()}' type='chat' id='${id()}' xml:lang='en'>` +
    `<body>${sentence(5 + int(25))}</body><active xmlns='http://jabber.org/protocol/chatstates'/>` +
    `<stanza-id xmlns='urn:xmpp:sid:0' id='${id()}-${id()}' by='${jid()}'/></message>`
  );
}
function presence(): string {
  return (
    `<presence from='${full()}'><show>${pick(["away", "chat", "dnd", "xa"])}</show><status>${sentence(3 + int(6))}</status>` +
    `<priority>${int(128)}</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='https://conversations.im' ver='${id()}${id()}='/></presence>`
  );
}
function roster(): string {
  let s = `<iq type='result' id='${id()}' to='${full()}'><query xmlns='jabber:iq:roster' ver='ver${int(1000)}'>`;
  for (let i = 0; i < 50; i++) {
    s += `<item jid='${jid()}' name='${pick(USERS)} ${pick(WORDS)}' subscription='${pick(["both", "to", "from", "none"])}'>`;
    s += `<group>${pick(["Friends", "Family", "Capulets", "Montagues", "Café"])}</group></item>`;
  }
  return `${s}</query></iq>`;
}
function pubsub(): string {
  return (
    `<message from='pubsub.shakespeare.lit' to='${jid()}' id='${id()}'><event xmlns='http://jabber.org/protocol/pubsub#event'>` +
    `<items node='urn:xmpp:microblog:0'><item id='${id()}' publisher='${jid()}'><entry xmlns='http://www.w3.org/2005/Atom'>` +
    `<title type='text'>${sentence(6)}</title><author><name>${pick(USERS)}</name><uri>xmpp:${jid()}</uri></author>` +
    `<published>2026-0${1 + int(9)}-1${int(10)}T12:${10 + int(50)}:00Z</published><content type='text'>${sentence(20 + int(40))}</content>` +
    `<link rel='alternate' href='https://example.com/${id()}?a=1&amp;b=2'/></entry></item></items></event>` +
    `<delay xmlns='urn:xmpp:delay' stamp='2026-01-01T00:00:00Z'/></message>`
  );
}

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='${NS_CLIENT}' xmlns:stream='${NS_STREAMS}' from='example.com' id='${id()}' version='1.0' xml:lang='en'>`;
const stanzaStrings: string[] = [];
let total = HEADER.length;
while (total < TARGET_MB * 1e6) {
  const r = rnd();
  const s = r < 0.6 ? chat() : r < 0.85 ? presence() : r < 0.9 ? roster() : pubsub();
  stanzaStrings.push(s);
  total += s.length + 1;
}
const encoder = new TextEncoder();
const streamBytes = encoder.encode(`${HEADER}${stanzaStrings.join("\n")}`);
const chunks: Uint8Array[] = [];
for (let i = 0; i < streamBytes.length; i += CHUNK) chunks.push(streamBytes.subarray(i, i + CHUNK));
const MB = streamBytes.length / 1e6;
// BENCH_DUMP=path writes the generated stream to a file (for profiling a built parser on it).
if (process.env.BENCH_DUMP) writeFileSync(process.env.BENCH_DUMP, streamBytes);
const N = stanzaStrings.length;

// ------------------------------------------------------------------------------------------------------
// Parsers under test

function ours(): number {
  const parser = new StreamParser({ limits: { maxStanzaBytes: 1 << 20 } });
  let n = 0;
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let ev = parser.next(); ev !== undefined; ev = parser.next()) {
      if (ev.kind === "element") n++;
      else if (ev.kind === "error") throw new Error(ev.error.text);
    }
  }
  return n;
}

function xmppjs(): number {
  const parser = new XmppXmlParser();
  const decoder = new TextDecoder();
  let n = 0;
  parser.on("element", () => n++);
  parser.on("error", (e: Error) => {
    throw e;
  });
  for (const chunk of chunks) parser.write(decoder.decode(chunk, { stream: true }));
  return n;
}

function saxes(): number {
  const parser = new SaxesParser({ xmlns: true });
  const decoder = new TextDecoder();
  let depth = 0;
  let n = 0;
  parser.on("opentag", () => depth++);
  parser.on("closetag", () => {
    if (--depth === 1) n++;
  });
  parser.on("error", (e) => {
    throw e;
  });
  for (const chunk of chunks) parser.write(decoder.decode(chunk, { stream: true }));
  return n;
}

const fxp = new XMLParser({ ignoreAttributes: false, parseAttributeValue: false, parseTagValue: false, trimValues: false });
// The fast-xml-parser approach: it cannot stream, so it is given the stanzas already split at their
// boundaries (the splitting itself is not timed, which flatters it).
function fastXmlParser(): number {
  let n = 0;
  for (const s of stanzaStrings) if (fxp.parse(s)) n++;
  return n;
}

function bareLoop(): number {
  let x = 0;
  for (const chunk of chunks) for (let i = 0; i < chunk.length; i++) x = (x + chunk[i]!) | 0;
  return x === 42 ? 0 : N;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(name: string, fn: () => number): number {
  const got = fn(); // warm-up, and a check that every parser saw every stanza
  if (got !== N) throw new Error(`${name}: ${got} stanzas, expected ${N}`);
  const ms: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

const gc = (globalThis as { gc?: () => void }).gc;
function heapPerParser(make: () => unknown): number | undefined {
  if (gc === undefined) return undefined;
  const keep: unknown[] = new Array(10_000);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < keep.length; i++) keep[i] = make();
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  const per = (after - before) / keep.length;
  keep.length = 0;
  return per;
}

console.log(`stream: ${MB.toFixed(1)} MB, ${N} stanzas, ${chunks.length} chunks of ${CHUNK} bytes; median of ${RUNS} runs after a warm-up`);
console.log(`node ${process.version}`);

const parseRows: Array<[string, number]> = [];
if (ONLY !== "serialize") parseRows.push(["@xmpp-sansio/xml (strict)", time("ours", ours)]);
if (ONLY === undefined) {
  parseRows.push(["@xmpp/xml (ltx)", time("xmppjs", xmppjs)]);
  parseRows.push(["saxes { xmlns: true }", time("saxes", saxes)]);
  parseRows.push(["fast-xml-parser, per stanza", time("fxp", fastXmlParser)]);
  parseRows.push(["bare loop over the bytes", time("loop", bareLoop)]);
}
const ltxMs = parseRows.find(([n]) => n.startsWith("@xmpp/xml"))?.[1];
if (parseRows.length > 0) {
  console.log("\nparse");
  console.log("| parser | MB/s | stanzas/s | vs @xmpp/xml |");
  console.log("|---|---:|---:|---:|");
  for (const [name, ms] of parseRows) {
    const ratio = ltxMs === undefined ? "" : `${(ltxMs / ms).toFixed(2)}×`;
    console.log(`| ${name} | ${(MB / (ms / 1000)).toFixed(0)} | ${Math.round(N / (ms / 1000)).toLocaleString("en")} | ${ratio} |`);
  }
}

if (ONLY === undefined) {
  // Idle parsers: each has seen a stream header and waits for the next stanza.
  const header = encoder.encode(HEADER);
  const oursHeap = heapPerParser(() => {
    const p = new StreamParser();
    p.push(header);
    while (p.next() !== undefined);
    return p;
  });
  const ltxHeap = heapPerParser(() => {
    const p = new XmppXmlParser();
    p.on("element", () => {});
    p.write(HEADER);
    return p;
  });
  console.log("\nheap per idle parser (after a stream header; 10k parsers)");
  if (oursHeap === undefined) console.log("(run with node --expose-gc)");
  else {
    console.log("| parser | bytes |");
    console.log("|---|---:|");
    console.log(`| @xmpp-sansio/xml | ${Math.round(oursHeap)} |`);
    console.log(`| @xmpp/xml (ltx) | ${Math.round(ltxHeap!)} |`);
  }
}
if (ONLY !== "ours") {
  // Serializer: the same stanzas as element trees, written to UTF-8 bytes.
  const ourEls: XmlElement[] = [];
  {
    const p = new StreamParser({ limits: { maxStanzaBytes: 1 << 20 } });
    p.push(streamBytes);
    for (let ev = p.next(); ev !== undefined; ev = p.next()) if (ev.kind === "element") ourEls.push(ev.element);
  }
  const ltxEls: Array<{ toString(): string }> = [];
  {
    const p = new XmppXmlParser();
    p.on("element", (el: { toString(): string }) => ltxEls.push(el));
    p.write(new TextDecoder().decode(streamBytes));
  }
  const ctx = { defaultNs: NS_CLIENT, prefixes: new Map([["stream", NS_STREAMS]]) };
  let outBytes = 0;
  const serRows: Array<[string, number]> = [
    [
      "serialize() per stanza",
      time("serialize", () => {
        outBytes = 0;
        for (const el of ourEls) outBytes += serialize(el, ctx).length;
        return N;
      }),
    ],
    [
      "XmlWriter.element(), take() per 64 KiB",
      time("writer", () => {
        const w = new XmlWriter(1 << 17);
        for (const el of ourEls) {
          w.element(el, ctx);
          if (w.length > 1 << 16) w.take();
        }
        w.take();
        return N;
      }),
    ],
    [
      "ltx toString() + TextEncoder.encode",
      time("ltx", () => {
        for (const el of ltxEls) encoder.encode(el.toString());
        return N;
      }),
    ],
  ];
  const outMB = outBytes / 1e6;
  const ltxSer = serRows[2]![1];
  console.log(`\nserialize (${outMB.toFixed(1)} MB of output)`);
  console.log("| serializer | MB/s | stanzas/s | vs ltx |");
  console.log("|---|---:|---:|---:|");
  for (const [name, ms] of serRows) {
    console.log(`| ${name} | ${(outMB / (ms / 1000)).toFixed(0)} | ${Math.round(N / (ms / 1000)).toLocaleString("en")} | ${(ltxSer / ms).toFixed(2)}× |`);
  }
}
if (ONLY === undefined) runShapes();
