// The CLI's logger: levels, the text and JSON formats, the classification of the server's lines, and the
// two fail2ban filters of docs/server.md (text and JSON) against the lines it writes.
import { readFileSync } from "node:fs";
import { authFailureLine } from "@xmpp-sansio/node";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { LOG_LEVELS, Logger, type LogFormat, type LogLevel } from "../src/cli/logger.js";

const NOW = new Date("2026-12-03T07:00:00.000Z");

function capture(level: LogLevel, format: LogFormat = "text"): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: new Logger({ level, format, write: (l) => lines.push(l), clock: () => NOW }), lines };
}

describe("Logger", () => {
  it("writes the records at or above its level, none when silent", () => {
    const written = LOG_LEVELS.map((level) => {
      const { log, lines } = capture(level);
      log.trace("t", "trace");
      log.debug("t", "debug");
      log.info("t", "info");
      log.warn("t", "warn");
      log.error("t", "error");
      return lines.length;
    });
    expect(written).toEqual([5, 4, 3, 2, 1, 0]);
  });

  it("text: date, level, event, message on one line", () => {
    const { log, lines } = capture("info");
    log.warn("reload", "certificate not reloaded:\nbad PEM", { cert: "/x" });
    expect(lines).toEqual(["2026-12-03T07:00:00.000Z WARN  reload  certificate not reloaded: bad PEM"]);
  });

  it("json: one object per line, fields, the message last", () => {
    const { log, lines } = capture("info", "json");
    log.info("listen", "serving example.com", { port: 5222, none: undefined, level: "forged", msg: "forged" });
    expect(lines).toEqual(['{"time":"2026-12-03T07:00:00.000Z","level":"info","event":"listen","port":5222,"msg":"serving example.com"}']);
  });

  it("classifies the server's lines: auth and limit are warnings, error errors, the rest info, with ip and jid", () => {
    const { log, lines } = capture("info", "json");
    log.serverLine("online  juliet@example.com/balcony from 203.0.113.7 (STARTTLS, SCRAM-SHA-256-PLUS)");
    log.serverLine(`auth    ${authFailureLine("romeo", "2001:db8::1", "not-authorized")}`);
    log.serverLine("limit   connection 4 from 198.51.100.2: policy-violation: too many connections");
    log.serverLine("error   connection 5: TypeError: boom");
    log.serverLine("offline juliet@example.com/balcony");
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => [r.level, r.event, r.ip, r.jid])).toEqual([
      ["info", "online", "203.0.113.7", "juliet@example.com/balcony"],
      ["warn", "auth", "2001:db8::1", undefined],
      ["warn", "limit", "198.51.100.2", undefined],
      ["error", "error", undefined, undefined],
      ["info", "offline", undefined, "juliet@example.com/balcony"],
    ]);
    const warnOnly = capture("warn");
    warnOnly.log.serverLine("online  juliet@example.com/balcony from 203.0.113.7 (STARTTLS, PLAIN)");
    warnOnly.log.serverLine(`auth    ${authFailureLine("romeo", "203.0.113.7", "not-authorized")}`);
    expect(warnOnly.lines).toEqual(["2026-12-03T07:00:00.000Z WARN  auth    authentication failed for romeo from 203.0.113.7 (not-authorized)"]);
  });
});

describe("the fail2ban filters of docs/server.md against the CLI's lines", () => {
  const doc = readFileSync(new URL("../../../docs/server.md", import.meta.url), "utf8");
  const regexes = [...doc.matchAll(/^failregex\s*=\s*(.+)$/gm)].map((m) => m[1]!);
  const HOST = "(?<host>(?:\\d{1,3}\\.){3}\\d{1,3}|[0-9a-fA-F:.]+)";
  const [text, json] = regexes.map((r) => new RegExp(r.replace("<HOST>", HOST)));
  const lineOf = (format: LogFormat, user: string | undefined, ip: string) => {
    const { log, lines } = capture("info", format);
    log.serverLine(`auth    ${authFailureLine(user, ip, "not-authorized")}`);
    return lines[0]!;
  };

  it("are documented: one for text, one for JSON", () => {
    expect(regexes).toHaveLength(2);
  });

  it("match a failed login and find the address, in both formats", () => {
    expect(text!.exec(lineOf("text", "juliet", "203.0.113.7"))?.groups?.host).toBe("203.0.113.7");
    expect(json!.exec(lineOf("json", "juliet", "2001:db8::1"))?.groups?.host).toBe("2001:db8::1");
    // and nothing else the server logs
    const { log, lines } = capture("trace", "json");
    log.serverLine("online  juliet@example.com/x from 203.0.113.7 (STARTTLS, PLAIN)");
    log.info("connect", "connection 1 from 203.0.113.7 port 4000 (STARTTLS)", { ip: "203.0.113.7" });
    for (const l of lines) expect(json!.test(l)).toBe(false);
  });

  it("property: no user name forges the address or splits the line, in either format", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), (user) => {
        for (const [format, regex] of [["text", text], ["json", json]] as const) {
          const line = lineOf(format, user, "203.0.113.7");
          expect(line).not.toMatch(/[\r\n]/);
          expect(regex!.exec(line)?.groups?.host).toBe("203.0.113.7");
        }
      }),
      fuzz(100),
    );
  });
});
