import { StreamParser, toXmlString, type XmlElement, xml } from "@xmpp-sansio/xml";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { isExpired, offlineDelivery, offlineEventNotification, stampOfflineStored } from "../src/offline.js";
import {
  buildEnvelope,
  buildExpire,
  buildMessageEvent,
  buildOob,
  buildRosterExchange,
  messageEventNotification,
  parseEncrypted,
  parseEnvelope,
  parseExpire,
  parseMessageEvent,
  parseOob,
  parseRosterExchange,
  parseSigned,
} from "../src/payloads.js";
import { parseStanzaError } from "@xmpp-sansio/core";
import { parseJid } from "@xmpp-sansio/jid";
import { buildVCard, classifyVCardIq, emptyVCard, parseVCard, type VCard, vcardGet, vcardResult, vcardSet } from "../src/vcard.js";

/** Parses one stanza from text the way the stream parser would inside a jabber:client stream. */
function parse(stanza: string): XmlElement {
  const p = new StreamParser();
  p.push(new TextEncoder().encode(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>${stanza}`));
  for (let e = p.next(); e !== undefined; e = p.next()) {
    if (e.kind === "element") return e.element;
    if (e.kind === "error") throw new Error(`parse error: ${JSON.stringify(e)}`);
  }
  throw new Error("no element");
}

/** Serializes and parses back (what a peer sees). */
function wire(el: XmlElement): XmlElement {
  return parse(toXmlString(el));
}

describe("the seed's jabber:x examples", () => {
  it("6.19 encrypted and 6.25 signed", () => {
    const m = parse(`<message from='juliet@capulet.com/balcony' to='romeo@montague.net/orchard'><body>This Message is Encrypted</body><x xmlns='jabber:x:encrypted'>
hQEOA7ucqu53AhlPEAP/ZbU6oPnRAbIcUxMK1XRVnkgZ/Agtq1tcTQuEZxbpZLl4
=fijN
</x></message>`);
    expect(parseEncrypted(m)).toBe("hQEOA7ucqu53AhlPEAP/ZbU6oPnRAbIcUxMK1XRVnkgZ/Agtq1tcTQuEZxbpZLl4\n=fijN");
    const p = parse(`<presence><show>away</show><status>be back later</status><x xmlns='jabber:x:signed'>
iD8DBQA6kasv0xpc2/POfPkRAnz0AJ9UEYYWWSReddIKk3AYMfTFtqQDJwCfbcLd
</x></presence>`);
    expect(parseSigned(p)).toBe("iD8DBQA6kasv0xpc2/POfPkRAnz0AJ9UEYYWWSReddIKk3AYMfTFtqQDJwCfbcLd");
    expect(parseSigned(m)).toBeUndefined();
  });

  it("6.20 envelope", () => {
    const m = parse(`<message><x xmlns='jabber:x:envelope'><to jid='romeo@heaven.org'>Romeo</to><forwardedby jid='root@heaven.org'>God</forwardedby><bogus jid='x@y'/></x></message>`);
    expect(parseEnvelope(m)).toEqual([
      { kind: "to", jid: "romeo@heaven.org", name: "Romeo" },
      { kind: "forwardedby", jid: "root@heaven.org", name: "God" },
    ]);
  });

  it("6.21 event: request, notification, and the client's answer to a request", () => {
    const req = parse(`<message from="juliet@capulet.com/balcony" to="romeo@montague.net/orchard" id="1001"><body>By whose direction</body><x xmlns="jabber:x:event"><composing/></x></message>`);
    expect(parseMessageEvent(req)).toEqual({ events: ["composing"] });
    const note = messageEventNotification(req, "composing")!;
    expect(note.attr("to")).toBe("juliet@capulet.com/balcony");
    expect(parseMessageEvent(wire(note))).toEqual({ events: ["composing"], id: "1001" });
    expect(messageEventNotification(req, "delivered")).toBeUndefined();
  });

  it("6.22 expire, 6.23 oob (several), 6.24 roster items", () => {
    expect(parseExpire(parse(`<message><x xmlns="jabber:x:expire" seconds="3600"/></message>`))).toEqual({ seconds: 3600 });
    expect(parseExpire(parse(`<message><x xmlns="jabber:x:expire" seconds="-1"/></message>`))).toBeUndefined();
    const oob = parse(`<message><x xmlns="jabber:x:oob"><url>http://denmark.com/act4/letter-1.html</url><desc>There's a letter for you sir</desc></x><x xmlns="jabber:x:oob"><url>http://x/2</url></x></message>`);
    expect(parseOob(oob)).toEqual([{ url: "http://denmark.com/act4/letter-1.html", desc: "There's a letter for you sir" }, { url: "http://x/2" }]);
    const roster = parse(`<message to="hamlet@denmark.com"><x xmlns="jabber:x:roster"><item jid="claudius@denmark.com" name="King"><group>Royalty</group></item><item jid="horatio@denmark.com" name="Horatio"><group>Friends</group></item><item jid="fortinbras@norway" name="Prince Fortinbras"/><item jid="bad@@jid"/></x></message>`);
    expect(parseRosterExchange(roster)).toEqual([
      { jid: "claudius@denmark.com", name: "King", groups: ["Royalty"] },
      { jid: "horatio@denmark.com", name: "Horatio", groups: ["Friends"] },
      { jid: "fortinbras@norway", name: "Prince Fortinbras", groups: [] },
    ]);
  });
});

const str = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => /^[\x20-\x7e]+$/.test(s) && s.trim() === s);
const jidArb = fc.constantFrom("a@example.com", "b@x.org", "example.net", "c@d.e/res");

describe("payload round trips through the wire", () => {
  it("envelope, event, expire, oob and roster exchange", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record(
            { kind: fc.constantFrom("to" as const, "cc" as const, "replyto" as const, "from" as const, "forwardedby" as const), jid: jidArb, name: str },
            { requiredKeys: ["kind", "jid"] },
          ), { maxLength: 5 }),
        fc.subarray(["offline", "delivered", "displayed", "composing"] as const),
        fc.option(str, { nil: undefined }),
        fc.nat({ max: 1e9 }),
        fc.array(fc.record({ url: str, desc: str }, { requiredKeys: ["url"] }), { maxLength: 3 }),
        fc.array(fc.record({ jid: jidArb, name: str, groups: fc.uniqueArray(str, { maxLength: 3 }) }, { requiredKeys: ["jid", "groups"] }), { maxLength: 4 }),
        (env, events, id, seconds, oobs, contacts) => {
          const strip = <T extends object>(o: T) => JSON.parse(JSON.stringify(o)) as T;
          expect(parseEnvelope(wire(buildEnvelope(env)))).toEqual(strip(env));
          expect(parseMessageEvent(wire(buildMessageEvent({ events, ...(id === undefined ? {} : { id }) })))).toEqual(
            strip({ events, id }),
          );
          expect(parseExpire(wire(buildExpire({ seconds })))).toEqual({ seconds });
          const m = xml("message", {}, ...oobs.map(buildOob));
          expect(parseOob(wire(m))).toEqual(strip(oobs));
          expect(parseRosterExchange(wire(buildRosterExchange(contacts)))).toEqual(strip(contacts));
        },
      ),
      fuzz(200),
    );
  });
});

const vcardArb: fc.Arbitrary<VCard> = fc.record(
  {
    fn: str,
    n: fc.record({ family: str, given: str, middle: str, prefix: str, suffix: str }, { requiredKeys: [] }),
    nickname: str,
    url: str,
    bday: str,
    org: fc.record({ name: str, units: fc.array(str, { maxLength: 2 }) }, { requiredKeys: ["units"] }),
    title: str,
    role: str,
    tel: fc.array(fc.record({ types: fc.subarray(["HOME", "WORK", "VOICE", "CELL", "PREF"]), number: str }), { maxLength: 2 }),
    email: fc.array(fc.record({ types: fc.subarray(["HOME", "INTERNET", "PREF"]), userid: str }), { maxLength: 2 }),
    adr: fc.array(fc.record({ types: fc.subarray(["HOME", "WORK", "POSTAL"]), street: str, locality: str, ctry: str }, { requiredKeys: ["types"] }), { maxLength: 2 }),
    jabberId: str,
    desc: str,
    photo: fc.record({ type: str, binval: fc.base64String({ minLength: 4, maxLength: 20 }) }),
    extra: fc.constant([]),
  },
  { requiredKeys: ["tel", "email", "adr", "extra"] },
);

describe("vcard-temp (XEP-0054)", () => {
  it("parse ∘ build is the identity on the typed fields", () => {
    fc.assert(
      fc.property(vcardArb, (v) => {
        const back = parseVCard(wire(buildVCard(v)));
        expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      fuzz(200),
    );
  });

  it("reads the XEP's example fields, keeps unknown elements, and builds the get", () => {
    const v = parseVCard(
      parse(`<iq type='result'><vCard xmlns='vcard-temp'><FN>Peter Saint-Andre</FN><N><FAMILY>Saint-Andre</FAMILY><GIVEN>Peter</GIVEN><MIDDLE/></N><NICKNAME>stpeter</NICKNAME><TEL><WORK/><VOICE/><NUMBER>303-308-3282</NUMBER></TEL><EMAIL><INTERNET/><PREF/><USERID>stpeter@jabber.org</USERID></EMAIL><PHOTO><TYPE>image/png</TYPE><BINVAL>iVBO
Rw0K</BINVAL></PHOTO><GEO><LAT>39.59</LAT></GEO></vCard></iq>`),
    )!;
    expect(v.fn).toBe("Peter Saint-Andre");
    expect(v.n).toEqual({ family: "Saint-Andre", given: "Peter", middle: "" });
    expect(v.tel).toEqual([{ types: ["WORK", "VOICE"], number: "303-308-3282" }]);
    expect(v.email).toEqual([{ types: ["INTERNET", "PREF"], userid: "stpeter@jabber.org" }]);
    expect(v.photo).toEqual({ type: "image/png", binval: "iVBORw0K" });
    expect(v.extra.map((e) => e.name)).toEqual(["GEO"]);
    expect(buildVCard(v).getChild("GEO", "vcard-temp")?.getChildText("LAT", "vcard-temp")).toBe("39.59");
    expect(vcardGet("v1", "romeo@montague.net/orchard").attr("to")).toBe("romeo@montague.net");
    expect(parseVCard(xml("iq"))).toBeUndefined();
  });
});

describe("vcard-temp on the server", () => {
  const me = parseJid("juliet@capulet.com/balcony");
  it("classifies get (own, other's), set (own) and refuses a set for someone else", () => {
    expect(classifyVCardIq(vcardGet("1"), me)).toEqual({ kind: "get", of: "juliet@capulet.com" });
    expect(classifyVCardIq(vcardGet("2", "romeo@montague.net/orchard"), me)).toEqual({ kind: "get", of: "romeo@montague.net" });
    const set = classifyVCardIq(vcardSet("3", { ...emptyVCard(), fn: "Juliet" }), me);
    expect(set?.kind === "set" && parseVCard(set.vcard)?.fn).toBe("Juliet");
    const other = vcardSet("4", emptyVCard());
    other.setAttr("to", "romeo@montague.net");
    const refused = classifyVCardIq(other, me);
    expect(refused?.kind === "error" && parseStanzaError(refused.reply).condition).toBe("not-allowed");
    expect(refused?.kind === "error" && refused.reply.getChild("error")?.attr("code")).toBe("405");
    expect(classifyVCardIq(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:version" })), me)).toBeUndefined();
  });
  it("answers a get with the stored vCard or an empty one", () => {
    const get = vcardGet("5");
    get.setAttr("from", me.toString());
    expect(vcardResult(get, undefined).getChild("vCard", "vcard-temp")!.elements()).toHaveLength(0);
    expect(parseVCard(vcardResult(get, buildVCard({ ...emptyVCard(), nickname: "J" })))?.nickname).toBe("J");
  });
});

describe("offline semantics of jabber:x:event and jabber:x:expire", () => {
  const msg = (x?: XmlElement) =>
    xml("message", { from: "romeo@montague.net/orchard", to: "juliet@capulet.com/balcony", id: "m7" }, xml("body", {}, "hi"), x ?? null);

  it("offline event notification only when requested, with the message id, from the recipient's bare JID", () => {
    const n = offlineEventNotification(msg(buildMessageEvent({ events: ["offline", "delivered"] })))!;
    expect([n.attr("from"), n.attr("to")]).toEqual(["juliet@capulet.com", "romeo@montague.net/orchard"]);
    expect(parseMessageEvent(n)).toEqual({ events: ["offline"], id: "m7" });
    expect(offlineEventNotification(msg(buildMessageEvent({ events: ["delivered"] })))).toBeUndefined();
    expect(offlineEventNotification(msg(buildMessageEvent({ events: ["offline"], id: "m1" })))).toBeUndefined();
    expect(offlineEventNotification(msg())).toBeUndefined();
  });

  it("expiry: stamped when stored, dropped once expired, seconds rewritten to the time left, delay stamped", () => {
    const t0 = Date.UTC(2026, 11, 3, 8, 0, 0);
    const stored = stampOfflineStored(msg(buildExpire({ seconds: 3600 })), t0);
    expect(parseExpire(stored)).toEqual({ seconds: 3600, stored: t0 / 1000 });
    const later = offlineDelivery(stored, t0 + 1000 * 1000, t0, "capulet.com")!;
    expect(parseExpire(later)!.seconds).toBe(2600);
    expect(later.getChild("delay", "urn:xmpp:delay")!.attr("stamp")).toBe("2026-12-03T08:00:00Z");
    expect(isExpired(stored, t0 + 3599_000)).toBe(false);
    expect(isExpired(stored, t0 + 3600_000)).toBe(true);
    expect(offlineDelivery(stored, t0 + 3600_000, t0)).toBeUndefined();
    // no expiry: never expires, still gets the delay stamp
    const plain = offlineDelivery(msg(), t0 + 1e12, t0)!;
    expect(plain.getChild("delay", "urn:xmpp:delay")).toBeDefined();
  });

  it("the time left never grows and is gone exactly at stored + seconds", () => {
    fc.assert(
      fc.property(fc.nat({ max: 100_000 }), fc.nat({ max: 200_000_000 }), (seconds, elapsedMs) => {
        const t0 = 1_700_000_000_000;
        const s = stampOfflineStored(msg(buildExpire({ seconds })), t0);
        const d = offlineDelivery(s, t0 + elapsedMs, t0);
        if (elapsedMs >= seconds * 1000) expect(d).toBeUndefined();
        else {
          const left = parseExpire(d!)!.seconds;
          expect(left).toBeLessThanOrEqual(seconds);
          expect(left).toBeGreaterThanOrEqual(1);
        }
      }),
      fuzz(300),
    );
  });
});
