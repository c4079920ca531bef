// Entry point of the `xmpp-sansio-server` command (see cli.ts). `main` turns every error into one line
// and an exit code; this catch is for what escapes it (it should not): still one line, exit 70.
import { main } from "./cli.js";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env.XMPP_SANSIO_DEBUG) console.error(error instanceof Error ? error.stack : error);
    process.exit(70);
  },
);
