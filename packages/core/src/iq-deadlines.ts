/**
 * The deadline index of `IqTracker` (`iq-tracker.ts`): a binary min-heap of its entries with lazy deletion,
 * compacted once dead entries outnumber live ones — O(log n) amortised per request, so thousands of
 * outstanding requests are cheap. Browser builds take `iq-deadlines.browser.ts` (a scan) instead. Internal.
 *
 * @internal
 * @module
 */
import { before, type Entry } from "./iq-entry.js";

/** The entries of an `IqTracker` by deadline. @internal */
export class DeadlineIndex {
  private heap: Entry[] = [];

  /** @param _entries - the tracker's live entries (the browser build scans them; the heap keeps its own) */
  // biome-ignore lint/complexity/noUselessConstructor: the browser build's signature (it keeps the entries)
  constructor(_entries: ReadonlyMap<string, Entry>) {}

  /** A new entry was tracked. */
  add(entry: Entry): void {
    this.push(entry);
  }

  /** An entry was marked dead (`live = false`) and left the tracker, which holds `size` entries now. */
  removed(size: number): void {
    // Lazy deletion: rebuild the heap once dead entries outnumber live ones (amortised O(1) per removal).
    if (this.heap.length > 32 && this.heap.length > 2 * size) this.rebuild();
  }

  /** The live entry that expires first, if any. */
  next(): Entry | undefined {
    while (this.heap.length > 0 && !this.heap[0]!.live) this.pop();
    return this.heap[0];
  }

  /** Every entry left the tracker. */
  clear(): void {
    this.heap = [];
  }

  private rebuild(): void {
    const live = this.heap.filter((e) => e.live);
    this.heap = live;
    for (let i = (live.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private push(entry: Entry): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(entry, h[parent]!)) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = entry;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    this.siftDown(0);
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const item = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r]!, h[l]!) ? r : l;
      if (!before(h[c]!, item)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = item;
  }
}
