/**
 * Typed exceptions of every adapter (Node, WebSocket, Deno): one set of classes, so `instanceof` holds
 * whatever transport raised them. Each carries the protocol condition it stands for; the core itself
 * returns errors as values, these are what the adapters' promises reject with. `StreamErrorException`
 * is the core's, re-exported.
 *
 * @module
 */
import { type StanzaError, type StanzaErrorCondition, type StanzaErrorType, StreamErrorException } from "@xmpp-sansio/core";
import type { XmlElement } from "@xmpp-sansio/xml";

export { StreamErrorException };

/**
 * The transport failed: discovery, connect, the TLS handshake or certificate, the WebSocket handshake, or
 * the connection dropped (`code` says which).
 */
export class ConnectionError extends Error {
  /** A short machine-readable reason. */
  readonly code: "no-service" | "connect-failed" | "tls-failed" | "connection-lost" | "closed" | "timeout";
  /** The endpoint concerned (`host:port` or a WebSocket URI), if any. */
  readonly endpoint?: string;

  /** @param code a short machine-readable reason; @param options.endpoint the endpoint concerned */
  constructor(code: ConnectionError["code"], message: string, options?: { cause?: unknown; endpoint?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ConnectionError";
    this.code = code;
    if (options?.endpoint !== undefined) this.endpoint = options.endpoint;
  }
}

/** SASL authentication failed (RFC 6120 §6.5): `condition` is the SASL failure condition, e.g. `not-authorized`. */
export class AuthError extends Error {
  /** The SASL condition (RFC 6120 §6.5), e.g. `not-authorized`, `account-disabled`. */
  readonly condition: string;
  /** The server's descriptive `<text/>`, if any (diagnostics only). */
  readonly text?: string;

  constructor(condition: string, text?: string) {
    super(`authentication failed: <${condition}/>${text !== undefined && text !== "" ? `: ${text}` : ""}`);
    this.name = "AuthError";
    this.condition = condition;
    if (text !== undefined) this.text = text;
  }
}

/** An IQ got `type='error'` back (RFC 6120 §8.3): the parsed error and the whole stanza. */
export class StanzaErrorException extends Error {
  /** The stanza error as a value. */
  readonly stanzaError: StanzaError;
  /** The error stanza as received. */
  readonly stanza: XmlElement;

  constructor(stanzaError: StanzaError, stanza: XmlElement) {
    const detail = stanzaError.text !== undefined && stanzaError.text !== "" ? `: ${stanzaError.text}` : "";
    super(`stanza error <${stanzaError.condition}/> (type ${stanzaError.type})${detail}`);
    this.name = "StanzaErrorException";
    this.stanzaError = stanzaError;
    this.stanza = stanza;
  }

  /** Shortcut for `stanzaError.condition`. */
  get condition(): StanzaErrorCondition {
    return this.stanzaError.condition;
  }

  /** Shortcut for `stanzaError.type`. */
  get type(): StanzaErrorType {
    return this.stanzaError.type;
  }
}

/** A tracked IQ got no answer within its timeout. */
export class IqTimeoutError extends Error {
  /** The `id` of the request. */
  readonly id: string;

  constructor(id: string, timeoutMs?: number) {
    super(`no answer to iq ${JSON.stringify(id)}${timeoutMs === undefined ? "" : ` within ${timeoutMs} ms`}`);
    this.name = "IqTimeoutError";
    this.id = id;
  }
}

/** Resource binding was refused (RFC 6120 §7.7.2): `condition` is the stanza error condition, e.g. `conflict`. */
export class BindError extends Error {
  /** The stanza error condition from the server. */
  readonly condition: string;
  /** The server's descriptive `<text/>`, if any. */
  readonly text?: string;

  constructor(condition: string, text?: string) {
    super(`resource binding refused: <${condition}/>${text !== undefined && text !== "" ? `: ${text}` : ""}`);
    this.name = "BindError";
    this.condition = condition;
    if (text !== undefined) this.text = text;
  }
}
