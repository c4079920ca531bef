/**
 * The client side of the one-message mechanisms — PLAIN (RFC 4616), ANONYMOUS (RFC 4505) and EXTERNAL
 * (RFC 4422 App. A): each sends its initial response and expects no challenge and no additional data. A
 * module of its own so that a SCRAM-only client (the core's lean sessions without the one-shot part) does
 * not bundle it.
 *
 * @module
 */
import { utf8EncodeOrThrow } from "./bytes.js";
import type { ClientMechanism, ClientMechanismOptions, ClientMechanismState } from "./client-types.js";
import { type SaslError, saslError } from "./errors.js";
import { preparePasswordOrThrow } from "./prep.js";
import type { OneShotMechanismName } from "./types.js";

/** A one-message mechanism: sends its initial response, expects no challenge and no additional data. */
class OneShotClient implements ClientMechanism {
  private phase: ClientMechanismState = "initial";
  private error: SaslError | undefined;

  constructor(
    readonly name: OneShotMechanismName,
    private readonly message: Uint8Array,
  ) {}

  get state(): ClientMechanismState {
    return this.phase;
  }

  initialResponse(): Uint8Array {
    if (this.phase !== "initial") throw new TypeError("initialResponse() may be called only once, first");
    this.phase = "in-progress";
    return this.message;
  }

  challenge(_data: Uint8Array): SaslError {
    if (this.phase === "initial") throw new TypeError("challenge() before initialResponse()");
    if (this.phase === "succeeded") throw new TypeError("challenge() after the exchange succeeded");
    if (this.phase === "failed") return this.error!;
    return this.fail(saslError("malformed-request", "unexpected-message", `${this.name} expects no challenge`));
  }

  finish(additionalData?: Uint8Array): true | SaslError {
    if (this.phase === "initial") throw new TypeError("finish() before initialResponse()");
    if (this.phase === "succeeded") throw new TypeError("finish() called twice");
    if (this.phase === "failed") return this.error!;
    if (additionalData !== undefined && additionalData.length > 0) {
      return this.fail(saslError("malformed-request", "unexpected-additional-data", `${this.name} expects no additional data with success`));
    }
    this.phase = "succeeded";
    return true;
  }

  private fail(error: SaslError): SaslError {
    this.phase = "failed";
    this.error = error;
    return error;
  }
}

function plainMessage(options: ClientMechanismOptions): Uint8Array {
  const { username, password, authzid } = options;
  if (typeof username !== "string" || username.length === 0) throw new TypeError("PLAIN needs a non-empty username");
  if (typeof password !== "string") throw new TypeError("PLAIN needs a password");
  const prepared = preparePasswordOrThrow(password);
  for (const [what, v] of [["username", username], ["password", prepared], ["authzid", authzid ?? ""]] as const) {
    if (v.includes("\u0000")) throw new TypeError(`the PLAIN ${what} must not contain NUL`);
  }
  return utf8EncodeOrThrow(`${authzid ?? ""}\u0000${username}\u0000${prepared}`, "the PLAIN message");
}

function anonymousMessage(options: ClientMechanismOptions): Uint8Array {
  const trace = options.trace ?? "";
  if ([...trace].length > 255) throw new TypeError("ANONYMOUS trace information is limited to 255 characters (RFC 4505)");
  if (/[\u0000-\u001f\u007f]/.test(trace)) throw new TypeError("ANONYMOUS trace information must not contain control characters");
  return utf8EncodeOrThrow(trace, "the ANONYMOUS trace");
}

function externalMessage(options: ClientMechanismOptions): Uint8Array {
  const authzid = options.authzid ?? "";
  if (authzid.includes("\u0000")) throw new TypeError("the EXTERNAL authzid must not contain NUL");
  return utf8EncodeOrThrow(authzid, "the EXTERNAL authzid");
}

/**
 * Create the client side of a one-message mechanism: `PLAIN` (needs `username`, `password`; `authzid`
 * optional), `ANONYMOUS` (optional `trace`) or `EXTERNAL` (optional `authzid`; empty: "derive it from my
 * certificate"). What the core's `oneShotMechanismsClientPart` is.
 *
 * @param name - `PLAIN`, `ANONYMOUS` or `EXTERNAL`
 * @param options - credentials (`username`, `password`, `authzid`, `trace`); the SCRAM fields are ignored
 * @returns a fresh mechanism in state `"initial"`
 * @throws TypeError for another name, or missing/invalid options (e.g. a NUL in a PLAIN field)
 */
export function createOneShotClientMechanism(name: OneShotMechanismName, options: ClientMechanismOptions = {}): ClientMechanism {
  switch (name) {
    case "PLAIN":
      return new OneShotClient(name, plainMessage(options));
    case "ANONYMOUS":
      return new OneShotClient(name, anonymousMessage(options));
    case "EXTERNAL":
      return new OneShotClient(name, externalMessage(options));
  }
  throw new TypeError(`${String(name)} is not a one-message SASL mechanism (PLAIN, ANONYMOUS, EXTERNAL)`);
}
