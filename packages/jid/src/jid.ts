import { opaqueString, PrecisError, usernameCaseMapped } from "@xmpp-sansio/precis";
import { prepareDomain } from "./domain.js";
import { JidError, utf8Length } from "./errors.js";

const MAX_PART = 1023;
/** RFC 7622 §3.3.1: code points the localpart never contains, even though IdentifierClass allows them. */
const RE_LOCAL_FORBIDDEN = /["&'/:<>@]/;

function precis(part: "local" | "resource", f: (s: string) => string, s: string): string {
  try {
    return f(s);
  } catch (e) {
    if (e instanceof PrecisError) {
      const what = part === "local" ? "localpart" : "resourcepart";
      throw new JidError(part, e.code === "empty" ? "empty" : "precis", `invalid ${what}: ${e.message}`, e);
    }
    throw e;
  }
}

/**
 * Prepares and enforces a localpart (RFC 7622 §3.3): the UsernameCaseMapped PRECIS profile, minus the
 * eight code points `"&'/:<>@`, 1 to 1023 octets.
 *
 * @throws {@link JidError} with `part: "local"`
 */
export function prepareLocal(s: string): string {
  if (s.length === 0) throw new JidError("local", "empty", "the localpart is empty");
  const out = precis("local", usernameCaseMapped, s);
  const bad = RE_LOCAL_FORBIDDEN.exec(out);
  if (bad !== null) throw new JidError("local", "forbidden-char", `the localpart must not contain '${bad[0]}' (use XEP-0106 escaping)`);
  if (utf8Length(out) > MAX_PART) throw new JidError("local", "too-long", "the localpart is longer than 1023 octets");
  return out;
}

/**
 * Prepares and enforces a resourcepart (RFC 7622 §3.4): the OpaqueString PRECIS profile, 1 to 1023 octets.
 *
 * @throws {@link JidError} with `part: "resource"`
 */
export function prepareResource(s: string): string {
  if (s.length === 0) throw new JidError("resource", "empty", "the resourcepart is empty");
  const out = precis("resource", opaqueString, s);
  if (utf8Length(out) > MAX_PART) throw new JidError("resource", "too-long", "the resourcepart is longer than 1023 octets");
  return out;
}

/** Grants the private constructor to this module's factories only. */
const PREPARED: unique symbol = Symbol("prepared");

/**
 * An XMPP address (RFC 7622) whose parts are prepared and enforced: two `Jid`s are the same address exactly
 * when their parts are equal strings. Immutable. Create one with {@link parseJid}, {@link tryParseJid} or
 * {@link jid}.
 */
export class Jid {
  /** Localpart, UsernameCaseMapped; `""` when absent. */
  readonly local: string;
  /** Domainpart: lowercase, NFC, U-labels; an IP literal for IP addresses. Never empty. */
  readonly domain: string;
  /** Resourcepart, OpaqueString; `""` when absent. */
  readonly resource: string;

  /** The string form, once asked for (a field of the object, so that the JID stays a value). */
  private declare text: string | undefined;
  /** The bare JID, once asked for (a full JID's; a bare JID is its own). */
  private declare bareJid: Jid | undefined;

  /** @internal Use {@link parseJid} or {@link jid}. */
  constructor(token: typeof PREPARED, local: string, domain: string, resource: string) {
    if (token !== PREPARED) throw new TypeError("use parseJid() or jid() to create a Jid");
    this.local = local;
    this.domain = domain;
    this.resource = resource;
    this.text = undefined;
    this.bareJid = undefined;
  }

  /** The bare JID (`local@domain`, or `domain`): this JID without its resource (made once per JID). */
  get bare(): Jid {
    if (this.resource === "") return this;
    let b = this.bareJid;
    if (b === undefined) this.bareJid = b = new Jid(PREPARED, this.local, this.domain, "");
    return b;
  }

  /** Whether this JID has no resourcepart. */
  isBare(): boolean {
    return this.resource === "";
  }

  /** The same bare JID with another resource (prepared with OpaqueString). @throws {@link JidError} */
  withResource(resource: string): Jid {
    return new Jid(PREPARED, this.local, this.domain, prepareResource(resource));
  }

  /** Whether both JIDs are the same address (comparison of the prepared parts). */
  equals(other: Jid): boolean {
    return this === other || (this.domain === other.domain && this.local === other.local && this.resource === other.resource);
  }

  /** The canonical string form, `local@domain/resource` with absent parts omitted. */
  toString(): string {
    if (this.resource === "" && this.local === "") return this.domain;
    // Made once per JID: stamping `from` asks for it with every stanza, and a map keyed by the same string
    // object hashes it once.
    let s = this.text;
    if (s === undefined) {
      s = this.domain;
      if (this.local !== "") s = `${this.local}@${s}`;
      if (this.resource !== "") s = `${s}/${this.resource}`;
      this.text = s;
    }
    return s;
  }

  /** Serialises as the canonical string. */
  toJSON(): string {
    return this.toString();
  }
}

function parse(input: string): Jid {
  // RFC 7622 §3.1: the first '/' starts the resourcepart (which may contain '/' and '@'); in what precedes
  // it, the first '@' ends the localpart.
  const slash = input.indexOf("/");
  const bare = slash < 0 ? input : input.slice(0, slash);
  const at = bare.indexOf("@");
  const domain = prepareDomain(at < 0 ? bare : bare.slice(at + 1));
  const local = at < 0 ? "" : prepareLocal(bare.slice(0, at));
  const resource = slash < 0 ? "" : prepareResource(input.slice(slash + 1));
  return new Jid(PREPARED, local, domain, resource);
}

/**
 * Parses and prepares a JID string (RFC 7622 §3): splits it (§3.1), enforces UsernameCaseMapped on the
 * localpart, the domain rules on the domainpart and OpaqueString on the resourcepart.
 *
 * @throws {@link JidError} naming the part at fault; never any other error for a string argument
 * @example
 * ```ts
 * parseJid("Juliet@Example.COM/Balcony").toString() // "juliet@example.com/Balcony"
 * ```
 */
export function parseJid(input: string): Jid {
  if (typeof input !== "string") throw new JidError("jid", "empty", "a JID must be a string");
  if (input.length === 0) throw new JidError("jid", "empty", "the JID is empty");
  return parse(input);
}

/**
 * Like {@link parseJid}, for input from peers: returns the {@link JidError} instead of throwing it.
 *
 * @example
 * ```ts
 * const to = tryParseJid(attr);
 * if (to instanceof JidError) return reply("jid-malformed", to.message);
 * ```
 */
export function tryParseJid(input: string): Jid | JidError {
  try {
    return parseJid(input);
  } catch (e) {
    if (e instanceof JidError) return e;
    throw e;
  }
}

/**
 * Builds a JID from its parts, preparing each. An absent or empty `local`/`resource` means "no such part";
 * the parts are not split again, so `@` or `/` inside them are judged by the part's own rules (a resource
 * may contain both, a localpart neither).
 *
 * @throws {@link JidError}
 * @example
 * ```ts
 * jid("Juliet", "example.com", "balcony/east").toString() // "juliet@example.com/balcony/east"
 * ```
 */
export function jid(local: string | undefined, domain: string, resource?: string): Jid {
  const d = prepareDomain(domain);
  const l = local === undefined || local === "" ? "" : prepareLocal(local);
  const r = resource === undefined || resource === "" ? "" : prepareResource(resource);
  return new Jid(PREPARED, l, d, r);
}
