// The outbound queue of S2SManager and its failure fan-out, as properties: whatever is sent while the
// connection is being set up, each stanza is answered exactly once when it fails — errors and results never
// (RFC 6120 §8.3.1), the first `maxQueued` with <remote-server-not-found/>, the rest at once with
// <resource-constraint/> — addressed back to its sender. No network: the resolver fails on cue.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { XmlElement } from "@xmpp-sansio/xml";
import { fuzz } from "../../../test-support/fuzz.js";
import { S2SManager } from "../src/index.js";

const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

const stanzaArb = fc.record({
  name: fc.constantFrom("message", "presence", "iq"),
  type: fc.constantFrom(undefined, "chat", "error", "result", "get", "set", "subscribe", "unavailable"),
  domain: fc.constantFrom("b.test", "c.test"),
});

describe("S2SManager queue and failure fan-out (fast-check)", () => {
  it("every stanza sent while connecting is answered once, in the right way, when the connection fails", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stanzaArb, { maxLength: 30 }), fc.integer({ min: 0, max: 8 }), async (specs, maxQueued) => {
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        const answers = new Map<string, Array<{ reply: XmlElement | undefined; condition: string }>>();
        const m = new S2SManager({
          serves: (d) => d === "a.test",
          tlsPolicy: "none",
          listen: null,
          maxQueued,
          resolveSrv: async () => {
            await gate;
            throw new Error("ENOTFOUND");
          },
          resolveHost: async (h) => {
            throw new Error(`getaddrinfo ENOTFOUND ${h}`);
          },
          onStanza: () => {
            throw new Error("nothing comes in");
          },
          onBounce: (reply, stanza, condition) => {
            const id = stanza.attr("id")!;
            answers.set(id, [...(answers.get(id) ?? []), { reply, condition }]);
          },
        });
        const perDomain = new Map<string, number>();
        const expected = specs.map((s, i) => {
          const n = perDomain.get(s.domain) ?? 0;
          perDomain.set(s.domain, n + 1);
          return { ...s, id: String(i), overflow: n >= maxQueued };
        });
        for (const s of expected) {
          m.send(new XmlElement(s.name, "jabber:client", { from: "juliet@a.test/balcony", to: `romeo@${s.domain}`, id: s.id, type: s.type }));
        }
        // Overflow is answered at once; the queued ones only when the connection attempt fails.
        for (const s of expected) expect(answers.has(s.id)).toBe(s.overflow);
        release();
        const linksLeft = () => m.outbound("a.test", "b.test") !== undefined || m.outbound("a.test", "c.test") !== undefined;
        for (let i = 0; i < 100 && (answers.size < expected.length || linksLeft()); i++) await new Promise((r) => setImmediate(r));
        for (const s of expected) {
          const got = answers.get(s.id);
          expect(got?.length).toBe(1);
          const { reply, condition } = got![0]!;
          expect(condition).toBe(s.overflow ? "resource-constraint" : "remote-server-not-found");
          const silent = s.type === "error" || (s.name === "iq" && s.type === "result");
          if (silent) expect(reply).toBeUndefined();
          else {
            expect(reply!.name).toBe(s.name);
            expect(reply!.attr("type")).toBe("error");
            expect(reply!.attr("to")).toBe("juliet@a.test/balcony");
            expect(reply!.attr("from")).toBe(`romeo@${s.domain}`);
            expect(reply!.attr("id")).toBe(s.id);
            expect(reply!.getChild("error", "jabber:client")?.getChild(condition, NS_STANZAS)).toBeDefined();
          }
        }
        expect(linksLeft()).toBe(false); // failed links are forgotten
        await m.close(0);
      }),
      fuzz(40),
    );
  });
});
