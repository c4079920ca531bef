// The config file: the shipped example loads, every key is documented, flags override it, and every kind
// of mistake is refused with the file, the key and the expected type named.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { main, PASSWORD_ENV } from "../src/cli.js";
import { CliError, ExitCode } from "../src/cli/exit.js";
import { loadConfigFile, parseCommandLine, resolveSettings, SETTINGS, settingsFromConfig } from "../src/cli/settings.js";

const EXAMPLE = fileURLToPath(new URL("../examples/server.toml", import.meta.url));
const DOCS = readFileSync(new URL("../../../docs/server.md", import.meta.url), "utf8");

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "xmpp-cli-config-"));
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  rmSync(dir, { recursive: true, force: true });
});

function config(text: string): string {
  const file = join(dir, "server.toml");
  writeFileSync(file, text);
  return file;
}

/** The CliError a load throws (fails the test when it does not throw one). */
function refusal(text: string): CliError {
  try {
    loadConfigFile(config(text));
  } catch (error) {
    if (error instanceof CliError) return error;
    throw error;
  }
  throw new Error("the config loaded");
}

describe("the example config file", () => {
  it("loads, with the documented defaults", () => {
    const s = loadConfigFile(EXAMPLE);
    expect(s).toEqual({
      domain: "localhost",
      host: "127.0.0.1",
      port: 5222,
      directTlsPort: 5223,
      data: join(fileURLToPath(new URL("../examples", import.meta.url)), "xmpp-data"),
      maxOffline: 1000,
      allowRegistration: false,
      iqAuth: false,
      websocketPort: 5280,
      websocketPath: "/xmpp-websocket",
      websocketTls: false,
      streamManagement: true,
      federation: false,
      sasl2: true,
      bind2: true,
      fast: true,
      smMaxResume: 300,
      smMaxDetached: 10000,
      logLevel: "info",
      logFormat: "text",
    });
  });

  it("shows every key, and docs/server.md documents every key and flag", () => {
    const example = readFileSync(EXAMPLE, "utf8");
    for (const s of SETTINGS) {
      if (s.key !== undefined) {
        const [section, name] = s.key.includes(".") ? s.key.split(".") : [undefined, s.key];
        expect(example, s.key).toMatch(new RegExp(`^(?:# )?${name} = `, "m"));
        if (section !== undefined) expect(example).toContain(`[${section}]`);
        expect(DOCS, s.key).toContain(`\`${s.key}\``);
      }
      if (s.flag !== undefined) expect(DOCS, s.flag).toContain(`--${s.flag}`);
    }
  });
});

describe("the sasl2 section", () => {
  it("--no-sasl2/--no-bind2/--no-fast and sasl2.* turn each part off; --no-sasl2 goes alone", async () => {
    expect(parseCommandLine(["serve", "--no-bind2", "--no-fast"]).flags).toEqual({ bind2: false, fast: false });
    expect(settingsFromConfig({ sasl2: { enabled: false } }, join(dir, "x.toml"))).toEqual({ sasl2: false });
    const err: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => void err.push(line));
    expect(await main(["serve", "--port", "0", "--data", join(dir, "data"), "--no-sasl2", "--no-fast"])).toBe(ExitCode.USAGE);
    expect(err).toEqual([expect.stringMatching(/--no-sasl2 \(sasl2\.enabled = false\) goes without --no-bind2 and --no-fast/)]);
  });
});

describe("the components section", () => {
  it("reads the port and the secret files (relative to the config file); flags add to nothing but override", () => {
    const s = loadConfigFile(config('[components]\nport = 5347\nsecret-files = { "Comp.Localhost" = "comp.secret" }\n'));
    expect(s).toEqual({ componentPort: 5347, components: { "comp.localhost": join(dir, "comp.secret") } });
    const flags = parseCommandLine(["serve", "--component-port", "0", "--component", "a.localhost=a.txt", "--component", "b.localhost=/b.txt"]).flags;
    expect(flags).toEqual({ componentPort: 0, components: { "a.localhost": "a.txt", "b.localhost": "/b.txt" } });
  });

  it("refuses a secret-files value that is not a table of domain = file", () => {
    expect(refusal('[components]\nsecret-files = "x"\n').message).toMatch(/components\.secret-files: expected a table of domain = secret file, got "x" \(a string\)$/);
    expect(refusal('[components]\nsecret-files = { "a.localhost" = 1 }\n').message).toMatch(/components\.secret-files: a\.localhost: expected a file path/);
    expect(refusal('[components]\nsecret-files = { "a@b" = "f" }\n').message).toMatch(/'a@b' is not a valid JID domainpart$/);
    expect(() => parseCommandLine(["serve", "--component", "=f"])).toThrow(/--component =f: expected DOMAIN=SECRET_FILE/);
  });
});

describe("mistakes in a config file", () => {
  it("a key that does not exist, with the nearest one", () => {
    const e = refusal("prot = 5222\n");
    expect(e.code).toBe(ExitCode.CONFIG);
    expect(e.message).toMatch(/server\.toml: unknown key 'prot' \(did you mean 'port'\?\)$/);
    expect(refusal("[websocket]\nprot = 1\n").message).toMatch(/unknown key 'websocket\.prot' \(did you mean 'websocket\.port'\?\)$/);
    expect(refusal("[server-to-server]\nport = 5269\n").message).toMatch(/unknown key 'server-to-server'$/);
  });

  it("a value of the wrong type names the key and the expected type", () => {
    expect(refusal('port = "5222"\n').message).toMatch(/server\.toml: port: expected a port number 0–65535, got "5222" \(a string\)$/);
    expect(refusal("port = 70000\n").message).toMatch(/port: expected a port number 0–65535, got 70000 \(an integer\)$/);
    expect(refusal("max-offline = 1.5\n").message).toMatch(/max-offline: expected a whole number ≥ 0, got 1\.5 \(a float\)$/);
    expect(refusal('allow-registration = "yes"\n').message).toMatch(/allow-registration: expected true or false, got "yes" \(a string\)$/);
    expect(refusal('[log]\nlevel = "verbose"\n').message).toMatch(/log\.level: expected one of trace, debug, info, warn, error, silent, got "verbose" \(a string\)$/);
    expect(refusal("domain = [1]\n").message).toMatch(/domain: expected a domain name, got an array$/);
    expect(refusal("websocket = 5280\n").message).toMatch(/websocket: expected a table \(\[websocket\]\), got 5280 \(an integer\)$/);
    expect(refusal('[tls]\ncert = ""\n').message).toMatch(/tls\.cert: expected a file path/);
  });

  it("TOML that does not parse: the line", () => {
    const e = refusal('domain = "example.com"\nport = \n');
    expect(e.code).toBe(ExitCode.CONFIG);
    expect(e.message).toMatch(/server\.toml: not valid TOML at line 2, column \d+: /);
    expect(e.message).not.toContain("\n");
  });

  it("relative paths are relative to the file", () => {
    mkdirSync(join(dir, "etc"));
    const file = join(dir, "etc", "server.toml");
    writeFileSync(file, 'data = "../var"\n[tls]\ncert = "c.pem"\nkey = "/abs/k.pem"\n');
    expect(loadConfigFile(file)).toEqual({ data: join(dir, "var"), cert: join(dir, "etc", "c.pem"), key: "/abs/k.pem" });
  });

  it("accepts any parsed document (a JSON one too): the table is the schema", () => {
    expect(settingsFromConfig({ port: 1, websocket: { port: 2 } }, "x.json")).toEqual({ port: 1, websocketPort: 2 });
    expect(() => settingsFromConfig({ websocket: { port: -1 } }, "x.json")).toThrow(/^x\.json: websocket\.port: expected a port number/);
  });
});

describe("flags and the file", () => {
  it("flags override the file; the rest comes from the file", () => {
    const file = config('domain = "example.com"\nport = 5222\n[stream-management]\nenabled = true\nmax-resume = 60\n[log]\nformat = "json"\n');
    const s = resolveSettings(parseCommandLine(["serve", "--config", file, "--port", "5333", "--no-sm", "--log-level", "warn"]).flags);
    expect(s).toMatchObject({ domain: "example.com", port: 5333, streamManagement: false, smMaxResume: 60, logFormat: "json", logLevel: "warn" });
  });

  it("the account commands find the database the file names", async () => {
    vi.stubEnv(PASSWORD_ENV, "r0m30myr0m30");
    const out: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => void out.push(line));
    const file = config('data = "db"\ndomain = "example.com"\n');
    expect(await main(["add-user", "juliet", "--config", file])).toBe(0);
    out.length = 0;
    expect(await main(["list", "--config", file])).toBe(0);
    expect(out).toEqual(["juliet"]);
    expect(await main(["list", "--config", file, "--data", join(dir, "elsewhere")])).toBe(ExitCode.NO_INPUT);
  });
});
