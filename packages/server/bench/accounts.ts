// Distinct accounts for the server bench (bench/server.bench.ts), the same on both servers: `u0` … `uN-1`
// with password `pw<i>`, a salt of their own, PBKDF2-SHA-1 with the given iteration count. Made once with
// node:crypto (native, on the thread pool) and written in each server's own format: an xmpp-sansio
// accounts file (AccountStore.load) and Prosody's internal_hashed account files
// (<data>/<host>/accounts/<user>.dat), so that neither server's registration path is part of the bench.
// Also the load generator's SaltedPassword cache (RFC 5802 §5.1 lets a client keep it), so that logins
// measure the servers, not the generator's key derivation; it is used for both servers alike.
import { createHash, createHmac, pbkdf2, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nodeDeriveKey } from "@xmpp-sansio/node";

type DeriveKeyRequest = Parameters<typeof nodeDeriveKey>[0];

/** One generated account. */
export interface BenchAccount {
  readonly user: string;
  readonly password: string;
  /** The salt as Prosody stores it (a string; its UTF-8 bytes are the salt). */
  readonly salt: string;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  /** PBKDF2(password, salt, iterations): what the client derives (kept for the generator's cache). */
  readonly salted: Buffer;
}

const derive = (password: string, salt: string, iterations: number) =>
  new Promise<Buffer>((resolve, reject) => pbkdf2(password, salt, iterations, 20, "sha1", (err, key) => (err === null ? resolve(key) : reject(err))));

/** `n` accounts u0 … u(n-1) with SCRAM-SHA-1 keys. */
export async function makeAccounts(n: number, iterations: number): Promise<BenchAccount[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const user = `u${i}`;
      const password = `pw${i}`;
      const salt = randomBytes(12).toString("hex");
      const salted = await derive(password, salt, iterations);
      const clientKey = createHmac("sha1", salted).update("Client Key").digest();
      return {
        user,
        password,
        salt,
        iterations,
        storedKey: createHash("sha1").update(clientKey).digest(),
        serverKey: createHmac("sha1", salted).update("Server Key").digest(),
        salted,
      };
    }),
  );
}

/** The accounts as an xmpp-sansio accounts file (`AccountStore.load`). */
export function accountsFile(accounts: readonly BenchAccount[]): unknown {
  const entries: Record<string, unknown> = {};
  for (const a of accounts) {
    entries[a.user] = {
      "SHA-1": { salt: Buffer.from(a.salt).toString("base64"), iterations: a.iterations, storedKey: a.storedKey.toString("base64"), serverKey: a.serverKey.toString("base64") },
    };
  }
  return { version: 1, accounts: entries };
}

/** Writes Prosody 0.12 internal_hashed account files for `host` under its data directory. */
export function writeProsodyAccounts(dataDir: string, host: string, accounts: readonly BenchAccount[]): void {
  // Prosody's datamanager encodes a host or user name by percent-encoding characters outside [A-Za-z0-9]-ish;
  // "localhost" and "u<digits>" need none.
  const dir = join(dataDir, host, "accounts");
  mkdirSync(dir, { recursive: true });
  for (const a of accounts) {
    writeFileSync(
      join(dir, `${a.user}.dat`),
      `return {\n\t["iteration_count"] = ${a.iterations};\n\t["salt"] = "${a.salt}";\n\t["stored_key"] = "${a.storedKey.toString("hex")}";\n\t["server_key"] = "${a.serverKey.toString("hex")}";\n};\n`,
    );
  }
}

/**
 * A `deriveKey` for XmppClient: node:crypto's PBKDF2, remembered per (hash, password, salt, iterations),
 * as a client that stores its SaltedPassword does (RFC 5802 §5.1).
 */
export function cachedDeriveKey(known: readonly BenchAccount[] = []): (request: DeriveKeyRequest) => Promise<Uint8Array> {
  const cache = new Map<string, Promise<Uint8Array>>();
  const keyOf = (hash: string, iterations: number, length: number, salt: Uint8Array, password: Uint8Array) =>
    `${hash}\0${iterations}\0${length}\0${Buffer.from(salt).toString("base64")}\0${Buffer.from(password).toString("base64")}`;
  // The generated accounts' keys are known already: no login of the bench derives one, on either server.
  for (const a of known) cache.set(keyOf("SHA-1", a.iterations, 20, Buffer.from(a.salt), Buffer.from(a.password)), Promise.resolve(new Uint8Array(a.salted)));
  return (request) => {
    const key = keyOf(request.hash, request.iterations, request.length, request.salt, request.password);
    let hit = cache.get(key);
    if (hit === undefined) {
      hit = nodeDeriveKey(request);
      cache.set(key, hit);
      hit.catch(() => cache.delete(key));
    }
    return hit;
  };
}
