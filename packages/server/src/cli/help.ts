/**
 * The help texts of the command line: one per command (`serve --help`, `help serve`), the options listed
 * from the settings table so they cannot drift from what is parsed.
 *
 * @module
 */
import { ExitCode } from "./exit.js";
import { type Command, SETTINGS, type SettingSpec } from "./settings.js";

/** The environment variable `add-user` and `passwd` read the password from (before prompting). */
export const PASSWORD_ENV = "XMPP_SANSIO_PASSWORD";

const NAME = "xmpp-sansio-server";

const COMMAND_HELP: Record<Command, { readonly summary: string; readonly synopsis: string; readonly text: string }> = {
  serve: {
    summary: "run the server (SIGHUP reloads the certificate)",
    synopsis: "serve [options]",
    text: `Runs an IM server (rosters, presence, offline messages, blocking, vCards) until SIGINT or SIGTERM.
Everything is kept in the SQLite database DIR/xmpp-sansio.sqlite (created on first start, with the demo
accounts juliet/r0m30myr0m30 and romeo/j0liet when it has no accounts). Accounts added with add-user
while it runs can log in at once. Without --cert/--key a certificate signed by a private CA is generated
into DIR on first start; the line printed says which CA file clients must trust.
SIGHUP reloads the certificate (new connections get it, open ones keep theirs; a certificate that does
not load is logged and the old one stays) and re-checks the accounts in the database.`,
  },
  demo: {
    summary: "run the RFC 6120 §9.1 demo on loopback and exit",
    synopsis: "demo",
    text: `Starts the server on loopback with a generated certificate and two accounts, logs juliet and romeo in
(STARTTLS, SCRAM-SHA-256-PLUS), exchanges the RFC 6120 §9.1 messages, prints the XML both ways and exits.`,
  },
  "add-user": {
    summary: "create or reset an account",
    synopsis: "add-user NAME [options]",
    text: `Creates or resets an account (SCRAM keys only; the password is not stored). The password is read from
--password-file (its first line; - for stdin), else from ${PASSWORD_ENV}, else asked for on the
terminal — never from the command line, where other users could read it. \`adduser\` (prosodyctl's
spelling) is the same command.`,
  },
  passwd: { summary: "change an account's password", synopsis: "passwd NAME [options]", text: "Changes an existing account's password (read as for add-user)." },
  deluser: { summary: "delete an account and its data", synopsis: "deluser NAME [options]", text: "Deletes an account with its roster, offline messages, vCard, private XML and blocklist." },
  list: { summary: "list the accounts", synopsis: "list [options]", text: "Prints the accounts, one per line." },
  backup: {
    summary: "copy the database (also while serving)",
    synopsis: "backup FILE [options]",
    text: "Writes a consistent copy of the database to FILE (which must not exist), also while the server runs (SQLite VACUUM INTO).",
  },
  help: { summary: "this help, or a command's", synopsis: "help [COMMAND]", text: "Prints this help, or a command's." },
};

/** The help of one command: synopsis, description, its options. */
export function commandHelp(command: Command): string {
  const { synopsis, text } = COMMAND_HELP[command];
  const options = SETTINGS.filter((s) => s.flag !== undefined && s.commands.includes(command));
  const width = Math.max(0, ...options.map((s) => optionLabel(s).length));
  const lines = options.map((s) => `  ${optionLabel(s).padEnd(width)}  ${s.doc}`);
  return [`usage: ${NAME} ${synopsis}`, "", text, ...(lines.length === 0 ? [] : ["", "options:", ...lines]), `  ${"-h, --help".padEnd(width)}  this help`].join("\n");
}

function optionLabel(s: SettingSpec): string {
  const t = s.type;
  if (t === "boolean") return `--${s.flag}`;
  const value =
    typeof t !== "string" ? t.join("|") : t === "path" ? (s.flag === "data" ? "DIR" : "FILE") : t === "port" ? "PORT" : t === "count" ? "N" : t === "domain" ? "DOMAIN" : t === "url-path" ? "/PATH" : "TEXT";
  return `--${s.flag} ${value}`;
}

/** The general help: every command in one line, the global flags and the exit codes. */
export function generalHelp(): string {
  const width = Math.max(...Object.values(COMMAND_HELP).map((c) => c.synopsis.length));
  return [
    `usage: ${NAME} COMMAND [options]`,
    "",
    "commands:",
    ...Object.values(COMMAND_HELP).map((c) => `  ${c.synopsis.padEnd(width)}  ${c.summary}`),
    "",
    `  ${NAME} help COMMAND (or COMMAND --help) describes a command and its options; --version prints the version.`,
    "",
    "exit codes:",
    ...Object.entries(ExitCode).map(([name, code]) => `  ${String(code).padStart(2)}  ${name}`),
  ].join("\n");
}
