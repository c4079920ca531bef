/**
 * Exit codes of the `xmpp-sansio-server` command: the BSD `sysexits.h` values, so scripts and
 * supervisors can tell a typo from a missing file from a busy port. Documented in docs/server.md.
 *
 * @module
 */

/** The exit codes of the command line (`sysexits.h` names). */
export const ExitCode = {
  /** Success. */
  OK: 0,
  /** A failure at run time (the demo's exchange failed, a listener died). */
  FAILURE: 1,
  /** EX_USAGE: an unknown command or flag, a missing argument, a flag value of the wrong form. */
  USAGE: 64,
  /** EX_DATAERR: input data that is not acceptable (a user name or password PRECIS refuses, an empty password file). */
  DATA: 65,
  /** EX_NOINPUT: a file to read is missing or unreadable (config, password file, certificate, the database of `list`). */
  NO_INPUT: 66,
  /** EX_NOUSER: `passwd` or `deluser` of an account that does not exist. */
  NO_USER: 67,
  /** EX_UNAVAILABLE: a port cannot be bound (in use, address not available, no permission). */
  UNAVAILABLE: 69,
  /** EX_SOFTWARE: an internal error (a bug): the message says what, `--log-level debug` shows the stack. */
  SOFTWARE: 70,
  /** EX_CANTCREAT: an output file cannot be created (the backup file exists, the data directory cannot be made). */
  CANT_CREATE: 73,
  /** EX_IOERR: the database cannot be opened or read (corrupt, a newer schema, a malformed accounts.json). */
  IO: 74,
  /** EX_CONFIG: the config file is not valid (syntax, an unknown key, a value of the wrong type), or a certificate does not load. */
  CONFIG: 78,
} as const;

/** One of {@link ExitCode}'s values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * A refusal of the command line: `message` is the one line printed on stderr, `code` the exit code.
 * Commands throw it; `main` prints it and returns the code — never a stack trace.
 */
export class CliError extends Error {
  /** The process exit code. */
  readonly code: ExitCodeValue;
  constructor(code: ExitCodeValue, message: string) {
    super(message);
    this.name = "CliError";
    this.code = code;
  }
}

/** A usage error ({@link ExitCode.USAGE}). */
export function usageError(message: string): CliError {
  return new CliError(ExitCode.USAGE, message);
}
