// Browser builds: the WebAssembly fast path left out (package.json "browser" maps fast-scan-module to this
// file), saving ~5 KB gzip; an empty module fails to compile and the parser runs its JavaScript path.
export const FAST_SCAN_MODULE: Uint8Array = new Uint8Array(0);
