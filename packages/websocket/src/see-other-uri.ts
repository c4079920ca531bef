/**
 * RFC 7395 §3.7 `<close see-other-uri='…'/>`: which redirects a client follows.
 *
 * @module
 */
import { checkWebSocketUri, parseUrl } from "./uri.js";

/**
 * Decides whether a client connected to `current` may follow a `see-other-uri` to `target`: only to an
 * equally or more secure URI — from `wss:` only to `wss:`, from `ws:` to `ws:` or `wss:` — and only to a
 * valid WebSocket URI (no credentials, no fragment). A relative `target` is resolved against `current`.
 * Returns the absolute URI to connect to, or undefined to refuse. Never throws.
 */
export function seeOtherUriTarget(current: string, target: string): string | undefined {
  const from = parseUrl(current);
  if (from === undefined || (from.protocol !== "wss:" && from.protocol !== "ws:")) return undefined;
  if (typeof target !== "string" || target === "") return undefined;
  const to = parseUrl(target, from.href);
  if (to === undefined) return undefined;
  const insecureAllowed = from.protocol === "ws:";
  return checkWebSocketUri(to.href, { allowInsecure: insecureAllowed });
}
