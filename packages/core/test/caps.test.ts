// The XML caps as the session applies them: tighter before authentication (DEFAULT_PRE_AUTH_LIMITS),
// the parser's defaults after; either way the stream ends with <policy-violation/> while the element
// that crosses a cap is still arriving.
import { describe, expect, it } from "vitest";
import { type ServerEvent, ServerSession } from "../src/index.js";
import { DEFAULT_PRE_AUTH_LIMITS } from "../src/session-base.js";
import { dec, enc, seededRandom } from "./harness.js";

const HEADER = "<stream:stream to='im.example.com' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

function server(): { s: ServerSession; events: ServerEvent[]; feed(text: string): string } {
  const s = new ServerSession({ random: seededRandom(7), tls: "none", allowPlainInClear: true });
  const events: ServerEvent[] = [];
  let out = "";
  return {
    s,
    events,
    feed(text: string) {
      s.receive(enc(text), 0);
      for (let ev = s.pollEvent(); ev; ev = s.pollEvent()) {
        events.push(ev);
        if (ev.type === "host-check") s.answerHost(true);
      }
      for (let b = s.pollTransmit(); b; b = s.pollTransmit()) out += dec(b);
      return out;
    },
  };
}

describe("element caps", () => {
  it("before authentication: 64 elements per top-level element, refused as the 65th start tag arrives", () => {
    expect(DEFAULT_PRE_AUTH_LIMITS.maxElements).toBe(64);
    const h = server();
    h.feed(HEADER);
    // An <auth/> with 4,000 children, in 1 KiB pieces: the error comes within the piece holding child 64.
    const children = "<a/>".repeat(4000);
    let out = h.feed("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>");
    let sent = 0;
    while (!out.includes("<stream:error>") && sent < children.length) {
      out = h.feed(children.slice(sent, sent + 1024));
      sent += 1024;
    }
    expect(sent).toBe(1024);
    expect(out).toMatch(/<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/);
    expect(h.s.state).toBe("closed");
    expect(h.events.some((e) => e.type === "verify-password")).toBe(false);
  });
});
