// What XmppServer gives its sessions: node:crypto's SCRAM primitives (against the pure-JS defaults) and
// the pooled CSPRNG.
import { digest, hmac, type ScramHash } from "../../sasl/src/index.js"; // not a dependency of this package: the reference only
import { once } from "node:events";
import * as net from "node:net";
import { ServerSession } from "@xmpp-sansio/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { nodeScramCrypto, pooledRandom, XmppServer, type XmppServerOptions } from "../src/index.js";

const HASHES: readonly ScramHash[] = ["SHA-1", "SHA-256", "SHA-512"];

describe("nodeScramCrypto", () => {
  it("H and HMAC equal the pure-JS ones for every SCRAM hash, any key and data", () => {
    fc.assert(
      fc.property(fc.constantFrom(...HASHES), fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 600 }), (hash, key, data) => {
        expect(new Uint8Array(nodeScramCrypto.digest(hash, data))).toEqual(digest(hash, data));
        expect(new Uint8Array(nodeScramCrypto.hmac(hash, key, data))).toEqual(hmac(hash, key, data));
      }),
      fuzz(200),
    );
  });

  it("is what XmppServer gives its sessions, unless session.scramCrypto says otherwise", async () => {
    const own = { digest, hmac };
    for (const [session, expected] of [[{}, nodeScramCrypto], [{ scramCrypto: own }, own]] as const) {
      const seen: unknown[] = [];
      const options: XmppServerOptions = {
        domains: "localhost",
        host: "127.0.0.1",
        port: 0,
        starttls: "none",
        session,
        createSession: (o) => {
          seen.push(o.scramCrypto);
          expect(o.random).toBe(pooledRandom);
          return new ServerSession(o);
        },
      };
      const server = new XmppServer(options);
      const { port } = await server.listen();
      const accepted = once(server, "connection"); // emitted once the session exists
      const socket = net.connect(port!, "127.0.0.1");
      await accepted;
      socket.destroy();
      await server.close();
      expect(seen).toEqual([expected]);
    }
  });
});

describe("pooledRandom", () => {
  it("fills every size, never hands out the same bytes twice, and goes past the pool's end", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const b = new Uint8Array(16); // 2 000 × 16 bytes: the 4 KiB pool refilled several times
      pooledRandom(b);
      const hex = Buffer.from(b).toString("hex");
      expect(seen.has(hex)).toBe(false);
      seen.add(hex);
    }
    for (const n of [0, 1, 7, 1024, 1025, 5000]) {
      const b = new Uint8Array(n);
      pooledRandom(b);
      if (n >= 16) expect(b.some((x) => x !== 0)).toBe(true);
    }
    // Bytes look uniform: about n/256 of each value over 64 KiB.
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 1024; i++) {
      const b = new Uint8Array(64);
      pooledRandom(b);
      for (const x of b) counts[x]!++;
    }
    expect(Math.min(...counts)).toBeGreaterThan(150);
    expect(Math.max(...counts)).toBeLessThan(370);
  });
});
