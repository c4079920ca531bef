/**
 * The readable transcript of a client (`transcript` option): the XML read and written, as text, after
 * TLS. SASL exchanges are shown with their payload elided, so a transcript never shows a password (PLAIN)
 * or a SCRAM proof.
 *
 * @module
 */

/** Where transcript lines go: `"in"` for what the server sent, `"out"` for what we wrote. */
export type TranscriptFunction = (direction: "in" | "out", xml: string) => void;

/** `transcript: true`: `<- …` and `-> …` lines on the console. */
export const consoleTranscript: TranscriptFunction = (direction, xml) => {
  (globalThis as unknown as { console: { log(s: string): void } }).console.log(`${direction === "in" ? "<-" : "->"} ${xml}`);
};

// The SASL (RFC 6120 §6.4) and SASL2 (XEP-0388) elements in which the client sends credentials or proofs.
const SECRETS = /(<(?:[\w.-]+:)?(?:auth|response|initial-response)\b[^>]*>)[^<]+/g;

/** Masks the base64 payload of SASL elements in one chunk of XML text. */
export function redactSasl(xml: string): string {
  return xml.replace(SECRETS, "$1…");
}

/** One connection's transcript: decodes each direction's bytes as a UTF-8 stream (split characters join). */
export class ConnectionTranscript {
  private readonly decoders = { in: new TextDecoder("utf-8", { fatal: false }), out: new TextDecoder("utf-8", { fatal: false }) };

  /** @param sink where the lines go */
  constructor(private readonly sink: TranscriptFunction) {}

  /** Bytes or a WebSocket text message read or written. */
  record(direction: "in" | "out", data: Uint8Array | string): void {
    const text = typeof data === "string" ? data : this.decoders[direction].decode(data, { stream: true });
    if (text === "") return;
    try {
      this.sink(direction, redactSasl(text));
    } catch {
      // a failing transcript must not disturb the session
    }
  }
}
