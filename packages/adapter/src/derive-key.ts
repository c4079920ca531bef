/**
 * SCRAM's SaltedPassword (PBKDF2, RFC 5802 §3) off the event loop: the answer to the core's `derive-key`
 * question. WebCrypto (`crypto.subtle.deriveBits`, native and asynchronous in Node ≥ 20, Deno and
 * browsers) when present, else the pure-JS `pbkdf2` of `@xmpp-sansio/sasl` (insecure browser contexts,
 * where `crypto.subtle` is undefined).
 *
 * @module
 */
import type { DeriveKeyEvent } from "@xmpp-sansio/core";
import { pbkdf2, type ScramHashFunction } from "@xmpp-sansio/sasl";

/**
 * The fields of a `derive-key` question a derivation needs; `hashFunction` (set in the core's events) is
 * what a pure-JS derivation uses when given.
 */
export type DeriveKeyRequest = Pick<DeriveKeyEvent, "hash" | "password" | "salt" | "iterations" | "length"> & { readonly hashFunction?: ScramHashFunction };

/** Computes `PBKDF2-HMAC-hash(password, salt, iterations, length)`. */
export type DeriveKeyFunction = (request: DeriveKeyRequest) => Promise<Uint8Array>;

interface SubtleLike {
  importKey(format: "raw", key: Uint8Array, algorithm: "PBKDF2", extractable: false, usages: ["deriveBits"]): Promise<unknown>;
  deriveBits(algorithm: { name: "PBKDF2"; hash: string; salt: Uint8Array; iterations: number }, key: unknown, length: number): Promise<ArrayBuffer>;
}

function subtle(): SubtleLike | undefined {
  return (globalThis as unknown as { crypto?: { subtle?: SubtleLike } }).crypto?.subtle;
}

/** The pure-JS path (synchronous work, wrapped in a promise): the fallback, and a baseline for benchmarks. */
export function deriveSaltedPasswordJs(request: DeriveKeyRequest): Promise<Uint8Array> {
  const f = request.hashFunction;
  return f !== undefined ? deriveWith(f, request) : settle(() => pbkdf2(request.hash, request.password, request.salt, request.iterations, request.length));
}

/** PBKDF2 with the request's own hash function (only that hash's code is needed). */
function deriveWith(f: ScramHashFunction, request: DeriveKeyRequest): Promise<Uint8Array> {
  return settle(() => f.pbkdf2(request.password, request.salt, request.iterations, request.length));
}

/** A synchronous computation as a promise: its value, or its exception as the rejection. */
function settle(compute: () => Uint8Array): Promise<Uint8Array> {
  try {
    return Promise.resolve(compute());
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Answers a `derive-key` question with WebCrypto (native, asynchronous), or with the pure-JS `pbkdf2`
 * when `globalThis.crypto.subtle` is missing.
 *
 * @example
 * ```ts
 * case "derive-key": deriveSaltedPassword(ev).then((key) => session.supplyDerivedKey(key)); break;
 * ```
 */
export function deriveSaltedPassword(request: DeriveKeyRequest): Promise<Uint8Array> {
  return subtle() === undefined ? deriveSaltedPasswordJs(request) : deriveWebCrypto(request);
}

/**
 * {@link deriveSaltedPassword} for the core's `derive-key` events, whose pure-JS fallback is the event's own
 * `hashFunction` (so that a client bundle carries only the hashes it loads): the `ClientController`'s default.
 * @internal
 */
export function deriveSaltedPasswordOfEvent(request: DeriveKeyRequest): Promise<Uint8Array> {
  if (subtle() !== undefined) return deriveWebCrypto(request);
  const f = request.hashFunction;
  if (f === undefined) return Promise.reject(new TypeError("a derive-key request without its hashFunction"));
  return deriveWith(f, request);
}

async function deriveWebCrypto(request: DeriveKeyRequest): Promise<Uint8Array> {
  const s = subtle()!;
  const key = await s.importKey("raw", request.password, "PBKDF2", false, ["deriveBits"]);
  const bits = await s.deriveBits({ name: "PBKDF2", hash: request.hash, salt: request.salt, iterations: request.iterations }, key, request.length * 8);
  return new Uint8Array(bits);
}
