// The only runtime globals the sans-IO packages (xml, precis, jid, sasl, core) may use: the WHATWG
// Encoding API and `crypto.getRandomValues`, present in browsers, workers, Node and Deno alike. Their
// builds see these declarations and nothing else (no DOM, no Node types), so any other global fails to
// compile. Not emitted: consumers get these types from their own environment.

interface TextDecodeOptions {
  stream?: boolean;
}
interface TextDecoderOptions {
  fatal?: boolean;
  ignoreBOM?: boolean;
}
declare class TextDecoder {
  constructor(label?: string, options?: TextDecoderOptions);
  readonly encoding: string;
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  decode(input?: ArrayBufferView | ArrayBuffer, options?: TextDecodeOptions): string;
}
interface TextEncoderEncodeIntoResult {
  read: number;
  written: number;
}
declare class TextEncoder {
  readonly encoding: string;
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): TextEncoderEncodeIntoResult;
}
declare var crypto: {
  getRandomValues<T extends ArrayBufferView | null>(array: T): T;
};
