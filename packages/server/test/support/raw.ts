// A raw XMPP client for tests: bytes written by hand on a Direct TLS socket (XEP-0368, verification on),
// and waits on what the server sent — never on time.
import * as tls from "node:tls";
import type { XmlElement } from "@xmpp-sansio/xml";

export const NS_SM = "urn:xmpp:sm:3";

const header = (domain: string) =>
  `<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;

/** Escapes a string for use in a RegExp. */
export const re = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export class RawClient {
  /** Everything received, as text. */
  text = "";
  private cursor = 0;
  private waiter: { pattern: RegExp; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void } | undefined;
  private ended = false;
  readonly closed: Promise<void>;

  private constructor(
    readonly socket: tls.TLSSocket,
    readonly domain: string,
  ) {
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      this.text += chunk;
      this.check();
    });
    socket.on("error", () => {});
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        this.ended = true;
        this.check();
        resolve();
      }),
    );
  }

  /** Connects to a Direct TLS port, trusting `ca`. */
  static connect(port: number, ca: string, domain = "localhost"): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port, ca, servername: domain, ALPNProtocols: ["xmpp-client"] }, () => resolve(new RawClient(socket, domain)));
      socket.once("error", reject);
    });
  }

  write(s: string): void {
    this.socket.write(s);
  }

  /**
   * Resolves with the first match of `pattern` in what arrived after the previous match (or since the
   * start), and moves past it. Rejects if the socket closes first.
   */
  until(pattern: RegExp): Promise<RegExpExecArray> {
    if (this.waiter !== undefined) throw new Error("one until() at a time");
    return new Promise((resolve, reject) => {
      this.waiter = { pattern, resolve, reject };
      this.check();
    });
  }

  /** Opens the stream, authenticates with PLAIN (over TLS) and restarts; resolves with the features after SASL. */
  async login(username: string, password: string): Promise<string> {
    this.write(header(this.domain));
    await this.until(/<\/stream:features>/);
    this.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${username}\0${password}`).toString("base64")}</auth>`);
    await this.until(/<success [^>]*\/>|<success [^>]*>[^<]*<\/success>/);
    this.write(header(this.domain));
    return (await this.until(/<stream:features>([\s\S]*?)<\/stream:features>/))[1]!;
  }

  /** Binds `resource`; resolves with the full JID. */
  async bind(resource: string): Promise<string> {
    this.write(`<iq type='set' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    return (await this.until(/<jid>([^<]+)<\/jid>/))[1]!;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private check(): void {
    const w = this.waiter;
    if (w === undefined) return;
    const rest = this.text.slice(this.cursor);
    const flags = w.pattern.flags.replace("g", "");
    const m = new RegExp(w.pattern.source, flags).exec(rest);
    if (m !== null) {
      this.waiter = undefined;
      this.cursor += m.index + m[0].length;
      w.resolve(m);
    } else if (this.ended) {
      this.waiter = undefined;
      w.reject(new Error(`connection closed before ${w.pattern} arrived; after the last match we got: ${rest}`));
    }
  }
}

/** Stanzas an `XmppClient` received, with a wait on the next one that matches. */
export class Inbox {
  readonly all: XmlElement[] = [];
  private waiters: Array<{ test: (s: XmlElement) => boolean; resolve: (s: XmlElement) => void }> = [];

  push = (stanza: XmlElement): void => {
    this.all.push(stanza);
    for (const w of [...this.waiters]) {
      if (w.test(stanza)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(stanza);
        return;
      }
    }
  };

  /** The first stanza (already received or future) that passes `test`. */
  next(test: (s: XmlElement) => boolean): Promise<XmlElement> {
    const seen = this.all.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}

/** A raw RFC 7395 client: one element per WebSocket message, over `wss:` trusting `ca`. */
export class RawWebSocketClient {
  text = "";
  private cursor = 0;
  private waiter: { pattern: RegExp; resolve: (m: RegExpExecArray) => void; reject: (e: Error) => void } | undefined;
  private ended = false;

  private constructor(
    private readonly ws: import("ws").WebSocket,
    readonly domain: string,
  ) {
    ws.on("message", (data) => {
      this.text += data.toString();
      this.check();
    });
    ws.on("close", () => {
      this.ended = true;
      this.check();
    });
    ws.on("error", () => {});
  }

  static async connect(url: string, ca: string, domain = "localhost"): Promise<RawWebSocketClient> {
    const { WebSocket } = await import("ws");
    const ws = new WebSocket(url, "xmpp", { ca });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new RawWebSocketClient(ws, domain);
  }

  write(s: string): void {
    this.ws.send(s);
  }

  until(pattern: RegExp): Promise<RegExpExecArray> {
    if (this.waiter !== undefined) throw new Error("one until() at a time");
    return new Promise((resolve, reject) => {
      this.waiter = { pattern, resolve, reject };
      this.check();
    });
  }

  /** `<open/>`, SASL PLAIN (wss: counts as TLS), `<open/>` again; resolves with the features after SASL. */
  async login(username: string, password: string): Promise<string> {
    const open = `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='${this.domain}' version='1.0'/>`;
    this.write(open);
    await this.until(/<\/stream:features>/);
    this.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${Buffer.from(`\0${username}\0${password}`).toString("base64")}</auth>`);
    await this.until(/<success [^>]*\/>|<success [^>]*>[^<]*<\/success>/);
    this.write(open);
    return (await this.until(/<stream:features[^>]*>([\s\S]*?)<\/stream:features>/))[1]!;
  }

  close(): void {
    this.ws.terminate();
  }

  private check(): void {
    const w = this.waiter;
    if (w === undefined) return;
    const rest = this.text.slice(this.cursor);
    const m = new RegExp(w.pattern.source, w.pattern.flags.replace("g", "")).exec(rest);
    if (m !== null) {
      this.waiter = undefined;
      this.cursor += m.index + m[0].length;
      w.resolve(m);
    } else if (this.ended) {
      this.waiter = undefined;
      w.reject(new Error(`WebSocket closed before ${w.pattern} arrived; after the last match we got: ${rest}`));
    }
  }
}
