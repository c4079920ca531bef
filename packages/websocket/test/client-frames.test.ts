// The Node client's own text frames (src/client-frames.ts, src/node-ws.ts): decoded by `ws`'s own Receiver
// byte for byte, and over a real loopback connection interleaved with everything `ws` sends itself
// (text and Blob messages, pings, the close), in any grouping into turns of the event loop.
import { once } from "node:events";
import type { Socket } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket, * as wsModule from "ws";
import { WebSocketServer } from "ws";
import { fuzz } from "../../../test-support/fuzz.js";
import { ClientTextFrames } from "../src/client-frames.js";
import { fastWebSocket } from "../src/node-ws.js";

/** A deterministic masking-key source: 0, 1, 2, … (mod 251: 0 never recurs as a whole key after the first). */
function counter() {
  let next = 0;
  const drawn: number[] = [];
  const random = (bytes: Uint8Array) => {
    for (let i = 0; i < bytes.length; i++) {
      bytes[i] = next++ % 251;
      drawn.push(bytes[i]!);
    }
  };
  return { random, drawn };
}

/** A payload of `n` bytes, recognisable by `tag`. */
function payload(n: number, tag: number): Uint8Array {
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = 0x61 + ((tag + i) % 26);
  return p;
}

/** Waits (a few turns of the event loop at most) until `done()`. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setImmediate(r));
}

/** `ws`'s frame parser (exported by `ws`, not typed by `@types/ws`). */
interface FrameReceiver {
  on(event: "message", listener: (data: Buffer, isBinary: boolean) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  write(chunk: Buffer): boolean;
}
const Receiver = (wsModule as unknown as { Receiver: new (options: { isServer: boolean; maxPayload: number }) => FrameReceiver }).Receiver;

/** What `ws`'s Receiver on a server (masked frames required) makes of `bytes`: the messages, or the error. */
function receive(bytes: Uint8Array): { messages: Buffer[]; error?: Error } {
  const receiver = new Receiver({ isServer: true, maxPayload: 0 });
  const messages: Buffer[] = [];
  let error: Error | undefined;
  receiver.on("message", (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    messages.push(Buffer.from(data));
  });
  receiver.on("error", (e: Error) => (error = e));
  receiver.write(Buffer.from(bytes));
  return error === undefined ? { messages } : { messages, error };
}

const SIZES = [0, 1, 3, 4, 5, 31, 32, 33, 124, 125, 126, 127, 1000, 65_535, 65_536, 65_537, 70_000];

describe("ClientTextFrames (the Node client's text frames, RFC 6455 §5.2/§5.3)", () => {
  it("frames every length encoding exactly: FIN text, MASK set, the shortest length, a fresh key per frame; ws's Receiver agrees", () => {
    const { random, drawn } = counter();
    const chunks: Uint8Array[] = [];
    const frames = new ClientTextFrames((c) => chunks.push(Uint8Array.from(c)), random);
    let expectedBytes = 0;
    for (const [i, n] of SIZES.entries()) expectedBytes += frames.add(payload(n, i));
    frames.flush();
    const wire = Buffer.concat(chunks);
    expect(wire.length).toBe(expectedBytes);
    // Walk the frames by hand (a reference decoder).
    let at = 0;
    const keys: string[] = [];
    for (const [i, n] of SIZES.entries()) {
      expect(wire[at]).toBe(0x81);
      const b1 = wire[at + 1]!;
      expect(b1 & 0x80).toBe(0x80);
      let len = b1 & 0x7f;
      at += 2;
      if (n < 126) expect(len).toBe(n);
      else if (n < 65_536) {
        expect(len).toBe(126);
        len = wire.readUInt16BE(at);
        at += 2;
      } else {
        expect(len).toBe(127);
        len = Number(wire.readBigUInt64BE(at));
        at += 8;
      }
      expect(len).toBe(n);
      const key = wire.subarray(at, at + 4);
      expect([...key]).toEqual(drawn.slice(4 * i, 4 * i + 4));
      keys.push(key.toString("hex"));
      at += 4;
      const body = Uint8Array.from(wire.subarray(at, at + n), (b, j) => b ^ key[j & 3]!);
      expect(Buffer.from(body).equals(Buffer.from(payload(n, i)))).toBe(true);
      at += n;
    }
    expect(at).toBe(wire.length);
    expect(new Set(keys).size).toBe(SIZES.length);
    const { messages, error } = receive(wire);
    expect(error).toBeUndefined();
    expect(messages.map((m) => m.length)).toEqual(SIZES);
    for (const [i, m] of messages.entries()) expect(m.equals(Buffer.from(payload(SIZES[i]!, i)))).toBe(true);
  });

  it("any sizes, any flush points: one chunk per flush, the payload copied at once (the caller may reuse it)", () => {
    const size = fc.oneof(fc.constantFrom(0, 125, 126, 65_535, 65_536), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 65_530, max: 65_540 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(size, fc.boolean()), { minLength: 1, maxLength: 12 }), fc.integer(), (ops, seed) => {
        let s = seed;
        const random = (bytes: Uint8Array) => {
          for (let i = 0; i < bytes.length; i++) bytes[i] = (s = (Math.imul(s, 1_103_515_245) + 12_345) | 0) >>> 24;
        };
        const chunks: Buffer[] = [];
        const frames = new ClientTextFrames((c) => chunks.push(Buffer.from(c)), random);
        const sent: Buffer[] = [];
        for (const [i, [n, flush]] of ops.entries()) {
          const p = payload(n, i);
          sent.push(Buffer.from(p));
          frames.add(p);
          p.fill(0); // reused by the caller
          if (flush) {
            const before = chunks.length;
            frames.flush();
            expect(chunks.length).toBe(before + 1);
            expect(frames.pending).toBe(0);
          }
        }
        frames.flush();
        const { messages, error } = receive(Buffer.concat(chunks));
        expect(error).toBeUndefined();
        expect(messages.length).toBe(sent.length);
        for (const [i, m] of messages.entries()) expect(m.equals(sent[i]!)).toBe(true);
      }),
      fuzz(200),
    );
  });
});

/** An event seen by the server: a message (its bytes, hex-free summary), a ping, or the close. */
type Seen = string;
const summary = (b: Buffer) => `${b.length}:${b.subarray(0, 8).toString("latin1")}:${b.subarray(-8).toString("latin1")}`;

describe("fastWebSocket (the Node client's fast path on ws, loopback)", () => {
  let server: WebSocketServer;
  let url: string;
  const logs = new Map<string, Seen[]>();
  beforeAll(async () => {
    server = new WebSocketServer({ host: "127.0.0.1", port: 0, maxPayload: 0 });
    await once(server, "listening");
    url = `ws://127.0.0.1:${(server.address() as { port: number }).port}/`;
    server.on("connection", (ws, req) => {
      const log: Seen[] = [];
      logs.set(new URL(req.url ?? "/", "http://x").searchParams.get("id") ?? "", log);
      ws.on("message", (data: Buffer, isBinary: boolean) => log.push(`${isBinary ? "binary" : "text"} ${summary(data)}`));
      ws.on("ping", (data: Buffer) => log.push(`ping ${data.toString()}`));
      ws.on("close", (code: number) => log.push(`close ${code}`));
    });
  });
  afterAll(async () => {
    for (const ws of server.clients) ws.terminate();
    await new Promise<void>((r) => server.close(() => r()));
  });

  let connections = 0;
  async function connect() {
    const id = String(connections++);
    const ws = new WebSocket(`${url}?id=${id}`);
    const fast = fastWebSocket(ws, { random: counter().random });
    expect(fast).toBeDefined();
    await once(ws, "open");
    return { ws, fast: fast!, log: () => logs.get(id)! };
  }

  const op = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constant("fast" as const), fc.oneof(fc.constantFrom(0, 125, 126, 65_535, 65_536), fc.integer({ min: 1, max: 400 }))) },
    { weight: 2, arbitrary: fc.tuple(fc.constant("ws" as const), fc.integer({ min: 0, max: 300 })) },
    { weight: 1, arbitrary: fc.tuple(fc.constant("blob" as const), fc.integer({ min: 0, max: 300 })) },
    { weight: 1, arbitrary: fc.tuple(fc.constant("ping" as const), fc.integer({ min: 0, max: 99 })) },
    { weight: 2, arbitrary: fc.tuple(fc.constant("turn" as const), fc.constant(0)) },
  );

  it("fast-path frames and ws's own (text, Blob, ping, close) reach the server in call order, whatever the turns", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
        const { ws, fast, log } = await connect();
        const expected: Seen[] = [];
        for (const [i, [kind, n]] of ops.entries()) {
          const p = Buffer.from(payload(n, i));
          if (kind === "fast") fast.sendText(p);
          else if (kind === "ws") ws.send(p, { binary: false });
          else if (kind === "blob") ws.send(new Blob([p])); // ws's Sender queues what follows until it is read
          else if (kind === "ping") ws.ping(String(n));
          else await new Promise((r) => setImmediate(r));
          if (kind === "fast" || kind === "ws") expected.push(`text ${summary(p)}`);
          else if (kind === "blob") expected.push(`binary ${summary(p)}`);
          else if (kind === "ping") expected.push(`ping ${n}`);
        }
        ws.close(1000);
        expected.push("close 1000");
        await once(ws, "close");
        await until(() => log().length >= expected.length);
        expect(log()).toEqual(expected);
      }),
      fuzz(30),
    );
  });

  it("frames not yet written count in ws.bufferedAmount; a closed socket takes nothing", async () => {
    const { ws, fast, log } = await connect();
    fast.sendText(payload(100, 0)); // 2 + 4 + 100
    fast.sendText(payload(200, 1)); // 4 + 4 + 200
    expect(ws.bufferedAmount).toBe(314);
    await until(() => ws.bufferedAmount === 0);
    expect(ws.bufferedAmount).toBe(0);
    await until(() => log().length === 2);
    fast.sendText(payload(10, 2));
    ws.terminate(); // the socket is destroyed before the turn ends: the frame is dropped, not written
    await once(ws, "close");
    await until(() => log().length > 2);
    expect(log()).toEqual([`text ${summary(Buffer.from(payload(100, 0)))}`, `text ${summary(Buffer.from(payload(200, 1)))}`, "close 1006"]);
  });

  it("server text frames are decoded in place until a ping, a fragment or a binary frame; from there ws has them", async () => {
    const textFrame = (s: string) => {
      const b = Buffer.from(s);
      const head = b.length < 126 ? Buffer.from([0x81, b.length]) : Buffer.from([0x81, 126, b.length >> 8, b.length & 0xff]);
      return Buffer.concat([head, b]);
    };
    const { ws, fast } = await connect();
    const got: string[] = [];
    const ping = once(ws, "ping");
    fast.onMessage((bytes, binary) => got.push(`${binary ? "binary" : "text"} ${Buffer.from(bytes).toString()}`));
    const peer = [...server.clients].at(-1) as unknown as { _socket: Socket };
    const big = "é".repeat(100);
    peer._socket.write(
      Buffer.concat([
        textFrame("<a/>"),
        textFrame(big),
        Buffer.from([0x89, 2, 0x68, 0x69]), // ping "hi"
        textFrame("<b/>"),
        Buffer.from([0x01, 2, 0x3c, 0x63]), // "<c" (a first fragment)
        Buffer.from([0x80, 2, 0x2f, 0x3e]), // "/>" (the last)
        Buffer.from([0x82, 1, 0x78]), // binary "x"
      ]),
    );
    await ping; // ws has it (and answers it, RFC 6455 §5.5.2)
    await until(() => got.length >= 5);
    expect(got).toEqual(["text <a/>", `text ${big}`, "text <b/>", "text <c/>", "binary x"]);
    ws.close(1000);
    await once(ws, "close");
  });

  it("a masked frame from the server goes to ws, which fails the connection (RFC 6455 §5.1)", async () => {
    const { ws, fast, log } = await connect();
    const got: string[] = [];
    fast.onMessage((bytes) => got.push(Buffer.from(bytes).toString()));
    const errors: Error[] = [];
    ws.on("error", (e) => errors.push(e));
    const closed = new Promise<number>((r) => ws.on("close", (code: number) => r(code)));
    const peer = [...server.clients].at(-1) as unknown as { _socket: Socket };
    peer._socket.write(Buffer.from([0x81, 0x84, 0, 0, 0, 0, 0x3c, 0x61, 0x2f, 0x3e]));
    await closed;
    expect(errors.map((e) => e.message)).toEqual(["Invalid WebSocket frame: MASK must be clear"]);
    await until(() => log().length > 0);
    expect(log()).toEqual(["close 1002"]); // ws's close frame: protocol error
    expect(got).toEqual([]);
  });
});
