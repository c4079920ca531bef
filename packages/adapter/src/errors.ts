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

/**
 * A stanza error as an exception (RFC 6120 §8.3): what `iq()` rejects with when the answer is
 * `type='error'` (then `stanza` is that answer), and what an IQ handler throws to answer with an error.
 *
 * @example
 * ```ts
 * client.onIq("get", "urn:example:secret", "query", () => {
 *   throw new StanzaErrorException(stanzaError("forbidden", { text: "not for you" }));
 * });
 * ```
 */
export class StanzaErrorException extends Error {
  /** The stanza error as a value. */
  readonly stanzaError: StanzaError;
  /** The error stanza as received (absent when the application built the exception). */
  readonly stanza: XmlElement | undefined;

  /**
   * @param stanzaError the error (`stanzaError(condition, { text })` from the core builds one)
   * @param stanza the error stanza it was read from, if any
   */
  constructor(stanzaError: StanzaError, stanza?: XmlElement) {
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

/**
 * An IQ handler threw something other than a {@link StanzaErrorException} (or its promise rejected): the
 * request was answered `<internal-server-error/>` and this is reported through the `error` event.
 */
export class IqHandlerError extends Error {
  /** The request the handler was answering. */
  readonly stanza: XmlElement;

  /** @param stanza the request; @param cause what the handler threw */
  constructor(stanza: XmlElement, cause: unknown) {
    const payload = stanza.firstElement();
    const what = payload === undefined ? "an IQ" : `<${payload.name} xmlns='${payload.ns}'/>`;
    super(`the IQ handler for ${what} (${stanza.attr("type")}) failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "IqHandlerError";
    this.stanza = stanza;
  }
}
