/**
 * XEP-0078 Non-SASL Authentication (`jabber:iq:auth`): namespaces, the definition, the digest, and the
 * question and answer types both halves share.
 *
 * **Obsolete.** XEP-0078 is deprecated in favour of SASL (RFC 6120 §6); it is here, off by default,
 * because the seed's use case 2 logs in with it. Prefer SASL (SCRAM) everywhere else.
 *
 * @module
 */
import { digest } from "@xmpp-sansio/sasl";
import type { FeatureEvent, StreamFeature } from "../types.js";

/** `jabber:iq:auth` (XEP-0078 §3). */
export const NS_IQ_AUTH = "jabber:iq:auth";
/** `http://jabber.org/features/iq-auth`: the stream feature (XEP-0078 §4). */
export const NS_IQ_AUTH_FEATURE = "http://jabber.org/features/iq-auth";

/** The feature's name (in `feature` events and for `featureHalf`). */
export const IQ_AUTH_FEATURE_NAME = "iq-auth";

/** What non-SASL authentication is, without its halves: IQs before authentication, no stream restart. */
export const IQ_AUTH_DEFINITION: StreamFeature = {
  name: IQ_AUTH_FEATURE_NAME,
  namespaces: [],
  availability: { until: "authenticated" },
  restarts: false,
  mandatory: false,
};

const ENCODER = new TextEncoder();

/**
 * XEP-0078 §3.2: the digest of a login, hex(SHA1(streamId + password)) in lower case. Pure. The server
 * needs the plaintext password to verify it (compare with {@link verifyIqAuthDigest}).
 */
export function iqAuthDigest(streamId: string, password: string): string {
  const h = digest("SHA-1", ENCODER.encode(streamId + password));
  let out = "";
  for (const b of h) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Whether `received` (hex, any case) is the XEP-0078 digest of `password` on stream `streamId`. Constant time in the digest. */
export function verifyIqAuthDigest(streamId: string, password: string, received: string): boolean {
  const expected = iqAuthDigest(streamId, password);
  const got = received.toLowerCase();
  if (got.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ got.charCodeAt(i);
  return diff === 0;
}

/**
 * A question to the application (server): the `data` of a `feature` event named `iq-auth-request`. The
 * application verifies the credentials and checks the resource (RFC 6120 §7.7.2.2: XEP-0078 cannot tell
 * the client another resource, so use the `refuse` or `override` policy), then answers with
 * `iqAuthServer(session).answer(...)`.
 *
 * - `password`: the plaintext password (only ever over TLS).
 * - `digest` + `streamId`: verify with {@link verifyIqAuthDigest} — this needs the stored plaintext
 *   password; a server that stores only SCRAM keys refuses (`not-authorized`).
 */
export type IqAuthRequest =
  | { readonly username: string; readonly resource: string; readonly password: string }
  | { readonly username: string; readonly resource: string; readonly digest: string; readonly streamId: string };

/** The application's answer to an {@link IqAuthRequest}. */
export type IqAuthAnswer =
  | { readonly accept: true }
  | {
      /** `not-authorized` (401: wrong credentials), `conflict` (409: the resource is in use), `not-acceptable` (406), `not-allowed`, `internal-server-error`. */
      readonly refuse: "not-authorized" | "conflict" | "not-acceptable" | "not-allowed" | "internal-server-error";
      readonly text?: string;
    };

/** The `iq-auth-request` question, if `ev` is one. */
export function iqAuthRequestOf(ev: { readonly type: string }): IqAuthRequest | undefined {
  const f = ev as FeatureEvent;
  return f.type === "feature" && f.feature === IQ_AUTH_FEATURE_NAME && f.name === "iq-auth-request" ? (f.data as IqAuthRequest) : undefined;
}
