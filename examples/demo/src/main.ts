/**
 * The README's main job (for now): replays the RFC 6120 §9.1 session through xmpp-sansio's strict
 * streaming parser — each side's bytes fed in small odd-sized chunks, restarts at the exact byte after
 * `<proceed/>` and `<success/>` — and prints what the parser saw as a C:/S: transcript.
 */
import { NS_STREAMS, type ParseEvent, StreamParser, toXmlString, type XmlElement } from "@xmpp-sansio/xml";
import { RFC6120_SESSION } from "./rfc6120-session.js";

const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number, s: string) => (colour ? `\x1b[${code}m${s}\x1b[0m` : s);
const encoder = new TextEncoder();
const streamContext = { defaultNs: "jabber:client", prefixes: new Map([["stream", NS_STREAMS]]) };

function describe(event: ParseEvent): string {
  switch (event.kind) {
    case "stream-open":
      return `stream opened ${headerSummary(event.element)}`;
    case "element":
      return toXmlString(event.element, streamContext);
    case "stream-close":
      return "stream closed";
    case "error":
      return `ERROR <${event.error.condition}/>: ${event.error.text}`;
  }
}

function headerSummary(el: XmlElement): string {
  return el
    .attributes()
    .map((a) => `${a.ns ? "xml:" : ""}${a.name}='${a.value}'`)
    .join(" ");
}

/** Each direction has its own parser, fed in 7-byte chunks to show that chunking does not matter. */
const parsers = { C: new StreamParser(), S: new StreamParser() };
let events = 0;
let failed = false;
for (const step of RFC6120_SESSION) {
  const parser = parsers[step.from];
  const bytes = encoder.encode(step.xml);
  for (let i = 0; i < bytes.length; i += 7) {
    parser.push(bytes.subarray(i, i + 7));
    for (let event = parser.next(); event; event = parser.next()) {
      events++;
      if (event.kind === "error") failed = true;
      const who = step.from === "C" ? paint(36, "C:") : paint(33, "S:");
      console.log(`${who} ${describe(event)}`);
    }
  }
  if (step.restart === "tls") {
    // TLS would start here: the parsers of both sides begin anew on the secured transport.
    console.log(paint(90, "   [TLS negotiation; both sides restart the stream]"));
    parsers.C = new StreamParser();
    parsers.S = new StreamParser();
  } else if (step.restart === "sasl") {
    console.log(paint(90, "   [SASL success; both sides restart the stream at this byte]"));
    parsers.C.reset();
    parsers.S.reset();
  }
}
console.log(paint(failed ? 31 : 32, `${events} events, ${failed ? "with errors" : "no errors"}`));
process.exit(failed ? 1 : 0);
