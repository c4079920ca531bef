// Properties of connectBareClient, with the core's ServerSession (WebSocket framing) behind an in-memory WebSocket:
// 1. whatever IQs reach the page, each get/set the application does not take is answered exactly once with
//    <service-unavailable/> (same id, addressed back), and nothing else is answered — RFC 6120 §8.2.3, §8.4;
// 2. whatever text and binary messages a peer sends, the binding never throws, the session ends closed, `closed` is
//    its last event and `onEnd` runs exactly once.
// Time and randomness are injected (a fixed clock, seeded ids); FUZZ_RUNS/FUZZ_SEED replay a run.
import { parseStanzaError } from "@xmpp-sansio/core";
import { xml } from "@xmpp-sansio/xml";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { pair } from "./support/memory-socket.js";

const iqArb = fc.record({
  type: fc.constantFrom("get", "set", "result", "error"),
  taken: fc.boolean(),
  payload: fc.constantFrom("ping", "query", "none"),
});

describe("connectBareClient properties", () => {
  it("answers exactly the IQ get/set the application does not take, once each, with service-unavailable", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fffffff }), fc.array(iqArb, { maxLength: 12 }), (seed, iqs) => {
        const p = pair(seed);
        p.socket.open();
        p.pump();
        expect(p.client.session.state).toBe("online");
        const expected: string[] = [];
        iqs.forEach((iq, i) => {
          const id = `q${i}`;
          if (iq.taken) p.take.add(id);
          const child = iq.payload === "ping" ? xml("ping", { xmlns: "urn:xmpp:ping" }) : iq.payload === "query" ? xml("query", { xmlns: "jabber:iq:version" }) : undefined;
          const stanza = xml("iq", { type: iq.type, id, from: "romeo@localhost/hall", to: "juliet@localhost/page" });
          if (child !== undefined) stanza.append(child);
          if (iq.type === "error") stanza.append(xml("error", { type: "cancel" }, xml("item-not-found", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" })));
          p.server.send(stanza);
          if ((iq.type === "get" || iq.type === "set") && !iq.taken) expected.push(id);
        });
        p.pump();
        const replies = p.fromPage.filter((s) => s.name === "iq");
        expect(replies.map((r) => r.attr("id"))).toEqual(expected);
        for (const r of replies) {
          expect(r.attr("type")).toBe("error");
          expect(r.attr("to")).toBe("romeo@localhost/hall");
          expect(parseStanzaError(r).condition).toBe("service-unavailable");
        }
        expect(p.client.session.state).toBe("online");
        p.client.close();
        p.pump();
        expect(p.events.at(-1)?.type).toBe("closed");
        expect(p.ends).toBe(1);
      }),
      fuzz(30),
    );
  });

  const OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' version='1.0' from='localhost' id='s1' xml:lang='en'/>";
  const frameArb = fc.oneof(
    fc.constantFrom(
      OPEN,
      "<stream:features xmlns:stream='http://etherx.jabber.org/streams'><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-256</mechanism></mechanisms></stream:features>",
      "<iq type='get' id='x' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>",
      "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>",
      "<message xmlns='jabber:client'><body>hi</body></message>",
      "<a><b></a>",
      "<?xml version='1.0'?><x/>",
      "<!DOCTYPE x><x/>",
      "",
    ),
    fc.string({ maxLength: 40 }),
    fc.uint8Array({ maxLength: 8 }).map((b) => b.buffer as ArrayBuffer),
  );

  it("survives any sequence of peer frames: no exception, the session ends closed, onEnd runs once", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fffffff }), fc.array(frameArb, { maxLength: 8 }), fc.boolean(), (seed, frames, userClose) => {
        const p = pair(seed);
        p.socket.open();
        // The page's <open/> went out first; the peer answers with arbitrary frames instead of the server's.
        expect(p.socket.sent[0]).toMatch(/^<open /);
        for (const f of frames) p.socket.deliver(f);
        if (userClose && p.client.session.state !== "closed") p.client.close();
        p.socket.close(); // the peer goes away
        expect(p.client.session.state).toBe("closed");
        expect(p.events.at(-1)?.type).toBe("closed");
        expect(p.events.filter((e) => e.type === "closed")).toHaveLength(1);
        expect(p.ends).toBe(1);
        expect(p.socket.sent.every((s) => typeof s === "string")).toBe(true);
      }),
      fuzz(100),
    );
  });
});
