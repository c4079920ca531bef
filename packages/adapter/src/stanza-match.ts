/**
 * Matching incoming messages and presence by type and by a child element (its namespace, its name), for
 * `client.onMessage(filter, listener)` and `client.onPresence(filter, listener)`.
 *
 * @module
 */
import type { XmlElement } from "@xmpp-sansio/xml";

/**
 * What a stanza must look like to match. Every given field must match; an empty filter matches all.
 *
 * @example
 * ```ts
 * { type: "chat", child: { name: "body" } }     // chat messages with a body
 * { child: "http://jabber.org/protocol/chatstates" } // anything carrying a chat state
 * { type: ["subscribe", "unsubscribe"] }        // subscription requests (presence)
 * ```
 */
export interface StanzaFilter {
  /**
   * The `type` (one or several). A message without `type` is `normal`, a presence without `type` is
   * `available` (RFC 6121 §5.2.2, §4.7.1), so those names match them.
   */
  type?: string | readonly string[];
  /**
   * A child element the stanza must have: a namespace (string), or `{ ns, name }` with either part (a
   * missing `ns` is the stanza's own, e.g. `{ name: "body" }`). The first matching child is passed to
   * the listener.
   */
  child?: string | { ns?: string; name?: string };
}

/** A listener of {@link StanzaFilter} matches: the stanza, and the matched child when the filter names one. */
export type StanzaListener = (stanza: XmlElement, child: XmlElement | undefined) => void;

/** The `type` of a stanza, with RFC 6121's defaults for an absent one. */
export function stanzaType(stanza: XmlElement): string {
  const t = stanza.attr("type");
  if (t !== undefined) return t;
  return stanza.name === "message" ? "normal" : stanza.name === "presence" ? "available" : "";
}

/**
 * Whether `stanza` matches `filter`: `false`, or `{ child }` with the matched child element (undefined
 * when the filter names none).
 */
export function matchStanza(stanza: XmlElement, filter: StanzaFilter): false | { child: XmlElement | undefined } {
  const { type, child } = filter;
  if (type !== undefined) {
    const t = stanzaType(stanza);
    if (typeof type === "string" ? t !== type : !type.includes(t)) return false;
  }
  if (child === undefined) return { child: undefined };
  const ns = typeof child === "string" ? child : (child.ns ?? stanza.ns);
  const name = typeof child === "string" ? undefined : child.name;
  for (const c of stanza.children) {
    if (typeof c !== "string" && c.ns === ns && (name === undefined || c.name === name)) return { child: c };
  }
  return false;
}

/**
 * The `onMessage`/`onPresence` registrations of a client: each a stanza name, a filter and a listener, called
 * in registration order for every incoming stanza that matches.
 */
export class StanzaMatchers {
  private readonly list: { name: "message" | "presence"; filter: StanzaFilter; listener: StanzaListener }[] = [];

  /** Registers `listener` for `name` stanzas matching `filter`; returns the function that removes it. */
  add(name: "message" | "presence", filter: StanzaFilter, listener: StanzaListener): () => void {
    const m = { name, filter, listener };
    this.list.push(m);
    return () => {
      const i = this.list.indexOf(m);
      if (i >= 0) this.list.splice(i, 1);
    };
  }

  /** Hands `stanza` to every matching listener, each call wrapped by `call` (which isolates its exception). */
  dispatch(stanza: XmlElement, call: (fn: () => void) => void): void {
    for (const m of this.list) {
      if (m.name !== stanza.name) continue;
      const match = matchStanza(stanza, m.filter);
      if (match !== false) call(() => m.listener(stanza, match.child));
    }
  }
}
