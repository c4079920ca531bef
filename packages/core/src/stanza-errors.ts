/**
 * Stanza errors (RFC 6120 §8.3): the 22 defined conditions with their default error types, building and
 * parsing `<error/>`, error replies (§8.3.1), and the XEP-0086 legacy `code` mappings in both directions.
 * Peer input never throws; building from invalid application data throws a `TypeError`.
 *
 * @module
 */
import { NS_CLIENT, XmlElement, xml } from "@xmpp-sansio/xml";

/** Namespace of stanza error conditions and their `<text/>` (RFC 6120 §8.3.2). */
export const NS_XMPP_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";

/**
 * The error `type` (RFC 6120 §8.3.2): `auth` retry after providing credentials, `cancel` do not retry,
 * `continue` proceed (a warning), `modify` retry after changing the data, `wait` retry after waiting.
 */
export type StanzaErrorType = "auth" | "cancel" | "continue" | "modify" | "wait";

/** All five error types of RFC 6120 §8.3.2. */
export const STANZA_ERROR_TYPES: readonly StanzaErrorType[] = Object.freeze(["auth", "cancel", "continue", "modify", "wait"] as const);

/** The defined stanza error conditions of RFC 6120 §8.3.3, as element names. */
export type StanzaErrorCondition =
  | "bad-request"
  | "conflict"
  | "feature-not-implemented"
  | "forbidden"
  | "gone"
  | "internal-server-error"
  | "item-not-found"
  | "jid-malformed"
  | "not-acceptable"
  | "not-allowed"
  | "not-authorized"
  | "policy-violation"
  | "recipient-unavailable"
  | "redirect"
  | "registration-required"
  | "remote-server-not-found"
  | "remote-server-timeout"
  | "resource-constraint"
  | "service-unavailable"
  | "subscription-required"
  | "undefined-condition"
  | "unexpected-request";

/**
 * The error type RFC 6120 §8.3.3 gives for each condition ("the associated error type SHOULD be …").
 * Where the RFC names two (`feature-not-implemented`: cancel or modify; `policy-violation`: modify or
 * wait; `unexpected-request`: wait or modify) the first is taken; `undefined-condition` may have any type
 * and gets `cancel`.
 */
const DEFAULT_TYPES: Readonly<Record<StanzaErrorCondition, StanzaErrorType>> = Object.freeze({
  "bad-request": "modify", // §8.3.3.1
  conflict: "cancel", // §8.3.3.2
  "feature-not-implemented": "cancel", // §8.3.3.3
  forbidden: "auth", // §8.3.3.4
  gone: "cancel", // §8.3.3.5
  "internal-server-error": "cancel", // §8.3.3.6
  "item-not-found": "cancel", // §8.3.3.7
  "jid-malformed": "modify", // §8.3.3.8
  "not-acceptable": "modify", // §8.3.3.9
  "not-allowed": "cancel", // §8.3.3.10
  "not-authorized": "auth", // §8.3.3.11
  "policy-violation": "modify", // §8.3.3.12
  "recipient-unavailable": "wait", // §8.3.3.13
  redirect: "modify", // §8.3.3.14
  "registration-required": "auth", // §8.3.3.15
  "remote-server-not-found": "cancel", // §8.3.3.16
  "remote-server-timeout": "wait", // §8.3.3.17
  "resource-constraint": "wait", // §8.3.3.18
  "service-unavailable": "cancel", // §8.3.3.19
  "subscription-required": "auth", // §8.3.3.20
  "undefined-condition": "cancel", // §8.3.3.21 (any type)
  "unexpected-request": "wait", // §8.3.3.22
});

/** All 22 conditions of RFC 6120 §8.3.3, in the RFC's order. */
export const STANZA_ERROR_CONDITIONS: readonly StanzaErrorCondition[] = Object.freeze(Object.keys(DEFAULT_TYPES) as StanzaErrorCondition[]);

/** Whether `name` is one of the 22 stanza error condition names of RFC 6120 §8.3.3. */
export function isStanzaErrorCondition(name: string): name is StanzaErrorCondition {
  return Object.hasOwn(DEFAULT_TYPES, name);
}

/** Whether `type` is one of the five error types of RFC 6120 §8.3.2. */
export function isStanzaErrorType(type: string): type is StanzaErrorType {
  return (STANZA_ERROR_TYPES as readonly string[]).includes(type);
}

/** The error type RFC 6120 §8.3.3 recommends for `condition` (see {@link STANZA_ERROR_CONDITIONS}). */
export function defaultErrorType(condition: StanzaErrorCondition): StanzaErrorType {
  return DEFAULT_TYPES[condition];
}

/** A stanza error as a value: what `<error/>` carries (RFC 6120 §8.3.2). */
export interface StanzaError {
  /** The error type. */
  type: StanzaErrorType;
  /** The defined condition. An unknown condition from the peer is reported as `undefined-condition`. */
  condition: StanzaErrorCondition;
  /** Descriptive text (`<text/>`): diagnostics only, not for programs to interpret (§8.3.2). */
  text?: string;
  /** The `xml:lang` of {@link StanzaError.text}. */
  lang?: string;
  /** The `by` attribute: the entity that generated the error (§8.3.2). */
  by?: string;
  /**
   * For `gone` (§8.3.3.5) and `redirect` (§8.3.3.14): the new address, a URI or IRI (typically
   * `xmpp:…`) carried as the condition element's text.
   */
  redirect?: string;
  /** An application-specific condition element (§8.3.4), in a namespace of its own. */
  applicationCondition?: XmlElement;
  /**
   * The legacy numeric `code` attribute (XEP-0086). When building, {@link legacyCodeFor} the condition
   * is used if this is absent; when parsing, it is the received attribute if it is a 3-digit number.
   */
  legacyCode?: number;
}

/**
 * A {@link StanzaError} for `condition` with the RFC 6120 default type, plus any other fields.
 *
 * @example
 * ```ts
 * stanzaError("item-not-found"); // { type: "cancel", condition: "item-not-found" }
 * stanzaError("policy-violation", { type: "wait", text: "slow down" });
 * ```
 */
export function stanzaError(condition: StanzaErrorCondition, fields?: Partial<Omit<StanzaError, "condition">>): StanzaError {
  return { type: defaultErrorType(condition), ...fields, condition };
}

// ---------------------------------------------------------------------------------------------------
// XEP-0086

/**
 * XEP-0086 §2 table 1 (condition → legacy code). `policy-violation` is not in XEP-0086 (RFC 6120 added
 * it); 406 Not Acceptable is our choice for it.
 */
const LEGACY_CODES: Readonly<Record<StanzaErrorCondition, number>> = Object.freeze({
  "bad-request": 400,
  conflict: 409,
  "feature-not-implemented": 501,
  forbidden: 403,
  gone: 302,
  "internal-server-error": 500,
  "item-not-found": 404,
  "jid-malformed": 400,
  "not-acceptable": 406,
  "not-allowed": 405,
  "not-authorized": 401,
  "policy-violation": 406,
  "recipient-unavailable": 404,
  redirect: 302,
  "registration-required": 407,
  "remote-server-not-found": 404,
  "remote-server-timeout": 504,
  "resource-constraint": 500,
  "service-unavailable": 503,
  "subscription-required": 407,
  "undefined-condition": 500,
  "unexpected-request": 400,
});

/** A condition and type, as {@link conditionForLegacyCode} maps a legacy code. */
export interface LegacyErrorMapping {
  /** The RFC 6120 condition. */
  condition: StanzaErrorCondition;
  /** The type XEP-0086 gives with it. */
  type: StanzaErrorType;
}

/**
 * XEP-0086 §3 table 2 (legacy code → condition and type), exactly, except 402 Payment Required: its
 * condition `<payment-required/>` was removed by RFC 6120 (it exists only in RFC 3920), so it maps to
 * `undefined-condition` with XEP-0086's type `auth` (the code itself stays in
 * {@link StanzaError.legacyCode}).
 */
const LEGACY_TABLE: ReadonlyMap<number, LegacyErrorMapping> = new Map<number, LegacyErrorMapping>([
  [302, { condition: "redirect", type: "modify" }],
  [400, { condition: "bad-request", type: "modify" }],
  [401, { condition: "not-authorized", type: "auth" }],
  [402, { condition: "undefined-condition", type: "auth" }],
  [403, { condition: "forbidden", type: "auth" }],
  [404, { condition: "item-not-found", type: "cancel" }],
  [405, { condition: "not-allowed", type: "cancel" }],
  [406, { condition: "not-acceptable", type: "modify" }],
  [407, { condition: "registration-required", type: "auth" }],
  [408, { condition: "remote-server-timeout", type: "wait" }],
  [409, { condition: "conflict", type: "cancel" }],
  [500, { condition: "internal-server-error", type: "wait" }],
  [501, { condition: "feature-not-implemented", type: "cancel" }],
  [502, { condition: "service-unavailable", type: "wait" }],
  [503, { condition: "service-unavailable", type: "cancel" }],
  [504, { condition: "remote-server-timeout", type: "wait" }],
  [510, { condition: "service-unavailable", type: "cancel" }],
]);

/** The legacy codes XEP-0086 §3 defines: 302, 400–409, 500–504 and 510. */
export const LEGACY_ERROR_CODES: readonly number[] = Object.freeze([...LEGACY_TABLE.keys()]);

/**
 * The legacy `code` XEP-0086 §2 assigns to a condition (`gone` and `redirect` are both 302; 400, 404,
 * 407 and 500 are shared by several conditions, so this is not invertible). `policy-violation` → 406.
 */
export function legacyCodeFor(condition: StanzaErrorCondition): number {
  return LEGACY_CODES[condition];
}

/**
 * The condition and type XEP-0086 §3 assigns to a legacy `code`: 302 → `redirect` (temporary; XEP-0086
 * allows `gone` for a permanent one), 402 → `undefined-condition`/`auth` (see {@link LEGACY_ERROR_CODES}),
 * 408 and 504 → `remote-server-timeout`, 502/503/510 → `service-unavailable` (502 with type `wait`).
 *
 * @returns the mapping, or `undefined` for a code XEP-0086 does not list
 */
export function conditionForLegacyCode(code: number): LegacyErrorMapping | undefined {
  const m = LEGACY_TABLE.get(code);
  return m === undefined ? undefined : { condition: m.condition, type: m.type };
}

// ---------------------------------------------------------------------------------------------------
// Build

function checkedAppCondition(app: XmlElement): XmlElement {
  if (!(app instanceof XmlElement)) throw new TypeError("applicationCondition must be an XmlElement");
  if (app.ns === "" || app.ns === NS_XMPP_STANZAS) {
    throw new TypeError(`an application-specific condition needs its own namespace (got "${app.ns}")`);
  }
  return app.clone();
}

function buildError(err: StanzaError, ns: string | undefined): XmlElement {
  if (!isStanzaErrorCondition(err.condition)) throw new TypeError(`unknown stanza error condition "${String(err.condition)}"`);
  if (!isStanzaErrorType(err.type)) throw new TypeError(`unknown stanza error type "${String(err.type)}"`);
  if (err.redirect !== undefined && err.condition !== "gone" && err.condition !== "redirect") {
    throw new TypeError(`redirect is only meaningful with gone or redirect, not "${err.condition}"`);
  }
  const code = err.legacyCode ?? legacyCodeFor(err.condition);
  if (!Number.isInteger(code) || code < 100 || code > 999) throw new TypeError(`legacyCode must be a 3-digit integer, got ${code}`);
  const attrs = { type: err.type, by: err.by, code: String(code) };
  const el = ns === undefined ? xml("error", attrs) : new XmlElement("error", ns, attrs);
  const cond = new XmlElement(err.condition, NS_XMPP_STANZAS);
  if (err.redirect !== undefined && err.redirect !== "") cond.append(err.redirect);
  el.append(cond);
  if (err.text !== undefined) {
    const text = new XmlElement("text", NS_XMPP_STANZAS, null, [err.text]);
    if (err.lang !== undefined) text.setAttr("xml:lang", err.lang);
    el.append(text);
  }
  if (err.applicationCondition !== undefined) el.append(checkedAppCondition(err.applicationCondition));
  return el;
}

/**
 * Builds the `<error/>` child of an error stanza (RFC 6120 §8.3.2): `type`, optional `by`, the XEP-0086
 * legacy `code` ({@link StanzaError.legacyCode}, else {@link legacyCodeFor} the condition), the condition
 * element (with the URI text for `gone`/`redirect`), optional `<text xml:lang>`, and a copy of the
 * application-specific condition.
 *
 * @param err - the error
 * @param ns - the stanza's content namespace: `jabber:client` (default), `jabber:server`, …
 * @throws TypeError for an unknown condition or type, `redirect` with another condition, a code that is
 *   not 3 digits, or an application condition without a namespace of its own
 * @example
 * ```ts
 * buildStanzaError(stanzaError("item-not-found"));
 * // <error type='cancel' code='404'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>
 * ```
 */
export function buildStanzaError(err: StanzaError, ns: string = NS_CLIENT): XmlElement {
  return buildError(err, ns);
}

/** Options of {@link errorReply}. */
export interface ErrorReplyOptions {
  /**
   * Copy the original stanza's child elements into the reply, before `<error/>` (RFC 6120 §8.3.1 rule 6
   * allows it as a courtesy). Default `false`: the reply carries only the error, which keeps error
   * replies small (no reflection amplification) and never echoes data that may be the cause of the
   * error (oversized or otherwise harmful payloads must not be included, rule 6).
   */
  includeOriginal?: boolean;
}

const STANZA_NAMES: ReadonlySet<string> = new Set(["message", "presence", "iq"]);

/**
 * The error reply to a stanza (RFC 6120 §8.3.1): same element and namespace, `from` and `to` swapped (an
 * absent address stays absent), the same `id` (kept when present; an `iq` without one is replied to
 * without one too), `type='error'`, and the `<error/>` child.
 *
 * Returns `undefined`, and no reply must be sent, when:
 * - the stanza is itself of type `error` (rule 8: never answer an error with an error — loops);
 * - it is an `iq` of type `result` (RFC 6120 §8.2.3 rule 4: no response to a response);
 * - it is not a `message`, `presence` or `iq`.
 *
 * By default the original payload is not included, for `iq` (whose `get`/`set` child the requester
 * still has) and for `message`/`presence` alike; see {@link ErrorReplyOptions.includeOriginal}. Whether
 * swapping the addresses would leak information (rule 2) is the caller's judgement.
 *
 * @example
 * ```ts
 * errorReply(iq, stanzaError("service-unavailable"));
 * ```
 */
export function errorReply(stanza: XmlElement, err: StanzaError, options?: ErrorReplyOptions): XmlElement | undefined {
  if (!STANZA_NAMES.has(stanza.name)) return undefined;
  const type = stanza.attr("type");
  if (type === "error") return undefined;
  if (stanza.name === "iq" && type === "result") return undefined;
  const attrs = { from: stanza.attr("to"), to: stanza.attr("from"), id: stanza.attr("id"), type: "error" };
  // A stanza built without a namespace (taken from the stream when sent) gets a reply built the same way.
  const ns = stanza.ns === "" ? undefined : stanza.ns;
  const reply = ns === undefined ? xml(stanza.name, attrs) : new XmlElement(stanza.name, ns, attrs);
  if (options?.includeOriginal === true) {
    for (const child of stanza.children) {
      if (typeof child === "string") continue;
      if (child.name === "error" && child.ns === stanza.ns) continue;
      reply.append(child.clone());
    }
  }
  reply.append(buildError(err, ns));
  return reply;
}

// ---------------------------------------------------------------------------------------------------
// Parse

function trimXmlSpace(s: string): string {
  return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
}

/** Finds the `<error/>` of a stanza: preferably in the stanza's namespace, else any `error` child. */
function findErrorChild(stanza: XmlElement): XmlElement | undefined {
  let fallback: XmlElement | undefined;
  for (const child of stanza.children) {
    if (!(child instanceof XmlElement) || child.name !== "error") continue;
    if (child.ns === stanza.ns) return child;
    if (child.ns !== NS_XMPP_STANZAS) fallback ??= child;
  }
  return fallback;
}

function parseLegacyCode(value: string | undefined): number | undefined {
  return value !== undefined && /^[1-9][0-9][0-9]$/.test(value) ? Number(value) : undefined;
}

/**
 * Reads a stanza error from the peer, given the error stanza or its `<error/>` child (an element named
 * `error` is taken as the latter). Never throws, whatever the tree:
 * - the condition is the first child of `<error/>` in `urn:ietf:params:xml:ns:xmpp-stanzas` other than
 *   `<text/>`; an unknown one is `undefined-condition` (§8.3.2 requires it);
 * - with no such child, a legacy-only error (`<error code='404'>Not Found</error>`, pre-RFC 3920) is
 *   mapped by XEP-0086 ({@link conditionForLegacyCode}) and its character data becomes `text`;
 * - the type is the `type` attribute when valid, else the legacy mapping's, else the condition's
 *   default; no `<error/>` at all gives `cancel`/`undefined-condition`;
 * - `redirect` is the trimmed text of `<gone/>`/`<redirect/>` when not empty;
 * - the application condition is the first child element of `<error/>` in another namespace.
 */
export function parseStanzaError(stanzaOrErrorEl: XmlElement): StanzaError {
  try {
    return parseUnsafe(stanzaOrErrorEl);
  } catch {
    return { type: "cancel", condition: "undefined-condition" };
  }
}

function parseUnsafe(input: XmlElement): StanzaError {
  const errorEl = input.name === "error" ? input : findErrorChild(input);
  if (errorEl === undefined) return { type: "cancel", condition: "undefined-condition" };
  let condEl: XmlElement | undefined;
  let textEl: XmlElement | undefined;
  let app: XmlElement | undefined;
  for (const child of errorEl.children) {
    if (!(child instanceof XmlElement)) continue;
    if (child.ns === NS_XMPP_STANZAS) {
      if (child.name === "text") textEl ??= child;
      else condEl ??= child;
    } else app ??= child;
  }
  const legacyCode = parseLegacyCode(errorEl.attr("code"));
  const typeAttr = errorEl.attr("type");
  let condition: StanzaErrorCondition;
  let type: StanzaErrorType;
  let text: string | undefined;
  if (condEl !== undefined) {
    condition = isStanzaErrorCondition(condEl.name) ? condEl.name : "undefined-condition";
    type = typeAttr !== undefined && isStanzaErrorType(typeAttr) ? typeAttr : defaultErrorType(condition);
  } else {
    const legacy = legacyCode === undefined ? undefined : conditionForLegacyCode(legacyCode);
    condition = legacy?.condition ?? "undefined-condition";
    type = typeAttr !== undefined && isStanzaErrorType(typeAttr) ? typeAttr : (legacy?.type ?? "cancel");
    const legacyText = trimXmlSpace(errorEl.text());
    if (legacyText !== "") text = legacyText;
  }
  const out: StanzaError = { type, condition };
  if (textEl !== undefined) {
    out.text = textEl.text();
    const lang = textEl.attr("xml:lang");
    if (lang !== undefined) out.lang = lang;
  } else if (text !== undefined) out.text = text;
  const by = errorEl.attr("by");
  if (by !== undefined) out.by = by;
  if ((condition === "gone" || condition === "redirect") && condEl !== undefined) {
    const uri = trimXmlSpace(condEl.text());
    if (uri !== "") out.redirect = uri;
  }
  if (app !== undefined) out.applicationCondition = app;
  if (legacyCode !== undefined) out.legacyCode = legacyCode;
  return out;
}
