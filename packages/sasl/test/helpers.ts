import {
  type ClientMechanism,
  isKeyDerivationRequest,
  isSaslError,
  pbkdf2,
  type SaslError,
  type ScramCredentials,
  type ServerMechanism,
  type ServerStep,
} from "../src/index.js";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
export const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));

/** Deterministic "random" bytes for reproducible tests. */
export function counterRandom(seed = 1): (n: number) => Uint8Array {
  let x = seed;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      out[i] = x >>> 24;
    }
    return out;
  };
}

/** What the server's application answers. */
export interface App {
  credentials?: (username: string) => ScramCredentials | null;
  password?: (username: string, password: string | undefined) => boolean;
}

export type Outcome =
  | { kind: "success"; server: Extract<ServerStep, { kind: "success" }> }
  | { kind: "client-error"; error: SaslError }
  | { kind: "server-failure"; step: Extract<ServerStep, { kind: "failure" }> };

/**
 * Run a full exchange in memory, optionally passing every message through `tamper`
 * (index = message number, 0 = initial response).
 */
export function runExchange(
  client: ClientMechanism,
  server: ServerMechanism,
  app: App,
  tamper: (index: number, data: Uint8Array) => Uint8Array = (_i, d) => d,
): Outcome {
  let n = 0;
  const ir = client.initialResponse();
  let step = server.start(ir === null ? null : tamper(n++, ir));
  for (let guard = 0; guard < 20; guard++) {
    switch (step.kind) {
      case "credentials-needed":
        step = server.supplyCredentials(app.credentials?.(step.username) ?? null);
        break;
      case "verify-password":
        step = server.verdict(app.password?.(step.username, step.preparedPassword) ?? false);
        break;
      case "challenge": {
        let r = client.challenge(tamper(n++, step.data));
        // deriveKey: "ask" — answer the question as an application would (here with the package's pbkdf2).
        if (isKeyDerivationRequest(r)) r = client.supplySaltedPassword!(pbkdf2(r.hash, r.password, r.salt, r.iterations));
        if (isSaslError(r)) return { kind: "client-error", error: r };
        step = server.response(tamper(n++, r));
        break;
      }
      case "failure":
        return { kind: "server-failure", step };
      case "success": {
        const data = step.data === undefined ? undefined : tamper(n++, step.data);
        const r = client.finish(data);
        if (isSaslError(r)) return { kind: "client-error", error: r };
        return { kind: "success", server: step };
      }
    }
  }
  throw new Error("exchange did not terminate");
}
