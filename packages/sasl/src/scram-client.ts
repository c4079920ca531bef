/**
 * SCRAM client (RFC 5802 §3, §5, §7; RFC 7677), with channel binding (RFC 5929, RFC 9266) and
 * XEP-0474 downgrade protection.
 *
 * @internal
 * @module
 */
import { base64Decode, base64Encode } from "./base64.js";
import { ascii, concat, constantTimeEqual, utf8Decode, utf8EncodeOrThrow } from "./bytes.js";
import type {
  ClientDowngradeProtection,
  ClientMechanism,
  ClientMechanismOptions,
  ClientMechanismState,
  KeyDerivationRequest,
  SaltedPasswordCache,
} from "./client-types.js";
import { type ScramHashFunction, xor } from "./hash.js";
import { downgradeProtectionHashWith } from "./downgrade.js";
import { conditionForScramServerError, type SaslError, saslError } from "./errors.js";
import { preparePasswordOrThrow } from "./prep.js";
import { escapeSaslname } from "./saslname.js";
import {
  isExtensionValue,
  isPlusMechanism,
  isPrintable,
  parsePositiveNumber,
  scramHashOf,
  splitAttributes,
} from "./scram-common.js";
import {
  type ChannelBinding,
  defaultRandomBytes,
  isChannelBindingType,
  type ScramHash,
  type ScramMechanismName,
} from "./types.js";

/** Default lower bound on the server's iteration count (RFC 5802 §5.1, RFC 7677 §4). */
export const DEFAULT_MIN_ITERATIONS = 4096;
/** Default upper bound on the server's iteration count (bounds client PBKDF2 work). */
export const DEFAULT_MAX_ITERATIONS = 1_000_000;
/** Bytes of randomness in a generated nonce (base64-encoded to 32 characters). */
export const NONCE_BYTES = 24;

export class ScramClient implements ClientMechanism {
  readonly name: ScramMechanismName;
  private readonly hash: ScramHash;
  private readonly password: string;
  private readonly gs2Header: string;
  private readonly cbData: Uint8Array;
  private readonly clientNonce: string;
  private readonly clientFirstBare: string;
  private readonly minIterations: number;
  private readonly maxIterations: number;
  private readonly downgrade: ClientDowngradeProtection | undefined;
  private readonly cache: SaltedPasswordCache | undefined;
  private phase: "initial" | "sent-first" | "sent-final" | "verified" | "succeeded" | "failed" = "initial";
  private error: SaslError | undefined;
  private serverSignature: Uint8Array | undefined;
  private readonly ask: boolean;
  /** While a key derivation is asked: what the client-final message needs besides the key. */
  private pendingFinal: { salt: Uint8Array; iterations: number; text: string; nonce: string } | undefined;

  /** H, HMAC and Hi of this mechanism's hash: the value given in `scramHashes`. */
  private readonly h: ScramHashFunction;

  /** @throws TypeError when `options.scramHashes` lacks the mechanism's hash (or for bad credentials) */
  constructor(name: ScramMechanismName, options: ClientMechanismOptions) {
    this.name = name;
    this.hash = scramHashOf(name);
    const h = options.scramHashes?.find((f) => f.name === this.hash);
    if (h === undefined) throw new TypeError(`${name} needs its hash function: scramHashes: [${this.hash === "SHA-1" ? "sha1Hash" : this.hash === "SHA-256" ? "sha256Hash" : "sha512Hash"}]`);
    this.h = h;
    const { username, password, authzid } = options;
    if (typeof username !== "string" || username.length === 0) {
      throw new TypeError(`${name} needs a non-empty username`);
    }
    if (username.includes("\u0000")) throw new TypeError("the username must not contain NUL");
    utf8EncodeOrThrow(username, "the username");
    if (typeof password !== "string") throw new TypeError(`${name} needs a password`);
    this.password = preparePasswordOrThrow(password);
    if (authzid?.includes("\u0000")) {
      throw new TypeError("the authzid must not contain NUL");
    }
    if (authzid !== undefined) utf8EncodeOrThrow(authzid, "the authzid");

    let flag: string;
    if (isPlusMechanism(name)) {
      const cb: ChannelBinding | undefined = options.channelBinding;
      if (cb === undefined || !isChannelBindingType(cb.type) || !(cb.data instanceof Uint8Array)) {
        throw new TypeError(`${name} needs channel-binding data ({ type, data })`);
      }
      flag = `p=${cb.type}`;
      this.cbData = cb.data;
    } else {
      flag = options.clientSupportsChannelBinding === true ? "y" : "n";
      this.cbData = new Uint8Array(0);
    }
    this.gs2Header = `${flag},${authzid ? `a=${escapeSaslname(authzid)}` : ""},`;

    if (options.nonce !== undefined) {
      if (!isPrintable(options.nonce)) {
        throw new TypeError("a fixed nonce must be printable ASCII without ','");
      }
      this.clientNonce = options.nonce;
    } else {
      const random = options.random ?? defaultRandomBytes;
      const bytes = random(NONCE_BYTES);
      if (!(bytes instanceof Uint8Array) || bytes.length !== NONCE_BYTES) {
        throw new TypeError(`the random source must return ${NONCE_BYTES} bytes`);
      }
      this.clientNonce = base64Encode(bytes);
    }
    this.clientFirstBare = `n=${escapeSaslname(username)},r=${this.clientNonce}`;

    this.minIterations = options.minIterations ?? DEFAULT_MIN_ITERATIONS;
    this.maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
    if (
      !Number.isSafeInteger(this.minIterations) ||
      !Number.isSafeInteger(this.maxIterations) ||
      this.minIterations < 1 ||
      this.maxIterations < this.minIterations
    ) {
      throw new TypeError("minIterations/maxIterations must be integers with 1 ≤ min ≤ max");
    }
    this.downgrade = options.downgradeProtection;
    this.cache = options.saltedPasswordCache;
    this.ask = options.deriveKey === "ask";
  }

  get state(): ClientMechanismState {
    switch (this.phase) {
      case "initial":
        return "initial";
      case "sent-first":
      case "sent-final":
        return "in-progress";
      default:
        return this.phase;
    }
  }

  initialResponse(): Uint8Array {
    if (this.phase !== "initial") throw new TypeError("initialResponse() may be called only once, first");
    this.phase = "sent-first";
    return utf8EncodeOrThrow(this.gs2Header + this.clientFirstBare, "the client-first-message");
  }

  challenge(data: Uint8Array): Uint8Array | SaslError | KeyDerivationRequest {
    if (this.pendingFinal !== undefined) throw new TypeError("challenge() while a key derivation is pending: call supplySaltedPassword()");
    switch (this.phase) {
      case "initial":
        throw new TypeError("challenge() before initialResponse()");
      case "succeeded":
        throw new TypeError("challenge() after the exchange succeeded");
      case "failed":
        return this.error!;
      case "sent-first":
        return this.onServerFirst(data);
      case "sent-final": {
        const r = this.onServerFinal(data);
        if (r !== true) return r;
        this.phase = "verified";
        return new Uint8Array(0);
      }
      case "verified":
        return this.fail(saslError("malformed-request", "unexpected-message", "challenge after the server-final-message"));
    }
  }

  finish(additionalData?: Uint8Array): true | SaslError {
    const hasData = additionalData !== undefined && additionalData.length > 0;
    switch (this.phase) {
      case "initial":
        throw new TypeError("finish() before initialResponse()");
      case "succeeded":
        throw new TypeError("finish() called twice");
      case "failed":
        return this.error!;
      case "sent-first":
        return this.fail(
          saslError("not-authorized", "premature-success", "the server reported success before the SCRAM exchange completed"),
        );
      case "sent-final": {
        if (!hasData) {
          return this.fail(
            saslError("not-authorized", "server-signature-missing", "the server reported success without its signature (v=)"),
          );
        }
        const r = this.onServerFinal(additionalData);
        if (r !== true) return r;
        this.phase = "succeeded";
        return true;
      }
      case "verified":
        if (hasData) {
          return this.fail(
            saslError("malformed-request", "unexpected-additional-data", "additional data after the server signature was verified"),
          );
        }
        this.phase = "succeeded";
        return true;
    }
  }

  private fail(error: SaslError): SaslError {
    this.phase = "failed";
    this.error = error;
    return error;
  }

  private malformed(text: string): SaslError {
    return this.fail(saslError("malformed-request", "malformed-scram-message", text));
  }

  private onServerFirst(data: Uint8Array): Uint8Array | SaslError | KeyDerivationRequest {
    const text = utf8Decode(data);
    if (text === undefined) return this.fail(saslError("malformed-request", "invalid-utf8", "server-first-message is not UTF-8"));
    const attrs = splitAttributes(text);
    if (attrs === undefined) return this.malformed("server-first-message is not a list of attr=value");
    if (attrs.some((a) => a.name === "m")) {
      return this.fail(saslError("malformed-request", "mandatory-extension", "the server requires an unsupported mandatory extension (m=)"));
    }
    if (attrs[0]!.name === "e") {
      const value = attrs[0]!.value;
      return this.fail(saslError(conditionForScramServerError(value), "server-error", `server error: ${value}`, value));
    }
    if (attrs.length < 3) return this.malformed("server-first-message lacks r=, s= or i=");
    if (attrs[0]!.name !== "r" || attrs[1]!.name !== "s" || attrs[2]!.name !== "i") {
      return this.fail(saslError("malformed-request", "unknown-attribute-order", "server-first-message attributes are not r=, s=, i= in that order"));
    }
    const extensions = attrs.slice(3);
    const seen = new Set<string>();
    for (const ext of extensions) {
      if ("rsi".includes(ext.name) || seen.has(ext.name) || !isExtensionValue(ext.value)) {
        return this.malformed(`invalid or repeated attribute ${ext.name}= in server-first-message`);
      }
      seen.add(ext.name);
    }

    const nonce = attrs[0]!.value;
    if (!isPrintable(nonce)) return this.fail(saslError("malformed-request", "invalid-nonce", "the server nonce is not printable ASCII"));
    if (!nonce.startsWith(this.clientNonce) || nonce.length <= this.clientNonce.length) {
      return this.fail(saslError("not-authorized", "nonce-mismatch", "the server nonce does not start with and extend the client nonce"));
    }
    const salt = base64Decode(attrs[1]!.value);
    if (salt === undefined || salt.length === 0) {
      return this.fail(saslError("malformed-request", "invalid-salt", "the salt is empty or not canonical base64"));
    }
    const iterations = parsePositiveNumber(attrs[2]!.value);
    if (iterations === undefined) {
      return this.fail(saslError("malformed-request", "invalid-iteration-count", "the iteration count is not a positive decimal number"));
    }
    if (iterations < this.minIterations) {
      return this.fail(
        saslError("mechanism-too-weak", "iteration-count-too-low", `iteration count ${iterations} is below the minimum ${this.minIterations}`),
      );
    }
    if (iterations > this.maxIterations) {
      return this.fail(
        saslError("malformed-request", "iteration-count-too-high", `iteration count ${iterations} is above the maximum ${this.maxIterations}`),
      );
    }

    if (this.downgrade !== undefined) {
      const h = extensions.find((e) => e.name === "h");
      if (h === undefined) {
        if (this.downgrade.required === true) {
          return this.fail(saslError("not-authorized", "downgrade-protection-missing", "the server sent no XEP-0474 h= attribute"));
        }
      } else if (h.value !== downgradeProtectionHashWith(this.h.digest, this.downgrade)) {
        return this.fail(
          saslError("not-authorized", "downgrade-protection-mismatch", "XEP-0474 hash mismatch: the advertised mechanisms or channel bindings were tampered with"),
        );
      }
    }

    const key = { hash: this.hash, password: this.password, salt, iterations };
    const cached = this.cache?.get(key);
    if (cached !== undefined && cached.length === this.h.length()) return this.clientFinal(cached, text, nonce);
    if (this.ask) {
      this.pendingFinal = { salt, iterations, text, nonce };
      return { kind: "derive-key", hash: this.hash, password: utf8EncodeOrThrow(this.password, "the password"), salt, iterations, length: this.h.length(), hashFunction: this.h };
    }
    const sp = this.h.pbkdf2(utf8EncodeOrThrow(this.password, "the password"), salt, iterations);
    this.cache?.set(key, sp);
    return this.clientFinal(sp, text, nonce);
  }

  supplySaltedPassword(saltedPassword: Uint8Array): Uint8Array | SaslError {
    const p = this.pendingFinal;
    if (p === undefined) throw new TypeError("supplySaltedPassword() without a pending key derivation");
    if (!(saltedPassword instanceof Uint8Array) || saltedPassword.length !== this.h.length()) {
      throw new TypeError(`the SaltedPassword must be ${this.h.length()} bytes`);
    }
    this.pendingFinal = undefined;
    this.cache?.set({ hash: this.hash, password: this.password, salt: p.salt, iterations: p.iterations }, saltedPassword);
    return this.clientFinal(saltedPassword, p.text, p.nonce);
  }

  private clientFinal(saltedPassword: Uint8Array, text: string, nonce: string): Uint8Array {
    const clientKey = this.h.hmac(saltedPassword, ascii("Client Key"));
    const storedKey = this.h.digest(clientKey);
    const cbind = base64Encode(concat(utf8EncodeOrThrow(this.gs2Header, "gs2-header"), this.cbData));
    const finalWithoutProof = `c=${cbind},r=${nonce}`;
    const authMessage = utf8EncodeOrThrow(`${this.clientFirstBare},${text},${finalWithoutProof}`, "AuthMessage");
    const clientSignature = this.h.hmac(storedKey, authMessage);
    const proof = xor(clientKey, clientSignature);
    const serverKey = this.h.hmac(saltedPassword, ascii("Server Key"));
    this.serverSignature = this.h.hmac(serverKey, authMessage);
    this.phase = "sent-final";
    return ascii(`${finalWithoutProof},p=${base64Encode(proof)}`);
  }

  private onServerFinal(data: Uint8Array): true | SaslError {
    const text = utf8Decode(data);
    if (text === undefined) return this.fail(saslError("malformed-request", "invalid-utf8", "server-final-message is not UTF-8"));
    const attrs = splitAttributes(text);
    if (attrs === undefined) return this.malformed("server-final-message is not a list of attr=value");
    if (attrs.some((a) => a.name === "m")) {
      return this.fail(saslError("malformed-request", "mandatory-extension", "the server sent a mandatory extension (m=)"));
    }
    const first = attrs[0]!;
    if (first.name === "e") {
      return this.fail(saslError(conditionForScramServerError(first.value), "server-error", `server error: ${first.value}`, first.value));
    }
    if (first.name !== "v") {
      return this.fail(saslError("malformed-request", "unknown-attribute-order", "server-final-message does not start with v= or e="));
    }
    for (const ext of attrs.slice(1)) {
      if (ext.name === "v" || ext.name === "e" || !isExtensionValue(ext.value)) {
        return this.malformed("invalid extension in server-final-message");
      }
    }
    const signature = base64Decode(first.value);
    if (signature === undefined || !constantTimeEqual(signature, this.serverSignature!)) {
      return this.fail(saslError("not-authorized", "server-signature-mismatch", "the server signature (v=) is wrong: the server does not know the credentials"));
    }
    return true;
  }
}

/**
 * A simple in-memory {@link SaltedPasswordCache} holding at most `maxEntries` values (oldest evicted).
 *
 * @param maxEntries - capacity, default 8
 * @returns the cache
 */
export function createSaltedPasswordCache(maxEntries = 8): SaltedPasswordCache {
  const map = new Map<string, Uint8Array>();
  const k = (key: { hash: string; password: string; salt: Uint8Array; iterations: number }) =>
    `${key.hash}\u0000${key.iterations}\u0000${base64Encode(key.salt)}\u0000${key.password}`;
  return {
    get(key) {
      return map.get(k(key));
    },
    set(key, value) {
      const id = k(key);
      map.delete(id);
      map.set(id, value.slice());
      while (map.size > maxEntries) map.delete(map.keys().next().value!);
    },
  };
}
