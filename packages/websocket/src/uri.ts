/**
 * WebSocket endpoint URIs: the checks every connection makes (RFC 6455 §3), apart from XEP-0156 discovery
 * (`host-meta.ts`), so a client given its `service` does not ship the discovery code.
 *
 * @module
 */

/** Which endpoint URIs are acceptable (`webSocketEndpoints`, `discoverWebSocketEndpoints`, the client). */
export interface EndpointPolicy {
  /**
   * Accept `ws:` endpoints too. Default false: only `wss:` (XEP-0156 §3: the alternative connection must
   * be as secure as the TLS the client would otherwise have used).
   */
  allowInsecure?: boolean;
}

/** The WHATWG `URL` as far as this package uses it (no DOM or Node types needed). */
interface ParsedUrl {
  readonly protocol: string;
  readonly hostname: string;
  readonly username: string;
  readonly password: string;
  readonly hash: string;
  readonly href: string;
}

/** Parses a URL with the platform's WHATWG `URL`; undefined if invalid. @internal */
export function parseUrl(href: string, base?: string): ParsedUrl | undefined {
  const URLCtor = (globalThis as unknown as { URL: new (href: string, base?: string) => ParsedUrl }).URL;
  try {
    return base === undefined ? new URLCtor(href) : new URLCtor(href, base);
  } catch {
    return undefined;
  }
}

/**
 * Checks one WebSocket endpoint URI: absolute `wss:` (or `ws:` when `allowInsecure`), with a host, no
 * credentials and no fragment (RFC 6455 §3). Returns the normalized URI, or undefined if refused.
 */
export function checkWebSocketUri(href: string, policy: EndpointPolicy = {}): string | undefined {
  if (typeof href !== "string" || href.length > 2048 || /[\s\u0000-\u001f]/.test(href)) return undefined;
  // The WHATWG parser "fixes" `wss:///host` and `wss:\\host`; an endpoint must be written properly.
  if (!/^wss?:\/\/[^/\\]/i.test(href)) return undefined;
  const url = parseUrl(href);
  if (url === undefined) return undefined;
  if (url.protocol !== "wss:" && !(url.protocol === "ws:" && policy.allowInsecure === true)) return undefined;
  if (url.hostname === "" || url.username !== "" || url.password !== "" || url.hash !== "" || href.includes("#")) return undefined;
  return url.href;
}
