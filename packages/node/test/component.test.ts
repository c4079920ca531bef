// XEP-0114 through the Node adapter, both roles on loopback: XmppComponent ↔ XmppComponentServer.
import * as net from "node:net";
import { componentHandshake } from "@xmpp-sansio/core";
import { xml, type XmlElement } from "@xmpp-sansio/xml";
import { afterEach, describe, expect, it } from "vitest";
import { type ComponentConnection, StreamErrorException, XmppComponent, XmppComponentServer } from "../src/index.js";

const DOMAIN = "bot.localhost";
const SECRET = "s3cr3t-c0mp0nent";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function listener(port = 0, onStanza?: (c: ComponentConnection, s: XmlElement) => void) {
  const server = new XmppComponentServer({
    port,
    shutdownTimeoutMs: 500,
    hooks: { secret: async (d) => (d === DOMAIN ? SECRET : undefined), ...(onStanza === undefined ? {} : { stanza: onStanza }) },
  });
  const bound = (await server.listen()).port;
  cleanup.push(() => server.close());
  return { server, port: bound };
}

function component(port: number, secret = SECRET, extra: Partial<ConstructorParameters<typeof XmppComponent>[0]> = {}) {
  const c = new XmppComponent({ domain: DOMAIN, secret, host: "127.0.0.1", port, ...extra });
  cleanup.push(() => c.close());
  return c;
}

describe("XEP-0114 over Node (XmppComponent ↔ XmppComponentServer)", () => {
  it("handshake, stanzas both ways; the server's hook gets jabber:client, the component jabber:component:accept", async () => {
    const got: XmlElement[] = [];
    const { server, port } = await listener(0, (_c, s) => got.push(s));
    const bot = component(port);
    const jid = await bot.online();
    expect(jid.toString()).toBe(DOMAIN);
    expect(server.connectionFor(DOMAIN)?.isOnline).toBe(true);
    bot.send(xml("message", { from: `echo@${DOMAIN}`, to: "juliet@localhost" }, xml("body", {}, "from the component")));
    const incoming = new Promise<XmlElement>((r) => bot.once("message", r));
    server.connectionFor(DOMAIN)!.send(xml("message", { xmlns: "jabber:client", from: "juliet@localhost/x", to: `echo@${DOMAIN}` }, xml("body", {}, "to the component")));
    const m = await incoming;
    expect(m.getChildText("body")).toBe("to the component");
    expect(m.ns).toBe("jabber:component:accept");
    await expect.poll(() => got.length).toBe(1);
    expect(got[0]!.ns).toBe("jabber:client");
    expect(got[0]!.getChild("body", "jabber:client")?.text()).toBe("from the component");
  });

  it("a wrong secret is refused with <not-authorized/>; an unknown domain with <host-unknown/>", async () => {
    const { server, port } = await listener();
    const failures: string[] = [];
    server.on("authFailed", (_c, _d, condition) => failures.push(condition));
    const wrong = component(port, "not-the-secret");
    const err = await wrong.online().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamErrorException);
    expect((err as StreamErrorException).condition).toBe("not-authorized");
    const stranger = new XmppComponent({ domain: "other.localhost", secret: SECRET, host: "127.0.0.1", port });
    cleanup.push(() => stranger.close());
    const err2 = await stranger.online().catch((e: unknown) => e);
    expect((err2 as StreamErrorException).condition).toBe("host-unknown");
    expect(failures).toEqual(["not-authorized", "host-unknown"]);
    expect(server.domains).toEqual([]);
  });

  it("a second connection for a connected domain is refused with <conflict/>; the first stays", async () => {
    const { server, port } = await listener();
    const first = component(port);
    await first.online();
    const second = component(port);
    const err = await second.online().catch((e: unknown) => e);
    expect((err as StreamErrorException).condition).toBe("conflict");
    expect(first.isOnline).toBe(true);
    expect(server.connectionFor(DOMAIN)).toBeDefined();
  });

  it("reconnects with backoff after the server restarts; what was sent meanwhile is delivered", async () => {
    const got: string[] = [];
    const first = new XmppComponentServer({ port: 0, shutdownTimeoutMs: 500, hooks: { secret: () => SECRET } });
    const port = (await first.listen()).port;
    const bot = component(port, SECRET, { reconnect: { initialDelayMs: 50, maxDelayMs: 100 } });
    bot.on("error", () => {});
    await bot.online();
    const dropped = new Promise<{ willReconnect: boolean }>((r) => bot.once("close", r));
    await first.close(); // <system-shutdown/>
    expect((await dropped).willReconnect).toBe(true);
    bot.send(xml("message", { from: DOMAIN, to: "juliet@localhost" }, xml("body", {}, "queued")));
    expect(bot.queued).toBe(1);
    const back = new Promise((r) => bot.once("online", r));
    await listener(port, (_c, s) => got.push(s.getChildText("body") ?? ""));
    await back;
    await expect.poll(() => got).toEqual(["queued"]);
  });

  it("a component that stops reading is closed with <resource-constraint/> once maxHeldBytes are held", async () => {
    const server = new XmppComponentServer({ port: 0, shutdownTimeoutMs: 500, maxHeldBytes: 64 * 1024, hooks: { secret: () => SECRET } });
    const port = (await server.listen()).port;
    cleanup.push(() => server.close());
    const raw = net.connect({ host: "127.0.0.1", port });
    cleanup.push(async () => void raw.destroy());
    raw.write(`<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${DOMAIN}'>`);
    let text = "";
    const id = await new Promise<string>((resolve) =>
      raw.on("data", (b) => {
        text += b.toString();
        const m = / id='([^']+)'/.exec(text);
        if (m) resolve(m[1]!);
      }),
    );
    raw.write(`<handshake>${componentHandshake(id, SECRET)}</handshake>`);
    await expect.poll(() => server.connectionFor(DOMAIN)?.isOnline).toBe(true);
    raw.removeAllListeners("data");
    raw.pause(); // reads no more
    const conn = server.connectionFor(DOMAIN)!;
    const big = "x".repeat(16 * 1024);
    let sent = 0;
    while (conn.isOnline && sent < 20_000) {
      conn.send(xml("message", { from: "juliet@localhost", to: `bot@${DOMAIN}` }, xml("body", {}, big)));
      sent++;
      if (sent % 50 === 0) await new Promise((r) => setImmediate(r)); // let the kernel take what it takes
    }
    expect(conn.isOnline).toBe(false);
    expect(sent).toBeLessThan(20_000);
    expect(conn.heldBytes).toBeLessThan(64 * 1024 + 2 * big.length + 4096);
    expect(server.connectionFor(DOMAIN)).toBeUndefined(); // free at once for a new connection
    raw.destroy();
    await conn.closedPromise;
  });

  it("close() while connecting rejects online(); after close() send() throws", async () => {
    const { port } = await listener();
    const early = component(port);
    const pending = early.online().catch((e: unknown) => e);
    await early.close();
    expect(String(await pending)).toMatch(/closed/);
    const bot = component(port);
    await bot.online();
    await bot.close();
    expect(() => bot.send(xml("message", { from: DOMAIN, to: "a@localhost" }))).toThrow(/not connected/);
  });
});
