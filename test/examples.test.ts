// The runnable examples under examples/ run as users run them (a child process through tsx, the workspace's
// TypeScript sources): each must exit 0 and print what its guide says it prints.
import { execFile } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function runExample(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ["--conditions=source", "--import", "tsx", file], { cwd: path.join(root, "examples"), timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

describe("examples", () => {
  it("custom-transport.ts: a client and a server core over an in-memory link log in, echo a message and close", async () => {
    const { code, stdout, stderr } = await runExample("custom-transport.ts");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    // SCRAM over the custom transport, then binding, the message both ways, and both stream ends.
    expect(lines.some((l) => l.startsWith("C: <auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>"))).toBe(true);
    expect(lines).toContain("S: <iq type='result' id='" + lines.find((l) => l.startsWith("C: <iq type='set' id='"))?.match(/id='([^']+)'/)?.[1] + "'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>juliet@example.net/balcony</jid></bind></iq>");
    expect(lines).toContain("S: <message from='example.net' to='juliet@example.net/balcony' type='chat'><body>echo: Art thou not Romeo?</body></message>");
    expect(lines.slice(-3)).toEqual(["C: </stream:stream>", "S: </stream:stream>", "echoed: echo: Art thou not Romeo?"]);
  });
});
