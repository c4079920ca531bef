// Our WebSocket client (core + this adapter, `ws` as the WebSocket on Node 20) against Prosody 0.12's mod_websocket.
import { xml } from "@xmpp-sansio/xml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { AuthError, type WebSocketConstructor, XmppClient } from "../src/index.js";
import { prosodyMissing, type RunningProsody, startProsody } from "../../node/test/support/prosody.js";

if (prosodyMissing !== undefined) console.warn(prosodyMissing);
const WS = WebSocket as unknown as WebSocketConstructor;

describe.skipIf(prosodyMissing !== undefined)("WebSocket client against Prosody 0.12 mod_websocket (ws://127.0.0.1)", () => {
  let p: RunningProsody;
  beforeAll(async () => {
    p = await startProsody({ passwordHash: "SHA-256", websocket: true });
  }, 60_000);
  afterAll(async () => {
    await p?.stop();
  }, 30_000);

  it("SCRAM-SHA-256 login, message to a second account, ping, clean close", async () => {
    const juliet = new XmppClient({ jid: "juliet@localhost/ws", password: p.accounts.juliet!, service: p.webSocketUrl, WebSocket: WS });
    const romeo = new XmppClient({ jid: "romeo@localhost", password: p.accounts.romeo!, service: p.webSocketUrl, WebSocket: WS });
    try {
      const [jj, rj] = await Promise.all([juliet.online(), romeo.online()]);
      expect(jj.toString()).toBe("juliet@localhost/ws");
      expect(rj.bare.toString()).toBe("romeo@localhost");
      const body = `Wherefore art thou ${Date.now()} ☃`;
      const got = new Promise<string | undefined>((resolve) => romeo.once("message", (m) => resolve(m.getChildText("body"))));
      juliet.send(xml("message", { to: rj.toString(), type: "chat" }, xml("body", {}, body)));
      expect(await got).toBe(body);
      const pong = await juliet.iq(xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: "urn:xmpp:ping" })));
      expect(pong.attr("type")).toBe("result");
      expect(p.debugLog()).toMatch(/SCRAM-SHA-256/);
    } finally {
      await Promise.all([juliet.close(), romeo.close()]);
    }
  });

  it("a wrong password is an AuthError", async () => {
    const c = new XmppClient({ jid: "juliet@localhost", password: "nope", service: p.webSocketUrl, WebSocket: WS });
    const err = await c.online().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).condition).toBe("not-authorized");
  });
});
