// Test harness: a client core and a server core over an in-memory pipe, with the server's questions
// answered from an in-memory account table. Deterministic: randomness and time are injected.
import { deriveScramCredentials, pbkdf2, type ScramHash } from "@xmpp-sansio/sasl";
import {
  type ChannelBindingData,
  ClientSession,
  LeanClientSession,
  type ClientEvent,
  type ClientOptions,
  resolveResourceConflict,
  type ServerEvent,
  type ServerOptions,
  ServerSession,
} from "../src/index.js";
import { framingOf } from "../src/framings.js";
import type { ClientExtraOptions } from "../src/session-client.js";

export const DOMAIN = "im.example.com";
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A deterministic random source (xorshift32). */
export function seededRandom(seed = 1): (bytes: Uint8Array) => void {
  let x = seed >>> 0 || 1;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      bytes[i] = x & 0xff;
    }
  };
}

const SALT = enc("0123456789abcdef");
export const TEST_ITERATIONS = 64;
const credCache = new Map<string, ReturnType<typeof deriveScramCredentials>>();

/** Stored SCRAM credentials for a password (cached: PBKDF2 is the slow part). */
export function scramFor(hash: ScramHash, password: string, iterations = TEST_ITERATIONS) {
  const key = `${hash}\u0000${password}\u0000${iterations}`;
  let c = credCache.get(key);
  if (c === undefined) credCache.set(key, (c = deriveScramCredentials(hash, password, SALT, iterations)));
  return c;
}

export interface Account {
  password: string;
}

export const ACCOUNTS = new Map<string, Account>([
  ["juliet", { password: "r0m30myr0m30" }],
  ["romeo", { password: "s3cr3t" }],
]);

export interface PairOptions {
  client?: Partial<ClientOptions & ClientExtraOptions>;
  /** A LeanClientSession (only the parts in `client.parts`) instead of a ClientSession. */
  lean?: boolean;
  server?: Partial<ServerOptions>;
  /** The server's options object itself (shared between pairs: what sessions of one server share); `server` is then ignored. */
  serverOptions?: ServerOptions;
  /** Channel-binding data both sides see after the (simulated) TLS handshake. */
  channelBinding?: ChannelBindingData;
  /** Chunk sizes for each direction (cycled); default: whole writes. */
  chunks?: { c2s?: readonly number[]; s2c?: readonly number[] };
  /** Resources in use per account (for the conflict policy). */
  inUse?: Map<string, Set<string>>;
  iterations?: number;
  /** Directly mutate bytes in flight (fuzzing). */
  mutate?: (dir: "c2s" | "s2c", bytes: Uint8Array, index: number) => Uint8Array | undefined;
}

export interface Pair {
  client: ClientSession;
  server: ServerSession;
  clientEvents: ClientEvent[];
  serverEvents: ServerEvent[];
  /** Moves bytes and answers questions until nothing moves (or `maxSteps`). Returns the steps taken. */
  run(maxSteps?: number): number;
  now: number;
}

export const CB: ChannelBindingData = { "tls-exporter": enc("exporter-material-32-bytes-long!!"), "tls-unique": enc("finished-msg"), "tls-server-end-point": enc("cert-hash") };

/**
 * A pair from {@link makePair}, started and run until nothing moves; with `secureFirst`, both ends are
 * told first that TLS is up (with the test channel bindings).
 */
export function startPair(opts: PairOptions, secureFirst = true): Pair {
  const p = makePair(opts);
  if (secureFirst) {
    p.client.tlsEstablished({ channelBinding: CB }, 0);
    p.server.tlsEstablished({ channelBinding: CB }, 0);
  }
  p.client.start(0);
  p.server.start(0);
  p.run();
  return p;
}

export function makePair(opts: PairOptions = {}): Pair {
  const framing = framingOf(opts.client?.framing ?? opts.server?.framing).kind;
  const client: ClientSession = new (opts.lean === true ? LeanClientSession : ClientSession)({
    jid: "juliet@im.example.com/balcony",
    password: "r0m30myr0m30",
    random: seededRandom(7),
    minScramIterations: 1,
    // A lean session takes its framing as a value only.
    framing: opts.lean === true ? framingOf(framing) : framing,
    ...opts.client,
  } as ClientOptions & ClientExtraOptions);
  const server = new ServerSession(opts.serverOptions ?? { random: seededRandom(11), framing, ...opts.server });
  const clientEvents: ClientEvent[] = [];
  const serverEvents: ServerEvent[] = [];
  const inUse = opts.inUse ?? new Map<string, Set<string>>();
  const iterations = opts.iterations ?? TEST_ITERATIONS;
  const pair: Pair = { client, server, clientEvents, serverEvents, run, now: 0 };
  let tlsServer = false;
  let tlsClient = false;
  const c2s: Uint8Array[] = [];
  const s2c: Uint8Array[] = [];
  let c2sIndex = 0;
  let s2cIndex = 0;

  function deliver(queue: Uint8Array[], to: ClientSession | ServerSession, sizes: readonly number[] | undefined, dir: "c2s" | "s2c"): boolean {
    if (queue.length === 0) return false;
    let bytes = queue.shift()!;
    if (opts.mutate) {
      const idx = dir === "c2s" ? c2sIndex++ : s2cIndex++;
      const m = opts.mutate(dir, bytes, idx);
      if (m === undefined) return true; // dropped
      bytes = m;
    }
    if (to.state === "tls-handshake") return true; // TLS bytes: the simulated handshake ignores them
    if (framing === "websocket") {
      to.receiveMessage(bytes, false, pair.now);
      return true;
    }
    if (sizes === undefined || sizes.length === 0) {
      to.receive(bytes, pair.now);
      return true;
    }
    let off = 0;
    let k = 0;
    while (off < bytes.length) {
      const n = Math.max(1, sizes[k++ % sizes.length]!);
      to.receive(bytes.subarray(off, off + n), pair.now);
      off += n;
      if ((to.state as string) === "tls-handshake") break;
    }
    return true;
  }

  function answerServer(ev: ServerEvent): void {
    switch (ev.type) {
      case "host-check":
        server.answerHost(ev.domain === DOMAIN);
        return;
      case "scram-credentials": {
        const acct = ACCOUNTS.get(ev.username);
        const hash = ev.mechanism.replace(/^SCRAM-/, "").replace(/-PLUS$/, "") as ScramHash;
        server.answerScramCredentials(acct === undefined ? null : scramFor(hash, acct.password, iterations));
        return;
      }
      case "verify-password":
        server.answerPassword(ACCOUNTS.get(ev.username)?.password === ev.password);
        return;
      case "external-identity":
        server.answerExternal(ev.peerIdentities[0]?.split("@")[0] ?? null);
        return;
      case "bind-request": {
        const set = inUse.get(ev.username) ?? new Set<string>();
        const answer = resolveResourceConflict(ev.resource, set, "assign-new");
        if ("accept" in answer) {
          set.add(answer.accept);
          inUse.set(ev.username, set);
        }
        server.answerBind(answer);
        return;
      }
      case "starttls":
        tlsServer = true;
        server.tlsEstablished({ channelBinding: opts.channelBinding ?? {} }, pair.now);
        return;
      default:
    }
  }

  function run(maxSteps = 10_000): number {
    let steps = 0;
    for (; steps < maxSteps; steps++) {
      let moved = false;
      for (let out = client.pollTransmit(); out; out = client.pollTransmit()) {
        c2s.push(out);
        moved = true;
      }
      for (let out = server.pollTransmit(); out; out = server.pollTransmit()) {
        s2c.push(out);
        moved = true;
      }
      for (let ev = server.pollEvent(); ev; ev = server.pollEvent()) {
        serverEvents.push(ev);
        answerServer(ev);
        moved = true;
      }
      for (let ev = client.pollEvent(); ev; ev = client.pollEvent()) {
        clientEvents.push(ev);
        if (ev.type === "derive-key") client.supplyDerivedKey(pbkdf2(ev.hash, ev.password, ev.salt, ev.iterations));
        if (ev.type === "starttls") {
          tlsClient = true;
          client.tlsEstablished({ channelBinding: opts.channelBinding ?? {} }, pair.now);
        }
        moved = true;
      }
      if (deliver(c2s, server, opts.chunks?.c2s, "c2s")) moved = true;
      if (deliver(s2c, client, opts.chunks?.s2c, "s2c")) moved = true;
      if (!moved) break;
    }
    void tlsClient;
    void tlsServer;
    return steps;
  }

  return pair;
}
