/**
 * SCRAM's H and HMAC from `node:crypto` (OpenSSL), for the server role: the core's default is the
 * pure-JS hashes of `@xmpp-sansio/sasl`, which run everywhere but cost ≈8 µs per HMAC-SHA-1 of a SCRAM
 * AuthMessage against ≈3.5 µs here. `XmppServer` passes it to its sessions unless `session.scramCrypto`
 * says otherwise.
 *
 * @module
 */
import { createHash, createHmac } from "node:crypto";
import type { ServerOptions } from "@xmpp-sansio/core";

/** SCRAM's hash primitives (the sasl package's `ScramCrypto`). */
export type ScramCrypto = NonNullable<ServerOptions["scramCrypto"]>;

const NODE_NAMES = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-512": "sha512" } as const;

/** `node:crypto`'s SHA-1/256/512 and their HMACs, as SCRAM uses them. */
export const nodeScramCrypto: ScramCrypto = {
  // A Buffer is a Uint8Array: returned as is, no copy.
  digest: (hash, data) => createHash(NODE_NAMES[hash]).update(data).digest(),
  hmac: (hash, key, data) => createHmac(NODE_NAMES[hash], key).update(data).digest(),
};
