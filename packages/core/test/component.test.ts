import { xml } from "@xmpp-sansio/xml";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { type ClientEvent, ComponentServerSession, ComponentSession, componentHandshake, type ServerEvent } from "../src/index.js";
import { dec, enc, seededRandom } from "./harness.js";

const DOMAIN = "plays.shakespeare.example";

function feed(to: { receive(b: Uint8Array, now: number): void; readonly state: string }, bytes: Uint8Array, sizes?: readonly number[]) {
  if (sizes === undefined) return to.receive(bytes, 0);
  for (let off = 0, k = 0; off < bytes.length && to.state !== "closed"; ) {
    const n = sizes[k++ % sizes.length]!;
    to.receive(bytes.subarray(off, off + n), 0);
    off += n;
  }
}

function pair(secretOnServer: string | null, secretOfComponent = "s3cr3t", sizes?: readonly number[], mutate?: (b: Uint8Array) => Uint8Array, conflict = false) {
  const component = new ComponentSession({ domain: DOMAIN, secret: secretOfComponent, random: seededRandom(5) });
  const server = new ComponentServerSession({ random: seededRandom(6) });
  const serverEvents: ServerEvent[] = [];
  const componentEvents: ClientEvent[] = [];
  const run = () => {
    for (let i = 0; i < 1000; i++) {
      let moved = false;
      for (let out = component.pollTransmit(); out; out = component.pollTransmit()) {
        if (server.state !== "closed") feed(server, mutate === undefined ? out : mutate(out), sizes);
        moved = true;
      }
      for (let out = server.pollTransmit(); out; out = server.pollTransmit()) {
        if (component.state !== "closed") feed(component, out, sizes);
        moved = true;
      }
      for (let ev = server.pollEvent(); ev; ev = server.pollEvent()) {
        serverEvents.push(ev);
        moved = true;
        if (ev.type === "host-check") server.answerHost(ev.domain === DOMAIN);
        if (ev.type === "component-secret") server.answerComponentSecret(secretOnServer, { conflict });
      }
      for (let ev = component.pollEvent(); ev; ev = component.pollEvent()) {
        componentEvents.push(ev);
        moved = true;
      }
      if (!moved) return;
    }
  };
  return { component, server, serverEvents, componentEvents, run };
}

describe("XEP-0114 components", () => {
  it("the handshake succeeds with the shared secret; stanzas flow both ways", () => {
    const p = pair("s3cr3t");
    p.component.start(0);
    const head = dec(p.component.pollTransmit()!);
    expect(head).toContain("xmlns='jabber:component:accept'");
    expect(head).toContain(`to='${DOMAIN}'`);
    expect(head.replace("<?xml version='1.0'?>", "")).not.toContain("version=");
    p.server.receive(enc(head), 0);
    p.run();
    expect(p.component.state).toBe("online");
    expect(p.server.state).toBe("online");
    expect(p.serverEvents).toContainEqual({ type: "component-secret", domain: DOMAIN });
    p.component.send(xml("message", { from: `bot@${DOMAIN}`, to: "juliet@capulet.example" }, xml("body", {}, "hi")));
    p.server.send(xml("message", { from: "juliet@capulet.example", to: `bot@${DOMAIN}` }, xml("body", {}, "hello")));
    p.run();
    const got = p.serverEvents.filter((e) => e.type === "stanza");
    expect(got).toHaveLength(1);
    const toComponent = p.componentEvents.flatMap((e) => (e.type === "stanza" ? [e.stanza] : []));
    expect(toComponent.map((s) => s.getChildText("body"))).toEqual(["hello"]);
    expect(toComponent[0]!.ns).toBe("jabber:component:accept");
  });

  it("sendIq on a component stream: the answer (in jabber:component:accept) is an iq-response", () => {
    const p = pair("s3cr3t");
    p.component.start(0);
    p.run();
    const id = p.component.sendIq(xml("iq", { type: "get", from: DOMAIN, to: "capulet.example" }, xml("ping", { xmlns: "urn:xmpp:ping" })), 0);
    p.run();
    p.server.send(xml("iq", { type: "result", id, from: "capulet.example", to: DOMAIN }));
    p.run();
    expect(p.componentEvents).toContainEqual(expect.objectContaining({ type: "iq-response", id }));
    expect(p.componentEvents.some((e) => e.type === "stanza")).toBe(false);
  });

  it("computes the handshake over the server's stream id", () => {
    const p = pair("s3cr3t");
    p.component.start(0);
    p.server.receive(p.component.pollTransmit()!, 0);
    p.server.pollEvent();
    p.server.pollEvent();
    p.server.answerHost(true);
    const header = dec(p.server.pollTransmit()!);
    expect(header).not.toContain("<stream:features");
    const id = /id='([^']+)'/.exec(header)![1]!;
    p.component.receive(enc(header), 0);
    expect(dec(p.component.pollTransmit()!)).toBe(`<handshake>${componentHandshake(id, "s3cr3t")}</handshake>`);
  });

  it("a wrong secret ends with <not-authorized/>", () => {
    const p = pair("another");
    p.component.start(0);
    p.run();
    expect(p.server.state).toBe("closed");
    expect(p.component.state).toBe("closed");
    expect(p.serverEvents).toContainEqual(expect.objectContaining({ type: "stream-error", condition: "not-authorized", byPeer: false }));
  });

  it("a valid handshake for a domain already connected ends with <conflict/>; an invalid one still with <not-authorized/>", () => {
    const p = pair("s3cr3t", "s3cr3t", undefined, undefined, true);
    p.component.start(0);
    p.run();
    expect(p.component.state).toBe("closed");
    expect(p.serverEvents).toContainEqual(expect.objectContaining({ type: "stream-error", condition: "conflict", byPeer: false }));
    expect(p.componentEvents).toContainEqual(expect.objectContaining({ type: "stream-error", condition: "conflict", byPeer: true }));
    expect(p.componentEvents.some((e) => e.type === "online")).toBe(false);
    const q = pair("s3cr3t", "wrong", undefined, undefined, true);
    q.component.start(0);
    q.run();
    expect(q.serverEvents).toContainEqual(expect.objectContaining({ type: "stream-error", condition: "not-authorized" }));
    expect(q.serverEvents.some((e) => e.type === "stream-error" && e.condition === "conflict")).toBe(false);
  });

  it("an unknown component (no secret) ends with <not-authorized/>; an unknown domain with <host-unknown/>", () => {
    const p = pair(null);
    p.component.start(0);
    p.run();
    expect(p.serverEvents).toContainEqual(expect.objectContaining({ type: "stream-error", condition: "not-authorized" }));
    const server = new ComponentServerSession({ random: seededRandom(1) });
    server.receive(enc(`<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='other.example'>`), 0);
    for (let ev = server.pollEvent(); ev; ev = server.pollEvent()) if (ev.type === "host-check") server.answerHost(false);
    expect(dec(server.pollTransmit()!)).toContain("<host-unknown");
  });

  it("a stanza with a 'from' of another domain is refused with <invalid-from/>", () => {
    const p = pair("s3cr3t");
    p.component.start(0);
    p.run();
    expect(p.server.state).toBe("online");
    p.component.send(xml("message", { from: "romeo@montague.example", to: "juliet@capulet.example" }));
    p.run();
    expect(p.serverEvents).toContainEqual(expect.objectContaining({ type: "stream-error", condition: "invalid-from", byPeer: false }));
    expect(p.server.state).toBe("closed");
  });

  it("stanzas before the handshake are refused", () => {
    const server = new ComponentServerSession({ random: seededRandom(1) });
    server.receive(enc(`<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${DOMAIN}'>`), 0);
    for (let ev = server.pollEvent(); ev; ev = server.pollEvent()) if (ev.type === "host-check") server.answerHost(true);
    server.pollTransmit();
    server.receive(enc(`<message from='x@${DOMAIN}' to='y@example.com'/>`), 0);
    expect(dec(server.pollTransmit()!)).toContain("<not-authorized");
  });
});

describe("XEP-0114 under chunking and mutation", () => {
  it("any chunking reaches online; a mutated byte from the component ends online or in a defined error", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }), fc.option(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }))), (sizes, hit) => {
        let first = true;
        const mutate =
          hit === null
            ? undefined
            : (b: Uint8Array) => {
                if (!first) return b;
                first = false;
                const c = b.slice();
                c[hit[0] % c.length] = hit[1];
                return c;
              };
        const p = pair("s3cr3t", "s3cr3t", sizes, mutate);
        p.component.start(0);
        p.run();
        for (const s of [p.component, p.server]) {
          if (s.state !== "online" && s.state !== "closed") {
            const t = s.nextTimeout();
            expect(t).toBeDefined();
            s.handleTimeout(t!);
          }
        }
        p.run();
        if (hit === null) expect(p.server.state).toBe("online");
        expect(["online", "closed"]).toContain(p.server.state);
      }),
      fuzz(200),
    );
  });
});
