/**
 * The optional parts of a client — SASL2/Bind2/FAST (XEP-0388, XEP-0386, XEP-0484), Stream Management
 * (XEP-0198), STARTTLS, SCRAM's hash functions, the one-message SASL mechanisms (PLAIN, ANONYMOUS, EXTERNAL)
 * and reconnection with backoff — as values. {@link LeanClientSession} and {@link LeanClientLifecycle} load a part only when
 * the application passes it (`parts: { sasl2: sasl2ClientPart, sm: smClientPart }`), so a bundle that does
 * not name a part does not carry its code; `ClientSession` and `ClientLifecycle` pass
 * {@link DEFAULT_CLIENT_PARTS} (all) unless told otherwise.
 *
 * @module
 */
import type { Jid } from "@xmpp-sansio/jid";
import {
  type ClientMechanism,
  type ClientMechanismOptions,
  createOneShotClientMechanism,
  type OneShotMechanismName,
  SCRAM_HASH_FUNCTIONS,
  type ScramHashFunction,
} from "@xmpp-sansio/sasl";
import type { SaslClient, SaslClientOptions } from "./features/sasl.js";
import { Sasl2Client } from "./features/sasl2/client.js";
import type { Sasl2ClientSettings } from "./features/sasl2/common.js";
import { SASL2_DEFINITION } from "./features/sasl2/index.js";
import { type StreamManagementOptions, smClient, smClientFeature } from "./features/sm/sm.js";
import { starttlsClientFeature } from "./features/starttls.js";
import { type ReconnectPolicy, type ReconnectPolicyOptions, reconnectClientPart } from "./reconnect.js";
import type { StreamFeature } from "./features/types.js";
import type { SmState, TlsPolicy } from "./session-types.js";

/** SASL2 (XEP-0388) as a value a client session loads: the feature definition and a factory of its client half. */
export interface Sasl2ClientPart {
  /** The stream feature definition (`authenticate` in `urn:xmpp:sasl:2`). */
  readonly definition: StreamFeature;
  /** A new client half for one stream, from the RFC 6120 SASL options and the SASL2 settings. */
  create(sasl: SaslClientOptions, settings: Sasl2ClientSettings, jid: Jid): SaslClient;
}

/** Stream Management (XEP-0198) as a value a client lifecycle loads. */
export interface SmClientPart {
  /** The feature (client half) for one session; `resume` carries the state of the previous one. */
  feature(options: StreamManagementOptions): StreamFeature;
  /** The resumable state of a session's SM half, if it has one. */
  state(session: { featureHalf(name: string): unknown }): SmState | undefined;
}

/** STARTTLS (RFC 6120 §5) as a value a client session loads: the feature for the session's TLS policy. */
export type StarttlsClientPart = (policy: TlsPolicy) => StreamFeature;

/**
 * Reconnection with backoff (RFC 6120 §3.3) as a value a client lifecycle loads: the policy for its
 * `reconnect` settings ({@link reconnectClientPart}).
 */
export type ReconnectClientPart = (options: ReconnectPolicyOptions) => Pick<ReconnectPolicy, "attempts" | "nextDelay" | "reset">;

/**
 * The one-message SASL mechanisms — PLAIN (RFC 4616), ANONYMOUS (RFC 4505), EXTERNAL (RFC 4422 App. A) — as
 * a value a client session loads: the client side of one of them ({@link oneShotMechanismsClientPart}).
 */
export type OneShotMechanismsClientPart = (name: OneShotMechanismName, options: ClientMechanismOptions) => ClientMechanism;

/** The optional parts a client loads; a part left out is off (and its code out of the bundle). */
export interface ClientParts {
  /**
   * STARTTLS ({@link starttlsClientPart}): needed with `tls: "required"` or `"optional"` (a lean session
   * throws without it); `"direct"` and `"none"` (WebSocket, Direct TLS) never use it.
   */
  readonly starttls?: StarttlsClientPart;
  /** SASL2/Bind2/FAST ({@link sasl2ClientPart}); off without it, whatever `sasl2` says. */
  readonly sasl2?: Sasl2ClientPart;
  /** Stream Management ({@link smClientPart}); off without it, whatever `sm` says. */
  readonly sm?: SmClientPart;
  /**
   * SCRAM's hash functions (`sha1Hash`, `sha256Hash`, `sha512Hash` of `@xmpp-sansio/sasl`): a SCRAM
   * mechanism is used only with its hash here. A lean session throws without one (unless its `mechanisms`
   * name no SCRAM mechanism), or when `mechanisms` names a SCRAM mechanism whose hash is missing.
   */
  readonly hashes?: readonly ScramHashFunction[];
  /**
   * PLAIN, ANONYMOUS and EXTERNAL ({@link oneShotMechanismsClientPart}): without it a lean session never
   * uses them (SCRAM only, through `hashes`), and throws when its `mechanisms` option names one of them.
   */
  readonly oneShotMechanisms?: OneShotMechanismsClientPart;
  /**
   * Reconnection with backoff ({@link reconnectClientPart}): without it a lean lifecycle does not reconnect
   * after a lost connection (it still follows a `see-other-host`/`see-other-uri` redirect at once), and
   * throws when given `reconnect` settings.
   */
  readonly reconnect?: ReconnectClientPart;
}

/**
 * SASL2 with Bind2 and FAST: pass it as `parts: { sasl2: sasl2ClientPart }` to a lean client. A full JID asks
 * for its resource; Bind2 lets the server pick one (XEP-0386 §2.3), so Bind2 is used by default only with a
 * bare JID (an explicit `bind2` setting decides otherwise).
 */
export const sasl2ClientPart: Sasl2ClientPart = {
  definition: SASL2_DEFINITION,
  create: (sasl, settings, jid) => new Sasl2Client(sasl, jid.resource !== "" && settings.bind2 === undefined ? { ...settings, bind2: false } : settings),
};

/** Stream Management (XEP-0198): pass it as `parts: { sm: smClientPart }` to a lean client. */
export const smClientPart: SmClientPart = {
  feature: (options) => smClientFeature(options),
  state: (session) => smClient(session)?.exportState(),
};

/** STARTTLS: pass it as `parts: { starttls: starttlsClientPart }` to a lean client over TCP with STARTTLS. */
export const starttlsClientPart: StarttlsClientPart = (policy) => starttlsClientFeature(policy);

/**
 * PLAIN, ANONYMOUS and EXTERNAL: pass it as `parts: { oneShotMechanisms: oneShotMechanismsClientPart }` to a
 * lean client that may log in with PLAIN (a server without SCRAM, over TLS) or names one in `mechanisms`.
 */
export const oneShotMechanismsClientPart: OneShotMechanismsClientPart = createOneShotClientMechanism;

/** All parts: what `ClientSession`, `ClientLifecycle` and the batteries-included `XmppClient`s load. */
export const DEFAULT_CLIENT_PARTS: Readonly<Required<ClientParts>> = { sasl2: sasl2ClientPart, sm: smClientPart, starttls: starttlsClientPart, hashes: SCRAM_HASH_FUNCTIONS, oneShotMechanisms: oneShotMechanismsClientPart, reconnect: reconnectClientPart };
