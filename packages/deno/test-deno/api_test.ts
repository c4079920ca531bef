// The Deno client has the same surface as the other transports' clients (see packages/websocket/test/api-parity.test.ts).
import * as deno from "@xmpp-sansio/deno";
import * as ws from "@xmpp-sansio/websocket";

const CLIENT_MEMBERS = ["online", "send", "iq", "stanzas", "close", "on", "once", "off", "emit", "listenerCount", "jid", "isOnline"];

Deno.test("Deno XmppClient: same members, same error classes, same behaviour before connecting", () => {
  const names = new Set<string>();
  for (let p = deno.XmppClient.prototype as object | null; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p)) names.add(k);
  }
  for (const m of CLIENT_MEMBERS) if (!names.has(m)) throw new Error(`missing ${m}`);
  for (const k of ["AuthError", "BindError", "ConnectionError", "IqTimeoutError", "StanzaErrorException", "StreamErrorException"] as const) {
    if (deno[k] !== ws[k]) throw new Error(`${k} is not the shared class`);
  }
  const c = new deno.XmppClient({ jid: "juliet@example.com/balcony", password: "x" });
  if (c.address.toString() !== "juliet@example.com/balcony" || c.isOnline || c.jid !== undefined) throw new Error("state");
  let threw: unknown;
  try {
    c.send(undefined as never);
  } catch (e) {
    threw = e;
  }
  if (!(threw instanceof deno.ConnectionError) || threw.code !== "closed") throw new Error(`send before online: ${String(threw)}`);
});
