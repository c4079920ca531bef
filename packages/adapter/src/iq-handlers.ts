/**
 * Answering IQ requests (RFC 6120 §8.2.3): a handler per (type, payload namespace, payload name) returns
 * the result payload, nothing (an empty result) or a stanza error; every `get`/`set` gets exactly one
 * answer — `<service-unavailable/>` when no handler takes it, `<internal-server-error/>` when a handler
 * fails unexpectedly, `<bad-request/>` when the request does not carry exactly one payload. Built in, each
 * switchable: XEP-0199 ping, XEP-0030 disco#info from what is registered, XEP-0092 software version.
 *
 * Transport-independent and without timers: the client adapters and the server use the same registry.
 *
 * @module
 */
import { errorReply, type StanzaError, stanzaError } from "@xmpp-sansio/core";
import { XmlElement, xml } from "@xmpp-sansio/xml";
import { IqHandlerError, StanzaErrorException } from "./errors.js";

/** XEP-0199 ping. */
export const NS_PING = "urn:xmpp:ping";
/** XEP-0030 service discovery, information. */
export const NS_DISCO_INFO = "http://jabber.org/protocol/disco#info";
/** XEP-0092 software version. */
export const NS_VERSION = "jabber:iq:version";

/** The two request types of RFC 6120 §8.2.3. */
export type IqRequestType = "get" | "set";

/**
 * What an IQ handler gives back: the `result` payload element, nothing for an empty `result`, or a
 * {@link StanzaError} value (`stanzaError("item-not-found", { text })`) for an `error` answer. Throwing a
 * {@link StanzaErrorException} answers with its error too. A complete reply — an `<iq/>` in the request's
 * namespace, `type` `result` or `error`, with the request's `id` (what `errorReply()` or the im
 * package's `Roster.handlePush` build) — is sent as it is.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing answers with an empty result
export type IqHandlerResult = XmlElement | StanzaError | undefined | void;

/**
 * Answers one IQ request: `iq` is the whole request (`from`, `id`…), `payload` its one child element.
 * May be async. Anything thrown other than a {@link StanzaErrorException} is answered
 * `<internal-server-error/>` and reported as an {@link IqHandlerError}.
 */
export type IqHandler = (iq: XmlElement, payload: XmlElement) => IqHandlerResult | Promise<IqHandlerResult>;

/** A XEP-0030 identity (`<identity category type name/>`). */
export interface DiscoIdentity {
  /** E.g. `client`, `server`, `component`. */
  category: string;
  /** E.g. `bot`, `pc`, `im`. */
  type: string;
  /** A human-readable name. */
  name?: string;
  /** The `xml:lang` of {@link DiscoIdentity.name}. */
  lang?: string;
}

/** Built-in answers and the default answer of an {@link IqHandlers} registry. */
export interface IqHandlersOptions {
  /** XEP-0199: answer `<ping xmlns='urn:xmpp:ping'/>` gets. Default `true`. */
  ping?: boolean;
  /**
   * XEP-0030: answer disco#info gets (without `node`) with the identities and the features: the
   * namespaces of the registered handlers, the built-ins, and `features`. Default `true`, identities
   * as given at construction (a client: `client`/`bot`).
   */
  disco?: boolean | { identities?: readonly DiscoIdentity[]; features?: readonly string[] };
  /**
   * XEP-0092: answer software version gets. Default `true` with name `xmpp-sansio` and version
   * `unknown`; give `{ name, version }` for your own, `os` only if you want to tell it (off by default:
   * it helps attackers more than users).
   */
  version?: boolean | { name: string; version: string; os?: string };
  /**
   * A `get`/`set` no handler takes: `"service-unavailable"` (default, RFC 6120 §8.2.3 — the requester
   * is not left waiting) or `"ignore"` (the application answers from its own `iq` listener).
   */
  unhandled?: "service-unavailable" | "ignore";
  /**
   * Most answers of async handlers pending at once (a peer decides how many requests arrive). Past it,
   * requests are answered `<resource-constraint/>` (type `wait`) without calling a handler. Default 1000.
   */
  maxPending?: number;
}

interface Entry {
  readonly handler: IqHandler;
  readonly feature: boolean;
}

const key = (type: string, ns: string, name: string): string => `${type} ${name} ${ns}`;

/**
 * The IQ handlers of one entity (a client, or the server's own address).
 *
 * @example
 * ```ts
 * const iqs = new IqHandlers({ version: { name: "echo-bot", version: "1.0" } });
 * iqs.on("get", "urn:example:time", "time", () => xml("time", { xmlns: "urn:example:time" }, new Date().toISOString()));
 * const reply = await iqs.answer(request); // always exactly one answer to a get/set
 * ```
 */
export class IqHandlers {
  private readonly handlers = new Map<string, Entry>();
  private readonly extraFeatures = new Set<string>();
  private readonly ids: readonly DiscoIdentity[];
  private readonly unhandled: "service-unavailable" | "ignore";
  private readonly maxPending: number;
  private pendingCount = 0;

  /**
   * @param options built-ins and the default answer
   * @param defaultIdentity the disco identity when `options.disco` gives none (a client: `client`/`bot`)
   */
  constructor(options: IqHandlersOptions = {}, defaultIdentity: DiscoIdentity = { category: "client", type: "bot" }) {
    this.unhandled = options.unhandled ?? "service-unavailable";
    this.maxPending = options.maxPending ?? 1000;
    const disco = options.disco ?? true;
    this.ids = (typeof disco === "object" ? disco.identities : undefined) ?? [defaultIdentity];
    if (typeof disco === "object") for (const f of disco.features ?? []) this.extraFeatures.add(f);
    if (options.ping ?? true) this.on("get", NS_PING, "ping", () => undefined);
    if (disco !== false) this.on("get", NS_DISCO_INFO, "query", (_iq, q) => this.discoInfo(q));
    const version = options.version ?? true;
    if (version !== false) {
      const v = version === true ? { name: "xmpp-sansio", version: "unknown" } : version;
      this.on("get", NS_VERSION, "query", () =>
        xml("query", { xmlns: NS_VERSION }, xml("name", {}, v.name), xml("version", {}, v.version), v.os === undefined ? null : xml("os", {}, v.os)),
      );
    }
  }

  /**
   * Registers the handler of requests of `type` whose payload is `<name xmlns=ns/>`, replacing the one
   * (a built-in, too) registered for the same key. `ns` becomes a disco#info feature unless
   * `options.feature` is false. Returns the function that removes it.
   * @throws TypeError for a type other than `get`/`set`
   */
  on(type: IqRequestType, ns: string, name: string, handler: IqHandler, options: { feature?: boolean } = {}): () => void {
    if (type !== "get" && type !== "set") throw new TypeError(`an IQ handler is for "get" or "set", not ${JSON.stringify(type)}`);
    const k = key(type, ns, name);
    const entry: Entry = { handler, feature: options.feature ?? true };
    this.handlers.set(k, entry);
    return () => {
      if (this.handlers.get(k) === entry) this.handlers.delete(k);
    };
  }

  /** Whether a handler takes requests of `type` with payload `<name xmlns=ns/>`. */
  has(type: IqRequestType, ns: string, name: string): boolean {
    return this.handlers.has(key(type, ns, name));
  }

  /** Adds a disco#info feature that no handler stands for (e.g. a message payload the application reads). */
  addFeature(ns: string): void {
    this.extraFeatures.add(ns);
  }

  /** The disco#info features, sorted: the handlers' namespaces and the added ones. */
  features(): string[] {
    const out = new Set(this.extraFeatures);
    for (const [k, e] of this.handlers) if (e.feature) out.add(k.slice(k.lastIndexOf(" ") + 1));
    return [...out].sort();
  }

  /** Answers of async handlers not settled yet. */
  get pending(): number {
    return this.pendingCount;
  }

  /** The disco#info identities. */
  identities(): readonly DiscoIdentity[] {
    return this.ids;
  }

  /**
   * The one answer to an incoming IQ: `undefined` for a `result`/`error` (never answered, RFC 6120
   * §8.2.3) and for an unhandled request with `unhandled: "ignore"`; otherwise the `result` or `error`
   * reply, at once when the handler is synchronous, else as a promise that never rejects. The reply has
   * `to`/`from` swapped and the request's `id`.
   *
   * @param onError told about a handler failing unexpectedly (the answer is `<internal-server-error/>`)
   */
  answer(iq: XmlElement, onError?: (error: IqHandlerError) => void): XmlElement | Promise<XmlElement> | undefined {
    const type = iq.attr("type");
    if (iq.name !== "iq" || (type !== "get" && type !== "set")) return undefined;
    const payloads = iq.elements();
    const payload = payloads[0];
    if (payload === undefined || payloads.length !== 1) return errorReply(iq, stanzaError("bad-request", { text: "an IQ request carries exactly one payload element" }))!;
    const entry = this.handlers.get(key(type, payload.ns, payload.name));
    if (entry === undefined) return this.unhandled === "ignore" ? undefined : errorReply(iq, stanzaError("service-unavailable"))!;
    const fail = (err: unknown): XmlElement => {
      if (err instanceof StanzaErrorException) return safeErrorReply(iq, err.stanzaError);
      try {
        onError?.(new IqHandlerError(iq, err));
      } catch {
        // a throwing error listener changes nothing: the requester still gets its answer
      }
      return errorReply(iq, stanzaError("internal-server-error"))!;
    };
    if (this.pendingCount >= this.maxPending) return errorReply(iq, stanzaError("resource-constraint", { text: "too many requests in progress" }))!;
    let out: IqHandlerResult | Promise<IqHandlerResult>;
    try {
      out = entry.handler(iq, payload);
    } catch (err) {
      return fail(err);
    }
    if (isThenable(out)) {
      this.pendingCount++;
      const settled = <T>(x: T): T => {
        this.pendingCount--;
        return x;
      };
      return Promise.resolve(out).then(settled, (err: unknown) => Promise.reject(settled(err))).then(
        (r) => {
          try {
            return this.reply(iq, r);
          } catch (err) {
            return fail(err);
          }
        },
        fail,
      );
    }
    try {
      return this.reply(iq, out);
    } catch (err) {
      return fail(err);
    }
  }

  private reply(iq: XmlElement, r: IqHandlerResult): XmlElement {
    if (r === undefined || r === null) return resultReply(iq);
    if (r instanceof XmlElement) {
      if (r.name !== "iq" || r.ns !== iq.ns) return resultReply(iq, r);
      // A complete reply (what `Roster.handlePush` or `errorReply` give): sent as is if it answers this request.
      const type = r.attr("type");
      if ((type === "result" || type === "error") && r.attr("id") === iq.attr("id")) return r;
      throw new TypeError("an IQ handler returned an <iq/> that is not a result or error with the request's id");
    }
    if (typeof r === "object" && typeof (r as StanzaError).condition === "string") return safeErrorReply(iq, r as StanzaError);
    throw new TypeError(`an IQ handler returned ${typeof r}: return the payload element, nothing, or a StanzaError`);
  }

  private discoInfo(query: XmlElement): XmlElement | StanzaError {
    // No nodes (XEP-0030 §3.2): an entity with none answers a node query with item-not-found.
    if (query.attr("node") !== undefined) return stanzaError("item-not-found");
    const q = xml("query", { xmlns: NS_DISCO_INFO });
    for (const id of this.ids) q.append(xml("identity", { category: id.category, type: id.type, name: id.name, "xml:lang": id.lang }));
    for (const f of this.features()) q.append(xml("feature", { var: f }));
    return q;
  }
}

/** The `result` answer to `iq`, with `payload` if given: same namespace and `id`, `to`/`from` swapped. */
export function resultReply(iq: XmlElement, payload?: XmlElement): XmlElement {
  const attrs = { type: "result", id: iq.attr("id"), to: iq.attr("from"), from: iq.attr("to") };
  const reply = iq.ns === "" ? xml("iq", attrs) : new XmlElement("iq", iq.ns, attrs);
  if (payload !== undefined) reply.append(payload);
  return reply;
}

/** The error reply; an invalid application-built error (unknown condition…) becomes `internal-server-error`. */
function safeErrorReply(iq: XmlElement, err: StanzaError): XmlElement {
  try {
    return errorReply(iq, err)!;
  } catch {
    return errorReply(iq, stanzaError("internal-server-error"))!;
  }
}

function isThenable(x: unknown): x is PromiseLike<IqHandlerResult> {
  return typeof x === "object" && x !== null && typeof (x as { then?: unknown }).then === "function";
}
