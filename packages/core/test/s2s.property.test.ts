import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { verifyDialbackKey } from "../src/index.js";
import { type Link, makeLink, runLinks } from "./s2s-harness.js";

const SECRET = "s3cr3t";
const DEFINED_END = new Set(["online", "closed"]);

/** A link that authenticates with EXTERNAL (`cert`) or dialback (the key checked as the authoritative server would). */
function link(cert: boolean, chunks: { i2r: number[]; r2i: number[] }, mutate?: Parameters<typeof makeLink>[0]["mutate"]): Link {
  return makeLink({
    initiator: { from: "capulet.example", to: "montague.example", dialbackSecret: SECRET, bidi: !cert },
    serves: ["montague.example"],
    ...(cert ? { peerIdentities: ["capulet.example"] } : {}),
    chunks,
    ...(mutate === undefined ? {} : { mutate }),
    onDialbackRequest(ev, l) {
      l.receiver.answerDialbackResult(ev.from, ev.to, { valid: verifyDialbackKey(SECRET, ev.to, ev.from, ev.streamId, ev.key) });
    },
  });
}

/** Runs to quiescence, then fires timers until both ends are online or closed; fails on a hang. */
function settle(l: Link): void {
  for (let round = 0; round < 20; round++) {
    expect(runLinks([l], 5000)).toBeLessThan(5000);
    const pending = [l.initiator, l.receiver].filter((s) => !DEFINED_END.has(s.state));
    if (pending.length === 0) return;
    for (const s of pending) {
      const t = s.nextTimeout();
      expect(t, `${s.constructor.name} in ${s.detailedState} has no timer: it would hang`).toBeDefined();
      s.handleTimeout(t!);
    }
  }
  throw new Error("did not settle");
}

const chunkSizes = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 6 });

describe("s2s negotiation under arbitrary chunking and mutation", () => {
  it("any chunking: both ends online (EXTERNAL and dialback)", () => {
    fc.assert(
      fc.property(fc.boolean(), chunkSizes, chunkSizes, (cert, i2r, r2i) => {
        const l = link(cert, { i2r, r2i });
        l.initiator.start(0);
        settle(l);
        expect(l.initiator.state).toBe("online");
        expect(l.receiver.state).toBe("online");
      }),
      fuzz(150),
    );
  });

  it("a mutated byte ends online or in a defined error, never a throw or a hang", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        chunkSizes,
        chunkSizes,
        fc.constantFrom<"i2r" | "r2i">("i2r", "r2i"),
        fc.nat(12),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (cert, i2r, r2i, dir, which, at, byte) => {
          const l = link(cert, { i2r, r2i }, (d, bytes, index) => {
            if (d !== dir || index !== which || bytes.length === 0) return bytes;
            const copy = bytes.slice();
            copy[at % copy.length] = byte;
            return copy;
          });
          l.initiator.start(0);
          settle(l);
          for (const [s, events] of [
            [l.initiator, l.initiatorEvents],
            [l.receiver, l.receiverEvents],
          ] as const) {
            if (s.state === "closed") expect((events as readonly { type: string }[]).some((e) => e.type === "closed")).toBe(true);
          }
          // Never online on one side with an unauthenticated peer: online implies an authenticated pair.
          if (l.receiver.state === "online") expect(l.receiver.anyAuthorized).toBe(true);
        },
      ),
      fuzz(300),
    );
  });
});
