/**
 * Server-side mechanisms behind one factory.
 *
 * @module
 */
import { utf8Decode } from "./bytes.js";
import type { SaslCondition } from "./errors.js";
import { preparePassword } from "./prep.js";
import { ScramServer } from "./scram-server.js";
import { ServerBase } from "./server-base.js";
import type { ServerMechanism, ServerMechanismOptions, ServerStep } from "./server-types.js";
import { isMechanismName, isScramMechanism, type MechanismName } from "./types.js";

class PlainServer extends ServerBase {
  private username = "";
  private authzid: string | undefined;

  protected onInitial(data: Uint8Array): ServerStep {
    let nuls = 0;
    for (const b of data) if (b === 0) nuls++;
    if (nuls !== 2) return this.failure("malformed-request", "malformed-plain-message", "PLAIN message must be [authzid] NUL authcid NUL password");
    const i = data.indexOf(0);
    const j = data.indexOf(0, i + 1);
    const authzid = utf8Decode(data.subarray(0, i));
    const authcid = utf8Decode(data.subarray(i + 1, j));
    const password = utf8Decode(data.subarray(j + 1));
    if (authzid === undefined || authcid === undefined || password === undefined) {
      return this.failure("malformed-request", "invalid-utf8", "PLAIN message is not UTF-8");
    }
    if (authcid.length === 0) return this.failure("malformed-request", "empty-authcid", "PLAIN authcid is empty");
    if (password.length === 0) return this.failure("malformed-request", "empty-password", "PLAIN password is empty");
    const az = authzid === "" ? undefined : authzid;
    if (!this.authzidAllowed(authcid, az)) return this.failure("invalid-authzid", "authzid-not-allowed");
    this.username = authcid;
    this.authzid = az;
    return this.ask({
      kind: "verify-password",
      mechanism: "PLAIN",
      username: authcid,
      password,
      preparedPassword: preparePassword(password),
      authzid: az,
    });
  }

  protected override onVerdict(result: boolean | SaslCondition): ServerStep {
    if (result === true) return this.success({ mechanism: "PLAIN", authcid: this.username, authzid: this.authzid });
    if (result === false) return this.failure("not-authorized", "credentials-rejected");
    return this.failure(result, "credentials-rejected");
  }
}

class AnonymousServer extends ServerBase {
  protected onInitial(data: Uint8Array): ServerStep {
    const trace = utf8Decode(data);
    if (trace === undefined) return this.failure("malformed-request", "invalid-utf8", "ANONYMOUS trace is not UTF-8");
    if ([...trace].length > 255 || /[\u0000-\u001f\u007f]/.test(trace)) {
      return this.failure("malformed-request", "invalid-trace", "ANONYMOUS trace must be at most 255 characters without controls");
    }
    return this.success(
      trace === ""
        ? { mechanism: "ANONYMOUS", authcid: "", authzid: undefined }
        : { mechanism: "ANONYMOUS", authcid: "", authzid: undefined, trace },
    );
  }
}

class ExternalServer extends ServerBase {
  protected onInitial(data: Uint8Array): ServerStep {
    const text = utf8Decode(data);
    if (text === undefined || text.includes("\u0000")) return this.failure("malformed-request", "invalid-utf8", "EXTERNAL authzid is not valid UTF-8");
    const identities = this.options.externalIdentities ?? [];
    if (identities.length === 0) {
      return this.failure("not-authorized", "no-external-identity", "no identity was established outside SASL (no valid client certificate)");
    }
    if (text === "") {
      if (identities.length !== 1) {
        return this.failure("invalid-authzid", "authzid-not-allowed", "several identities are available: name one as authzid");
      }
      return this.success({ mechanism: "EXTERNAL", authcid: identities[0]!, authzid: undefined });
    }
    if (identities.includes(text)) return this.success({ mechanism: "EXTERNAL", authcid: text, authzid: text });
    const authcid = identities[0]!;
    if (identities.length === 1 && this.authzidAllowed(authcid, text)) {
      return this.success({ mechanism: "EXTERNAL", authcid, authzid: text });
    }
    return this.failure("invalid-authzid", "authzid-not-allowed");
  }
}

/**
 * Create a server-side mechanism for a client that chose `name`.
 *
 * - `PLAIN` asks `verify-password`; answer with `verdict()`.
 * - `SCRAM-*` asks `credentials-needed`; answer with `supplyCredentials()` (stored keys, or `null`).
 * - `EXTERNAL` decides from `options.externalIdentities` and the authzid policy.
 * - `ANONYMOUS` succeeds with an empty authcid (offer it only where anonymous login is wanted).
 *
 * Throws `TypeError` for an unknown name (the session core answers `invalid-mechanism` before this).
 *
 * @param name - the mechanism the client selected
 * @param options - connection data and policy
 * @returns a fresh mechanism in state `"initial"`; call `start()` next
 */
export function createServerMechanism(name: MechanismName, options: ServerMechanismOptions = {}): ServerMechanism {
  if (typeof name !== "string" || !isMechanismName(name)) throw new TypeError(`unknown SASL mechanism ${String(name)}`);
  if (isScramMechanism(name)) return new ScramServer(name, options);
  switch (name) {
    case "PLAIN":
      return new PlainServer(name, options);
    case "ANONYMOUS":
      return new AnonymousServer(name, options);
    case "EXTERNAL":
      return new ExternalServer(name, options);
  }
}
