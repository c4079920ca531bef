// Reconnection as a part: a LeanClientLifecycle without `parts.reconnect` does not reconnect after a lost
// connection, but still follows a see-other-host (RFC 6120 §4.9.3.19) or see-other-uri (RFC 7395 §3.7)
// redirect at once, a bounded number of times in a row; with the part (and in ClientLifecycle) it backs off.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ClientLifecycle,
  type ClientLifecycleOptions,
  DEFAULT_CLIENT_PARTS,
  LeanClientLifecycle,
  type LifecycleEvent,
  reconnectClientPart,
  sha256Hash,
  streamFraming,
  webSocketFraming,
} from "../src/index.js";
import { fuzz } from "../../../test-support/fuzz.js";

const enc = (s: string) => new TextEncoder().encode(s);
const HEADER = "<stream:stream from='example.com' id='x1' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
const SEE_OTHER_HOST = `${HEADER}<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>alt.example.com:5222</see-other-host></stream:error></stream:stream>`;
const SEE_OTHER_URI = "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://alt.example.com/ws'/>";
const WS_OPEN = "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' from='example.com' id='x1' version='1.0' xml:lang='en'/>";
const wsError = (inner: string) => `<stream:error xmlns:stream='http://etherx.jabber.org/streams'>${inner}</stream:error>`;
const RESET = `${HEADER}<stream:error><reset xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>`;

function lean(over: Partial<ClientLifecycleOptions> = {}, parts: object = {}, framing: typeof streamFraming | typeof webSocketFraming = streamFraming): LeanClientLifecycle {
  return new LeanClientLifecycle({
    session: { jid: "juliet@example.com", password: "x", tls: "none", framing, parts: { hashes: [sha256Hash], ...parts } },
    ...over,
  });
}

function drain(life: LeanClientLifecycle): LifecycleEvent[] {
  const out: LifecycleEvent[] = [];
  for (let ev = life.pollEvent(); ev !== undefined; ev = life.pollEvent()) out.push(ev);
  while (life.pollTransmit() !== undefined) {
    // output has nowhere to go here
  }
  return out;
}

const own = (evs: LifecycleEvent[]) => evs.filter((e) => e.type === "connect" || e.type === "reconnecting" || e.type === "stopped");

/** Opens a connection after the pending `connect` event and ends it the way `how` says. */
function endConnection(life: LeanClientLifecycle, how: "see-other-host" | "see-other-uri" | "drop" | "stream-error" | "connect-failed", now: number, ws = false): void {
  if (how === "connect-failed") {
    life.connectFailed(now);
    return;
  }
  life.connected(now);
  drain(life);
  if (ws && (how === "see-other-host" || how === "stream-error")) {
    life.receiveMessage(WS_OPEN, false, now);
    const inner = how === "stream-error" ? "<reset xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>" : "<see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>alt.example.com</see-other-host>";
    life.receiveMessage(wsError(inner), false, now);
  } else if (how === "see-other-host") life.receive(enc(SEE_OTHER_HOST), now);
  else if (how === "see-other-uri") life.receiveMessage(SEE_OTHER_URI, false, now);
  else if (how === "stream-error") life.receive(enc(RESET), now);
  else life.transportClosed(now);
  if (life.sessionState !== "closed") life.transportClosed(now);
}

describe("LeanClientLifecycle without the reconnection part", () => {
  it("stops after a lost connection (no-reconnect)", () => {
    const life = lean();
    life.start(0);
    expect(drain(life)).toEqual([{ type: "connect", attempt: 0 }]);
    endConnection(life, "drop", 10);
    expect(own(drain(life))).toEqual([{ type: "stopped", reason: "no-reconnect" }]);
    expect(life.state).toBe("stopped");
    expect(life.nextTimeout()).toBeUndefined();
  });

  it("follows <see-other-host/> at once (RFC 6120 §4.9.3.19): reconnecting with delay 0, then connect", () => {
    const life = lean();
    life.start(0);
    drain(life);
    endConnection(life, "see-other-host", 5);
    expect(own(drain(life))).toEqual([{ type: "reconnecting", attempt: 1, delayMs: 0 }]);
    expect(life.state).toBe("backoff");
    expect(life.nextTimeout()).toBe(5);
    life.handleTimeout(5);
    expect(drain(life)).toEqual([{ type: "connect", attempt: 1 }]);
    // The redirected connection fails: nothing more to follow.
    life.connectFailed(6);
    expect(own(drain(life))).toEqual([{ type: "stopped", reason: "no-reconnect" }]);
  });

  it("follows <close see-other-uri/> over WebSocket (RFC 7395 §3.7) the same way", () => {
    const life = lean({}, {}, webSocketFraming);
    life.start(0);
    drain(life);
    endConnection(life, "see-other-uri", 5);
    expect(own(drain(life))).toEqual([{ type: "reconnecting", attempt: 1, delayMs: 0 }]);
  });

  it("a stream error other than see-other-host ends it", () => {
    const life = lean();
    life.start(0);
    drain(life);
    endConnection(life, "stream-error", 5);
    expect(own(drain(life))).toEqual([{ type: "stopped", reason: "no-reconnect" }]);
  });

  it("reconnect settings without the part: a TypeError naming reconnectClientPart; reconnect: false is fine", () => {
    expect(() => lean({ reconnect: { initialDelayMs: 5 } })).toThrow(/reconnectClientPart/);
    expect(() => lean({ reconnect: false })).not.toThrow();
  });

  it("property: only redirects are followed, at once, at most 5 in a row; anything else stops it", () => {
    const end = fc.constantFrom("see-other-host", "see-other-uri", "drop", "stream-error", "connect-failed") as fc.Arbitrary<Parameters<typeof endConnection>[1]>;
    fc.assert(
      fc.property(fc.array(end, { minLength: 1, maxLength: 12 }), (ends) => {
        const life = lean({}, {}, webSocketFraming);
        let now = 0;
        life.start(now);
        drain(life);
        let inARow = 0;
        for (const how of ends) {
          endConnection(life, how, ++now, true);
          const evs = own(drain(life));
          const redirect = how === "see-other-host" || how === "see-other-uri";
          if (!redirect || inARow >= 5) {
            expect(evs).toEqual([{ type: "stopped", reason: "no-reconnect" }]);
            expect(life.state).toBe("stopped");
            return;
          }
          inARow++;
          expect(evs).toEqual([{ type: "reconnecting", attempt: inARow, delayMs: 0 }]);
          expect(life.nextTimeout()).toBe(now);
          life.handleTimeout(now);
          expect(drain(life)).toEqual([{ type: "connect", attempt: inARow }]);
        }
        expect(life.state).toBe("connecting");
      }),
      fuzz(300),
    );
  });
});

describe("the reconnection part", () => {
  it("a lean lifecycle given it backs off like ClientLifecycle (1 s, 2 s, 4 s ceilings), redirects included", () => {
    const delays = (life: LeanClientLifecycle, how: Parameters<typeof endConnection>[1]) => {
      life.start(0);
      drain(life);
      const out: number[] = [];
      let now = 0;
      for (let i = 0; i < 3; i++) {
        endConnection(life, how, now);
        const r = own(drain(life))[0] as { type: string; delayMs: number };
        expect(r.type).toBe("reconnecting");
        out.push(r.delayMs);
        now = life.nextTimeout()!;
        life.handleTimeout(now);
        expect(drain(life)[0]).toMatchObject({ type: "connect" });
      }
      return out;
    };
    const random = () => 0.999;
    expect(delays(lean({ reconnect: { random } }, { reconnect: reconnectClientPart }), "drop")).toEqual([999, 1998, 3996]);
    expect(delays(lean({ reconnect: { random } }, { reconnect: reconnectClientPart }), "see-other-host")).toEqual([999, 1998, 3996]);
    const full = new ClientLifecycle({ session: { jid: "juliet@example.com", password: "x", tls: "none", framing: "stream" }, reconnect: { random } });
    expect(delays(full, "see-other-host")).toEqual([999, 1998, 3996]);
  });

  it("reconnect: false (ClientLifecycle too): no reconnection after a drop, but a redirect is followed at once", () => {
    const full = () => new ClientLifecycle({ session: { jid: "juliet@example.com", password: "x", tls: "none", framing: "stream" }, reconnect: false });
    const a = full();
    a.start(0);
    drain(a);
    endConnection(a, "see-other-host", 3);
    expect(own(drain(a))).toEqual([{ type: "reconnecting", attempt: 1, delayMs: 0 }]);
    const b = full();
    b.start(0);
    drain(b);
    endConnection(b, "drop", 3);
    expect(own(drain(b))).toEqual([{ type: "stopped", reason: "no-reconnect" }]);
  });

  it("is one of DEFAULT_CLIENT_PARTS", () => {
    expect(DEFAULT_CLIENT_PARTS.reconnect).toBe(reconnectClientPart);
  });
});
