// IqHandlers: every IQ get/set gets exactly one answer (result or error, right id, to/from swapped);
// results and errors get none; built-in ping, disco#info and version; handler failures.
import { errorReply, parseStanzaError, stanzaError } from "@xmpp-sansio/core";
import { NS_CLIENT, XmlElement, xml } from "@xmpp-sansio/xml";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { IqHandlerError, IqHandlers, NS_DISCO_INFO, NS_PING, NS_VERSION, StanzaErrorException } from "../src/index.js";

const request = (type: string, payload?: XmlElement | XmlElement[], attrs: Record<string, string> = {}): XmlElement =>
  new XmlElement("iq", NS_CLIENT, { type, id: "q1", from: "romeo@example.net/orchard", to: "juliet@example.com/balcony", ...attrs }, payload === undefined ? [] : Array.isArray(payload) ? payload : [payload]);

async function answer(h: IqHandlers, iq: XmlElement, onError?: (e: IqHandlerError) => void): Promise<XmlElement | undefined> {
  return await h.answer(iq, onError);
}

function condition(reply: XmlElement | undefined): string | undefined {
  if (reply?.attr("type") !== "error") return undefined;
  return parseStanzaError(reply).condition;
}

describe("IqHandlers: built-ins", () => {
  it("XEP-0199 ping is answered with an empty result, id kept, to/from swapped, in the request's namespace", async () => {
    const reply = await answer(new IqHandlers(), request("get", new XmlElement("ping", NS_PING)));
    expect(String(reply)).toBe("<iq xmlns='jabber:client' type='result' id='q1' to='romeo@example.net/orchard' from='juliet@example.com/balcony'/>");
  });

  it("disco#info lists the identity and the features: built-ins, registered handlers' namespaces, added features", async () => {
    const h = new IqHandlers();
    h.on("get", "urn:example:time", "time", () => undefined);
    h.on("set", "urn:example:hidden", "x", () => undefined, { feature: false });
    h.addFeature("http://jabber.org/protocol/chatstates");
    const reply = await answer(h, request("get", new XmlElement("query", NS_DISCO_INFO)));
    const q = reply!.getChild("query", NS_DISCO_INFO)!;
    expect(q.getChildren("identity").map((i) => `${i.attr("category")}/${i.attr("type")}`)).toEqual(["client/bot"]);
    expect(q.getChildren("feature").map((f) => f.attr("var"))).toEqual(["http://jabber.org/protocol/chatstates", NS_DISCO_INFO, "jabber:iq:version", "urn:example:time", NS_PING]);
  });

  it("disco#info with a node we do not have: item-not-found; identities are configurable", async () => {
    const h = new IqHandlers({ disco: { identities: [{ category: "client", type: "pc", name: "Balcony" }], features: ["urn:x"] } });
    expect(condition(await answer(h, request("get", new XmlElement("query", NS_DISCO_INFO, { node: "n" }))))).toBe("item-not-found");
    const q = (await answer(h, request("get", new XmlElement("query", NS_DISCO_INFO))))!.firstElement()!;
    expect(q.getChild("identity")!.attr("name")).toBe("Balcony");
    expect(q.getChildren("feature").map((f) => f.attr("var"))).toContain("urn:x");
  });

  it("XEP-0092 version: default name, configurable, OS only when given; each built-in can be switched off", async () => {
    const v = (await answer(new IqHandlers(), request("get", new XmlElement("query", NS_VERSION))))!.firstElement()!;
    expect(v.getChildText("name")).toBe("xmpp-sansio");
    expect(v.getChild("os")).toBeUndefined();
    const own = (await answer(new IqHandlers({ version: { name: "echo-bot", version: "1.2", os: "Plan 9" } }), request("get", new XmlElement("query", NS_VERSION))))!.firstElement()!;
    expect([own.getChildText("name"), own.getChildText("version"), own.getChildText("os")]).toEqual(["echo-bot", "1.2", "Plan 9"]);
    const off = new IqHandlers({ ping: false, disco: false, version: false });
    for (const p of [new XmlElement("ping", NS_PING), new XmlElement("query", NS_DISCO_INFO), new XmlElement("query", NS_VERSION)]) {
      expect(condition(await answer(off, request("get", p)))).toBe("service-unavailable");
    }
  });
});

describe("IqHandlers: application handlers", () => {
  it("a payload returned is the result's; a get handler does not take a set", async () => {
    const h = new IqHandlers();
    h.on("get", "urn:example:time", "time", (iq, p) => xml("time", { xmlns: p.ns }, `for ${iq.attr("from")}`));
    const reply = await answer(h, request("get", new XmlElement("time", "urn:example:time")));
    expect(reply!.attr("type")).toBe("result");
    expect(reply!.getChildText("time", "urn:example:time")).toBe("for romeo@example.net/orchard");
    expect(condition(await answer(h, request("set", new XmlElement("time", "urn:example:time"))))).toBe("service-unavailable");
    expect(condition(await answer(h, request("get", new XmlElement("time", "urn:other"))))).toBe("service-unavailable");
  });

  it("a StanzaError returned or a StanzaErrorException thrown (sync or async) is the answer, with its text", async () => {
    const h = new IqHandlers();
    h.on("get", "urn:a", "q", () => stanzaError("item-not-found", { text: "no such thing" }));
    h.on("set", "urn:a", "q", () => {
      throw new StanzaErrorException(stanzaError("forbidden", { text: "not you" }));
    });
    h.on("get", "urn:b", "q", async () => {
      throw new StanzaErrorException(stanzaError("not-allowed"));
    });
    const a = await answer(h, request("get", new XmlElement("q", "urn:a")));
    expect(parseStanzaError(a!)).toMatchObject({ condition: "item-not-found", text: "no such thing" });
    expect(parseStanzaError((await answer(h, request("set", new XmlElement("q", "urn:a"))))!)).toMatchObject({ condition: "forbidden", text: "not you" });
    expect(condition(await answer(h, request("get", new XmlElement("q", "urn:b"))))).toBe("not-allowed");
  });

  it("an unexpected exception (sync, async, or a bad return value) is internal-server-error, reported once", async () => {
    const h = new IqHandlers();
    h.on("get", "urn:a", "sync", () => {
      throw new Error("boom");
    });
    h.on("get", "urn:a", "async", () => Promise.reject(new Error("later boom")));
    h.on("get", "urn:a", "bad", () => 42 as never);
    for (const name of ["sync", "async", "bad"]) {
      const errors: IqHandlerError[] = [];
      const reply = await answer(h, request("get", new XmlElement(name, "urn:a")), (e) => errors.push(e));
      expect(condition(reply)).toBe("internal-server-error");
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(IqHandlerError);
      expect(errors[0]!.stanza.attr("id")).toBe("q1");
    }
    // A throwing error listener changes nothing.
    const reply = await answer(h, request("get", new XmlElement("sync", "urn:a")), () => {
      throw new Error("listener");
    });
    expect(condition(reply)).toBe("internal-server-error");
  });

  it("a complete reply returned (errorReply, Roster.handlePush) is sent as is; one with another id is internal-server-error", async () => {
    const h = new IqHandlers();
    h.on("set", "jabber:iq:roster", "query", (iq) => errorReply(iq, stanzaError("not-acceptable")));
    h.on("get", "jabber:iq:roster", "query", (iq) => new XmlElement("iq", iq.ns, { type: "result", id: "other" }));
    expect(condition(await answer(h, request("set", new XmlElement("query", "jabber:iq:roster"))))).toBe("not-acceptable");
    expect(condition(await answer(h, request("get", new XmlElement("query", "jabber:iq:roster"))))).toBe("internal-server-error");
  });

  it("async answers pending at once are bounded: past maxPending, resource-constraint without calling the handler", async () => {
    const h = new IqHandlers({ maxPending: 2 });
    const release: Array<() => void> = [];
    let calls = 0;
    h.on("get", "urn:slow", "q", () => {
      calls++;
      return new Promise<undefined>((r) => release.push(() => r(undefined)));
    });
    const a = h.answer(request("get", new XmlElement("q", "urn:slow")));
    const b = h.answer(request("get", new XmlElement("q", "urn:slow")));
    expect(h.pending).toBe(2);
    const c = h.answer(request("get", new XmlElement("q", "urn:slow")));
    expect(condition(c as XmlElement)).toBe("resource-constraint");
    expect(calls).toBe(2);
    for (const r of release) r();
    expect((await a)!.attr("type")).toBe("result");
    expect((await b)!.attr("type")).toBe("result");
    expect(h.pending).toBe(0);
    h.on("get", "urn:fail", "q", () => Promise.reject(new Error("x")));
    await h.answer(request("get", new XmlElement("q", "urn:fail")));
    expect(h.pending).toBe(0);
  });

  it("a request without exactly one payload is bad-request; results and errors are never answered", async () => {
    const h = new IqHandlers();
    expect(condition(await answer(h, request("get")))).toBe("bad-request");
    expect(condition(await answer(h, request("get", [new XmlElement("ping", NS_PING), new XmlElement("ping", NS_PING)])))).toBe("bad-request");
    expect(h.answer(request("result", new XmlElement("ping", NS_PING)))).toBeUndefined();
    expect(h.answer(request("error"))).toBeUndefined();
    expect(h.answer(request("bogus", new XmlElement("ping", NS_PING)))).toBeUndefined();
  });

  it("unhandled: 'ignore' leaves unhandled requests unanswered; removing a handler restores the default", async () => {
    expect(new IqHandlers({ unhandled: "ignore" }).answer(request("get", new XmlElement("q", "urn:none")))).toBeUndefined();
    const h = new IqHandlers();
    const off = h.on("get", NS_PING, "ping", () => stanzaError("not-allowed"));
    expect(condition(await answer(h, request("get", new XmlElement("ping", NS_PING))))).toBe("not-allowed");
    off();
    expect(condition(await answer(h, request("get", new XmlElement("ping", NS_PING))))).toBe("service-unavailable");
    expect(() => h.on("result" as never, "urn:a", "q", () => undefined)).toThrow(TypeError);
  });
});

describe("IqHandlers: property", () => {
  const behaviours = ["payload", "empty", "error-value", "throw-stanza", "throw", "async-payload", "async-throw", "async-error-value"] as const;
  type Behaviour = (typeof behaviours)[number];
  const handlerFor = (b: Behaviour) => (_iq: XmlElement, p: XmlElement) => {
    switch (b) {
      case "payload":
        return new XmlElement("answer", p.ns);
      case "empty":
        return undefined;
      case "error-value":
        return stanzaError("conflict");
      case "throw-stanza":
        throw new StanzaErrorException(stanzaError("gone"));
      case "throw":
        throw new Error("x");
      case "async-payload":
        return Promise.resolve(new XmlElement("answer", p.ns));
      case "async-throw":
        return Promise.reject(new Error("y"));
      case "async-error-value":
        return Promise.resolve(stanzaError("conflict"));
    }
  };
  const nss = ["urn:a", "urn:b", NS_PING, NS_DISCO_INFO, NS_VERSION];
  const names = ["q", "ping", "query"];

  it("every get/set gets exactly one answer with the right id, type and swapped addresses; results/errors none", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ type: fc.constantFrom("get", "set"), ns: fc.constantFrom(...nss), name: fc.constantFrom(...names), b: fc.constantFrom(...behaviours) }), { maxLength: 6 }),
        fc.record({
          type: fc.constantFrom("get", "set", "result", "error", "other", undefined),
          payloads: fc.array(fc.record({ ns: fc.constantFrom(...nss), name: fc.constantFrom(...names) }), { maxLength: 3 }),
          id: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
          from: fc.option(fc.constantFrom("romeo@example.net/orchard", "example.net"), { nil: undefined }),
          to: fc.option(fc.constantFrom("juliet@example.com/balcony", "juliet@example.com"), { nil: undefined }),
        }),
        async (regs, q) => {
          const h = new IqHandlers();
          for (const r of regs) h.on(r.type, r.ns, r.name, handlerFor(r.b));
          const attrs: Record<string, string | undefined> = { type: q.type, id: q.id, from: q.from, to: q.to };
          const iq = new XmlElement("iq", NS_CLIENT, attrs, q.payloads.map((p) => new XmlElement(p.name, p.ns)));
          let errors = 0;
          const out = h.answer(iq, () => errors++);
          if (q.type !== "get" && q.type !== "set") {
            expect(out).toBeUndefined();
            return;
          }
          expect(out).toBeDefined();
          const reply = await out!;
          expect(reply.name).toBe("iq");
          expect(reply.ns).toBe(NS_CLIENT);
          expect(["result", "error"]).toContain(reply.attr("type"));
          expect(reply.attr("id")).toBe(q.id);
          expect(reply.attr("to")).toBe(q.from);
          expect(reply.attr("from")).toBe(q.to);
          expect(errors).toBeLessThanOrEqual(1);
          if (reply.attr("type") === "error") expect(reply.getChild("error")).toBeDefined();
          if (q.payloads.length !== 1) expect(condition(reply)).toBe("bad-request");
        },
      ),
      fuzz(300),
    );
  });
});
