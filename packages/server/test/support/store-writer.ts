// A process that writes into a data directory and says what it has committed, for the crash tests, which
// SIGKILL it mid-stream and then check that everything it printed is there and whole.
//
//   store-writer.ts DIR PREFIX          accounts and one offline message each, one at a time, as fast as
//                                       it can: "committed NAME" after each pair of transactions
//   store-writer.ts DIR PREFIX batch    COUNT accounts in ONE transaction (keys derived inside it, so it
//                                       lasts): "begin" before, "committed batch" after
import { AccountStore } from "../../src/accounts.js";
import { openDataDirectory } from "../../src/store/data-dir.js";

/** Accounts in one batch transaction. */
const BATCH = 60;

const [dir, prefix, mode] = process.argv.slice(2);
if (dir === undefined || prefix === undefined) throw new TypeError("usage: store-writer.ts DIR PREFIX [batch]");
const { storage } = openDataDirectory(dir);
const accounts = new AccountStore({ records: storage.accounts });
process.stdout.write("ready\n");
if (mode === "batch") {
  process.stdout.write("begin\n");
  storage.transaction(() => {
    for (let i = 0; i < BATCH; i++) accounts.add(`${prefix}${i}`, `password-${prefix}${i}`);
  });
  process.stdout.write("committed batch\n");
  storage.close();
} else {
  for (let i = 0; ; i++) {
    const name = `${prefix}${i}`;
    accounts.add(name, `password-${name}`);
    const stored = storage.offline.store(name, `<message to='${name}@localhost'><body>${i}</body></message>`, i);
    if (!stored.ok) throw new Error(`offline store for ${name}: ${stored.reason}`);
    process.stdout.write(`committed ${name}\n`);
  }
}
