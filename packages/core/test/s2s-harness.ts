// Test harness for server-to-server sessions: links of an initiating and a receiving session over
// in-memory pipes, TLS simulated (the adapter's verified peer identities are given per link), the
// receiving server's questions answered by callbacks. Deterministic.
import type { ClientEvent, ServerEvent, TlsInfo } from "../src/index.js";
import { S2SInitiatorSession, type S2SInitiatorOptions, S2SReceiverSession, type S2SReceiverOptions } from "../src/index.js";
import { seededRandom } from "./harness.js";

export interface LinkOptions {
  initiator: S2SInitiatorOptions;
  receiver?: S2SReceiverOptions;
  /** Domains the receiving server serves (host-check). */
  serves: readonly string[];
  /** What the receiving side's adapter verified of the initiator's certificate. */
  peerIdentities?: readonly string[];
  peerCertIdentities?: TlsInfo["peerCertIdentities"];
  /** Receiving side: a dialback request to answer (default: never answered). */
  onDialbackRequest?: (ev: Extract<ServerEvent, { type: "dialback-result-request" }>, link: Link) => void;
  /** Initiator side: every event. */
  onInitiatorEvent?: (ev: ClientEvent, link: Link) => void;
  chunks?: { i2r?: readonly number[]; r2i?: readonly number[] };
  mutate?: (dir: "i2r" | "r2i", bytes: Uint8Array, index: number) => Uint8Array | undefined;
  seed?: number;
}

export interface Link {
  readonly initiator: S2SInitiatorSession;
  readonly receiver: S2SReceiverSession;
  readonly initiatorEvents: ClientEvent[];
  readonly receiverEvents: ServerEvent[];
  /** Moves bytes and events once; true when something moved. */
  step(): boolean;
}

export function makeLink(opts: LinkOptions): Link {
  const seed = opts.seed ?? 3;
  const initiator = new S2SInitiatorSession({ random: seededRandom(seed), ...opts.initiator });
  const receiver = new S2SReceiverSession({ random: seededRandom(seed + 100), ...opts.receiver });
  const i2r: Uint8Array[] = [];
  const r2i: Uint8Array[] = [];
  let i2rIndex = 0;
  let r2iIndex = 0;
  const link: Link = { initiator, receiver, initiatorEvents: [], receiverEvents: [], step };
  const tlsReceiver: TlsInfo = {
    channelBinding: {},
    ...(opts.peerIdentities === undefined ? {} : { peerIdentities: opts.peerIdentities }),
    ...(opts.peerCertIdentities === undefined ? {} : { peerCertIdentities: opts.peerCertIdentities }),
  };

  function deliver(queue: Uint8Array[], to: S2SInitiatorSession | S2SReceiverSession, sizes: readonly number[] | undefined, dir: "i2r" | "r2i"): boolean {
    if (queue.length === 0) return false;
    let bytes = queue.shift()!;
    if (opts.mutate) {
      const m = opts.mutate(dir, bytes, dir === "i2r" ? i2rIndex++ : r2iIndex++);
      if (m === undefined) return true;
      bytes = m;
    }
    if (to.state === "tls-handshake" || to.state === "closed") return true;
    if (sizes === undefined || sizes.length === 0) {
      to.receive(bytes, 0);
      return true;
    }
    let off = 0;
    let k = 0;
    while (off < bytes.length) {
      const n = Math.max(1, sizes[k++ % sizes.length]!);
      to.receive(bytes.subarray(off, off + n), 0);
      off += n;
      if ((to.state as string) === "tls-handshake" || (to.state as string) === "closed") break;
    }
    return true;
  }

  function step(): boolean {
    let moved = false;
    for (let out = initiator.pollTransmit(); out; out = initiator.pollTransmit()) {
      i2r.push(out);
      moved = true;
    }
    for (let out = receiver.pollTransmit(); out; out = receiver.pollTransmit()) {
      r2i.push(out);
      moved = true;
    }
    for (let ev = receiver.pollEvent(); ev; ev = receiver.pollEvent()) {
      link.receiverEvents.push(ev);
      moved = true;
      if (ev.type === "host-check") receiver.answerHost(opts.serves.includes(ev.domain));
      else if (ev.type === "starttls") receiver.tlsEstablished(tlsReceiver, 0);
      else if (ev.type === "dialback-result-request") opts.onDialbackRequest?.(ev, link);
    }
    for (let ev = initiator.pollEvent(); ev; ev = initiator.pollEvent()) {
      link.initiatorEvents.push(ev);
      moved = true;
      if (ev.type === "starttls") initiator.tlsEstablished({ channelBinding: {} }, 0);
      opts.onInitiatorEvent?.(ev, link);
    }
    if (deliver(i2r, receiver, opts.chunks?.i2r, "i2r")) moved = true;
    if (deliver(r2i, initiator, opts.chunks?.r2i, "r2i")) moved = true;
    return moved;
  }

  return link;
}

/** Steps every link until nothing moves (or `maxSteps`); returns the steps taken. */
export function runLinks(links: readonly Link[], maxSteps = 20_000): number {
  let steps = 0;
  for (; steps < maxSteps; steps++) {
    let moved = false;
    for (const l of links) if (l.step()) moved = true;
    if (!moved) break;
  }
  return steps;
}
