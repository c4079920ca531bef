/**
 * The check a lean client makes of settings that need an optional part (see `client-parts.ts`), in a module
 * of its own so that a lean bundle carries the check and none of the parts.
 *
 * @module
 */
import type { ClientParts } from "./client-parts.js";

/**
 * Refuses settings that need a part a lean client was not given: a `TypeError` naming the part to pass
 * (`parts: { sm: smClientPart }`) or the full client to use instead. Absent or `false` settings need nothing.
 * @param part - the loaded part, or `undefined`
 * @param settings - the settings that would use it (`sm`, `reconnect`, `sasl2`)
 * @param name - the key in {@link ClientParts} and the name of the part's value (`["sm", "smClientPart"]`)
 * @param full - the class that loads every part (`ClientLifecycle`, `XmppClient`)
 * @param at - where the parts are given (`session.parts` for a lifecycle)
 * @throws TypeError when `settings` are given without `part`
 */
export function requirePart(part: unknown, settings: unknown, [key, value]: readonly [keyof ClientParts, string], full: string, at = "parts"): void {
  if (part === undefined && settings !== undefined && settings !== false) {
    throw new TypeError(`${key} settings given without its part: pass ${at}: { ${key}: ${value} } (from @xmpp-sansio/core), or use ${full}`);
  }
}
