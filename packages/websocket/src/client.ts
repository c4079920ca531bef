/**
 * `XmppClient` over WebSocket (RFC 7395): the core's `ClientSession` with WebSocket framing on the WHATWG
 * `WebSocket` (browsers, Deno, Node ≥ 22; on Node 20 pass `ws`'s class). Browser-safe.
 *
 * @module
 */
import { type BaseClientOptions, ConnectionError, SessionClient, type SessionPump } from "@xmpp-sansio/adapter";
import { type ClientEvent, type ClientOptions, DEFAULT_CLIENT_PARTS } from "@xmpp-sansio/core";
import { type DiscoveryOptions, discoverWebSocketEndpoints } from "./host-meta.js";
import { type FastWebSocket, fastWebSocket } from "./node-ws.js";
import { seeOtherUriTarget } from "./see-other-uri.js";
import {
  acceptableEndpoint,
  handshakeFailure,
  receiveFrame,
  type SocketSession,
  startOnSocket,
  type WebSocketConstructor,
  type WebSocketLike,
  webSocketClass,
  webSocketSessionOptions,
  XMPP_SUBPROTOCOL,
} from "./socket-rules.js";
import { checkWebSocketUri } from "./uri.js";

/**
 * How a client finds its WebSocket endpoints when no `service` is given: `discoverWebSocketEndpoints`
 * (XEP-0156 host-meta) or the application's own lookup. Returns the acceptable URIs, best first.
 */
export type EndpointDiscovery = (domain: string, options: DiscoveryOptions) => Promise<string[]>;

/** Options of the WebSocket {@link XmppClient} (and of {@link WebSocketClient}). */
export interface XmppClientOptions extends BaseClientOptions {
  /**
   * The WebSocket endpoint, e.g. `wss://example.com/xmpp-websocket`. Without it the endpoint is
   * discovered with `discover` on the JID's domain.
   */
  service?: string;
  /**
   * Endpoint discovery when `service` is not given. Default with {@link XmppClient}:
   * `discoverWebSocketEndpoints` (XEP-0156); {@link WebSocketClient} has none (it fails with `no-service`),
   * so a bundle that gives `service` does not carry the host-meta code.
   */
  discover?: EndpointDiscovery;
  /** The `WebSocket` class. Default `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /**
   * Allow `ws:` (no TLS) to any host, and PLAIN over it. Default false: `ws:` only to loopback
   * (`localhost`, `127.0.0.0/8`, `[::1]`); discovered endpoints must be `wss:`.
   */
  allowInsecure?: boolean;
  /** XEP-0156 discovery settings (`fetch`, `baseUrl`). */
  discovery?: Omit<DiscoveryOptions, "allowInsecure">;
  /** Further core options (mechanisms, timeouts, limits, `lang`, `random`…). */
  session?: Omit<ClientOptions, "jid" | "password" | "tls" | "framing">;
  /** WebSocket opening handshake timeout per endpoint, ms. Default 10 000. */
  connectTimeoutMs?: number;
}

const OPEN = 1;
const timers = globalThis as unknown as { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(h: unknown): void };


/**
 * The lean {@link XmppClient}: no default endpoint discovery (give `service`, or `discover`), and only the
 * optional parts named in `parts` — SASL2/Bind2/FAST (`sasl2ClientPart`), Stream Management
 * (`smClientPart`) and reconnection with backoff (`reconnectClientPart`, from `@xmpp-sansio/core`) are off
 * without them (a `see-other-uri`/`see-other-host` redirect is still followed). What a bundle that knows its endpoint
 * imports, so XEP-0156 host-meta, SASL2 and SM code are left out unless named.
 *
 * @example
 * ```ts
 * import { smClientPart } from "@xmpp-sansio/core";
 * const client = new WebSocketClient({ jid: "juliet@example.com", password, service: "wss://example.com/xmpp-websocket", parts: { sm: smClientPart } });
 * ```
 */
export class WebSocketClient extends SessionClient<XmppClientOptions> {
  /** The endpoint of the current (or last) connection. */
  private uri: string | undefined;

  /** The WebSocket URI of the current (or last) connection. */
  get endpoint(): string | undefined {
    return this.uri;
  }

  protected override redirectTarget(target: string): string | undefined {
    if (this.uri === undefined) return undefined;
    const next = seeOtherUriTarget(this.uri, target);
    if (next === undefined) return undefined;
    return this.acceptable(next) ? next : undefined;
  }

  private acceptable(uri: string): boolean {
    return acceptableEndpoint(uri, this.options.allowInsecure) !== undefined;
  }

  /** The discovery used when the options give neither `service` nor `discover` (none here). */
  protected defaultDiscovery(): EndpointDiscovery | undefined {
    return undefined;
  }

  private async endpoints(redirect: string | undefined): Promise<string[]> {
    if (redirect !== undefined) return [redirect];
    const o = this.options;
    if (o.service !== undefined) {
      const uri = checkWebSocketUri(o.service, { allowInsecure: true });
      if (uri === undefined || !this.acceptable(uri)) {
        throw new ConnectionError("connect-failed", `refusing WebSocket endpoint ${JSON.stringify(o.service)}: wss: needed (ws: only on loopback or with allowInsecure)`);
      }
      return [uri];
    }
    const discover = o.discover ?? this.defaultDiscovery();
    if (discover === undefined) throw new ConnectionError("no-service", `no WebSocket endpoint for ${this.address.domain}: pass service, or discover (e.g. discoverWebSocketEndpoints, XEP-0156)`);
    const found = await discover(this.address.domain, { ...(o.discovery ?? {}), allowInsecure: o.allowInsecure === true });
    if (found.length === 0) throw new ConnectionError("no-service", `${this.address.domain} advertises no acceptable WebSocket endpoint (XEP-0156 host-meta)`);
    return found;
  }

  private openSocket(uri: string): Promise<[WebSocketLike, FastWebSocket | undefined]> {
    const Ctor = webSocketClass(this.options.WebSocket);
    const timeoutMs = this.options.connectTimeoutMs ?? 10_000;
    return new Promise<[WebSocketLike, FastWebSocket | undefined]>((resolve, reject) => {
      let settled = false;
      let ws: WebSocketLike;
      let fast: FastWebSocket | undefined;
      try {
        ws = new Ctor(uri, XMPP_SUBPROTOCOL);
        fast = fastWebSocket(ws);
      } catch (err) {
        reject(handshakeFailure("constructor", uri, err));
        return;
      }
      ws.binaryType = "arraybuffer";
      const timer = timers.setTimeout(() => fail(handshakeFailure("timeout", uri)), timeoutMs);
      const fail = (err: ConnectionError) => {
        if (settled) return;
        settled = true;
        timers.clearTimeout(timer);
        try {
          ws.close();
        } catch {
          // already closing
        }
        reject(err);
      };
      ws.addEventListener("open", () => {
        if (settled) return;
        if (ws.protocol !== XMPP_SUBPROTOCOL) {
          fail(handshakeFailure("subprotocol", uri));
          return;
        }
        settled = true;
        timers.clearTimeout(timer);
        resolve([ws, fast]);
      });
      ws.addEventListener("error", () => fail(handshakeFailure("error", uri)));
      ws.addEventListener("close", () => fail(handshakeFailure("closed", uri)));
    });
  }

  protected override async connectOnce(redirect: string | undefined): Promise<void> {
    let lastError: unknown;
    let ws: WebSocketLike | undefined;
    let fast: FastWebSocket | undefined;
    let uri = "";
    for (const candidate of await this.endpoints(redirect)) {
      try {
        [ws, fast] = await this.openSocket(candidate);
        uri = candidate;
        break;
      } catch (err) {
        lastError = err;
      }
    }
    if (ws === undefined) throw lastError instanceof Error ? lastError : new ConnectionError("connect-failed", "could not connect");
    if (this.closedByUser) {
      ws.close(1000);
      throw new ConnectionError("closed", "closed before the connection was established");
    }
    this.uri = uri;
    const sessionOptions: Omit<ClientOptions, "jid" | "password"> = webSocketSessionOptions(uri, this.options.allowInsecure, { ...(this.options.session ?? {}) });
    const socket = ws;
    const decoder = new TextDecoder();
    const pump: SessionPump<ClientEvent> = this.attach(sessionOptions, {
      // RFC 7395 §3.2: text frames only — the WHATWG API sends a string; `ws` takes the UTF-8 bytes as they are.
      write: (data) => {
        if (socket.readyState !== OPEN) return;
        if (fast !== undefined) fast.sendText(data);
        else socket.send(decoder.decode(data));
      },
      closeTransport: () => socket.close(1000),
    });
    // `ws` emits the messages of one socket read one by one, synchronously: they are handed to the session
    // together once the read is done (receiveMessages: one pass of the session, the parser and the pump per
    // read instead of per message, as the server does; each message must still be one element).
    let batch: Uint8Array[] | undefined;
    const flush = () => {
      const messages = batch;
      if (messages === undefined) return;
      batch = undefined;
      pump.guarded((s, now) => {
        if (messages.length > 1 && s.receiveMessages !== undefined) s.receiveMessages(messages, now);
        else for (const m of messages) s.receiveMessage(m, false, now);
      });
    };
    if (fast !== undefined) {
      fast.onMessage((bytes, binary) => {
        if (!binary) {
          if (batch === undefined) {
            batch = [];
            queueMicrotask(flush);
          }
          batch.push(bytes);
          return;
        }
        flush(); // what came before it, first
        pump.guarded((s, now) => s.receiveMessage(bytes, true, now));
      });
    } else {
      socket.addEventListener("message", (ev) => {
        const data = ev.data;
        pump.guarded((s, now) => receiveFrame(s, data, now));
      });
    }
    socket.addEventListener("close", () => {
      flush();
      this.transportEnded(pump);
    });
    socket.addEventListener("error", () => this.transportError(new ConnectionError("connection-lost", `WebSocket error on ${uri}`, { endpoint: uri })));
    pump.interact((s, now) => startOnSocket(s as unknown as SocketSession, uri, now));
  }
}

/**
 * An XMPP client over WebSocket, with the same API as `@xmpp-sansio/node`'s `XmppClient`: XEP-0156
 * discovery when no `service` is given, SASL2/Bind2/FAST and Stream Management loaded (`DEFAULT_CLIENT_PARTS`).
 *
 * @example
 * ```ts
 * import { XmppClient } from "@xmpp-sansio/websocket";
 * import { xml } from "@xmpp-sansio/xml";
 * const client = new XmppClient({ jid: "juliet@example.com", password: "r0m30myr0m30", service: "wss://example.com/xmpp-websocket" });
 * client.on("message", (m) => console.log(m.getChildText("body")));
 * await client.online();
 * client.send(xml("message", { to: "romeo@example.net", type: "chat" }, xml("body", {}, "Art thou not Romeo?")));
 * await client.close();
 * ```
 */
export class XmppClient extends WebSocketClient {
  /** @throws JidError for an invalid `jid`, TypeError for a JID without localpart */
  constructor(options: XmppClientOptions) {
    super(options, { parts: DEFAULT_CLIENT_PARTS });
  }

  /** XEP-0156: `discoverWebSocketEndpoints` on the JID's domain. */
  protected override defaultDiscovery(): EndpointDiscovery {
    return discoverWebSocketEndpoints;
  }
}
