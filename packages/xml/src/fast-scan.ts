// The parser's fast path: a WebAssembly scanner (wasm/scan.ts) that validates complete top-level elements
// on bytes and records their tokens on a tape, from which StreamParser builds the elements with the same
// code as its slow path. The scanner accepts a strict subset of well-formed XML and hands everything else
// back ("bail"), so it can make parsing faster but never more lenient. Where WebAssembly is unavailable
// (or refused, e.g. by a Content-Security-Policy without 'wasm-unsafe-eval'), the parser runs without it.
import { UTF8_DECODER } from "./chars.js";
import { FAST_SCAN_MODULE } from "./fast-scan-module.js";
import { NS_XML, NS_XMLNS } from "./namespaces.js";

/**
 * Tape record kinds (low 4 bits of a record's first field), as written by wasm/scan.ts. Bit 4 of an
 * R_START marks a self-closing tag, of an R_ATTR or R_TEXT a value in the mixed pool ({@link R_MIXED});
 * bits 8 and up of R_START and R_ATTR are the id of the name (0: not interned, then it is in the ASCII
 * pool). Value offsets are UTF-16 indices into their pool's string, from the element's base there.
 * Records have one to five fields (see wasm/scan.ts): R_START [head, tag offset], R_ATTR and R_TEXT
 * [head, value start, value end], R_END [head], and a name that is not interned adds [start, end].
 */
export const R_START = 1;
export const R_ATTR = 2;
export const R_TEXT = 3;
export const R_END = 4;
export const R_MIXED = 1 << 4;
// 5 (R_STANZA) opens each element's records: [5, byte start, byte end, ASCII base, mixed base].
/** Scan results the parser tells apart (1, bail, and 2, not an element, both mean: parse in JavaScript). */
export const SCAN_NEED_MORE = 0;
export const SCAN_TAPE_FULL = 3;

/** Input bytes handed to one scan at most: enough for any element within the default limits. */
const MIN_WINDOW = 64 * 1024;
/** Spare tapes kept for reuse (each as long as the module's, TAPE_INTS). */
const MAX_SPARE_TAPES = 4;
const MAX_WINDOW = 1024 * 1024 + 1;
const PAGE = 65536;

interface Global {
  readonly value: number;
}
interface ScanExports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  readonly init: () => void;
  readonly scan: (
    pos: number,
    end: number,
    asciiAt: number,
    mixedAt: number,
    maxDepth: number,
    maxAttributes: number,
    maxName: number,
    stanzaLimit: number,
    resume: number,
    maxElements: number,
  ) => number;
  readonly consumed: Global;
  readonly tapeLength: Global;
  readonly TAPE: Global;
  readonly TAPE_INTS: Global;
  readonly INPUT: Global;
  readonly namesFull: Global;
  readonly nameCount: Global;
  readonly NAMES: Global;
  readonly asciiEnd: Global;
  readonly mixedEnd: Global;
  readonly resumable: Global;
  readonly resumeFrom: Global;
  readonly keptLength: Global;
  readonly resetNames: () => void;
}
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}

/** A name from the tape, made once per id (see {@link Scanned.names}). */
export interface TapeName {
  readonly qname: string;
  readonly prefix: string;
  readonly local: string;
  /** As an attribute's name: one of the NAME_* kinds. */
  readonly kind: number;
}

/** Kinds of attribute names: unprefixed, `xmlns`, `xml:…`, anything else (`xmlns:…`, other prefixes). */
export const NAME_PLAIN = 0;
export const NAME_DEFAULT_NS = 1;
export const NAME_XML = 2;
export const NAME_OTHER = 4;

/** What one scan found: complete top-level elements, for a parser to build. */
export interface Scanned {
  /** The records (R_STANZA, then the element's records, for each element), in `tape[0..length)`. */
  readonly tape: Int32Array;
  readonly length: number;
  /**
   * The values (attribute values, character data) that are all ASCII, and the others: the pools, with
   * references replaced and line ends and attribute whitespace normalised, and names that are not interned.
   * Kept small (wasm/scan.ts POOL_BATCH): a value sliced from a pool may keep the pool's string alive.
   */
  readonly ascii: string;
  readonly mixed: string;
  /**
   * The names of the ids on the tape. The module's id space is shared by all parsers; when it fills up
   * the module starts a new one with a new array, so a tape taken earlier keeps the array its ids belong to.
   */
  readonly names: readonly TapeName[];
}

/** Limits the scanner applies (a subset of XmlLimits, passed per call so each parser keeps its own). */
export interface ScanLimits {
  readonly maxStanzaBytes: number;
  readonly maxDepth: number;
  readonly maxElements: number;
  readonly maxAttributes: number;
  readonly maxNameLength: number;
}

/**
 * One scanner per realm, shared by all parsers: a scan runs within one synchronous call and its results
 * (the tape) are copied out before it returns, so parsers never see each other's state.
 */
export class FastScanner {
  private readonly x: ScanExports;
  private readonly tapeAt: number;
  private readonly inputAt: number;
  private bytes: Uint8Array;
  private ints: Int32Array;
  /** Input bytes one scan may take; the two pools lie after them. */
  private capacity = 0;
  // The incomplete element the module keeps for resuming (see `resumable` in wasm/scan.ts): the parser it
  // belongs to, the absolute offset of its start in that parser's input, and the capacity it was kept at
  // (its values so far lie in the pools, which move when the capacity grows).
  private keptFor: object | null = null;
  private keptAt = 0;
  private keptCapacity = 0;
  private readonly spareTapes: Int32Array[] = [];
  // How far the kept element's records are known to hold only usual start tags (see `suspect`): the
  // element's absolute start and the number of record fields checked.
  private checkedAt = -1;
  private checkedLength = 0;
  /** Results of the last {@link scan}: where it stopped (an index into the caller's buffer), what it found. */
  consumed = 0;
  scanned: Scanned | undefined;
  /** Add to a byte address on the tape to get an index into the caller's buffer. */
  addressToIndex = 0;
  /** Whether the last scan saw only a window of the bytes it was given. */
  windowCut = false;
  /** The names of the current id space (see {@link Scanned.names}), made as the module gives out ids. */
  names: TapeName[] = [EMPTY_NAME];
  /**
   * After a scan that ran out of input inside an element it can resume: the absolute offset of the token
   * the input cut, from which the next scan of that element will go on (see {@link canResume}).
   */
  resumeAt = -1;
  /**
   * After a scan that ran out of input inside an element (with {@link resumeAt}): whether a complete
   * start tag of that element is not the usual kind (a prefix, an `xmlns:` declaration, an attribute
   * twice, a reserved default namespace, a name not interned). Its namespaces and duplicates are
   * checked by the JavaScript side, which would do so only once the element is complete; such an
   * element should be handed to the JavaScript parser now, so that an error in it is reported when the
   * tag has arrived, however the input is chunked.
   */
  suspect = false;

  constructor(x: ScanExports) {
    this.x = x;
    this.tapeAt = x.TAPE.value;
    this.inputAt = x.INPUT.value;
    this.reserve(MIN_WINDOW);
    x.init();
    this.bytes = new Uint8Array(x.memory.buffer);
    this.ints = new Int32Array(x.memory.buffer);
  }

  /** Room for `inputBytes` of input and as many in each pool, each padded. */
  private reserve(inputBytes: number): void {
    if (inputBytes <= this.capacity) return;
    this.capacity = inputBytes;
    const memory = this.x.memory;
    const need = this.inputAt + 4 * (inputBytes + 16) + 32;
    if (memory.buffer.byteLength < need) {
      memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
      this.bytes = new Uint8Array(memory.buffer);
      this.ints = new Int32Array(memory.buffer);
    }
  }

  /**
   * Whether the module still holds `owner`'s incomplete element starting at absolute offset `at`, as its
   * last scan left it, so that scanning it again with more input resumes it. Other scans in between (any
   * parser's) or a new id space end that.
   */
  canResume(owner: object, at: number): boolean {
    return this.keptFor === owner && this.keptAt === at && this.keptCapacity === this.capacity;
  }

  /**
   * Takes back the tape of a {@link Scanned} its holder has built all elements from and no longer
   * refers to, for a later scan (saves allocating one per scan).
   */
  recycle(scanned: Scanned): void {
    if (this.spareTapes.length < MAX_SPARE_TAPES) this.spareTapes.push(scanned.tape);
  }

  /** Drops what the module keeps for `owner` (its input or limits changed). */
  forget(owner: object): void {
    if (this.keptFor === owner) this.keptFor = null;
  }

  /**
   * Scans `buf[from..to)`: copies (at most a window of) it into the module's memory and runs the scanner.
   * The window is 64 KiB (copying is the price of every scan), or with `wide` as much as one element may
   * take under the limits (at most 1 MiB). Returns a SCAN_* status and sets {@link consumed}, {@link scanned},
   * {@link addressToIndex}, {@link windowCut} (then SCAN_NEED_MORE only means the window ended) and
   * {@link resumeAt}. `owner` and `base` (the absolute offset of `buf[0]`) identify the input for resuming.
   */
  scan(buf: Uint8Array, from: number, to: number, limits: ScanLimits, wide: boolean, owner: object, base: number): number {
    const full = Math.max(MIN_WINDOW, Math.min(limits.maxStanzaBytes, MAX_WINDOW - 1) + 1);
    const window = Math.min(to - from, wide ? full : MIN_WINDOW);
    this.reserve(window);
    const resume = this.canResume(owner, base + from) ? 1 : 0;
    this.keptFor = null;
    const input = this.inputAt;
    this.bytes.set(buf.subarray(from, from + window), input);
    const x = this.x;
    const asciiAt = input + this.capacity + 16;
    const mixedAt = asciiAt + this.capacity + 16; // UTF-16: up to twice as many bytes
    const status = x.scan(input, input + window, asciiAt, mixedAt, limits.maxDepth, limits.maxAttributes, limits.maxNameLength, Math.min(limits.maxStanzaBytes, 0x7fffffff), resume, Math.min(limits.maxElements, 0x7fffffff));
    this.addressToIndex = from - input;
    this.consumed = x.consumed.value + this.addressToIndex;
    const length = x.tapeLength.value;
    this.scanned = undefined;
    const names = this.names;
    for (let id = names.length; id <= x.nameCount.value; id++) names.push(this.makeName(id));
    if (length > 0) {
      const tape = this.spareTapes.pop() ?? new Int32Array(x.TAPE_INTS.value);
      tape.set(new Int32Array(x.memory.buffer, this.tapeAt, length));
      // The pools now: the next scan, by any parser, overwrites them.
      const asciiEnd = x.asciiEnd.value;
      const mixedEnd = x.mixedEnd.value;
      const ascii = asciiEnd > asciiAt ? UTF8_DECODER.decode(this.bytes.subarray(asciiAt, asciiEnd)) : "";
      const mixed = mixedEnd > mixedAt ? UTF16.decode(this.bytes.subarray(mixedAt, mixedEnd)) : "";
      this.scanned = { tape, length, ascii, mixed, names };
    }
    this.windowCut = from + window < to;
    this.resumeAt = -1;
    this.suspect = false;
    if (status === SCAN_NEED_MORE && !this.windowCut && x.resumable.value !== 0) {
      this.keptFor = owner;
      this.keptAt = base + this.consumed;
      this.keptCapacity = this.capacity;
      this.resumeAt = this.keptAt + x.resumeFrom.value;
      this.suspect = this.checkKept(owner, resume !== 0, length, names);
    }
    if (x.namesFull.value !== 0) {
      // The kept records hold ids of the old space.
      x.resetNames();
      this.names = [EMPTY_NAME];
      this.keptFor = null;
    }
    return status;
  }

  /**
   * Whether the start tags among the records the module keeps for an incomplete element (after the
   * `tapeLength` fields of complete ones) include one that is not the usual kind (see {@link suspect}).
   * Records already checked for the same element are skipped when the scan resumed it (it kept them as
   * they were); a scan from the element's start checks them again, which the parser allows only once
   * the input has grown by half.
   */
  private checkKept(owner: object, resumed: boolean, tapeLength: number, names: readonly TapeName[]): boolean {
    const x = this.x;
    const ints = this.ints;
    const at = this.tapeAt >> 2;
    const end = at + tapeLength + x.keptLength.value;
    let r = at + tapeLength + 5; // after the R_STANZA slot
    if (resumed && this.checkedAt === this.keptAt && this.keptFor === owner) r = at + tapeLength + this.checkedLength;
    this.checkedAt = this.keptAt;
    const asciiBase = x.asciiEnd.value; // where the kept element's values begin in the ASCII pool
    while (r < end) {
      const head = ints[r]!;
      const kind = head & 15;
      if (kind !== R_START) {
        r += kind === R_END ? 1 : 3;
        continue;
      }
      const start = r;
      const id = head >>> 8;
      if (id === 0 || names[id]!.prefix !== "") return this.suspectAt(start - at - tapeLength);
      r += 2;
      while (r < end && (ints[r]! & 15) === R_ATTR) {
        const h = ints[r]!;
        const attrId = h >>> 8;
        if (attrId === 0) return this.suspectAt(start - at - tapeLength);
        const name = names[attrId]!;
        if (name.kind === NAME_OTHER) return this.suspectAt(start - at - tapeLength);
        for (let q = start + 2; q < r; q += 3) if (ints[q]! >>> 8 === attrId) return this.suspectAt(start - at - tapeLength);
        if (name.kind === NAME_DEFAULT_NS && (h & R_MIXED) === 0) {
          const value = this.bytes.subarray(asciiBase + ints[r + 1]!, asciiBase + ints[r + 2]!);
          if (sameAscii(value, NS_XML) || sameAscii(value, NS_XMLNS)) return this.suspectAt(start - at - tapeLength);
        }
        r += 3;
      }
    }
    this.checkedLength = end - at - tapeLength;
    return false;
  }

  private suspectAt(checked: number): true {
    this.checkedLength = checked;
    return true;
  }

  /** The name of id `id`, from the module's table (names there are ASCII). */
  private makeName(id: number): TapeName {
    const entry = this.x.NAMES.value + 8 * id;
    const bytes = this.bytes;
    const at = bytes[entry]! | (bytes[entry + 1]! << 8) | (bytes[entry + 2]! << 16) | (bytes[entry + 3]! << 24);
    const length = bytes[entry + 4]! | (bytes[entry + 5]! << 8);
    return splitName(String.fromCharCode(...bytes.subarray(at, at + length)));
  }
}

/** A qualified name split at its colon (names on the tape have at most one, neither first nor last). */
export function splitName(qname: string): TapeName {
  const colon = qname.indexOf(":");
  if (colon < 0) return { qname, prefix: "", local: qname, kind: qname === "xmlns" ? NAME_DEFAULT_NS : NAME_PLAIN };
  const prefix = qname.slice(0, colon);
  return { qname, prefix, local: qname.slice(colon + 1), kind: prefix === "xml" ? NAME_XML : NAME_OTHER };
}

const EMPTY_NAME: TapeName = splitName(""); // id 0 (names not interned)

function sameAscii(bytes: Uint8Array, s: string): boolean {
  if (bytes.length !== s.length) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== s.charCodeAt(i)) return false;
  return true;
}
// The mixed pool is UTF-16, which decodes about twice as fast as the same text in UTF-8.
const UTF16 = new TextDecoder("utf-16le", { ignoreBOM: true });
let scanner: FastScanner | null | undefined;

/** The realm's scanner, or `null` where WebAssembly is unavailable. */
export function fastScanner(): FastScanner | null {
  if (scanner === undefined) {
    scanner = null;
    const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
    if (wasm !== undefined) {
      try {
        const instance = new wasm.Instance(new wasm.Module(FAST_SCAN_MODULE), { env: { abort: abortScan } });
        scanner = new FastScanner(instance.exports as ScanExports);
      } catch {
        scanner = null; // e.g. a Content-Security-Policy that forbids compiling WebAssembly
      }
    }
  }
  return scanner;
}

function abortScan(): never {
  throw new Error("fast-scan: abort");
}
