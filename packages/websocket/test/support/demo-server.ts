// Test support: our WebSocket XMPP server with SCRAM accounts and a tiny RFC 6120 §10 router, on loopback.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import type * as http from "node:http";
import type { ScramStoredCredentials } from "@xmpp-sansio/core";
import { parseJid } from "@xmpp-sansio/jid";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { type ServerConnection, XmppWebSocketServer, type XmppWebSocketServerOptions } from "../../src/server.js";

export const DOMAIN = "localhost";
export const ACCOUNTS: Record<string, string> = { juliet: "r0m30myr0m30", romeo: "j0liet", bench: "bench-password" };

const HASHES: Record<string, string> = { "SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512" };

/** RFC 5802 stored credentials, computed with node:crypto (independent of our sasl package). */
export function scramCredentials(password: string, mechanism: string, iterations = 4096): ScramStoredCredentials | null {
  const hash = HASHES[mechanism.replace(/-PLUS$/, "")];
  if (hash === undefined) return null;
  const salt = randomBytes(16);
  const len = createHash(hash).digest().length;
  const salted = pbkdf2Sync(password, salt, iterations, len, hash);
  const clientKey = createHmac(hash, salted).update("Client Key").digest();
  return {
    salt,
    iterations,
    storedKey: createHash(hash).update(clientKey).digest(),
    serverKey: createHmac(hash, salted).update("Server Key").digest(),
  };
}

/** Routes stanzas between online connections (full JID, or every resource of a bare JID). */
export function route(server: XmppWebSocketServer, from: ServerConnection, stanza: XmlElement): void {
  const to = stanza.attr("to");
  if (stanza.name === "iq" && (to === undefined || to === DOMAIN)) {
    const type = stanza.attr("type");
    if (type === "get" || type === "set") {
      const ping = stanza.getChild("ping", "urn:xmpp:ping");
      if (ping !== undefined) from.send(xml("iq", { type: "result", id: stanza.attr("id"), to: from.jid?.toString(), from: DOMAIN }));
      else from.send(xml("iq", { type: "error", id: stanza.attr("id"), to: from.jid?.toString(), from: DOMAIN }, xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" }))));
    }
    return;
  }
  if (to === undefined) return;
  const jid = parseJid(to);
  const targets = jid.resource === "" ? server.connectionsOf(jid) : [server.connectionFor(jid)].filter((c) => c !== undefined);
  for (const t of targets) if (t.isOnline) t.send(stanza);
}

/** Starts our WebSocket server, on its own loopback http server or on `httpServer`. */
export async function startDemoServer(
  options: {
    httpServer?: http.Server;
    session?: XmppWebSocketServerOptions["session"];
    limits?: XmppWebSocketServerOptions["limits"];
    createSession?: XmppWebSocketServerOptions["createSession"];
  } = {},
): Promise<{
  server: XmppWebSocketServer;
  port: number;
  url: string;
  close(): Promise<void>;
}> {
  // One derivation per account and mechanism: PBKDF2 at 4096 iterations is not free.
  const cache = new Map<string, ScramStoredCredentials | null>();
  const server: XmppWebSocketServer = new XmppWebSocketServer({
    domains: DOMAIN,
    host: "127.0.0.1",
    port: 0,
    ...(options.httpServer === undefined ? {} : { server: options.httpServer }),
    ...(options.session === undefined ? {} : { session: options.session }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
    ...(options.createSession === undefined ? {} : { createSession: options.createSession }),
    shutdownTimeoutMs: 2_000,
    hooks: {
      scramCredentials(username, mechanism) {
        const pw = ACCOUNTS[username];
        if (pw === undefined) return null;
        const key = `${username}\0${mechanism}`;
        if (!cache.has(key)) cache.set(key, scramCredentials(pw, mechanism));
        return cache.get(key)!;
      },
      verifyPassword: (username, password) => ACCOUNTS[username] === password,
      stanza: (conn, stanza) => route(server, conn, stanza),
    },
  });
  const { port } = await server.listen();
  return { server, port, url: `ws://127.0.0.1:${port}/xmpp-websocket`, close: () => server.close() };
}
