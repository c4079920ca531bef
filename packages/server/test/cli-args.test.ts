// The command line's refusals: one line on stderr, the documented exit code, and nothing written — first
// in process for every case, then as a child process (no stack trace, the real exit status).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main, PASSWORD_ENV, version } from "../src/cli.js";
import { ExitCode } from "../src/cli/exit.js";
import { commandHelp } from "../src/cli/help.js";
import { COMMANDS, SETTINGS } from "../src/cli/settings.js";

const PACKAGE = fileURLToPath(new URL("..", import.meta.url));
const MAIN = join(PACKAGE, "src", "main.ts");
/** tsx by absolute URL: the children run in a scratch directory, to show that nothing lands in their cwd. */
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

let dir: string;
let data: string;
let out: string[];
let err: string[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "xmpp-cli-args-"));
  data = join(dir, "data");
  out = [];
  err = [];
  vi.spyOn(console, "log").mockImplementation((line: string) => void out.push(line));
  vi.spyOn(console, "error").mockImplementation((line: string) => void err.push(line));
  vi.stubEnv(PASSWORD_ENV, "");
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the command line in process; the exit code, the stderr lines, and what the scratch directory holds afterwards. */
async function refuse(argv: string[]): Promise<{ code: number; err: string[]; files: string[] }> {
  const code = await main(argv);
  return { code, err: [...err], files: readdirSync(dir).sort() };
}

describe("bad command lines", () => {
  const cases: [name: string, argv: (d: string) => string[], code: number, message: RegExp][] = [
    ["no command", () => [], 64, /^no command; the commands are serve, demo/],
    ["an unknown command", () => ["srve"], 64, /^unknown command 'srve'/],
    ["an unknown flag", (d) => ["serve", "--prot", "5222", "--data", d], 64, /^unknown option '--prot'/],
    ["a flag of another command", (d) => ["list", "--port", "5222", "--data", d], 64, /^--port is not an option of list/],
    ["a flag without its value", (d) => ["serve", "--data", d, "--port"], 64, /^--port needs a value/],
    ["a value for a switch", (d) => ["serve", "--data", d, "--no-sm=yes"], 64, /^--no-sm takes no value/],
    ["a port that is not a number", (d) => ["serve", "--port", "http", "--data", d], 64, /^--port: expected a port number 0–65535, got 'http'$/],
    ["a port out of range", (d) => ["serve", "--port", "65536", "--data", d], 64, /^--port: expected a port number/],
    ["a domain that is not one", (d) => ["serve", "--domain", "a b", "--data", d], 64, /^--domain: expected a domain name, got 'a b'/],
    ["a log level that does not exist", (d) => ["serve", "--log-level", "loud", "--data", d], 64, /^--log-level: expected one of trace, debug, info, warn, error, silent, got 'loud'$/],
    ["a log format that does not exist", (d) => ["serve", "--log-format", "xml", "--data", d], 64, /^--log-format: expected one of text, json/],
    ["a WebSocket path without /", (d) => ["serve", "--websocket-port", "0", "--websocket-path", "ws", "--data", d], 64, /^--websocket-path: expected a path starting with \//],
    ["--websocket-tls without a port", (d) => ["serve", "--websocket-tls", "--data", d], 64, /^--websocket-path and --websocket-tls need --websocket-port/],
    ["--cert without --key", (d) => ["serve", "--cert", join(d, "x.crt"), "--data", d], 64, /^--cert and --key .* go together/],
    ["--no-sm with a Stream Management setting", (d) => ["serve", "--no-sm", "--sm-max-resume", "5", "--data", d], 64, /^--no-sm .*goes without/],
    ["a missing certificate file", (d) => ["serve", "--cert", join(d, "x.crt"), "--key", join(d, "x.key"), "--data", d], 66, /^cannot read the certificate .*x\.crt: ENOENT$/],
    ["a missing config file", (d) => ["serve", "--config", join(d, "none.toml"), "--data", d], 66, /^cannot read the config file .*none\.toml: ENOENT$/],
    ["a missing NAME", (d) => ["deluser", "--data", d], 64, /^deluser: missing NAME/],
    ["an extra argument", (d) => ["list", "everything", "--data", d], 64, /^list: unexpected argument 'everything'/],
    ["help of no command", () => ["help", "frob"], 64, /^help: no command 'frob'/],
    ["list without a database", (d) => ["list", "--data", d], 66, /^no database in /],
    ["deluser without a database", (d) => ["deluser", "juliet", "--data", d], 66, /^no database in /],
    ["backup without a database", (d) => ["backup", join(d, "copy.sqlite"), "--data", d], 66, /^no database in /],
  ];
  for (const [name, argv, code, message] of cases) {
    it(`${name}: exit ${code}, one line, nothing written`, async () => {
      const result = await refuse(argv(data));
      expect(result.code).toBe(code);
      expect(result.err).toHaveLength(1);
      expect(result.err[0]).toMatch(message);
      expect(result.err[0]).not.toMatch(/\n|\bat .*\.ts:\d+/);
      expect(result.files).toEqual([]); // not even the data directory
    });
  }

  it("adduser (prosodyctl's spelling) is add-user: the same refusals, the same help", async () => {
    const bad = await refuse(["adduser", "juliet", "r0m30myr0m30", "--data", data]);
    expect(bad.code).toBe(ExitCode.USAGE);
    expect(bad.err).toEqual([expect.stringMatching(/^add-user: a password on the command line is visible/)]);
    expect(bad.files).toEqual([]);
    expect(await main(["help", "adduser"])).toBe(0);
    expect(await main(["adduser", "--help"])).toBe(0);
    expect(out.at(-1)).toBe(out.at(-2));
    expect(out.at(-1)).toBe(commandHelp("add-user"));
    expect((await refuse(["addusr"])).err.at(-1)).toMatch(/^unknown command 'addusr'/);
  });

  it("add-user validates name and password before creating the data directory", async () => {
    vi.stubEnv(PASSWORD_ENV, "pw");
    expect((await refuse(["add-user", "a@b", "--data", data])).code).toBe(ExitCode.DATA);
    vi.stubEnv(PASSWORD_ENV, "\u0007");
    const bad = await refuse(["add-user", "juliet", "--data", data]);
    expect(bad.code).toBe(ExitCode.DATA);
    expect(bad.files).toEqual([]);
    vi.stubEnv(PASSWORD_ENV, "");
    const none = await refuse(["add-user", "juliet", "--password-file", join(dir, "missing"), "--data", data]);
    expect(none.code).toBe(ExitCode.NO_INPUT);
    expect(none.files).toEqual([]);
  });

  it("a certificate that does not load: exit 78, nothing written", async () => {
    writeFileSync(join(dir, "x.crt"), "not a certificate");
    writeFileSync(join(dir, "x.key"), "not a key");
    const result = await refuse(["serve", "--cert", join(dir, "x.crt"), "--key", join(dir, "x.key"), "--data", data]);
    expect(result.code).toBe(ExitCode.CONFIG);
    expect(result.err[0]).toMatch(/x\.crt is not a PEM certificate/);
    expect(result.files).toEqual(["x.crt", "x.key"]);
  });
});

describe("--version and help", () => {
  it("--version prints the package.json version", async () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")) as { version: string };
    expect(await main(["--version"])).toBe(0);
    expect(out).toEqual([`@xmpp-sansio/server ${pkg.version}`]);
    expect(version()).toBe(out[0]);
  });

  it("every command has its help, the same from `help C` and `C --help`, listing exactly its flags", async () => {
    for (const command of COMMANDS.filter((c) => c !== "help")) {
      out.length = 0;
      expect(await main(["help", command])).toBe(0);
      expect(await main([command, "--help"])).toBe(0);
      expect(await main([command, "-h"])).toBe(0);
      expect(out).toEqual([commandHelp(command), commandHelp(command), commandHelp(command)]);
      for (const s of SETTINGS) {
        if (s.flag === undefined) continue;
        expect(out[0]!.includes(`--${s.flag} `) || out[0]!.includes(`--${s.flag}\n`) || out[0]!.endsWith(`--${s.flag}`)).toBe(s.commands.includes(command));
      }
    }
    out.length = 0;
    expect(await main(["help"])).toBe(0);
    expect(out[0]).toMatch(/^usage: xmpp-sansio-server COMMAND/);
    expect(out[0]).toMatch(/64 {2}USAGE/);
  });
});

describe("as a child process", () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ["--conditions=source", "--import", TSX, MAIN, ...args], {
      cwd: dir,
      env: { ...process.env, [PASSWORD_ENV]: "", ...env },
      encoding: "utf8",
      timeout: 30_000,
    });

  it("exits with the code, one stderr line and no stack trace; writes nothing (not even ./xmpp-data)", () => {
    const unknown = cli(["serve", "--prot", "1"]);
    expect(unknown.status).toBe(64);
    expect(unknown.stderr.trimEnd().split("\n")).toEqual(["unknown option '--prot' (xmpp-sansio-server help)"]);
    expect(unknown.stdout).toBe("");
    const badConfig = join(dir, "bad.toml");
    writeFileSync(badConfig, "port = 'x'\n");
    const config = cli(["serve", "--config", badConfig]);
    expect(config.status).toBe(78);
    expect(config.stderr.trimEnd().split("\n")).toEqual([`${badConfig}: port: expected a port number 0–65535, got "x" (a string)`]);
    expect(readdirSync(dir)).toEqual(["bad.toml"]);
    expect(existsSync(join(dir, "xmpp-data"))).toBe(false);
  });

  it("exit 69 when the port is taken, with the address in the line, and nothing written", async () => {
    const { createServer } = await import("node:net");
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    try {
      const port = (blocker.address() as { port: number }).port;
      const result = cli(["serve", "--port", String(port), "--data", join(dir, "d")]);
      expect(result.status).toBe(69);
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result.stderr).toMatch(new RegExp(`^cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE \\(the port is in use\\)$`, "m"));
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
