/**
 * A session's feature set: the stream-feature definitions it loaded (in negotiation order), its half of
 * each, and the lists of halves with stanza hooks derived from them. A value the session replaces, never
 * changes: replacing a half gives a new set, and an online session whose halves are all stateless shared
 * ones holds a set shared with the other sessions of the same features (one frozen object, instead of the
 * set's fields in every session).
 *
 * @module
 */
import type { XmlElement } from "@xmpp-sansio/xml";
import type { FeatureContext, FeatureHooks, StreamFeature } from "./features/types.js";
import { NO_HOOKS } from "./session-shared.js";
import { sharedDefinitions, sharedHalves } from "./shared-options.js";

/**
 * The features of one session ({@link FeatureSet.load}), with the lookups and hook runs the session
 * makes on them. Never written to once made: {@link FeatureSet.replace} and {@link FeatureSet.shared}
 * return another set. Not exported from the package.
 * @internal
 */
export class FeatureSet<C extends FeatureContext<unknown>, H extends FeatureHooks<C>> {
  private constructor(
    /** The loaded features, in negotiation order (one list shared by the sessions of the same features). */
    readonly defs: readonly StreamFeature[],
    /** This session's half of each loaded feature (parallel to `defs`). */
    readonly halves: readonly H[],
    // Features with stanza hooks (most streams have none or one: SM). One shared empty array for every
    // set without hooks of a kind.
    private readonly inboundHooks: readonly H[],
    private readonly outboundHooks: readonly H[],
    private readonly stanzaTakers: readonly H[],
  ) {}

  /** No features: what a session holds until its role's constructor loads them. */
  static readonly EMPTY: FeatureSet<never, never> = frozen(new FeatureSet<never, never>([], [], NO_HOOKS, NO_HOOKS, NO_HOOKS));

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

  /**
   * This set with `next` in the place of the loaded half `old` (a finished negotiation step handing over to
   * a shared stand-in): same position among the halves and the hooks `next` has, out of the hooks it lacks.
   * This set itself when `old` is not loaded.
   */
  replace(old: H, next: H): FeatureSet<C, H> {
    const i = this.halves.indexOf(old);
    if (i < 0) return this;
    const halves = this.halves.slice(); // possibly a shared list (see shared)
    halves[i] = next;
    return new FeatureSet(
      this.defs,
      halves,
      swapHook(this.inboundHooks, old, next, next.handleInbound !== undefined),
      swapHook(this.outboundHooks, old, next, next.handleOutbound !== undefined),
      swapHook(this.stanzaTakers, old, next, next.handleStanza !== undefined),
    );
  }

  /**
   * When every half left is a stateless shared one (an online session after {@link replace}), one frozen
   * set shared by the sessions of the same features and halves; otherwise a set of this session's own
   * whose lists of halves and hooks are shared where they can be.
   */
  shared(): FeatureSet<C, H> {
    if (Object.isFrozen(this)) return this;
    const defs = this.defs;
    const own = new FeatureSet<C, H>(
      defs,
      sharedHalves(defs, this.halves),
      sharedHalves(defs, this.inboundHooks),
      sharedHalves(defs, this.outboundHooks),
      sharedHalves(defs, this.stanzaTakers),
    );
    if (!Object.isFrozen(own.halves)) return own; // a half holds state of this session (sharedHalves shares frozen lists only)
    let sets = SHARED_SETS.get(defs) as FeatureSet<C, H>[] | undefined;
    if (sets === undefined) SHARED_SETS.set(defs, (sets = []));
    for (const s of sets) {
      if (s.halves === own.halves && s.inboundHooks === own.inboundHooks && s.outboundHooks === own.outboundHooks && s.stanzaTakers === own.stanzaTakers) return s;
    }
    if (sets.length < 16) sets.push(own); // bounded, as the lists themselves
    return frozen(own);
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

/** Frozen sets in use, by the (shared) definitions list they belong to (a few per process). */
const SHARED_SETS = new WeakMap<readonly StreamFeature[], FeatureSet<never, never>[]>();

/** `o`, frozen (`Object.freeze` types its result without the private members). */
function frozen<T extends object>(o: T): T {
  Object.freeze(o);
  return o;
}

/** `hooks` with `old` replaced by `next` (or left out when `keep` is false); the shared empty list when none is left. */
function swapHook<H>(hooks: readonly H[], old: H, next: H, keep: boolean): readonly H[] {
  const i = hooks.indexOf(old);
  if (i < 0) return hooks;
  const copy = hooks.slice(); // possibly a shared list
  if (keep) copy[i] = next;
  else copy.splice(i, 1);
  return copy.length === 0 ? (NO_HOOKS as H[]) : copy;
}
