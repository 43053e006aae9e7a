import assert from "node:assert/strict";
import fc from "fast-check";
import { scanRecords } from "../../src/store/record_scanner.ts";
import { SegmentStore } from "../../src/store/segment_store.ts";
import {
  encodeFileHeader,
  FILE_HEADER_SIZE,
  RECORD_HEADER,
  segmentFileName,
} from "../../src/store/segment_format.ts";
import {
  copyV2Store,
  flowEvents,
  recordingFs,
  segmentFiles,
  writeDamagedSegments,
} from "./_helpers.ts";
import { withTempDir } from "../support/temp_dir.ts";

const OPTIONS = { maxAgeMs: Infinity };
/** The link of a segment begun as the store's first. */
const LINK = { previous: 0, previousBytes: 0, previousEvents: 0, firstSeq: 1 };

/** Writes `batches` batches of 3 events (flow "f", seqs 1..3n) into one segment; returns its bytes. */
function writeStore(dir: string, batches: number): Uint8Array {
  const store = SegmentStore.open(dir, OPTIONS);
  for (let b = 0; b < batches; b++) store.append(flowEvents("f", b * 3 + 1, b * 3 + 3));
  store.close();
  return Deno.readFileSync(`${dir}/${segmentFileName(1)}`);
}

/**
 * Writes a store as {@linkcode writeStore} does, then cuts 9 bytes off its
 * last record as a crash mid-write would; returns the segment's path and its bytes before the cut.
 */
function writeTornStore(dir: string, batches: number): { path: string; bytes: Uint8Array } {
  const bytes = writeStore(dir, batches);
  const path = `${dir}/${segmentFileName(1)}`;
  Deno.writeFileSync(path, bytes.subarray(0, bytes.length - 9));
  return { path, bytes };
}

/** The bytes of a segment as {@linkcode writeStore} leaves it, written in a directory of its own. */
function segmentBytes(batches: number): Promise<Uint8Array> {
  return withTempDir((source) => writeStore(source, batches));
}

/** [start, end) of each record of a segment's bytes. */
function recordBounds(bytes: Uint8Array): [number, number][] {
  return scanRecords(bytes, { start: FILE_HEADER_SIZE }).records.map((r) => [r.start, r.end]);
}

function seqs(store: SegmentStore): number[] {
  return store.getFlowLog("f").events.map((e) => e.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

Deno.test("SegmentStore.open() recovers from a cut at every byte of the last three records", async () => {
  const bytes = await segmentBytes(5);
  await withTempDir((dir) => {
    const bounds = recordBounds(bytes);
    assert.equal(bounds.length, 5);
    const path = `${dir}/${segmentFileName(1)}`;
    for (let cut = bounds[2]![0]; cut <= bytes.length; cut++) {
      Deno.writeFileSync(path, bytes.subarray(0, cut));
      const intact = bounds.filter(([, end]) => end <= cut).length;
      const tornBytes = cut - bounds[intact - 1]![1];

      const store = SegmentStore.open(dir, OPTIONS);
      assert.deepEqual(seqs(store), range(1, intact * 3), `cut ${cut}`);
      const damage = store.stats().damage;
      assert.equal(damage.torn_tail, tornBytes > 0 ? 1 : 0, `cut ${cut}`);
      assert.equal(damage.bytes, tornBytes, `cut ${cut}`);
      // The torn tail stays as evidence; appends go to a new segment, begun at open.
      assert.equal(Deno.statSync(path).size, cut, `cut ${cut}`);
      const files = tornBytes > 0 ? [segmentFileName(1), segmentFileName(2)] : [segmentFileName(1)];
      assert.deepEqual(segmentFiles(dir), files, `cut ${cut}`);
      store.append(flowEvents("f", 100, 101));
      assert.deepEqual(seqs(store), [...range(1, intact * 3), 100, 101], `cut ${cut}`);
      store.close();

      const reopened = SegmentStore.open(dir, OPTIONS);
      assert.deepEqual(seqs(reopened), [...range(1, intact * 3), 100, 101], `cut ${cut}`);
      assert.deepEqual(segmentFiles(dir), files, `cut ${cut}`);
      const again = reopened.stats().damage;
      assert.equal(again.torn_tail, tornBytes > 0 ? 1 : 0, `cut ${cut}`);
      assert.equal(again.regions, tornBytes > 0 ? 1 : 0, `cut ${cut}`);
      assert.equal(again.bytes, tornBytes, `cut ${cut}`);
      reopened.close();
      for (const name of segmentFiles(dir)) Deno.removeSync(`${dir}/${name}`);
    }
  });
});

Deno.test("SegmentStore.open() skips a record with any one flipped bit and keeps the rest", async () => {
  const bytes = await segmentBytes(3);
  await withTempDir((dir) => {
    const [start, end] = recordBounds(bytes)[1]!;
    const path = `${dir}/${segmentFileName(1)}`;
    for (let bit = start * 8; bit < end * 8; bit++) {
      const damaged = bytes.slice();
      damaged[bit >> 3]! ^= 1 << (bit & 7);
      Deno.writeFileSync(path, damaged);
      const store = SegmentStore.open(dir, OPTIONS);
      assert.deepEqual(seqs(store), [1, 2, 3, 7, 8, 9], `bit ${bit}`);
      const damage = store.stats().damage;
      assert.equal(damage.regions, 1, `bit ${bit}`);
      assert.equal(damage.bytes, end - start, `bit ${bit}`);
      // Damage before intact records is not a tail: nothing is cut.
      assert.equal(Deno.statSync(path).size, bytes.length);
      store.close();
    }
  });
});

Deno.test("SegmentStore.open() reads the records of a segment whose file header is damaged", async () => {
  const bytes = await segmentBytes(2);
  await withTempDir((dir) => {
    const path = `${dir}/${segmentFileName(1)}`;
    for (let bit = 0; bit < FILE_HEADER_SIZE * 8; bit += 7) {
      const damaged = bytes.slice();
      damaged[bit >> 3]! ^= 1 << (bit & 7);
      Deno.writeFileSync(path, damaged);
      const store = SegmentStore.open(dir, OPTIONS);
      assert.deepEqual(seqs(store), range(1, 6), `bit ${bit}`);
      assert.equal(store.stats().damage.bad_file_header, 1);
      // Appends never go to a segment with a damaged header.
      store.append(flowEvents("f", 7, 7));
      assert.deepEqual(segmentFiles(dir), [segmentFileName(1), segmentFileName(2)]);
      store.close();
      Deno.removeSync(`${dir}/${segmentFileName(2)}`);
    }
  });
});

Deno.test("SegmentStore.open() removes a newest segment cut short inside its header", async () => {
  const header = encodeFileHeader({
    segment: 2,
    createdMs: 0,
    writerId: new Uint8Array(8),
    link: LINK,
  });
  for (let cut = 0; cut < FILE_HEADER_SIZE; cut += 7) {
    await withTempDir((dir) => {
      writeStore(dir, 1);
      Deno.writeFileSync(`${dir}/${segmentFileName(2)}`, header.subarray(0, cut));
      const reader = SegmentStore.open(dir, { ...OPTIONS, readOnly: true });
      assert.equal(reader.stats().damage.bad_file_header, 0, `cut ${cut}`);
      const store = SegmentStore.open(dir, OPTIONS);
      assert.equal(store.stats().damage.bad_file_header, 1);
      assert.equal(store.stats().damage.bytes, cut);
      assert.deepEqual(segmentFiles(dir), [segmentFileName(1)]);
      store.append(flowEvents("f", 4, 4));
      assert.deepEqual(seqs(store), range(1, 4));
      store.close();
      reader.refresh();
      assert.deepEqual(seqs(reader), range(1, 4));
      assert.equal(reader.stats().damage.regions, 0);
      reader.close();
    });
  }
});

Deno.test("SegmentStore.refresh() waits for the header of a segment being created", async () => {
  await withTempDir((dir) => {
    writeStore(dir, 1);
    const header = encodeFileHeader({
      segment: 2,
      createdMs: 0,
      writerId: new Uint8Array(8),
      link: LINK,
    });
    Deno.writeFileSync(`${dir}/${segmentFileName(2)}`, header.subarray(0, 20));
    const reader = SegmentStore.open(dir, { ...OPTIONS, readOnly: true });
    reader.refresh();
    assert.equal(reader.stats().segments, 1);
    Deno.writeFileSync(`${dir}/${segmentFileName(2)}`, header);
    reader.refresh();
    assert.equal(reader.stats().segments, 2);
    assert.equal(reader.stats().damage.regions + reader.stats().damage.bad_file_header, 0);
    reader.close();
  });
});

Deno.test("SegmentStore.open() counts length 0 and 0xFFFFFFFF as damage", async () => {
  const bytes = await segmentBytes(3);
  await withTempDir((dir) => {
    const bounds = recordBounds(bytes);
    const path = `${dir}/${segmentFileName(1)}`;
    for (const length of [0, 0xffffffff]) {
      for (const record of [1, 2]) {
        const damaged = bytes.slice();
        const view = new DataView(damaged.buffer);
        view.setUint32(bounds[record]![0] + RECORD_HEADER.payloadLength, length, true);
        Deno.writeFileSync(path, damaged);
        const store = SegmentStore.open(dir, OPTIONS);
        const expected = record === 1 ? [1, 2, 3, 7, 8, 9] : range(1, 6);
        assert.deepEqual(seqs(store), expected, `length ${length}, record ${record}`);
        assert.equal(store.stats().damage.bad_length, 1);
        store.append(flowEvents("f", 10, 10));
        assert.deepEqual(seqs(store), [...expected, 10]);
        store.close();
        // A damaged last record is kept, so the append went to a segment 2 of its own.
        for (const name of segmentFiles(dir)) Deno.removeSync(`${dir}/${name}`);
      }
    }
  });
});

Deno.test("SegmentStore.open() ignores a copied segment file and counts it", async () => {
  await withTempDir((dir) => {
    const bytes = writeStore(dir, 2);
    Deno.writeFileSync(`${dir}/${segmentFileName(3)}`, bytes);
    const store = SegmentStore.open(dir, { ...OPTIONS, segmentBytes: 1 });
    assert.deepEqual(seqs(store), range(1, 6));
    assert.equal(store.stats().damage.duplicate_segments, 1);
    assert.equal(store.stats().segments, 1);
    store.append(flowEvents("f", 7, 7));
    assert.ok(segmentFiles(dir).includes(segmentFileName(4)));
    store.close();
  });
});

Deno.test("SegmentStore.open() skips stale records of a restored old segment", async () => {
  await withTempDir((dir) => {
    const bytes = writeStore(dir, 2);
    const store = SegmentStore.open(dir, { ...OPTIONS, segmentBytes: 1 });
    store.append(flowEvents("f", 7, 9));
    store.close();
    // An old copy of segment 1 comes back as segment 5, with a header that matches its name.
    const restored = bytes.slice();
    restored.set(
      encodeFileHeader({ segment: 5, createdMs: 0, writerId: new Uint8Array(8), link: LINK }),
    );
    Deno.writeFileSync(`${dir}/${segmentFileName(5)}`, restored);
    const reopened = SegmentStore.open(dir, OPTIONS);
    assert.deepEqual(seqs(reopened), range(1, 9));
    assert.equal(reopened.stats().damage.stale_records, 2);
    assert.equal(reopened.stats().damage.stale_bytes, bytes.length - FILE_HEADER_SIZE);
    reopened.append(flowEvents("f", 10, 10));
    assert.deepEqual(seqs(reopened), range(1, 10));
    reopened.close();
    const again = SegmentStore.open(dir, OPTIONS);
    assert.deepEqual(seqs(again), range(1, 10));
    again.close();
  });
});

Deno.test("SegmentStore.open() never throws on damaged files and returns only written events", async () => {
  const bytes = await segmentBytes(6);
  await withTempDir(async (dir) => {
    const path = `${dir}/${segmentFileName(1)}`;
    const written = new Set(range(1, 18));
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ at: fc.nat(), value: fc.nat(255), cut: fc.boolean() }),
          { minLength: 1, maxLength: 5 },
        ),
        async (mutations) => {
          let damaged = bytes.slice();
          for (const m of mutations) {
            const at = m.at % Math.max(1, damaged.length);
            if (m.cut) damaged = damaged.slice(0, at);
            else if (damaged.length > 0) damaged[at] = m.value;
          }
          await Deno.writeFile(path, damaged);
          const store = SegmentStore.open(dir, OPTIONS);
          const found = seqs(store);
          assert.ok(found.every((seq) => written.has(seq)));
          assert.equal(new Set(found).size, found.length);
          store.append(flowEvents("f", 100, 100));
          assert.equal(seqs(store).at(-1), 100);
          store.close();
          for (const name of segmentFiles(dir)) await Deno.remove(`${dir}/${name}`);
        },
      ),
      { numRuns: 100 },
    );
  });
});

// The ≤ 5 s budget is a figure of `deno task soak` (bench/soak.ts), not a
// timed test: here the work is bounded instead, every file read about once.
Deno.test("SegmentStore.open() reads 1,000 damaged segments about once each", async () => {
  await withTempDir(async (dir) => {
    const total = await writeDamagedSegments(dir, 1000);
    const { fs, log } = recordingFs();
    const damaged = SegmentStore.open(dir, { ...OPTIONS, fs });
    const stats = damaged.stats();
    // The last one ends in damage, so the writer begins a new, empty segment after it.
    assert.equal(stats.segments, 1001);
    assert.equal(stats.events, 0);
    assert.equal(stats.damage.bad_checksum, 1000);
    const read = log.reads.reduce((sum, r) => sum + r.bytes, 0);
    assert.ok(read <= 2 * total, `read ${read} bytes of ${total}`);
    assert.ok(log.maxOpen <= 3, `${log.maxOpen} files open at once`);
    damaged.close();
  });
});

/** Writes one segment per batch; batch i (segment i + 1) holds `sizes[i]` events of flow "f". */
function writeSegments(dir: string, sizes: number[]): void {
  const store = SegmentStore.open(dir, { ...OPTIONS, segmentBytes: 1 });
  let seq = 0;
  for (const size of sizes) store.append(flowEvents("f", seq + 1, seq += size));
  store.close();
}

Deno.test("SegmentStore.open() counts a segment deleted between two others as a gap", async () => {
  await withTempDir((dir) => {
    writeSegments(dir, [2, 3, 7, 4]);
    const path = `${dir}/${segmentFileName(3)}`;
    const bytes = Deno.statSync(path).size;
    Deno.removeSync(path);
    for (const readOnly of [true, false]) {
      const store = SegmentStore.open(dir, { ...OPTIONS, readOnly });
      const stats = store.stats();
      assert.deepEqual(seqs(store), [...range(1, 5), ...range(13, 16)]);
      assert.equal(stats.damage.gaps, 1, `readOnly ${readOnly}`);
      assert.equal(stats.damage.gap_records, 1);
      assert.equal(stats.damage.gap_events, 7);
      assert.equal(stats.damage.gap_bytes, bytes);
      assert.equal(stats.damage.regions, 0);
      store.close();
    }
  });
});

Deno.test("SegmentStore.open() counts no gap where retention removed the oldest segments", async () => {
  await withTempDir((dir) => {
    const store = SegmentStore.open(dir, { ...OPTIONS, segmentBytes: 1, maxBytes: 1500 });
    for (let b = 0; b < 12; b++) store.append(flowEvents("f", b * 3 + 1, b * 3 + 3));
    assert.ok(store.stats().evicted.segments > 0);
    assert.equal(store.stats().damage.gaps, 0);
    store.close();
    const reopened = SegmentStore.open(dir, { ...OPTIONS, readOnly: true });
    assert.equal(reopened.stats().damage.gaps, 0);
    reopened.close();
    // The oldest or the newest segment removed by hand looks the same: a documented limit.
    const files = segmentFiles(dir);
    Deno.removeSync(`${dir}/${files[0]}`);
    Deno.removeSync(`${dir}/${files.at(-1)}`);
    const trimmed = SegmentStore.open(dir, { ...OPTIONS, readOnly: true });
    assert.equal(trimmed.stats().damage.gaps, 0);
    trimmed.close();
  });
});

Deno.test("SegmentStore.refresh() finds a gap the writer's segments show later", async () => {
  await withTempDir((dir) => {
    writeSegments(dir, [2]);
    const reader = SegmentStore.open(dir, { ...OPTIONS, readOnly: true });
    const writer = SegmentStore.open(dir, { ...OPTIONS, segmentBytes: 1 });
    writer.append(flowEvents("f", 3, 5));
    writer.append(flowEvents("f", 6, 6));
    writer.close();
    Deno.removeSync(`${dir}/${segmentFileName(2)}`);
    reader.refresh();
    assert.deepEqual(seqs(reader), [1, 2, 6]);
    assert.equal(reader.stats().damage.gaps, 1);
    assert.equal(reader.stats().damage.gap_events, 3);
    reader.close();
  });
});

Deno.test("SegmentStore.open() takes a segment listed but gone before it was read for retention, not a gap", async () => {
  await withTempDir((dir) => {
    writeSegments(dir, [2, 3, 4]);
    const gone = `${dir}/${segmentFileName(2)}`;
    // A live writer's retention removes segments 1 and 2 between the listing and the reads.
    const fs = {
      ...recordingFs().fs,
      readFile(path: string): Uint8Array {
        const bytes = Deno.readFileSync(path);
        if (path === `${dir}/${segmentFileName(1)}`) Deno.removeSync(gone);
        return bytes;
      },
    };
    const reader = SegmentStore.open(dir, { ...OPTIONS, readOnly: true, fs });
    assert.equal(reader.stats().damage.gaps, 0);
    assert.deepEqual(seqs(reader), [1, 2, 6, 7, 8, 9]);
    reader.close();
  });
});

Deno.test("SegmentStore keeps counting a torn tail after the next writer reopened the store", async () => {
  await withTempDir((dir) => {
    const { bytes } = writeTornStore(dir, 3);
    const writer = SegmentStore.open(dir, OPTIONS);
    writer.append(flowEvents("f", 10, 12));
    writer.close();
    for (const readOnly of [false, true, false]) {
      const store = SegmentStore.open(dir, { ...OPTIONS, readOnly });
      assert.deepEqual(seqs(store), [...range(1, 6), 10, 11, 12]);
      assert.equal(store.stats().damage.torn_tail, 1, `readOnly ${readOnly}`);
      assert.equal(store.stats().damage.bytes, bytes.length - 9 - recordBounds(bytes)[1]![1]);
      store.close();
    }
  });
});

Deno.test("SegmentStore.open() keeps a torn tail counted when it cannot begin the next segment", async () => {
  await withTempDir((dir) => {
    const { path, bytes } = writeTornStore(dir, 2);
    let full = true;
    const { fs } = recordingFs({
      write: (path) => {
        if (full && path.endsWith(".flog")) {
          throw new Error("No space left on device (os error 28)");
        }
      },
    });
    // The disk is full: the open still succeeds, and nothing was cut or written.
    const writer = SegmentStore.open(dir, { ...OPTIONS, fs });
    assert.equal(writer.stats().damage.torn_tail, 1);
    assert.deepEqual(segmentFiles(dir), [segmentFileName(1)]);
    assert.equal(Deno.statSync(path).size, bytes.length - 9);
    assert.throws(() => writer.append(flowEvents("f", 10, 10)), /No space left on device/);
    full = false;
    writer.append(flowEvents("f", 11, 11));
    writer.close();
    const reader = SegmentStore.open(dir, { ...OPTIONS, readOnly: true });
    assert.equal(reader.stats().damage.torn_tail, 1);
    assert.deepEqual(seqs(reader), [1, 2, 3, 11]);
    reader.close();
  });
});

Deno.test("SegmentStore.open() reads a store of format version 2 and continues it", async () => {
  await withTempDir((dir) => {
    copyV2Store(dir);
    const options = { ...OPTIONS, segmentBytes: 400 };
    const store = SegmentStore.open(dir, { ...options, segmentBytes: 1000 });
    assert.equal(store.stats().events, 12);
    assert.equal(Object.values(store.stats().damage).reduce((sum, n) => sum + n, 0), 0);
    assert.deepEqual(store.getFlowLog("f1").events.map((e) => e.fields.n), [1, 3, 5, 7, 9, 11]);
    store.append(flowEvents("f1", 13, 13));
    store.close();
    assert.equal(segmentFiles(dir).length, 4, "appended to the last version 2 segment");
    const next = SegmentStore.open(dir, options);
    next.append(flowEvents("f1", 14, 14)); // that segment is full now: a version 3 one begins
    next.close();
    assert.equal(segmentFiles(dir).length, 5);
    const v2Bytes = Deno.statSync(`${dir}/${segmentFileName(4)}`).size;

    const reopened = SegmentStore.open(dir, { ...options, readOnly: true });
    assert.equal(reopened.stats().events, 14);
    assert.equal(reopened.stats().damage.gaps, 0);
    reopened.close();
    // The version 3 segment names the version 2 one before it, so its loss is a gap.
    Deno.removeSync(`${dir}/${segmentFileName(4)}`);
    const gapped = SegmentStore.open(dir, { ...options, readOnly: true });
    const damage = gapped.stats().damage;
    assert.deepEqual(
      [damage.gaps, damage.gap_records, damage.gap_events, damage.gap_bytes],
      [1, 4, 4, v2Bytes],
    );
    gapped.close();
  });
});
