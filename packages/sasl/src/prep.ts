/**
 * String preparation.
 *
 * - **Passwords** are prepared with the PRECIS OpaqueString profile (RFC 8265 §4.2), which
 *   replaces SASLprep (RFC 4013) for this purpose: RFC 8265 §4.2 obsoletes RFC 4013's use for
 *   passwords, and both map non-ASCII spaces to U+0020 and normalise to NFC. The same preparation
 *   is applied by the client, by {@link deriveScramCredentials} and in the PLAIN server question,
 *   so stored SCRAM keys and live exchanges agree.
 * - **Usernames** are sent as given (after `saslname` escaping). RFC 5802 §5.1 asks for SASLprep of
 *   the username, but in XMPP the username is a JID localpart that the JID layer has already
 *   prepared with UsernameCaseMapped (RFC 7622); a second, different preparation here could only
 *   disagree with the server's account key. Prosody and ejabberd likewise take the SCRAM username as
 *   the (nodeprepped) localpart. Servers receive the name as sent and apply their own account rules.
 *
 * @module
 */
import { opaqueString } from "@xmpp-sansio/precis";

/**
 * Prepare a password with PRECIS OpaqueString (RFC 8265 §4.2). Returns `undefined` if the profile
 * disallows it (empty, control characters, unassigned code points, …) — use it to validate a
 * password field before creating a mechanism.
 *
 * @param password - the password as typed
 * @returns the prepared password, or `undefined` when OpaqueString rejects it
 */
export function preparePassword(password: string): string | undefined {
  try {
    return opaqueString(password);
  } catch {
    return undefined;
  }
}

/** Prepare or throw `TypeError` (application-supplied passwords). @internal */
export function preparePasswordOrThrow(password: string): string {
  try {
    return opaqueString(password);
  } catch (cause) {
    throw new TypeError("the password is not valid under PRECIS OpaqueString (RFC 8265 §4.2)", { cause });
  }
}
