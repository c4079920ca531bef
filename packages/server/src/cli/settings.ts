/**
 * The settings of the command line, declared once: each row names a flag, its key in the config file,
 * its type and the commands that take it. Flags are parsed from it, the config file is validated against
 * it (unknown keys are errors), and flags override the file. A new section (federation, components…) is
 * a few more rows and fields of {@link Settings}.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parseJid } from "@xmpp-sansio/jid";
import { parse as parseToml, TomlError } from "smol-toml";
import { CliError, ExitCode, usageError } from "./exit.js";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from "./logger.js";

/** The commands of the command line. */
export const COMMANDS = ["serve", "demo", "add-user", "passwd", "deluser", "list", "backup", "help"] as const;
/** One of {@link COMMANDS}. */
export type Command = (typeof COMMANDS)[number];

/** Other spellings of a command: prosodyctl's `adduser` (our `deluser` and `passwd` are already its names). */
export const COMMAND_ALIASES: Readonly<Record<string, Command>> = Object.freeze({ adduser: "add-user" });

/** The command a word names (an alias resolved), or `undefined` if it names none. */
export function commandNamed(word: string): Command | undefined {
  if ((COMMANDS as readonly string[]).includes(word)) return word as Command;
  return Object.hasOwn(COMMAND_ALIASES, word) ? COMMAND_ALIASES[word] : undefined;
}

/**
 * The type of a setting's value: how a flag's text and a config value are checked and converted.
 * A list of strings is an enumeration.
 */
export type SettingType = "string" | "domain" | "port" | "count" | "boolean" | "path" | "url-path" | "domain-files" | "domain-map" | readonly string[];

/** One row of {@link SETTINGS}. */
export interface SettingSpec {
  /** The field of {@link Settings} it sets. */
  readonly name: keyof Settings;
  /** The flag without `--` (`websocket-port`), or undefined for a config-only setting. */
  readonly flag?: string;
  /** Its dotted key in the config file (`websocket.port`: key `port` in table `[websocket]`), or undefined for a flag-only one. */
  readonly key?: string;
  /** How its value is checked: the flag's text and the config file's value alike. */
  readonly type: SettingType;
  /**
   * A boolean flag that sets the opposite of the config key (`--no-sm` ↔ `stream-management.enabled = false`).
   * The field holds the config key's sense.
   */
  readonly invert?: boolean;
  /** The commands that take it. */
  readonly commands: readonly Command[];
  /** One line for the help and the docs. */
  readonly doc: string;
}

/** Everything the flags and the config file set, after validation (absent: not given, the default applies). */
export interface Settings {
  config?: string;
  data?: string;
  domain?: string;
  host?: string;
  port?: number;
  directTlsPort?: number;
  websocketPort?: number;
  websocketPath?: string;
  websocketTls?: boolean;
  cert?: string;
  key?: string;
  maxOffline?: number;
  allowRegistration?: boolean;
  iqAuth?: boolean;
  streamManagement?: boolean;
  smMaxResume?: number;
  smMaxDetached?: number;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  passwordFile?: string;
  /** XEP-0114 component port. */
  componentPort?: number;
  /** Component domain → the file whose first line is its shared secret. */
  components?: Record<string, string>;
  /** XEP-0388 SASL2 offered (default true). */
  sasl2?: boolean;
  /** XEP-0386 Bind2 inside SASL2 (default true). */
  bind2?: boolean;
  /** XEP-0484 FAST tokens inside SASL2 (default true). */
  fast?: boolean;
  /** Server-to-server federation on. */
  federation?: boolean;
  /** The s2s listener's port (default 5269). */
  s2sPort?: number;
  /** The s2s listener's address (default: `host`). */
  s2sHost?: string;
  /** The file whose first line is the dialback secret (default: random per process). */
  dialbackSecretFile?: string;
  /** A PEM file of CAs trusted for peers' certificates (default: Node's bundle). */
  s2sCa?: string;
  /** Peer domain → `host` or `host:port`, instead of DNS. */
  s2sHosts?: Record<string, string>;
}

const DB: readonly Command[] = ["serve", "add-user", "passwd", "deluser", "list", "backup"];

/**
 * Every setting. The config file's keys are the `key` column (TOML: top-level keys and one table per
 * section); the flags the `flag` column.
 */
export const SETTINGS: readonly SettingSpec[] = [
  { name: "config", flag: "config", type: "path", commands: DB, doc: "read settings from this TOML file (flags override it)" },
  { name: "data", flag: "data", key: "data", type: "path", commands: DB, doc: "the data directory (database, generated certificate); default ./xmpp-data" },
  { name: "domain", flag: "domain", key: "domain", type: "domain", commands: ["serve"], doc: "the domain served; default localhost" },
  { name: "host", flag: "host", key: "host", type: "string", commands: ["serve"], doc: "the listening address; default 127.0.0.1" },
  { name: "port", flag: "port", key: "port", type: "port", commands: ["serve"], doc: "the STARTTLS port; default 5222 (0: any free port)" },
  { name: "directTlsPort", flag: "direct-tls-port", key: "direct-tls-port", type: "port", commands: ["serve"], doc: "also serve Direct TLS (XEP-0368) on this port" },
  { name: "cert", flag: "cert", key: "tls.cert", type: "path", commands: ["serve"], doc: "the certificate chain (PEM); with key; default: one generated into the data directory" },
  { name: "key", flag: "key", key: "tls.key", type: "path", commands: ["serve"], doc: "the certificate's private key (PEM); with cert" },
  { name: "websocketPort", flag: "websocket-port", key: "websocket.port", type: "port", commands: ["serve"], doc: "also serve XMPP over WebSocket (RFC 7395) on this port" },
  { name: "websocketPath", flag: "websocket-path", key: "websocket.path", type: "url-path", commands: ["serve"], doc: "the WebSocket path; default /xmpp-websocket" },
  { name: "websocketTls", flag: "websocket-tls", key: "websocket.tls", type: "boolean", commands: ["serve"], doc: "serve wss: with the server's certificate instead of ws:" },
  { name: "maxOffline", flag: "max-offline", key: "max-offline", type: "count", commands: ["serve"], doc: "offline messages kept per user; default 1000" },
  { name: "allowRegistration", flag: "allow-registration", key: "allow-registration", type: "boolean", commands: ["serve"], doc: "let clients create accounts in-band (XEP-0077, over TLS)" },
  { name: "iqAuth", flag: "iq-auth", key: "iq-auth", type: "boolean", commands: ["serve"], doc: "offer the obsolete XEP-0078 jabber:iq:auth login (plaintext password over TLS)" },
  { name: "streamManagement", flag: "no-sm", key: "stream-management.enabled", type: "boolean", invert: true, commands: ["serve"], doc: "turn Stream Management (XEP-0198) off" },
  { name: "smMaxResume", flag: "sm-max-resume", key: "stream-management.max-resume", type: "count", commands: ["serve"], doc: "seconds a dropped session stays resumable; default 300" },
  { name: "smMaxDetached", flag: "sm-max-detached", key: "stream-management.max-detached", type: "count", commands: ["serve"], doc: "resumable sessions kept at most; default 10000" },
  { name: "logLevel", flag: "log-level", key: "log.level", type: LOG_LEVELS, commands: ["serve"], doc: `least level logged: ${LOG_LEVELS.join(", ")}; default info` },
  { name: "logFormat", flag: "log-format", key: "log.format", type: LOG_FORMATS, commands: ["serve"], doc: "text (one line per event, fail2ban-readable) or json (JSON lines); default text" },
  { name: "componentPort", flag: "component-port", key: "components.port", type: "port", commands: ["serve"], doc: "accept XEP-0114 external components on host:P (plain TCP: keep it on loopback)" },
  {
    name: "components",
    flag: "component",
    key: "components.secret-files",
    type: "domain-files",
    commands: ["serve"],
    doc: "a component: DOMAIN=FILE, the file's first line is its secret (repeatable; config: a table domain = file)",
  },
  { name: "sasl2", flag: "no-sasl2", key: "sasl2.enabled", type: "boolean", invert: true, commands: ["serve"], doc: "offer RFC 6120 SASL only: no XEP-0388 SASL2 (nor Bind2, FAST)" },
  { name: "bind2", flag: "no-bind2", key: "sasl2.bind2", type: "boolean", invert: true, commands: ["serve"], doc: "no XEP-0386 Bind2 inside SASL2 (clients bind the RFC 6120 way)" },
  { name: "fast", flag: "no-fast", key: "sasl2.fast", type: "boolean", invert: true, commands: ["serve"], doc: "no XEP-0484 FAST tokens" },
  { name: "federation", flag: "federation", key: "federation.enabled", type: "boolean", commands: ["serve"], doc: "server-to-server federation (RFC 6120 §10.4): reach and accept other domains" },
  { name: "s2sPort", flag: "s2s-port", key: "federation.port", type: "port", commands: ["serve"], doc: "the s2s listener's port; default 5269" },
  { name: "s2sHost", flag: "s2s-host", key: "federation.host", type: "string", commands: ["serve"], doc: "the s2s listener's address; default: host" },
  {
    name: "dialbackSecretFile",
    flag: "dialback-secret-file",
    key: "federation.dialback-secret-file",
    type: "path",
    commands: ["serve"],
    doc: "first line: the dialback secret (XEP-0185); default random per process",
  },
  { name: "s2sCa", flag: "s2s-ca", key: "federation.ca", type: "path", commands: ["serve"], doc: "PEM file of CAs trusted for peers' certificates (SASL EXTERNAL); default Node's bundle" },
  {
    name: "s2sHosts",
    flag: "s2s-peer",
    key: "federation.peers",
    type: "domain-map",
    commands: ["serve"],
    doc: "a peer's address instead of DNS: DOMAIN=HOST[:PORT] (repeatable; config: a table domain = \"host:port\")",
  },
  { name: "passwordFile", flag: "password-file", type: "path", commands: ["add-user", "passwd"], doc: "read the password from the first line of this file (- for stdin)" },
];

/** The result of {@link parseCommandLine}. */
export interface CommandLine {
  /** The command; undefined when none was given. */
  readonly command: Command | undefined;
  /** The arguments after the command. */
  readonly args: readonly string[];
  /** The settings given as flags (not yet merged with a config file). */
  readonly flags: Settings;
  readonly help: boolean;
  readonly version: boolean;
}

/**
 * Parses argv against {@link SETTINGS}: an unknown command or flag, a flag of another command, a missing
 * or malformed value each throw a {@link CliError} (exit 64) with one line naming it.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = { help: { type: "boolean", short: "h" }, version: { type: "boolean" } };
  const multiple: Record<string, { type: "string"; multiple: true }> = {};
  for (const s of SETTINGS) {
    if (s.flag === undefined) continue;
    if (s.type === "domain-files" || s.type === "domain-map") multiple[s.flag] = { type: "string", multiple: true };
    else options[s.flag] = { type: s.type === "boolean" ? "boolean" : "string" };
  }
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true; tokens: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...options, ...multiple } as typeof options, allowPositionals: true, tokens: true, strict: true });
  } catch (error) {
    throw usageError(describeParseError(error));
  }
  const [name, ...args] = parsed.positionals;
  const command = name === undefined ? undefined : commandNamed(name);
  if (name !== undefined && command === undefined) {
    throw usageError(`unknown command '${name}'; the commands are ${COMMANDS.join(", ")} (xmpp-sansio-server help)`);
  }
  const flags: Settings = {};
  const given = new Set<string>();
  for (const token of parsed.tokens) if (token.kind === "option") given.add(token.name);
  for (const s of SETTINGS) {
    if (s.flag === undefined || !given.has(s.flag)) continue;
    if (command !== undefined && command !== "help" && !s.commands.includes(command)) {
      throw usageError(`--${s.flag} is not an option of ${command} (xmpp-sansio-server help ${command})`);
    }
    const raw = parsed.values[s.flag];
    const value =
      s.type === "boolean" ? raw === true : s.type === "domain-files" || s.type === "domain-map" ? domainFilesFromFlags(raw as unknown as string[], `--${s.flag}`, s.type) : convertText(s, raw as string, `--${s.flag}`);
    setField(flags, s.name, s.invert === true ? !value : value);
  }
  return { command, args, flags, help: parsed.values.help === true, version: parsed.values.version === true };
}

function describeParseError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  const quoted = /'([^']+)'/.exec(e.message ?? "")?.[1] ?? "";
  switch (e.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option '${quoted}' (xmpp-sansio-server help)`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return /does not take/.test(e.message ?? "") ? `${quoted.split(" ")[0]} takes no value` : `${quoted.split(" ")[0]} needs a value`;
    default:
      return (e.message ?? String(error)).split("\n")[0] ?? "bad command line";
  }
}

/** `DOMAIN=VALUE` flags → a table; throws a usage error naming the flag. */
function domainFilesFromFlags(specs: readonly string[], where: string, type: SettingType): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    if (eq <= 0 || eq === spec.length - 1) throw usageError(`${where} ${spec}: expected ${type === "domain-map" ? "DOMAIN=HOST[:PORT]" : "DOMAIN=SECRET_FILE"}`);
    out[checkDomain(spec.slice(0, eq), () => usageError(`${where} ${spec}: not a valid JID domainpart`))] = spec.slice(eq + 1);
  }
  return out;
}

/** A bare JID domainpart, prepared; `fail()` otherwise. */
function checkDomain(value: string, fail: () => Error): string {
  try {
    const jid = parseJid(value);
    if (jid.local !== "" || jid.resource !== "") throw new Error("not a bare domain");
    return jid.domain;
  } catch {
    throw fail();
  }
}

function setField(target: Settings, name: keyof Settings, value: unknown): void {
  (target as Record<string, unknown>)[name] = value;
}

const EXPECTED: Record<Exclude<SettingType, readonly string[]>, string> = {
  string: "a non-empty string",
  domain: "a domain name",
  port: "a port number 0–65535",
  count: "a whole number ≥ 0",
  boolean: "true or false",
  path: "a file path (a non-empty string)",
  "url-path": "a path starting with /",
  "domain-files": "a table of domain = secret file",
  "domain-map": 'a table of domain = "host" or "host:port"',
};

/** What a setting expects, for messages. */
export function expectedOf(type: SettingType): string {
  return typeof type === "string" ? EXPECTED[type] : `one of ${type.join(", ")}`;
}

/** Converts a flag's text; throws a usage error naming the flag. */
function convertText(s: SettingSpec, text: string, where: string): unknown {
  if (s.type === "port" || s.type === "count") {
    const n = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
    return checkValue(s, n, where, `'${text}'`, ExitCode.USAGE);
  }
  return checkValue(s, text, where, `'${text}'`, ExitCode.USAGE);
}

/** Checks a value of the right JS type against the setting's rules; returns it (normalised) or throws. */
function checkValue(s: SettingSpec, value: unknown, where: string, shown: string, code: typeof ExitCode.USAGE | typeof ExitCode.CONFIG): unknown {
  const fail = (why = `expected ${expectedOf(s.type)}, got ${shown}`) => new CliError(code, `${where}: ${why}`);
  const type = s.type;
  if (typeof type !== "string") {
    if (typeof value !== "string" || !type.includes(value)) throw fail();
    return value;
  }
  switch (type) {
    case "boolean":
      if (typeof value !== "boolean") throw fail();
      return value;
    case "port":
    case "count": {
      const max = type === "port" ? 0xffff : 0xffff_ffff;
      if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) throw fail();
      return value;
    }
    case "domain": {
      if (typeof value !== "string" || value === "") throw fail();
      let domain: string;
      try {
        const jid = parseJid(value);
        if (jid.local !== "" || jid.resource !== "") throw new Error("not a bare domain");
        domain = jid.domain;
      } catch {
        throw fail(`expected ${expectedOf(type)}, got ${shown} (not a valid JID domainpart)`);
      }
      return domain;
    }
    case "url-path":
      if (typeof value !== "string" || !value.startsWith("/") || /[\s?#]/.test(value)) throw fail();
      return value;
    case "domain-map":
    case "domain-files": {
      if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date) throw fail();
      const out: Record<string, string> = {};
      for (const [domain, file] of Object.entries(value)) {
        if (typeof file !== "string" || file === "") {
          throw fail(`${domain}: expected ${type === "domain-map" ? "a host or host:port" : "a file path"} (a non-empty string), got ${describeValue(file)}`);
        }
        out[checkDomain(domain, () => fail(`'${domain}' is not a valid JID domainpart`))] = file;
      }
      return out;
    }
    default:
      if (typeof value !== "string" || value === "") throw fail();
      return value;
  }
}

/** A short description of a config value for messages: `"abc" (a string)`, `12 (an integer)`, `a table`. */
function describeValue(value: unknown): string {
  if (typeof value === "string") return `${JSON.stringify(value)} (a string)`;
  if (typeof value === "number") return `${value} (${Number.isInteger(value) ? "an integer" : "a float"})`;
  if (typeof value === "bigint") return `${value} (an integer)`;
  if (typeof value === "boolean") return `${value} (a boolean)`;
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  return "a table";
}

/**
 * Reads and validates a config file (TOML): every key must be one of {@link SETTINGS}' `key`s and hold a
 * value of its type. Relative paths are taken relative to the file's directory. Throws a {@link CliError}
 * naming the file and the key: exit 66 when the file cannot be read, 78 when it is not valid.
 */
export function loadConfigFile(file: string): Settings {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(ExitCode.NO_INPUT, `cannot read the config file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    const e = error as TomlError;
    const where = e instanceof TomlError ? ` at line ${e.line}, column ${e.column}` : "";
    const first = (e.message ?? String(error)).split("\n")[0];
    throw new CliError(ExitCode.CONFIG, `${file}: not valid TOML${where}: ${first}`);
  }
  return settingsFromConfig(doc, file);
}

/**
 * Validates an already parsed config document (plain objects: what TOML or JSON parsers give) against
 * {@link SETTINGS}. `file` names it in messages and anchors relative paths.
 */
export function settingsFromConfig(doc: Record<string, unknown>, file: string): Settings {
  const byKey = new Map<string, SettingSpec>();
  for (const s of SETTINGS) if (s.key !== undefined) byKey.set(s.key, s);
  const sections = new Set([...byKey.keys()].filter((k) => k.includes(".")).map((k) => k.slice(0, k.indexOf("."))));
  const out: Settings = {};
  const visit = (table: Record<string, unknown>, prefix: string) => {
    for (const [k, value] of Object.entries(table)) {
      const key = prefix + k;
      const spec = byKey.get(key);
      if (spec === undefined) {
        if (prefix === "" && sections.has(k)) {
          if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date) {
            throw new CliError(ExitCode.CONFIG, `${file}: ${key}: expected a table ([${key}]), got ${describeValue(value)}`);
          }
          visit(value as Record<string, unknown>, `${key}.`);
          continue;
        }
        const near = nearest(key, [...byKey.keys()]);
        throw new CliError(ExitCode.CONFIG, `${file}: unknown key '${key}'${near === undefined ? "" : ` (did you mean '${near}'?)`}`);
      }
      let v = checkValue(spec, typeof value === "bigint" ? Number(value) : value, `${file}: ${key}`, describeValue(value), ExitCode.CONFIG);
      if (spec.type === "path") v = resolve(dirname(file), v as string);
      if (spec.type === "domain-files") {
        v = Object.fromEntries(Object.entries(v as Record<string, string>).map(([d, f]) => [d, resolve(dirname(file), f)]));
      }
      setField(out, spec.name, v);
    }
  };
  visit(doc, "");
  return out;
}

/** The closest known key by edit distance (at most 3 edits), for "did you mean". */
function nearest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const k of known) {
    const d = editDistance(key, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3 || a.length > 64 || b.length > 64) return 99;
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/** The settings of a command: the config file's (when `--config` is given), overridden by the flags. */
export function resolveSettings(flags: Settings): Settings {
  const fromFile = flags.config === undefined ? {} : loadConfigFile(flags.config);
  return { ...fromFile, ...flags };
}
