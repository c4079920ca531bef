// The server's routing decisions around external components for arbitrary from/to combinations (no
// sockets): a stanza reaches a component only when addressed to that component's domain (after JID
// preparation), a component that is not connected gets the sender a <service-unavailable type='wait'/>,
// other domains <remote-server-not-found/>, errors and results are never answered, nothing throws.
import { type Jid, JidError, parseJid, tryParseJid } from "@xmpp-sansio/jid";
import type { ComponentConnection } from "@xmpp-sansio/node";
import { XmlElement } from "@xmpp-sansio/xml";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { ComponentHub, routeOf } from "../src/components.js";
import { type Endpoint, Router } from "../src/router.js";

const LOCAL = "localhost";
const CONNECTED = "comp.localhost";
const DISCONNECTED = "other.localhost";

const localparts = fc.constantFrom("", "echo", "Echo", "juliet", "x");
const domains = fc.constantFrom(CONNECTED, "COMP.localhost", DISCONNECTED, LOCAL, "LocalHost", "remote.example", "sub.comp.localhost", "comp.localhost.example");
const resources = fc.constantFrom("", "r", "desk");
const address = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(localparts, domains, resources).map(([l, d, r]) => `${l === "" ? "" : `${l}@`}${d}${r === "" ? "" : `/${r}`}`) },
  { weight: 1, arbitrary: fc.constantFrom("a@b@c", "@localhost", "comp.localhost/", "") },
);
const stanza = fc.record({
  name: fc.constantFrom("message", "presence", "iq"),
  type: fc.constantFrom(undefined, "chat", "normal", "headline", "error", "get", "set", "result", "subscribe", "unavailable"),
  to: fc.option(address, { nil: undefined }),
  id: fc.constantFrom(undefined, "s1"),
});

function setup() {
  const delivered: Array<{ domain: string; stanza: XmlElement }> = [];
  const hub = new ComponentHub({ port: 0, domain: LOCAL, secrets: { [CONNECTED]: "a", [DISCONNECTED]: "b" }, route: () => {} });
  const fake = { isOnline: true, send: (s: XmlElement) => delivered.push({ domain: CONNECTED, stanza: s }) } as unknown as ComponentConnection;
  hub.listener.connectionFor = (d: string) => (d === CONNECTED ? fake : undefined);
  const router = new Router({ serves: (d) => d === LOCAL, accountExists: (u) => u === "juliet", routeExternal: hub.routeExternal });
  const toSender: XmlElement[] = [];
  const sender: Endpoint = { jid: parseJid(`juliet@${LOCAL}/desk`), deliver: (s) => toSender.push(s) };
  router.online(sender);
  router.route(sender, new XmlElement("presence", "jabber:client", { from: sender.jid.toString() }));
  toSender.length = 0;
  return { hub, router, sender, delivered, toSender };
}

const errorCondition = (s: XmlElement | undefined) => s?.getChild("error")?.firstElement()?.name;

describe("component routing decisions (property)", () => {
  it("from a local client: to a component's domain → that component (or <service-unavailable type='wait'/>), elsewhere → <remote-server-not-found/>", () => {
    fc.assert(
      fc.property(stanza, (st) => {
        const { router, sender, delivered, toSender } = setup();
        const s = new XmlElement(st.name, "jabber:client", { from: sender.jid.toString(), to: st.to, type: st.type, id: st.id });
        router.route(sender, s);
        const to: Jid | JidError | undefined = st.to === undefined ? undefined : tryParseJid(st.to);
        const answerable = st.type !== "error" && !(st.name === "iq" && st.type === "result");
        for (const d of delivered) expect(parseJid(d.stanza.attr("to")!).domain).toBe(d.domain);
        if (to === undefined || to instanceof JidError || to.domain === LOCAL) {
          expect(delivered).toEqual([]); // local routing: never a component
          return;
        }
        if (to.domain === CONNECTED) {
          expect(delivered.length).toBe(1);
          expect(toSender).toEqual([]);
        } else if (to.domain === DISCONNECTED) {
          expect(delivered).toEqual([]);
          const expectBounce = answerable && st.name !== "presence";
          expect(toSender.length).toBe(expectBounce ? 1 : 0);
          if (expectBounce) {
            expect(errorCondition(toSender[0])).toBe("service-unavailable");
            expect(toSender[0]!.getChild("error")?.attr("type")).toBe("wait");
          }
        } else {
          expect(delivered).toEqual([]);
          expect(toSender.length).toBe(answerable ? 1 : 0);
          if (answerable) expect(errorCondition(toSender[0])).toBe("remote-server-not-found");
        }
      }),
      fuzz(300),
    );
  });

  it("from a component: the route follows the prepared 'to' (component, local, remote), a missing or malformed 'to' is answered unless it is an error or result", () => {
    fc.assert(
      fc.property(stanza, (st) => {
        const s = new XmlElement(st.name, "jabber:client", { from: `bot@${CONNECTED}`, to: st.to, type: st.type });
        const route = routeOf(s, LOCAL, (d) => d === CONNECTED || d === DISCONNECTED);
        const answerable = st.type !== "error" && !(st.name === "iq" && st.type === "result");
        const to = st.to === undefined ? undefined : tryParseJid(st.to);
        if (to === undefined || to instanceof JidError) {
          expect(route.kind).toBe(answerable ? "bounce" : "drop");
          if (route.kind === "bounce") expect(route.error.condition).toBe(to === undefined ? "bad-request" : "jid-malformed");
        } else if (to.domain === CONNECTED || to.domain === DISCONNECTED) expect(route).toEqual({ kind: "component", domain: to.domain });
        else if (to.domain === LOCAL) expect(route.kind).toBe("local");
        else expect(route.kind).toBe("remote");
      }),
      fuzz(300),
    );
  });
});
