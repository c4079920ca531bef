/**
 * XEP-0480 SASL Upgrade Tasks: `UPGR-SCRAM-SHA-256` / `-512` as SASL2 tasks of both roles. A client that
 * logged in (with any mechanism) announces the upgrades it can run (`<upgrade/>` in `<authenticate/>`);
 * a server whose account lacks credentials of that hash names the task in `<continue/>`, sends a salt and
 * iteration count, and receives the SaltedPassword — from which it derives the SCRAM keys to store. The
 * password itself never travels again.
 *
 * @module
 */
import { base64Decode, base64Encode, digest, hmac, pbkdf2, preparePassword, type ScramCredentials, type ScramHash, utf8Encode } from "@xmpp-sansio/sasl";
import type { XmlElement } from "@xmpp-sansio/xml";
import { el, trimmedText } from "../../util.js";
import type { Sasl2ClientTask, Sasl2LoginInfo, Sasl2ServerTask } from "./common.js";

/** `urn:xmpp:sasl:upgrade:0` (the `<upgrade/>` announcement, XEP-0480). */
export const NS_SASL_UPGRADE = "urn:xmpp:sasl:upgrade:0";
/** `urn:xmpp:scram-upgrade:0` (the task data of the SCRAM upgrades, XEP-0480). */
export const NS_SCRAM_UPGRADE = "urn:xmpp:scram-upgrade:0";

/** The SCRAM upgrade tasks. */
export type ScramUpgradeTask = "UPGR-SCRAM-SHA-256" | "UPGR-SCRAM-SHA-512";

const HASH_OF: Record<ScramUpgradeTask, ScramHash> = { "UPGR-SCRAM-SHA-256": "SHA-256", "UPGR-SCRAM-SHA-512": "SHA-512" };

/** What the server task emits (`feature` event, name `scram-upgrade`): credentials to store for the account. */
export interface ScramUpgradeResult {
  /** The account (localpart) that upgraded. */
  readonly username: string;
  /** The hash of the new SCRAM credentials (XEP-0480 `UPGR-SCRAM-SHA-256`/`-512`). */
  readonly hash: ScramHash;
  /** The new stored keys (salt, iterations, StoredKey, ServerKey): store them for the account. */
  readonly credentials: ScramCredentials;
}

/**
 * The server half: `needsUpgrade` says whether the account lacks `hash` credentials (synchronous: the
 * application knows what it stores). The credentials arrive as a `feature` event
 * `{ feature: "sasl2", name: "scram-upgrade", data: ScramUpgradeResult }`.
 */
export function scramUpgradeServerTask(
  name: ScramUpgradeTask,
  o: { needsUpgrade(info: Sasl2LoginInfo): boolean; iterations?: number; random: (n: number) => Uint8Array },
): Sasl2ServerTask {
  const hash = HASH_OF[name];
  return {
    name,
    required: (info) => info.upgrades.includes(name) && o.needsUpgrade(info),
    create: (info, emit) => {
      const salt = o.random(16);
      const iterations = o.iterations ?? 10_000;
      return {
        start: () => ({ data: [el("salt", NS_SCRAM_UPGRADE, { iterations: String(iterations) }, base64Encode(salt))] }),
        data: (children) => {
          const h = children.find((c) => c.name === "hash" && c.ns === NS_SCRAM_UPGRADE);
          const salted = h === undefined ? undefined : base64Decode(trimmedText(h));
          if (salted === undefined || salted.length !== digest(hash, new Uint8Array(0)).length) return { fail: "malformed-request", text: "expected <hash/> with a SaltedPassword" };
          const clientKey = hmac(hash, salted, utf8Encode("Client Key")!);
          const credentials: ScramCredentials = { salt, iterations, storedKey: digest(hash, clientKey), serverKey: hmac(hash, salted, utf8Encode("Server Key")!) };
          const result: ScramUpgradeResult = { username: info.username, hash, credentials };
          emit("scram-upgrade", result);
          return { done: true };
        },
      };
    },
  };
}

/** The client half: computes the SaltedPassword for the server's salt (PBKDF2 inline, bounded iterations). */
export function scramUpgradeClientTask(name: ScramUpgradeTask, o: { maxIterations?: number } = {}): Sasl2ClientTask {
  const hash = HASH_OF[name];
  return {
    name,
    create: ({ password }) => ({
      data(children: readonly XmlElement[]) {
        const s = children.find((c) => c.name === "salt" && c.ns === NS_SCRAM_UPGRADE);
        const salt = s === undefined ? undefined : base64Decode(trimmedText(s));
        const iterations = Number(s?.attr("iterations"));
        if (salt === undefined || salt.length === 0) return { error: "the server sent no usable salt" };
        if (!Number.isSafeInteger(iterations) || iterations < 4096 || iterations > (o.maxIterations ?? 1_000_000)) return { error: "unacceptable iteration count" };
        const prepared = password === undefined ? undefined : preparePassword(password);
        if (prepared === undefined) return { error: "no password to upgrade with (a token login cannot run this task)" };
        const salted = pbkdf2(hash, utf8Encode(prepared)!, salt, iterations);
        return [el("hash", NS_SCRAM_UPGRADE, null, base64Encode(salted))];
      },
    }),
  };
}
