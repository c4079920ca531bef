/**
 * The connection-level log lines of `serve`: connections opened and closed with the peer's address, and
 * the stream errors that end sessions (sent or received), from the listeners' events.
 *
 * @module
 */
import type { RunningServer } from "../server.js";
import type { Logger } from "./logger.js";

/** What the events need of a connection (the TCP and the WebSocket connections both have it). */
interface WatchedConnection {
  readonly id: number;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly closedPromise: Promise<void>;
  readonly directTls?: boolean;
}

/** Stream errors we send because of what the peer sent: worth a warning (a broken or hostile client). */
const PEER_FAULTS = new Set(["bad-format", "invalid-namespace", "invalid-xml", "not-well-formed", "restricted-xml", "unsupported-encoding", "unsupported-stanza-type", "policy-violation"]);

/**
 * Peer-controlled text made safe for one log line: printable ASCII only, everything else (space included)
 * percent-encoded, so it can neither split the line nor imitate another line (a fail2ban match).
 */
export function logText(value: string, max = 200): string {
  let out = "";
  for (const ch of value.length > max ? `${value.slice(0, max)}…` : value) {
    const c = ch.codePointAt(0)!;
    if (c > 0x20 && c < 0x7f && ch !== "%" && ch !== '"') out += ch;
    else for (const byte of Buffer.from(ch, "utf8")) out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out === "" ? "-" : out;
}

/** Logs connections (`connect`, `close`) and stream errors (`stream`) of every listener of `running`. */
export function logConnectionEvents(running: RunningServer, log: Logger, websocketLabel: string): void {
  const watch = (transport: string, c: WatchedConnection) => {
    const ip = c.remoteAddress;
    log.info("connect", `connection ${c.id} from ${ip} port ${c.remotePort} (${transport})`, { conn: c.id, ip, transport });
    void c.closedPromise.then(() => log.info("close", `connection ${c.id} from ${ip} closed`, { conn: c.id, ip }));
  };
  const streamError = (prefix: string) => (c: WatchedConnection, condition: string, text: string | undefined, byPeer: boolean) => {
    const level = condition === "internal-server-error" ? "error" : !byPeer && PEER_FAULTS.has(condition) ? "warn" : "info";
    const what = `${byPeer ? "received" : "sent"} <${logText(condition, 64)}/>${text === undefined ? "" : ` text=${logText(text)}`}`;
    log.log(level, "stream", `connection ${prefix}${c.id} from ${c.remoteAddress}: ${what}`, { conn: c.id, ip: c.remoteAddress, condition, byPeer });
  };
  running.server.on("connection", (c) => watch(c.directTls ? "direct TLS" : "STARTTLS", c));
  running.server.on("streamError", streamError(""));
  running.websocket?.on("connection", (c) => watch(websocketLabel, c));
  running.websocket?.on("streamError", streamError("ws-"));
}
