// The limits as caps: for random streams, random limits and random chunking, the parser reports a
// policy-violation no later than the push that brings the byte crossing a cap (the end of the start tag
// that is one element, one level or one attribute too many, or the first byte past the stanza size), after
// exactly the stanzas before it, and never holds more than maxBufferedBytes between calls.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../../test-support/fuzz.js";
import { NS_CLIENT, NS_STREAMS, serialize, StreamParser, type XmlLimits } from "../src/index.js";
import { xmlTree } from "./arbitraries.js";
import { bytes, HDR, split } from "./helpers.js";

const CONTEXT = { defaultNs: NS_CLIENT, prefixes: new Map([["stream", NS_STREAMS]]) };
const header = bytes(HDR);

/**
 * Where the first cap is crossed in `stanza` (our serializer's output: attribute values single-quoted,
 * no quote inside one, `<` only in markup): the number of its bytes that must have arrived, or -1.
 */
function crossing(stanza: Uint8Array, limits: XmlLimits): number {
  const due = stanza.length > limits.maxStanzaBytes ? limits.maxStanzaBytes + 1 : -1;
  let depth = 0;
  let elements = 0;
  for (let i = 0; i < stanza.length; i++) {
    if (stanza[i] !== 0x3c) continue;
    let end = i + 1;
    let quotes = 0;
    for (let inQuote = false; stanza[end] !== 0x3e || inQuote; end++) {
      if (stanza[end] === 0x27) {
        inQuote = !inQuote;
        quotes++;
      }
    }
    if (stanza[i + 1] === 0x2f) depth--;
    else {
      elements++;
      depth++;
      if (elements > limits.maxElements || depth > limits.maxDepth || quotes / 2 > limits.maxAttributes) {
        return due < 0 ? end + 1 : Math.min(due, end + 1);
      }
      if (stanza[end - 1] === 0x2f) depth--;
    }
    i = end;
  }
  return due;
}

const limitsArb = fc.record({
  maxStanzaBytes: fc.integer({ min: header.length, max: 700 }),
  maxDepth: fc.integer({ min: 1, max: 6 }),
  maxElements: fc.integer({ min: 1, max: 24 }),
  maxAttributes: fc.integer({ min: 4, max: 9 }), // the header has 4
  maxNameLength: fc.constant(256),
  maxBufferedBytes: fc.constant(2048),
});

describe("caps", () => {
  it("nothing above a cap is buffered or parsed: the error comes no later than the byte that crosses it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(xmlTree, fc.constantFrom("", " ", "\n")), { minLength: 1, maxLength: 4 }),
        limitsArb,
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.boolean(),
        (items, limits, cuts, fastPath) => {
          // The stream, and where its first crossing is (in bytes from the start).
          const stanzas = items.map(([tree]) => serialize(tree, CONTEXT));
          const parts: Uint8Array[] = [header];
          let at = header.length;
          let due = -1;
          let before = 0; // stanzas complete before the crossing
          for (let k = 0; k < stanzas.length; k++) {
            const c = crossing(stanzas[k]!, limits);
            if (c >= 0) {
              due = at + c;
              break;
            }
            before++;
            at += stanzas[k]!.length + items[k]![1].length;
            parts.push(stanzas[k]!, bytes(items[k]![1]));
          }
          if (due >= 0) parts.push(stanzas[before]!);
          const input = bytes(...parts);
          const chunks = split(input, cuts.map((c) => c % input.length));
          const p = new StreamParser({ limits, fastPath });
          let pushed = 0;
          let elements = 0;
          let reported = -1; // bytes pushed when the error came
          for (const chunk of chunks) {
            p.push(chunk);
            pushed += chunk.length;
            for (let ev = p.next(); ev !== undefined; ev = p.next()) {
              if (ev.kind === "element") elements++;
              else if (ev.kind === "error") {
                expect(ev.error.condition).toBe("policy-violation");
                expect(ev.error.offset).toBeLessThanOrEqual(pushed);
                reported = pushed;
              }
            }
            if (reported >= 0) break;
            // Not over a cap yet: nothing held beyond maxBufferedBytes, nothing due reported late.
            expect(p.bufferedBytes).toBeLessThanOrEqual(limits.maxBufferedBytes);
            if (due >= 0) expect(pushed).toBeLessThan(due);
          }
          if (due < 0) expect(reported).toBe(-1);
          else expect(reported).toBeGreaterThanOrEqual(0);
          expect(elements).toBe(before);
        },
      ),
      fuzz(3000),
    );
  });
});
