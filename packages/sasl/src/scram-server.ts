/**
 * SCRAM server (RFC 5802 §3, §5, §7) working from stored keys only.
 *
 * @internal
 * @module
 */
import { base64Decode, base64Encode } from "./base64.js";
import { ascii, concat, constantTimeEqual, utf8Decode, utf8EncodeOrThrow } from "./bytes.js";
import { digest, hashLength, hmac, pbkdf2, xor } from "./hash.js";
import { type AdvertisedMechanisms, downgradeProtectionHashWith } from "./downgrade.js";
import { preparePasswordOrThrow } from "./prep.js";
import { unescapeSaslname } from "./saslname.js";
import {
  isCbName,
  isExtensionValue,
  isPlusMechanism,
  isPrintable,
  scramHashOf,
  splitAttributes,
} from "./scram-common.js";
import { NONCE_BYTES } from "./scram-client.js";
import { ServerBase } from "./server-base.js";
import type { ScramCredentials, ScramCrypto, ServerMechanismOptions, ServerStep } from "./server-types.js";
import { defaultRandomBytes, type ScramHash, type ScramMechanismName } from "./types.js";

/**
 * Derive the stored SCRAM credentials for an account from its password (RFC 5802 §3). The password
 * is prepared with PRECIS OpaqueString first, exactly as the client does.
 *
 * @param hash - `"SHA-1"`, `"SHA-256"` or `"SHA-512"`
 * @param password - the password
 * @param salt - a fresh random salt (16 bytes or more recommended)
 * @param iterations - PBKDF2 iteration count (4096 or more recommended)
 * @returns `{ salt, iterations, storedKey, serverKey }`
 */
export function deriveScramCredentials(
  hash: ScramHash,
  password: string,
  salt: Uint8Array,
  iterations: number,
): ScramCredentials {
  if (!(salt instanceof Uint8Array) || salt.length === 0) throw new TypeError("the salt must be non-empty bytes");
  const prepared = preparePasswordOrThrow(password);
  const saltedPassword = pbkdf2(hash, utf8EncodeOrThrow(prepared, "the password"), salt, iterations);
  const clientKey = hmac(hash, saltedPassword, ascii("Client Key"));
  return Object.freeze({
    salt: salt.slice(),
    iterations,
    storedKey: digest(hash, clientKey),
    serverKey: hmac(hash, saltedPassword, ascii("Server Key")),
  });
}

/** The pure-JS primitives (`hash.ts`), when no {@link ServerMechanismOptions.crypto} is given. */
const JS_CRYPTO: ScramCrypto = { digest, hmac };

/**
 * XEP-0474 `h=` values already computed: a server advertises the same few lists on every stream, so the
 * sort, encoding and hash of one list are done once. Keyed by hash and lists; at most 64 entries (what the
 * server advertised, never what a peer sent).
 */
const downgradeHashes = new Map<string, string>();

function downgradeHash(hash: ScramHash, advertised: AdvertisedMechanisms, crypto: ScramCrypto): string {
  const key = `${hash}\u0000${advertised.mechanisms.join("\u0000")}\u0001${advertised.channelBindingTypes?.join("\u0000") ?? "\u0002"}`;
  let h = downgradeHashes.get(key);
  if (h === undefined) {
    h = downgradeProtectionHashWith((data) => crypto.digest(hash, data), advertised);
    if (downgradeHashes.size >= 64) downgradeHashes.clear();
    downgradeHashes.set(key, h);
  }
  return h;
}

export class ScramServer extends ServerBase {
  private readonly hash: ScramHash;
  private readonly plus: boolean;
  private gs2Header = "";
  private cbData: Uint8Array = new Uint8Array(0);
  private clientFirstBare = "";
  private username = "";
  private authzid: string | undefined;
  private nonce = "";
  private serverFirst = "";
  private credentials: ScramCredentials | undefined;
  private unknownUser = false;

  constructor(name: ScramMechanismName, options: ServerMechanismOptions) {
    super(name, options);
    this.hash = scramHashOf(name);
    this.plus = isPlusMechanism(name);
    if (options.nonce !== undefined && !isPrintable(options.nonce)) {
      throw new TypeError("a fixed nonce must be printable ASCII without ','");
    }
  }

  private random(length: number): Uint8Array {
    const bytes = (this.options.random ?? defaultRandomBytes)(length);
    if (!(bytes instanceof Uint8Array) || bytes.length !== length) {
      throw new TypeError(`the random source must return ${length} bytes`);
    }
    return bytes;
  }

  private malformed(text: string): ServerStep {
    return this.failure("malformed-request", "malformed-scram-message", text, "other-error");
  }

  protected onInitial(data: Uint8Array): ServerStep {
    const text = utf8Decode(data);
    if (text === undefined) return this.failure("malformed-request", "invalid-utf8", "client-first-message is not UTF-8", "invalid-encoding");
    const c1 = text.indexOf(",");
    const c2 = c1 < 0 ? -1 : text.indexOf(",", c1 + 1);
    if (c2 < 0) return this.failure("malformed-request", "invalid-gs2-header", "missing GS2 header", "other-error");
    const flag = text.slice(0, c1);
    const authzPart = text.slice(c1 + 1, c2);
    this.gs2Header = text.slice(0, c2 + 1);
    const bare = text.slice(c2 + 1);

    let cbType: string | undefined;
    if (flag.startsWith("p=")) {
      cbType = flag.slice(2);
      if (!isCbName(cbType)) return this.failure("malformed-request", "invalid-gs2-header", "invalid channel-binding name", "other-error");
    } else if (flag !== "n" && flag !== "y") {
      return this.failure("malformed-request", "invalid-gs2-header", "invalid GS2 channel-binding flag", "other-error");
    }
    let authzid: string | undefined;
    if (authzPart !== "") {
      if (!authzPart.startsWith("a=")) return this.failure("malformed-request", "invalid-gs2-header", "invalid GS2 authzid", "other-error");
      authzid = unescapeSaslname(authzPart.slice(2));
      if (authzid === undefined) {
        return this.failure("malformed-request", "invalid-saslname", "invalid saslname escaping in authzid", "invalid-username-encoding");
      }
    }

    const attrs = splitAttributes(bare);
    if (attrs === undefined) return this.malformed("client-first-message-bare is not a list of attr=value");
    if (attrs.some((a) => a.name === "m")) {
      return this.failure("malformed-request", "mandatory-extension", "mandatory extensions (m=) are not supported", "extensions-not-supported");
    }
    if (attrs.length < 2) return this.malformed("client-first-message lacks n= or r=");
    if (attrs[0]!.name !== "n" || attrs[1]!.name !== "r") {
      return this.failure("malformed-request", "unknown-attribute-order", "client-first-message attributes are not n=, r=", "other-error");
    }
    for (const ext of attrs.slice(2)) {
      if (ext.name === "n" || ext.name === "r" || !isExtensionValue(ext.value)) return this.malformed("invalid extension");
    }
    const username = unescapeSaslname(attrs[0]!.value);
    if (username === undefined) {
      return this.failure("malformed-request", "invalid-saslname", "invalid saslname escaping in username", "invalid-username-encoding");
    }
    const clientNonce = attrs[1]!.value;
    if (!isPrintable(clientNonce)) return this.failure("malformed-request", "invalid-nonce", "the client nonce is not printable ASCII", "other-error");

    // Channel binding (RFC 5802 §6).
    if (this.plus) {
      if (cbType === undefined) {
        return this.failure("malformed-request", "channel-binding-required", `${this.name} requires the GS2 flag p=<type>`, "other-error");
      }
      const cb = this.options.channelBindings?.find((b) => b.type === cbType);
      if (cb === undefined) {
        return this.failure("not-authorized", "unsupported-channel-binding-type", `channel-binding type ${cbType} is not available`, "unsupported-channel-binding-type");
      }
      this.cbData = cb.data;
    } else if (cbType !== undefined) {
      return this.failure("malformed-request", "channel-binding-not-supported", `${this.name} does not use channel binding; use ${this.name}-PLUS`, "channel-binding-not-supported");
    } else if (flag === "y") {
      const offeredPlus = this.options.offeredPlus ?? (this.options.channelBindings?.length ?? 0) > 0;
      if (offeredPlus) {
        return this.failure("not-authorized", "channel-binding-downgrade", "channel binding was offered but the client believes it was not: possible downgrade", "server-does-support-channel-binding");
      }
    }

    if (!this.authzidAllowed(username, authzid)) {
      return this.failure("invalid-authzid", "authzid-not-allowed", undefined, "other-error");
    }
    this.clientFirstBare = bare;
    this.username = username;
    this.authzid = authzid;
    this.nonce = clientNonce;
    return this.ask({ kind: "credentials-needed", mechanism: this.name, hash: this.hash, username, authzid });
  }

  protected override onCredentials(credentials: ScramCredentials | null): ServerStep {
    const len = hashLength(this.hash);
    let creds: ScramCredentials;
    if (credentials === null) {
      this.unknownUser = true;
      const secret = this.options.fakeSaltSecret;
      const salt =
        secret !== undefined
          ? hmac("SHA-256", secret, utf8EncodeOrThrow(this.username, "username")).subarray(0, 16)
          : this.random(16);
      creds = {
        salt,
        iterations: this.options.fakeIterations ?? 4096,
        storedKey: this.random(len),
        serverKey: this.random(len),
      };
    } else {
      const { salt, iterations, storedKey, serverKey } = credentials;
      if (!(salt instanceof Uint8Array) || salt.length === 0) throw new TypeError("credentials.salt must be non-empty bytes");
      if (!Number.isSafeInteger(iterations) || iterations < 1) throw new TypeError("credentials.iterations must be a positive integer");
      if (!(storedKey instanceof Uint8Array) || storedKey.length !== len || !(serverKey instanceof Uint8Array) || serverKey.length !== len) {
        throw new TypeError(`credentials.storedKey/serverKey must be ${len} bytes for ${this.name}`);
      }
      creds = credentials;
    }
    this.credentials = creds;
    const serverPart = this.options.nonce ?? base64Encode(this.random(NONCE_BYTES));
    this.nonce += serverPart;
    let first = `r=${this.nonce},s=${base64Encode(creds.salt)},i=${creds.iterations}`;
    if (this.options.downgradeProtection !== undefined) {
      first += `,h=${downgradeHash(this.hash, this.options.downgradeProtection, this.options.crypto ?? JS_CRYPTO)}`;
    }
    this.serverFirst = first;
    return this.challengeStep(ascii(first));
  }

  protected override onResponse(data: Uint8Array): ServerStep {
    const text = utf8Decode(data);
    if (text === undefined) return this.failure("malformed-request", "invalid-utf8", "client-final-message is not UTF-8", "invalid-encoding");
    const attrs = splitAttributes(text);
    if (attrs === undefined) return this.malformed("client-final-message is not a list of attr=value");
    if (attrs.some((a) => a.name === "m")) {
      return this.failure("malformed-request", "mandatory-extension", "mandatory extensions (m=) are not supported", "extensions-not-supported");
    }
    if (attrs.length < 3 || attrs[0]!.name !== "c" || attrs[1]!.name !== "r" || attrs[attrs.length - 1]!.name !== "p") {
      return this.failure("malformed-request", "unknown-attribute-order", "client-final-message attributes are not c=, r=, …, p=", "other-error");
    }
    for (const ext of attrs.slice(2, -1)) {
      if ("crp".includes(ext.name) || !isExtensionValue(ext.value)) return this.malformed("invalid extension");
    }
    const cbind = base64Decode(attrs[0]!.value);
    if (cbind === undefined) return this.failure("incorrect-encoding", "malformed-scram-message", "c= is not canonical base64", "invalid-encoding");
    const expected = concat(utf8EncodeOrThrow(this.gs2Header, "gs2-header"), this.cbData);
    if (!constantTimeEqual(cbind, expected)) {
      return this.failure("not-authorized", "channel-binding-mismatch", "channel-binding data does not match", "channel-bindings-dont-match");
    }
    if (attrs[1]!.value !== this.nonce) {
      return this.failure("not-authorized", "nonce-mismatch", "the nonce was not echoed", "other-error");
    }
    const proof = base64Decode(attrs[attrs.length - 1]!.value);
    if (proof === undefined || proof.length !== hashLength(this.hash)) {
      return this.failure("malformed-request", "invalid-proof", "p= is not a base64 proof of the right length", "invalid-proof");
    }
    const withoutProof = text.slice(0, text.lastIndexOf(",p="));
    const authMessage = utf8EncodeOrThrow(`${this.clientFirstBare},${this.serverFirst},${withoutProof}`, "AuthMessage");
    const creds = this.credentials!;
    const crypto = this.options.crypto ?? JS_CRYPTO;
    const clientSignature = crypto.hmac(this.hash, creds.storedKey, authMessage);
    const clientKey = xor(proof, clientSignature);
    const ok = constantTimeEqual(crypto.digest(this.hash, clientKey), creds.storedKey);
    if (!ok || this.unknownUser) {
      return this.failure("not-authorized", this.unknownUser ? "unknown-user" : "proof-mismatch", "not authorized", "invalid-proof");
    }
    const serverSignature = crypto.hmac(this.hash, creds.serverKey, authMessage);
    return this.success(
      { mechanism: this.name, authcid: this.username, authzid: this.authzid },
      ascii(`v=${base64Encode(serverSignature)}`),
    );
  }
}
