// ClientController over the core's ClientLifecycle, against an in-process core ServerSession (with
// XEP-0198 and detached sessions) through a fake transport: the adapter only does IO — reconnection,
// queueing and resumption are the lifecycle's, and the controller turns them into promises and events.
import { type ClientParts, DEFAULT_CLIENT_PARTS, DetachedSessions, reconnectClientPart, sha256Hash, type ServerEvent, ServerSession, smServer, streamFraming, streamManagement } from "@xmpp-sansio/core";
import { deriveScramCredentials, pbkdf2, type ScramHash } from "@xmpp-sansio/sasl";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type BaseClientOptions, ClientController, type ClientEventSink, ConnectionError, deriveSaltedPassword, deriveSaltedPasswordJs, SessionPump, TypedEmitter, type XmppClientEvents } from "../src/index.js";

const later = (fn: () => void): void => void Promise.resolve().then(fn);
const PASSWORD = "r0m30myr0m30";
const SALT = new TextEncoder().encode("salt-of-the-test");

/** A tiny server application: SCRAM accounts, binding, SM with detached sessions, a log of what it got. */
class FakeServer {
  down = false;
  connects = 0;
  readonly received: string[] = [];
  readonly detached = new DetachedSessions();
  links: Array<{ cut(): void }> = [];
  /** Connections still to answer with <see-other-host/> (RFC 6120 §4.9.3.19) before the real ones. */
  redirects = 0;
  /** The redirect target of each connection (undefined: the configured endpoint). */
  readonly targets: Array<string | undefined> = [];
  private readonly clock = () => Date.now();

  answer(s: ServerSession, ev: ServerEvent): void {
    switch (ev.type) {
      case "host-check":
        s.answerHost(ev.domain === "localhost");
        return;
      case "scram-credentials": {
        const hash = ev.mechanism.replace(/^SCRAM-/, "").replace(/-PLUS$/, "") as ScramHash;
        s.answerScramCredentials(ev.username === "juliet" ? deriveScramCredentials(hash, PASSWORD, SALT, 4096) : null);
        return;
      }
      case "bind-request":
        s.answerBind({ accept: ev.resource });
        return;
      case "resume-request": {
        const t = this.detached.take(ev.previd, this.clock());
        smServer(s)!.answerResume(t !== undefined && "state" in t ? { state: t.state } : { refuse: "item-not-found" });
        return;
      }
      case "sm-detached":
        this.detached.detach(ev.state, this.clock());
        return;
      case "stanza":
        if (ev.stanza.name === "message") this.received.push(ev.stanza.getChildText("body") ?? "");
        return;
      default:
    }
  }

  /** The transport of a controller: opens an in-memory link to a new server session. */
  connect(controller: () => ClientController, target?: string): Promise<void> {
    this.connects++;
    this.targets.push(target);
    if (this.down) return Promise.reject(new ConnectionError("connect-failed", "connection refused"));
    if (this.redirects > 0) {
      this.redirects--;
      return this.redirect(controller);
    }
    const server = new ServerSession({ tls: "none", mechanisms: ["SCRAM-SHA-256"], features: [streamManagement()] });
    let alive = true;
    let client!: SessionPump<never>;
    const serverPump = new SessionPump<ServerEvent>({
      session: server,
      write: (b) => {
        const copy = b.slice();
        later(() => alive && client.guarded((s, now) => s.receive(copy, now)));
      },
      onEvent: (ev) => this.answer(server, ev),
      onClosed: () => cut(),
    });
    const cut = () => {
      if (!alive) return;
      alive = false;
      later(() => {
        serverPump.transportClosed();
        controller().transportEnded(client as never);
      });
    };
    this.links.push({ cut });
    client = controller().attach(
      { tls: "none", framing: streamFraming },
      {
        write: (b) => {
          const copy = b.slice();
          later(() => alive && serverPump.guarded((s, now) => s.receive(copy, now)));
        },
        closeTransport: () => cut(),
      },
    ) as never;
    client.interact((s, now) => (s as unknown as { start(now: number): void }).start(now));
    return Promise.resolve();
  }

  /** A connection whose server answers the stream header with <see-other-host/> and closes. */
  private redirect(controller: () => ClientController): Promise<void> {
    const bytes = new TextEncoder().encode(
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='r1' version='1.0'>" +
        "<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>alt.localhost:5222</see-other-host></stream:error></stream:stream>",
    );
    let answered = false;
    let ended = false;
    const client: SessionPump<never> = controller().attach(
      { tls: "none", framing: streamFraming },
      {
        write: () => {
          if (answered) return;
          answered = true;
          later(() => client.guarded((s, now) => s.receive(bytes, now)));
        },
        closeTransport: () => {
          if (ended) return;
          ended = true;
          later(() => controller().transportEnded(client as never));
        },
      },
    ) as never;
    client.interact((s, now) => (s as unknown as { start(now: number): void }).start(now));
    return Promise.resolve();
  }
}

class Client extends TypedEmitter<XmppClientEvents> implements ClientEventSink {
  readonly c: ClientController;
  /**
   * @param parts the client's default parts: by default the batteries-included clients' (SASL2, SM,
   *   reconnection), what the Node, Deno and WebSocket XmppClient pass
   */
  constructor(server: FakeServer, options: Partial<BaseClientOptions> = {}, parts: ClientParts = DEFAULT_CLIENT_PARTS) {
    super();
    const transport = { connect: (target: string | undefined) => server.connect(() => this.c, target), redirectTarget: (t: string) => (t.startsWith("xmpp:") ? t : undefined) };
    this.c = new ClientController({ jid: "juliet@localhost/balcony", password: PASSWORD, ...(parts.reconnect === undefined ? {} : { reconnect: { random: () => 0 } }), ...options }, this, transport, { parts });
  }
}

const next = <K extends keyof XmppClientEvents>(e: TypedEmitter<XmppClientEvents>, name: K) => new Promise<XmppClientEvents[K]>((r) => e.once(name, (...a) => r(a)));
const msg = (body: string): XmlElement => xml("message", { to: "romeo@localhost", type: "chat" }, xml("body", {}, body));
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.c.close()));
});
function client(server: FakeServer, options: Partial<BaseClientOptions> = {}, parts?: ClientParts): Client {
  const c = new Client(server, options, parts);
  clients.push(c);
  return c;
}

describe("ClientController on the core's lifecycle", () => {
  it("SM: acked events; a dropped connection is resumed; send() meanwhile queues; each stanza reaches the server once", async () => {
    const server = new FakeServer();
    const j = client(server, { sm: { ackEvery: 1 } });
    const acked: string[] = [];
    j.on("acked", (s) => acked.push(s.getChildText("body")!));
    const failed: string[] = [];
    j.on("failed", (s, reason) => failed.push(`${s.getChildText("body")}: ${reason}`));
    const jid = await j.c.online();
    j.c.send(msg("one"));
    await next(j, "acked");
    expect(acked).toEqual(["one"]);

    const reconnecting = next(j, "reconnecting");
    server.links.at(-1)!.cut();
    await next(j, "close");
    expect(await reconnecting).toEqual([{ attempt: 1, delayMs: 0 }]);
    expect(j.c.isOnline).toBe(false);
    j.c.send(msg("two")); // queued by the lifecycle, not thrown
    expect(j.c.lifecycle?.queued).toBe(1);
    const [backJid, info] = await next(j, "online");
    expect(info).toEqual({ resumed: true });
    expect(backJid.toString()).toBe(jid.toString());
    while (acked.length < 2) await next(j, "acked");
    expect(acked).toEqual(["one", "two"]);
    expect(server.received).toEqual(["one", "two"]);
    expect(failed).toEqual([]);
    expect(server.connects).toBe(2);
  });

  it("the first connection failing rejects online() (no retry before the client was ever online)", async () => {
    const server = new FakeServer();
    server.down = true;
    const j = client(server);
    await expect(j.c.online()).rejects.toThrow(/connection refused/);
    expect(server.connects).toBe(1);
    expect(() => j.c.send(msg("x"))).toThrow(ConnectionError);
  });

  it("reconnect: false — a drop ends the client: stanzas() throws the error, send() throws", async () => {
    const server = new FakeServer();
    const j = client(server, { reconnect: false });
    await j.c.online();
    const it = j.c.stanzas();
    const close = next(j, "close");
    server.links.at(-1)!.cut();
    const [info] = await close;
    expect(info.willReconnect).toBe(false);
    await expect(it.next()).rejects.toBeInstanceOf(ConnectionError);
    expect(() => j.c.send(msg("x"))).toThrow(ConnectionError);
    expect(server.connects).toBe(1);
  });

  it("a lean client (no reconnection part) follows <see-other-host/> at once, but a drop ends it", async () => {
    const server = new FakeServer();
    server.redirects = 1;
    const j = client(server, {}, { hashes: [sha256Hash] });
    const reconnecting: unknown[] = [];
    j.on("reconnecting", (i) => reconnecting.push(i));
    await j.c.online();
    expect(server.targets).toEqual([undefined, "xmpp:alt.localhost:5222"]);
    expect(reconnecting).toEqual([]);
    const close = next(j, "close");
    server.links.at(-1)!.cut();
    const [info] = await close;
    expect(info.willReconnect).toBe(false);
    expect(server.connects).toBe(2);
  });

  it("a lean client given the reconnection part reconnects; reconnect settings without it throw", async () => {
    expect(() => client(new FakeServer(), { reconnect: true }, { hashes: [sha256Hash] })).toThrow(/reconnectClientPart/);
    const server = new FakeServer();
    const j = client(server, {}, { hashes: [sha256Hash], reconnect: reconnectClientPart });
    await j.c.online();
    const back = next(j, "online");
    server.links.at(-1)!.cut();
    await back;
    expect(server.connects).toBe(2);
  });

  it("close() while the server is down resolves; what was queued is reported failed (not-sent)", async () => {
    const server = new FakeServer();
    const j = client(server, { reconnect: { random: () => 0.99, initialDelayMs: 50 } });
    await j.c.online();
    server.down = true;
    server.links.at(-1)!.cut();
    await next(j, "close");
    j.c.send(msg("lost"));
    const failed = next(j, "failed");
    await j.c.close();
    expect((await failed).map((x) => (typeof x === "string" ? x : (x as XmlElement).getChildText("body")))).toEqual(["lost", "not-sent"]);
  });

  it("SCRAM keys are derived by the adapter (derive-key answered asynchronously), with the configured function", async () => {
    const server = new FakeServer();
    const seen: number[] = [];
    const j = client(server, {
      sm: false,
      deriveKey: (req) => {
        seen.push(req.iterations);
        return deriveSaltedPassword(req);
      },
    });
    await j.c.online();
    expect(seen).toEqual([4096]);
    expect(j.c.mechanism).toBe("SCRAM-SHA-256");
  });
});

describe("deriveSaltedPassword", () => {
  const req = (hash: ScramHash) => ({ hash, password: new TextEncoder().encode("pencil"), salt: SALT, iterations: 4096, length: hash === "SHA-1" ? 20 : hash === "SHA-256" ? 32 : 64 });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("WebCrypto gives the bytes of the pure-JS pbkdf2, for every SCRAM hash", async () => {
    for (const hash of ["SHA-1", "SHA-256", "SHA-512"] as const) {
      const r = req(hash);
      expect(await deriveSaltedPassword(r)).toEqual(pbkdf2(hash, r.password, r.salt, r.iterations, r.length));
      expect(await deriveSaltedPasswordJs(r)).toEqual(pbkdf2(hash, r.password, r.salt, r.iterations, r.length));
    }
  });

  it("falls back to the pure-JS path without crypto.subtle (insecure browser contexts)", async () => {
    const subtle = vi.fn();
    vi.stubGlobal("crypto", { getRandomValues: (a: Uint32Array) => a });
    const r = req("SHA-256");
    expect(await deriveSaltedPassword(r)).toEqual(pbkdf2("SHA-256", r.password, r.salt, r.iterations, r.length));
    expect(subtle).not.toHaveBeenCalled();
  });
});
