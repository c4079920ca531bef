// Small drivers for the pre-authentication features (XEP-0077, XEP-0078): a ServerSession fed raw XML
// (to check the seed's exact shapes), and a loop over the harness pair that answers the features'
// questions from the harness's account table.
import {
  iqAuthRequestOf,
  iqAuthServer,
  registerRequestOf,
  registerServer,
  type RegisterAnswer,
  type ServerEvent,
  type ServerOptions,
  ServerSession,
  verifyIqAuthDigest,
} from "../src/index.js";
import type { ServerExtraOptions } from "../src/session-server.js";
import { ACCOUNTS, dec, enc, type Pair, seededRandom } from "./harness.js";

export const SEED_DOMAIN = "capulet.com";
/** The seed's stream header (use case 7.1 step 1), with the `version='1.0'` RFC 6120 requires (§4.7.5). */
export const SEED_HEADER = `<stream:stream to='${SEED_DOMAIN}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`;

export interface RawServer {
  server: ServerSession;
  events: ServerEvent[];
  /** Feeds XML, answers host-check, collects output. */
  send(xml: string): void;
  /** Collects what is pending (after an answer). */
  pump(): void;
  /** The output since the last call. */
  take(): string;
}

/** A server over TLS (Direct TLS) or in the clear (`tls: "none"`), fed raw XML. */
export function rawServer(options: ServerOptions & ServerExtraOptions, secure = true): RawServer {
  const server = new ServerSession({ random: seededRandom(3), tls: secure ? "direct" : "none", ...options });
  if (secure) server.tlsEstablished({ channelBinding: {} }, 0);
  const events: ServerEvent[] = [];
  let out = "";
  const pump = (): void => {
    for (let ev = server.pollEvent(); ev; ev = server.pollEvent()) {
      events.push(ev);
      if (ev.type === "host-check") server.answerHost(ev.domain === SEED_DOMAIN);
    }
    for (let o = server.pollTransmit(); o; o = server.pollTransmit()) out += dec(o);
  };
  return {
    server,
    events,
    send(xml) {
      server.receive(enc(xml), 0);
      pump();
    },
    pump,
    take() {
      const r = out;
      out = "";
      return r;
    },
  };
}

/** How the test application answers registration and iq:auth questions. */
export interface Answers {
  register?: (req: NonNullable<ReturnType<typeof registerRequestOf>>) => RegisterAnswer;
  /** Default: verify against ACCOUNTS (password or digest), accept. */
  iqAuth?: (req: NonNullable<ReturnType<typeof iqAuthRequestOf>>) => Parameters<NonNullable<ReturnType<typeof iqAuthServer>>["answer"]>[0];
}

/** The harness's default registration policy: a new account is created in ACCOUNTS, an existing one is a conflict. */
export function defaultRegister(req: NonNullable<ReturnType<typeof registerRequestOf>>): RegisterAnswer {
  if (req.action === "register") {
    if (ACCOUNTS.has(req.username)) return { refuse: "conflict", text: "the username is taken" };
    ACCOUNTS.set(req.username, { password: req.password });
    return { ok: true };
  }
  if (req.action === "change-password") ACCOUNTS.set(req.username, { password: req.password });
  else ACCOUNTS.delete(req.username);
  return { ok: true };
}

/** The harness's default iq:auth check against ACCOUNTS. */
export function defaultIqAuth(req: NonNullable<ReturnType<typeof iqAuthRequestOf>>): Parameters<NonNullable<ReturnType<typeof iqAuthServer>>["answer"]>[0] {
  const acct = ACCOUNTS.get(req.username);
  const ok = acct !== undefined && ("digest" in req ? verifyIqAuthDigest(req.streamId, acct.password, req.digest) : acct.password === req.password);
  return ok ? { accept: true } : { refuse: "not-authorized", text: "unknown user or wrong credentials" };
}

/** Runs the pair, answering the features' questions, until nothing moves. */
export function drive(pair: Pair, answers: Answers = {}): void {
  let seen = SEEN.get(pair) ?? 0;
  for (let round = 0; round < 100; round++) {
    pair.run();
    let answered = false;
    for (; seen < pair.serverEvents.length; seen++) {
      const ev = pair.serverEvents[seen]!;
      const reg = registerRequestOf(ev);
      if (reg !== undefined) {
        registerServer(pair.server)!.answer((answers.register ?? defaultRegister)(reg));
        answered = true;
      }
      const auth = iqAuthRequestOf(ev);
      if (auth !== undefined) {
        iqAuthServer(pair.server)!.answer((answers.iqAuth ?? defaultIqAuth)(auth));
        answered = true;
      }
    }
    SEEN.set(pair, seen);
    if (!answered) return;
  }
}

/** Server events of each pair already looked at (a pair is driven again after timers run). */
const SEEN = new WeakMap<Pair, number>();
