// Replay of the RFC 6120 §9.1 client-to-server session (juliet@im.example.com, SCRAM-SHA-1, bind
// "balcony"). The protocol lines come from RFC 6120 §9.1 (../shared/spec holds a Chinese translation whose
// base64 lines were garbled in transcription; the values here decode to the messages the RFC documents,
// see packages/sasl/test/vectors.test.ts). The client core runs with the RFC's client nonce; its output is
// compared structurally (names, namespaces, attributes, text), not byte for byte.
import { base64Decode } from "@xmpp-sansio/sasl";
import { type ParseEvent, StreamParser, type XmlElement } from "@xmpp-sansio/xml";
import { describe, expect, it } from "vitest";
import { ClientSession, type ClientEvent } from "../src/index.js";
import { enc, seededRandom } from "./harness.js";

const NONCE = base64Decode("oMsTAAwAAAAMAAAANP0TAAAAAABPU0AA")!;
const STREAM_NS = "http://etherx.jabber.org/streams";

function rfcRandom(): (bytes: Uint8Array) => void {
  const other = seededRandom(3);
  return (bytes) => {
    if (bytes.length === NONCE.length) bytes.set(NONCE);
    else other(bytes);
  };
}

const S_HEADER = (id: string) =>
  `<stream:stream from='im.example.com' id='${id}' to='juliet@im.example.com' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;
const S_FEATURES_TLS = `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>`;
const S_PROCEED = `<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`;
const S_FEATURES_SASL = `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1-PLUS</mechanism><mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism></mechanisms></stream:features>`;
const S_CHALLENGE = `<challenge xmlns="urn:ietf:params:xml:ns:xmpp-sasl">cj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQWUxMjQ2OTViLTY5YTktNGRlNi05YzMwLWI1MWIzODA4YzU5ZSxzPU5qaGtZVE0wTURndE5HWTBaaTAwTmpkbUxUa3hNbVV0TkRsbU5UTm1ORE5rTURNeixpPTQwOTY=</challenge>`;
const S_SUCCESS = `<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>dj1wTk5ERlZFUXh1WHhDb1NFaVc4R0VaKzFSU289</success>`;
const S_FEATURES_BIND = `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`;
const S_BIND_RESULT = (id: string) =>
  `<iq id='${id}' type='result'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>
      juliet@im.example.com/balcony
    </jid></bind></iq>`;
const C_AUTH = "biwsbj1qdWxpZXQscj1vTXNUQUF3QUFBQU1BQUFBTlAwVEFBQUFBQUJQVTBBQQ==";
const C_RESPONSE =
  "Yz1iaXdzLHI9b01zVEFBd0FBQUFNQUFBQU5QMFRBQUFBQUFCUFUwQUFlMTI0Njk1Yi02OWE5LTRkZTYtOWMzMC1iNTFiMzgwOGM1OWUscD1VQTU3dE0vU3ZwQVRCa0gyRlhzMFdEWHZKWXc9";

/** Reads what the client wrote, as parse events of one stream (a new parser per stream). */
class Wire {
  private parser = new StreamParser();
  constructor(private readonly c: ClientSession) {}
  restart(): void {
    this.parser = new StreamParser();
  }
  take(): ParseEvent[] {
    for (let out = this.c.pollTransmit(); out; out = this.c.pollTransmit()) this.parser.push(out);
    const evs: ParseEvent[] = [];
    for (let ev = this.parser.next(); ev; ev = this.parser.next()) evs.push(ev);
    return evs;
  }
}

function events(c: ClientSession): ClientEvent[] {
  const out: ClientEvent[] = [];
  for (let ev = c.pollEvent(); ev; ev = c.pollEvent()) out.push(ev);
  return out;
}

function expectHeader(evs: ParseEvent[]): void {
  expect(evs).toHaveLength(1);
  const ev = evs[0]!;
  expect(ev.kind).toBe("stream-open");
  if (ev.kind !== "stream-open") return;
  expect(ev.element.name).toBe("stream");
  expect(ev.element.ns).toBe(STREAM_NS);
  expect(ev.prefix).toBe("stream");
  expect(ev.namespaces.get("")).toBe("jabber:client");
  expect(ev.namespaces.get("stream")).toBe(STREAM_NS);
  expect(ev.element.attrsObject()).toEqual({ from: "juliet@im.example.com", to: "im.example.com", version: "1.0" });
  expect(ev.element.attr("xml:lang")).toBe("en");
}

function onlyElement(evs: ParseEvent[]): XmlElement {
  expect(evs.map((e) => e.kind)).toEqual(["element"]);
  return (evs[0] as { element: XmlElement }).element;
}

describe("RFC 6120 §9.1 replay (client core)", () => {
  it("produces the documented steps and ends online as juliet@im.example.com/balcony", () => {
    const c = new ClientSession({ jid: "juliet@im.example.com/balcony", password: "r0m30myr0m30", random: rfcRandom() });
    const wire = new Wire(c);
    // Step 1: the initial stream header.
    c.start(0);
    expectHeader(wire.take());
    // Steps 2–3: server header + STARTTLS required.
    c.receive(enc(S_HEADER("t7AMCin9zjMNwQKDnplntZPIDEI=") + S_FEATURES_TLS), 1);
    expect(events(c)).toEqual([
      { type: "stream-opened", header: { from: "im.example.com", id: "t7AMCin9zjMNwQKDnplntZPIDEI=", to: "juliet@im.example.com", version: "1.0", lang: "en" } },
    ]);
    // Step 4: <starttls/>.
    const starttls = onlyElement(wire.take());
    expect([starttls.name, starttls.ns, starttls.children.length]).toEqual(["starttls", "urn:ietf:params:xml:ns:xmpp-tls", 0]);
    // Step 5: <proceed/> → hand-over.
    c.receive(enc(S_PROCEED), 2);
    expect(events(c)).toEqual([{ type: "starttls", tlsBytes: new Uint8Array(0) }]);
    expect(c.state).toBe("tls-handshake");
    // Steps 6–7: TLS up (no channel binding data: the RFC's client sends gs2 flag 'n'), new stream.
    c.tlsEstablished({ channelBinding: {} }, 3);
    wire.restart();
    expectHeader(wire.take());
    // Step 8: header + mechanisms.
    c.receive(enc(S_HEADER("vgKi/bkYME8OAj4rlXMkpucAqe4=") + S_FEATURES_SASL), 4);
    expect(events(c).map((e) => e.type)).toEqual(["stream-opened"]);
    // Step 9: <auth mechanism='SCRAM-SHA-1'> with the RFC's exact initial response.
    const auth = onlyElement(wire.take());
    expect([auth.name, auth.ns, auth.attr("mechanism"), auth.text()]).toEqual(["auth", "urn:ietf:params:xml:ns:xmpp-sasl", "SCRAM-SHA-1", C_AUTH]);
    // Steps 10–11: challenge → response, exactly the RFC's.
    c.receive(enc(S_CHALLENGE), 5);
    const response = onlyElement(wire.take());
    expect([response.name, response.ns, response.text()]).toEqual(["response", "urn:ietf:params:xml:ns:xmpp-sasl", C_RESPONSE]);
    // Step 12: success with v= (verified), step 13: the client restarts the stream.
    c.receive(enc(S_SUCCESS), 6);
    expect(events(c)).toEqual([{ type: "authenticated", mechanism: "SCRAM-SHA-1" }]);
    wire.restart();
    expectHeader(wire.take());
    // Steps 14–15: bind feature → bind request for 'balcony'.
    c.receive(enc(S_HEADER("gPybzaOzBmaADgxKXu9UClbprp0=") + S_FEATURES_BIND), 7);
    const iq = onlyElement(wire.take());
    expect([iq.name, iq.ns, iq.attr("type")]).toEqual(["iq", "jabber:client", "set"]);
    const id = iq.attr("id")!;
    expect(id.length).toBeGreaterThan(0);
    const bind = iq.getChild("bind", "urn:ietf:params:xml:ns:xmpp-bind")!;
    expect(bind.getChildText("resource")).toBe("balcony");
    // Step 16: the result (with whitespace around the JID, as the RFC shows it).
    c.receive(enc(S_BIND_RESULT(id)), 8);
    const online = events(c);
    expect(online.map((e) => e.type)).toEqual(["stream-opened", "online"]);
    expect(c.state).toBe("online");
    expect(c.jid.toString()).toBe("juliet@im.example.com/balcony");

    // Stanza exchange.
    c.send(rfcMessage());
    const sent = onlyElement(wire.take());
    expect(sent.attrsObject()).toEqual({ from: "juliet@im.example.com/balcony", id: "ju2ba41c", to: "romeo@example.net", type: "chat" });
    expect(sent.getChildText("body")).toBe("Art thou not Romeo, and a Montague?");
    c.receive(
      enc(
        "<message from='romeo@example.net/orchard' id='ju2ba41c' to='juliet@im.example.com/balcony' type='chat' xml:lang='en'><body>Neither, fair saint, if either thee dislike.</body></message>",
      ),
      9,
    );
    const [incoming] = events(c);
    expect(incoming?.type).toBe("stanza");
    if (incoming?.type === "stanza") expect(incoming.stanza.getChildText("body")).toBe("Neither, fair saint, if either thee dislike.");

    // Close: </stream:stream>, the server answers in kind.
    c.close(10);
    expect(wire.take().map((e) => e.kind)).toEqual(["stream-close"]);
    c.receive(enc("</stream:stream>"), 11);
    expect(events(c)).toEqual([{ type: "closed", reason: "closed" }]);
  });

  it("performs legacy session establishment when the server does not mark it optional (RFC 3921 §3)", () => {
    const c = new ClientSession({ jid: "juliet@im.example.com/balcony", password: "r0m30myr0m30", random: rfcRandom(), tls: "none" });
    const wire = new Wire(c);
    c.start(0);
    wire.take();
    c.receive(enc(S_HEADER("a") + S_FEATURES_SASL), 1);
    wire.take();
    c.receive(enc(S_CHALLENGE), 2);
    wire.take();
    c.receive(enc(S_SUCCESS), 3);
    wire.restart();
    wire.take();
    c.receive(
      enc(`${S_HEADER("b")}<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></stream:features>`),
      4,
    );
    const bindId = onlyElement(wire.take()).attr("id")!;
    c.receive(enc(S_BIND_RESULT(bindId)), 5);
    const session = onlyElement(wire.take());
    expect(session.getChild("session", "urn:ietf:params:xml:ns:xmpp-session")).toBeDefined();
    expect(c.state).toBe("negotiating");
    c.receive(enc(`<iq type='result' id='${session.attr("id")}'/>`), 6);
    expect(c.state).toBe("online");
  });
});

/** The RFC's first message, parsed from its text. */
function rfcMessage(): XmlElement {
  {
    const p = new StreamParser({ framing: "fragments" });
    p.push(
      enc(
        "<message xmlns='jabber:client' from='juliet@im.example.com/balcony' id='ju2ba41c' to='romeo@example.net' type='chat' xml:lang='en'><body>Art thou not Romeo, and a Montague?</body></message>",
      ),
    );
    const ev = p.next();
    if (ev?.kind !== "element") throw new Error("parse");
    return ev.element;
  }
}
