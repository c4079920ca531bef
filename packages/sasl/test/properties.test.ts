import fc from "fast-check";
import { fuzz } from "../../../test-support/fuzz.js";
import { describe, expect, it } from "vitest";
import {
  CHANNEL_BINDING_TYPES,
  type ChannelBindingType,
  createClientMechanism,
  createServerMechanism,
  deriveScramCredentials,
  preparePassword,
  type ScramCredentials,
  type ScramMechanismName,
} from "../src/index.js";
import { counterRandom, runExchange } from "./helpers.js";

const SCRAM = ["SCRAM-SHA-1", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;
const HASH = { "SCRAM-SHA-1": "SHA-1", "SCRAM-SHA-256": "SHA-256", "SCRAM-SHA-512": "SHA-512" } as const;
const ITER = 16; // tiny on purpose: the client floor is lowered to 1 in these properties

/** Usernames and passwords with non-ASCII, commas, '=' and NUL-free text. */
const nameArb = fc
  .string({ unit: fc.oneof(fc.constantFrom(",", "=", "=2C", "=3D", "é", "ß", "日", "😀", " "), fc.string({ unit: "grapheme", minLength: 1, maxLength: 2 })), minLength: 1, maxLength: 12 })
  .filter((s) => s.length > 0 && !s.includes("\u0000"));
const passwordArb = nameArb.filter((s) => preparePassword(s) !== undefined);
const saltArb = fc.uint8Array({ minLength: 1, maxLength: 24 });
const cbTypeArb = fc.constantFrom<ChannelBindingType>(...CHANNEL_BINDING_TYPES);
const cbDataArb = fc.uint8Array({ minLength: 1, maxLength: 64 });

function scramPair(
  base: (typeof SCRAM)[number],
  plus: boolean,
  username: string,
  password: string,
  salt: Uint8Array,
  cbType: ChannelBindingType,
  cbData: Uint8Array,
  authzid: string | undefined,
  seed: number,
) {
  const name = (plus ? `${base}-PLUS` : base) as ScramMechanismName;
  const creds = deriveScramCredentials(HASH[base], password, salt, ITER);
  const client = createClientMechanism(name, {
    username,
    password,
    ...(authzid === undefined ? {} : { authzid }),
    minIterations: 1,
    random: counterRandom(seed),
    ...(plus ? { channelBinding: { type: cbType, data: cbData } } : {}),
  });
  const server = createServerMechanism(name, {
    random: counterRandom(seed + 1),
    allowAuthzid: true,
    ...(plus ? { channelBindings: [{ type: cbType, data: cbData }] } : {}),
  });
  const app = { credentials: (u: string): ScramCredentials | null => (u === username ? creds : null) };
  return { client, server, app };
}

describe("client ↔ server", () => {
  it("every SCRAM mechanism and channel-binding type authenticates", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SCRAM),
        fc.boolean(),
        nameArb,
        passwordArb,
        saltArb,
        cbTypeArb,
        cbDataArb,
        fc.option(nameArb, { nil: undefined }),
        fc.nat(),
        (base, plus, username, password, salt, cbType, cbData, authzid, seed) => {
          const { client, server, app } = scramPair(base, plus, username, password, salt, cbType, cbData, authzid, seed);
          const out = runExchange(client, server, app);
          expect(out.kind).toBe("success");
          if (out.kind === "success") {
            expect(out.server.identity).toEqual({
              mechanism: client.name,
              authcid: username,
              authzid: authzid === "" ? undefined : authzid,
            });
          }
          expect(client.state).toBe("succeeded");
        },
      ),
      fuzz(150),
    );
  });

  it("PLAIN authenticates", () => {
    fc.assert(
      fc.property(nameArb, passwordArb, (username, password) => {
        const client = createClientMechanism("PLAIN", { username, password });
        const server = createServerMechanism("PLAIN");
        const out = runExchange(client, server, {
          password: (u, p) => u === username && p === preparePassword(password),
        });
        expect(out.kind).toBe("success");
      }),
      fuzz(100),
    );
  });

  it("a different password never authenticates", () => {
    fc.assert(
      fc.property(fc.constantFrom(...SCRAM), nameArb, passwordArb, passwordArb, saltArb, (base, username, pw, other, salt) => {
        fc.pre(preparePassword(pw) !== preparePassword(other));
        const { server, app } = scramPair(base, false, username, pw, salt, "tls-exporter", new Uint8Array(1), undefined, 1);
        const client = createClientMechanism(base, { username, password: other, minIterations: 1 });
        const out = runExchange(client, server, app);
        expect(out).toMatchObject({ kind: "server-failure", step: { condition: "not-authorized" } });
      }),
      fuzz(60),
    );
  });
});

describe("mutations", () => {
  it("any byte mutation of any SCRAM message ends in a defined failure, never a throw or a success", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SCRAM),
        fc.boolean(),
        nameArb,
        passwordArb,
        saltArb,
        cbTypeArb,
        cbDataArb,
        fc.nat({ max: 4 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (base, plus, username, password, salt, cbType, cbData, which, pos, flip) => {
          const { client, server, app } = scramPair(base, plus, username, password, salt, cbType, cbData, undefined, 5);
          let mutated = false;
          const out = runExchange(client, server, app, (i, d) => {
            if (i !== which || d.length === 0) return d;
            mutated = true;
            const copy = d.slice();
            const at = pos % copy.length;
            copy[at] = copy[at]! ^ flip;
            return copy;
          });
          if (mutated) {
            expect(out.kind).not.toBe("success");
            if (out.kind === "client-error") expect(typeof out.error.condition).toBe("string");
            if (out.kind === "server-failure") expect(typeof out.step.condition).toBe("string");
          } else {
            expect(out.kind).toBe("success");
          }
        },
      ),
      fuzz(400),
    );
  });

  it("truncating or extending any SCRAM message never succeeds and never throws", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SCRAM),
        nameArb,
        passwordArb,
        fc.nat({ max: 4 }),
        fc.nat(),
        fc.uint8Array({ maxLength: 8 }),
        (base, username, password, which, cut, extra) => {
          const { client, server, app } = scramPair(base, false, username, password, new Uint8Array([1, 2, 3]), "tls-unique", new Uint8Array(1), undefined, 9);
          let mutated = false;
          const out = runExchange(client, server, app, (i, d) => {
            if (i !== which) return d;
            const next = Uint8Array.from([...d.subarray(0, cut % (d.length + 1)), ...extra]);
            if (next.length === d.length && next.every((b, k) => b === d[k])) return d;
            mutated = true;
            return next;
          });
          if (mutated) expect(out.kind).not.toBe("success");
        },
      ),
      fuzz(300),
    );
  });

  it("arbitrary bytes into every server mechanism and SCRAM client never throw", () => {
    const names = ["PLAIN", "ANONYMOUS", "EXTERNAL", "SCRAM-SHA-1", "SCRAM-SHA-256-PLUS", "SCRAM-SHA-512"] as const;
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ maxLength: 80 }), (name, a, b) => {
        const s = createServerMechanism(name, {
          externalIdentities: ["x@y"],
          channelBindings: [{ type: "tls-exporter", data: new Uint8Array([1]) }],
          random: counterRandom(2),
        });
        let step = s.start(a);
        if (step.kind === "credentials-needed") step = s.supplyCredentials(null);
        if (step.kind === "verify-password") step = s.verdict(false);
        if (step.kind === "challenge") step = s.response(b);
        expect(["challenge", "success", "failure"]).toContain(step.kind);
        const c = createClientMechanism("SCRAM-SHA-256", { username: "u", password: "p", random: counterRandom(4) });
        c.initialResponse();
        const r = c.challenge(a);
        if (r instanceof Uint8Array) expect(c.finish(b)).not.toBe(true);
      }),
      fuzz(1000),
    );
  });

  it("ASCII-structured garbage (attr=value lists) never throws", () => {
    const attr = fc.tuple(fc.constantFrom("r", "s", "i", "m", "e", "v", "c", "p", "n", "a", "h", "x"), fc.string({ maxLength: 6 })).map(([k, v]) => `${k}=${v}`);
    const msg = fc.array(attr, { maxLength: 6 }).map((a) => new TextEncoder().encode(a.join(",")));
    fc.assert(
      fc.property(fc.constantFrom("n,,", "y,,", "p=tls-exporter,,", "n,a=x,", ""), msg, msg, (gs2, first, final) => {
        const s = createServerMechanism("SCRAM-SHA-1-PLUS", { channelBindings: [{ type: "tls-exporter", data: new Uint8Array([1]) }], random: counterRandom(1) });
        let step = s.start(Uint8Array.from([...new TextEncoder().encode(gs2), ...first]));
        if (step.kind === "credentials-needed") step = s.supplyCredentials(null);
        if (step.kind === "challenge") step = s.response(final);
        expect(step.kind === "failure" || step.kind === "challenge").toBe(true);
        const c = createClientMechanism("SCRAM-SHA-1", { username: "u", password: "p", nonce: "abc" });
        c.initialResponse();
        const r = c.challenge(first);
        if (r instanceof Uint8Array) expect(c.finish(final)).not.toBe(true);
      }),
      fuzz(1000),
    );
  });
});
