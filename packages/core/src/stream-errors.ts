/**
 * Stream errors (RFC 6120 §4.9): the 25 defined conditions, building `<stream:error/>` and parsing one
 * from the peer. Peer input never throws; building from invalid application data throws a `TypeError`.
 *
 * @module
 */
import { prepareDomain } from "@xmpp-sansio/jid";
import { NS_STREAMS, XmlElement } from "@xmpp-sansio/xml";

/** Namespace of stream error conditions and their `<text/>` (RFC 6120 §4.9.2). */
export const NS_XMPP_STREAMS = "urn:ietf:params:xml:ns:xmpp-streams";

/** The defined stream error conditions of RFC 6120 §4.9.3, as element names. */
export type StreamErrorCondition =
  | "bad-format"
  | "bad-namespace-prefix"
  | "conflict"
  | "connection-timeout"
  | "host-gone"
  | "host-unknown"
  | "improper-addressing"
  | "internal-server-error"
  | "invalid-from"
  | "invalid-namespace"
  | "invalid-xml"
  | "not-authorized"
  | "not-well-formed"
  | "policy-violation"
  | "remote-connection-failed"
  | "reset"
  | "resource-constraint"
  | "restricted-xml"
  | "see-other-host"
  | "system-shutdown"
  | "undefined-condition"
  | "unsupported-encoding"
  | "unsupported-feature"
  | "unsupported-stanza-type"
  | "unsupported-version";

/** All 25 conditions of RFC 6120 §4.9.3, in the RFC's order (§4.9.3.1 … §4.9.3.25). */
export const STREAM_ERROR_CONDITIONS: readonly StreamErrorCondition[] = Object.freeze([
  "bad-format",
  "bad-namespace-prefix",
  "conflict",
  "connection-timeout",
  "host-gone",
  "host-unknown",
  "improper-addressing",
  "internal-server-error",
  "invalid-from",
  "invalid-namespace",
  "invalid-xml",
  "not-authorized",
  "not-well-formed",
  "policy-violation",
  "remote-connection-failed",
  "reset",
  "resource-constraint",
  "restricted-xml",
  "see-other-host",
  "system-shutdown",
  "undefined-condition",
  "unsupported-encoding",
  "unsupported-feature",
  "unsupported-stanza-type",
  "unsupported-version",
] as const);

const CONDITION_SET: ReadonlySet<string> = new Set(STREAM_ERROR_CONDITIONS);

/** Whether `name` is one of the 25 stream error condition names of RFC 6120 §4.9.3. */
export function isStreamErrorCondition(name: string): name is StreamErrorCondition {
  return CONDITION_SET.has(name);
}

/** A stream error as a value: what `<stream:error/>` carries (RFC 6120 §4.9.2). */
export interface StreamError {
  /** The defined condition. An unknown condition from the peer is reported as `undefined-condition`. */
  condition: StreamErrorCondition;
  /** Descriptive text (`<text/>`): diagnostics only, never to be interpreted by programs (§4.9.2). */
  text?: string;
  /** The `xml:lang` of {@link StreamError.text}. */
  lang?: string;
  /**
   * For `see-other-host` (§4.9.3.19): the element's text, a domainpart or IP literal with an optional
   * `:port` (IPv6 in brackets). When parsing, a value that is not a valid `host[:port]` is dropped (the
   * condition stays `see-other-host`): an adapter must never be redirected to garbage. Use
   * {@link parseHostPort} to split it.
   */
  seeOtherHost?: string;
  /** An application-specific condition element (§4.9.4), in a namespace of its own. */
  applicationCondition?: XmlElement;
}

/** A `host[:port]` target, as named by `<see-other-host/>`. */
export interface HostPort {
  /** The host, prepared: a domain name (lowercase, U-labels), an IPv4 literal or a bracketed IPv6 literal. */
  host: string;
  /** The port, when one was given (1–65535). */
  port?: number;
}

/**
 * Splits and validates the text of `<see-other-host/>` (RFC 6120 §4.9.3.19): a domainpart or IP address,
 * optionally followed by `:port`; an IPv6 address must be enclosed in `[` `]` (RFC 3986 / RFC 5952).
 * The host is prepared like a JID domainpart (RFC 7622 §3.2), so IPv6 comes back in canonical form.
 *
 * @param text - the candidate, without surrounding whitespace
 * @returns the parts, or `undefined` if `text` is not a valid `host[:port]`
 * @example
 * ```ts
 * parseHostPort("[2001:DB8::1]:5223"); // { host: "[2001:db8::1]", port: 5223 }
 * parseHostPort("2001:db8::1");        // undefined (brackets are required)
 * ```
 */
export function parseHostPort(text: string): HostPort | undefined {
  if (typeof text !== "string" || text.length === 0 || text.length > 1100) return undefined;
  let host: string;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) return undefined;
    host = text.slice(0, close + 1);
    const rest = text.slice(close + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) return undefined;
      portText = rest.slice(1);
    }
  } else {
    const colon = text.indexOf(":");
    if (colon < 0) host = text;
    else {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
    }
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
    port = Number(portText);
    if (port < 1 || port > 65535) return undefined;
  }
  if (host === "") return undefined;
  let prepared: string;
  try {
    prepared = prepareDomain(host);
  } catch {
    return undefined;
  }
  return port === undefined ? { host: prepared } : { host: prepared, port };
}

/**
 * Builds `<stream:error/>` (RFC 6120 §4.9.2): the condition element and optional `<text xml:lang>` in
 * `urn:ietf:params:xml:ns:xmpp-streams`, then the application-specific condition (a copy) if any.
 *
 * @param err - the error; for `see-other-host`, {@link StreamError.seeOtherHost} is required
 * @returns the `error` element in the streams namespace (`http://etherx.jabber.org/streams`)
 * @throws TypeError for an unknown condition, a missing or invalid `seeOtherHost` (or one given with
 *   another condition), or an application condition without a namespace of its own
 * @example
 * ```ts
 * buildStreamError({ condition: "see-other-host", seeOtherHost: "[2001:db8::9]:5222" });
 * // <stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>[2001:db8::9]:5222</see-other-host></stream:error>
 * ```
 */
export function buildStreamError(err: StreamError): XmlElement {
  if (!isStreamErrorCondition(err.condition)) throw new TypeError(`unknown stream error condition "${String(err.condition)}"`);
  const cond = new XmlElement(err.condition, NS_XMPP_STREAMS);
  if (err.condition === "see-other-host") {
    if (err.seeOtherHost === undefined || parseHostPort(err.seeOtherHost) === undefined) {
      throw new TypeError(`see-other-host needs a valid host[:port] (IPv6 in brackets), got ${JSON.stringify(err.seeOtherHost)}`);
    }
    cond.append(err.seeOtherHost);
  } else if (err.seeOtherHost !== undefined) {
    throw new TypeError(`seeOtherHost is only meaningful with the see-other-host condition, not "${err.condition}"`);
  }
  const el = new XmlElement("error", NS_STREAMS, null, [cond]);
  if (err.text !== undefined) {
    const text = new XmlElement("text", NS_XMPP_STREAMS, null, [err.text]);
    if (err.lang !== undefined) text.setAttr("xml:lang", err.lang);
    el.append(text);
  }
  if (err.applicationCondition !== undefined) el.append(checkedAppCondition(err.applicationCondition, NS_XMPP_STREAMS));
  return el;
}

/** Copies an application-specific condition after checking it has a namespace of its own. */
function checkedAppCondition(app: XmlElement, reserved: string): XmlElement {
  if (!(app instanceof XmlElement)) throw new TypeError("applicationCondition must be an XmlElement");
  if (app.ns === "" || app.ns === reserved) {
    throw new TypeError(`an application-specific condition needs its own namespace (got "${app.ns}")`);
  }
  return app.clone();
}

/** Trims XML whitespace (the S production) from condition texts received from peers. */
function trimXmlSpace(s: string): string {
  return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
}

/**
 * Reads a `<stream:error/>` received from the peer (RFC 6120 §4.9.2). Never throws, whatever the tree:
 * - the condition is the first child in `urn:ietf:params:xml:ns:xmpp-streams` other than `<text/>`;
 *   an unknown or missing one is `undefined-condition`, as §4.9.2 requires for unknown conditions;
 * - `text`/`lang` come from the first `<text/>` in that namespace;
 * - the application condition is the first child element in any other namespace;
 * - for `see-other-host`, the trimmed text is kept only when {@link parseHostPort} accepts it.
 *
 * The element's own name is not checked: the caller matched `error` in the streams namespace already.
 */
export function parseStreamError(el: XmlElement): StreamError {
  try {
    return parseUnsafe(el);
  } catch {
    return { condition: "undefined-condition" };
  }
}

function parseUnsafe(el: XmlElement): StreamError {
  let condEl: XmlElement | undefined;
  let textEl: XmlElement | undefined;
  let app: XmlElement | undefined;
  const children = Array.isArray(el.children) ? el.children : [];
  for (const child of children) {
    if (!(child instanceof XmlElement)) continue;
    if (child.ns === NS_XMPP_STREAMS) {
      if (child.name === "text") textEl ??= child;
      else condEl ??= child;
    } else app ??= child;
  }
  const condition = readCondition(condEl);
  const out: StreamError = { condition };
  if (textEl !== undefined) {
    out.text = textEl.text();
    const lang = textEl.attr("xml:lang");
    if (lang !== undefined) out.lang = lang;
  }
  if (condition === "see-other-host" && condEl !== undefined) {
    const target = trimXmlSpace(condEl.text());
    if (parseHostPort(target) !== undefined) out.seeOtherHost = target;
  }
  if (app !== undefined) out.applicationCondition = app;
  return out;
}

/**
 * The condition an element names. RFC 3920 and its drafts called `not-well-formed` `xml-not-well-formed`
 * (draft-ietf-xmpp-core-22 §4.7.3; RFC 6120 §4.9.3.13 renamed it, since names starting with "xml" are
 * reserved); a peer on that older text still means not well-formed, not an undefined condition.
 */
function readCondition(condEl: XmlElement | undefined): StreamErrorCondition {
  if (condEl === undefined) return "undefined-condition";
  if (isStreamErrorCondition(condEl.name)) return condEl.name;
  return condEl.name === "xml-not-well-formed" ? "not-well-formed" : "undefined-condition";
}

/**
 * A stream error thrown at users by adapters (the core itself returns errors as values). Carries the
 * {@link StreamError} and who raised it.
 */
export class StreamErrorException extends Error {
  /** The error as a value. */
  readonly streamError: StreamError;
  /** `remote`: the peer sent `<stream:error/>`; `local`: this side closed the stream with it. */
  readonly origin: "local" | "remote";

  /**
   * @param streamError - the error
   * @param origin - who raised it (default `remote`)
   * @param options - standard `Error` options (`cause`)
   */
  constructor(streamError: StreamError, origin: "local" | "remote" = "remote", options?: { cause?: unknown }) {
    const who = origin === "remote" ? "peer sent" : "closed with";
    const detail = streamError.text !== undefined && streamError.text !== "" ? `: ${streamError.text}` : "";
    super(`stream error (${who} <${streamError.condition}/>)${detail}`, options);
    this.name = "StreamErrorException";
    this.streamError = streamError;
    this.origin = origin;
  }

  /** Shortcut for `streamError.condition`. */
  get condition(): StreamErrorCondition {
    return this.streamError.condition;
  }
}
