/**
 * The types of the client API every adapter shares: its events, its options, and the two interfaces
 * between the {@link ClientController} and a transport.
 *
 * @module
 */
import type {
  ClientParts,
  ClientEvent,
  LifecycleState,
  ReconnectPolicyOptions,
  SansIoSession,
  StanzaFailedEvent,
  StreamErrorCondition,
  StreamManagementOptions,
} from "@xmpp-sansio/core";
import type { Jid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import type { DeriveKeyFunction } from "./derive-key.js";
import type { IqHandlersOptions } from "./iq-handlers.js";
import type { PumpIo } from "./pump.js";
import type { TranscriptFunction } from "./transcript.js";

/** The client session surface an adapter drives (the core's `ClientSession`). */
export interface ClientSessionLike extends SansIoSession<ClientEvent> {
  /**
   * Sends the stream header (RFC 6120 §4.2); called once, right after the transport connected. `now`: monotonic ms.
   */
  start(now: number): void;
  /**
   * Sends an IQ `get`/`set` and tracks its answer: returns the id; the answer comes as `iq-response`, or
   * `iq-timeout` after `timeoutMs` (default: the session's `timeouts.iqMs`). Only online.
   */
  sendIq(iq: XmlElement, now: number, timeoutMs?: number): string;
  /** Answers a `credentials-needed` event with the account password (SASL then continues). */
  supplyCredentials(credentials: { password: string }): void;
}

/** Why a connection ended, as reported by the `close` event. */
export interface ClientCloseInfo {
  /** The core's `closed` reason, or `transport-closed` if the transport went first. */
  reason: string;
  /** The error behind it, if the close was not asked for. */
  error?: Error;
  /** Whether a reconnection (or a redirect) is scheduled. */
  willReconnect: boolean;
}

/** Why a stanza was not delivered (`failed` event). */
export type StanzaFailureReason = StanzaFailedEvent["reason"] | "not-sent";

/** Events of a client, for `on`/`once`/`off` (the same on every transport). */
export interface XmppClientEvents {
  /** Online: the full JID bound; `resumed` when XEP-0198 resumption brought the old session back. */
  online: [jid: Jid, info: { resumed: boolean }];
  /** Every incoming stanza (message, presence, and IQ requests). */
  stanza: [stanza: XmlElement];
  /** Incoming messages. */
  message: [stanza: XmlElement];
  /** Incoming presence. */
  presence: [stanza: XmlElement];
  /**
   * Incoming IQ requests (`get`/`set`), for observation: they are answered by the handlers registered
   * with `onIq` (or the built-ins, or `<service-unavailable/>`). Answers to `iq()` go to its promise;
   * other `result`/`error` IQs are ignored (RFC 6120 §8.2.3) and only seen by `stanza` listeners.
   */
  iq: [stanza: XmlElement];
  /** XEP-0198: the server acknowledged this stanza we sent (it was handled). */
  acked: [stanza: XmlElement];
  /**
   * This stanza we sent (or queued) is lost for good: the session ended before the server acknowledged it
   * and could not be resumed (`closed`, `not-resumable`, `resume-failed`), or the client stopped with it
   * still queued (`not-sent`). The application may send it again.
   */
  failed: [stanza: XmlElement, reason: StanzaFailureReason];
  /**
   * An error while online (stream error, lost connection, failed reconnection), or an IQ handler that
   * failed (`IqHandlerError`; the request was answered `<internal-server-error/>`). Only emitted when
   * someone listens.
   */
  error: [error: Error];
  /** A connection ended. */
  close: [info: ClientCloseInfo];
  /** A reconnection is scheduled. */
  reconnecting: [info: { attempt: number; delayMs: number }];
}

/** Options every client adapter shares. */
export interface BaseClientOptions {
  /** Our address: bare, or full to ask for that resource. */
  jid: string;
  /** The account password. */
  password: string;
  /**
   * Reconnect after a connection that was online drops (not after `close()`, an auth failure, or a
   * `conflict`/`not-authorized`/`policy-violation`/… stream error), resuming the XEP-0198 session when the
   * server allows it. Default on, with the core's `LIFECYCLE_RECONNECT_DEFAULTS` (first delay below 1 s,
   * doubling up to 8 s, full jitter); an object tunes them (`initialDelayMs`, `maxDelayMs`, `factor`,
   * `jitter`, `random`, and `stableAfterMs`: online this long resets the backoff, default 60 000).
   * `false`: a drop ends the client. Reconnection is a part (`reconnectClientPart`): the `XmppClient`s load
   * it; the lean `WebSocketClient` reconnects only when given it (`parts: { reconnect: reconnectClientPart }`),
   * and throws when this is set without it. A `see-other-host`/`see-other-uri` redirect is followed either way.
   */
  reconnect?: boolean | (ReconnectPolicyOptions & { stableAfterMs?: number });
  /**
   * XEP-0198 Stream Management: `false` to not use it, or its settings (acking policy…). Default on,
   * resumable — when its part is loaded (see `parts`).
   */
  sm?: boolean | Omit<StreamManagementOptions, "resume">;
  /**
   * The optional parts loaded, as values (`ClientParts` of `@xmpp-sansio/core`): `sasl2ClientPart`
   * (SASL2/Bind2/FAST), `smClientPart` (Stream Management), `reconnectClientPart` (reconnection with
   * backoff), SCRAM's `hashes`. The batteries-included `XmppClient`s (Node, Deno, WebSocket) load
   * `DEFAULT_CLIENT_PARTS` (all) and take these as overrides; the lean
   * `WebSocketClient` loads only the parts named here, so a bundle without them leaves their code out.
   */
  parts?: ClientParts;
  /** Stanzas `send()` queues while not online (reconnecting). Default 1000; past it `send()` throws `QueueFullError`. */
  maxQueued?: number;
  /** State exported by an earlier process (`ClientController.exportState`): resume its session, send its queue. */
  resume?: LifecycleState;
  /**
   * SCRAM key derivation (PBKDF2 with the server's iteration count): a function answering the core's
   * `derive-key` question asynchronously (default: the adapter's native one — WebCrypto, or `node:crypto`
   * on Node), or `"inline"` for the core's synchronous pure-JS path.
   */
  deriveKey?: "inline" | DeriveKeyFunction;
  /** Highest SCRAM iteration count accepted from a server. Default: the core's (1 000 000). */
  maxScramIterations?: number;
  /**
   * How IQ requests to us are answered ({@link IqHandlersOptions}): the built-in XEP-0199 ping,
   * XEP-0030 disco#info (identity `client`/`bot` unless given) and XEP-0092 version answers (each on by
   * default, `false` turns one off), and `<service-unavailable/>` for requests no handler registered
   * with `onIq` takes (`unhandled: "ignore"` leaves them to your `iq` listener).
   */
  iqAnswers?: IqHandlersOptions;
  /**
   * A readable transcript of the XML both ways (after TLS; SASL credentials elided): `true` prints
   * `-> …` (sent) and `<- …` (received) lines on the console, a function receives `(direction, xml)`.
   */
  transcript?: boolean | TranscriptFunction;
}

/** Where a {@link ClientController} emits its events (an `EventEmitter`, a {@link TypedEmitter}…). */
export interface ClientEventSink {
  /** Emits `event` with its arguments to the listeners (like `EventEmitter.emit`). */
  emit<K extends keyof XmppClientEvents>(event: K, ...args: XmppClientEvents[K]): unknown;
  /** How many listeners `event` has: `error` is only emitted when someone listens. */
  listenerCount(event: keyof XmppClientEvents): number;
}

/** The transport side of a client: opens connections. */
export interface ClientTransport {
  /**
   * Opens one connection and calls {@link ClientController.attach}. `redirect` is a target given by the
   * previous connection (`see-other-uri`, `see-other-host`), already accepted by `redirectTarget`.
   * Rejects with a `ConnectionError` if the transport cannot be opened.
   */
  connect(redirect: string | undefined): Promise<void>;
  /**
   * Decides whether a redirect is followed: a WebSocket `see-other-uri` (RFC 7395 §3.7) or a stream
   * error's `see-other-host` (RFC 6120 §4.9.3.19, `host[:port]`, given as `xmpp:host[:port]`); returns the
   * target to connect to, or undefined. Absent: never.
   */
  redirectTarget?(target: string): string | undefined;
}

/** The writer a transport gives {@link ClientController.attach}. */
export interface ClientIo extends Omit<PumpIo<ClientEvent>, "onClosed"> {
  /** The session is over and its output written: close the transport (gracefully, unless `reason` says otherwise). */
  closeTransport(event: ClientEvent & { type: "closed" }): void;
}

/** Stream errors after which reconnecting would only repeat the failure. */
export const FATAL_STREAM_ERRORS: ReadonlySet<StreamErrorCondition> = new Set([
  "conflict",
  "not-authorized",
  "policy-violation",
  "host-unknown",
  "unsupported-version",
  "invalid-namespace",
]);
