// Browser builds (package.json "browser" maps base64.js to this file): strict RFC 4648 §4 base64 with the
// runtime's own `btoa`/`atob`, which every browser has. The same answers for every input as base64.ts
// (test/browser-codecs.property.test.ts holds the two together): `atob` is forgiving (whitespace, missing
// padding, non-zero padding bits), so the text is checked against the alphabet first and must be what
// its bytes encode back to.

// The sans-IO packages are compiled without the DOM library; these two exist in every browser.
declare function btoa(data: string): string;
declare function atob(data: string): string;

/** See base64.ts: standard base64 with `=` padding. */
export function base64Encode(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** See base64.ts: the bytes of canonical base64, else `undefined` (never throws). */
export function base64Decode(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  return base64Encode(bytes) === text ? bytes : undefined;
}
