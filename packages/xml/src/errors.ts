/**
 * The RFC 6120 §4.9.3 stream error conditions the XML layer can detect by itself. The session core maps
 * them 1:1 onto `<stream:error/>`; each comes with a human-readable text.
 */
export type XmlErrorCondition =
  | "not-well-formed"
  | "restricted-xml"
  | "unsupported-encoding"
  | "policy-violation"
  | "bad-namespace-prefix"
  | "bad-format"
  | "invalid-xml";

/** A parse failure: a value, never thrown at the caller of the parser. Sticky once produced. */
export interface XmlError {
  /**
   * The RFC 6120 §4.9.3 stream error condition this failure calls for (e.g. `not-well-formed`, `policy-violation`).
   */
  readonly condition: XmlErrorCondition;
  /** What went wrong, in words suitable for `<text/>` in a stream error. */
  readonly text: string;
  /** Offset, in bytes since the parser was created, of the byte that revealed the error. */
  readonly offset: number;
}
