// An in-memory WebSocket between connectBareClient and the core's ServerSession (WebSocket framing): the page's
// frames go to the server session, its output comes back as message events. Time, timers and randomness are
// the test's. Used by bare-client.property.test.ts and bare-client.test.ts.
import { type ClientEvent, ServerSession, sha256Hash } from "@xmpp-sansio/core";
import type { XmlElement } from "@xmpp-sansio/xml";
import { type BareClient, type BareClientOptions, connectBareClient, type WebSocketConstructor } from "../../src/index.js";
import { scramCredentials } from "./demo-server.js";

const CREDS = scramCredentials("r0m30myr0m30", "SCRAM-SHA-256");
/** The fixed time of a pair without its own clock. */
export const NOW = 1_000_000;

/** A deterministic random source (xorshift32). */
export function seeded(seed: number): (bytes: Uint8Array) => void {
  let x = seed >>> 0 || 1;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      bytes[i] = x & 0xff;
    }
  };
}

/** A WHATWG-shaped WebSocket whose peer is the test: frames the page sends are queued in `sent`. */
export class MemorySocket {
  static last: MemorySocket | undefined;
  protocol = "xmpp";
  readyState = 0;
  binaryType = "blob";
  sent: string[] = [];
  closes = 0;
  private listeners = new Map<string, ((ev: never) => void)[]>();
  constructor(
    readonly url = "",
    readonly protocols: string | string[] = "",
  ) {
    MemorySocket.last = this;
  }
  send(data: string) {
    if (typeof data !== "string") throw new TypeError("text frames only");
    this.sent.push(data);
  }
  close() {
    this.closes++;
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.fire("close", {});
  }
  addEventListener(type: string, fn: (ev: never) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  fire(type: string, ev: unknown) {
    for (const fn of this.listeners.get(type) ?? []) (fn as (ev: unknown) => void)(ev);
  }
  open() {
    this.readyState = 1;
    this.fire("open", {});
  }
  deliver(data: string | ArrayBuffer) {
    if (this.readyState === 1) this.fire("message", { data });
  }
}

/** A bare client and a server session joined in memory. */
export interface Pair {
  client: BareClient;
  server: ServerSession;
  socket: MemorySocket;
  events: ClientEvent[];
  /** Stanzas the server received from the page after it went online. */
  fromPage: XmlElement[];
  ends: number;
  /** Moves frames both ways until neither side has anything to say. */
  pump(): void;
  take: Set<string>;
}

/** Joins a bare client (juliet@localhost/page, SCRAM-SHA-256) to a fresh server session; `extra` overrides client options. */
export function pair(seed: number, extra: Partial<BareClientOptions> = {}): Pair {
  const server = new ServerSession({ framing: "websocket", tls: "none", mechanisms: ["SCRAM-SHA-256"], random: seeded(seed + 1) });
  const events: ClientEvent[] = [];
  const fromPage: XmlElement[] = [];
  const take = new Set<string>();
  let ends = 0;
  const client = connectBareClient({
    jid: "juliet@localhost/page",
    password: "r0m30myr0m30",
    service: "ws://127.0.0.1/xmpp",
    mechanisms: ["SCRAM-SHA-256"],
    parts: { hashes: [sha256Hash] },
    random: seeded(seed),
    now: () => NOW,
    WebSocket: MemorySocket as unknown as WebSocketConstructor,
    ...extra,
    onEvent(ev, session) {
      events.push(ev);
      // The application takes the IQ requests whose id the test put in `take` (and answers none of them);
      // the rest go to the test's own handler, if any.
      if (ev.type === "stanza" && take.has(ev.stanza.attr("id") ?? "")) return true;
      return extra.onEvent?.(ev, session);
    },
    onEnd: () => ends++,
  });
  const socket = MemorySocket.last!;
  const pump = () => {
    for (let rounds = 0; rounds < 1000; rounds++) {
      const frames = socket.sent.splice(0);
      for (const f of frames) server.receiveMessage(f, false, (extra.now ?? (() => NOW))());
      for (let ev = server.pollEvent(); ev !== undefined; ev = server.pollEvent()) {
        if (ev.type === "host-check") server.answerHost(ev.domain === "localhost");
        else if (ev.type === "scram-credentials") server.answerScramCredentials(CREDS);
        else if (ev.type === "bind-request") server.answerBind({ accept: ev.resource ?? "page" });
        else if (ev.type === "stanza") fromPage.push(ev.stanza);
      }
      let out = false;
      for (let b = server.pollTransmit(); b !== undefined; b = server.pollTransmit()) {
        out = true;
        socket.deliver(new TextDecoder().decode(b));
      }
      if (server.state === "closed" && socket.readyState !== 3) socket.close();
      if (frames.length === 0 && !out) return;
    }
    throw new Error("the pair did not settle");
  };
  return {
    client,
    server,
    socket,
    events,
    fromPage,
    take,
    pump,
    get ends() {
      return ends;
    },
  } as Pair;
}

