import { type ParseEvent, StreamParser, type StreamParserOptions, type XmlElement, type XmlErrorCondition } from "../src/index.js";

/** The stream header used by most tests (client-to-server, `stream` prefix bound). */
export const HDR =
  "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>";

const encoder = new TextEncoder();

/** Concatenates strings (UTF-8 encoded) and byte arrays into one byte array. */
export function bytes(...parts: Array<string | readonly number[] | Uint8Array>): Uint8Array {
  const chunks = parts.map((p) => (typeof p === "string" ? encoder.encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A stream: the header followed by the given parts. */
export function stream(...parts: Array<string | readonly number[] | Uint8Array>): Uint8Array {
  return bytes(HDR, ...parts);
}

/** Plain, comparable view of an element (iterative, so deep trees are fine). */
export interface ElementSnapshot {
  name: string;
  ns: string;
  attrs: Array<[string, string, string]>;
  children: Array<ElementSnapshot | string>;
}

export function snapshot(root: XmlElement): ElementSnapshot {
  const make = (el: XmlElement): ElementSnapshot => {
    const attrs: Array<[string, string, string]> = el.attributes().map((a) => [a.ns, a.name, a.value]);
    attrs.sort((a, b) => (`${a[0]}\u0000${a[1]}` < `${b[0]}\u0000${b[1]}` ? -1 : 1));
    return { name: el.name, ns: el.ns, attrs, children: [] };
  };
  const top = make(root);
  const stack: Array<[XmlElement, ElementSnapshot]> = [[root, top]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [el, snap] = item;
    for (const child of el.children) {
      if (typeof child === "string") {
        const last = snap.children.length - 1;
        if (last >= 0 && typeof snap.children[last] === "string") snap.children[last] += child;
        else if (child !== "") snap.children.push(child);
      } else {
        const s = make(child);
        snap.children.push(s);
        stack.push([child, s]);
      }
    }
  }
  return top;
}

/** A comparable view of an event. */
export type EventSnapshot =
  | { kind: "stream-open"; element: ElementSnapshot; prefix: string; namespaces: Array<[string, string]> }
  | { kind: "element"; element: ElementSnapshot }
  | { kind: "stream-close" }
  | { kind: "error"; condition: XmlErrorCondition };

export function eventSnapshot(ev: ParseEvent): EventSnapshot {
  switch (ev.kind) {
    case "stream-open":
      return { kind: ev.kind, element: snapshot(ev.element), prefix: ev.prefix, namespaces: [...ev.namespaces] };
    case "element":
      return { kind: ev.kind, element: snapshot(ev.element) };
    case "stream-close":
      return { kind: ev.kind };
    case "error":
      return { kind: ev.kind, condition: ev.error.condition };
  }
}

/** Splits `input` into chunks ending at the given cut points. */
export function split(input: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < input.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(input.subarray(prev, p));
    prev = p;
  }
  out.push(input.subarray(prev));
  return out;
}

/** Every byte its own chunk. */
export function byteChunks(input: Uint8Array): Uint8Array[] {
  return Array.from(input, (b) => Uint8Array.of(b));
}

/** Pushes every chunk (a copy, so the parser cannot rely on the caller's buffer) and drains events. */
export function parseChunks(chunks: readonly Uint8Array[], options?: StreamParserOptions): { events: ParseEvent[]; parser: StreamParser } {
  const parser = new StreamParser(options);
  const events: ParseEvent[] = [];
  for (const chunk of chunks) {
    parser.push(chunk.slice());
    for (let ev = parser.next(); ev !== undefined; ev = parser.next()) events.push(ev);
  }
  return { events, parser };
}

/** Parses `input` in one chunk. */
export function parseWhole(input: Uint8Array, options?: StreamParserOptions): ParseEvent[] {
  return parseChunks([input], options).events;
}

/** Parses `input` one byte at a time. */
export function parseBytewise(input: Uint8Array, options?: StreamParserOptions): ParseEvent[] {
  return parseChunks(byteChunks(input), options).events;
}

export function snapshots(events: readonly ParseEvent[]): EventSnapshot[] {
  return events.map(eventSnapshot);
}

/** The elements among the events. */
export function elements(events: readonly ParseEvent[]): XmlElement[] {
  return events.flatMap((ev) => (ev.kind === "element" ? [ev.element] : []));
}

/** The error event's error, which must be the last event; `undefined` if there is none. */
export function lastError(events: readonly ParseEvent[]) {
  const last = events[events.length - 1];
  const errors = events.filter((e) => e.kind === "error");
  if (errors.length > 1) throw new Error("more than one error event");
  if (errors.length === 1 && last?.kind !== "error") throw new Error("events after the error event");
  return last?.kind === "error" ? last.error : undefined;
}
