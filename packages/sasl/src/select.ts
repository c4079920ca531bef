/**
 * Client-side mechanism and channel-binding selection (RFC 6120 §6.3.3, RFC 5802 §6, XEP-0440,
 * XEP-0474 §6 business rules).
 *
 * @module
 */
import type { ClientMechanismOptions } from "./client-types.js";
import { isPlusMechanism } from "./scram-common.js";
import {
  CHANNEL_BINDING_TYPES,
  type ChannelBinding,
  type ChannelBindingType,
  type MechanismName,
} from "./types.js";

/** The default preference order: strongest first. EXTERNAL and ANONYMOUS only apply when asked for. */
export const DEFAULT_MECHANISM_PREFERENCE: readonly MechanismName[] = Object.freeze([
  "EXTERNAL",
  "SCRAM-SHA-512-PLUS",
  "SCRAM-SHA-256-PLUS",
  "SCRAM-SHA-1-PLUS",
  "SCRAM-SHA-512",
  "SCRAM-SHA-256",
  "SCRAM-SHA-1",
  "PLAIN",
  "ANONYMOUS",
] as const);

/**
 * Pick the channel binding to use for a `-PLUS` mechanism (XEP-0440).
 *
 * - If the server announced its types with `<sasl-channel-binding/>`, the first of `preference`
 *   (default: `tls-exporter`, `tls-unique`, `tls-server-end-point`) that both sides have.
 * - If it announced nothing, the binding the TLS version in use has: `tls-unique` (the default SCRAM
 *   channel binding, RFC 5802 §6.1, and the only one pre-XEP-0440 servers such as Prosody 0.12 and
 *   ejabberd 23.01 implement) when the connection has it (TLS ≤ 1.2), else `tls-exporter` (TLS 1.3,
 *   where RFC 9266 makes it the default and `tls-unique` does not exist).
 * - `force`: the first of `preference` the connection has, whatever the server announced (the user
 *   knows better, e.g. a server that implements `tls-server-end-point` without XEP-0440).
 *
 * @param available - channel-binding data the adapter can provide for this connection
 * @param serverTypes - the types from XEP-0440, or `undefined` when the server sent none
 * @param preference - type preference order
 * @returns the binding to use, or `undefined` when there is no usable common type
 */
export function chooseChannelBinding(
  available: readonly ChannelBinding[],
  serverTypes: readonly string[] | undefined,
  preference: readonly ChannelBindingType[] = CHANNEL_BINDING_TYPES,
  force = false,
): ChannelBinding | undefined {
  const has = (t: ChannelBindingType): boolean => available.some((b) => b.type === t);
  const acceptable: readonly string[] = force ? preference : (serverTypes ?? (has("tls-unique") ? ["tls-unique"] : ["tls-exporter"]));
  for (const type of preference) {
    if (!acceptable.includes(type)) continue;
    const cb = available.find((b) => b.type === type);
    if (cb !== undefined) return cb;
  }
  return undefined;
}

/** Input to {@link selectMechanism}. */
export interface MechanismSelectionInput {
  /** The mechanisms the server offered, as listed in `<mechanisms/>`. */
  readonly offered: readonly string[];
  /** XEP-0440 channel-binding types the server announced, or `undefined` if it did not. */
  readonly serverChannelBindingTypes?: readonly string[] | undefined;
  /** Channel-binding data the adapter can provide (empty in browsers). */
  readonly channelBindings?: readonly ChannelBinding[];
  /** What the client can authenticate with. */
  readonly credentials: {
    /** A password is available (PLAIN, SCRAM). */
    readonly password?: boolean;
    /** A client certificate was presented (EXTERNAL). */
    readonly external?: boolean;
    /** Anonymous login is wanted (ANONYMOUS). */
    readonly anonymous?: boolean;
  };
  /** Whether the stream is protected by TLS. */
  readonly tls: boolean;
  /** Allow PLAIN without TLS (never do this outside tests). Default `false`. */
  readonly allowPlainInClear?: boolean;
  /** Allow PLAIN at all (XEP-0474 §6: pin it away once SCRAM worked). Default `true`. */
  readonly allowPlain?: boolean;
  /** Only accept channel-bound mechanisms (`-PLUS`) or EXTERNAL. Default `false`. */
  readonly requireChannelBinding?: boolean;
  /** Preference order; default {@link DEFAULT_MECHANISM_PREFERENCE}. Names not listed are never chosen. */
  readonly preference?: readonly MechanismName[];
  /** Channel-binding type preference; default `tls-exporter`, `tls-unique`, `tls-server-end-point`. */
  readonly channelBindingPreference?: readonly ChannelBindingType[];
  /** Use the first type of `channelBindingPreference` the connection has, whatever the server announced. */
  readonly forceChannelBindingType?: boolean;
}

/** The outcome of {@link selectMechanism}. */
export interface MechanismSelection {
  /** The mechanism to start. */
  readonly mechanism: MechanismName;
  /** For `-PLUS`: the channel binding to use. */
  readonly channelBinding?: ChannelBinding;
  /**
   * For non-PLUS SCRAM: whether to send the GS2 flag `y`. True only when the client has channel-binding
   * data and the server offered no `-PLUS` mechanism; `n` when the server offers `-PLUS` but there is
   * no common type (XEP-0440 §3, XEP-0474 §6), since `y` would then (rightly) be refused.
   */
  readonly clientSupportsChannelBinding: boolean;
  /** The fields to spread into {@link ClientMechanismOptions} (`channelBinding`, `clientSupportsChannelBinding`). */
  readonly options: Pick<ClientMechanismOptions, "channelBinding" | "clientSupportsChannelBinding">;
}

/**
 * Choose the best mechanism the server offers that the client can use:
 * EXTERNAL (if a certificate is configured) > SCRAM-SHA-512-PLUS > 256-PLUS > 1-PLUS > SCRAM-SHA-512
 * > 256 > 1 > PLAIN (only with TLS or `allowPlainInClear`) > ANONYMOUS (only if asked for). Never a
 * `-PLUS` mechanism without channel-binding data of a usable type.
 *
 * @param input - what the server offered and what the client has
 * @returns the selection, or `undefined` when nothing acceptable is offered (fail with
 *   `invalid-mechanism`/`mechanism-too-weak` locally)
 */
export function selectMechanism(input: MechanismSelectionInput): MechanismSelection | undefined {
  const offered = new Set(input.offered);
  const available = input.channelBindings ?? [];
  const cb = chooseChannelBinding(available, input.serverChannelBindingTypes, input.channelBindingPreference, input.forceChannelBindingType === true);
  const serverOffersPlus = input.offered.some((m) => /^SCRAM-.*-PLUS$/.test(m));
  const creds = input.credentials;
  for (const name of input.preference ?? DEFAULT_MECHANISM_PREFERENCE) {
    if (!offered.has(name)) continue;
    if (name === "EXTERNAL") {
      if (creds.external !== true) continue;
      return { mechanism: name, clientSupportsChannelBinding: false, options: {} };
    }
    if (name === "ANONYMOUS") {
      if (creds.anonymous !== true || input.requireChannelBinding === true) continue;
      return { mechanism: name, clientSupportsChannelBinding: false, options: {} };
    }
    if (creds.password !== true) continue;
    if (name === "PLAIN") {
      if (input.allowPlain === false || input.requireChannelBinding === true) continue;
      if (!input.tls && input.allowPlainInClear !== true) continue;
      return { mechanism: name, clientSupportsChannelBinding: false, options: {} };
    }
    if (isPlusMechanism(name)) {
      if (cb === undefined) continue;
      return {
        mechanism: name,
        channelBinding: cb,
        clientSupportsChannelBinding: true,
        options: { channelBinding: cb },
      };
    }
    if (input.requireChannelBinding === true) continue;
    const y = available.length > 0 && !serverOffersPlus;
    return { mechanism: name, clientSupportsChannelBinding: y, options: { clientSupportsChannelBinding: y } };
  }
  return undefined;
}
