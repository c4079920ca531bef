// pack-check (Node): every entry point of every installed tarball loads, as ESM and through require(esm)
// (Node ≥ 20.19), and the core works: a stanza parses, a ClientSession opens its stream.
import { createRequire } from "node:module";

const entries = [
  "@xmpp-sansio/precis", "@xmpp-sansio/xml", "@xmpp-sansio/jid", "@xmpp-sansio/sasl", "@xmpp-sansio/core",
  "@xmpp-sansio/adapter", "@xmpp-sansio/node", "@xmpp-sansio/websocket", "@xmpp-sansio/websocket/server",
  "@xmpp-sansio/deno", "@xmpp-sansio/server",
];
const require = createRequire(import.meta.url);
for (const entry of entries) {
  const esm = await import(entry);
  if (Object.keys(esm).length === 0) throw new Error(`${entry}: no exports`);
  const cjs = require(entry);
  if (Object.keys(cjs).length !== Object.keys(esm).length) throw new Error(`${entry}: require() differs from import`);
  console.log(`${entry}: ${Object.keys(esm).length} exports`);
}

const { FramedParser, StreamParser, xml } = await import("@xmpp-sansio/xml");
const { ClientSession } = await import("@xmpp-sansio/core");
const { parseJid } = await import("@xmpp-sansio/jid");

const bytes = new TextEncoder().encode("<message xmlns='jabber:client' to='romeo@example.net'><body>Wherefore art thou?</body></message>");
const el = new FramedParser().parse(bytes);
if ("condition" in el) throw new Error(`parse failed: ${el.condition}`);
if (el.getChildText("body") !== "Wherefore art thou?") throw new Error("wrong body");
const parser = new StreamParser();
parser.push(new TextEncoder().encode("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"));
if (parser.next()?.kind !== "stream-open") throw new Error("no stream-open event");
if (parseJid("Juliet@Example.COM/balcony").bare.toString() !== "juliet@example.com") throw new Error("jid");
if (xml("presence", {}).name !== "presence") throw new Error("xml()");

const session = new ClientSession({ jid: "juliet@example.com", password: "r0m30myr0m30" });
session.start(0);
const out = session.pollTransmit();
const text = out === undefined ? "" : new TextDecoder().decode(out);
if (!text.includes("<stream:stream") || !text.includes("to='example.com'") && !text.includes('to="example.com"')) throw new Error(`unexpected stream header: ${text}`);
console.log("node smoke ok");
