/**
 * SASL failures (RFC 6120 §6.5): building and parsing `<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>`.
 * The condition names are those of `@xmpp-sansio/sasl` ({@link SaslCondition}), whose mechanisms return
 * them; this module is the XML side.
 *
 * @module
 */
import { SASL_CONDITIONS, type SaslCondition, isSaslCondition } from "@xmpp-sansio/sasl";
import { XmlElement } from "@xmpp-sansio/xml";

/** Namespace of SASL negotiation (RFC 6120 §6.4). */
export const NS_XMPP_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";

/** The 11 SASL failure conditions of RFC 6120 §6.5 (the same type as `@xmpp-sansio/sasl`'s `SaslCondition`). */
export type SaslFailureCondition = SaslCondition;

/** All 11 conditions of RFC 6120 §6.5.1–§6.5.11, in the RFC's order. */
export const SASL_FAILURE_CONDITIONS: readonly SaslFailureCondition[] = SASL_CONDITIONS;

/** Whether `name` is one of the 11 SASL failure condition names of RFC 6120 §6.5. */
export function isSaslFailureCondition(name: string): name is SaslFailureCondition {
  return isSaslCondition(name);
}

/** A SASL failure as a value: what `<failure/>` carries (RFC 6120 §6.4.5, §6.5). */
export interface SaslFailure {
  /** The defined condition. */
  condition: SaslFailureCondition;
  /** Descriptive text; may be shown to a human, as a supplement to the condition (§6.5). */
  text?: string;
  /** The `xml:lang` of {@link SaslFailure.text}. */
  lang?: string;
  /**
   * Set by {@link parseSaslFailure} when the peer sent a condition this implementation does not know
   * (its element name, or `""` when `<failure/>` had no condition at all): RFC 6120 §6.5 requires an
   * unknown condition to be treated as `not-authorized`, which {@link SaslFailure.condition} then is.
   */
  unknownCondition?: string;
}

/**
 * Builds `<failure/>` in the SASL namespace: the condition element, then `<text xml:lang>` if given.
 * SASL failures have no application-specific conditions (RFC 6120 §6.5).
 *
 * @throws TypeError for an unknown condition
 * @example
 * ```ts
 * buildSaslFailure({ condition: "not-authorized" });
 * // <failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>
 * ```
 */
export function buildSaslFailure(failure: Pick<SaslFailure, "condition" | "text" | "lang">): XmlElement {
  if (!isSaslCondition(failure.condition)) throw new TypeError(`unknown SASL failure condition "${String(failure.condition)}"`);
  const el = new XmlElement("failure", NS_XMPP_SASL, null, [new XmlElement(failure.condition, NS_XMPP_SASL)]);
  if (failure.text !== undefined) {
    const text = new XmlElement("text", NS_XMPP_SASL, null, [failure.text]);
    if (failure.lang !== undefined) text.setAttr("xml:lang", failure.lang);
    el.append(text);
  }
  return el;
}

/**
 * Reads a `<failure/>` from the peer. Never throws, whatever the tree. The condition is the first child
 * in the SASL namespace other than `<text/>`. An unknown condition — and a `<failure/>` without one,
 * which the RFC 6120 schema (Appendix A.4, `minOccurs='0'`) permits — is `not-authorized`, as RFC 6120
 * §6.5 requires ("MUST treat the unknown condition as a generic authentication failure, i.e., as
 * equivalent to `<not-authorized/>`"); {@link SaslFailure.unknownCondition} records what was received.
 */
export function parseSaslFailure(el: XmlElement): SaslFailure {
  try {
    let condEl: XmlElement | undefined;
    let textEl: XmlElement | undefined;
    for (const child of el.children) {
      if (!(child instanceof XmlElement) || child.ns !== NS_XMPP_SASL) continue;
      if (child.name === "text") textEl ??= child;
      else condEl ??= child;
    }
    let out: SaslFailure;
    if (condEl !== undefined && isSaslCondition(condEl.name)) out = { condition: condEl.name };
    else out = { condition: "not-authorized", unknownCondition: condEl?.name ?? "" };
    if (textEl !== undefined) {
      out.text = textEl.text();
      const lang = textEl.attr("xml:lang");
      if (lang !== undefined) out.lang = lang;
    }
    return out;
  } catch {
    return { condition: "not-authorized", unknownCondition: "" };
  }
}
