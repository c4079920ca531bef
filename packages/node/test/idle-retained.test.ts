// What an idle connection keeps after traffic: a burst of large stanzas through a session over TLS
// (STARTTLS and Direct TLS) and over plain TCP, then the server's idle sweep — and the connection's own
// objects (driver, pump, session, parser, serializer, outbound queue; not the sockets nor what the server
// shares) must hold no more strings and buffers than a few KiB, not the burst's bytes.
import * as net from "node:net";
import { describe, expect, it } from "vitest";
import { type ServerConnection, XmppClient, XmppServer } from "../src/index.js";
import { xml } from "@xmpp-sansio/xml";
import { hasOpenssl } from "./support/certs.js";
import { loopbackFixture } from "./support/loopback.js";

const describeTls = hasOpenssl() ? describe : describe.skip;
const BODY = 8 * 1024;

/**
 * Bytes of strings and binary buffers reachable from `root` through own properties, arrays, maps and sets,
 * without entering sockets, functions or the objects in `skip`; `seen` gets every object visited.
 */
function retainedBytes(root: object, skip: Set<unknown>, seen = new Set<unknown>()): { bytes: number; largest: number; where: string } {
  for (const o of skip) seen.add(o);
  let bytes = 0;
  let largest = 0;
  let where = "";
  const visit = (v: unknown, path: string): void => {
    if (typeof v === "string") {
      bytes += v.length;
      if (v.length > largest) [largest, where] = [v.length, path];
      return;
    }
    if (v === null || typeof v !== "object" || seen.has(v)) return;
    seen.add(v);
    if (v instanceof net.Socket) return;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
      // A view counts its whole backing buffer: a small slice can pin a large one.
      const buffer = ArrayBuffer.isView(v) ? v.buffer : v;
      if (seen.has(buffer) && ArrayBuffer.isView(v)) return;
      seen.add(buffer);
      bytes += buffer.byteLength;
      if (buffer.byteLength > largest) [largest, where] = [buffer.byteLength, path];
      return;
    }
    if (v instanceof Map) {
      for (const [k, x] of v) {
        visit(k, `${path}<key>`);
        visit(x, `${path}.get(…)`);
      }
    } else if (v instanceof Set || Array.isArray(v)) {
      let i = 0;
      for (const x of v) visit(x, `${path}[${i++}]`);
    }
    for (const key of Reflect.ownKeys(v)) {
      const d = Object.getOwnPropertyDescriptor(v, key);
      if (d !== undefined && "value" in d) visit(d.value, `${path}.${String(key)}`);
    }
  };
  visit(root, "conn");
  return { bytes, largest, where };
}

describeTls("XmppServer: what an idle connection keeps after a burst", () => {
  const fx = loopbackFixture();
  const { servers, clients } = fx;

  for (const mode of ["starttls", "direct", "tcp"] as const) {
    it(`${mode}: after 2 × 8 KiB messages and the idle sweep, the connection holds < 4 KiB of strings and buffers`, async () => {
      let server!: XmppServer;
      server = new XmppServer({
        domains: "localhost",
        tls: { key: fx.cert.key, cert: fx.cert.cert },
        host: "127.0.0.1",
        ...(mode === "direct" ? { port: null, directTlsPort: 0 } : { port: 0 }),
        starttls: mode === "tcp" ? "none" : "required",
        session: { mechanisms: ["PLAIN"], allowPlainInClear: true },
        limits: { rate: { preAuth: null, authenticated: null } },
        shutdownTimeoutMs: 100,
        idleTrimMs: 20,
        hooks: {
          verifyPassword: () => true,
          stanza: (_conn, stanza) => {
            const to = stanza.attr("to");
            if (to !== undefined) server.connectionFor(to)?.send(stanza);
          },
        },
      });
      servers.push(server);
      const ports = await server.listen();
      const options = {
        jid: "u@localhost/r",
        password: "x",
        host: "127.0.0.1",
        port: (mode === "direct" ? ports.directTlsPort : ports.port)!,
        tls: { ca: fx.cert.cert },
        ...(mode === "direct" ? { directTls: true } : mode === "tcp" ? { starttls: "none" as const } : {}),
        session: { mechanisms: ["PLAIN"], allowPlainInClear: true },
      };
      const client = new XmppClient(options);
      clients.push(client);
      const jid = String(await client.online());
      const other = new XmppClient({ ...options, jid: "v@localhost/r" });
      clients.push(other);
      await other.online();
      const [conn, quiet] = [...server.connections] as [ServerConnection, ServerConnection];
      expect(conn.jid?.toString()).toBe(jid);
      // What the server shares between connections: the server's own objects, and whatever both connections reach.
      const host = (conn.driver as unknown as { host: { core: unknown; gate: unknown } }).host;
      const skip = new Set<unknown>([server, host, host.core, host.gate, conn.driver.scheduler]);
      const reached = [conn, quiet].map((c) => {
        const seen = new Set<unknown>();
        retainedBytes(c, skip, seen);
        return seen;
      });
      const shared = new Set([...reached[0]!].filter((o) => reached[1]!.has(o)));
      const got = new Promise<void>((resolve) => {
        let n = 0;
        client.on("message", () => ++n === 2 && resolve());
      });
      for (let k = 0; k < 2; k++) client.send(xml("message", { to: jid, type: "chat" }, xml("body", {}, "b".repeat(BODY))));
      await got;
      // The sweep trims after two quiet periods; wait for it (and for the socket to have flushed).
      for (let i = 0; i < 200 && conn.driver.idleSweeps < 2; i++) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 60)); // one more sweep: drops the emptied outbound queue
      expect(conn.driver.idleSweeps).toBe(2);
      const kept = retainedBytes(conn, new Set([...skip, ...shared]));
      expect(kept.largest, `largest at ${kept.where}`).toBeLessThan(1024);
      expect(kept.bytes, `largest at ${kept.where}`).toBeGreaterThan(0); // the walk reaches the session
      expect(kept.bytes).toBeLessThan(4 * 1024);
    });
  }
});
