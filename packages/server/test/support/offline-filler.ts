// Offline stores from several processes at once against one database, for the tests of the per-user bound.
// Prints "ready", waits for a line on stdin (so all start together), then:
//
//   offline-filler.ts DIR USER LIMIT fill      stores until `full`; prints "stored N"
//   offline-filler.ts DIR USER 1 pingpong K    K times: store one message, then take; prints
//                                              "stored N taken M max X" (X: the most one take returned)
import { createInterface } from "node:readline";
import { openDataDirectory } from "../../src/store/data-dir.js";

const [dir, user, limit, mode = "fill", rounds = "0"] = process.argv.slice(2);
if (dir === undefined || user === undefined || limit === undefined) throw new TypeError("usage: offline-filler.ts DIR USER LIMIT [fill|pingpong K]");
const { storage } = openDataDirectory(dir, { maxOfflinePerUser: Number(limit) });
process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin });
lines.once("line", () => {
  let stored = 0;
  if (mode === "fill") {
    for (let i = 0; ; i++) {
      const result = storage.offline.store(user, `<message id='${process.pid}-${i}'/>`, i);
      if (!result.ok) {
        if (result.reason !== "full") throw new Error(result.reason);
        break;
      }
      stored++;
    }
    process.stdout.write(`stored ${stored}\n`);
  } else {
    let taken = 0;
    let max = 0;
    for (let i = 0; i < Number(rounds); i++) {
      if (storage.offline.store(user, `<message id='${process.pid}-${i}'/>`, i).ok) stored++;
      const got = storage.offline.take(user, i).length;
      taken += got;
      max = Math.max(max, got);
    }
    process.stdout.write(`stored ${stored} taken ${taken} max ${max}\n`);
  }
  storage.close();
  lines.close();
});
