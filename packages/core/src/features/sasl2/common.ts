/**
 * What both roles of SASL2 (XEP-0388), Bind2 (XEP-0386) and the SASL2 tasks share: namespaces, the
 * settings, the task contract, and the small element helpers.
 *
 * @module
 */
import { type SaslCondition, isSaslCondition } from "@xmpp-sansio/sasl";
import { XmlElement } from "@xmpp-sansio/xml";
import { NS_XMPP_SASL } from "../../sasl-failure.js";
import { el, trimmedText } from "../../util.js";
import type { FastServerOptions, FastToken, HtMechanism } from "./fast.js";

/** `urn:xmpp:sasl:2` (XEP-0388 Extensible SASL Profile). */
export const NS_SASL2 = "urn:xmpp:sasl:2";
/** `urn:xmpp:bind:0` (XEP-0386 Bind 2). */
export const NS_BIND2 = "urn:xmpp:bind:0";

/** The `<user-agent/>` a client sends (XEP-0388 §2.3). */
export interface UserAgent {
  /** A stable identifier of this installation (UUIDv4 recommended): Bind2 resources and FAST tokens hang on it. */
  readonly id: string;
  /** The client software's name (`<software/>`), e.g. `Conversations`. */
  readonly software?: string;
  /** The device's name (`<device/>`), e.g. `juliet's phone`; servers show it in session lists. */
  readonly device?: string;
}

/** Client settings of SASL2 (the `sasl2` option of `ClientSession`; `false` turns SASL2 off). */
export interface Sasl2ClientSettings {
  /** Our `<user-agent/>`; without it there is no FAST and no stable Bind2 resource. */
  readonly userAgent?: UserAgent;
  /**
   * Bind2 inline binding (when offered), tag = the user agent's software (or `xmpp-sansio`). Default on
   * with a bare JID; with a full JID default off, because the server picks the Bind2 resource (XEP-0386
   * §2.3) and the JID asks for its own: the client binds that resource the RFC 6120 way after SASL2.
   */
  readonly bind2?: { readonly tag?: string } | false;
  /**
   * FAST (XEP-0484): `token` logs in without the password (when the server offers its mechanism);
   * `request` asks for a token (default: the first channel-bound HT mechanism the server offers, else
   * `HT-SHA-256-NONE`). `invalidate` logs in once more with the token and drops it (logout).
   */
  readonly fast?: {
    readonly token?: FastToken;
    readonly request?: boolean | HtMechanism;
    readonly invalidate?: boolean;
    /** Wall-clock ms since the epoch, to skip an expired token. */
    readonly wallClock?: () => number;
  };
  /** Tasks this client can run when the server asks (`<continue/>`). */
  readonly tasks?: readonly Sasl2ClientTask[];
  /** Refuse RFC 6120 SASL when SASL2 is not offered. Default false (fall back). */
  readonly required?: boolean;
}

/** Server settings of SASL2 (the `sasl2` option of `ServerSession`). */
export interface Sasl2ServerSettings {
  /** Keep offering RFC 6120 SASL beside SASL2. Default true. */
  readonly sasl1?: boolean;
  /** Offer Bind2 inline binding. Default true. */
  readonly bind2?: boolean;
  /**
   * Namespaces of the application's own Bind2 inline features (XEP-0386 §2.4), e.g. XEP-0280 carbons
   * `urn:xmpp:carbons:2`: listed in the offer as `<feature var/>`; the client's elements of those
   * namespaces inside `<bind/>` reach the application once bound, as the feature event
   * `{ feature: "sasl2", name: "bind2-inline", data: XmlElement[] }` (right after `online`). XEP-0198 is the
   * core's own and needs no entry.
   */
  readonly bind2Inline?: readonly string[];
  /** FAST tokens; omitted: not offered. */
  readonly fast?: FastServerOptions;
  /** Tasks the server may require after authentication (`<continue/>`). */
  readonly tasks?: readonly Sasl2ServerTask[];
}

/** What a server task knows about the login it follows. */
export interface Sasl2LoginInfo {
  /** The authenticated account (localpart). */
  readonly username: string;
  /** The SASL mechanism the login used. */
  readonly mechanism: string;
  /** The client's `<user-agent id>`, if it sent one. */
  readonly userAgentId: string | undefined;
  /** The XEP-0480 upgrade tasks the client announced (`<upgrade/>` in `<authenticate/>`). */
  readonly upgrades: readonly string[];
}

/** One step of a task: send `<task-data/>` with these children, finish, or fail the login. */
export type Sasl2TaskStep =
  | { readonly data: readonly XmlElement[] }
  | { readonly done: true; /** additional data for `<success/>` */ readonly additional?: Uint8Array }
  | { readonly fail: SaslCondition; readonly text?: string };

/** A task the server may require (XEP-0388 §2.5): named in `<continue/>`, run via `<next task/>`. */
export interface Sasl2ServerTask {
  /** The task name (e.g. `UPGR-SCRAM-SHA-256`). */
  readonly name: string;
  /** Whether this login must run it. */
  required(info: Sasl2LoginInfo): boolean;
  /** One run: `start` at `<next/>`, `data` at each `<task-data/>` of the client. */
  create(info: Sasl2LoginInfo, emit: (name: string, data: unknown) => void): {
    start(): Sasl2TaskStep;
    data(children: readonly XmlElement[]): Sasl2TaskStep;
  };
}

/** A task the client can run: answers each `<task-data/>` of the server. */
export interface Sasl2ClientTask {
  /** The task name the server sends in `<next task/>` (e.g. `UPGR-SCRAM-SHA-256`). */
  readonly name: string;
  /** One run; `password` is the one this login used (if any). Return the children of our `<task-data/>`, or an error text (abort). */
  create(info: { readonly password: string | undefined; readonly username: string }): {
    /** Answers one `<task-data/>` of the server: the children of ours, or `{ error }` to abort the login. */
    data(children: readonly XmlElement[]): readonly XmlElement[] | { readonly error: string };
  };
}

/** `<failure xmlns='urn:xmpp:sasl:2'>` with an RFC 6120 condition and text. */
export function sasl2Failure(condition: SaslCondition, text: string | undefined): XmlElement {
  const f = el("failure", NS_SASL2, null, el(condition, NS_XMPP_SASL));
  if (text !== undefined) f.append(el("text", NS_SASL2, null, text));
  return f;
}

/** Reads a SASL2 `<failure/>`: the condition (first child in the SASL namespace) and `<text/>`. */
export function parseSasl2Failure(e: XmlElement): { condition: string; text?: string } {
  const cond = e.elements().find((c) => c.ns === NS_XMPP_SASL && c.name !== "text");
  const text = e.getChild("text", NS_SASL2) ?? e.getChild("text", NS_XMPP_SASL);
  const condition = cond !== undefined && isSaslCondition(cond.name) ? cond.name : "not-authorized";
  return text === undefined ? { condition } : { condition, text: trimmedText(text) };
}

/** The text of a child in the SASL2 namespace, or `undefined` when absent. */
export function childText(e: XmlElement, name: string): string | undefined {
  const c = e.getChild(name, NS_SASL2);
  return c === undefined ? undefined : trimmedText(c);
}

/** `<name xmlns='urn:xmpp:sasl:2'>children</name>`. */
export function s2(name: string, attrs?: Record<string, string | undefined> | null, ...children: (XmlElement | string)[]): XmlElement {
  return new XmlElement(name, NS_SASL2, attrs ?? null, children);
}
