/**
 * SCRAM's SaltedPassword on Node: `node:crypto.pbkdf2` (OpenSSL, asynchronous on the libuv thread pool),
 * so a server's iteration count never blocks the event loop.
 *
 * @module
 */
import { pbkdf2 } from "node:crypto";
import type { DeriveKeyRequest } from "@xmpp-sansio/adapter";

const DIGEST = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-512": "sha512" } as const;

/** Answers the core's `derive-key` question with `node:crypto.pbkdf2` (the Node client's default). */
export function nodeDeriveKey(request: DeriveKeyRequest): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    pbkdf2(request.password, request.salt, request.iterations, request.length, DIGEST[request.hash], (err, key) => {
      if (err !== null) reject(err);
      else resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength));
    });
  });
}
