// SCRAM stored credentials computed with node:crypto (RFC 5802 §3), independent of @xmpp-sansio/sasl.
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import { type ScramStoredCredentials, serviceUnavailable } from "@xmpp-sansio/core";
import type { XmppServerHooks } from "../../src/index.js";

const SALT = Buffer.from("xmpp-sansio-node-test-salt");
const ITERATIONS = 4096;

function hashOf(mechanism: string): "sha1" | "sha256" | "sha512" {
  const m = mechanism.replace(/-PLUS$/, "");
  if (m === "SCRAM-SHA-1") return "sha1";
  if (m === "SCRAM-SHA-256") return "sha256";
  if (m === "SCRAM-SHA-512") return "sha512";
  throw new Error(`unknown mechanism ${mechanism}`);
}

const cache = new Map<string, ScramStoredCredentials>();

export function scramCredentials(mechanism: string, password: string): ScramStoredCredentials {
  const h = hashOf(mechanism);
  const key = `${h}\u0000${password}`;
  let c = cache.get(key);
  if (c === undefined) {
    const len = createHash(h).digest().length;
    const salted = pbkdf2Sync(password, SALT, ITERATIONS, len, h);
    const clientKey = createHmac(h, salted).update("Client Key").digest();
    c = {
      salt: new Uint8Array(SALT),
      iterations: ITERATIONS,
      storedKey: new Uint8Array(createHash(h).update(clientKey).digest()),
      serverKey: new Uint8Array(createHmac(h, salted).update("Server Key").digest()),
    };
    cache.set(key, c);
  }
  return c;
}

export const PASSWORDS: ReadonlyMap<string, string> = new Map([
  ["juliet", "r0m30myr0m30"],
  ["romeo", "j0liet"],
]);

/** Hooks over the in-memory accounts, routing stanzas between online connections of the server. */
export function accountHooks(routeTo: () => { connectionsOf(bare: string): { send(s: import("@xmpp-sansio/xml").XmlElement): void }[] }): XmppServerHooks {
  return {
    scramCredentials(username, mechanism) {
      const password = PASSWORDS.get(username);
      return password === undefined ? null : scramCredentials(mechanism, password);
    },
    verifyPassword(username, password) {
      return PASSWORDS.get(username) === password;
    },
    stanza(conn, stanza) {
      const type = stanza.attr("type");
      if (stanza.name === "iq" && (type === "get" || type === "set")) {
        const reply = serviceUnavailable(stanza);
        if (reply !== undefined) conn.send(reply);
        return;
      }
      const to = stanza.attr("to");
      if (to === undefined || stanza.name !== "message") return;
      for (const c of routeTo().connectionsOf(to)) c.send(stanza);
    },
  };
}
