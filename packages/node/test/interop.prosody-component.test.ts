// Our XEP-0114 component (XmppComponent: real core + Node adapter) against a real Prosody 0.12 on loopback
// (`Component "comp.localhost"` with `component_secret`, `component_ports`), with our client logged into
// Prosody on the other side.
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterEach, describe, expect, it } from "vitest";
import { StreamErrorException, XmppClient, XmppComponent } from "../src/index.js";
import { prosodyFixture, prosodyMissing, type RunningProsody } from "./support/prosody.js";

if (prosodyMissing !== undefined) console.warn(`interop.prosody-component.test.ts: ${prosodyMissing}`);
const describeProsody = prosodyMissing === undefined ? describe : describe.skip;

const COMP = "comp.localhost";
const SECRET = "c0mp0nent-s3cr3t";

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of stops.splice(0).reverse()) await f().catch(() => {});
});

function component(p: RunningProsody, secret = SECRET): XmppComponent {
  const c = new XmppComponent({ domain: COMP, secret, host: "127.0.0.1", port: p.componentPort, reconnect: false });
  c.on("error", () => {});
  stops.push(() => c.close());
  return c;
}

function client(p: RunningProsody, user: string): XmppClient {
  const c = new XmppClient({ jid: `${user}@${p.domain}/desk`, password: p.accounts[user]!, host: "127.0.0.1", port: p.c2sPort, tls: { ca: p.caCert } });
  stops.push(() => c.close());
  return c;
}

function next(source: { on(ev: "stanza", fn: (s: XmlElement) => void): unknown; off(ev: "stanza", fn: (s: XmlElement) => void): unknown }, test: (s: XmlElement) => boolean, what: string, log: () => string): Promise<XmlElement> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}\n${log().slice(-4000)}`)), 8000);
    const fn = (s: XmlElement) => {
      if (!test(s)) return;
      clearTimeout(timer);
      source.off("stanza", fn);
      resolve(s);
    };
    source.on("stanza", fn);
  });
}

describeProsody("our component against Prosody 0.12", () => {
  const prosody = prosodyFixture({ components: { [COMP]: SECRET } });

  it("the handshake succeeds; messages both ways with a client logged into Prosody; an IQ round trip", async () => {
    const p = prosody.get();
    const bot = component(p);
    expect((await bot.online()).toString()).toBe(COMP);
    const juliet = client(p, "juliet");
    const me = await juliet.online();
    juliet.send(xml("presence"));

    const body = `to the component ${Date.now()}`;
    const atBot = next(bot, (s) => s.name === "message" && s.getChildText("body") === body, "juliet's message at the component", p.debugLog);
    juliet.send(xml("message", { to: `echo@${COMP}`, type: "chat" }, xml("body", {}, body)));
    const m = await atBot;
    expect(m.attr("from")).toBe(me.toString());
    expect(m.ns).toBe("jabber:component:accept");

    const reply = `from the component ${Date.now()}`;
    const atJuliet = next(juliet, (s) => s.name === "message" && s.getChildText("body") === reply, "the component's reply at juliet", p.debugLog);
    bot.send(xml("message", { from: `echo@${COMP}/bot`, to: me.toString(), type: "chat" }, xml("body", {}, reply)));
    expect((await atJuliet).attr("from")).toBe(`echo@${COMP}/bot`);

    // IQ from the component to the client, answered by the client's library (XEP-0199 ping or an error).
    const pong = await bot.iq(xml("iq", { type: "get", from: COMP, to: p.domain }, xml("ping", { xmlns: "urn:xmpp:ping" })), { timeoutMs: 10_000 });
    expect(pong.attr("type")).toBe("result");
  });

  it("a wrong secret is refused with <not-authorized/>", async () => {
    const p = prosody.get();
    const err = await component(p, "not-the-secret")
      .online()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamErrorException);
    expect((err as StreamErrorException).condition).toBe("not-authorized");
  });

  it("a second connection for the domain gets <conflict/> (Prosody's kick_new); a forged 'from' <invalid-from/>", async () => {
    const p = prosody.get();
    const first = component(p);
    await first.online();
    const err = await component(p)
      .online()
      .catch((e: unknown) => e);
    expect((err as StreamErrorException).condition).toBe("conflict");
    expect(first.isOnline).toBe(true);
    const closed = new Promise<{ error?: Error }>((r) => first.once("close", r));
    first.send(xml("message", { from: `juliet@${p.domain}`, to: `romeo@${p.domain}` }, xml("body", {}, "forged")));
    expect(((await closed).error as StreamErrorException).condition).toBe("invalid-from");
  });

  it("what Prosody answers for a component that is not connected (recorded for docs/federation.md)", async () => {
    const p = prosody.get();
    const juliet = client(p, "juliet");
    await juliet.online();
    const bounce = next(juliet, (s) => s.attr("id") === "gone-1", "the bounce", p.debugLog);
    juliet.send(xml("message", { to: `echo@${COMP}`, id: "gone-1", type: "chat" }, xml("body", {}, "anyone?")));
    const error = (await bounce).getChild("error");
    expect(error?.attr("type")).toBe("wait");
    // Prosody 0.12.3: <remote-server-timeout/> plus <not-connected xmlns='xmpp:prosody.im/protocol/component'/>.
    expect(error?.firstElement()?.name).toBe("remote-server-timeout");
  });
});
