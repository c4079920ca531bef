// Hostile but parser-legal shapes, shared by tests and the benchmark: what a peer can send within the
// default limits that costs the most per byte to handle.

/**
 * A message nested `depth` levels, each level declaring `perLevel` prefixes bound to namespaces of its
 * own and using each on an attribute (60 × 32 fits the default limits: 64 levels, 64 attributes).
 * Within the default 256 KiB for 60 × 32.
 */
export function prefixHeavyMessage(depth = 60, perLevel = 32): string {
  let open = "";
  for (let l = 0; l < depth; l++) {
    open += "<e";
    for (let i = 0; i < perLevel; i++) open += ` xmlns:p${i}='urn:${l}:${i}' p${i}:a='v${i}'`;
    open += ">";
  }
  return `<message>${open}x${"</e>".repeat(depth)}</message>`;
}

/**
 * What our serializer writes for {@link prefixHeavyMessage} in a stream whose default namespace is the
 * message's: generated prefixes `ns1`, `ns2`, … numbered on through the levels (none is in scope twice).
 */
export function prefixHeavyExpected(depth = 60, perLevel = 32): string {
  let open = "";
  for (let l = 0; l < depth; l++) {
    open += "<e";
    for (let i = 0; i < perLevel; i++) {
      const p = `ns${l * perLevel + i + 1}`;
      open += ` xmlns:${p}='urn:${l}:${i}' ${p}:a='v${i}'`;
    }
    open += ">";
  }
  return `<message>${open}x${"</e>".repeat(depth)}</message>`;
}

/** A flat message of about `bytes` bytes: a body and many plain attributes split over small children. */
export function flatMessage(bytes: number): string {
  let s = "<message to='romeo@example.net' from='juliet@example.com/balcony' type='chat' id='a1'>";
  let k = 0;
  while (s.length < bytes - 40) s += `<x n='${k++}' v='wherefore art thou'>text</x>`;
  return `${s}</message>`;
}
