// The server's load protections over loopback: a client that never reads (bounded outbound queue), read
// rate limits (reads pause), connections and login attempts per IP, the fail2ban line.
import { once } from "node:events";
import * as net from "node:net";
import { authFailureLine } from "@xmpp-sansio/adapter";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type ServerConnection, XmppClient, XmppServer, type XmppServerOptions } from "../src/index.js";
import { accountHooks, PASSWORDS } from "./support/accounts.js";

const HEADER = "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";

/** A raw TCP client over a plain stream: collects what it reads until it is told to stop reading. */
class RawClient {
  readonly socket: net.Socket;
  text = "";
  private waiters: { test: (t: string) => boolean; resolve: () => void }[] = [];

  constructor(port: number) {
    this.socket = net.connect(port, "127.0.0.1");
    this.socket.setEncoding("utf8");
    this.socket.on("data", (d: string) => {
      this.text += d;
      const ready = this.waiters.filter((w) => w.test(this.text));
      this.waiters = this.waiters.filter((w) => !ready.includes(w));
      for (const w of ready) w.resolve();
    });
    this.socket.on("error", () => {});
  }

  /** Resolves once what was read matches. */
  until(re: RegExp): Promise<void> {
    return new Promise((resolve) => {
      if (re.test(this.text)) resolve();
      else this.waiters.push({ test: (t) => re.test(t), resolve });
    });
  }

  write(s: string): void {
    this.socket.write(s);
  }

  /** Logs in with PLAIN (no TLS: the test server allows it), binds `resource`, sends presence. */
  async login(user: string, resource: string): Promise<void> {
    this.write(HEADER);
    await this.until(/<\/stream:features>/);
    const creds = Buffer.from(`\u0000${user}\u0000${PASSWORDS.get(user)}`).toString("base64");
    this.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${creds}</auth>`);
    await this.until(/<success/);
    this.text = "";
    this.write(HEADER);
    await this.until(/<\/stream:features>/);
    this.write(`<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    await this.until(/id=.b1./);
    this.text = "";
  }
}

describe("XmppServer load limits", () => {
  const servers: XmppServer[] = [];
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  /** A plain-stream server over the test accounts; `onStanza` sees every routed stanza first. */
  async function plainServer(extra: Partial<XmppServerOptions> = {}, onStanza?: (c: ServerConnection, s: XmlElement) => void) {
    let server!: XmppServer;
    const routing = accountHooks(() => server);
    const base =
      onStanza === undefined
        ? routing
        : {
            ...routing,
            stanza: (c: ServerConnection, st: XmlElement) => {
              onStanza(c, st);
              return routing.stanza!(c, st);
            },
          };
    server = new XmppServer({
      domains: "localhost",
      host: "127.0.0.1",
      port: 0,
      starttls: "none",
      session: { mechanisms: ["PLAIN"], allowPlainInClear: true },
      shutdownTimeoutMs: 200,
      hooks: base,
      ...extra,
    });
    servers.push(server);
    const { port } = await server.listen();
    return { server, port: port! };
  }

  function plainClient(user: string, port: number): XmppClient {
    const c = new XmppClient({
      jid: `${user}@localhost/flood`,
      password: PASSWORDS.get(user)!,
      host: "127.0.0.1",
      port,
      starttls: "none",
      session: { mechanisms: ["PLAIN"], allowPlainInClear: true },
    });
    closers.push(() => c.close());
    return c;
  }

  it("a client that never reads: held bytes stay under the cap, the flooder gets errors, the slow session is closed", async () => {
    const maxBytes = 64 * 1024;
    let sampledMax = 0;
    let slowConn: ServerConnection | undefined;
    // Sample the slow connection's held bytes before every delivery to it (i.e. after the previous one).
    const { server, port } = await plainServer(
      { limits: { outbound: { maxBytes, maxStanzas: 100_000, closeGraceMs: 50 }, rate: { preAuth: null, authenticated: null } } },
      () => {
        if (slowConn !== undefined) sampledMax = Math.max(sampledMax, slowConn.heldBytes);
      },
    );
    const limits: string[] = [];
    server.on("limit", (_c, condition) => limits.push(condition));

    const slow = new RawClient(port);
    closers.push(() => slow.socket.destroy());
    await slow.login("romeo", "slow");
    slowConn = server.connectionFor("romeo@localhost/slow")!;
    expect(slowConn).toBeDefined();
    slow.socket.pause(); // never reads again

    const juliet = plainClient("juliet", port);
    await juliet.online();
    const errors: XmlElement[] = [];
    let firstError: () => void;
    const gotError = new Promise<void>((r) => (firstError = r));
    juliet.on("message", (m: XmlElement) => {
      if (m.attr("type") === "error") {
        errors.push(m);
        firstError();
      }
    });
    const body = "x".repeat(2000);
    let sent = 0;
    let stop = false;
    void gotError.then(() => (stop = true));
    // Flood in batches (each a turn of the event loop) until the first error comes back; 64 MiB at most.
    while (!stop && sent < 32_000) {
      for (let i = 0; i < 50; i++) juliet.send(xml("message", { to: "romeo@localhost/slow", type: "chat", id: `m${sent++}` }, xml("body", {}, body)));
      await new Promise((r) => setImmediate(r));
    }
    expect(stop).toBe(true);
    await slowConn.closedPromise;
    expect(limits).toContain("resource-constraint");
    expect(sampledMax).toBeLessThanOrEqual(maxBytes + 4096); // the cap plus at most one stanza
    const error = errors[0]!;
    expect(error.getChild("error")?.getChild("service-unavailable", "urn:ietf:params:xml:ns:xmpp-stanzas")).toBeDefined();
    expect(error.attr("from")).toBe("romeo@localhost/slow");
  }, 30_000);

  it("reads pause (not drop) past the read rate, and every byte is still processed", async () => {
    const { server, port } = await plainServer({ limits: { rate: { preAuth: { bytesPerSecond: 1000, burstBytes: 2000 }, authenticated: null } } });
    const conns: ServerConnection[] = [];
    server.on("connection", (c) => conns.push(c));
    const raw = new RawClient(port);
    closers.push(() => raw.socket.destroy());
    raw.write(HEADER);
    await raw.until(/<\/stream:features>/);
    expect(conns[0]!.readsPaused).toBe(false);
    // 3 000 bytes of whitespace keepalives in one write: over the 2 000 byte burst.
    raw.write(" ".repeat(3000));
    await waitUntil(() => conns[0]!.readsPaused);
    expect(conns[0]!.driver.socket.isPaused()).toBe(true);
    // Reads resume by themselves, and the session still answers (the bytes were not dropped).
    await waitUntil(() => !conns[0]!.readsPaused);
    raw.write("<iq type='get' id='x'/>");
    await raw.until(/<stream:error>|not-authorized|<\/stream:stream>/);
  });

  it("after authentication a big read is fed in slices: reads pause meanwhile, nothing is lost or reordered", async () => {
    let sawPaused = false;
    const seen: string[] = [];
    const { server, port } = await plainServer({ limits: { rate: { preAuth: null, authenticated: null } } }, (c, s) => {
      sawPaused ||= c.readsPaused;
      seen.push(s.attr("id")!);
    });
    const raw = new RawClient(port);
    closers.push(() => raw.socket.destroy());
    await raw.login("romeo", "self");
    const conn = server.connectionFor("romeo@localhost/self")!;
    // 400 messages to itself (≈ 60 KiB) in one write: more than one 8 KiB slice.
    const body = "y".repeat(100);
    const all = Array.from({ length: 400 }, (_, i) => `<message to='romeo@localhost/self' type='chat' id='s${i}'><body>${body}</body></message>`);
    raw.write(all.join(""));
    await raw.until(/id=.s399./);
    expect(seen).toEqual(all.map((_, i) => `s${i}`));
    expect(sawPaused).toBe(true);
    expect(conn.readsPaused).toBe(false);
    expect(raw.text.match(/<message /g)).toHaveLength(400);
  });

  it("caps connections per IP with <policy-violation/>", async () => {
    const { server, port } = await plainServer({ limits: { address: { maxConnectionsPerIp: 2 } } });
    const limits: string[] = [];
    server.on("limit", (_c, condition, text) => limits.push(`${condition}: ${text}`));
    const a = new RawClient(port);
    const b = new RawClient(port);
    closers.push(() => a.socket.destroy(), () => b.socket.destroy());
    a.write(HEADER);
    b.write(HEADER);
    await Promise.all([a.until(/<\/stream:features>/), b.until(/<\/stream:features>/)]);
    const c = new RawClient(port);
    closers.push(() => c.socket.destroy());
    c.write(HEADER);
    await c.until(/<\/stream:stream>/);
    expect(c.text).toContain("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
    expect(c.text).toContain("too many connections from 127.0.0.1");
    expect(limits).toEqual(["policy-violation: too many connections from 127.0.0.1 (limit 2)"]);
    // A closed connection frees its place.
    a.socket.destroy();
    c.socket.destroy();
    await waitUntil(() => server.connections.size === 1);
    const d = new RawClient(port);
    closers.push(() => d.socket.destroy());
    d.write(HEADER);
    await d.until(/<\/stream:features>/);
    expect(d.text).not.toContain("policy-violation");
  });

  it("caps login attempts per IP and logs failed logins in the fail2ban line", async () => {
    const { server, port } = await plainServer({ limits: { address: { maxLoginAttemptsPerIp: 2, loginWindowMs: 60_000 } } });
    const lines: string[] = [];
    server.on("authFailed", (c, username, condition) => lines.push(authFailureLine(username, c.remoteAddress, condition)));
    const wrong = Buffer.from("\u0000juliet\u0000wrong password").toString("base64");
    const attempt = async () => {
      const raw = new RawClient(port);
      closers.push(() => raw.socket.destroy());
      raw.write(HEADER);
      await raw.until(/<\/stream:features>/);
      raw.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${wrong}</auth>`);
      await raw.until(/<failure|<stream:error>/);
      return raw;
    };
    expect((await attempt()).text).toContain("<not-authorized/>");
    expect((await attempt()).text).toContain("<not-authorized/>");
    const third = await attempt();
    await third.until(/<\/stream:stream>/);
    expect(third.text).toContain("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>");
    expect(third.text).toContain("too many login attempts from 127.0.0.1");
    expect(lines).toEqual([
      "authentication failed for juliet from 127.0.0.1 (not-authorized)",
      "authentication failed for juliet from 127.0.0.1 (not-authorized)",
      "authentication failed for juliet from 127.0.0.1 (too-many-attempts)",
    ]);
    await once(third.socket, "close");
  });
});

/** Resolves once `cond` holds (vitest's `vi.waitFor` polls it; no fixed sleeps). */
function waitUntil(cond: () => boolean): Promise<void> {
  return vi.waitFor(
    () => {
      if (!cond()) throw new Error("not yet");
    },
    { timeout: 10_000, interval: 5 },
  );
}
