// The text-frame fast path (src/server-frames.ts: the server's for client frames, the Node client's for
// server frames) against a byte stream of frames in any chunking: the plain text frames before the first
// frame of another kind come out as messages, and every byte from that frame on goes to `ws`'s listener,
// in order.
import { EventEmitter } from "node:events";
import type { Socket } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { takeOverTextFrames } from "../src/server-frames.js";

const MAX_PAYLOAD = 70_000;

/** One client frame (masked), RFC 6455 §5.2. */
function frame(opcode: number, payload: Uint8Array, opts: { fin?: boolean; masked?: boolean; rsv?: number; key?: number[]; wide?: boolean } = {}): Buffer {
  const n = payload.length;
  const masked = opts.masked ?? true;
  const head: number[] = [((opts.fin ?? true) ? 0x80 : 0) | ((opts.rsv ?? 0) << 4) | opcode];
  const m = masked ? 0x80 : 0;
  if (n < 126 && !opts.wide) head.push(m | n);
  else if (n < 65536 && !opts.wide) head.push(m | 126, n >> 8, n & 0xff);
  else head.push(m | 127, 0, 0, 0, 0, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  const key = opts.key ?? [0x12, 0x34, 0x56, 0x78];
  const body = Buffer.from(payload);
  if (masked) for (let i = 0; i < n; i++) body[i]! ^= key[i & 3]!;
  return Buffer.concat([Buffer.from(head), Buffer.from(masked ? key : []), body]);
}

/** A fake socket with `ws`'s data listener; what each side received. */
function harness(maxPayload = MAX_PAYLOAD, fromClient = true) {
  const socket = new EventEmitter();
  const toWs: Buffer[] = [];
  socket.on("data", function socketOnData(this: unknown, chunk: Buffer) {
    expect(this).toBe(socket);
    toWs.push(Buffer.from(chunk));
  });
  const messages: string[] = [];
  takeOverTextFrames(socket as unknown as Socket, maxPayload, (m) => messages.push(new TextDecoder().decode(m)), fromClient);
  return { feed: (chunk: Buffer) => socket.emit("data", chunk), messages, toWs: () => Buffer.concat(toWs) };
}

/**
 * Feeds the frames cut at `cuts`: the plain ones before the first other frame must come out as messages,
 * and every byte from that frame on must go to `ws`'s listener.
 */
function checkStream(items: ReadonlyArray<{ plain: boolean; text: string; bytes: Buffer }>, cuts: readonly number[], fromClient: boolean): void {
  const stream = Buffer.concat(items.map((i) => i.bytes));
  const first = items.findIndex((i) => !i.plain);
  const expected = (first < 0 ? items : items.slice(0, first)).map((i) => i.text);
  const handed = first < 0 ? Buffer.alloc(0) : Buffer.concat(items.slice(first).map((i) => i.bytes));
  const points = [...new Set([0, ...cuts.map((c) => c % (stream.length + 1)), stream.length])].sort((a, b) => a - b);
  const h = harness(MAX_PAYLOAD, fromClient);
  for (let k = 1; k < points.length; k++) h.feed(Buffer.from(stream.subarray(points[k - 1], points[k])));
  expect(h.messages).toEqual(expected);
  expect(h.toWs().equals(handed)).toBe(true);
}

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ minLength: 126, maxLength: 400 }),
  fc.constantFrom("", "<message xmlns='jabber:client'><body>☃ 𝄞</body></message>", "x".repeat(125), "y".repeat(126), "z".repeat(65_535)),
);
/** A frame the fast path takes (text, FIN, masked, length in 7 or 16 bits), or one it hands over. */
const item = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(text, fc.array(fc.nat(255), { minLength: 4, maxLength: 4 })).map(([s, key]) => ({ plain: true, text: s, bytes: frame(1, Buffer.from(s), { key }) })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      frame(9, Buffer.from("ping")), // ping
      frame(8, Buffer.from([0x03, 0xe8])), // close
      frame(2, Buffer.from("<a/>")), // binary
      frame(1, Buffer.from("<a"), { fin: false }), // a first fragment
      frame(0, Buffer.from("/>")), // a continuation
      frame(1, Buffer.from("<a/>"), { rsv: 4 }), // RSV1 (no extension was negotiated)
      frame(1, Buffer.from("<a/>"), { masked: false }), // unmasked: a protocol error from a client
      frame(1, Buffer.from("<a/>"), { wide: true }), // a 64-bit length
      frame(1, Buffer.alloc(MAX_PAYLOAD + 1, 0x20)), // over the limit
      frame(3, Buffer.from("?")), // a reserved opcode
    ).map((bytes) => ({ plain: false, text: "", bytes })),
  },
);

describe("takeOverTextFrames (the server's fast path for client text frames)", () => {
  it("any chunking: plain text frames become messages until the first other frame; from there every byte goes to ws", () => {
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 10 }), fc.array(fc.nat(), { maxLength: 8 }), (items, cuts) => {
        checkStream(items, cuts, true);
      }),
      fuzz(300),
    );
  });

  it("server frames (the Node client's side): unmasked text frames become messages; a masked one and any other go to ws", () => {
    const serverItem = fc.oneof(
      { weight: 8, arbitrary: text.map((s) => ({ plain: true, text: s, bytes: frame(1, Buffer.from(s), { masked: false }) })) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          frame(1, Buffer.from("<a/>")), // masked: a protocol error from a server
          frame(9, Buffer.from("ping"), { masked: false }),
          frame(8, Buffer.from([0x03, 0xe8]), { masked: false }),
          frame(2, Buffer.from("<a/>"), { masked: false }),
          frame(1, Buffer.from("<a"), { fin: false, masked: false }),
          frame(1, Buffer.from("<a/>"), { masked: false, wide: true }),
          frame(1, Buffer.alloc(MAX_PAYLOAD + 1, 0x20), { masked: false }),
        ).map((bytes) => ({ plain: false, text: "", bytes })),
      },
    );
    fc.assert(
      fc.property(fc.array(serverItem, { minLength: 1, maxLength: 10 }), fc.array(fc.nat(), { maxLength: 8 }), (items, cuts) => {
        checkStream(items, cuts, false);
      }),
      fuzz(300),
    );
  });

  it("a frame cut anywhere, even inside its header or masking key, comes out whole once complete", () => {
    const f = frame(1, Buffer.from("é".repeat(100)), { key: [1, 2, 3, 4] });
    for (let cut = 1; cut < f.length; cut++) {
      const h = harness();
      h.feed(Buffer.from(f.subarray(0, cut)));
      expect(h.messages).toEqual([]);
      h.feed(Buffer.from(f.subarray(cut)));
      expect(h.messages).toEqual(["é".repeat(100)]);
      expect(h.toWs().length).toBe(0);
    }
  });

  it("leaves the socket alone when its listeners are not ws's", () => {
    const socket = new EventEmitter();
    const seen: Buffer[] = [];
    socket.on("data", (c: Buffer) => seen.push(c));
    const messages: Uint8Array[] = [];
    takeOverTextFrames(socket as unknown as Socket, MAX_PAYLOAD, (m) => messages.push(m));
    socket.emit("data", frame(1, Buffer.from("<a/>")));
    expect(messages).toHaveLength(0);
    expect(seen).toHaveLength(1);
  });
});
