/**
 * Small element helpers the session and the features share. Internal.
 *
 * @internal
 * @module
 */
import { NS_CLIENT, XmlElement } from "@xmpp-sansio/xml";

/** Whether `el` is a stanza (`message`, `presence`, `iq`) of the content namespace `ns` (default `jabber:client`). */
export function isStanza(el: XmlElement, ns: string = NS_CLIENT): boolean {
  return el.ns === ns && (el.name === "message" || el.name === "presence" || el.name === "iq");
}

/** The text of an element with surrounding XML whitespace removed. */
export function trimmedText(el: XmlElement | undefined): string {
  return el === undefined ? "" : el.text().replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
}

/** Builds `<name xmlns=ns>text</name>`. */
export function el(name: string, ns: string, attrs?: Record<string, string | undefined> | null, ...children: (XmlElement | string)[]): XmlElement {
  return new XmlElement(name, ns, attrs ?? null, children);
}

/** Drops properties whose value is `undefined` (for `exactOptionalPropertyTypes`). */
export function definedOnly<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof T]: Exclude<T[K], undefined> };
}

const IQ_TYPES = new Set(["get", "set", "result", "error"]);

/**
 * RFC 6120 §8.2.3: what is wrong with an IQ (`id` required; `type` one of four; get/set with exactly one
 * payload child), or `undefined` when nothing is.
 */
export function iqProblem(e: XmlElement): string | undefined {
  const type = e.attr("type");
  if (e.attr("id") === undefined) return "an IQ needs an 'id' (RFC 6120 §8.2.3)";
  if (type === undefined || !IQ_TYPES.has(type)) return "an IQ 'type' must be get, set, result or error";
  if ((type === "get" || type === "set") && e.elements().length !== 1) return "an IQ get/set must have exactly one child element";
  return undefined;
}

/** Version of a stream header, parsed per RFC 6120 §4.7.5. */
export interface StreamVersion {
  /** The major version (`1` for RFC 6120 streams). */
  readonly major: number;
  /** The minor version. */
  readonly minor: number;
}

/**
 * Parses a `version` attribute ("major.minor", each an integer, leading zeros ignored — RFC 6120
 * §4.7.5). `undefined` for a missing attribute (a pre-1.0 peer) or a malformed value.
 */
export function parseStreamVersion(value: string | undefined): StreamVersion | undefined {
  if (value === undefined) return undefined;
  const m = /^([0-9]{1,9})\.([0-9]{1,9})$/.exec(value);
  if (m === null) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** The smaller of two optional deadlines (`undefined`: none). */
export function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}

/** Fills `bytes` from `globalThis.crypto.getRandomValues` (throws a `TypeError` when there is none: inject `random`). */
export function defaultRandom(bytes: Uint8Array): void {
  const c = (globalThis as { crypto?: { getRandomValues(a: Uint8Array): Uint8Array } }).crypto;
  if (c === undefined) throw new TypeError("globalThis.crypto.getRandomValues is not available; inject `random`");
  c.getRandomValues(bytes);
}
