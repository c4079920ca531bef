// Offline message store (XEP-0160) on SQLite: stores per second (one transaction each, as the router
// makes them) and messages fetched-and-deleted per second (`take`, one transaction per user), on a file in
// the temp directory with synchronous=FULL (the default) and NORMAL, and on :memory: for the CPU cost
// alone. Prints figures, asserts nothing.
//
//   pnpm -F @xmpp-sansio/server bench:store
//   env: BENCH_STORE_MS (1000: how long each insert run lasts), BENCH_STORE_USERS (200),
//        BENCH_STORE_PER_USER (50: messages per user for the take run)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStorage, type SqliteStorageOptions } from "../src/store/sqlite.js";
import type { AccountKeys } from "../src/store/types.js";

const RUN_MS = Number(process.env.BENCH_STORE_MS ?? 1000);
const USERS = Number(process.env.BENCH_STORE_USERS ?? 200);
const PER_USER = Number(process.env.BENCH_STORE_PER_USER ?? 50);
const fmt = (n: number) => Math.round(n).toLocaleString("en");

// A typical chat message as the router would store it (about 300 bytes).
const stanza = (i: number) =>
  `<message xmlns='jabber:client' from='romeo@example.net/orchard' to='juliet@example.com' type='chat' id='m${i}' xml:lang='en'><body>Neither, fair saint, if either thee dislike. (${i})</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`;

const keys: AccountKeys = new Map([["SHA-256", { salt: new Uint8Array(16), iterations: 4096, storedKey: new Uint8Array(32), serverKey: new Uint8Array(32) }]]);

function bench(label: string, path: string, options: SqliteStorageOptions): string[] {
  const storage = openSqliteStorage(path, { ...options, maxOfflinePerUser: 1_000_000 });
  try {
    storage.transaction(() => {
      for (let u = 0; u < USERS; u++) storage.accounts.put(`user${u}`, keys);
    });
    // Inserts: each its own transaction (commit = fsync with FULL), round-robin over the users.
    let n = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < RUN_MS) {
      for (let k = 0; k < 50; k++, n++) {
        const result = storage.offline.store(`user${n % USERS}`, stanza(n), 1_700_000_000_000 + n);
        if (!result.ok) throw new Error(result.reason);
      }
      elapsed = performance.now() - start;
    }
    const insertsPerSecond = (n / elapsed) * 1000;
    // Top up so every user has PER_USER waiting, in one transaction (not timed), then take them all.
    storage.transaction(() => {
      for (let u = 0; u < USERS; u++) {
        for (let c = storage.offline.count(`user${u}`); c < PER_USER; c++) storage.offline.store(`user${u}`, stanza(c), 0);
      }
    });
    let taken = 0;
    const takeStart = performance.now();
    for (let u = 0; u < USERS; u++) taken += storage.offline.take(`user${u}`, 0).length;
    const takeMs = performance.now() - takeStart;
    return [
      `${label.padEnd(34)} store ${fmt(insertsPerSecond).padStart(8)} msg/s (${fmt(n)} in ${fmt(elapsed)} ms)   take ${fmt((taken / takeMs) * 1000).padStart(9)} msg/s, ${fmt((USERS / takeMs) * 1000).padStart(7)} users/s (${fmt(taken)} messages of ${USERS} users)`,
    ];
  } finally {
    storage.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), "xmpp-store-bench-"));
try {
  console.log(`offline store on SQLite (better-sqlite3), one transaction per store; ${RUN_MS} ms per run, ${USERS} users, file in ${tmpdir()}`);
  for (const line of bench("file, WAL, synchronous=FULL", join(dir, "full.sqlite"), { synchronous: "full" })) console.log(line);
  for (const line of bench("file, WAL, synchronous=NORMAL", join(dir, "normal.sqlite"), { synchronous: "normal" })) console.log(line);
  for (const line of bench(":memory:", ":memory:", {})) console.log(line);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
