/**
 * RFC 6125 / RFC 9525 identity checks for `xmpp-server` names: does a verified peer certificate
 * authenticate a domain? Pure; the adapter extracts the identities (it verified the certificate chain).
 *
 * @module
 */
import { punycodeEncode } from "@xmpp-sansio/jid";

/**
 * One identity the adapter read from a verified certificate. Plain strings are DNS-IDs (`dNSName`
 * subjectAltName entries), the form `TlsInfo.peerIdentities` carries by default.
 */
export type CertIdentity =
  | string
  | { readonly type: "dns"; readonly value: string }
  | { readonly type: "srv"; readonly value: string }
  | { readonly type: "xmpp"; readonly value: string };

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * The comparable form of a DNS name: one trailing dot dropped, ASCII lowercased (RFC 6125 §6.4.1), and
 * every U-label turned into its A-label (§6.4.2: internationalized names are compared as A-labels, the
 * form certificates carry). A label that cannot be encoded yields `""` (never matches).
 */
function normalize(name: string): string {
  const n = (name.endsWith(".") ? name.slice(0, -1) : name).replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (isAscii(n)) return n;
  try {
    return n
      .split(".")
      .map((label) => (isAscii(label) ? label : `xn--${punycodeEncode(label.toLowerCase())}`))
      .join(".");
  } catch {
    return "";
  }
}

/** Whether a DNS-ID (possibly with a wildcard) matches `domain` (RFC 6125 §6.4.3, RFC 9525 §6.3). */
export function matchesDnsId(pattern: string, domain: string): boolean {
  const p = normalize(pattern);
  const d = normalize(domain);
  if (p === "" || d === "") return false;
  if (!p.includes("*")) return p === d;
  // Only a complete left-most label may be '*' (RFC 9525 §6.3: no partial wildcards such as 'f*o'),
  // it matches exactly one label, and never a public suffix-like name of fewer than three labels.
  if (!p.startsWith("*.") || p.indexOf("*", 1) !== -1) return false;
  const rest = p.slice(2);
  if (rest.split(".").length < 2) return false;
  const dot = d.indexOf(".");
  if (dot <= 0) return false;
  return d.slice(dot + 1) === rest;
}

/**
 * Whether the certificate identities authenticate `domain` as an XMPP server (RFC 6120 §13.7.2.1,
 * RFC 6125 §6, RFC 9525): a DNS-ID (wildcards in the left-most label only), an SRV-ID for
 * `_xmpp-server.<domain>` (RFC 4985; no wildcards), or an XmppAddr (id-on-xmppAddr) equal to the domain
 * (no wildcards). A CN-ID is never used (RFC 9525 §6.3 drops it). Pure.
 *
 * @example
 * ```ts
 * matchesXmppServerIdentity("capulet.example", ["*.capulet.example", "capulet.example"]); // true
 * matchesXmppServerIdentity("capulet.example", [{ type: "srv", value: "_xmpp-server.capulet.example" }]); // true
 * ```
 */
export function matchesXmppServerIdentity(domain: string, identities: readonly CertIdentity[] | undefined): boolean {
  if (identities === undefined) return false;
  const d = normalize(domain);
  if (d === "") return false;
  for (const id of identities) {
    if (typeof id === "string") {
      if (matchesDnsId(id, d)) return true;
      continue;
    }
    switch (id.type) {
      case "dns":
        if (matchesDnsId(id.value, d)) return true;
        break;
      case "srv": {
        const v = normalize(id.value);
        // RFC 6125 §6.5.1: the service label is compared case-insensitively, no wildcards.
        if (v === `_xmpp-server.${d}` && !v.includes("*")) return true;
        break;
      }
      case "xmpp":
        if (normalize(id.value) === d && !id.value.includes("*")) return true;
        break;
    }
  }
  return false;
}
