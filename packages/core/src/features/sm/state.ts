/**
 * XEP-0198 session state as plain JSON ({@link SmState}): exported when a resumable session ends,
 * imported to resume it — on a new connection or in a new process.
 *
 * @module
 */
import { FramedParser, NS_CLIENT, toXmlString, XmlElement } from "@xmpp-sansio/xml";
import type { SmState } from "../../session-types.js";
import { type Ledger, parseH } from "./ledger.js";

/** Builds the JSON state of a session. */
export function exportSmState(id: string, jid: string, ledger: Ledger, extra: { max?: number | undefined; location?: string | undefined }): SmState {
  return {
    v: 1,
    id,
    jid,
    inbound: ledger.inbound,
    acked: ledger.acked,
    unacked: serializeStanzas(ledger.unacked()),
    ...(extra.max === undefined ? {} : { max: extra.max }),
    ...(extra.location === undefined ? {} : { location: extra.location }),
  };
}

/**
 * Checks a state (from `JSON.parse` of a stored copy, say) and parses its stanzas.
 * @throws TypeError when it is not a valid {@link SmState}.
 */
export function importSmState(state: SmState): { state: SmState; unacked: XmlElement[] } {
  if (state === null || typeof state !== "object" || state.v !== 1) throw new TypeError("not an SM state (v: 1)");
  if (typeof state.id !== "string" || state.id === "" || typeof state.jid !== "string") throw new TypeError("SM state: id and jid must be strings");
  for (const k of ["inbound", "acked"] as const) {
    if (parseH(String(state[k])) !== state[k]) throw new TypeError(`SM state: ${k} must be an integer in [0, 2^32)`);
  }
  return { state, unacked: parseStanzas(state.unacked, "SM state: unacked") };
}

/** Serializes stanzas for a JSON state (those built without a namespace get `jabber:client`). */
export function serializeStanzas(stanzas: readonly XmlElement[]): string[] {
  return stanzas.map((s) => {
    if (s.ns === "") s.adoptNamespace(NS_CLIENT);
    return toXmlString(s);
  });
}

/** Parses serialized stanzas of a JSON state. @throws TypeError naming `what` on anything else. */
export function parseStanzas(list: readonly string[], what: string): XmlElement[] {
  if (!Array.isArray(list)) throw new TypeError(`${what} must be an array`);
  const parser = new FramedParser();
  const encoder = new TextEncoder();
  return list.map((s, i) => {
    const el = typeof s === "string" ? parser.parse(encoder.encode(s)) : undefined;
    if (!(el instanceof XmlElement)) throw new TypeError(`${what}[${i}] is not one well-formed element`);
    if (el.ns !== NS_CLIENT) throw new TypeError(`${what}[${i}] is not a stanza of '${NS_CLIENT}'`);
    return el;
  });
}
