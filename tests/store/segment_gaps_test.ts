import assert from "node:assert/strict";
import { countGap, findGap, type GapCounts } from "../../src/store/segment_gaps.ts";

const LINK = { previous: 2, previousBytes: 4096, previousEvents: 81, firstSeq: 41 };

Deno.test("findGap() finds the segment a header names when it is gone from between two", () => {
  assert.deepEqual(findGap(3, LINK, 1, new Set([1, 3]), 20), {
    after: 1,
    before: 3,
    missing: 2,
    more: false,
    records: 20,
    events: 81,
    bytes: 4096,
  });
});

Deno.test("findGap() tells no gap where retention or a listed file explains the absence", () => {
  // Nothing older was read: the oldest segments went by retention.
  assert.equal(findGap(3, LINK, null, new Set([3]), 0), null);
  // The predecessor is the older segment read.
  assert.equal(findGap(3, { ...LINK, previous: 1 }, 1, new Set([1, 3]), 40), null);
  // Listed but not read (gone meanwhile, or a foreign file already counted).
  assert.equal(findGap(3, LINK, 1, new Set([1, 2, 3]), 20), null);
  // A version 2 or damaged header names no predecessor.
  assert.equal(findGap(3, null, 1, new Set([1, 3]), 20), null);
  // A header naming itself or a later segment is not believed.
  assert.equal(findGap(3, { ...LINK, previous: 3 }, 1, new Set([1, 3]), 20), null);
});

Deno.test("findGap() says when numbers before the named segment are free too", () => {
  const link = { ...LINK, previous: 5 };
  assert.equal(findGap(6, link, 1, new Set([1, 6]), 20)?.more, true);
  // 2, 3 and 4 are listed (unreadable, counted as such): only 5 is missing.
  assert.equal(findGap(6, link, 1, new Set([1, 2, 3, 4, 6]), 20)?.more, false);
});

Deno.test("findGap() counts records from sequence numbers, never below 0", () => {
  assert.equal(findGap(3, LINK, 1, new Set([1, 3]), 40)?.records, 0);
  assert.equal(findGap(3, LINK, 1, new Set([1, 3]), 99)?.records, 0);
});

Deno.test("countGap() adds a gap to the counts", () => {
  const counts: GapCounts = { gaps: 0, gap_records: 0, gap_events: 0, gap_bytes: 0 };
  countGap(counts, findGap(3, LINK, 1, new Set([1, 3]), 20)!);
  countGap(counts, findGap(3, LINK, 1, new Set([1, 3]), 30)!);
  assert.deepEqual(counts, { gaps: 2, gap_records: 30, gap_events: 162, gap_bytes: 8192 });
});
