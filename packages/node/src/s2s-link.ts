/**
 * One outbound server-to-server stream of the `S2SManager`: finds the peer (SRV `_xmpp-server._tcp`
 * and `_xmpps-server._tcp`, XEP-0368, else the domain on 5269), connects, runs the core's
 * `S2SInitiatorSession` over a socket (STARTTLS or Direct TLS, our certificate presented as TLS client),
 * holds a bounded queue of stanzas while it gets there, sends `<db:verify/>` for the manager's inbound
 * dialback checks, and ends when idle. Internal.
 *
 * @module
 */
import { once } from "node:events";
import * as net from "node:net";
import * as tls from "node:tls";
import { SessionPump } from "@xmpp-sansio/adapter";
import { type ClientEvent, type ConnectionCandidate, S2SInitiatorSession, type S2SInitiatorOptions, type StanzaErrorCondition } from "@xmpp-sansio/core";
import type { XmlElement } from "@xmpp-sansio/xml";
import { channelBindingFromTlsSocket } from "./channel-binding.js";
import { monotonicNow, SocketDriver } from "./driver.js";

/** Why a link failed, as the stanza error its queued stanzas get (RFC 6120 §10.4.3). */
export type LinkFailure = { readonly condition: Extract<StanzaErrorCondition, "remote-server-not-found" | "remote-server-timeout">; readonly text: string };

/** What a link needs from its manager. @internal */
export interface LinkContext {
  candidates(domain: string): Promise<ConnectionCandidate[]>;
  addresses(host: string): Promise<string[]>;
  tlsOptions(servername: string): tls.ConnectionOptions;
  sessionOptions(from: string, to: string, purpose: "authenticate" | "verify", directTls: boolean): S2SInitiatorOptions;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  maxQueued: number;
  /** A stanza that will not be sent: the manager answers its sender. */
  bounce(stanza: XmlElement, condition: StanzaErrorCondition, text: string): void;
  /** The link is over (closed or failed): the manager forgets it. */
  ended(link: OutboundLink): void;
  /** A piggybacked pair was refused: the manager stops sending that pair's stanzas this way. */
  pairEnded(from: string, link: OutboundLink): void;
  /** Whether more of our domains may be authenticated on an online stream (dialback with a secret). */
  piggyback: boolean;
  log(line: string): void;
  /** Turns a stanza into the `jabber:server` namespace. */
  toServerNs(stanza: XmlElement): XmlElement;
}

/** A `<db:verify/>` to send once the stream is set up, and who waits for its answer. */
interface VerifyRequest {
  readonly from: string;
  readonly to: string;
  readonly id: string;
  readonly key: string;
  readonly done: (answer: { valid: boolean; condition?: "remote-server-not-found" | "remote-server-timeout" }) => void;
  timer: NodeJS.Timeout | undefined;
}

/** Where a link stands. */
export type LinkState = "connecting" | "negotiating" | "online" | "closed";

/** What the application may read of an outbound s2s stream (`S2SManager.outbound()`). */
export interface S2SOutboundLink {
  /** Our domain (the stream's `from`; piggybacked domains ride along). */
  readonly from: string;
  /** The peer's domain. */
  readonly to: string;
  /** Where the stream stands. */
  readonly state: LinkState;
  /** How it authenticated (`EXTERNAL` or `dialback`), once it did. */
  readonly mechanism: string | undefined;
  /** Stanzas waiting for the stream to be set up. */
  readonly queued: number;
  /** Whether new stanzas may take this stream. */
  readonly usable: boolean;
  /** The socket driver once connected (tests reach the raw socket through it). */
  readonly driver: SocketDriver<ClientEvent> | undefined;
}

/**
 * An outbound stream `from` → `to` (one per domain pair and purpose). `purpose: "verify"` links only carry
 * `<db:verify/>` for the manager's inbound dialback checks.
 */
export class OutboundLink implements S2SOutboundLink {
  /** Where the link stands. */
  state: LinkState = "connecting";
  /** The socket driver once connected (tests reach the raw socket through it). */
  driver: SocketDriver<ClientEvent> | undefined;
  private readonly queue: XmlElement[] = [];
  /** Our other domains piggybacked on this stream: authenticated (`ok`) or waiting, with their stanzas. */
  private readonly extra = new Map<string, { ok: boolean; queue: XmlElement[] }>();
  /** Piggybacked domains the peer refused on this stream (not asked again here). */
  private readonly refused = new Set<string>();
  private readonly verifies: VerifyRequest[] = [];
  private readonly waiting = new Map<string, VerifyRequest>();
  private idleTimer: NodeJS.Timeout | undefined;
  private lastActivity = monotonicNow();
  private failure: LinkFailure | undefined;
  private streamError: string | undefined;
  private timedOut = false;
  private closeRequested = false;
  private corked = false;
  /** How the stream authenticated (`EXTERNAL` or `dialback`), once it did. */
  mechanism: string | undefined;

  /**
   * @param from - our domain (the stream's `from`)
   * @param to - the peer's domain
   * @param purpose - `"authenticate"` (stanzas) or `"verify"` (only `<db:verify/>`)
   * @param ctx - what the link needs from its manager
   */
  constructor(
    /** Our domain (the stream's `from`). */
    readonly from: string,
    /** The peer's domain (the stream's `to`). */
    readonly to: string,
    /** `"authenticate"`: carries stanzas; `"verify"`: only `<db:verify/>` for inbound dialback checks. */
    readonly purpose: "authenticate" | "verify",
    private readonly ctx: LinkContext,
  ) {
    void this.connect();
  }

  /**
   * Whether new stanzas can go this way: still being set up, or online and not closing (we closed it
   * when idle, or the peer ended it). Otherwise the manager opens a new stream.
   */
  get usable(): boolean {
    if (this.state === "closed" || this.closeRequested) return false;
    return this.state !== "online" || this.driver?.session.state === "online";
  }

  /**
   * Whether `domain` (another of ours) can be authenticated on this stream (XEP-0220 §2.5 piggybacking,
   * by dialback): an online, usable stream of ours, a dialback secret, and the peer did not refuse it here.
   */
  canPiggyback(domain: string): boolean {
    return this.purpose === "authenticate" && this.state === "online" && this.usable && this.ctx.piggyback && !this.refused.has(domain);
  }

  /**
   * Authenticates `domain` → `to` on this online stream as well (`<db:result/>`, XEP-0220 §2.5); its
   * stanzas wait (bounded) until the answer, and are bounced if it is negative.
   */
  addDomain(domain: string): void {
    if (domain === this.from || this.extra.has(domain) || this.driver === undefined) return;
    this.extra.set(domain, { ok: false, queue: [] });
    this.driver.interact((s) => (s as S2SInitiatorSession).authenticateDomain(domain, this.to));
  }

  /** When the link was made (monotonic ms). */
  readonly createdAt = monotonicNow();

  /** Stanzas held while the stream is being set up. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Sends a stanza now (online) or queues it (bounded: past `maxQueued` it is bounced `<resource-constraint/>`).
   * `fromDomain` is the stanza's `from` domain: `from`, or one added with {@link addDomain}.
   */
  send(stanza: XmlElement, fromDomain: string = this.from): void {
    this.touch();
    const pair = fromDomain === this.from ? undefined : this.extra.get(fromDomain);
    if (fromDomain !== this.from && pair?.ok !== true) {
      if (pair === undefined || this.state === "closed") this.ctx.bounce(stanza, "remote-server-not-found", `${fromDomain} is not authenticated with ${this.to}`);
      else if (pair.queue.length >= this.ctx.maxQueued) this.ctx.bounce(stanza, "resource-constraint", `too many stanzas (${this.ctx.maxQueued}) wait for ${fromDomain} to be authenticated with ${this.to}`);
      else pair.queue.push(stanza);
      return;
    }
    if (this.state === "online" && this.driver !== undefined && this.driver.session.state === "online") {
      this.cork();
      try {
        this.driver.interact((s) => s.send(this.ctx.toServerNs(stanza)));
      } catch (err) {
        // Not a peer's doing (the pair is this stream's own): a bug; the sender still gets an answer.
        this.ctx.bounce(stanza, "internal-server-error", `could not send over the stream to ${this.to}: ${(err as Error).message}`);
      }
      return;
    }
    if (this.state === "closed") {
      this.ctx.bounce(stanza, this.failure?.condition ?? "remote-server-not-found", this.failure?.text ?? "the server-to-server stream is closed");
      return;
    }
    if (this.queue.length >= this.ctx.maxQueued) {
      this.ctx.bounce(stanza, "resource-constraint", `too many stanzas (${this.ctx.maxQueued}) wait for the connection to ${this.to}`);
      return;
    }
    this.queue.push(stanza);
  }

  /**
   * Asks the authoritative server `to` whether `key` is its key for stream `id` (XEP-0220 §2.1.2); the
   * answer (or a timeout, or the link's failure) goes to `done`.
   */
  verify(req: { from: string; to: string; id: string; key: string }, timeoutMs: number, done: VerifyRequest["done"]): void {
    this.touch();
    const r: VerifyRequest = { ...req, done, timer: undefined };
    r.timer = setTimeout(() => this.answerVerify(r, { valid: false, condition: "remote-server-timeout" }), timeoutMs);
    r.timer.unref();
    if (this.state === "closed") {
      this.answerVerify(r, { valid: false, condition: this.failure?.condition ?? "remote-server-not-found" });
      return;
    }
    this.verifies.push(r);
    this.flushVerifies();
  }

  /** Ends the stream gracefully (or drops the attempt); queued stanzas are bounced. */
  close(): void {
    if (this.state === "closed") return;
    this.closeRequested = true;
    if (this.driver === undefined) this.fail({ condition: "remote-server-not-found", text: "the server-to-server manager is closing" });
    else this.driver.interact((s, now) => s.close(now));
  }

  /** Stanzas sent in one turn of the event loop leave in one write (the socket is corked until the next tick). */
  private cork(): void {
    if (this.corked || this.driver === undefined) return;
    const socket = this.driver.socket;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  private touch(): void {
    this.lastActivity = monotonicNow();
  }

  private armIdle(): void {
    if (this.state === "closed") return;
    const left = this.lastActivity + this.ctx.idleTimeoutMs - monotonicNow();
    const waiting = this.queue.length + this.waiting.size + this.verifies.length + [...this.extra.values()].reduce((n, p) => n + p.queue.length, 0);
    if (left <= 0 && waiting === 0) {
      this.ctx.log(`s2s idle: closing ${this.from} → ${this.to}`);
      this.close();
      return;
    }
    this.idleTimer = setTimeout(() => this.armIdle(), Math.max(left, 10));
    this.idleTimer.unref();
  }

  private async connect(): Promise<void> {
    let timedOut = false;
    let lastError = "";
    let candidates: ConnectionCandidate[];
    try {
      candidates = await this.ctx.candidates(this.to);
    } catch (err) {
      candidates = [];
      lastError = (err as Error).message;
    }
    for (const c of candidates) {
      let addresses: string[];
      try {
        addresses = await this.ctx.addresses(c.host);
      } catch (err) {
        lastError = `${c.host}: ${(err as Error).message}`;
        continue;
      }
      for (const address of addresses) {
        if (this.state === "closed") return;
        const socket = c.directTls
          ? tls.connect({ ...this.ctx.tlsOptions(this.to), host: address, port: c.port, ALPNProtocols: ["xmpp-server"] })
          : net.connect({ host: address, port: c.port, allowHalfOpen: true });
        socket.on("error", () => {}); // the attempt's error is read below; a late one must not be uncaught
        try {
          await once(socket, c.directTls ? "secureConnect" : "connect", { signal: AbortSignal.timeout(this.ctx.connectTimeoutMs) });
        } catch (err) {
          socket.destroy();
          if ((err as Error).name === "AbortError" || (err as Error).name === "TimeoutError") {
            timedOut = true;
            lastError = `${address}:${c.port}: no answer within ${this.ctx.connectTimeoutMs} ms`;
          } else lastError = `${address}:${c.port}: ${(err as Error).message}`;
          continue;
        }
        if ((this.state as LinkState) === "closed") {
          socket.destroy();
          return;
        }
        this.run(socket, c.directTls);
        return;
      }
    }
    const text = candidates.length === 0 ? `no address for ${this.to}${lastError === "" ? "" : ` (${lastError})`}` : `cannot connect to ${this.to}: ${lastError}`;
    this.fail({ condition: timedOut ? "remote-server-timeout" : "remote-server-not-found", text });
  }

  private run(socket: net.Socket, directTls: boolean): void {
    this.state = "negotiating";
    const session = new S2SInitiatorSession(this.ctx.sessionOptions(this.from, this.to, this.purpose, directTls));
    const driver = new SocketDriver<ClientEvent>({
      socket,
      side: "client",
      createPump: (io) => new SessionPump<ClientEvent>({ session, onEvent: (ev) => this.onEvent(ev), now: monotonicNow, ...io }),
      upgrade: (plain) => tls.connect({ ...this.ctx.tlsOptions(this.to), socket: plain }),
      // After every chunk read: a verify stream may have become ready (no event says so).
      input: (chunk, feed) => {
        feed(chunk);
        this.flushVerifies();
      },
      onTlsError: (err) => {
        this.streamError ??= `TLS: ${err.message}`;
      },
      onInternalError: (err) => this.ctx.log(`s2s error ${this.from} → ${this.to}: ${String(err)}`),
      onSocketClose: (err) => {
        if (err !== undefined) this.streamError ??= err.message;
        this.ended("transport-closed");
      },
    });
    this.driver = driver;
    driver.interact((s, now) => {
      if (directTls) s.tlsEstablished({ channelBinding: channelBindingFromTlsSocket(socket as tls.TLSSocket, "client") }, now);
      (s as S2SInitiatorSession).start(now);
    });
    this.armIdle();
  }

  private onEvent(ev: ClientEvent): void {
    switch (ev.type) {
      case "online": {
        this.state = "online";
        this.ctx.log(`s2s out: ${this.from} → ${this.to} online (${this.mechanism ?? "?"})`);
        const s = this.driver!.session as S2SInitiatorSession;
        for (const stanza of this.queue.splice(0)) s.send(this.ctx.toServerNs(stanza));
        this.flushVerifies();
        break;
      }
      case "authenticated":
        this.mechanism = ev.mechanism;
        break;
      case "dialback-result": {
        // A piggybacked pair (XEP-0220 §2.5); the first pair's result is the stream's own authentication.
        const pair = ev.from === this.from ? undefined : this.extra.get(ev.from);
        if (pair === undefined) break;
        this.ctx.log(`s2s out: ${ev.from} → ${this.to} ${ev.valid ? "authenticated (dialback, piggybacked)" : "refused"}`);
        const s = this.driver!.session as S2SInitiatorSession;
        if (ev.valid) {
          pair.ok = true;
          for (const stanza of pair.queue.splice(0)) s.send(this.ctx.toServerNs(stanza));
        } else {
          this.extra.delete(ev.from);
          this.refused.add(ev.from);
          this.ctx.pairEnded(ev.from, this);
          for (const stanza of pair.queue.splice(0)) this.ctx.bounce(stanza, "remote-server-not-found", `${this.to} refused ${ev.from}${ev.condition === undefined ? "" : ` (${ev.condition})`}`);
        }
        break;
      }
      case "dialback-verify-result": {
        const r = this.waiting.get(`${ev.to}\u0000${ev.id}`);
        if (r !== undefined) this.answerVerify(r, { valid: ev.valid });
        break;
      }
      case "stream-error":
        if (ev.condition === "connection-timeout") this.timedOut = true;
        this.streamError = `${ev.byPeer ? "the peer sent" : "we sent"} <${ev.condition}/>${ev.text === undefined ? "" : `: ${ev.text}`}`;
        break;
      case "closed":
        this.ended(ev.reason);
        break;
      default:
    }
  }

  /** Sends the waiting `<db:verify/>` once the stream allows it (online, or a verify stream set up). */
  private flushVerifies(): void {
    const s = this.driver?.session as S2SInitiatorSession | undefined;
    if (s === undefined || this.verifies.length === 0) return;
    const half = s.featureHalf("dialback") as { readonly verifyOnly?: boolean } | undefined;
    if (!(s.state === "online" || half?.verifyOnly === true)) return;
    this.driver!.interact((session) => {
      for (const r of this.verifies.splice(0)) {
        if ((session as S2SInitiatorSession).sendDialbackVerify(r)) this.waiting.set(`${r.to}\u0000${r.id}`, r);
        else this.answerVerify(r, { valid: false, condition: "remote-server-timeout" });
      }
    });
  }

  private answerVerify(r: VerifyRequest, answer: Parameters<VerifyRequest["done"]>[0]): void {
    clearTimeout(r.timer);
    this.waiting.delete(`${r.to}\u0000${r.id}`);
    const i = this.verifies.indexOf(r);
    if (i >= 0) this.verifies.splice(i, 1);
    r.done(answer);
  }

  private ended(reason: string): void {
    if (this.state === "closed") return;
    const wasOnline = this.state === "online";
    const timeout = reason === "timeout" || this.timedOut;
    const text = this.streamError ?? (timeout ? `${this.to} did not complete the stream in time` : `the stream to ${this.to} ended (${reason})`);
    const setUp = wasOnline || (this.purpose === "verify" && this.driver?.session.state === "closed" && this.verifies.length === 0 && this.waiting.size === 0);
    this.fail({ condition: timeout ? "remote-server-timeout" : "remote-server-not-found", text: setUp ? text : `could not set up the stream to ${this.to}: ${text}` });
  }

  private fail(failure: LinkFailure): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.failure = failure;
    clearTimeout(this.idleTimer);
    this.ctx.log(`s2s out: ${this.from} → ${this.to} closed: ${failure.text}`);
    for (const stanza of this.queue.splice(0)) this.ctx.bounce(stanza, failure.condition, failure.text);
    for (const pair of this.extra.values()) for (const stanza of pair.queue.splice(0)) this.ctx.bounce(stanza, failure.condition, failure.text);
    for (const r of [...this.verifies, ...this.waiting.values()]) this.answerVerify(r, { valid: false, condition: failure.condition });
    this.ctx.ended(this);
  }
}
