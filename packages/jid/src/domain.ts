import { bidiRuleViolation, contextRuleHolds, derivedProperty, hasRightToLeft, widthMap } from "@xmpp-sansio/precis";
import { JidError, utf8Length } from "./errors.js";
import { PunycodeError, punycodeDecode, punycodeEncode } from "./punycode.js";

const fail = (reason: "empty" | "too-long" | "forbidden-char" | "invalid-domain" | "invalid-ip", message: string): never => {
  throw new JidError("domain", reason, message);
};

// ---------------------------------------------------------------------------------------------------------
// IP literals (RFC 7622 §3.2: IP-literal / IPv4address from RFC 3986).

const RE_IPV4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/** Parses an IPv6 address (RFC 4291 §2.2 text forms) into 8 groups, or undefined. */
function parseIpv6(s: string): number[] | undefined {
  let tail4: number[] | undefined;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".", lastColon)) {
    const v4 = s.slice(lastColon + 1);
    if (!RE_IPV4.test(v4)) return undefined;
    const o = v4.split(".").map(Number);
    tail4 = [(o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!];
    s = `${s.slice(0, lastColon + 1)}0:0`; // placeholder groups, replaced below
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const groups: number[] = [];
    for (const g of part.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      groups.push(Number.parseInt(g, 16));
    }
    return groups;
  };
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === undefined || rest === undefined) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    if (head.length + rest.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  } else {
    if (head.length !== 8) return undefined;
    groups = head;
  }
  if (tail4 !== undefined) groups.splice(6, 2, tail4[0]!, tail4[1]!);
  return groups;
}

/** RFC 5952 canonical text of an IPv6 address (lowercase, no leading zeros, longest zero run as `::`). */
function formatIpv6(g: readonly number[]): string {
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `::ffff:${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`; // IPv4-mapped (§5)
  }
  let bestStart = -1;
  let bestLen = 1; // a single 0 group is not shortened (§4.2.2)
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

// ---------------------------------------------------------------------------------------------------------
// Domain names: NR-LDH labels and U-labels (IDNA2008, RFC 5890-5893), A-labels converted to U-labels.

const RE_ASCII_DOMAIN = /^[a-z0-9.-]+$/;
const RE_LDH_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const RE_STARTS_WITH_MARK = /^\p{M}/u;
const LABEL_SEPARATORS = /[\u3002\uff0e\uff61]/g;

function codePoints(s: string): number[] {
  const cps: number[] = [];
  for (const c of s) cps.push(c.codePointAt(0)!);
  return cps;
}

/** IDNA2008 blocks whose code points are DISALLOWED although PRECIS would have them PVALID (RFC 5892 §2.5). */
function inIgnorableBlock(cp: number): boolean {
  return (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0x1d100 && cp <= 0x1d24f);
}

/** Validates a U-label (already mapped: lowercase, NFC). Returns its code points. */
function checkULabel(label: string, domain: string): number[] {
  if (label.startsWith("-") || label.endsWith("-")) fail("invalid-domain", `label "${label}" of "${domain}" begins or ends with a hyphen`);
  if (label.slice(2, 4) === "--") fail("invalid-domain", `label "${label}" of "${domain}" has hyphens in the third and fourth positions`);
  if (RE_STARTS_WITH_MARK.test(label)) fail("invalid-domain", `label "${label}" of "${domain}" begins with a combining mark`);
  const cps = codePoints(label);
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i]!;
    if (cp < 0x80) {
      if (!((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x30 && cp <= 0x39) || cp === 0x2d)) {
        fail("forbidden-char", `"${domain}" contains "${String.fromCharCode(cp)}", which is not allowed in a domain name`);
      }
      continue;
    }
    const p = derivedProperty(cp);
    const ok = p === "PVALID" ? !inIgnorableBlock(cp) : p === "CONTEXTJ" || p === "CONTEXTO" ? contextRuleHolds(cps, i) : false;
    if (!ok) {
      fail("invalid-domain", `"${domain}" contains U+${cp.toString(16).toUpperCase().padStart(4, "0")}, which IDNA2008 does not allow here`);
    }
  }
  return cps;
}

/** Converts a label starting with `xn--` to its U-label, checking it is a genuine A-label. */
function aLabelToULabel(label: string, domain: string): string {
  let u: string;
  try {
    u = punycodeDecode(label.slice(4));
  } catch (e) {
    if (e instanceof PunycodeError) return fail("invalid-domain", `label "${label}" of "${domain}" is not valid Punycode`);
    throw e;
  }
  // The decoded label must need Punycode, already be in mapped form and encode back to the same A-label.
  if (/^[\x00-\x7f]*$/.test(u) || u !== u.toLowerCase().normalize("NFC") || widthMap(u) !== u || `xn--${punycodeEncode(u)}` !== label) {
    fail("invalid-domain", `label "${label}" of "${domain}" is not a valid A-label`);
  }
  return u;
}

/**
 * Prepares and enforces a domainpart (RFC 7622 §3.2): strips one trailing label separator, accepts IPv4 and
 * bracketed IPv6 literals (IPv6 in RFC 5952 canonical form), maps label separators, width, case and NFC,
 * converts A-labels to U-labels and checks NR-LDH/U-label rules (IDNA2008: code points, hyphens,
 * contextual rules, Bidi Rule, 63-octet labels, 1023 octets in total).
 *
 * @throws {@link JidError} with `part: "domain"`
 */
export function prepareDomain(input: string): string {
  let s = input;
  // RFC 7622 §3.2: a final label separator is stripped before anything else.
  if (/[.\u3002\uff0e\uff61]$/.test(s)) s = s.slice(0, -1);
  if (s.length === 0) fail("empty", "the domainpart is empty");

  if (s.startsWith("[")) {
    if (!s.endsWith("]")) fail("invalid-ip", `"${input}" is not a valid IPv6 literal`);
    const groups = parseIpv6(s.slice(1, -1));
    if (groups === undefined) return fail("invalid-ip", `"${input}" is not a valid IPv6 literal`);
    return `[${formatIpv6(groups)}]`;
  }

  // Fast path: lowercase ASCII letters, digits, dots and hyphens.
  if (!RE_ASCII_DOMAIN.test(s)) s = widthMap(s.replace(LABEL_SEPARATORS, ".")).toLowerCase().normalize("NFC");
  if (/^[0-9.]+$/.test(s)) {
    if (!RE_IPV4.test(s)) fail("invalid-ip", `"${input}" is not a valid IPv4 address`);
    return s;
  }
  if (utf8Length(s) > 1023) fail("too-long", "the domainpart is longer than 1023 octets");

  const labels = s.split(".");
  const out: string[] = [];
  const labelCps: number[][] = [];
  let needsBidi = false;
  for (const label of labels) {
    if (label.length === 0) fail("invalid-domain", `"${input}" has an empty label`);
    if (RE_LDH_LABEL.test(label) && label.slice(2, 4) !== "--") {
      out.push(label); // NR-LDH label
      labelCps.push(codePoints(label));
      continue;
    }
    let u = label;
    if (label.startsWith("xn--")) u = aLabelToULabel(label, input);
    else if (/^[\x00-\x7f]*$/.test(label)) {
      if (!/^[a-z0-9-]*$/.test(label)) {
        fail("forbidden-char", `"${input}" contains a character that is not allowed in a domain name`);
      }
      fail("invalid-domain", `label "${label}" of "${input}" is not a valid LDH label (hyphens or length)`);
    }
    const cps = checkULabel(u, input);
    if (punycodeEncode(u).length + 4 > 63) fail("too-long", `label "${u}" of "${input}" is longer than 63 octets as an A-label`);
    if (hasRightToLeft(cps)) needsBidi = true;
    out.push(u);
    labelCps.push(cps);
  }
  if (needsBidi) {
    // RFC 5893: in a Bidi domain name every label must satisfy the Bidi Rule.
    for (let i = 0; i < labelCps.length; i++) {
      if (bidiRuleViolation(labelCps[i]!, true) >= 0) fail("invalid-domain", `label "${out[i]}" of "${input}" violates the Bidi Rule (RFC 5893)`);
    }
  }
  const result = out.join(".");
  if (utf8Length(result) > 1023) fail("too-long", "the domainpart is longer than 1023 octets");
  return result;
}
