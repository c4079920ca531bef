/**
 * `xmpp-sansio-server`: the server's command line (`xmpp-sansio-server help` lists the commands).
 *
 *   xmpp-sansio-server serve [options]      keep a server running for real clients (SIGHUP reloads)
 *   xmpp-sansio-server demo                 run the RFC 6120 §9.1 demo on loopback and exit
 *   xmpp-sansio-server add-user NAME        create (or reset) an account in the database (alias: adduser)
 *   xmpp-sansio-server passwd NAME          change an existing account's password
 *   xmpp-sansio-server deluser NAME         delete an account and all its data
 *   xmpp-sansio-server list                 list the accounts
 *   xmpp-sansio-server backup FILE          write a consistent copy of the database (server may run)
 *
 * Every refusal is one line on stderr and a `sysexits.h` exit code (`cli/exit.ts`); nothing is written
 * before the command line, the config file and the files it names have been checked. The settings table
 * is `cli/settings.ts`, the logger `cli/logger.ts`, the certificate and SIGHUP `cli/reload.ts`.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AccountStore } from "./accounts.js";
import { CliError, ExitCode, usageError } from "./cli/exit.js";
import { commandHelp, generalHelp, PASSWORD_ENV } from "./cli/help.js";
import { logConnectionEvents } from "./cli/events.js";
import { Logger } from "./cli/logger.js";
import { checkPortsFree } from "./cli/ports.js";
import { type Announce, type CertificateSource, existingCertificate, loadOrCreateCertificate, reloadServer } from "./cli/reload.js";
import { type Command, COMMANDS, commandNamed, parseCommandLine, resolveSettings, SETTINGS, type Settings } from "./cli/settings.js";
import { runDemo } from "./demo.js";
import { type StreamManagementSettings, startServer } from "./server.js";
import type { FederationOptions } from "./federation.js";
import type { S2SStaticHost } from "@xmpp-sansio/node";
import { DATABASE_FILE, type DataDirectory, LEGACY_ACCOUNTS_FILE, openDataDirectory, seedDemoAccounts } from "./store/data-dir.js";
import { loadOrCreateFastKey } from "./store/fast-tokens.js";

export { PASSWORD_ENV } from "./cli/help.js";

const DEFAULT_DATA = "./xmpp-data";

/**
 * Runs the command line; resolves with the exit code (0, or a `sysexits.h` code: docs/server.md, "The
 * command line"). Output goes through `console.log` (results, logs) and `console.error` (the one-line
 * refusals).
 */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (error) {
    if (error instanceof CliError) {
      console.error(error.message);
      return error.code;
    }
    const e = error as Error;
    console.error(`internal error: ${e?.message ?? String(error)}${process.env.XMPP_SANSIO_DEBUG ? `\n${e?.stack}` : " (XMPP_SANSIO_DEBUG=1 prints the stack)"}`);
    return ExitCode.SOFTWARE;
  }
}

/** The version of this package (from its package.json). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
}

async function run(argv: readonly string[]): Promise<number> {
  const line = parseCommandLine(argv);
  if (line.version) {
    console.log(version());
    return ExitCode.OK;
  }
  if (line.command === "help") {
    const [topic, extra] = line.args;
    if (extra !== undefined) throw usageError(`help takes one command, not '${extra}'`);
    const about = topic === undefined ? undefined : commandNamed(topic);
    if (topic !== undefined && about === undefined) throw usageError(`help: no command '${topic}'; the commands are ${COMMANDS.join(", ")}`);
    console.log(about === undefined ? generalHelp() : commandHelp(about));
    return ExitCode.OK;
  }
  if (line.help) {
    console.log(line.command === undefined ? generalHelp() : commandHelp(line.command));
    return ExitCode.OK;
  }
  if (line.command === undefined) throw usageError(`no command; the commands are ${COMMANDS.join(", ")} (xmpp-sansio-server help)`);
  const command = line.command;
  const args = arity(command, line.args);
  const settings = resolveSettings(line.flags);
  switch (command) {
    case "demo":
      return demo();
    case "add-user":
    case "passwd":
      return setPassword(command, args[0]!, settings);
    case "deluser":
      return withDatabase(settings, ({ storage, databaseFile }) => {
        if (!new AccountStore({ records: storage.accounts }).remove(args[0]!)) {
          throw new CliError(ExitCode.NO_USER, `deluser: no account '${args[0]}' in ${databaseFile}`);
        }
        console.log(`account '${args[0]}' and its data deleted from ${databaseFile}`);
        return ExitCode.OK;
      });
    case "list":
      return withDatabase(settings, ({ storage }) => {
        for (const name of storage.accounts.list()) console.log(name);
        return ExitCode.OK;
      });
    case "backup": {
      const file = args[0]!;
      if (existsSync(file)) throw new CliError(ExitCode.CANT_CREATE, `backup: ${file} exists; a backup never overwrites a file`);
      return withDatabase(settings, ({ storage, databaseFile }) => {
        try {
          storage.backupTo(file);
        } catch (error) {
          throw new CliError(ExitCode.CANT_CREATE, `backup: cannot write ${file}: ${(error as Error).message}`);
        }
        console.log(`${databaseFile} copied to ${file}`);
        return ExitCode.OK;
      });
    }
    case "serve":
      return serve(settings);
  }
}

/** Checks the positional arguments of a command; returns them. */
function arity(command: Command, args: readonly string[]): readonly string[] {
  const wants: Partial<Record<Command, string>> = { "add-user": "NAME", passwd: "NAME", deluser: "NAME", backup: "FILE" };
  const want = wants[command];
  if (want !== undefined && args[0] === undefined) throw usageError(`${command}: missing ${want} (xmpp-sansio-server help ${command})`);
  const extra = args[want === undefined ? 0 : 1];
  if (extra !== undefined) {
    if (command === "add-user" || command === "passwd") {
      throw usageError(`${command}: a password on the command line is visible to every user of this machine (ps); use --password-file F, ${PASSWORD_ENV} or the prompt`);
    }
    throw usageError(`${command}: unexpected argument '${extra}' (xmpp-sansio-server help ${command})`);
  }
  return args;
}

async function demo(): Promise<number> {
  const colour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
  const result = await runDemo({ colour });
  const ok = result.received.length === 2;
  console.log(
    `\n${ok ? "✓" : "✗"} ${result.julietJid} and ${result.romeoJid} exchanged ${result.received.length} messages over STARTTLS with ${[...new Set(result.mechanisms)].join(", ")}`,
  );
  return ok ? ExitCode.OK : ExitCode.FAILURE;
}

/** Opens the data directory (creating it and the database when absent); exit 73/74 when it cannot. */
function openData(settings: Settings, say: Announce = (_event, msg) => console.log(msg)): DataDirectory {
  const data = settings.data ?? DEFAULT_DATA;
  let dir: DataDirectory;
  try {
    dir = openDataDirectory(data, settings.maxOffline === undefined ? {} : { maxOfflinePerUser: settings.maxOffline });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const cantCreate = code === "EACCES" || code === "EEXIST" || code === "ENOTDIR" || code === "EROFS";
    throw new CliError(cantCreate ? ExitCode.CANT_CREATE : ExitCode.IO, `cannot open the data directory ${data}: ${(error as Error).message}`);
  }
  if (dir.imported.length > 0) {
    say("accounts", `imported ${dir.imported.length} account(s) from ${join(data, LEGACY_ACCOUNTS_FILE)} into ${dir.databaseFile}: ${dir.imported.join(", ")}`, {
      imported: dir.imported.length,
    });
  }
  return dir;
}

/** Runs `fn` on an existing database (exit 66 when there is none: nothing is created), then closes it. */
function withDatabase(settings: Settings, fn: (dir: DataDirectory) => number): number {
  const data = settings.data ?? DEFAULT_DATA;
  if (!existsSync(join(data, DATABASE_FILE)) && !existsSync(join(data, LEGACY_ACCOUNTS_FILE))) {
    throw new CliError(ExitCode.NO_INPUT, `no database in ${data} (${DATABASE_FILE}); serve or add-user creates it, --data or --config says where it is`);
  }
  const dir = openData(settings);
  try {
    return fn(dir);
  } finally {
    dir.storage.close();
  }
}

async function setPassword(command: "add-user" | "passwd", name: string, settings: Settings): Promise<number> {
  const password = await readPassword(settings.passwordFile);
  // Derive (and so validate the name and the password) before touching the data directory.
  const scratch = new AccountStore();
  try {
    scratch.add(name, password);
  } catch (error) {
    // an invalid username (JidError) or password (not a PRECIS OpaqueString): say which, no stack
    throw new CliError(ExitCode.DATA, `${command}: ${(error as Error).message}`);
  }
  const save = ({ storage, databaseFile }: DataDirectory) => {
    const accounts = new AccountStore({ records: storage.accounts });
    if (command === "passwd" && !accounts.has(name)) throw new CliError(ExitCode.NO_USER, `passwd: no account '${name}' in ${databaseFile}`);
    accounts.load(scratch.toJSON());
    console.log(`account '${name}' saved in ${databaseFile}`);
    return ExitCode.OK;
  };
  if (command === "passwd") return withDatabase(settings, save);
  const dir = openData(settings);
  try {
    return save(dir);
  } finally {
    dir.storage.close();
  }
}

/**
 * The password for add-user/passwd: the first line of `file` (`-`: stdin), else the environment
 * variable, else a prompt without echo on a terminal.
 */
async function readPassword(file: string | undefined): Promise<string> {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file === "-" ? 0 : file, "utf8");
    } catch (error) {
      throw new CliError(ExitCode.NO_INPUT, `cannot read the password file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    const password = text.split(/\r?\n/, 1)[0] ?? "";
    if (password === "") throw new CliError(ExitCode.DATA, `the password file ${file === "-" ? "(stdin)" : file} is empty`);
    return password;
  }
  const fromEnv = process.env[PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (process.stdin.isTTY !== true) {
    throw usageError(`no password: give --password-file F (- for stdin), set ${PASSWORD_ENV}, or run on a terminal to be asked`);
  }
  const first = await prompt("password: ");
  const second = first === undefined ? undefined : await prompt("again: ");
  if (first === undefined || second === undefined || first === "") throw new CliError(ExitCode.DATA, "no password given");
  if (first !== second) throw new CliError(ExitCode.DATA, "the passwords differ");
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

/** The checks of `serve`'s settings that span several of them; throws a usage error. */
function checkServeSettings(s: Settings): void {
  if ((s.cert === undefined) !== (s.key === undefined)) throw usageError("--cert and --key (tls.cert and tls.key) go together");
  if (s.websocketPort === undefined && (s.websocketPath !== undefined || s.websocketTls === true)) {
    throw usageError("--websocket-path and --websocket-tls need --websocket-port (websocket.port)");
  }
  if (s.streamManagement === false && (s.smMaxResume !== undefined || s.smMaxDetached !== undefined)) {
    throw usageError("--no-sm (stream-management.enabled = false) goes without --sm-max-resume and --sm-max-detached");
  }
  const s2sGiven = (["s2sPort", "s2sHost", "dialbackSecretFile", "s2sCa", "s2sHosts"] as const).filter((k) => s[k] !== undefined);
  if (s.federation !== true && s2sGiven.length > 0) {
    throw usageError(`--${s2sGiven.map((k) => SETTINGS.find((x) => x.name === k)!.flag).join(", --")} needs --federation (federation.enabled = true)`);
  }
  if (s.sasl2 === false && (s.bind2 !== undefined || s.fast !== undefined)) {
    throw usageError("--no-sasl2 (sasl2.enabled = false) goes without --no-bind2 and --no-fast (they are parts of SASL2)");
  }
  if (s.components !== undefined && s.componentPort === undefined) {
    throw usageError("--component (components.secret-files) needs --component-port (components.port)");
  }
}

/** The federation option of `serve`, its files read (before anything is written), or undefined when off. */
function federationOptions(s: Settings): FederationOptions | undefined {
  if (s.federation !== true) return undefined;
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (error) {
      throw new CliError(ExitCode.NO_INPUT, `cannot read the ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
  let secret: string | undefined;
  if (s.dialbackSecretFile !== undefined) {
    secret = read(s.dialbackSecretFile, "dialback secret file").split(/\r?\n/)[0];
    if (secret === undefined || secret.length < 16) {
      throw new CliError(ExitCode.DATA, `the first line of ${s.dialbackSecretFile} (the dialback secret) must have at least 16 characters`);
    }
  }
  const hosts: Record<string, S2SStaticHost> = {};
  for (const [domain, place] of Object.entries(s.s2sHosts ?? {})) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+)(?::(\d{1,5}))?$/.exec(place);
    const port = m?.[2] === undefined ? 5269 : Number(m[2]);
    if (m === null || port > 0xffff) throw usageError(`--s2s-peer ${domain}=${place}: expected HOST or HOST:PORT`);
    hosts[domain] = { host: m[1]!.replace(/^\[|\]$/g, ""), port };
  }
  return {
    ...(secret === undefined ? {} : { secret }),
    ...(s.s2sHost === undefined ? {} : { host: s.s2sHost }),
    port: s.s2sPort ?? 5269,
    ...(s.s2sCa === undefined ? {} : { ca: read(s.s2sCa, "CA file") }),
    ...(Object.keys(hosts).length === 0 ? {} : { hosts }),
  };
}

/** Reads each component's secret (the first line of its file) before anything is written. */
function componentSecrets(files: Readonly<Record<string, string>>): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const [domain, file] of Object.entries(files)) {
    let secret: string | undefined;
    try {
      secret = readFileSync(file, "utf8").split(/\r?\n/)[0];
    } catch (error) {
      throw new CliError(ExitCode.NO_INPUT, `--component ${domain}: cannot read the secret file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (secret === undefined || secret === "") throw new CliError(ExitCode.DATA, `--component ${domain}: the first line of ${file} (the secret) is empty`);
    secrets[domain] = secret;
  }
  return secrets;
}

async function serve(settings: Settings): Promise<number> {
  checkServeSettings(settings);
  const domain = settings.domain ?? "localhost";
  const host = settings.host ?? "127.0.0.1";
  const data = settings.data ?? DEFAULT_DATA;
  const log = new Logger({ level: settings.logLevel ?? "info", format: settings.logFormat ?? "text", write: (l) => console.log(l) });
  // Banner lines stay plain text in the text format (supervisors wait for "serving …"); records in JSON.
  const say: Announce = (event, msg, fields) => (log.format === "text" ? console.log(msg) : log.info(event, msg, fields));
  log.debug("settings", `${settings.config === undefined ? "no config file" : `config ${settings.config}`}; settings ${JSON.stringify(settings)}`);
  const source: CertificateSource =
    settings.cert !== undefined && settings.key !== undefined ? { kind: "files", cert: settings.cert, key: settings.key } : { kind: "generated", dir: data, domain };
  existingCertificate(source); // checks the operator's files (or a generated pair on disk) before anything is written
  const streamManagement: false | StreamManagementSettings =
    settings.streamManagement === false
      ? false
      : {
          ...(settings.smMaxResume === undefined ? {} : { maxResumeSeconds: settings.smMaxResume }),
          ...(settings.smMaxDetached === undefined ? {} : { maxDetached: settings.smMaxDetached }),
        };

  const components = settings.componentPort === undefined ? undefined : { port: settings.componentPort, host, secrets: componentSecrets(settings.components ?? {}) };
  const federation = federationOptions(settings);
  await checkPortsFree(host, [settings.port ?? 5222, settings.directTlsPort, settings.websocketPort, settings.componentPort]);
  if (federation !== undefined) await checkPortsFree(federation.host ?? host, [federation.port ?? undefined]);

  const { storage, databaseFile } = openData(settings, say);
  const stopSignals: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];
  let onStop: (() => void) | undefined;
  let onHup: (() => void) | undefined;
  try {
    if (seedDemoAccounts(storage)) say("accounts", `created the demo accounts juliet (r0m30myr0m30) and romeo (j0liet) in ${databaseFile}`);
    const accounts = new AccountStore({ records: storage.accounts });
    const tls = loadOrCreateCertificate(source, say);
    // Listen for the signals before saying "serving": a supervisor may stop us as soon as it reads that.
    const stopped = new Promise<void>((resolve) => {
      onStop = () => resolve();
      for (const signal of stopSignals) process.once(signal, onStop);
    });
    let running: Awaited<ReturnType<typeof startServer>>;
    try {
      running = await startServer({
        domain,
        accounts,
        host,
        port: settings.port ?? 5222,
        ...(settings.directTlsPort === undefined ? {} : { directTlsPort: settings.directTlsPort }),
        ...(settings.websocketPort === undefined
          ? {}
          : {
              websocket: {
                port: settings.websocketPort,
                ...(settings.websocketPath === undefined ? {} : { path: settings.websocketPath }),
                tls: settings.websocketTls === true,
              },
            }),
        tls,
        streamManagement,
        // The IM server on the database: rosters, presence, offline messages (those of expired XEP-0198
        // sessions included), blocking, vCards, private XML.
        storage,
        // SASL2, Bind2 and FAST are on; FAST records go to the database, the key to DATA/fast-token.key,
        // so FAST tokens survive a restart.
        sasl2:
          settings.sasl2 === false
            ? false
            : { ...(settings.bind2 === false ? { bind2: false } : {}), fast: settings.fast === false ? false : { secret: loadOrCreateFastKey(data) } },
        allowRegistration: settings.allowRegistration === true,
        iqAuth: settings.iqAuth === true,
        ...(components === undefined ? {} : { components }),
        ...(federation === undefined ? {} : { federation }),
        log: (l) => log.serverLine(l),
      });
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      if (e.code === "EADDRINUSE" || e.code === "EADDRNOTAVAIL" || e.code === "EACCES") {
        throw new CliError(ExitCode.UNAVAILABLE, `cannot listen on ${host}: ${e.message}`);
      }
      throw error;
    }
    logConnectionEvents(running, log, settings.websocketTls === true ? "WebSocket wss" : "WebSocket ws");
    onHup = () => {
      log.info("reload", "SIGHUP: reloading the certificate and the accounts");
      reloadServer(running, source, storage, data, log);
    };
    process.on("SIGHUP", onHup);
    say(
      "listen",
      `serving ${domain} on ${host}:${running.port}${running.directTlsPort ? ` (direct TLS ${running.directTlsPort})` : ""}${running.websocketUrl ? `, ${running.websocketUrl}` : ""}${running.componentPort === undefined ? "" : `, components on ${host}:${running.componentPort}`}${running.federation?.port === undefined ? "" : `, s2s on ${federation?.host ?? host}:${running.federation.port}`}; database ${databaseFile}; accounts: ${listNames(accounts.usernames())}`,
      { domain, host, port: running.port, directTlsPort: running.directTlsPort, websocket: running.websocketUrl, componentPort: running.componentPort, s2sPort: running.federation?.port, database: databaseFile },
    );
    await stopped;
    say("stop", "shutting down (<system-shutdown/> to every client)…");
    await running.close();
    return ExitCode.OK;
  } finally {
    if (onStop !== undefined) for (const signal of stopSignals) process.off(signal, onStop);
    if (onHup !== undefined) process.off("SIGHUP", onHup);
    storage.close();
  }
}

/** Up to ten names, then how many there are in all. */
function listNames(names: readonly string[]): string {
  return names.length <= 10 ? names.join(", ") : `${names.slice(0, 10).join(", ")}, … (${names.length} in all)`;
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
