/**
 * XEP-0156 connection discovery: the host-meta document in XML (RFC 6415 XRD) and JSON (JRD), parsed by
 * pure functions that never throw, and a small fetcher with an injectable `fetch`.
 *
 * @module
 */
import { FramedParser, type XmlElement } from "@xmpp-sansio/xml";
import { checkWebSocketUri, type EndpointPolicy, parseUrl } from "./uri.js";

export { checkWebSocketUri, type EndpointPolicy, parseUrl } from "./uri.js";

/** XRD 1.0 namespace (the root `<XRD/>` of `/.well-known/host-meta`). */
export const NS_XRD = "http://docs.oasis-open.org/ns/xri/xrd-1.0";
/** XEP-0156 link relation of an RFC 7395 WebSocket endpoint. */
export const REL_WEBSOCKET = "urn:xmpp:alt-connections:websocket";
/** XEP-0156 link relation of a BOSH endpoint (listed for completeness; this package does not speak BOSH). */
export const REL_BOSH = "urn:xmpp:alt-connections:xbosh";

/** One `<Link/>` (XML) or `links[]` entry (JSON) of a host-meta document. */
export interface HostMetaLink {
  /** The link relation, e.g. `urn:xmpp:alt-connections:websocket` (XEP-0156 §3). */
  readonly rel: string;
  /** The endpoint URL as published (checked by {@link checkWebSocketUri} before use). */
  readonly href: string;
}

/** Host-meta documents larger than this are ignored (they are a few hundred bytes in practice). */
export const MAX_HOST_META_BYTES = 64 * 1024;

const XRD_LIMITS = { maxStanzaBytes: MAX_HOST_META_BYTES } as const;

/**
 * Parses an XRD host-meta document (`/.well-known/host-meta`) with the strict XMPP XML parser and returns
 * its `<Link rel href/>` children, in document order. Anything that is not a well-formed XRD (wrong root
 * namespace, comments, DTDs, garbage, too large) yields `[]`. Never throws.
 */
export function parseHostMetaXml(document: string | Uint8Array): HostMetaLink[] {
  try {
    const bytes = typeof document === "string" ? new TextEncoder().encode(document) : document;
    if (bytes.length > MAX_HOST_META_BYTES) return [];
    const root = new FramedParser(XRD_LIMITS).parse(bytes);
    if (!isElement(root) || !root.is("XRD", NS_XRD)) return [];
    const links: HostMetaLink[] = [];
    for (const link of root.getChildren("Link", NS_XRD)) {
      const rel = link.attr("rel");
      const href = link.attr("href");
      if (rel !== undefined && href !== undefined) links.push({ rel, href });
    }
    return links;
  } catch {
    return [];
  }
}

function isElement(r: unknown): r is XmlElement {
  return typeof r === "object" && r !== null && !("condition" in r);
}

/**
 * Parses a JSON host-meta document (`/.well-known/host-meta.json`, RFC 6415 §3.2 / JRD) and returns the
 * `links[]` entries that have string `rel` and `href`, in order. Invalid JSON, a wrong shape or a document
 * larger than {@link MAX_HOST_META_BYTES} yields `[]`. Never throws.
 */
export function parseHostMetaJson(document: string): HostMetaLink[] {
  try {
    if (typeof document !== "string" || document.length > MAX_HOST_META_BYTES) return [];
    const value: unknown = JSON.parse(document);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
    const links = (value as { links?: unknown }).links;
    if (!Array.isArray(links)) return [];
    const out: HostMetaLink[] = [];
    for (const entry of links) {
      if (typeof entry !== "object" || entry === null) continue;
      const { rel, href } = entry as { rel?: unknown; href?: unknown };
      if (typeof rel === "string" && typeof href === "string") out.push({ rel, href });
    }
    return out;
  } catch {
    return [];
  }
}

/**
 * The acceptable WebSocket endpoints among host-meta links: `rel` {@link REL_WEBSOCKET}, URI checked by
 * {@link checkWebSocketUri}; order kept, duplicates dropped.
 */
export function webSocketEndpoints(links: readonly HostMetaLink[], policy: EndpointPolicy = {}): string[] {
  const out: string[] = [];
  for (const link of links) {
    if (link.rel !== REL_WEBSOCKET) continue;
    const uri = checkWebSocketUri(link.href, policy);
    if (uri !== undefined && !out.includes(uri)) out.push(uri);
  }
  return out;
}

/**
 * The environment's `AbortSignal` type (DOM, Node or Deno), or `never` where none is declared: the package
 * needs no DOM library to type-check, yet a real signal (and the global `fetch`) is accepted where one is.
 */
export type AbortSignalLike = typeof globalThis extends { AbortSignal: { prototype: infer S } } ? S : never;

/** The request options {@link discoverWebSocketEndpoints} passes to `fetch` (a subset of `RequestInit`). */
export interface FetchInit {
  /** Request headers: `Accept` for `host-meta` (XML) or `host-meta.json`. */
  headers: Record<string, string>;
  /** Redirects are followed (`"follow"`); the final URL must still be `https:` (checked on the response). */
  redirect: "follow" | "error";
  /** The caller's `signal` (`DiscoveryOptions.signal`), passed through: aborting it aborts the request. */
  signal?: AbortSignalLike;
}

/** The part of a `fetch` `Response` the discovery reads. */
export interface FetchResponseLike {
  /** HTTP status 200–299. */
  readonly ok: boolean;
  /** The final URL after redirects (checked to still be `https:`), when the `fetch` reports it. */
  readonly url?: string;
  /** The body as text (XRD XML or JSON). */
  text(): Promise<string>;
}

/**
 * The subset of the WHATWG `fetch` the discovery needs. The global `fetch` of browsers, Node and Deno is
 * one (`discoverWebSocketEndpoints(domain, { fetch: globalThis.fetch })` type-checks).
 */
export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponseLike>;

/** Options of {@link discoverWebSocketEndpoints}. */
export interface DiscoveryOptions extends EndpointPolicy {
  /** Default `globalThis.fetch`. Inject for tests or to add a timeout/proxy. */
  fetch?: FetchLike;
  /**
   * Where host-meta lives. Default `https://<domain>`. A non-`https:` base is refused unless
   * `allowInsecure` (then e.g. `http://127.0.0.1:8080` for tests).
   */
  baseUrl?: string;
  /** Passed to `fetch`, to cancel both requests. */
  signal?: AbortSignalLike;
}

/**
 * XEP-0156: fetches `/.well-known/host-meta` (XRD) and `/.well-known/host-meta.json` (JRD) of `domain` in
 * parallel and returns the acceptable WebSocket endpoints, XML results first. A failed or unparsable
 * fetch counts as "no links". Never rejects for anything the network or the documents do; rejects with a
 * `TypeError` for an invalid `domain`/`baseUrl` (caller error).
 */
export async function discoverWebSocketEndpoints(domain: string, options: DiscoveryOptions = {}): Promise<string[]> {
  if (!/^(?:[^\s/?#@:\\[\]]+|\[[0-9A-Fa-f:.]+\])$/.test(domain)) throw new TypeError(`invalid domain for host-meta discovery: ${JSON.stringify(domain)}`);
  const base = options.baseUrl ?? `https://${domain}`;
  const baseUrl = parseUrl(base);
  if (baseUrl === undefined || (baseUrl.protocol !== "https:" && !(baseUrl.protocol === "http:" && options.allowInsecure === true))) {
    throw new TypeError(`host-meta must be fetched over https: ${JSON.stringify(base)}`);
  }
  const fetchFn = options.fetch ?? (globalThis as unknown as { fetch?: FetchLike }).fetch;
  if (fetchFn === undefined) throw new TypeError("no fetch available: pass options.fetch");
  const secureOnly = options.allowInsecure !== true;
  const get = async (path: string, accept: string): Promise<string | undefined> => {
    try {
      const url = parseUrl(path, baseUrl.href)!.href;
      const init: FetchInit = { headers: { accept }, redirect: "follow" };
      if (options.signal !== undefined) init.signal = options.signal;
      const res = await fetchFn(url, init);
      if (!res.ok) return undefined;
      // A redirect must not downgrade the document's origin to plain http.
      if (secureOnly && res.url !== undefined && res.url !== "" && !res.url.startsWith("https:")) return undefined;
      const text = await res.text();
      return text.length > MAX_HOST_META_BYTES ? undefined : text;
    } catch {
      return undefined;
    }
  };
  const [xmlDoc, jsonDoc] = await Promise.all([get("/.well-known/host-meta", "application/xrd+xml"), get("/.well-known/host-meta.json", "application/json")]);
  const links = [...(xmlDoc === undefined ? [] : parseHostMetaXml(xmlDoc)), ...(jsonDoc === undefined ? [] : parseHostMetaJson(jsonDoc))];
  return webSocketEndpoints(links, options);
}
