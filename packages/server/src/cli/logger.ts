/**
 * The server's logger: levels, one line per event, as text (default: `<ISO date> <LEVEL> <event> <message>`,
 * what fail2ban and people read) or as JSON lines (`--log-format json`: `time`, `level`, `event`, fields,
 * `msg`, for log shippers). A tiny own logger rather than `pino` — docs/server.md says why.
 *
 * @module
 */

/** The levels, least severe first; `silent` logs nothing. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "silent"] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** The output formats. */
export const LOG_FORMATS = ["text", "json"] as const;
/** One of {@link LOG_FORMATS}. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Extra fields of a log record (JSON members; not shown in the text format, whose message carries them). */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined>>;

/** Options of {@link Logger}. */
export interface LoggerOptions {
  /** Least level written. Default `info`. */
  readonly level?: LogLevel;
  /** Default `text`. */
  readonly format?: LogFormat;
  /** Writes one line (without its newline). Default: `process.stdout`. */
  readonly write?: (line: string) => void;
  /** The clock for the timestamps. Default `new Date()`. */
  readonly clock?: () => Date;
}

const RANK: Record<LogLevel, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, silent: 100 };

/** The tags of the demo server's log lines (`startServer`'s `log`) that are not `info`. */
const SERVER_LINE_LEVELS: Readonly<Record<string, Exclude<LogLevel, "silent">>> = { auth: "warn", limit: "warn", error: "error" };

/**
 * A small leveled logger writing one line per record.
 *
 * @example
 * ```ts
 * const log = new Logger({ level: "info", format: "json" });
 * log.info("listen", "serving example.com on 0.0.0.0:5222", { port: 5222 });
 * // {"time":"…","level":"info","event":"listen","port":5222,"msg":"serving example.com on 0.0.0.0:5222"}
 * ```
 */
export class Logger {
  /** The least level written. */
  readonly level: LogLevel;
  /** The output format. */
  readonly format: LogFormat;
  private readonly write: (line: string) => void;
  private readonly clock: () => Date;

  constructor(options: LoggerOptions = {}) {
    this.level = options.level ?? "info";
    this.format = options.format ?? "text";
    this.write = options.write ?? ((line) => void process.stdout.write(`${line}\n`));
    this.clock = options.clock ?? (() => new Date());
  }

  /** Whether records of `level` are written. */
  enabled(level: Exclude<LogLevel, "silent">): boolean {
    return RANK[level] >= RANK[this.level];
  }

  /** Writes a record: `event` is a short tag (`listen`, `connect`, `auth`, `reload`…), `msg` one line. */
  log(level: Exclude<LogLevel, "silent">, event: string, msg: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    const time = this.clock().toISOString();
    const oneLine = msg.replace(/[\r\n]+/g, " ");
    if (this.format === "json") {
      const record: Record<string, unknown> = { time, level, event };
      for (const [k, v] of Object.entries(fields)) if (v !== undefined && !(k in record) && k !== "msg") record[k] = v;
      record.msg = oneLine; // last, so a filter can anchor on it
      this.write(JSON.stringify(record));
    } else {
      this.write(`${time} ${level.toUpperCase().padEnd(5)} ${event.padEnd(7)} ${oneLine}`);
    }
  }

  /** A `trace` record. */
  trace(event: string, msg: string, fields?: LogFields): void {
    this.log("trace", event, msg, fields);
  }
  /** A `debug` record. */
  debug(event: string, msg: string, fields?: LogFields): void {
    this.log("debug", event, msg, fields);
  }
  /** An `info` record. */
  info(event: string, msg: string, fields?: LogFields): void {
    this.log("info", event, msg, fields);
  }
  /** A `warn` record. */
  warn(event: string, msg: string, fields?: LogFields): void {
    this.log("warn", event, msg, fields);
  }
  /** An `error` record. */
  error(event: string, msg: string, fields?: LogFields): void {
    this.log("error", event, msg, fields);
  }

  /**
   * Logs a line of `startServer`'s `log` callback (`online  juliet@example.com/phone from 203.0.113.7 (…)`,
   * `auth    authentication failed for … from …`): its first word is the event, `auth` and `limit` lines
   * are warnings, `error` lines errors, the rest `info`; the JSON form gets the `ip` and `jid` it names.
   */
  serverLine(line: string): void {
    const match = /^(\S+)\s+(.*)$/s.exec(line);
    const event = match?.[1] ?? "server";
    const msg = match?.[2] ?? line;
    const level = SERVER_LINE_LEVELS[event] ?? "info";
    if (!this.enabled(level)) return;
    let ip = / from (\S+?)(?:[ ,)]|$)/.exec(msg)?.[1];
    // `from 198.51.100.2: policy-violation` — the colon is the line's, unless it ends an IPv6 `::`
    if (ip?.endsWith(":") && (!ip.endsWith("::") || ip.endsWith(":::"))) ip = ip.slice(0, -1);
    const jid = /^(\S+@\S+)/.exec(msg)?.[1];
    this.log(level, event, msg, { ip, jid });
  }
}
