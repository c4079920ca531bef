// What an idle online connection holds of its own (issue 13: memory per idle session): the objects only it
// reaches (driver, pump, session, parser, serializer; not the sockets nor what the server or another
// session shares), counted in property slots. Once online no SASL or binding state of its own is left, the
// lists of feature halves are shared, and the booleans of the session, driver and pump are bits of one
// field each — a field or an object added to every idle connection shows up here.
import * as net from "node:net";
import { describe, expect, it } from "vitest";
import { reachable } from "../../../test-support/reach.js";
import { type ServerConnection, XmppClient, XmppServer } from "../src/index.js";
import { hasOpenssl } from "./support/certs.js";
import { loopbackFixture } from "./support/loopback.js";

const describeTls = hasOpenssl() ? describe : describe.skip;

/** Every object `root` reaches, not entering sockets nor `skip`. */
const reach = (root: object, skip: Set<unknown>) => reachable(root, { skip, stopAt: (v) => v instanceof net.Socket });

describeTls("XmppServer: what an idle online connection holds of its own", () => {
  const fx = loopbackFixture();
  const { servers, clients } = fx;

  it("STARTTLS: no SASL or binding objects nor an empty output queue, shared feature lists, flags as bits; within a slot budget", async () => {
    const server = new XmppServer({
      domains: "localhost",
      tls: { key: fx.cert.key, cert: fx.cert.cert },
      host: "127.0.0.1",
      port: 0,
      session: { mechanisms: ["PLAIN"], allowPlainInClear: true },
      limits: { rate: { preAuth: null, authenticated: null } },
      shutdownTimeoutMs: 100,
      idleTrimMs: 20,
      hooks: { verifyPassword: () => true },
    });
    servers.push(server);
    const { port } = await server.listen();
    for (const jid of ["u@localhost/r", "v@localhost/r"]) {
      const client = new XmppClient({ jid, password: "x", host: "127.0.0.1", port: port!, tls: { ca: fx.cert.cert }, session: { mechanisms: ["PLAIN"], allowPlainInClear: true } });
      clients.push(client);
      await client.online();
    }
    const [a, b] = [...server.connections] as [ServerConnection, ServerConnection];
    for (let i = 0; i < 200 && (a.driver.idleSweeps < 2 || b.driver.idleSweeps < 2); i++) await new Promise((r) => setTimeout(r, 10));
    expect(a.driver.idleSweeps).toBe(2);
    const host = (a.driver as unknown as { host: { core: unknown; gate: unknown } }).host;
    const skip = new Set<unknown>([server, host, host.core, host.gate, a.driver.scheduler]);
    const other = reach(b, skip);
    const own = [...reach(a, skip)].filter((o) => !other.has(o) && !(o instanceof net.Socket));
    const names = own.map((o) => o.constructor?.name ?? "(null prototype)");
    expect(names).toEqual(expect.arrayContaining(["ServerConnection", "ServerSocketDriver", "SessionPump", "ServerSession"]));
    expect(names).not.toContain("SaslServer");
    expect(names).not.toContain("BindServer");
    expect(names).not.toContain("OutputQueue"); // dropped by the idle sweep while empty
    // The session's lists of halves and hooks are the ones every such session shares.
    expect(names.filter((n) => n === "Array")).toEqual([]);
    const slots = (name: string) => Reflect.ownKeys(own.find((o) => o.constructor?.name === name)!).length;
    expect(slots("SessionPump")).toBeLessThanOrEqual(6);
    expect(slots("ServerSocketDriver")).toBeLessThanOrEqual(21);
    expect(slots("ServerSession")).toBeLessThanOrEqual(33);
    // Everything together, in property slots (an object's header counted as two): 153 when written
    // (≈ 200 before the SASL/bind halves, the lists, the output queue and the flags went).
    const total = own.reduce((t, o) => t + 2 + Reflect.ownKeys(o).length, 0);
    expect(total, names.join(", ")).toBeLessThanOrEqual(160);
  });
});
