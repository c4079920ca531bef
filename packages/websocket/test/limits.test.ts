// The WebSocket server's load limits over loopback: a client that stops reading is closed with
// <resource-constraint/> while the bytes held for it stay under the cap, and its flooder gets errors.
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type WebSocketConstructor, XmppClient } from "../src/index.js";
import type { ServerConnection } from "../src/server.js";
import { ACCOUNTS, DOMAIN, startDemoServer } from "./support/demo-server.js";

const created: WebSocket[] = [];
/** `ws` that remembers its instances, so a test can stop one from reading. */
class CapturingWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    created.push(this);
  }
}
const WS = CapturingWebSocket as unknown as WebSocketConstructor;

describe("XmppWebSocketServer load limits", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    created.length = 0;
  });

  it("a client that stops reading: bytes held stay under the cap, the flooder gets errors, the session is closed", async () => {
    const maxBytes = 64 * 1024;
    const demo = await startDemoServer({ limits: { outbound: { maxBytes, closeGraceMs: 50 }, rate: { preAuth: null, authenticated: null } } });
    closers.push(() => demo.close());
    const limits: string[] = [];
    demo.server.on("limit", (_c, condition) => limits.push(condition));
    const romeo = new XmppClient({ jid: `romeo@${DOMAIN}/slow`, password: ACCOUNTS.romeo!, service: demo.url, WebSocket: WS });
    closers.push(() => romeo.close());
    const rj = await romeo.online();
    const romeoSocket = created[0]!;
    const slow: ServerConnection = demo.server.connectionFor(rj)!;
    const juliet = new XmppClient({ jid: `juliet@${DOMAIN}/flood`, password: ACCOUNTS.juliet!, service: demo.url, WebSocket: WS });
    closers.push(() => juliet.close());
    await juliet.online();
    romeoSocket.pause(); // never reads again

    let maxHeld = 0;
    const errors: XmlElement[] = [];
    juliet.on("message", (m: XmlElement) => {
      if (m.attr("type") === "error") errors.push(m);
    });
    const body = "x".repeat(2000);
    let sent = 0;
    while (errors.length === 0 && sent < 32_000) {
      for (let i = 0; i < 50; i++) juliet.send(xml("message", { to: rj.toString(), type: "chat", id: `m${sent++}` }, xml("body", {}, body)));
      await new Promise((r) => setImmediate(r));
      maxHeld = Math.max(maxHeld, slow.heldBytes);
    }
    expect(errors.length).toBeGreaterThan(0);
    await slow.closedPromise;
    expect(limits).toContain("resource-constraint");
    expect(maxHeld).toBeLessThanOrEqual(maxBytes + 4096);
    expect(errors[0]!.getChild("error")?.getChild("service-unavailable", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeDefined();
  }, 30_000);
});
