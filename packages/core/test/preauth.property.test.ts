// Properties of the pre-authentication exchanges (XEP-0077 registration → SASL, XEP-0078 digest login):
// any chunking of either direction ends online with the same JID; any single-byte mutation in flight
// ends every session online or closed with a defined reason — never an exception, never a hang once
// the timers have run.
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { iqAuthFeature, registerFeature, registrationOutcomeOf } from "../src/index.js";
import { ACCOUNTS, makePair, type PairOptions } from "./harness.js";
import { drive } from "./preauth-driver.js";

afterEach(() => {
  for (const u of [...ACCOUNTS.keys()]) if (u !== "juliet" && u !== "romeo") ACCOUNTS.delete(u);
  ACCOUNTS.set("juliet", { password: "r0m30myr0m30" });
});

type Flow = "register" | "iq-auth";

function flowOptions(flow: Flow): PairOptions {
  return flow === "register"
    ? {
        client: { jid: "benvolio@im.example.com/street", password: "pa55word!", features: [registerFeature({ client: { password: "pa55word!" } })] },
        server: { features: [registerFeature({ server: {} })] },
      }
    : {
        client: { features: [iqAuthFeature({ client: { password: "r0m30myr0m30", resource: "balcony" } })] },
        server: { mechanisms: [], features: [iqAuthFeature({ server: {} })] },
      };
}

const EXPECTED_JID: Record<Flow, string> = { register: "benvolio@im.example.com/street", "iq-auth": "juliet@im.example.com/balcony" };

/** Drives the pair, then lets the timers run until both sessions settle (online or closed). */
function settle(pair: ReturnType<typeof makePair>): void {
  drive(pair);
  for (let i = 0; i < 5 && !(settled(pair.client.state) && settled(pair.server.state)); i++) {
    pair.now += 120_000;
    if (pair.client.state !== "online") pair.client.handleTimeout(pair.now);
    if (pair.server.state !== "online") pair.server.handleTimeout(pair.now);
    drive(pair);
  }
}

function settled(state: string): boolean {
  return state === "online" || state === "closed";
}

const chunks = fc.array(fc.integer({ min: 1, max: 48 }), { minLength: 1, maxLength: 6 });

describe("pre-authentication exchanges (property)", () => {
  for (const flow of ["register", "iq-auth"] as const) {
    it(`${flow}: any chunking ends online with the same JID`, () => {
      fc.assert(
        fc.property(chunks, chunks, (c2s, s2c) => {
          ACCOUNTS.delete("benvolio");
          const pair = makePair({ ...flowOptions(flow), chunks: { c2s, s2c } });
          pair.client.start(0);
          drive(pair);
          expect(pair.client.state).toBe("online");
          expect(pair.server.state).toBe("online");
          expect(pair.client.jid.toString()).toBe(EXPECTED_JID[flow]);
          if (flow === "register") expect(pair.clientEvents.map(registrationOutcomeOf).filter(Boolean)).toEqual([{ registered: true, username: "benvolio" }]);
        }),
        fuzz(40),
      );
    });

    it(`${flow}: a mutated byte in flight ends online or in a defined error`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom("c2s" as const, "s2c" as const),
          fc.nat({ max: 12 }),
          fc.nat({ max: 4096 }),
          fc.integer({ min: 1, max: 255 }),
          chunks,
          (dir, message, offset, xor, c2s) => {
            ACCOUNTS.delete("benvolio");
            const pair = makePair({
              ...flowOptions(flow),
              chunks: { c2s },
              mutate: (d, bytes, index) => {
                if (d !== dir || index !== message || bytes.length === 0) return bytes;
                const out = bytes.slice();
                out[offset % out.length]! ^= xor;
                return out;
              },
            });
            pair.client.start(0);
            settle(pair);
            for (const [session, events] of [
              [pair.client, pair.clientEvents],
              [pair.server, pair.serverEvents],
            ] as const) {
              expect(settled(session.state)).toBe(true);
              if (session.state === "closed") {
                const closed = events.filter((e) => e.type === "closed");
                expect(closed).toHaveLength(1);
              }
            }
            if (pair.client.state === "online") expect(pair.client.jid.bare.toString()).toBe(EXPECTED_JID[flow].split("/")[0]);
          },
        ),
        fuzz(150),
      );
    });
  }
});
