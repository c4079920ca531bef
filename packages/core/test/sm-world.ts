// A deterministic world for XEP-0198 tests: one server application (accounts, a routing table with
// DetachedSessions) and one client application that reconnects and resumes, joined by an in-memory pipe
// that can be cut at any byte offset. Both applications record what they sent and what they got, so a
// test can check that every stanza was delivered exactly once or reported to its sender.
import type { ScramHash } from "@xmpp-sansio/sasl";
import { toXmlString, type XmlElement, xml } from "@xmpp-sansio/xml";
import {
  type ClientEvent,
  ClientLifecycle,
  ClientSession,
  type LifecycleEvent,
  type LifecycleState,
  DetachedSessions,
  type ServerEvent,
  ServerSession,
  type SmState,
  type StreamManagementOptions,
  smClient,
  smClientFeature,
  smServer,
  smServerFeature,
} from "../src/index.js";
import { ACCOUNTS, DOMAIN, scramFor, seededRandom } from "./harness.js";

export interface WorldOptions {
  client?: StreamManagementOptions;
  server?: StreamManagementOptions | false;
  /** Chunk size of each delivery (bytes); default whole writes. */
  chunk?: number;
  seed?: number;
  /** Seconds the server keeps detached sessions. */
  maxResumeSeconds?: number;
}

interface Link {
  client: ClientSession;
  server: ServerSession;
  c2s: Uint8Array[];
  s2c: Uint8Array[];
  /** Bytes left before the cut, per direction (undefined: no cut planned). */
  cutAfter?: { c2s: number; s2c: number };
  cut: boolean;
  /** Bytes in this direction are lost (a half-dead link: the peer sends into the void). */
  blackhole?: "c2s" | "s2c";
}

/** A stanza's identity across the world: its id attribute. */
const idOf = (s: XmlElement): string => s.attr("id") ?? "?";

export class World {
  now = 0;
  link: Link | undefined;
  readonly detached: DetachedSessions;
  /** Server application: online sessions by full JID. */
  readonly online = new Map<string, ServerSession>();
  readonly clientEvents: ClientEvent[] = [];
  readonly serverEvents: ServerEvent[] = [];
  /** What each application sent, and what the other received (ids, in order). */
  readonly sentByClient: string[] = [];
  readonly receivedByServer: string[] = [];
  readonly sentByServer: string[] = [];
  readonly receivedByClient: string[] = [];
  /** Stanzas reported back to their sender as not delivered. */
  readonly clientReportedFailed: string[] = [];
  readonly serverReportedUndelivered: string[] = [];
  readonly clientAcked: string[] = [];
  /** The client application's own queue while not online (flushed after resume or bind). */
  readonly clientQueue: XmlElement[] = [];
  /** The server application's queue for juliet while she has no SM session to hold them. */
  readonly serverQueue: XmlElement[] = [];
  connections = 0;
  /** Lifecycle mode: the client application is a `ClientLifecycle` that reconnects by itself. */
  life: ClientLifecycle | undefined;
  readonly lifeEvents: LifecycleEvent[] = [];
  /** Detached sessions that expired (their last stanzas' fate is unknowable, XEP-0198 §6). */
  expiredSessions = 0;
  private seed: number;

  constructor(private readonly o: WorldOptions = {}) {
    this.seed = o.seed ?? 1;
    this.detached = new DetachedSessions({ tombstoneMs: 10_000_000 });
  }

  private clientOptions(seed: number) {
    return {
      jid: "juliet@im.example.com/balcony",
      password: "r0m30myr0m30",
      tls: "none" as const,
      allowPlainInClear: true,
      mechanisms: ["SCRAM-SHA-256"],
      minScramIterations: 1,
      random: seededRandom(seed * 7 + 1),
    };
  }

  /** Opens a new connection; the client resumes `resume` if given. */
  connect(resume?: SmState, cutAfter?: { c2s: number; s2c: number }): void {
    const seed = this.seed;
    const client = new ClientSession({
      ...this.clientOptions(seed),
      features: [smClientFeature({ ...this.o.client, ...(resume === undefined ? {} : { resume }) })],
    });
    this.attach(client, cutAfter);
    client.start(this.now);
  }

  /** Lifecycle mode: the client application is a ClientLifecycle (resuming `resume` from a dead process). */
  startLifecycle(resume?: LifecycleState): void {
    let r = this.seed * 7919;
    this.life = new ClientLifecycle({
      session: this.clientOptions(this.seed),
      sm: this.o.client ?? {},
      reconnect: { random: () => ((r = (r * 1103515245 + 12345) >>> 0) % 1000) / 1000 },
      ...(resume === undefined ? {} : { resume }),
    });
    this.life.start(this.now);
  }

  private attach(client: ClientSession, cutAfter?: { c2s: number; s2c: number }): void {
    this.connections++;
    const seed = this.seed++;
    const server = new ServerSession({
      tls: "none",
      random: seededRandom(seed * 13 + 5),
      features: this.o.server === false ? [] : [smServerFeature({ maxResumeSeconds: this.o.maxResumeSeconds ?? 60, ...this.o.server })],
    });
    this.link = { client, server, c2s: [], s2c: [], cut: false, ...(cutAfter === undefined ? {} : { cutAfter: { ...cutAfter } }) };
    server.start(this.now);
  }

  /** The client application sends a message (queued while not online). */
  clientSends(id: string): void {
    const m = xml("message", { to: "romeo@im.example.com", id, type: "chat" }, xml("body", {}, id));
    this.sentByClient.push(id);
    if (this.life !== undefined) {
      this.life.send(m);
      return;
    }
    const c = this.link?.client;
    if (c !== undefined && c.state === "online") c.send(m);
    else this.clientQueue.push(m);
  }

  /** The server application sends juliet a message. */
  serverSends(id: string): void {
    const m = xml("message", { to: "juliet@im.example.com/balcony", from: "romeo@im.example.com/orchard", id, type: "chat" }, xml("body", {}, id));
    this.sentByServer.push(id);
    this.route(m);
  }

  private route(m: XmlElement): void {
    const to = m.attr("to")!;
    const s = this.online.get(to);
    if (s !== undefined && smServer(s)?.enabled === true) {
      s.send(m);
      return;
    }
    if (this.detached.hold(to, m)) return;
    this.serverQueue.push(m);
  }

  /** Cuts the transport now (both sides see it closed). */
  cut(): void {
    const l = this.link;
    if (l === undefined || l.cut) return;
    l.cut = true;
    l.client.transportClosed(this.now);
    l.server.transportClosed(this.now);
    this.drainEvents();
  }

  /** Moves bytes and events until nothing moves. */
  run(maxSteps = 20_000): void {
    for (let i = 0; i < maxSteps; i++) {
      if (!this.step()) return;
    }
    throw new Error("the world did not settle");
  }

  private step(): boolean {
    const l = this.link;
    let moved = this.drainEvents();
    if (l === undefined || l.cut) return moved;
    for (let out = l.client.pollTransmit(); out; out = l.client.pollTransmit()) {
      l.c2s.push(out);
      moved = true;
    }
    for (let out = l.server.pollTransmit(); out; out = l.server.pollTransmit()) {
      l.s2c.push(out);
      moved = true;
    }
    if (this.deliver(l, "c2s")) moved = true;
    if (l.cut) return true;
    if (this.deliver(l, "s2c")) moved = true;
    return moved;
  }

  private deliver(l: Link, dir: "c2s" | "s2c"): boolean {
    const q = dir === "c2s" ? l.c2s : l.s2c;
    const to = dir === "c2s" ? l.server : l.client;
    if (q.length === 0) return false;
    let bytes = q.shift()!;
    if (l.blackhole === dir) return true;
    const budget = l.cutAfter?.[dir];
    if (budget !== undefined && bytes.length >= budget) {
      // The connection breaks after `budget` more bytes in this direction.
      if (budget > 0) to.receive(bytes.subarray(0, budget), this.now);
      this.cut();
      return true;
    }
    if (budget !== undefined) l.cutAfter![dir] = budget - bytes.length;
    const n = this.o.chunk ?? bytes.length;
    while (bytes.length > 0) {
      to.receive(bytes.subarray(0, n), this.now);
      bytes = bytes.subarray(n);
    }
    return true;
  }

  private drainEvents(): boolean {
    const l = this.link;
    if (l === undefined && this.life === undefined) return false;
    if (l === undefined) return this.drainClient(false);
    return this.drainClient(this.drainServer(l));
  }

  private drainServer(l: Link): boolean {
    let moved = false;
    for (let ev = l.server.pollEvent(); ev; ev = l.server.pollEvent()) {
      moved = true;
      this.serverEvents.push(ev);
      this.onServerEvent(l.server, ev);
    }
    return moved;
  }

  private drainClient(movedBefore: boolean): boolean {
    let moved = movedBefore;
    const l = this.link;
    if (this.life !== undefined) {
      for (let ev = this.life.pollEvent(); ev; ev = this.life.pollEvent()) {
        moved = true;
        this.lifeEvents.push(ev);
        if (ev.type === "connect") {
          this.life.connected(this.now);
          this.attach(this.life.session!);
        } else if (ev.type !== "reconnecting" && ev.type !== "stopped") {
          this.clientEvents.push(ev);
          this.onClientEvent(this.life.session!, ev);
        }
      }
      return moved;
    }
    if (l === undefined) return moved;
    for (let ev = l.client.pollEvent(); ev; ev = l.client.pollEvent()) {
      moved = true;
      this.clientEvents.push(ev);
      this.onClientEvent(l.client, ev);
    }
    return moved;
  }

  private onServerEvent(s: ServerSession, ev: ServerEvent): void {
    switch (ev.type) {
      case "host-check":
        s.answerHost(ev.domain === DOMAIN);
        return;
      case "scram-credentials": {
        const acct = ACCOUNTS.get(ev.username);
        const hash = ev.mechanism.replace(/^SCRAM-/, "").replace(/-PLUS$/, "") as ScramHash;
        s.answerScramCredentials(acct === undefined ? null : scramFor(hash, acct.password));
        return;
      }
      case "bind-request":
        s.answerBind({ accept: ev.resource });
        return;
      case "resume-request": {
        // A live session with that id (the client came back before we saw the old link die) is taken over.
        for (const [jid, other] of this.online) {
          const state = smServer(other)?.takeOver(other.jid, ev.previd);
          if (state !== undefined) {
            this.online.delete(jid);
            other.abort("conflict", "replaced by a resumed stream", this.now);
            smServer(s)!.answerResume({ state });
            return;
          }
        }
        const t = this.detached.take(ev.previd, this.now);
        smServer(s)!.answerResume(t !== undefined && "state" in t ? { state: t.state } : { refuse: "item-not-found", ...(t === undefined ? {} : { h: t.h }) });
        return;
      }
      case "online": {
        const old = this.online.get(ev.jid.toString());
        if (old !== undefined && old !== s) old.abort("conflict", "replaced", this.now);
        this.online.set(ev.jid.toString(), s);
        return;
      }
      case "sm-enabled": {
        const queued = this.serverQueue.splice(0);
        for (const m of queued) this.route(m);
        return;
      }
      case "stanza":
        if (ev.stanza.name === "message") this.receivedByServer.push(idOf(ev.stanza));
        return;
      case "sm-detached":
        for (const x of this.detached.detach(ev.state, this.now)) this.bounce(x.stanzas);
        if (this.online.get(ev.state.jid) === s) this.online.delete(ev.state.jid);
        return;
      case "undelivered":
        this.bounce(ev.stanzas);
        return;
      case "closed":
        for (const [jid, other] of this.online) if (other === s) this.online.delete(jid);
        return;
      default:
    }
  }

  /** XEP-0198 §6: stanzas never acknowledged by juliet go back to their sender (here: recorded). */
  private bounce(stanzas: readonly XmlElement[]): void {
    for (const m of stanzas) if (m.name === "message") this.serverReportedUndelivered.push(idOf(m));
  }

  private onClientEvent(c: ClientSession, ev: ClientEvent): void {
    switch (ev.type) {
      case "online": {
        if (this.life !== undefined) return; // the lifecycle flushes its own queue
        const queued = this.clientQueue.splice(0);
        for (const m of queued) c.send(m);
        return;
      }
      case "stanza":
        if (ev.stanza.name === "message") this.receivedByClient.push(idOf(ev.stanza));
        return;
      case "stanza-acked":
        this.clientAcked.push(idOf(ev.stanza));
        return;
      case "stanza-failed":
        this.clientReportedFailed.push(idOf(ev.stanza));
        return;
      default:
    }
  }

  /** The client's resumable state, if any (after the link broke). */
  clientState(): SmState | undefined {
    const c = this.link?.client;
    return c === undefined ? undefined : smClient(c)?.exportState();
  }

  /** Advances time, firing every timer that is due (the client's, the server's, the table's). */
  advance(ms: number): void {
    const until = this.now + ms;
    this.run();
    for (;;) {
      const l = this.link;
      const clientNext = this.life !== undefined ? this.life.nextTimeout() : l?.cut === false ? l.client.nextTimeout() : undefined;
      const next = [clientNext, l?.cut === false ? l.server.nextTimeout() : undefined, this.detached.nextTimeout()].filter((t): t is number => t !== undefined && t <= until);
      if (next.length === 0) break;
      this.now = Math.max(this.now, Math.min(...next));
      if (this.life !== undefined) this.life.handleTimeout(this.now);
      else if (l !== undefined && !l.cut) l.client.handleTimeout(this.now);
      if (l !== undefined && !l.cut) l.server.handleTimeout(this.now);
      for (const x of this.detached.expire(this.now)) {
        this.expiredSessions++;
        this.bounce(x.stanzas);
      }
      this.run();
    }
    this.now = until;
  }
}

/** Serialized form, for assertions. */
export const str = (el: XmlElement): string => toXmlString(el);
