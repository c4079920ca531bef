/**
 * A session's feature set: the stream-feature definitions it loaded (in negotiation order), its half of
 * each, and the lists of halves with stanza hooks derived from them. A value the session replaces, never
 * changes: replacing a half gives a new set ({@link replaceHalf}), and an online session whose halves are
 * all stateless shared ones holds a set shared with the other sessions of the same features
 * ({@link sharedSet}: one frozen object, instead of the set's fields in every session). Those two are
 * functions, not methods, as only the server uses them: a client bundle leaves them out.
 *
 * @module
 */
import type { XmlElement } from "@xmpp-sansio/xml";
import type { FeatureContext, FeatureHooks, StreamFeature } from "./features/types.js";
import { NO_HOOKS } from "./session-shared.js";
import { sharedDefinitions, sharedHalves } from "./shared-options.js";

/**
 * The features of one session ({@link FeatureSet.load}), with the lookups and hook runs the session
 * makes on them. Never written to once made: {@link replaceHalf} and {@link sharedSet} return another
 * set. The package exports its type only (for the declarations of the session classes).
 * @internal
 */
export class FeatureSet<C extends FeatureContext<unknown>, H extends FeatureHooks<C>> {
  constructor(
    /** The loaded features, in negotiation order (one list shared by the sessions of the same features). */
    readonly defs: readonly StreamFeature[],
    /** This session's half of each loaded feature (parallel to `defs`). */
    readonly halves: readonly H[],
    /** The halves with `handleInbound` (most streams have none or one: SM; the shared empty array when none). */
    readonly inboundHooks: readonly H[],
    /** The halves with `handleOutbound`. */
    readonly outboundHooks: readonly H[],
    /** The halves with `handleStanza`. */
    readonly stanzaTakers: readonly H[],
  ) {}

  /** No features: what a session holds until its role's constructor loads them (never written to). */
  static readonly EMPTY: FeatureSet<never, never> = new FeatureSet<never, never>([], [], NO_HOOKS, NO_HOOKS, NO_HOOKS);

  /**
   * The set of `features` (in negotiation order, each with this session's half, or none when the feature
   * has no half for the role: left out). @throws TypeError on two features claiming one name or namespace.
   */
  static load<C extends FeatureContext<unknown>, H extends FeatureHooks<C>>(features: readonly (readonly [StreamFeature, H | undefined])[]): FeatureSet<C, H> {
    const defs: StreamFeature[] = [];
    const halves: H[] = [];
    let inboundHooks: H[] = NO_HOOKS;
    let outboundHooks: H[] = NO_HOOKS;
    let stanzaTakers: H[] = NO_HOOKS;
    for (let i = 0; i < features.length; i++) {
      const [def, half] = features[i]!;
      for (let j = 0; j < i; j++) {
        const other = features[j]![0];
        if (other.name === def.name) throw new TypeError(`two stream features are named '${def.name}'`);
        const ns = def.namespaces.find((n) => other.namespaces.includes(n));
        if (ns !== undefined) throw new TypeError(`features '${other.name}' and '${def.name}' both claim namespace '${ns}'`);
      }
      if (half === undefined) continue;
      defs.push(def);
      halves.push(half);
      if (half.handleInbound !== undefined) (inboundHooks === NO_HOOKS ? (inboundHooks = []) : inboundHooks).push(half);
      if (half.handleOutbound !== undefined) (outboundHooks === NO_HOOKS ? (outboundHooks = []) : outboundHooks).push(half);
      if (half.handleStanza !== undefined) (stanzaTakers === NO_HOOKS ? (stanzaTakers = []) : stanzaTakers).push(half);
    }
    // Arrays grown by push keep spare capacity (17 slots); exact copies save ~0.5 KiB per session. The
    // definitions are the same for every session with the same features: one shared array for them.
    return new FeatureSet(
      sharedDefinitions(defs),
      halves.slice(),
      inboundHooks === NO_HOOKS ? inboundHooks : inboundHooks.slice(),
      outboundHooks === NO_HOOKS ? outboundHooks : outboundHooks.slice(),
      stanzaTakers === NO_HOOKS ? stanzaTakers : stanzaTakers.slice(),
    );
  }

  /** The half of the feature owning `ns`, if any (a handful of features: a scan beats a map per session). */
  ownerOf(ns: string): H | undefined {
    const defs = this.defs;
    for (let i = 0; i < defs.length; i++) {
      const owned = defs[i]!.namespaces;
      for (let k = 0; k < owned.length; k++) if (owned[k] === ns) return this.halves[i];
    }
    return undefined;
  }

  /** The half of the feature named `name` (e.g. `"sm"`), if loaded. */
  half(name: string): H | undefined {
    const i = this.defs.findIndex((d) => d.name === name);
    return i < 0 ? undefined : this.halves[i];
  }

  /** Lets every feature observe a received stanza (before the session's own checks). */
  observeInbound(stanza: XmlElement, ctx: C): void {
    for (const h of this.inboundHooks) h.handleInbound!(stanza, ctx);
  }

  /** Lets every feature observe a written stanza (counting, holding for acknowledgement). */
  observeOutbound(stanza: XmlElement, ctx: C): void {
    for (const h of this.outboundHooks) h.handleOutbound!(stanza, ctx);
  }

  /** Offers a received stanza to the features in order; `true` when one took it (or the session ended). */
  takes(stanza: XmlElement, ctx: C): boolean {
    for (const h of this.stanzaTakers) {
      if (h.handleStanza!(stanza, ctx)) return true;
      if (ctx.ended) return true;
    }
    return false;
  }
}

/**
 * `set` with `next` in the place of the loaded half `old` (a finished negotiation step handing over to a
 * shared stand-in): same position among the halves and the hooks `next` has, out of the hooks it lacks.
 * `set` itself when `old` is not loaded.
 * @internal
 */
export function replaceHalf<C extends FeatureContext<unknown>, H extends FeatureHooks<C>>(set: FeatureSet<C, H>, old: H, next: H): FeatureSet<C, H> {
  const i = set.halves.indexOf(old);
  if (i < 0) return set;
  const halves = set.halves.slice(); // possibly a shared list (see sharedSet)
  halves[i] = next;
  return new FeatureSet(
    set.defs,
    halves,
    swapHook(set.inboundHooks, old, next, next.handleInbound !== undefined),
    swapHook(set.outboundHooks, old, next, next.handleOutbound !== undefined),
    swapHook(set.stanzaTakers, old, next, next.handleStanza !== undefined),
  );
}

/**
 * When every half of `set` is a stateless shared one (an online session after {@link replaceHalf}), the
 * one frozen set shared by the sessions of the same features and halves; otherwise a set of the session's
 * own whose lists of halves and hooks are shared where they can be.
 * @internal
 */
export function sharedSet<C extends FeatureContext<unknown>, H extends FeatureHooks<C>>(set: FeatureSet<C, H>): FeatureSet<C, H> {
  if (Object.isFrozen(set)) return set;
  const defs = set.defs;
  const own = new FeatureSet<C, H>(
    defs,
    sharedHalves(defs, set.halves),
    sharedHalves(defs, set.inboundHooks),
    sharedHalves(defs, set.outboundHooks),
    sharedHalves(defs, set.stanzaTakers),
  );
  if (!Object.isFrozen(own.halves)) return own; // a half holds state of this session (sharedHalves shares frozen lists only)
  let sets = SHARED_SETS.get(defs) as FeatureSet<C, H>[] | undefined;
  if (sets === undefined) SHARED_SETS.set(defs, (sets = []));
  for (const s of sets) {
    if (s.halves === own.halves && s.inboundHooks === own.inboundHooks && s.outboundHooks === own.outboundHooks && s.stanzaTakers === own.stanzaTakers) return s;
  }
  Object.freeze(own);
  if (sets.length < 16) sets.push(own); // bounded, as the lists themselves
  return own;
}


/** Frozen sets in use, by the (shared) definitions list they belong to (a few per process). */
const SHARED_SETS = new WeakMap<readonly StreamFeature[], FeatureSet<never, never>[]>();

/** `hooks` with `old` replaced by `next` (or left out when `keep` is false); the shared empty list when none is left. */
function swapHook<H>(hooks: readonly H[], old: H, next: H, keep: boolean): readonly H[] {
  const i = hooks.indexOf(old);
  if (i < 0) return hooks;
  const copy = hooks.slice(); // possibly a shared list
  if (keep) copy[i] = next;
  else copy.splice(i, 1);
  return copy.length === 0 ? (NO_HOOKS as H[]) : copy;
}
