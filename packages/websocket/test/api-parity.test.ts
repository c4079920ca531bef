// Code moves between transports unchanged: node's and websocket's XmppClient expose the same surface, and the
// error classes have the same names and fields. (The Deno client is checked by packages/deno/test-deno/api_test.ts:
// it cannot be imported here, as Node does not resolve its @xmpp-sansio/websocket import without the workspace link.)
import { describe, expect, it } from "vitest";
import * as node from "@xmpp-sansio/node";
import * as ws from "../src/index.js";

const CLIENT_MEMBERS = ["online", "send", "iq", "stanzas", "close", "on", "once", "off", "emit", "listenerCount", "jid", "isOnline"];

function members(cls: abstract new (...args: never[]) => unknown): Set<string> {
  const out = new Set<string>();
  for (let p = cls.prototype as object | null; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) out.add(k);
  }
  return out;
}

describe("one client API on every transport", () => {
  it("XmppClient of node and websocket have the same public members", () => {
    for (const cls of [node.XmppClient, ws.XmppClient]) {
      const m = members(cls);
      for (const name of CLIENT_MEMBERS) expect(m.has(name), `${cls.name}.${name}`).toBe(true);
    }
  });

  it("the clients are constructed the same way apart from the transport options", () => {
    const options = { jid: "juliet@example.com/balcony", password: "x" };
    for (const c of [new node.XmppClient(options), new ws.XmppClient(options)]) {
      expect(c.address.toString()).toBe("juliet@example.com/balcony");
      expect(c.isOnline).toBe(false);
      expect(c.jid).toBeUndefined();
      expect(() => c.send(ws.XmppClient.prototype as never)).toThrow(/not connected/);
    }
  });

  it("errors have the same names, codes and fields", () => {
    const pairs = [
      [new node.ConnectionError("timeout", "m", { endpoint: "e" }), new ws.ConnectionError("timeout", "m", { endpoint: "e" })],
      [new node.AuthError("not-authorized", "t"), new ws.AuthError("not-authorized", "t")],
      [new node.BindError("conflict", "t"), new ws.BindError("conflict", "t")],
      [new node.IqTimeoutError("id1", 5), new ws.IqTimeoutError("id1", 5)],
    ] as const;
    for (const [a, b] of pairs) {
      expect(b.name).toBe(a.name);
      expect(b.message).toBe(a.message);
      expect({ ...b }).toEqual({ ...a });
    }
    // StreamErrorException comes from the core: one class everywhere.
    expect(ws.StreamErrorException).toBe(node.StreamErrorException);
  });
});
