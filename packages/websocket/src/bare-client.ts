/**
 * The thinnest browser client: the core's own {@link LeanClientSession} on one WHATWG `WebSocket`
 * (RFC 7395), with no adapter in between — no promise API, IQ-handler registry, reconnection or
 * lifecycle. What a page that wants the smallest bundle composes; everything the session decides (SASL,
 * binding, stream and stanza errors, limits, timeouts) is the same code every other client runs.
 * Browser-safe.
 *
 * @module
 */
import { type ClientEvent, type ClientExtraOptions, type ClientOptions, errorReply, LeanClientSession, stanzaError } from "@xmpp-sansio/core";
import type { XmlElement } from "@xmpp-sansio/xml";
import { ConnectionError, globalTimers, monotonicNow, type PumpTimers } from "@xmpp-sansio/adapter";
import {
  acceptableEndpoint,
  handshakeFailure,
  receiveFrame,
  startOnSocket,
  type WebSocketConstructor,
  type WebSocketLike,
  webSocketClass,
  webSocketSessionOptions,
  XMPP_SUBPROTOCOL,
} from "./socket-rules.js";

/** Options of {@link connectBareClient}: the core's client options, the endpoint and the event handler. */
export interface BareClientOptions extends Omit<ClientOptions, "framing" | "tls">, Pick<ClientExtraOptions, "parts" | "maxAuthAttempts"> {
  /** The WebSocket endpoint, e.g. `wss://example.com/xmpp-websocket` (no discovery here). */
  service: string;
  /**
   * Every session event, in order (`online`, `stanza`, `iq-response`, `iq-timeout`, `stream-error`,
   * `closed`…). The handler may call the session's methods (`send`, `sendIq`, `close`); what they queue is
   * written when it returns. Return `true` for the `stanza` event of an IQ `get`/`set` that you answer (now
   * or later, with {@link BareClient.send}); any other is answered with `<service-unavailable/>`, as RFC 6120
   * §8.4 asks of an entity that does not handle a request's payload.
   */
  onEvent(event: ClientEvent, session: LeanClientSession): unknown;
  /**
   * The WebSocket is gone and the session closed: called once, after the `closed` event, with the reason
   * when the connection failed (could not open, no `xmpp` subprotocol, handshake timeout, socket error).
   */
  onEnd?(error?: ConnectionError): void;
  /**
   * An exception `onEvent` threw (it never propagates into the session's loop). An IQ `get`/`set` whose
   * handler threw is answered with `<internal-server-error/>`. Default: rethrown in a microtask, so the
   * platform reports it as uncaught.
   */
  onError?(error: unknown): void;
  /** Allow `ws:` (no TLS) to any host, and PLAIN over it. Default false: `ws:` only to loopback. */
  allowInsecure?: boolean;
  /** The `WebSocket` class. Default `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** WebSocket opening handshake timeout, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** The clock the session is given, in ms (monotonic). Default `monotonicNow` (`performance.now()`). */
  now?: () => number;
  /** The timers for the session's deadline and the handshake timeout. Default the global ones. */
  timers?: PumpTimers;
}

/** A running {@link connectBareClient}: the session and the calls that write what they queue. */
export interface BareClient {
  /** The core session (read its `state`, `jid`…; call its methods through {@link run} outside `onEvent`). */
  readonly session: LeanClientSession;
  /** Runs `fn` with the session and the current time, then writes what it queued and delivers its events. */
  run<T>(fn: (session: LeanClientSession, now: number) => T): T;
  /** Sends a stanza (online only; `session.send` and a write). */
  send(stanza: XmlElement): void;
  /** Sends an IQ `get`/`set`; the answer is an `iq-response` or `iq-timeout` event with the returned id. */
  sendIq(iq: XmlElement, timeoutMs?: number): string;
  /** Ends the stream (`<close/>`, RFC 7395 §3.6); `onEnd` follows once the socket has closed. */
  close(): void;
}

const OPEN = 1;

/**
 * Opens `service` and runs a {@link LeanClientSession} on it: the smallest client this project makes
 * (33.0 KB minified and gzipped with SCRAM-SHA-256 only, against 41.4 KB for `WebSocketClient`;
 * `pnpm bundle-size`). Only the parts given in `parts` are loaded, as with `WebSocketClient`. Throws a
 * `TypeError` for an unacceptable endpoint.
 *
 * @example
 * ```ts
 * import { sha256Hash } from "@xmpp-sansio/core";
 * import { connectBareClient } from "@xmpp-sansio/websocket";
 * import { xml } from "@xmpp-sansio/xml";
 *
 * connectBareClient({
 *   jid: "juliet@example.com",
 *   password: "r0m30myr0m30",
 *   service: "wss://example.com/xmpp-websocket",
 *   mechanisms: ["SCRAM-SHA-256"],
 *   parts: { hashes: [sha256Hash] },
 *   onEvent(ev, session) {
 *     if (ev.type === "online") session.send(xml("presence"));
 *     else if (ev.type === "stanza" && ev.stanza.name === "message") console.log(ev.stanza.getChildText("body"));
 *   },
 *   onEnd: (error) => console.log(error?.message ?? "closed"),
 * });
 * ```
 */
export function connectBareClient(options: BareClientOptions): BareClient {
  const { service, onEvent, onEnd, onError, allowInsecure, WebSocket: WS, connectTimeoutMs, now: clock = monotonicNow, timers = globalTimers, ...sessionOptions } = options;
  const uri = acceptableEndpoint(service, allowInsecure);
  if (uri === undefined) throw new TypeError(`not an acceptable WebSocket endpoint: ${service} (wss:, or ws: to loopback or with allowInsecure)`);
  const session = new LeanClientSession(webSocketSessionOptions(uri, allowInsecure, sessionOptions));
  const socket: WebSocketLike = new (webSocketClass(WS))(uri, XMPP_SUBPROTOCOL);
  socket.binaryType = "arraybuffer";
  const decoder = new TextDecoder();
  let timer: unknown;
  let opened = false;
  let ended = false;
  let failure: ConnectionError | undefined;

  const write = (): void => {
    for (let out = session.pollTransmit(); out !== undefined; out = session.pollTransmit()) {
      // RFC 7395 §3.2: one text frame per element.
      if (socket.readyState === OPEN) socket.send(decoder.decode(out));
    }
  };
  const report = (err: unknown): void => {
    if (onError === undefined) {
      queueMicrotask(() => {
        throw err;
      });
      return;
    }
    try {
      onError(err);
    } catch (again) {
      queueMicrotask(() => {
        throw again;
      });
    }
  };
  const deliver = (ev: ClientEvent): void => {
    let taken: unknown;
    let threw = false;
    try {
      taken = onEvent(ev, session);
    } catch (err) {
      // The application's exception is its own: reported, never an exception inside the session's loop.
      threw = true;
      report(err);
    }
    if (ev.type !== "stanza" || taken === true || session.state !== "online") return;
    const type = ev.stanza.name === "iq" ? ev.stanza.attr("type") : undefined;
    if (type !== "get" && type !== "set") return;
    // RFC 6120 §8.2.3: every request gets exactly one answer — the handler's, or ours.
    const reply = errorReply(ev.stanza, stanzaError(threw ? "internal-server-error" : "service-unavailable"));
    if (reply !== undefined) session.send(reply);
  };
  const flush = (): void => {
    write();
    for (let ev = session.pollEvent(); ev !== undefined; ev = session.pollEvent()) {
      deliver(ev);
      write();
    }
    timers.clearTimeout(timer);
    timer = undefined;
    if (session.state === "closed") {
      if (socket.readyState <= OPEN) socket.close(1000);
      return;
    }
    const at = session.nextTimeout();
    if (at !== undefined) timer = timers.setTimeout(() => run((s, t) => s.handleTimeout(t)), Math.max(0, at - clock()));
  };
  const run = <T>(fn: (s: LeanClientSession, now: number) => T): T => {
    try {
      return fn(session, clock());
    } finally {
      flush();
    }
  };
  const end = (): void => {
    if (ended) return;
    ended = true;
    // A session never started (the socket did not open) has nothing to close.
    if (opened && session.state !== "closed") run((s, t) => s.transportClosed(t));
    onEnd?.(failure);
  };
  const fail = (err: ConnectionError): void => {
    failure ??= err;
    if (socket.readyState <= OPEN) socket.close();
    else end();
  };

  const handshake = timers.setTimeout(() => fail(handshakeFailure("timeout", uri)), connectTimeoutMs ?? 10_000);
  socket.addEventListener("open", () => {
    timers.clearTimeout(handshake);
    if (socket.protocol !== XMPP_SUBPROTOCOL) return fail(handshakeFailure("subprotocol", uri));
    opened = true;
    run((s, t) => startOnSocket(s, uri, t));
  });
  socket.addEventListener("message", (ev) => {
    if (session.state === "closed") return;
    run((s, t) => receiveFrame(s, ev.data, t));
  });
  socket.addEventListener("error", () => {
    failure ??= opened ? new ConnectionError("connection-lost", `WebSocket error on ${uri}`, { endpoint: uri }) : handshakeFailure("error", uri);
  });
  socket.addEventListener("close", () => {
    timers.clearTimeout(handshake);
    if (!opened) failure ??= handshakeFailure("closed", uri);
    end();
  });

  return {
    session,
    run,
    send: (stanza) => run((s) => s.send(stanza)),
    sendIq: (iq, timeoutMs) => run((s, t) => s.sendIq(iq, t, timeoutMs)),
    close: () => {
      if (!opened) return fail(new ConnectionError("closed", "closed before the connection was established", { endpoint: uri }));
      run((s, t) => s.close(t));
    },
  };
}
