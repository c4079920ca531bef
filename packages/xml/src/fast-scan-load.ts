// Where the parser gets its WebAssembly fast path (see fast-scan.ts). Browser builds map this module to
// fast-scan-load.browser.ts (package.json "browser"), which has none: the scanner's JavaScript glue and the
// WebAssembly bytes are then left out of the bundle, and the parser runs its JavaScript path.
export { fastScanner } from "./fast-scan.js";
