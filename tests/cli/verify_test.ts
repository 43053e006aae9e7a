import assert from "node:assert/strict";
import { type VerifyReport, verifyStore } from "../../src/cli/verify.ts";
import { emptyReadDamage, readStoreRecords } from "../../src/export/store_reader.ts";
import { SegmentStore } from "../../src/store/segment_store.ts";
import { FILE_HEADER_SIZE } from "../../src/store/segment_format.ts";
import { copyV2Store, flowEvents } from "../store/_helpers.ts";
import { makeEvent } from "../support/log_event.ts";
import { cli, oneLine } from "./_run.ts";

/** A store of two sealed segments and a newest one, five records each. */
async function threeSegments(): Promise<{ dir: string; segments: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-verify-" });
  const store = SegmentStore.open(dir, { segmentBytes: 700, maxAgeMs: 1e15 });
  for (let i = 0; i < 15; i++) {
    store.append([makeEvent(1000 + i, { flow_id: `f${i % 3}`, n: i }, { seq: i + 1 })]);
  }
  store.close();
  const segments = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".flog"))
    .sort();
  assert.ok(segments.length >= 3, `segments: ${segments}`);
  return { dir, segments };
}

function recordsOf(dir: string) {
  return [
    ...readStoreRecords(dir, emptyReadDamage()),
  ];
}

Deno.test("verifyStore() reports an intact store as intact", async () => {
  const { dir } = await threeSegments();
  try {
    const report = verifyStore(dir);
    assert.deepEqual(report.findings, []);
    assert.equal(report.events, 15);
    assert.equal(report.records, 15);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verifyStore() reports each damaged region with its file, offset, size and kind", async () => {
  const { dir, segments } = await threeSegments();
  try {
    const records = recordsOf(dir);
    const first = records.filter((r) => r.segment === segments[0]);
    // A flipped bit in the second record of the first segment.
    const victim = first[1]!;
    const victimSize = first[2]!.start - victim.start;
    const path0 = `${dir}/${segments[0]}`;
    const bytes0 = await Deno.readFile(path0);
    bytes0[victim.start + victimSize - 1]! ^= 1;
    await Deno.writeFile(path0, bytes0);
    // 7 bytes of garbage before the second segment's first record.
    const path1 = `${dir}/${segments[1]}`;
    const bytes1 = await Deno.readFile(path1);
    const at = FILE_HEADER_SIZE;
    await Deno.writeFile(
      path1,
      new Uint8Array([...bytes1.subarray(0, at), 1, 2, 3, 4, 5, 6, 7, ...bytes1.subarray(at)]),
    );
    // A torn last record in the second segment (sealed: that is damage).
    const bytes1b = await Deno.readFile(path1);
    await Deno.writeFile(path1, bytes1b.subarray(0, bytes1b.length - 5));

    const report = verifyStore(dir);
    const found = report.findings.map((f) => [f.segment, f.offset, f.bytes, f.kind, f.damage]);
    const lastOf1 = recordsOf(dir).filter((r) => r.segment === segments[1]).at(-1)!;
    // The torn record starts where the last intact one ends (header, flow id "fN", payload).
    const tornAt = lastOf1.start + 48 + lastOf1.flowId!.length + lastOf1.payload.length;
    const tornSize = bytes1b.length - 5 - tornAt;
    assert.deepEqual(found, [
      [segments[0], victim.start, victimSize, "checksum", true],
      [segments[1], FILE_HEADER_SIZE, 7, "magic", true],
      [segments[1], tornAt, tornSize, "torn_tail", true],
    ]);
    assert.equal(report.events, 15 - 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verifyStore() notes an unfinished record at the end of the newest segment without calling it damage", async () => {
  const { dir, segments } = await threeSegments();
  try {
    const newest = `${dir}/${segments.at(-1)}`;
    const bytes = await Deno.readFile(newest);
    await Deno.writeFile(newest, bytes.subarray(0, bytes.length - 3));
    const report = verifyStore(dir);
    assert.equal(report.findings.length, 1);
    assert.equal(report.findings[0]!.kind, "unfinished");
    assert.equal(report.findings[0]!.damage, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verifyStore() reports a damaged file header and a copied segment", async () => {
  const { dir, segments } = await threeSegments();
  try {
    const path0 = `${dir}/${segments[0]}`;
    const bytes = await Deno.readFile(path0);
    bytes[20]! ^= 0xff;
    await Deno.writeFile(path0, bytes);
    await Deno.copyFile(`${dir}/${segments[1]}`, `${dir}/seg-00000000000000ff.flog`);
    const kinds = verifyStore(dir).findings.map((f) => [f.segment, f.kind]);
    assert.deepEqual(kinds, [[segments[0], "file_header"], [
      "seg-00000000000000ff.flog",
      "duplicate",
    ]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Writes one segment per batch: segment i + 1 holds one record of `sizes[i]` events. */
async function segmentPerBatch(sizes: number[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-verify-" });
  const store = SegmentStore.open(dir, { segmentBytes: 1, maxAgeMs: Infinity });
  let seq = 0;
  for (const size of sizes) store.append(flowEvents("f", seq + 1, seq += size));
  store.close();
  return dir;
}

Deno.test("flightlog verify and stats report a segment deleted from the middle of a store, exit 3", async () => {
  const dir = await segmentPerBatch([5, 81, 4]);
  try {
    const missing = `${dir}/seg-0000000000000002.flog`;
    const bytes = Deno.statSync(missing).size;
    Deno.removeSync(missing);

    const verify = await cli("verify", dir);
    assert.equal(verify.code, 3, verify.stderr);
    assert.ok(
      verify.stdout.includes(
        `DAMAGE seg-0000000000000003.flog offset 0 (${bytes} bytes) gap: seg-0000000000000002.flog is missing`,
      ),
      verify.stdout,
    );
    assert.match(verify.stdout, /it held 81 events in \d+ bytes .* 1 records are missing/);
    assert.match(
      verify.stdout,
      /^DAMAGED 2 segments, 2 intact records, 9 events; 1 gap\(s\) where segment files are missing \(1 records, 81 events\)$/m,
    );
    assert.match(verify.stderr, /has 1 gap\(s\) where segment files are missing: .*backup/);
    assert.ok(oneLine(verify.stderr));
    const json = JSON.parse((await cli("verify", dir, "--json")).stdout) as VerifyReport;
    assert.deepEqual(json.findings.map((f) => [f.kind, f.gap?.missing, f.gap?.events]), [
      ["gap", 2, 81],
    ]);

    const stats = await cli("stats", dir, "--json");
    assert.equal(stats.code, 3);
    const damage = JSON.parse(stats.stdout).damage;
    assert.deepEqual(
      [damage.gaps, damage.gap_records, damage.gap_events, damage.gap_bytes],
      [1, 1, 81, bytes],
    );
    assert.match(
      stats.stderr,
      /Found 1 gap\(s\) where segment files are missing \(1 records, 81 events\)/,
    );
    const text = await cli("stats", dir);
    assert.match(
      text.stdout,
      /^missing {4}1 gaps between segments \(1 records, 81 events, \d+ bytes\)$/m,
    );
    // Every reading command says so and exits 3, having read what is there.
    const query = await cli("query", dir, "--format", "jsonl");
    assert.equal(query.code, 3);
    assert.equal(query.stdout.trim().split("\n").length, 9);
    assert.match(query.stderr, /Found 1 gap\(s\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("verifyStore() reports two segments deleted in a row as one gap, naming the one it knows", async () => {
  const dir = await segmentPerBatch([1, 2, 3, 4]);
  try {
    Deno.removeSync(`${dir}/seg-0000000000000002.flog`);
    Deno.removeSync(`${dir}/seg-0000000000000003.flog`);
    const [finding, ...rest] = verifyStore(dir).findings;
    assert.deepEqual(rest, []);
    assert.equal(finding!.segment, "seg-0000000000000004.flog");
    assert.deepEqual(
      [finding!.kind, finding!.gap?.missing, finding!.gap?.more, finding!.gap?.records],
      ["gap", 3, true, 2],
    );
    assert.equal(finding!.gap?.events, 3);
    assert.match(finding!.message, /seg-0000000000000003\.flog is missing .* may be missing too$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flightlog verify finds no gap where retention removed the oldest segments", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-verify-" });
  try {
    const store = SegmentStore.open(dir, { segmentBytes: 1, maxBytes: 1500, maxAgeMs: Infinity });
    for (let b = 0; b < 12; b++) store.append(flowEvents("f", b * 3 + 1, b * 3 + 3));
    assert.ok(store.stats().evicted.segments > 0);
    store.close();
    const verify = await cli("verify", dir);
    assert.equal(verify.code, 0, verify.stdout);
    assert.match(verify.stdout, /^OK /);
    assert.equal((await cli("stats", dir)).code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flightlog verify and stats read a store of format version 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "flightlog-verify-" });
  try {
    copyV2Store(dir);
    const verify = await cli("verify", dir);
    assert.equal(verify.code, 0, verify.stdout);
    assert.equal(verify.stdout, "OK 4 segments, 12 intact records, 12 events\n");
    const stats = await cli("stats", dir, "--json");
    assert.equal(stats.code, 0);
    assert.equal(JSON.parse(stats.stdout).events, 12);
    assert.equal(JSON.parse(stats.stdout).errors, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flightlog verify and stats still count a torn tail after the next writer opened the store", async () => {
  for (const appends of [true, false]) {
    const dir = await Deno.makeTempDir({ prefix: "flightlog-verify-" });
    try {
      const first = SegmentStore.open(dir, { maxAgeMs: Infinity });
      for (let b = 0; b < 3; b++) first.append(flowEvents("f", b * 3 + 1, b * 3 + 3));
      first.close();
      const path = `${dir}/seg-0000000000000001.flog`;
      const bytes = Deno.readFileSync(path);
      const torn = bytes.subarray(0, bytes.length - 9); // a crash cut the last record
      Deno.writeFileSync(path, torn);
      const tornAt = recordsOf(dir).at(-1)!;
      const tornStart = tornAt.start + 48 + 1 + tornAt.payload.length; // header, flow id "f", payload

      // The next writer opens the store (and logs, or crashes before it could).
      const next = SegmentStore.open(dir, { maxAgeMs: Infinity });
      if (appends) next.append(flowEvents("f", 10, 10));
      next.close();

      const verify = await cli("verify", dir);
      assert.equal(verify.code, 3, `appends ${appends}: ${verify.stdout}`);
      assert.ok(
        verify.stdout.includes(
          `DAMAGE seg-0000000000000001.flog offset ${tornStart} (${
            torn.length - tornStart
          } bytes) torn_tail: record cut short`,
        ),
        verify.stdout,
      );
      const stats = await cli("stats", dir, "--json");
      assert.equal(stats.code, 3);
      const damage = JSON.parse(stats.stdout).damage;
      assert.deepEqual([damage.regions, damage.torn_tails, damage.bytes], [
        1,
        1,
        torn.length - tornStart,
      ]);
      assert.match((await cli("stats", dir)).stdout, /^damage {5}1 regions \(1 torn tails\), /m);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
