/**
 * {@link SessionClient}: the {@link ClientController} on a {@link TypedEmitter}, the base class of the
 * clients for runtimes without `node:events` (WebSocket, Deno).
 *
 * @module
 */
import type { ClientEvent, ClientOptions, ClientParts, LifecycleState, SessionFraming } from "@xmpp-sansio/core";
import type { Jid } from "@xmpp-sansio/jid";
import type { XmlElement } from "@xmpp-sansio/xml";
import { ClientController } from "./client.js";
import type { BaseClientOptions, ClientIo, XmppClientEvents } from "./client-types.js";
import type { DeriveKeyFunction } from "./derive-key.js";
import { TypedEmitter } from "./emitter.js";
import type { IqHandler, IqHandlers, IqRequestType } from "./iq-handlers.js";
import type { StanzaFilter, StanzaListener } from "./stanza-match.js";
import type { SessionPump } from "./pump.js";

/**
 * Base class of the client adapters that have no `node:events` (WebSocket, Deno): a {@link TypedEmitter}
 * with the {@link ClientController} API. Subclasses implement {@link SessionClient.connectOnce}: open the
 * transport, then call {@link SessionClient.attach}, feed input through the returned pump, and call
 * {@link SessionClient.transportEnded} once the transport is closed.
 */
export abstract class SessionClient<O extends BaseClientOptions = BaseClientOptions> extends TypedEmitter<XmppClientEvents> {
  /** Our address as configured (prepared). */
  readonly address: Jid;
  /** The options given. */
  protected readonly options: O;
  private readonly controller: ClientController<O>;

  /**
   * @param env `deriveKey`: the runtime's native derivation; `parts`: the optional parts loaded unless
   *   `options.parts` names them (none by default; the batteries-included clients pass `DEFAULT_CLIENT_PARTS`);
   *   `framing`: the sessions' framing when the transport's session options give none (see `ClientController`)
   * @throws JidError for an invalid `jid`, TypeError for a JID without localpart
   */
  constructor(options: O, env: { deriveKey?: DeriveKeyFunction; parts?: ClientParts; framing?: SessionFraming } = {}) {
    super();
    this.options = options;
    this.controller = new ClientController(
      options,
      this,
      {
        connect: (redirect) => this.connectOnce(redirect),
        redirectTarget: (uri) => this.redirectTarget(uri),
      },
      env,
    );
    this.address = this.controller.address;
  }

  /** Opens one connection (see `ClientTransport.connect`). */
  protected abstract connectOnce(redirect: string | undefined): Promise<void>;

  /** Whether a `see-other-uri` is followed (see `ClientTransport.redirectTarget`). Default: never. */
  protected redirectTarget(_uri: string): string | undefined {
    return undefined;
  }

  /** The full JID while online, else undefined. */
  get jid(): Jid | undefined {
    return this.controller.jid;
  }

  /** Whether the session is online (stanzas may be sent). */
  get isOnline(): boolean {
    return this.controller.isOnline;
  }

  /** The SASL mechanism of the current connection, once authenticated. */
  get mechanism(): string | undefined {
    return this.controller.mechanism;
  }

  /** See {@link ClientController.online}. */
  online(): Promise<Jid> {
    return this.controller.online();
  }

  /** See {@link ClientController.send}. */
  send(stanza: XmlElement): void {
    this.controller.send(stanza);
  }

  /** See {@link ClientController.iq}. */
  iq(iq: XmlElement, options: { timeoutMs?: number } = {}): Promise<XmlElement> {
    return this.controller.iq(iq, options);
  }

  /** See {@link ClientController.iqGet}. */
  iqGet(payload: XmlElement, to?: string, options: { timeoutMs?: number } = {}): Promise<XmlElement | undefined> {
    return this.controller.iqGet(payload, to, options);
  }

  /** See {@link ClientController.iqSet}. */
  iqSet(payload: XmlElement, to?: string, options: { timeoutMs?: number } = {}): Promise<XmlElement | undefined> {
    return this.controller.iqSet(payload, to, options);
  }

  /** See {@link ClientController.onIq}. */
  onIq(type: IqRequestType, ns: string, name: string, handler: IqHandler): () => void {
    return this.controller.onIq(type, ns, name, handler);
  }

  /** See {@link ClientController.onMessage}. */
  onMessage(filter: StanzaFilter, listener: StanzaListener): () => void {
    return this.controller.onMessage(filter, listener);
  }

  /** See {@link ClientController.onPresence}. */
  onPresence(filter: StanzaFilter, listener: StanzaListener): () => void {
    return this.controller.onPresence(filter, listener);
  }

  /** The IQ handlers answering requests to this client (features, identities, `addFeature`). */
  get iqHandlers(): IqHandlers {
    return this.controller.iqHandlers;
  }

  /** See {@link ClientController.stanzas}. */
  stanzas(): AsyncIterableIterator<XmlElement> {
    return this.controller.stanzas();
  }

  /** See {@link ClientController.close}. */
  close(): Promise<void> {
    return this.controller.close();
  }

  /** See `ClientController.exportState`. */
  exportState(): LifecycleState | undefined {
    return this.controller.exportState();
  }

  /** Whether `close()` was called (subclasses stop connecting). */
  protected get closedByUser(): boolean {
    return this.controller.closedByUser;
  }

  /** See {@link ClientController.attach}. */
  protected attach(sessionOptions: Omit<ClientOptions, "jid" | "password">, io: ClientIo): SessionPump<ClientEvent> {
    return this.controller.attach(sessionOptions, io);
  }

  /** See {@link ClientController.transportError}. */
  protected transportError(error: Error): void {
    this.controller.transportError(error);
  }

  /** See {@link ClientController.transportEnded}. */
  protected transportEnded(pump: SessionPump<ClientEvent>, transportError?: Error): void {
    this.controller.transportEnded(pump, transportError);
  }
}
