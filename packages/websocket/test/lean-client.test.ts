// The lean WebSocketClient loads only the optional parts it is given (SASL2/FAST, Stream Management): it logs
// in, sends and receives a message and an IQ without them, and uses each one when it is passed as a value.
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { once } from "node:events";
import { oneShotMechanismsClientPart, reconnectClientPart, sasl2ClientPart, sha256Hash, smClientPart, smServerFeature } from "@xmpp-sansio/core";
import { type XmlElement, xml } from "@xmpp-sansio/xml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type WebSocketConstructor, WebSocketClient, XmppClient, type XmppClientOptions } from "../src/index.js";
import { ACCOUNTS, DOMAIN, startDemoServer } from "./support/demo-server.js";

const WS = WebSocket as unknown as WebSocketConstructor;
const SASL2 = "<authenticate xmlns='urn:xmpp:sasl:2'";
const SM_ENABLE = "<enable xmlns='urn:xmpp:sm:3'";

describe("lean WebSocketClient: optional parts as values", () => {
  let demo: Awaited<ReturnType<typeof startDemoServer>>;
  beforeAll(async () => {
    // The server offers both SASL2 and Stream Management: what the client uses is its own choice.
    demo = await startDemoServer({ session: { sasl2: {}, features: [smServerFeature()] } });
  });
  afterAll(async () => {
    await demo?.close();
  });

  /** Logs juliet in with `make`, exchanges a message with a plain romeo and an IQ with the server; returns what juliet sent. */
  async function roundTrip(make: (o: XmppClientOptions) => WebSocketClient, extra: Partial<XmppClientOptions> = {}): Promise<{ sent: string; client: WebSocketClient }> {
    const sent: string[] = [];
    const juliet = make({
      jid: `juliet@${DOMAIN}/balcony`,
      password: ACCOUNTS.juliet!,
      service: demo.url,
      WebSocket: WS,
      reconnect: false,
      transcript: (direction, text) => {
        if (direction === "out") sent.push(text);
      },
      ...extra,
      // SCRAM's hash is a part too (SCRAM-SHA-256 here).
      parts: { hashes: [sha256Hash], ...extra.parts },
    });
    const romeo = new WebSocketClient({ jid: `romeo@${DOMAIN}/lean`, password: ACCOUNTS.romeo!, service: demo.url, WebSocket: WS, reconnect: false, parts: { hashes: [sha256Hash] } });
    try {
      const [jj, rj] = await Promise.all([juliet.online(), romeo.online()]);
      expect(jj.toString()).toBe(`juliet@${DOMAIN}/balcony`);
      const got = new Promise<XmlElement>((resolve) => romeo.once("message", resolve));
      juliet.send(xml("message", { to: rj.toString(), type: "chat" }, xml("body", {}, "lean")));
      expect((await got).getChildText("body")).toBe("lean");
      const pong = await juliet.iq(xml("iq", { type: "get", to: DOMAIN }, xml("ping", { xmlns: "urn:xmpp:ping" })));
      expect(pong.attr("type")).toBe("result");
      return { sent: sent.join("\n"), client: juliet };
    } finally {
      await Promise.all([juliet.close(), romeo.close()]);
    }
  }

  it("without parts: RFC 6120 SASL, no SM — login, message, IQ", async () => {
    const { sent } = await roundTrip((o) => new WebSocketClient(o));
    expect(sent).toContain("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl'");
    expect(sent).not.toContain(SASL2);
    expect(sent).not.toContain(SM_ENABLE);
  });

  it("with the SASL2 part only: SASL2, no SM", async () => {
    const { sent } = await roundTrip((o) => new WebSocketClient(o), { parts: { sasl2: sasl2ClientPart } });
    expect(sent).toContain(SASL2);
    expect(sent).not.toContain(SM_ENABLE);
  });

  it("with the SM part only: RFC 6120 SASL, SM enabled", async () => {
    const { sent } = await roundTrip((o) => new WebSocketClient(o), { parts: { sm: smClientPart } });
    expect(sent).not.toContain(SASL2);
    expect(sent).toContain(SM_ENABLE);
  });

  it("XmppClient loads both by default; sm: false and session.sasl2: false still turn them off", async () => {
    const full = await roundTrip((o) => new XmppClient(o));
    expect(full.sent).toContain(SASL2);
    expect(full.sent).toContain(SM_ENABLE);
    const off = await roundTrip((o) => new XmppClient(o), { sm: false, session: { sasl2: false } });
    expect(off.sent).not.toContain(SASL2);
    expect(off.sent).not.toContain(SM_ENABLE);
  });

  it("sm settings without the SM part: a TypeError that names the part", () => {
    expect(() => new WebSocketClient({ jid: `juliet@${DOMAIN}`, password: "x", service: demo.url, sm: { ackEvery: 5 }, parts: { hashes: [sha256Hash] } })).toThrow(/smClientPart/);
  });

  it("SCRAM without a hash function: a TypeError that names the part (no silent fall-back to PLAIN)", () => {
    expect(() => new WebSocketClient({ jid: `juliet@${DOMAIN}`, password: "x", service: demo.url })).toThrow(/parts: \{ hashes: \[sha256Hash\] \}/);
    const oneShot = { oneShotMechanisms: oneShotMechanismsClientPart };
    expect(() => new WebSocketClient({ jid: `juliet@${DOMAIN}`, password: "x", service: demo.url, session: { mechanisms: ["PLAIN"] }, parts: oneShot })).not.toThrow();
  });

  it("PLAIN, ANONYMOUS, EXTERNAL need the one-shot mechanisms part: a TypeError that names it", () => {
    for (const m of ["PLAIN", "ANONYMOUS", "EXTERNAL"]) {
      expect(() => new WebSocketClient({ jid: `juliet@${DOMAIN}`, password: "x", service: demo.url, session: { mechanisms: [m] } })).toThrow(/oneShotMechanismsClientPart/);
      expect(() => new WebSocketClient({ jid: `juliet@${DOMAIN}`, password: "x", service: demo.url, session: { mechanisms: ["SCRAM-SHA-256", m] }, parts: { hashes: [sha256Hash] } })).toThrow(/oneShotMechanismsClientPart/);
    }
    // The default preference without the part: SCRAM only, no error.
    expect(() => new WebSocketClient({ jid: `juliet@${DOMAIN}`, password: "x", service: demo.url, parts: { hashes: [sha256Hash] } })).not.toThrow();
  });

  it("reconnection is a part: without it a drop ends the client, yet <close see-other-uri/> is followed (RFC 7395 §3.7)", async () => {
    expect(() => new WebSocketClient({ jid: `juliet@${DOMAIN}`, password: "x", service: demo.url, reconnect: true, parts: { hashes: [sha256Hash] } })).toThrow(/reconnectClientPart/);
    expect(() => new WebSocketClient({ jid: `juliet@${DOMAIN}`, password: "x", service: demo.url, reconnect: true, parts: { hashes: [sha256Hash], reconnect: reconnectClientPart } })).not.toThrow();
    const { WebSocketServer } = await import("ws");
    const redirector = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: () => "xmpp" });
    await once(redirector, "listening");
    redirector.on("connection", (ws) => {
      ws.on("message", () => ws.send(`<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='${demo.url}'/>`));
    });
    const port = (redirector.address() as { port: number }).port;
    const c = new WebSocketClient({ jid: `juliet@${DOMAIN}`, password: ACCOUNTS.juliet!, service: `ws://127.0.0.1:${port}/`, WebSocket: WS, parts: { hashes: [sha256Hash] } });
    try {
      const closes: unknown[] = [];
      c.on("close", (i) => closes.push(i));
      await c.online();
      expect(c.endpoint).toBe(demo.url);
      expect(closes).toEqual([{ reason: "peer-closed", willReconnect: true }]);
      // Online, the server goes away: without the part the client stops (no reconnection).
      const closed = new Promise<{ willReconnect: boolean }>((resolve) => c.once("close", resolve));
      demo.server.connectionFor(c.jid!)!.endSocket();
      expect((await closed).willReconnect).toBe(false);
    } finally {
      await c.close();
      for (const ws of redirector.clients) ws.terminate();
      await new Promise<void>((r) => redirector.close(() => r()));
    }
  });

  it("a browser bundle of the minimal client carries no SASL2, SM, noble, fast-path, stream-framing or streaming-parser code", async () => {
    const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../bench/size-client-minimal.ts");
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      // No comments (they name what the code no longer holds); identifiers and strings kept.
      minifyWhitespace: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      conditions: ["source"],
      outfile: "out.js",
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const [output] = Object.values(result.metafile.outputs);
    const used = Object.entries(output!.inputs)
      .filter(([, v]) => v.bytesInOutput > 0)
      .map(([k]) => k);
    expect(used.some((i) => i.includes("websocket/src/client.ts"))).toBe(true);
    expect(used.filter((i) => /features\/sasl2\/|features\/sm\/sm\.ts|client-parts\.ts|@noble|fast-scan-module/.test(i))).toEqual([]);
    // Reconnection with backoff is a part the minimal client is not given (core/src/reconnect.ts).
    expect(used.filter((i) => i.endsWith("core/src/reconnect.ts"))).toEqual([]);
    // One session per page: core's browser build of shared-options.ts shares nothing between sessions.
    expect(used.some((i) => i.endsWith("core/src/shared-options.browser.ts"))).toBe(true);
    expect(used.filter((i) => i.endsWith("core/src/shared-options.ts"))).toEqual([]);
    const js = result.outputFiles[0]!.text;
    expect(js).not.toContain("fast-scan: abort"); // the WebAssembly glue (FastScanner)
    // WebSocket messages go through the compact parser of one element, not FramedParser's batching.
    expect(used.some((i) => i.includes("xml/src/element-parser.ts"))).toBe(true);
    expect(used.filter((i) => i.includes("xml/src/framing.ts"))).toEqual([]);
    // Elements are written by the compact serializer (xml's browser build of XmlWriter), not the byte writer.
    expect(used.some((i) => i.includes("xml/src/serializer.browser.ts"))).toBe(true);
    expect(used.filter((i) => i.includes("xml/src/serializer.ts"))).toEqual([]);
    expect(js).not.toContain("SHARED_SLAB_BYTES");
    // SASL's UTF-8 and base64 are the runtime's (sasl's browser builds of utf8.ts and base64.ts).
    expect(used.filter((i) => /sasl\/src\/(utf8|base64)\.browser\.ts$/.test(i))).toHaveLength(2);
    expect(used.filter((i) => /sasl\/src\/(utf8|base64)\.ts$/.test(i))).toEqual([]);
    // No Node `ws` fast path in a browser (the package's browser field maps node-ws.js away).
    expect(used.filter((i) => i.includes("websocket/src/node-ws.ts"))).toEqual([]);
    expect(js).not.toContain("urn:xmpp:sm:3");
    // The framing is a value (webSocketFraming): neither the core's StreamFraming (the only writer of
    // `</stream:stream>`) nor the streaming parser (StreamParser, ParserCore and their modules) is bundled.
    expect(js).toContain("WebSocketFraming");
    expect(js).not.toContain("StreamFraming");
    expect(js).not.toContain("</stream:stream>");
    expect(js).not.toContain("StreamParser: push() after takeUnparsed()"); // parser-core.ts
    expect(js).not.toContain("data after the end of the stream"); // the streaming parser's end-of-stream check
    // SCRAM's hash functions are values (parts.hashes: [sha256Hash]): SHA-1 and SHA-512 are not bundled.
    expect(js).toContain("sha256Compress");
    expect(js).not.toContain("sha1Compress");
    expect(js).not.toContain("sha512Compress");
    // PLAIN, ANONYMOUS and EXTERNAL are a part the minimal client is not given (sasl/src/client-one-shot.ts).
    expect(used.filter((i) => i.endsWith("sasl/src/client-one-shot.ts"))).toEqual([]);
    expect(js).not.toContain("PLAIN needs a non-empty username");
    expect(js).not.toContain("ANONYMOUS trace information");
    expect(js).not.toContain("the EXTERNAL authzid");
    expect(used.filter((i) => /xml\/src\/(parser|parser-core|parser-replay|parser-input|parser-tags|parser-text|parser-tree|fast-scan)\.ts$/.test(i))).toEqual([]);
  });
});
