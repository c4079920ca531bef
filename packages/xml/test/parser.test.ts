import { describe, expect, it } from "vitest";
import {
  DEFAULT_XML_LIMITS,
  NS_CLIENT,
  NS_STREAMS,
  NS_XML,
  type ParseEvent,
  StreamParser,
  type XmlErrorCondition,
  serialize,
  type XmlElement,
} from "../src/index.js";
import {
  bytes,
  elements,
  HDR,
  lastError,
  parseBytewise,
  parseChunks,
  parseWhole,
  snapshots,
  split,
  stream,
} from "./helpers.js";

/** The single stanza of `stream(body)`, parsed whole and byte by byte (which must agree). */
function stanza(...parts: Array<string | number[]>): XmlElement {
  const input = stream(...parts);
  const whole = parseWhole(input);
  expect(lastError(whole)).toBeUndefined();
  expect(snapshots(parseBytewise(input))).toEqual(snapshots(whole));
  const els = elements(whole);
  expect(els).toHaveLength(1);
  return els[0]!;
}

function drain(parser: StreamParser): ParseEvent[] {
  const out: ParseEvent[] = [];
  for (let ev = parser.next(); ev !== undefined; ev = parser.next()) out.push(ev);
  return out;
}

describe("stream structure", () => {
  it("reports the stream header with its prefix and declarations, then stanzas, then the close", () => {
    const events = parseWhole(stream("<message to='a'/><presence/></stream:stream>"));
    expect(events.map((e) => e.kind)).toEqual(["stream-open", "element", "element", "stream-close"]);
    const open = events[0]!;
    if (open.kind !== "stream-open") throw new Error();
    expect(open.element.is("stream", NS_STREAMS)).toBe(true);
    expect(open.element.attr("to")).toBe("example.com");
    expect(open.element.attr("version")).toBe("1.0");
    expect(open.element.children).toEqual([]);
    expect(open.prefix).toBe("stream");
    expect([...open.namespaces]).toEqual([
      ["", NS_CLIENT],
      ["stream", NS_STREAMS],
    ]);
    const [message, presence] = elements(events);
    expect(message!.is("message", NS_CLIENT)).toBe(true);
    expect(presence!.is("presence", NS_CLIENT)).toBe(true);
  });

  it("matches by namespace, not prefix: <foo:message xmlns:foo='jabber:client'> is a message", () => {
    const el = stanza("<foo:message xmlns:foo='jabber:client' to='x'><foo:body>hi</foo:body></foo:message>");
    expect(el.is("message", NS_CLIENT)).toBe(true);
    expect(el.getChildText("body")).toBe("hi");
  });

  it("accepts a self-closing stream header as open then close", () => {
    const events = parseWhole(bytes(HDR.replace(/>$/, "/>")));
    expect(events.map((e) => e.kind)).toEqual(["stream-open", "stream-close"]);
    expect(lastError(parseWhole(bytes(HDR.replace(/>$/, "/>"), "<message/>")))?.condition).toBe("not-well-formed");
  });

  it("treats <stream:stream> nested inside a stanza as an ordinary element, never a restart", () => {
    const el = stanza("<message><stream:stream xmlns:stream='http://etherx.jabber.org/streams'><x/></stream:stream></message>");
    const inner = el.getChild("stream", NS_STREAMS)!;
    expect(inner).toBeDefined();
    expect(inner.getChild("x", NS_CLIENT)).toBeDefined();
    const events = parseWhole(stream("<message><stream:stream/></message><presence/>"));
    expect(events.map((e) => e.kind)).toEqual(["stream-open", "element", "element"]);
  });

  it("ignores whitespace keepalives between stanzas", () => {
    const input = stream(" \n\t\r\n ", "<message/>", "\n", " ", "<presence/>", "\r\n\r\n");
    const events = parseWhole(input);
    expect(events.map((e) => e.kind)).toEqual(["stream-open", "element", "element"]);
    expect(snapshots(parseBytewise(input))).toEqual(snapshots(events));
    // A keepalive arriving alone yields nothing and keeps nothing buffered.
    const parser = new StreamParser();
    parser.push(stream());
    drain(parser);
    parser.push(bytes(" "));
    expect(parser.next()).toBeUndefined();
    expect(parser.bufferedBytes).toBe(0);
  });

  it("accepts one byte-order mark at the start of a stream, not two; after reset() one again", () => {
    const bom = [0xef, 0xbb, 0xbf];
    for (const parse of [parseWhole, parseBytewise]) {
      expect(lastError(parse(bytes(bom, HDR, "<m/>")))).toBeUndefined();
      expect(lastError(parse(bytes(bom, "<?xml version='1.0'?>", HDR, "<m/>")))).toBeUndefined();
      const err = lastError(parse(bytes(bom, bom, HDR, "<m/>")));
      expect(err?.condition).toBe("not-well-formed");
      expect(err?.offset).toBe(3);
    }
    const p = new StreamParser();
    p.push(bytes(bom, HDR, "<success/>"));
    expect(drain(p).map((e) => e.kind)).toEqual(["stream-open", "element"]);
    p.reset();
    p.push(bytes(bom, HDR));
    expect(drain(p).map((e) => e.kind)).toEqual(["stream-open"]);
  });

  it("reports what is no XML character between stanzas as not-well-formed, as inside one; other text as bad-format", () => {
    // RFC 6120 §11.4 rule 2 (not well-formed → <not-well-formed/>, §4.9.3.13); §4.9.3.1 prefers it to <bad-format/>.
    for (const raw of [[0x01], [0x00], [0x1f], [0x0b], [0xc0, 0xaf], [0xff], [0xef, 0xbf, 0xbe], [0xed, 0xa0, 0x80]]) {
      for (const parse of [parseWhole, parseBytewise]) {
        const between = lastError(parse(stream("<m/>", raw, "<m/>")));
        const inside = lastError(parse(stream("<m>", raw, "</m>")));
        expect(between?.condition).toBe("not-well-formed");
        expect(inside?.condition).toBe("not-well-formed");
        expect(between?.offset).toBe(HDR.length + 4);
        expect(inside?.offset).toBe(HDR.length + 3);
      }
    }
    for (const raw of ["x", "\u00e9", "\u007f", "\ufeff", "\u{1F600}"]) {
      for (const parse of [parseWhole, parseBytewise]) expect(lastError(parse(stream("<m/>", raw, "<m/>")))?.condition).toBe("bad-format");
    }
  });

  it("accepts an XML declaration and a UTF-8 byte-order mark at the start", () => {
    const input = bytes([0xef, 0xbb, 0xbf], "<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n", HDR, "<message/>");
    expect(parseWhole(input).map((e) => e.kind)).toEqual(["stream-open", "element"]);
    expect(parseBytewise(input).map((e) => e.kind)).toEqual(["stream-open", "element"]);
    expect(parseWhole(bytes('<?xml version="1.0"?>', HDR)).map((e) => e.kind)).toEqual(["stream-open"]);
  });

  it("reports offsets in bytes since creation", () => {
    const parser = new StreamParser();
    parser.push(stream("<message/>"));
    drain(parser);
    expect(parser.offset).toBe(stream("<message/>").length);
    expect(parser.bufferedBytes).toBe(0);
  });
});

describe("idle parsers share the usual header state (stack, scope, stream binding)", () => {
  const kinds = (evs: ParseEvent[]) => evs.map((e) => (e.kind === "element" ? `${e.element.name}@${e.element.ns}` : e.kind === "error" ? `error ${e.error.condition}` : e.kind));
  for (const fastPath of [true, false]) {
    it(`one parser's elements, close, reset and trim never disturb another's (fastPath ${fastPath})`, () => {
      const a = new StreamParser({ fastPath });
      const b = new StreamParser({ fastPath });
      a.push(bytes(HDR));
      b.push(bytes(HDR));
      expect(kinds(drain(a))).toEqual(["stream-open"]);
      expect(kinds(drain(b))).toEqual(["stream-open"]);
      // Shared, not copies (and still intact after every test before this one in the file).
      const inner = (p: StreamParser) => p as unknown as { stack: unknown[]; bindings: string[]; scope: object };
      expect(inner(a).stack).toBe(inner(b).stack);
      expect(inner(a).bindings).toBe(inner(b).bindings);
      expect(inner(a).scope).toBe(inner(b).scope);
      // a: a nested element with a prefix of its own, trimmed, then the stream's end and a restart.
      a.push(bytes("<x:a xmlns:x='urn:x'><x:b/><c/></x:a>"));
      expect(kinds(drain(a))).toEqual(["a@urn:x"]);
      a.trim();
      b.trim();
      a.push(bytes("<stream:features/></stream:stream>"));
      expect(kinds(drain(a))).toEqual([`features@${NS_STREAMS}`, "stream-close"]);
      a.reset();
      a.push(bytes("<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' version='1.0'><db:result/><message/>"));
      expect(kinds(drain(a))).toEqual(["stream-open", "result@jabber:server:dialback", "message@jabber:server"]);
      a.trim();
      // b still has its stream: the default namespace, the stream prefix, its own end tag.
      b.push(bytes("<message><body>hi</body></message><stream:error/></stream:stream>"));
      expect(kinds(drain(b))).toEqual([`message@${NS_CLIENT}`, `error@${NS_STREAMS}`, "stream-close"]);
      // And a new parser after all that.
      const c = new StreamParser({ fastPath });
      c.push(bytes(HDR, "<iq type='get' id='1'><q xmlns='urn:q'/></iq></stream:stream>"));
      expect(kinds(drain(c))).toEqual(["stream-open", `iq@${NS_CLIENT}`, "stream-close"]);
      // A prefix the header did not declare is still unknown.
      const d = new StreamParser({ fastPath });
      d.push(bytes(HDR, "<db:result/>"));
      expect(kinds(drain(d))[1]).toMatch(/^error not-well-formed/);
    });
  }
});

describe("character data and attribute values", () => {
  it("normalises attribute values: literal TAB/LF/CR become spaces, character references stay", () => {
    const el = stanza("<message a='x\ty\nz\r\nw\rv' b='&#9;&#10;&#13;&#x9;' c=\"it's\" d='say \"hi\"'/>");
    expect(el.attr("a")).toBe("x y z w v");
    expect(el.attr("b")).toBe("\t\n\r\t");
    expect(el.attr("c")).toBe("it's");
    expect(el.attr("d")).toBe('say "hi"');
  });

  it("decodes the five predefined entities and character references", () => {
    const el = stanza("<message a='&lt;&gt;&amp;&apos;&quot;'><body>&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#x00063;</body></message>");
    expect(el.attr("a")).toBe("<>&'\"");
    expect(el.getChildText("body")).toBe("<>&'\"ABc");
  });

  it("normalises CRLF and lone CR to LF in text", () => {
    expect(stanza("<message><body>a\r\nb\rc\n\rd\r</body></message>").getChildText("body")).toBe("a\nb\nc\n\nd\n");
  });

  it("normalises a CR at the end of a chunk followed by LF in the next chunk", () => {
    const input = stream("<message><body>a\r", "\nb</body></message>");
    const cut = input.indexOf(0x0d) + 1;
    const { events } = parseChunks(split(input, [cut]));
    expect(elements(events)[0]!.getChildText("body")).toBe("a\nb");
  });

  it("does not let a CR at a chunk end swallow an LF after a following CDATA section", () => {
    // Regression: the pending CR was not cleared by a CDATA section, so the LF after it was dropped.
    const input = stream("<message><body>a\r", "<![CDATA[b]]>\nc</body></message>");
    const cut = input.indexOf(0x0d) + 1;
    const { events } = parseChunks(split(input, [cut]));
    expect(elements(events)[0]!.getChildText("body")).toBe("a\nb\nc");
  });

  it("decodes character references and raw characters beyond the BMP", () => {
    const el = stanza("<message a='&#x1F600;'><body>&#x1F600;&#128512;😀&#x10FFFF;</body></message>");
    expect(el.attr("a")).toBe("😀");
    expect(el.getChildText("body")).toBe("😀😀😀\u{10FFFF}");
  });

  it("keeps CDATA content literally and merges it with adjacent text", () => {
    const el = stanza("<message><body>x<![CDATA[<a>&amp;]]]]><![CDATA[>\r\n]]>y</body></message>");
    expect(el.getChildText("body")).toBe("x<a>&amp;]]>\ny");
    expect(el.getChild("body")!.children).toEqual(["x<a>&amp;]]>\ny"]);
  });

  it("keeps a leading U+FEFF inside text (content, not a byte-order mark)", () => {
    expect(stanza("<message><body>\uFEFFx</body></message>").getChildText("body")).toBe("\uFEFFx");
  });

  it("treats __proto__ and constructor as ordinary attribute names", () => {
    const el = stanza("<message __proto__='a' constructor='b' toString='c' hasOwnProperty='d'/>");
    expect(el.attr("__proto__")).toBe("a");
    expect(el.attr("constructor")).toBe("b");
    const obj = el.attrsObject();
    expect(Object.keys(obj)).toEqual(["__proto__", "constructor", "toString", "hasOwnProperty"]);
    expect(Object.getOwnPropertyDescriptor(obj, "__proto__")?.value).toBe("a");
    expect(Object.getPrototypeOf(obj)).toBeNull();
    expect(lastError(parseWhole(stream("<message __proto__='a' __proto__='b'/>")))?.condition).toBe("not-well-formed");
  });

  it("resolves xml:lang and prefixed attributes to namespaces", () => {
    const el = stanza("<message xml:lang='en' xmlns:p='urn:p' p:a='1' a='2'><body xmlns='' q='3'/></message>");
    expect(el.attr("lang", NS_XML)).toBe("en");
    expect(el.attr("xml:lang")).toBe("en");
    expect(el.attr("a", "urn:p")).toBe("1");
    expect(el.attr("a")).toBe("2");
    expect(el.attrCount).toBe(3);
    const body = el.firstElement()!;
    expect(body.ns).toBe("");
    expect(body.attr("q")).toBe("3");
  });

  it("resolves prefixes with many bindings in scope, shadowed and restored as elements end", () => {
    // Past eight bindings in scope the parser indexes them: the same answers as with a few.
    const outer = Array.from({ length: 12 }, (_, i) => ` xmlns:p${i}='urn:o${i}'`).join("");
    const inner = ` xmlns:p3='urn:i3' xmlns:p11='urn:i11'${Array.from({ length: 10 }, (_, i) => ` xmlns:q${i}='urn:q${i}'`).join("")}`;
    const el = stanza(`<m${outer}><p3:a${inner} p11:x='1' q9:y='2' p0:z='0'><p3:b/></p3:a><p3:c p11:x='3'/><q:d xmlns:q='urn:d'/><p3:e/></m>`);
    const [a, c, d, e] = el.elements();
    expect([a!.ns, a!.attr("x", "urn:i11"), a!.attr("y", "urn:q9"), a!.attr("z", "urn:o0"), a!.firstElement()!.ns]).toEqual(["urn:i3", "1", "2", "0", "urn:i3"]);
    expect([c!.ns, c!.attr("x", "urn:o11"), d!.ns, e!.ns]).toEqual(["urn:o3", "3", "urn:d", "urn:o3"]);
    // An inner element's declarations are gone once it ends, and nothing leaks into the next stanza.
    for (const body of [`<m${outer}><q0:a${inner}/><q0:b/></m>`, `<m${outer}><a${inner}></a><x q1:b='1'/></m>`, `<m${outer}/><p0:m/>`]) {
      for (const fastPath of [true, false]) {
        const err = lastError(parseWhole(stream(body), { fastPath }));
        expect(err?.condition).toBe("not-well-formed");
        expect(err?.text).toMatch(/undeclared namespace prefix '(q0|q1|p0)'/);
      }
    }
  });

  it("resolves 20,000 prefixed attributes on one element in linear time when the limits allow them", () => {
    const n = 20_000;
    let body = "<m";
    for (let i = 0; i < n; i++) body += ` xmlns:p${i}='urn:${i}' p${i}:a='${i}'`;
    body += "><p7:x p19999:b='z'/></m>";
    const limits = { maxStanzaBytes: 1e9, maxAttributes: 2 * n, maxBufferedBytes: 1e9 };
    const events = parseWhole(stream(body, "<m/>"), { limits });
    expect(lastError(events)).toBeUndefined();
    const [m, next] = elements(events);
    expect(m!.attrCount).toBe(n);
    expect(m!.attr("a", "urn:12345")).toBe("12345");
    expect([m!.firstElement()!.ns, m!.firstElement()!.attr("b", "urn:19999")]).toEqual(["urn:7", "z"]);
    expect(next!.ns).toBe(NS_CLIENT);
  });

  it("accepts end tags with whitespace before '>', non-ASCII names and prefixes", () => {
    const el = stanza("<message><body >a</body \t\r\n><p:x xmlns:p='urn:p'><\u00e9\u20ac>b</\u00e9\u20ac ></p:x></message >");
    expect(el.getChildText("body")).toBe("a");
    expect(el.getChild("x", "urn:p")!.getChildText("\u00e9\u20ac", NS_CLIENT)).toBe("b");
  });

  it("splits non-ASCII prefixed names at the colon, not at its byte offset", () => {
    const el = stanza("<message><\u00e9\u00e9:x xmlns:\u00e9\u00e9='urn:e' \u00e9\u00e9:\u20ac='1'/><a:\u00e9 xmlns:a='urn:a' a:\u00e9='2'/></message>");
    const x = el.getChild("x", "urn:e")!;
    expect(x.attr("\u20ac", "urn:e")).toBe("1");
    expect(el.getChild("\u00e9", "urn:a")!.attr("\u00e9", "urn:a")).toBe("2");
  });

  it("checks an end tag's name against the limit in force when it arrives", () => {
    const parser = new StreamParser();
    parser.push(stream("<message><abcdefgh>"));
    expect(drain(parser).map((e) => e.kind)).toEqual(["stream-open"]);
    parser.setLimits({ maxNameLength: 4 });
    parser.push(bytes("</abcdefgh>"));
    expect(lastError(drain(parser))?.condition).toBe("policy-violation");
  });

  it("decodes a multi-byte character split at every possible position", () => {
    for (const [ch, nameCh] of [
      ["é", "é"],
      ["€", "ᴀ"],
      ["😀", "😀"],
      ["\u{10FFFD}", "\u{EFFFF}"],
    ] as const) {
      const input = stream(`<m${nameCh} a${nameCh}='${ch}'><body>${ch}${ch}</body></m${nameCh}>`);
      const reference = snapshots(parseWhole(input));
      expect(lastError(parseWhole(input))).toBeUndefined();
      for (let cut = 1; cut < input.length; cut++) {
        expect(snapshots(parseChunks(split(input, [cut])).events)).toEqual(reference);
      }
      expect(snapshots(parseBytewise(input))).toEqual(reference);
    }
  });
});

describe("string slicing from the decoded buffer", () => {
  /** Pushes each chunk as a view at byte offset `shift` of a larger buffer, then drains events. */
  function parseShifted(chunks: readonly Uint8Array[], shift: number): ParseEvent[] {
    const parser = new StreamParser();
    const events: ParseEvent[] = [];
    for (const chunk of chunks) {
      const backing = new Uint8Array(chunk.length + shift + 5).fill(0xff); // bytes around the view are invalid UTF-8
      backing.set(chunk, shift);
      parser.push(backing.subarray(shift, shift + chunk.length));
      for (let ev = parser.next(); ev !== undefined; ev = parser.next()) events.push(ev);
    }
    return events;
  }

  // Runs of 1-, 2-, 3- and 4-byte characters of varied lengths, so that values start and end at every
  // position relative to 4-byte words and surrogate pairs shift UTF-16 indices.
  const pieces = ["a", "é", "€", "😀", "\u{10FFFD}", "0123456789abcdef", "ü😀ü", "€€€€€€€€", "xyz", "&amp;"];
  const plain = (s: string) => s.replaceAll("&amp;", "&");
  const cases: Array<{ attr: string; text: string; tail: string }> = [];
  for (let k = 0; k < 24; k++) {
    const at = (m: number) => pieces[(k * m + m) % pieces.length]!;
    cases.push({ attr: at(1) + at(3) + at(7) + "q".repeat(k % 5), text: at(5) + at(2) + at(9) + "t".repeat(k % 7), tail: at(k) });
  }
  const body = cases.map((c, k) => `<m id='${k}' a='${c.attr}'><b x='${c.tail}'>${c.text}</b>${c.tail}<e v='${c.attr}${c.tail}'/></m>`).join("");
  const input = stream(body);

  function check(events: readonly ParseEvent[]): void {
    expect(lastError(events)).toBeUndefined();
    const els = elements(events);
    expect(els).toHaveLength(cases.length);
    for (let k = 0; k < cases.length; k++) {
      const c = cases[k]!;
      const el = els[k]!;
      expect(el.attr("a")).toBe(plain(c.attr));
      expect(el.getChild("b")!.attr("x")).toBe(plain(c.tail));
      expect(el.getChildText("b")).toBe(plain(c.text));
      expect(el.text()).toBe(plain(c.tail));
      expect(el.getChild("e")!.attr("v")).toBe(plain(c.attr + c.tail));
    }
  }

  it("finds every special byte in an attribute value at any position and alignment (word-at-a-time scan)", () => {
    const filler = "abcdefghijklmnopqrstuvwxyz0123456789@./-";
    const specials: Array<[string | number[], string | XmlErrorCondition]> = [
      ["<", "not-well-formed"],
      ["&", "not-well-formed"],
      ["&amp;", "&"],
      ["&#x1F600;", "\u{1F600}"],
      [[0x01], "not-well-formed"],
      [[0x1f], "not-well-formed"],
      [[0x00], "not-well-formed"],
      [[0x80], "not-well-formed"],
      [[0xff], "not-well-formed"],
      [[0xc3, 0xa9], "\u00e9"],
      [[0xf0, 0x9f, 0x98, 0x80], "\u{1F600}"],
      ["\t", " "],
      ["\n", " "],
      ["\r\n", " "],
      ['"', '"'],
      [" ", " "],
      ["~", "~"],
      ["=", "="],
      [">", ">"],
    ];
    for (const [special, outcome] of specials) {
      for (let at = 0; at <= 24; at++) {
        const before = filler.slice(0, at);
        const after = filler.slice(at, 24 + (at % 5));
        const single = stream("<message to='", before, special, after, "'/>");
        const double = stream('<message to="', before, special === '"' ? "'" : special, after, '"/>');
        for (let shift = 0; shift < 8; shift++) {
          const events = parseShifted([shift < 4 ? single : double], shift & 3);
          const error = lastError(events);
          if (outcome === "not-well-formed") expect(error?.condition).toBe("not-well-formed");
          else {
            expect(error).toBeUndefined();
            expect(elements(events)[0]!.attr("to")).toBe(before + (shift >= 4 && outcome === '"' ? "'" : outcome) + after);
          }
        }
      }
    }
  });

  it("maps byte offsets to string offsets across 1–4-byte characters at any alignment", () => {
    for (let shift = 0; shift < 4; shift++) check(parseShifted([input], shift));
  });

  it("maps them the same way when a chunk boundary falls anywhere, inside characters included", () => {
    for (let cut = 1; cut < input.length; cut += 3) {
      check(parseShifted(split(input, [cut]), cut & 3));
      check(parseShifted(split(input, [cut, cut + 7, cut + 61]), (cut >> 2) & 3));
    }
  });

  it("maps them the same way byte by byte", () => {
    check(parseShifted(Array.from(input, (b) => Uint8Array.of(b)), 1));
  });
});

describe("restarts and the STARTTLS boundary", () => {
  it("reset() at the byte after </success> parses the next stream from the same chunk", () => {
    const next = `<?xml version='1.0'?>${HDR}<iq type='result' id='b'/>`;
    const input = stream("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", next);
    for (const chunks of [[input], split(input, [HDR.length + 10, input.length - 5])]) {
      const parser = new StreamParser();
      const events: ParseEvent[] = [];
      for (const chunk of chunks) {
        parser.push(chunk);
        for (let ev = parser.next(); ev !== undefined; ev = parser.next()) {
          events.push(ev);
          if (ev.kind === "element" && ev.element.name === "success") {
            if (chunks.length === 1) expect(parser.bufferedBytes).toBe(next.length);
            parser.reset();
          }
        }
      }
      expect(events.map((e) => e.kind)).toEqual(["stream-open", "element", "stream-open", "element"]);
      expect(elements(events)[1]!.attr("id")).toBe("b");
    }
  });

  it("without reset(), a second stream header is a nested element and a second XML declaration an error", () => {
    const events = parseWhole(stream("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>", `<?xml version='1.0'?>${HDR}`));
    expect(lastError(events)?.condition).toBe("not-well-formed");
  });

  it("takeUnparsed() returns exactly the bytes after <proceed/>, which are never parsed", () => {
    const tls = [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x3c, 0x00, 0xff, 0xc0, 0x3e];
    const input = stream("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", tls, "<message/>");
    const proceedEnd = input.length - tls.length - "<message/>".length;
    for (const cut of [0, proceedEnd - 1, proceedEnd, proceedEnd + 1, input.length - 1]) {
      const parser = new StreamParser();
      const chunks = split(input, [cut]);
      let rest: Uint8Array | undefined;
      const seen: string[] = [];
      for (const chunk of chunks) {
        if (rest !== undefined) {
          rest = bytes(rest, chunk); // what the adapter would forward to TLS afterwards
          continue;
        }
        parser.push(chunk);
        for (let ev = parser.next(); ev !== undefined; ev = parser.next()) {
          seen.push(ev.kind);
          if (ev.kind === "element" && ev.element.name === "proceed") {
            rest = parser.takeUnparsed();
            break;
          }
        }
      }
      expect(seen).toEqual(["stream-open", "element"]);
      expect(rest).toEqual(input.subarray(proceedEnd));
      expect(parser.next()).toBeUndefined();
      expect(() => parser.push(bytes("<x/>"))).toThrow(TypeError);
    }
  });
});

describe("limits", () => {
  it("has documented defaults", () => {
    expect(DEFAULT_XML_LIMITS).toEqual({
      maxStanzaBytes: 262144,
      maxDepth: 64,
      maxElements: 16384,
      maxAttributes: 64,
      maxNameLength: 256,
      maxBufferedBytes: 524288,
    });
  });

  it("counts stanza bytes on the raw bytes: exactly the limit passes, one more fails", () => {
    const make = (n: number) => {
      const open = "<message><body>";
      const close = "</body></message>";
      return open + "&amp;".repeat(0) + "x".repeat(n - open.length - close.length) + close;
    };
    const limits = { maxStanzaBytes: 1000 };
    for (const parse of [parseWhole, parseBytewise]) {
      expect(lastError(parse(stream(make(1000)), { limits }))).toBeUndefined();
      const err = lastError(parse(stream(make(1001)), { limits }));
      expect(err?.condition).toBe("policy-violation");
      expect(err?.offset).toBe(HDR.length + 1000);
    }
    // Character references count with their raw length, not the decoded one.
    expect(lastError(parseWhole(stream(`<m>${"&amp;".repeat(200)}</m>`), { limits }))?.condition).toBe("policy-violation");
  });

  it("stops a 10 MB attribute value mid-token, after about the limit", () => {
    const limit = DEFAULT_XML_LIMITS.maxStanzaBytes;
    const parser = new StreamParser();
    parser.push(stream());
    drain(parser);
    parser.push(bytes("<message to='"));
    const chunk = new Uint8Array(4096).fill(0x61);
    let pushed = HDR.length + 13;
    let error: ParseEvent | undefined;
    while (pushed < 10 * 1024 * 1024 && error === undefined) {
      parser.push(chunk);
      pushed += chunk.length;
      error = parser.next();
    }
    expect(error?.kind).toBe("error");
    if (error?.kind !== "error") throw new Error();
    expect(error.error.condition).toBe("policy-violation");
    expect(error.error.offset).toBe(HDR.length + limit);
    expect(pushed).toBeLessThanOrEqual(HDR.length + limit + 2 * chunk.length);
    // In one 10 MB chunk too: the error points at the limit, not at the end of the token.
    const big = bytes(HDR, "<message to='", new Uint8Array(10 * 1024 * 1024).fill(0x61), "'/>");
    const err = lastError(parseWhole(big));
    expect(err?.condition).toBe("policy-violation");
    expect(err?.offset).toBe(HDR.length + limit);
  });

  it("limits text, CDATA and the stream header the same way", () => {
    const limits = { maxStanzaBytes: 500 };
    for (const input of [
      stream(`<m>${"x".repeat(600)}</m>`),
      stream(`<m><![CDATA[${"x".repeat(600)}]]></m>`),
      stream(`<m>${"é".repeat(300)}</m>`),
      bytes(`<stream:stream xmlns:stream='${NS_STREAMS}' a='${"x".repeat(600)}'>`),
      bytes(`<?xml version='1.0' ${" ".repeat(600)}?>`),
    ]) {
      expect(lastError(parseWhole(input, { limits }))?.condition).toBe("policy-violation");
      expect(lastError(parseBytewise(input, { limits }))?.condition).toBe("policy-violation");
    }
    // Whitespace between stanzas is not part of any stanza.
    expect(lastError(parseWhole(stream(" ".repeat(2000), "<m/>"), { limits }))).toBeUndefined();
  });

  it("refuses a token whose first byte is past the size cap at once, not when the token completes", () => {
    // `<m>` + 197 bytes of text is 200 bytes; the next (`<`, `<!` or `<![CD`) crosses a 200-byte cap (the
    // header, 116 bytes, is within it).
    const text = "x".repeat(197);
    for (const tail of ["<", "</", "<!", "<![CD"]) {
      for (const fastPath of [true, false]) {
        const p = new StreamParser({ limits: { maxStanzaBytes: 200 }, fastPath });
        p.push(bytes(HDR, "<m>", text, tail));
        const events = [...drain(p)];
        expect(events.at(-1)).toMatchObject({ kind: "error", error: { condition: "policy-violation" } });
      }
    }
    // Exactly at the cap and waiting for more is no error.
    const p = new StreamParser({ limits: { maxStanzaBytes: 200 } });
    p.push(bytes(HDR, "<m>", text));
    expect([...drain(p)].some((e) => e.kind === "error")).toBe(false);
  });

  it("limits depth", () => {
    const nest = (n: number) => `${"<a>".repeat(n)}${"</a>".repeat(n)}`;
    expect(lastError(parseWhole(stream(nest(64))))).toBeUndefined();
    expect(lastError(parseWhole(stream(nest(65))))?.condition).toBe("policy-violation");
    expect(lastError(parseWhole(stream(nest(3)), { limits: { maxDepth: 2 } }))?.condition).toBe("policy-violation");
    // 10^5 levels are refused without recursion (the stanza limit is raised so depth is what trips).
    const deep = stream(nest(100_000));
    expect(lastError(parseWhole(deep, { limits: { maxStanzaBytes: 1e9 } }))?.condition).toBe("policy-violation");
    expect(lastError(parseWhole(deep))?.condition).toBe("policy-violation");
  });

  it("parses, serializes, clones and compares 10^5 levels when allowed, without recursion", () => {
    const n = 100_000;
    const input = stream(`${"<a>".repeat(n)}x${"</a>".repeat(n)}`);
    const events = parseWhole(input, { limits: { maxDepth: 200_000, maxElements: 200_000, maxStanzaBytes: 1e9 } });
    expect(lastError(events)).toBeUndefined();
    const el = elements(events)[0]!;
    const out = serialize(el, { defaultNs: NS_CLIENT });
    expect(out.length).toBe(input.length - HDR.length);
    const copy = el.clone();
    expect(copy.equals(el)).toBe(true);
    let leaf = copy;
    for (let d = 1; d < n; d++) leaf = leaf.firstElement()!;
    expect(leaf.text()).toBe("x");
  });

  it("limits elements per stanza, counted as start tags arrive, the stream header not counted", () => {
    // The message: 240 KB with 60,000 children is refused by default, at the tag past the cap.
    const children = 60_000;
    const big = `<message>${"<a/>".repeat(children)}</message>`;
    expect(big.length).toBeLessThan(DEFAULT_XML_LIMITS.maxStanzaBytes);
    const input = stream(big);
    const capAt = HDR.length + "<message>".length + 4 * (DEFAULT_XML_LIMITS.maxElements - 1);
    for (const fastPath of [true, false]) {
      const err = lastError(parseWhole(input, { fastPath }));
      expect(err?.condition).toBe("policy-violation");
      expect(err?.offset).toBe(capAt);
      expect(err?.text).toBe("more than 16384 elements in one stanza");
    }
    // Exactly the cap passes, one more fails; every stanza counts afresh; in every chunking.
    const limits = { maxElements: 5 };
    const five = "<m><a/><b><c/></b>t<d/></m>";
    const six = "<m><a/><b><c/></b>t<d/><e/></m>";
    for (const fastPath of [true, false]) {
      expect(lastError(parseWhole(stream(five, five, "\n", five), { limits, fastPath }))).toBeUndefined();
      expect(lastError(parseBytewise(stream(five, five), { limits, fastPath }))).toBeUndefined();
      for (const parse of [parseWhole, parseBytewise]) {
        const err = lastError(parse(stream(five, six), { limits, fastPath }));
        expect(err?.condition).toBe("policy-violation");
        expect(err?.offset).toBe(HDR.length + five.length + six.indexOf("<e/>"));
      }
    }
    // Nothing past the cap is waited for: the error comes with the tag, however the stanza continues.
    const p = new StreamParser({ limits });
    p.push(stream("<m><a/><a/><a/><a/><a>"));
    expect(drain(p).map((e) => (e.kind === "error" ? e.error.condition : e.kind))).toEqual(["stream-open", "policy-violation"]);
    // RFC 7395 framing counts per message, the message itself included.
    expect(lastError(parseWhole(bytes("<m><a/><a/><a/><a/></m><m/>"), { framing: "fragments", limits }))).toBeUndefined();
    expect(lastError(parseWhole(bytes("<m><a/><a/><a/><a/><a/></m>"), { framing: "fragments", limits }))?.condition).toBe("policy-violation");
  });

  it("limits attributes per element (namespace declarations included)", () => {
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}='v'`).join("");
    expect(lastError(parseWhole(stream(`<m${attrs(64)}/>`)))).toBeUndefined();
    expect(lastError(parseWhole(stream(`<m${attrs(65)}/>`)))?.condition).toBe("policy-violation");
    expect(lastError(parseWhole(stream(`<m xmlns:p='urn:p'${attrs(64)}/>`)))?.condition).toBe("policy-violation");
    const many = stream(`<m${attrs(100_000)}/>`);
    expect(lastError(parseWhole(many, { limits: { maxStanzaBytes: 1e9 } }))?.condition).toBe("policy-violation");
    expect(lastError(parseWhole(many))?.condition).toBe("policy-violation");
  });

  it("finds duplicates among many attributes when the limit allows them", () => {
    const attrs = Array.from({ length: 20_000 }, (_, i) => ` a${i}='v'`).join("");
    const limits = { maxStanzaBytes: 1e9, maxAttributes: 1e6 };
    expect(lastError(parseWhole(stream(`<m${attrs}/>`), { limits }))).toBeUndefined();
    expect(lastError(parseWhole(stream(`<m${attrs} a7='w'/>`), { limits }))?.condition).toBe("not-well-formed");
    const pfx = Array.from({ length: 20_000 }, (_, i) => ` p:a${i}='v'`).join("");
    expect(lastError(parseWhole(stream(`<m xmlns:p='urn:x' xmlns:q='urn:x'${pfx} q:a9='w'/>`), { limits }))?.condition).toBe(
      "not-well-formed",
    );
  });

  it("limits name length", () => {
    const name = (n: number) => "n".repeat(n);
    expect(lastError(parseWhole(stream(`<${name(256)}/>`)))).toBeUndefined();
    expect(lastError(parseWhole(stream(`<${name(257)}/>`)))?.condition).toBe("policy-violation");
    expect(lastError(parseBytewise(stream(`<${name(257)}/>`)))?.condition).toBe("policy-violation");
    expect(lastError(parseWhole(stream(`<m ${name(257)}='x'/>`)))?.condition).toBe("policy-violation");
    expect(lastError(parseWhole(stream(`<m></${name(257)}>`)))?.condition).toBe("policy-violation");
  });

  it("limits buffered bytes for one incomplete token", () => {
    const parser = new StreamParser({ limits: { maxBufferedBytes: 100, maxStanzaBytes: 1e6 } });
    parser.push(stream());
    drain(parser);
    parser.push(bytes("<message to='"));
    expect(parser.next()).toBeUndefined();
    parser.push(bytes("x".repeat(100)));
    const ev = parser.next();
    expect(ev?.kind === "error" && ev.error.condition).toBe("policy-violation");
    // Regression: the offset was the index in the internal buffer, not bytes since creation.
    expect(ev?.kind === "error" && ev.error.offset).toBe(stream("<message to='").length + 100);
  });

  it("holds no input bytes once everything is consumed", () => {
    const parser = new StreamParser();
    parser.push(stream("<message/>"));
    drain(parser);
    expect(parser.bufferedBytes).toBe(0);
    expect(parser.offset).toBe(stream("<message/>").length);
    parser.push(bytes("<presence/>"));
    expect(drain(parser).map((e) => e.kind)).toEqual(["element"]);
    expect(parser.offset).toBe(stream("<message/><presence/>").length);
  });

  it("setLimits() changes limits from then on", () => {
    const parser = new StreamParser({ limits: { maxStanzaBytes: 200 } });
    parser.push(stream());
    drain(parser);
    parser.setLimits({ maxStanzaBytes: 1000 });
    parser.push(bytes(`<m>${"x".repeat(500)}</m>`));
    expect(drain(parser).map((e) => e.kind)).toEqual(["element"]);
    parser.setLimits({ maxStanzaBytes: 100 });
    parser.push(bytes(`<m>${"x".repeat(500)}</m>`));
    expect(drain(parser).map((e) => e.kind)).toEqual(["error"]);
  });
});
