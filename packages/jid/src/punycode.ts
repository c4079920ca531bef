/**
 * Punycode (RFC 3492): the Bootstring parameters used by IDNA. Operates on single labels, without the
 * `xn--` prefix. Pure and small; no `URL`, no `node:punycode`.
 */

const BASE = 36;
const TMIN = 1;
const TMAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 0x80;
const MAX_INT = 0x7fffffff;

/** RFC 3492 §6.1 bias adaptation. */
function adapt(delta: number, numPoints: number, firstTime: boolean): number {
  delta = firstTime ? Math.floor(delta / DAMP) : delta >> 1;
  delta += Math.floor(delta / numPoints);
  let k = 0;
  while (delta > ((BASE - TMIN) * TMAX) >> 1) {
    delta = Math.floor(delta / (BASE - TMIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - TMIN + 1) * delta) / (delta + SKEW));
}

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 26; // 0-9 → 26-35
  if (c >= 0x41 && c <= 0x5a) return c - 0x41; // A-Z
  if (c >= 0x61 && c <= 0x7a) return c - 0x61; // a-z
  return -1;
}

function digitChar(d: number): string {
  return String.fromCharCode(d < 26 ? d + 0x61 : d - 26 + 0x30); // lowercase output
}

/** Thrown by {@link punycodeDecode} and {@link punycodeEncode} on invalid input or overflow. */
export class PunycodeError extends Error {
  /** @param message - what was wrong */
  constructor(message: string) {
    super(message);
    this.name = "PunycodeError";
  }
}

/**
 * Decodes a Punycode string (RFC 3492 §6.2) into Unicode. The input must be ASCII; mixed-case annotations
 * are ignored (digits are case-insensitive, basic code points are kept as written).
 *
 * @throws {@link PunycodeError} on a bad digit, overflow, or a result that is not a Unicode scalar value
 */
export function punycodeDecode(input: string): string {
  const output: number[] = [];
  const delim = input.lastIndexOf("-");
  const basicEnd = Math.max(delim, 0);
  for (let j = 0; j < basicEnd; j++) {
    const c = input.charCodeAt(j);
    if (c >= 0x80) throw new PunycodeError("non-ASCII code point in Punycode input");
    output.push(c);
  }
  let n = INITIAL_N;
  let bias = INITIAL_BIAS;
  let i = 0;
  for (let pos = delim < 0 ? 0 : delim + 1; pos < input.length; ) {
    const oldi = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (pos >= input.length) throw new PunycodeError("truncated Punycode input");
      const digit = digitValue(input.charCodeAt(pos++));
      if (digit < 0) throw new PunycodeError("invalid Punycode digit");
      if (digit > Math.floor((MAX_INT - i) / w)) throw new PunycodeError("Punycode overflow");
      i += digit * w;
      const t = Math.min(Math.max(k - bias, TMIN), TMAX);
      if (digit < t) break;
      if (w > Math.floor(MAX_INT / (BASE - t))) throw new PunycodeError("Punycode overflow");
      w *= BASE - t;
    }
    const len = output.length + 1;
    bias = adapt(i - oldi, len, oldi === 0);
    if (Math.floor(i / len) > MAX_INT - n) throw new PunycodeError("Punycode overflow");
    n += Math.floor(i / len);
    i %= len;
    if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) throw new PunycodeError("Punycode decodes to a non-scalar value");
    output.splice(i, 0, n);
    i++;
  }
  let s = "";
  for (const cp of output) s += String.fromCodePoint(cp);
  return s;
}

/**
 * Encodes a Unicode string with Punycode (RFC 3492 §6.3). Basic (ASCII) code points are copied as they
 * are, followed by `-` when there were any; digits are written in lowercase.
 *
 * @throws {@link PunycodeError} on a lone surrogate or overflow
 */
export function punycodeEncode(input: string): string {
  const cps: number[] = [];
  for (const ch of input) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) throw new PunycodeError("lone surrogate in Punycode input");
    cps.push(cp);
  }
  let out = "";
  for (const cp of cps) if (cp < 0x80) out += String.fromCharCode(cp);
  const b = out.length;
  let h = b;
  if (b > 0) out += "-";
  let n = INITIAL_N;
  let delta = 0;
  let bias = INITIAL_BIAS;
  while (h < cps.length) {
    let m = 0x10ffff + 1;
    for (const cp of cps) if (cp >= n && cp < m) m = cp;
    if (m - n > Math.floor((MAX_INT - delta) / (h + 1))) throw new PunycodeError("Punycode overflow");
    delta += (m - n) * (h + 1);
    n = m;
    for (const cp of cps) {
      if (cp < n && ++delta > MAX_INT) throw new PunycodeError("Punycode overflow");
      if (cp === n) {
        let q = delta;
        for (let k = BASE; ; k += BASE) {
          const t = Math.min(Math.max(k - bias, TMIN), TMAX);
          if (q < t) break;
          out += digitChar(t + ((q - t) % (BASE - t)));
          q = Math.floor((q - t) / (BASE - t));
        }
        out += digitChar(q);
        bias = adapt(delta, h + 1, h === b);
        delta = 0;
        h++;
      }
    }
    delta++;
    n++;
  }
  return out;
}
