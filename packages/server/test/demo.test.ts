import { describe, expect, it } from "vitest";
import { runDemo } from "../src/demo.js";

describe("the README's main job", () => {
  it("logs juliet and romeo in over STARTTLS with SCRAM-SHA-256-PLUS and exchanges the RFC 6120 §9.1 messages", async () => {
    const lines: string[] = [];
    const result = await runDemo({ print: (line) => lines.push(line) });
    expect(result.julietJid).toBe("juliet@im.example.com/balcony");
    expect(result.romeoJid).toBe("romeo@im.example.com/orchard");
    expect(result.received).toEqual(["Art thou not Romeo, and a Montague?", "Neither, fair saint, if either thee dislike."]);
    expect(result.mechanisms).toEqual(["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256-PLUS"]);
    const transcript = lines.join("\n");
    expect(transcript).toContain("juliet C: <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    expect(transcript).toContain("juliet S: <proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    expect(transcript).toMatch(/TLS established: TLSv1\.3.*tls-exporter/);
    expect(transcript).toContain("<jid>juliet@im.example.com/balcony</jid>");
    // XEP-0198 is on: each side's last <a/> travels with its end of the stream (XEP-0198 §7).
    expect(transcript).toContain("romeo  C: <enable xmlns='urn:xmpp:sm:3' resume='true' max='300'/>");
    expect(transcript).toMatch(/romeo {2}S: <a xmlns='urn:xmpp:sm:3' h='1'\/><\/stream:stream>/);
  });
});
