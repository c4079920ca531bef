/**
 * The browser build of `iq-deadlines.ts` (core's `browser` field maps it here): no heap — the entry that
 * expires first is found by a scan of the tracker's entries, which costs next to nothing for the few
 * requests a page has outstanding (thousands at once are the Node build's case). `IqTracker` gives the same
 * results with either (`test/iq-tracker-browser.property.test.ts`). Internal.
 *
 * @internal
 * @module
 */
import { before, type Entry } from "./iq-entry.js";

/** The entries of an `IqTracker` by deadline, found by a scan. @internal */
export class DeadlineIndex {
  /** @param entries - the tracker's live entries */
  constructor(private readonly entries: ReadonlyMap<string, Entry>) {}

  /** A new entry was tracked (the scan finds it). */
  add(_entry: Entry): void {}

  /** An entry left the tracker (the scan no longer sees it). */
  removed(_size: number): void {}

  /** The entry that expires first, if any (ties: the one tracked first). */
  next(): Entry | undefined {
    let first: Entry | undefined;
    for (const e of this.entries.values()) if (first === undefined || before(e, first)) first = e;
    return first;
  }

  /** Every entry left the tracker. */
  clear(): void {}
}
