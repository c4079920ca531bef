// Browser builds (package.json "browser" maps fast-scan-load to this file): no WebAssembly fast path, so
// neither its JavaScript glue (FastScanner) nor its bytes are bundled; the parser runs its JavaScript path.
import type { FastScanner } from "./fast-scan.js";

/** No fast path in browser builds. */
export function fastScanner(): FastScanner | null {
  return null;
}
