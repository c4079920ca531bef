/**
 * Shared state handling for server-side mechanisms.
 *
 * @internal
 * @module
 */
import type { SaslCondition, SaslErrorReason } from "./errors.js";
import type {
  ScramCredentials,
  ServerFailureStep,
  ServerMechanism,
  ServerMechanismOptions,
  ServerMechanismState,
  ServerQuestion,
  ServerStep,
  ServerSuccessStep,
} from "./server-types.js";
import type { MechanismName, SaslIdentity } from "./types.js";

const DEFAULT_TEXT: Record<SaslCondition, string> = {
  aborted: "authentication aborted",
  "account-disabled": "account disabled",
  "credentials-expired": "credentials expired",
  "encryption-required": "encryption required for this mechanism",
  "incorrect-encoding": "incorrect encoding",
  "invalid-authzid": "invalid authorization identity",
  "invalid-mechanism": "invalid mechanism",
  "malformed-request": "malformed request",
  "mechanism-too-weak": "mechanism too weak",
  "not-authorized": "not authorized",
  "temporary-auth-failure": "temporary authentication failure",
};

export abstract class ServerBase implements ServerMechanism {
  protected phase: ServerMechanismState = "initial";
  protected pending: ServerQuestion["kind"] | undefined;

  constructor(
    readonly name: MechanismName,
    protected readonly options: ServerMechanismOptions,
  ) {}

  get state(): ServerMechanismState {
    return this.phase;
  }

  start(initialResponse: Uint8Array | null): ServerStep {
    if (this.phase !== "initial") throw new TypeError("start() may be called only once, first");
    if (initialResponse === null) {
      this.phase = "awaiting-response";
      this.expectInitial = true;
      return { kind: "challenge", data: new Uint8Array(0) };
    }
    return this.onInitial(initialResponse);
  }

  private expectInitial = false;

  response(data: Uint8Array): ServerStep {
    if (this.phase !== "awaiting-response") {
      throw new TypeError(`response() in state ${this.phase}`);
    }
    if (this.expectInitial) {
      this.expectInitial = false;
      return this.onInitial(data);
    }
    return this.onResponse(data);
  }

  supplyCredentials(credentials: ScramCredentials | null): ServerStep {
    this.takeQuestion("credentials-needed");
    return this.onCredentials(credentials);
  }

  verdict(result: boolean | SaslCondition): ServerStep {
    this.takeQuestion("verify-password");
    return this.onVerdict(result);
  }

  refuse(condition: SaslCondition, text?: string): ServerStep {
    if (this.phase !== "awaiting-answer") throw new TypeError("refuse() without a pending question");
    this.pending = undefined;
    return this.failure(condition, "credentials-rejected", text);
  }

  abort(): ServerStep {
    if (this.phase === "succeeded" || this.phase === "failed") throw new TypeError(`abort() in state ${this.phase}`);
    return this.failure("aborted", "aborted", "the client aborted the exchange");
  }

  private takeQuestion(kind: ServerQuestion["kind"]): void {
    if (this.phase !== "awaiting-answer" || this.pending !== kind) {
      throw new TypeError(`no pending ${kind} question`);
    }
    this.pending = undefined;
  }

  protected abstract onInitial(data: Uint8Array): ServerStep;
  protected onResponse(_data: Uint8Array): ServerStep {
    return this.failure("malformed-request", "unexpected-message", `${this.name} expects no further response`);
  }
  protected onCredentials(_c: ScramCredentials | null): ServerStep {
    throw new TypeError("unreachable");
  }
  protected onVerdict(_r: boolean | SaslCondition): ServerStep {
    throw new TypeError("unreachable");
  }

  protected ask<Q extends ServerQuestion>(question: Q): Q {
    this.phase = "awaiting-answer";
    this.pending = question.kind;
    return question;
  }

  protected challengeStep(data: Uint8Array): ServerStep {
    this.phase = "awaiting-response";
    return { kind: "challenge", data };
  }

  protected failure(
    condition: SaslCondition,
    reason: SaslErrorReason,
    text?: string,
    scramError?: string,
  ): ServerFailureStep {
    this.phase = "failed";
    const base = { kind: "failure" as const, condition, reason, text: text ?? DEFAULT_TEXT[condition] };
    return scramError === undefined ? base : { ...base, scramError };
  }

  protected success(identity: SaslIdentity, data?: Uint8Array): ServerSuccessStep {
    this.phase = "succeeded";
    return data === undefined ? { kind: "success", identity } : { kind: "success", data, identity };
  }

  /** Apply the authzid policy; `undefined` = allowed. */
  protected authzidAllowed(authcid: string, authzid: string | undefined): boolean {
    if (authzid === undefined || authzid === authcid) return true;
    const policy = this.options.allowAuthzid ?? false;
    return typeof policy === "function" ? policy(authcid, authzid) === true : policy;
  }
}
