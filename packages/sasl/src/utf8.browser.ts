// Browser builds (package.json "browser" maps utf8.js to this file): the strict UTF-8 codec of utf8.ts
// with the runtime's own TextEncoder and fatal TextDecoder, which every browser has. The same answers
// for every input (test/browser-codecs.property.test.ts holds the two together).

/** A lone surrogate: the one thing a string can hold that UTF-8 cannot (TextEncoder would write U+FFFD). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** See utf8.ts: the UTF-8 bytes, or `undefined` for a lone surrogate. */
export function utf8Encode(text: string): Uint8Array | undefined {
  return LONE_SURROGATE.test(text) ? undefined : new TextEncoder().encode(text);
}

/** See utf8.ts: the string, or `undefined` when `bytes` is not valid UTF-8 (a BOM is kept as U+FEFF). */
export function utf8Decode(bytes: Uint8Array): string | undefined {
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}
