// The failed-login log line against the fail2ban filter documented in docs/server.md: the demo server's
// line for a real failed login, and no user name can forge the address or split the line.
import { readFileSync } from "node:fs";
import { authFailureLine, XmppClient } from "@xmpp-sansio/node";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { AccountStore } from "../src/accounts.js";
import { startServer } from "../src/server.js";

// The filter of docs/server.md, with fail2ban's <HOST> replaced by what it matches (an address).
const doc = readFileSync(new URL("../../../docs/server.md", import.meta.url), "utf8");
const failregex = /^failregex\s*=\s*(.+)$/m.exec(doc)?.[1];
const HOST = "(?<host>(?:\\d{1,3}\\.){3}\\d{1,3}|[0-9a-fA-F:.]+)";
const filter = failregex === undefined ? undefined : new RegExp(failregex.replace("<HOST>", HOST));
const hostOf = (line: string) => filter!.exec(line)?.groups?.host;
const DATE = "2026-12-03T07:00:00.000Z";

describe("the fail2ban filter of docs/server.md", () => {
  it("is documented", () => {
    expect(failregex).toBeDefined();
  });

  it("matches the line of a real failed login on the demo server, and finds the address", async () => {
    const accounts = new AccountStore({ iterations: 4096 });
    accounts.add("juliet", "r0m30myr0m30");
    const lines: string[] = [];
    const running = await startServer({ domain: "localhost", accounts, port: 0, log: (l) => lines.push(`${DATE} ${l}`) });
    try {
      const c = new XmppClient({ jid: "juliet@localhost", password: "wrong", host: "127.0.0.1", port: running.port!, tls: { ca: running.certificate } });
      await expect(c.online()).rejects.toThrow();
      await c.close();
    } finally {
      await running.close();
    }
    const failures = lines.filter((l) => l.includes("authentication failed"));
    expect(failures).toHaveLength(1);
    expect(hostOf(failures[0]!)).toBe("127.0.0.1");
    expect(failures[0]).toContain("authentication failed for juliet from 127.0.0.1");
    // No other line matches (an operator's filter must not ban for successful logins or offline lines).
    expect(lines.filter((l) => hostOf(l) !== undefined)).toHaveLength(1);
  });

  it("matches IPv6 addresses and unknown user names", () => {
    expect(hostOf(`${DATE} auth    ${authFailureLine(undefined, "2001:db8::1")}`)).toBe("2001:db8::1");
  });

  it("property: no user name can forge another address or split the line", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), (user) => {
        const line = `${DATE} auth    ${authFailureLine(user, "203.0.113.7", "not-authorized")}`;
        expect(line).not.toMatch(/[\r\n]/);
        expect(hostOf(line)).toBe("203.0.113.7");
      }),
      fuzz(100),
    );
  });
});
