// A process that writes accounts and offline messages into a data directory as fast as it can, printing
// each one after its transaction has returned ("committed NAME"). The crash tests SIGKILL it mid-stream and
// then check that everything it printed is there and whole. Usage: store-writer.ts DIR PREFIX
import { AccountStore } from "../../src/accounts.js";
import { openDataDirectory } from "../../src/store/data-dir.js";

const [dir, prefix] = process.argv.slice(2);
if (dir === undefined || prefix === undefined) throw new TypeError("usage: store-writer.ts DIR PREFIX");
const { storage } = openDataDirectory(dir);
const accounts = new AccountStore({ records: storage.accounts });
process.stdout.write("ready\n");
for (let i = 0; ; i++) {
  const name = `${prefix}${i}`;
  accounts.add(name, `password-${name}`);
  const stored = storage.offline.store(name, `<message to='${name}@localhost'><body>${i}</body></message>`, i);
  if (!stored.ok) throw new Error(`offline store for ${name}: ${stored.reason}`);
  process.stdout.write(`committed ${name}\n`);
}
