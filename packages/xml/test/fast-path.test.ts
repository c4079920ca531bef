// The WebAssembly fast path must be invisible: every input, however chunked, gives exactly the events
// (errors with their text and offset included) that the JavaScript parser alone gives.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { fastScanner } from "../src/fast-scan.js";
import { type ParseEvent, StreamParser, type StreamParserOptions, serialize, toXmlString, type XmlElement } from "../src/index.js";
import { mutateBytes, writeVaried, xmlTree } from "./arbitraries.js";
import { byteChunks, bytes, elements, HDR, parseWhole, split, stream } from "./helpers.js";

/** Events per pushed chunk, errors in full, and where the parser stands at the end. */
function trace(chunks: readonly Uint8Array[], options: StreamParserOptions = {}): unknown[] {
  const parser = new StreamParser(options);
  const out: unknown[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    const events: unknown[] = [];
    for (let ev = parser.next(); ev !== undefined; ev = parser.next()) events.push(plain(ev));
    out.push(events);
  }
  // Where the parser stands (meaningless once it has failed). How much of an incomplete element is counted
  // as consumed differs — the fast path consumes elements whole — but not the total.
  if (parser.error === undefined) out.push({ pushed: parser.offset + parser.bufferedBytes, closed: parser.streamClosed });
  return out;
}

function plain(ev: ParseEvent): unknown {
  if (ev.kind === "error") return ev.error;
  if (ev.kind === "stream-close") return ev.kind;
  return { kind: ev.kind, xml: serialize(ev.element), ns: ev.element.ns };
}

/**
 * Asserts the fast path changes nothing for this input and chunking, except how early an error inside
 * a tag whose end has not arrived is reported: fed byte by byte the JavaScript parser sees such an error
 * once the tag's end (or a limit) arrives, but given more of the tag at once it may see it sooner, and
 * the fast path may hand it a tag already complete in the buffer. Either way it is the error the whole
 * input gives, after the same elements, and never later than the byte-by-byte JavaScript parser reports
 * it: at the latest in the push/next cycle of the chunk that brings the input to that many bytes — an
 * error in a token whose end has arrived is reported at once, however the input is cut.
 */
function same(chunks: readonly Uint8Array[], options: StreamParserOptions = {}): void {
  const fast = trace(chunks, options);
  const slow = trace(chunks, { ...options, fastPath: false });
  const fastError = lastError(fast);
  const slowError = lastError(slow);
  if (fastError === undefined && slowError === undefined) {
    expect(fast).toEqual(slow);
    return;
  }
  const input = concat(chunks);
  const wholeError = lastError(trace([input], { ...options, fastPath: false }));
  if (fastError !== undefined) expect(fastError).toEqual(wholeError);
  if (slowError !== undefined) expect(slowError).toEqual(wholeError);
  // The same elements before the error.
  expect(flat(fast).filter((e) => e !== fastError)).toEqual(flat(slow).filter((e) => e !== slowError));
  // When: the cycle of the chunk that brings the input to the bytes the byte-by-byte parser needed.
  const due = errorCycle(trace(byteChunks(input), { ...options, fastPath: false })) + 1;
  let cycle = -1;
  for (let k = 0, n = 0; k < chunks.length && cycle < 0; k++) if ((n += chunks[k]!.length) >= due) cycle = k;
  if (due > 0) {
    for (const t of [fast, slow]) {
      const at = errorCycle(t);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(at).toBeLessThanOrEqual(cycle);
    }
  }
}

/** The index of the cycle (pushed chunk) in which a trace reports its error, or -1. */
function errorCycle(t: unknown[]): number {
  return t.findIndex((events) => Array.isArray(events) && events.some((e) => typeof e === "object" && e !== null && "condition" in e));
}

function flat(t: unknown[]): unknown[] {
  return t.filter(Array.isArray).flat();
}
function lastError(t: unknown[]): unknown {
  return flat(t).find((e) => typeof e === "object" && e !== null && "condition" in e);
}
function concat(chunks: readonly Uint8Array[]): Uint8Array {
  return bytes(...chunks);
}

const cuts = fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 10 });
const validStream = fc
  .array(fc.tuple(xmlTree, fc.integer(), fc.constantFrom("", " ", "\n", "\r\n\t ")), { minLength: 1, maxLength: 5 })
  .map((stanzas) => bytes(HDR + stanzas.map(([el, seed, keepalive]) => writeVaried(el, seed) + keepalive).join("")));

describe("the WebAssembly fast path", () => {
  it("is available in Node", () => {
    expect(fastScanner()).not.toBeNull();
  });

  it("gives the same events as the JavaScript parser for valid streams, however chunked", () => {
    fc.assert(
      fc.property(validStream, cuts, (input, points) => {
        same([input]);
        same(split(input, points.map((p) => p % input.length)));
      }),
      fuzz(300),
    );
  });

  it("gives the same events, errors included, for mutated streams, however chunked", () => {
    const mutation = fc.record({
      kind: fc.constantFrom("set", "insert", "delete", "truncate"),
      at: fc.nat(),
      byte: fc.oneof(
        fc.constantFrom(0x3c, 0x3e, 0x26, 0x27, 0x22, 0x2f, 0x3a, 0x3b, 0x23, 0x78, 0x5d, 0x0d, 0x09, 0x00, 0x80, 0xc0, 0xed, 0xef, 0xbf, 0xf0, 0xf4, 0xff),
        fc.nat(255),
      ),
    });
    fc.assert(
      fc.property(validStream, fc.array(mutation, { minLength: 1, maxLength: 4 }), cuts, (input, mutations, points) => {
        const mutated = mutateBytes(input, mutations);
        same([mutated]);
        same(split(mutated, points.map((p) => p % Math.max(1, mutated.length))));
      }),
      fuzz(500),
    );
  });

  it("gives the same events byte by byte, where it retries only after the input has grown", () => {
    const input = stream(
      "<message to='a@b' xml:lang='en'><body>caf\u00e9 &amp; &#x1F600; \u65e5\u672c &lt;3</body><x xmlns='urn:x' a='1\t2'/></message>",
      "\n<presence/>",
    );
    same(Array.from(input, (b) => Uint8Array.of(b)));
  });

  it("reports an error in a complete start tag of an element the input cut, in the same cycle however chunked", () => {
    // Regression: pushed as one chunk, the fast path held `<message><x:a>` (a tag complete, its prefix
    // unbound) until the element ended or reached the size limit; byte by byte it was reported at once.
    const hdr = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
    for (const body of ["<message><x:a>", "<message><a b='1' b='2'>", "<message><a xmlns='http://www.w3.org/XML/1998/namespace'>t", "<message x:y='1'>", "<m><a/><b xmlns:xmlns='urn:x'/>", "<message><aitem></item>", "<message><ab></a>", "<m></n>"]) {
      const input = bytes(hdr + body);
      for (const fastPath of [true, false]) {
        const p = new StreamParser({ fastPath });
        p.push(input);
        const kinds: string[] = [];
        for (let ev = p.next(); ev !== undefined; ev = p.next()) kinds.push(ev.kind === "error" ? ev.error.condition : ev.kind);
        expect(kinds).toEqual(["stream-open", "not-well-formed"]);
      }
      same([input]);
      same(split(input, [hdr.length + 3]));
      same(byteChunks(input));
    }
    // Usual tags in a cut element stay on the fast path, and prefixed ones that are fine parse as ever.
    const ok = bytes(hdr, "<message xmlns:p='urn:p'><p:a p:b='1'><c xml:lang='en'/></p:a>", "</message>");
    for (let cut = hdr.length + 1; cut < ok.length; cut++) same(split(ok, [cut]));
  });

  it("hands back what lies outside its subset, and the JavaScript parser decides", () => {
    const cases = [
      "<m><![CDATA[x]]></m>", // CDATA
      "<m><n\u00e9/></m>", // a non-ASCII name
      "<m a='&#X41;'/>", // an uppercase X: not a character reference
      "<m>&#1a;</m>", // a hex digit in a decimal reference
      "<m>&nbsp;</m>", // not a predefined entity
      "<m>a]]>b</m>", // `]]>` in text
      "<m><!-- c --></m>", // a comment
      "<m a='1' a='2'/>", // a duplicate attribute (found on the tape by the shared code)
      "<m xmlns:p='urn:p' p:a='1' xmlns:q='urn:p' q:a='2'/>", // duplicate after expansion
      "<p:m/>", // an unbound prefix
      "<m>\u0001</m>", // a control character
      "<m></n>", // a mismatched end tag
      "<m a='<'/>", // `<` in a value
      "<m>\r\n\r</m>", // line ends to normalise
      "<m a=' \r\n\t\n'/>", // attribute whitespace to normalise
      "<m>&#xD;&#13;</m>", // character references to CR stay CR
    ];
    for (const body of cases) {
      const input = stream(body, "<after/>");
      for (let cut = 1; cut < input.length; cut += 7) same(split(input, [cut]));
      same([input]);
    }
    // Invalid UTF-8 in every position of a stanza, with the input cut just after it.
    for (const bad of [[0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xef, 0xbf, 0xbe], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xeb, 0x3c, 0x3e]]) {
      const input = stream("<m a='x", bad, "'>t", bad, "</m>");
      for (let cut = HDR.length; cut < input.length; cut++) same(split(input, [cut]));
    }
  });

  it("replaces references and normalises whitespace itself, exactly as the JavaScript parser does", () => {
    // The scanner writes each element's text with these done; every offset on the tape indexes into it.
    const body =
      "<m a='x&amp;y&#x1F600;\t\n\r\n\rz' b='&#10;&#13;&#9;&lt;&gt;&quot;&apos;' c='&#xe9;&#x20AC;\r'>" +
      "a\r\nb\rc&#13;&#x1F600;\u00e9&amp;&lt;<n d='\r\r\n'>&#93;]&gt;&#93;]>\r</n>\r\n&#x10FFFF;</m>";
    const input = stream(body, "<after e='&amp;'>&lt;</after>");
    const parser = new StreamParser();
    parser.push(input);
    const els: unknown[] = [];
    for (let ev = parser.next(); ev !== undefined; ev = parser.next()) if (ev.kind === "element") els.push(ev.element);
    const [m] = els as XmlElement[];
    expect(m!.attr("a")).toBe("x&y\u{1F600}    z"); // TAB, LF, CR LF and CR: one space each
    expect(m!.attr("b")).toBe("\n\r\t<>\"'");
    expect(m!.attr("c")).toBe("\u00e9\u20ac ");
    expect(m!.children).toEqual(["a\nb\nc\r\u{1F600}\u00e9&<", m!.firstElement(), "\n\u{10FFFF}"]);
    expect(m!.firstElement()!.attr("d")).toBe("  ");
    expect(m!.firstElement()!.text()).toBe("]]>]]>\n");
    for (let cut = 1; cut < input.length; cut++) same(split(input, [cut]));
  });

  it("keeps every character of values that are not ASCII, a leading U+FEFF and pairs beyond the BMP included", () => {
    // Such values go to the mixed pool, which is written as UTF-16: a decoder that drops a BOM, or a
    // wrong surrogate pair, would change them.
    const values = ["\ufeffa", "\ufeff", "\u{1F600}", "a\u{10FFFF}b", "\u00e9&amp;\u20ac", "x&#x1F600;y", "\u0100\u07ff\u0800\uffe0"];
    const body = values.map((v, k) => `<v${k} a='${v}'>${v}</v${k}>`).join("");
    const parser = new StreamParser();
    parser.push(stream(body));
    const got: string[] = [];
    for (let ev = parser.next(); ev !== undefined; ev = parser.next()) if (ev.kind === "element") got.push(ev.element.attr("a")!, ev.element.text());
    const want = values.flatMap((v) => {
      const s = v.replace("&amp;", "&").replace("&#x1F600;", "\u{1F600}");
      return [s, s];
    });
    expect(got).toEqual(want);
  });

  it("resumes an element the input cut where it was cut, in any chunking", () => {
    const body =
      "<m a='x&amp;y&#x1F600;\t\n\r\n\rz' b='&#10;&#13;&#9;&lt;&gt;' xml:lang='en'>" +
      "a\r\nb\rc&#13;&#x1F600;\u00e9&amp;&lt;<n d='\r\r\n'>&#93;]&gt;\r</n>\r\n<o xmlns='urn:o'><p q='&apos;'/>\u65e5\u672c</o>&#x10FFFF;</m>";
    const input = stream(body, "\n<after e='&amp;'>&lt;</after>");
    for (let size = 2; size <= 48; size++) {
      same(split(input, Array.from({ length: Math.floor(input.length / size) }, (_, k) => (k + 1) * size)));
    }
    // It does resume: the module keeps the element for the parser that scanned it, and only for it.
    const scanner = fastScanner()!;
    const nAt = HDR.length + bytes(body.slice(0, body.indexOf("<n "))).length;
    const cut = nAt + 4;
    const p = new StreamParser();
    p.push(input.subarray(0, cut));
    expect(p.next()?.kind).toBe("stream-open");
    expect(p.next()).toBeUndefined();
    expect(scanner.canResume(p, HDR.length)).toBe(true);
    expect(scanner.resumeAt).toBe(nAt);
    expect(scanner.canResume(new StreamParser(), HDR.length)).toBe(false);
    p.push(input.subarray(cut));
    const ev = p.next();
    expect(ev?.kind === "element" && serialize(ev.element)).toEqual(serialize(elements(parseWhole(stream(body), { fastPath: false }))[0]!));
  });

  it("scans an element again from its start when another parser scanned in between, or the limits changed", () => {
    const body = "<m a='&amp;1'><b>\u00e9&lt;</b><c d='2'>x&#x1F600;</c></m>";
    const input = stream(body, "<n/>");
    const want = elements(parseWhole(input, { fastPath: false })).map((el) => toXmlString(el));
    // Another parser's element at the same offset, with other bytes, cut in the same places.
    const other = stream("<zz y='&lt;'><b>\u00e9\u00e9&lt;</b><c d='22'>xyz&#x1F600;</c></zz>");
    for (let cut = HDR.length + 1; cut < input.length - 1; cut += 3) {
      const a = new StreamParser();
      const b = new StreamParser();
      a.push(input.subarray(0, cut));
      b.push(other.subarray(0, cut));
      const got: string[] = [];
      const drain = (p: StreamParser, into: string[]) => {
        for (let ev = p.next(); ev !== undefined; ev = p.next()) if (ev.kind === "element") into.push(toXmlString(ev.element));
      };
      drain(a, got);
      drain(b, []); // overwrites what the module kept for a
      a.setLimits({ maxDepth: 10 });
      a.push(input.subarray(cut));
      drain(a, got);
      expect(got).toEqual(want);
    }
  });

  it("reads names as the JavaScript parser does, whatever their length and colons", () => {
    // The scanner classifies names shorter than 16 bytes sixteen bytes at once: every shape around that.
    const names: string[] = [];
    for (let n = 1; n <= 20; n++) {
      const base = "aZ_9.-".repeat(4).slice(0, n);
      names.push(`q${base}`, `_${base}`, `${base}`, `9${base}`, `-${base}`, `.${base}`, `x:${base}`, `x:9${base}`, `${base}:y`, `${base}:`, `:${base}`, `a:b:${base}`, `p:${base}\u00e9`);
    }
    names.push("a:1", "a:-b", "a::b", "x.y-z_0:Q", "\u00e9", "a\u00e9", "é:a");
    for (const name of names) {
      for (const body of [`<${name}/>`, `<${name} xmlns:${name.split(":")[0] || "p"}='urn:p'>t</${name}>`, `<m ${name}='v' xmlns:x='urn:x' xmlns:a='urn:a' xmlns:p='urn:p'/>`]) {
        const input = stream(`${body}<after-${"n".repeat(20)}/>`);
        same([input]);
        same([input], { limits: { maxNameLength: 10 } });
      }
    }
  });

  it("applies the limits as the JavaScript parser does", () => {
    const deep = `${"<a>".repeat(70)}${"</a>".repeat(70)}`;
    const many = `<m ${Array.from({ length: 70 }, (_, i) => `a${i}='${i}'`).join(" ")}/>`;
    const wide = `<m>${"<a>x</a><b/>".repeat(40)}</m>`;
    for (const limits of [{ maxDepth: 3 }, { maxDepth: 100 }, { maxAttributes: 2 }, { maxAttributes: 100 }, { maxNameLength: 2 }, { maxStanzaBytes: 40 }, { maxElements: 3 }, { maxElements: 70 }, { maxElements: 81 }]) {
      for (const body of [deep, many, wide, "<message><body>hello</body></message>", "<abc defg='1'/>"]) {
        const input = stream(body);
        same([input], { limits });
        same(split(input, [HDR.length + 5, HDR.length + 17]), { limits });
      }
    }
    // The count goes on where a resumed element was cut.
    const input = stream(wide, "<n/>");
    for (let size = 3; size <= 40; size += 5) {
      same(split(input, Array.from({ length: Math.floor(input.length / size) }, (_, k) => (k + 1) * size)), { limits: { maxElements: 70 } });
    }
  });

  it("handles elements larger than its first window, and beyond its widest one", () => {
    const big = `<m>${"x".repeat(200_000)}</m>`;
    same(split(stream(big, "<n/>"), [10_000, 70_000, 150_000]));
    const huge = `<m a='${"y".repeat(1_500_000)}'/>`;
    same([stream(huge, "<n/>")], { limits: { maxStanzaBytes: 4 << 20, maxBufferedBytes: 4 << 20 } });
  });

  it("stops at the exact byte for takeUnparsed() and reset(), with more elements already scanned", () => {
    const tls = [0x16, 0x03, 0x01, 0x00, 0x05];
    const p = new StreamParser();
    p.push(stream("<a/><proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", tls));
    const kinds: string[] = [];
    for (let ev = p.next(); ev !== undefined; ev = p.next()) {
      kinds.push(ev.kind);
      if (ev.kind === "element" && ev.element.name === "proceed") break;
    }
    expect(kinds).toEqual(["stream-open", "element", "element"]);
    expect(Array.from(p.takeUnparsed())).toEqual(tls);

    const q = new StreamParser();
    q.push(stream("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'><m/>"));
    expect(q.next()?.kind).toBe("stream-open");
    expect(q.next()?.kind).toBe("element");
    q.reset();
    expect(q.next()?.kind).toBe("stream-open");
    const m = q.next();
    expect(m?.kind === "element" && m.element.name).toBe("m");
  });

  it("keeps parsers apart although they share one scanner", () => {
    const a = new StreamParser();
    const b = new StreamParser();
    a.push(stream("<a1/><a2/><a3/>"));
    b.push(stream("<b1/><b2/>"));
    const names: string[] = [];
    for (let k = 0; k < 4; k++) {
      for (const p of [a, b]) {
        const ev = p.next();
        if (ev?.kind === "element") names.push(ev.element.name);
      }
    }
    expect(names).toEqual(["a1", "b1", "a2", "b2", "a3"]);
  });

  it("keeps names right across id spaces: a full name table, long names, a tape taken before a reset", () => {
    const scanner = fastScanner()!;
    const before = scanner.names;
    // Parser a takes a tape of three elements and reports one; parser b then fills the name table
    // (2047 ids) several times over; a's remaining elements still get their own names.
    const a = new StreamParser();
    a.push(stream("<a1 x='1'/><a2 y='2'/><a3 z='3'/>"));
    expect(a.next()?.kind).toBe("stream-open");
    expect(a.next()).toMatchObject({ kind: "element", element: { name: "a1" } });
    const long = "n".repeat(70); // beyond what is interned
    const many = Array.from({ length: 3000 }, (_, k) => `<e${k} a${k}='${k}' ${long}${k}='v'><c${k % 7}/></e${k}>`);
    const input = stream(...many);
    same(split(input, [HDR.length + 30_000, HDR.length + 100_000]));
    const b = new StreamParser();
    b.push(input);
    const seen: string[] = [];
    for (let ev = b.next(); ev !== undefined; ev = b.next()) {
      if (ev.kind !== "element") continue;
      const k = seen.length;
      seen.push(ev.element.name);
      expect(ev.element.attr(`a${k}`)).toBe(String(k));
      expect(ev.element.attr(`${long}${k}`)).toBe("v");
      expect(ev.element.firstElement()?.name).toBe(`c${k % 7}`);
    }
    expect(seen).toHaveLength(3000);
    expect(scanner.names).not.toBe(before); // the table did fill up
    const rest: unknown[] = [];
    for (let ev = a.next(); ev !== undefined; ev = a.next()) if (ev.kind === "element") rest.push([ev.element.name, ev.element.attributes()]);
    expect(rest).toEqual([
      ["a2", [{ ns: "", name: "y", value: "2" }]],
      ["a3", [{ ns: "", name: "z", value: "3" }]],
    ]);
  });

  it("ships the module that wasm/scan.ts compiles to", () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), "..");
    expect(() => execFileSync(process.execPath, ["scripts/build-wasm.mjs", "--check"], { cwd: root, stdio: "pipe" })).not.toThrow();
  }, 60_000);
});

describe("the fast path's buffering", () => {
  it("never holds more of an incomplete element than maxBufferedBytes allows", () => {
    const limits = { maxStanzaBytes: 256 * 1024, maxBufferedBytes: 1000 };
    const input = stream(`<m>${"x".repeat(20_000)}</m>`, "<n/>");
    const chunks = split(input, Array.from({ length: 60 }, (_, k) => HDR.length + 1 + k * 400));
    same(chunks, { limits });
    const p = new StreamParser({ limits });
    const names: string[] = [];
    for (const c of chunks) {
      p.push(c);
      for (let ev = p.next(); ev !== undefined; ev = p.next()) {
        expect(ev.kind).not.toBe("error");
        if (ev.kind === "element") names.push(ev.element.name);
      }
    }
    expect(names).toEqual(["m", "n"]);
  });
});
