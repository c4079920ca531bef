/**
 * `xmpp-sansio-server`: the server's command line.
 *
 *   xmpp-sansio-server demo                 run the RFC 6120 §9.1 demo on loopback and exit
 *   xmpp-sansio-server serve [options]      keep a server running for real clients
 *   xmpp-sansio-server add-user NAME        create (or reset) an account in the database
 *   xmpp-sansio-server passwd NAME          change an existing account's password
 *   xmpp-sansio-server deluser NAME         delete an account and all its data
 *   xmpp-sansio-server list                 list the accounts
 *   xmpp-sansio-server backup FILE          write a consistent copy of the database (server may run)
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AccountStore } from "./accounts.js";
import { generateSelfSignedCertificate } from "./certificate.js";
import { runDemo } from "./demo.js";
import { type StreamManagementSettings, startServer } from "./server.js";
import { type DataDirectory, openDataDirectory, seedDemoAccounts } from "./store/data-dir.js";

/** The environment variable `add-user` and `passwd` read the password from (before prompting). */
export const PASSWORD_ENV = "XMPP_SANSIO_PASSWORD";

const USAGE = `usage:
  xmpp-sansio-server demo
      Starts the server on loopback with a generated certificate and two accounts, logs juliet and
      romeo in (STARTTLS, SCRAM-SHA-256-PLUS), exchanges the RFC 6120 §9.1 messages, prints the XML
      both ways and exits.
  xmpp-sansio-server serve [--domain D] [--host H] [--port P] [--direct-tls-port P]
                           [--websocket-port P [--websocket-path /p] [--websocket-tls]] [--data DIR] [--cert F --key F]
                           [--max-offline N] [--no-sm | --sm-max-resume SECONDS --sm-max-detached N]
                           [--allow-registration] [--iq-auth] [--component-port P --component DOMAIN=SECRET_FILE ...]
      Runs until interrupted: an IM server (rosters, presence, offline messages, blocking, vCards) on
      the database. --allow-registration lets clients create accounts in-band (XEP-0077, over TLS);
      --iq-auth offers the obsolete XEP-0078 jabber:iq:auth login (plaintext password over TLS only). --websocket-port also serves XMPP over WebSocket (RFC 7395) at
      ws://H:P/xmpp-websocket (wss:// with --websocket-tls), routed together with the TCP clients.
      Everything is kept in the SQLite database DIR/xmpp-sansio.sqlite (created on first start, with
      the demo accounts juliet/r0m30myr0m30 and romeo/j0liet when it has no accounts; an accounts.json
      of earlier versions is imported once and renamed accounts.json.imported). Accounts added with
      add-user while the server runs can log in at once. --max-offline: offline messages kept per
      user (default 1000). Without --cert/--key a self-signed certificate for the domain is generated
      on first start into DIR. Stream Management (XEP-0198) is on: a client whose connection drops may
      resume its session for --sm-max-resume seconds (default 300); at most --sm-max-detached such
      sessions are kept (default 10000). --no-sm turns it off. --component-port accepts XEP-0114
      external components on H:P (plain TCP: keep it on loopback); each --component names one
      component domain and a file whose first line is its shared secret.
  xmpp-sansio-server add-user NAME [--password-file F] [--data DIR]
  xmpp-sansio-server passwd NAME [--password-file F] [--data DIR]
      Creates or resets an account / changes an existing account's password (SCRAM keys only; the
      password is not stored). The password is read from F (its first line; - for stdin), else from
      the ${PASSWORD_ENV} environment variable, else asked for on the terminal — never from the
      command line, where other users could read it.
  xmpp-sansio-server deluser NAME [--data DIR]
      Deletes an account with its roster, offline messages, vCard, private XML and blocklist.
  xmpp-sansio-server list [--data DIR]
      Prints the accounts, one per line.
  xmpp-sansio-server backup FILE [--data DIR]
      Writes a consistent copy of the database to FILE (which must not exist), also while the server
      runs (SQLite VACUUM INTO).
defaults: --domain localhost --host 127.0.0.1 --port 5222 --data ./xmpp-data`;

/** Runs the command line; resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      domain: { type: "string", default: "localhost" },
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "5222" },
      "direct-tls-port": { type: "string" },
      "websocket-port": { type: "string" },
      "websocket-path": { type: "string" },
      "websocket-tls": { type: "boolean" },
      data: { type: "string", default: "./xmpp-data" },
      cert: { type: "string" },
      key: { type: "string" },
      "password-file": { type: "string" },
      "max-offline": { type: "string" },
      "allow-registration": { type: "boolean" },
      "iq-auth": { type: "boolean" },
      "no-sm": { type: "boolean" },
      "sm-max-resume": { type: "string" },
      "sm-max-detached": { type: "string" },
      "component-port": { type: "string" },
      component: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command = "demo", ...rest] = positionals;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  /** Opens the data directory, or says why not (a malformed accounts.json, a newer schema…): `undefined`. */
  const open = (): DataDirectory | undefined => {
    const maxOffline = values["max-offline"] === undefined ? undefined : Number(values["max-offline"]);
    if (maxOffline !== undefined && !(Number.isInteger(maxOffline) && maxOffline >= 0)) {
      console.error("--max-offline: a whole number of messages");
      return undefined;
    }
    let dir: DataDirectory;
    try {
      dir = openDataDirectory(values.data, maxOffline === undefined ? {} : { maxOfflinePerUser: maxOffline });
    } catch (error) {
      console.error(`cannot open the data directory ${values.data}: ${(error as Error).message}`);
      return undefined;
    }
    if (dir.imported.length > 0) {
      console.log(`imported ${dir.imported.length} account(s) from ${join(values.data, "accounts.json")} into ${dir.databaseFile}: ${dir.imported.join(", ")}`);
    }
    return dir;
  };
  switch (command) {
    case "demo": {
      const colour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
      const result = await runDemo({ colour });
      const ok = result.received.length === 2;
      console.log(
        `\n${ok ? "✓" : "✗"} ${result.julietJid} and ${result.romeoJid} exchanged ${result.received.length} messages over STARTTLS with ${[...new Set(result.mechanisms)].join(", ")}`,
      );
      return ok ? 0 : 1;
    }
    case "add-user":
    case "passwd": {
      const [name, extra] = rest;
      if (name === undefined) return usage();
      if (extra !== undefined) {
        console.error(`${command}: a password on the command line is visible to every user of this machine (ps); use --password-file F, ${PASSWORD_ENV} or the prompt`);
        return 2;
      }
      const password = await readPassword(values["password-file"]);
      if (password === undefined) return 2;
      const opened = open();
      if (opened === undefined) return 1;
      const { storage, databaseFile } = opened;
      try {
        const accounts = new AccountStore({ records: storage.accounts });
        if (command === "passwd" && !accounts.has(name)) {
          console.error(`passwd: no account '${name}' in ${databaseFile}`);
          return 1;
        }
        try {
          accounts.add(name, password);
        } catch (error) {
          // an invalid username (JidError) or password (not a PRECIS OpaqueString): say which, no stack
          console.error(`${command}: ${(error as Error).message}`);
          return 1;
        }
        console.log(`account '${name}' saved in ${databaseFile}`);
        return 0;
      } finally {
        storage.close();
      }
    }
    case "deluser": {
      const [name] = rest;
      if (name === undefined) return usage();
      const opened = open();
      if (opened === undefined) return 1;
      const { storage, databaseFile } = opened;
      try {
        if (!new AccountStore({ records: storage.accounts }).remove(name)) {
          console.error(`deluser: no account '${name}' in ${databaseFile}`);
          return 1;
        }
        console.log(`account '${name}' and its data deleted from ${databaseFile}`);
        return 0;
      } finally {
        storage.close();
      }
    }
    case "list": {
      const opened = open();
      if (opened === undefined) return 1;
      const { storage } = opened;
      try {
        for (const name of storage.accounts.list()) console.log(name);
        return 0;
      } finally {
        storage.close();
      }
    }
    case "backup": {
      const [file] = rest;
      if (file === undefined) return usage();
      if (existsSync(file)) {
        console.error(`backup: ${file} exists; a backup never overwrites a file`);
        return 1;
      }
      const opened = open();
      if (opened === undefined) return 1;
      const { storage, databaseFile } = opened;
      try {
        storage.backupTo(file);
        console.log(`${databaseFile} copied to ${file}`);
        return 0;
      } finally {
        storage.close();
      }
    }
    case "serve": {
      const streamManagement = streamManagementFromArgs(values);
      if (typeof streamManagement === "string") {
        console.error(`${streamManagement}\n${USAGE}`);
        return 2;
      }
      const components = componentsFromArgs(values["component-port"], values.component);
      if (typeof components === "string") {
        console.error(`${components}\n${USAGE}`);
        return 2;
      }
      const opened = open();
      if (opened === undefined) return 1;
      const { storage, databaseFile } = opened;
      try {
        if (seedDemoAccounts(storage)) console.log(`created the demo accounts juliet (r0m30myr0m30) and romeo (j0liet) in ${databaseFile}`);
        const accounts = new AccountStore({ records: storage.accounts });
        const tls = loadOrCreateCertificate(values.data, values.domain, values.cert, values.key);
        // Listen for the signals before saying "serving": a supervisor may stop us as soon as it reads that.
        const stopped = new Promise<void>((resolve) => {
          const stop = () => resolve();
          process.once("SIGINT", stop);
          process.once("SIGTERM", stop);
        });
        const running = await startServer({
          domain: values.domain,
          accounts,
          host: values.host,
          port: Number(values.port),
          ...(values["direct-tls-port"] === undefined ? {} : { directTlsPort: Number(values["direct-tls-port"]) }),
          ...(values["websocket-port"] === undefined
            ? {}
            : {
                websocket: {
                  port: Number(values["websocket-port"]),
                  ...(values["websocket-path"] === undefined ? {} : { path: values["websocket-path"] }),
                  tls: values["websocket-tls"] === true,
                },
              }),
          tls,
          streamManagement,
          // The IM server on the database: rosters, presence, offline messages (those of expired XEP-0198
          // sessions included), blocking, vCards, private XML.
          storage,
          allowRegistration: values["allow-registration"] === true,
          iqAuth: values["iq-auth"] === true,
          ...(components === undefined ? {} : { components: { ...components, host: values.host } }),
          log: (line) => console.log(`${new Date().toISOString()} ${line}`),
        });
        console.log(
          `serving ${values.domain} on ${values.host}:${running.port}${running.directTlsPort ? ` (direct TLS ${running.directTlsPort})` : ""}${running.websocketUrl ? `, ${running.websocketUrl}` : ""}${running.componentPort === undefined ? "" : `, components on ${values.host}:${running.componentPort}`}; database ${databaseFile}; accounts: ${listNames(accounts.usernames())}`,
        );
        await stopped;
        console.log("shutting down (<system-shutdown/> to every client)…");
        await running.close();
        return 0;
      } finally {
        storage.close();
      }
    }
    default:
      return usage();
  }
}

/** `--component-port P --component DOMAIN=SECRET_FILE …`: the components option, nothing, or what is wrong. */
function componentsFromArgs(port: string | undefined, specs: readonly string[] | undefined): { port: number; secrets: Record<string, string> } | undefined | string {
  if (port === undefined) return specs === undefined ? undefined : "--component needs --component-port";
  const p = Number(port);
  if (!Number.isInteger(p) || p < 0 || p > 65535) return "--component-port: a port number";
  const secrets: Record<string, string> = {};
  for (const spec of specs ?? []) {
    const eq = spec.indexOf("=");
    if (eq <= 0) return `--component ${spec}: DOMAIN=SECRET_FILE`;
    let secret: string | undefined;
    try {
      secret = readFileSync(spec.slice(eq + 1), "utf8").split(/\r?\n/)[0];
    } catch (error) {
      return `--component ${spec}: ${(error as Error).message}`;
    }
    if (secret === undefined || secret === "") return `--component ${spec}: the file's first line (the secret) is empty`;
    secrets[spec.slice(0, eq)] = secret;
  }
  return { port: p, secrets };
}

/** Up to ten names, then how many there are in all. */
function listNames(names: readonly string[]): string {
  return names.length <= 10 ? names.join(", ") : `${names.slice(0, 10).join(", ")}, … (${names.length} in all)`;
}

function usage(): number {
  console.error(USAGE);
  return 2;
}

/**
 * The password for add-user/passwd: the first line of `file` (`-`: stdin), else the environment
 * variable, else a prompt without echo on a terminal. `undefined` (after saying why) when there is none.
 */
async function readPassword(file: string | undefined): Promise<string | undefined> {
  if (file !== undefined) {
    const text = readFileSync(file === "-" ? 0 : file, "utf8");
    const password = text.split(/\r?\n/, 1)[0] ?? "";
    if (password === "") {
      console.error(`the password file ${file === "-" ? "(stdin)" : file} is empty`);
      return undefined;
    }
    return password;
  }
  const fromEnv = process.env[PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (process.stdin.isTTY !== true) {
    console.error(`no password: give --password-file F (- for stdin), set ${PASSWORD_ENV}, or run on a terminal to be asked`);
    return undefined;
  }
  const first = await prompt("password: ");
  const second = first === undefined ? undefined : await prompt("again: ");
  if (first === undefined || second === undefined || first === "") return undefined;
  if (first !== second) {
    console.error("the passwords differ");
    return undefined;
  }
  return first;
}

/** Reads one line from the terminal without echoing it; `undefined` on Ctrl-C or Ctrl-D. */
function prompt(question: string): Promise<string | undefined> {
  const stdin = process.stdin;
  stdin.setRawMode(true); // before the question: what is typed after it must not be echoed
  process.stderr.write(question);
  stdin.resume();
  let line = "";
  return new Promise((resolve) => {
    const done = (value: string | undefined) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write("\n");
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done(line);
        if (ch === "\u0003" || ch === "\u0004") return done(undefined);
        if (ch === "\u007f" || ch === "\b") line = line.slice(0, -1);
        else line += ch;
      }
    };
    stdin.on("data", onData);
  });
}

function loadOrCreateCertificate(dir: string, domain: string, certFile?: string, keyFile?: string): { cert: string; key: string } {
  if (certFile !== undefined || keyFile !== undefined) {
    if (certFile === undefined || keyFile === undefined) throw new TypeError("--cert and --key go together");
    return { cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
  }
  const cert = join(dir, `${domain}.crt`);
  const key = join(dir, `${domain}.key`);
  if (existsSync(cert) && existsSync(key)) return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
  const pair = generateSelfSignedCertificate({ dnsNames: [domain, "localhost"] });
  mkdirSync(dir, { recursive: true });
  writeFileSync(cert, pair.cert);
  writeFileSync(key, pair.key, { mode: 0o600 });
  console.log(`generated a self-signed certificate for ${domain}: ${cert} (clients must trust it, e.g. Node's NODE_EXTRA_CA_CERTS)`);
  return pair;
}

/**
 * The Stream Management settings of `serve` from its options (`--no-sm`, `--sm-max-resume`,
 * `--sm-max-detached`), or an error message.
 */
export function streamManagementFromArgs(values: {
  readonly "no-sm"?: boolean | undefined;
  readonly "sm-max-resume"?: string | undefined;
  readonly "sm-max-detached"?: string | undefined;
}): false | StreamManagementSettings | string {
  const resume = values["sm-max-resume"];
  const detached = values["sm-max-detached"];
  if (values["no-sm"] === true) return resume === undefined && detached === undefined ? false : "--no-sm goes without --sm-max-resume and --sm-max-detached";
  const integer = (s: string, min: number) => (/^\d{1,10}$/.test(s) && Number(s) >= min && Number(s) <= 0xffff_ffff ? Number(s) : undefined);
  const maxResumeSeconds = resume === undefined ? undefined : integer(resume, 0);
  if (resume !== undefined && maxResumeSeconds === undefined) return `--sm-max-resume: seconds as an integer ≥ 0, not '${resume}'`;
  const maxDetached = detached === undefined ? undefined : integer(detached, 0);
  if (detached !== undefined && maxDetached === undefined) return `--sm-max-detached: an integer ≥ 0, not '${detached}'`;
  return { ...(maxResumeSeconds === undefined ? {} : { maxResumeSeconds }), ...(maxDetached === undefined ? {} : { maxDetached }) };
}

