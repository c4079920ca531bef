/**
 * `xmpp-sansio-server`: the demo server's command line.
 *
 *   xmpp-sansio-server demo                      run the RFC 6120 §9.1 demo on loopback and exit
 *   xmpp-sansio-server serve [options]           keep a server running for real clients
 *   xmpp-sansio-server add-user NAME PASSWORD    create (or reset) an account in the accounts file
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { AccountStore } from "./accounts.js";
import { generateSelfSignedCertificate } from "./certificate.js";
import { runDemo } from "./demo.js";
import { type StreamManagementSettings, startServer } from "./server.js";

const USAGE = `usage:
  xmpp-sansio-server demo
      Starts the server on loopback with a generated certificate and two accounts, logs juliet and
      romeo in (STARTTLS, SCRAM-SHA-256-PLUS), exchanges the RFC 6120 §9.1 messages, prints the XML
      both ways and exits.
  xmpp-sansio-server serve [--domain D] [--host H] [--port P] [--direct-tls-port P]
                           [--websocket-port P [--websocket-path /p] [--websocket-tls]] [--data DIR] [--cert F --key F]
                           [--no-sm | --sm-max-resume SECONDS --sm-max-detached N]
      Runs until interrupted. --websocket-port also serves XMPP over WebSocket (RFC 7395) at
      ws://H:P/xmpp-websocket (wss:// with --websocket-tls), routed together with the TCP clients.
      Stream Management (XEP-0198) is on: a client whose connection drops may resume its session
      for --sm-max-resume seconds (default 300); at most --sm-max-detached such sessions are kept
      (default 10000). --no-sm turns it off.
      Accounts live in DIR/accounts.json (created with juliet/r0m30myr0m30 and
      romeo/j0liet when absent); without --cert/--key a self-signed certificate for the domain is
      generated on first start into DIR.
  xmpp-sansio-server add-user NAME PASSWORD [--data DIR]
      Creates or resets an account (SCRAM keys only; the password is not stored).
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
      "no-sm": { type: "boolean" },
      "sm-max-resume": { type: "string" },
      "sm-max-detached": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command = "demo", ...rest] = positionals;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const accountsFile = join(values.data, "accounts.json");
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
    case "add-user": {
      const [name, password] = rest;
      if (name === undefined || password === undefined) {
        console.error(USAGE);
        return 2;
      }
      const accounts = loadAccounts(accountsFile, false);
      accounts.add(name, password);
      saveAccounts(accountsFile, accounts);
      console.log(`account '${name}' saved in ${accountsFile}`);
      return 0;
    }
    case "serve": {
      const streamManagement = streamManagementFromArgs(values);
      if (typeof streamManagement === "string") {
        console.error(`${streamManagement}\n${USAGE}`);
        return 2;
      }
      const accounts = loadAccounts(accountsFile, true);
      const tls = loadOrCreateCertificate(values.data, values.domain, values.cert, values.key);
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
        log: (line) => console.log(`${new Date().toISOString()} ${line}`),
      });
      console.log(
        `serving ${values.domain} on ${values.host}:${running.port}${running.directTlsPort ? ` (direct TLS ${running.directTlsPort})` : ""}${running.websocketUrl ? `, ${running.websocketUrl}` : ""}; accounts: ${accounts.usernames().join(", ")}`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      console.log("shutting down (<system-shutdown/> to every client)…");
      await running.close();
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
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

function loadAccounts(file: string, createDemoAccounts: boolean): AccountStore {
  const accounts = new AccountStore();
  if (existsSync(file)) {
    accounts.load(JSON.parse(readFileSync(file, "utf8")));
  } else if (createDemoAccounts) {
    accounts.add("juliet", "r0m30myr0m30");
    accounts.add("romeo", "j0liet");
    saveAccounts(file, accounts);
    console.log(`created ${file} with the demo accounts juliet (r0m30myr0m30) and romeo (j0liet)`);
  }
  return accounts;
}

function saveAccounts(file: string, accounts: AccountStore): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(accounts.toJSON(), null, 2)}\n`, { mode: 0o600 });
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
