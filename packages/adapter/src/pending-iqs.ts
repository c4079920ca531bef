/**
 * The IQ requests an application awaits (`iq()`), settled from the core's `iq-response` / `iq-timeout`
 * events. Shared by the client controller and the Node component.
 *
 * @module
 */
import { parseStanzaError } from "@xmpp-sansio/core";
import type { XmlElement } from "@xmpp-sansio/xml";
import { ConnectionError, IqTimeoutError, StanzaErrorException } from "./errors.js";

interface Pending {
  resolve(stanza: XmlElement): void;
  reject(error: Error): void;
  timeoutMs: number | undefined;
}

/** Awaited IQ requests by id: one promise each, settled exactly once. */
export class PendingIqs {
  private readonly byId = new Map<string, Pending>();

  /** Awaits the answer to the request `id` (as the core's `sendIq` returned it). */
  add(id: string, resolve: (stanza: XmlElement) => void, reject: (error: Error) => void, timeoutMs: number | undefined): void {
    this.byId.set(id, { resolve, reject, timeoutMs });
  }

  /** The core's `iq-response`: resolves with a `result`, rejects with a {@link StanzaErrorException} for `error`. */
  handleResponse(id: string, stanza: XmlElement): void {
    const p = this.take(id);
    if (p === undefined) return;
    if (stanza.attr("type") === "error") p.reject(new StanzaErrorException(parseStanzaError(stanza), stanza));
    else p.resolve(stanza);
  }

  /**
   * The core's `iq-timeout`: an {@link IqTimeoutError}, or a {@link ConnectionError} when `closed` (the core
   * also reports tracked IQs as timed out when the session ends: that is a lost connection).
   */
  handleTimeout(id: string, closed: boolean): void {
    const p = this.take(id);
    if (p === undefined) return;
    if (closed) p.reject(new ConnectionError("closed", `the connection closed before the answer to iq ${JSON.stringify(id)}`));
    else p.reject(new IqTimeoutError(id, p.timeoutMs));
  }

  /** The connection ended: every awaited request fails with a {@link ConnectionError} (`cause`: why). */
  rejectAll(cause: Error | undefined): void {
    for (const [, p] of this.byId) p.reject(new ConnectionError("closed", "the connection closed before the answer", cause === undefined ? undefined : { cause }));
    this.byId.clear();
  }

  private take(id: string): Pending | undefined {
    const p = this.byId.get(id);
    if (p !== undefined) this.byId.delete(id);
    return p;
  }
}
