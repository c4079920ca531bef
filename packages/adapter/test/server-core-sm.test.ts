// ServerHooksCore and XEP-0198: the resume / detached / undelivered hooks and `online(…, { resumed })`,
// over real ServerSessions with streamManagement() driven through SessionPumps (no transport, no timers).
import { ServerSession, type SmState, streamManagement } from "@xmpp-sansio/core";
import type { Jid } from "@xmpp-sansio/jid";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { type HookedConnection, type OnlineInfo, ServerHooksCore, SessionPump, streamManagementOf, type XmppServerHooks } from "../src/index.js";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const SM = "urn:xmpp:sm:3";
const OPEN = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";
// base64 of "\0juliet\0pw" (no btoa in this package's ES2023-only lib)
const AUTH = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGp1bGlldABwdw==</auth>";
const BIND = "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>balcony</resource></bind></iq>";
/** Lets promise chains (the hooks' answers) run to their end. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

interface Conn extends HookedConnection {
  written: string[];
  feed(s: string): void;
  lose(): void;
}

function connection(core: () => ServerHooksCore<Conn>, id: number): Conn {
  const session = new ServerSession({ tls: "none", allowPlainInClear: true, mechanisms: ["PLAIN"], defaultDomain: "example.com", features: [streamManagement()] });
  const written: string[] = [];
  let closed = false;
  const conn = {
    id,
    remoteAddress: undefined,
    remotePort: undefined,
    username: undefined as string | undefined,
    mechanism: undefined as string | undefined,
    jid: undefined as Jid | undefined,
    secure: false,
    written,
    closedPromise: Promise.resolve(),
    get isOnline() {
      return session.state === "online";
    },
    get closed() {
      return closed;
    },
    send: (stanza: XmlElement) => pump.interact((s) => s.send(stanza)),
    close: async () => {},
    closeWithError: async () => {},
    abort: (condition: Parameters<ServerSession["abort"]>[0], text?: string) => pump.abort(condition, text),
    feed: (s: string) => pump.interact((sess, now) => sess.receive(enc(s), now)),
    lose: () => {
      pump.transportClosed();
      closed = true;
      core().closed(conn);
    },
  } as unknown as Conn;
  const pump = new SessionPump({
    session,
    write: (b) => void written.push(dec(b)),
    onEvent: (ev) => core().onEvent(conn, ev),
    onClosed: () => {},
    now: () => 0,
    timers: { setTimeout: () => 0, clearTimeout: () => {} },
  });
  Object.assign(conn, { pump });
  core().live.add(conn);
  pump.interact((s, now) => (s as ServerSession).start(now));
  return conn;
}

function world(hooks: XmppServerHooks<Conn>) {
  const errors: unknown[] = [];
  const core: ServerHooksCore<Conn> = new ServerHooksCore<Conn>({
    domains: ["example.com"],
    hooks: { verifyPassword: () => true, ...hooks },
    onHookError: (e) => errors.push(e),
  });
  let n = 0;
  /** A connection authenticated as juliet (and bound + SM enabled unless `resume`). */
  const login = async (bind: boolean): Promise<Conn> => {
    const c = connection(() => core, ++n);
    c.feed(OPEN);
    await settle();
    c.feed(AUTH);
    await settle();
    c.feed(OPEN);
    await settle();
    if (bind) {
      c.feed(BIND);
      await settle();
      c.feed(`<enable xmlns='${SM}' resume='true'/>`);
    }
    return c;
  };
  return { core, login, errors };
}

describe("ServerHooksCore with Stream Management", () => {
  it("streamManagementOf finds the SM half of a real session (and nothing on a session without features)", async () => {
    const { login } = world({});
    const c = await login(true);
    expect(streamManagementOf(c)?.enabled).toBe(true);
    expect(streamManagementOf({ pump: { session: {} } } as never)).toBeUndefined();
  });

  it("without a resume hook, <resume/> is refused with item-not-found", async () => {
    const { login } = world({});
    const c = await login(false);
    c.feed(`<resume xmlns='${SM}' previd='x' h='0'/>`);
    await settle();
    expect(c.written.join("")).toContain(`<failed xmlns='${SM}'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>`);
  });

  it("detached → resume: the state goes through the hooks, and online says resumed", async () => {
    const detached: SmState[] = [];
    const online: OnlineInfo[] = [];
    const { login } = world({
      detached: (_c, state) => void detached.push(state),
      online: (_c, info) => void online.push(info),
      resume: (previd) => {
        const state = detached.find((s) => s.id === previd);
        return state === undefined ? { refuse: "item-not-found" } : { state };
      },
    });
    const first = await login(true);
    first.send(xml("message", { to: "juliet@example.com/balcony", id: "m1" }));
    first.lose();
    await settle();
    expect(detached).toHaveLength(1);
    expect(detached[0]!.unacked).toHaveLength(1);
    const second = await login(false);
    second.feed(`<resume xmlns='${SM}' previd='${detached[0]!.id}' h='0'/>`);
    await settle();
    expect(second.written.join("")).toMatch(new RegExp(`<resumed xmlns='${SM}' previd='${detached[0]!.id}' h='0'/><message [^>]*id='m1'`));
    expect(online).toEqual([{ resumed: false }, { resumed: true }]);
    expect(second.jid?.toString()).toBe("juliet@example.com/balcony");
  });

  it("a state answered after the connection closed comes back through detached (never lost)", async () => {
    const detached: SmState[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { login } = world({
      detached: (_c, state) => void detached.push(state),
      resume: async (previd) => {
        await gate;
        return { state: detached.find((s) => s.id === previd)! };
      },
    });
    const first = await login(true);
    first.lose();
    await settle();
    const id = detached[0]!.id;
    const second = await login(false);
    second.feed(`<resume xmlns='${SM}' previd='${id}' h='0'/>`);
    await settle();
    second.lose(); // gone while the hook was still deciding
    release();
    await settle();
    expect(detached.map((s) => s.id)).toEqual([id, id]);
  });

  it("without a detached hook, the stanzas of a detached session go to undelivered", async () => {
    const undelivered: string[] = [];
    const { login } = world({ undelivered: (_c, stanzas) => void undelivered.push(...stanzas.map((s) => s.attr("id") ?? "?")) });
    const c = await login(true);
    c.send(xml("message", { to: "juliet@example.com/balcony", id: "u1" }));
    c.lose();
    await settle();
    expect(undelivered).toEqual(["u1"]);
  });
});
