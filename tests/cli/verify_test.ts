import assert from "node:assert/strict";
import { verifyStore } from "../../src/cli/verify.ts";
import { readStoreRecords } from "../../src/export/store_reader.ts";
import { SegmentStore } from "../../src/store/segment_store.ts";
import { makeEvent } from "../store/_helpers.ts";

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
    ...readStoreRecords(dir, { regions: 0, bytes: 0, skipped_segments: 0, bad_file_headers: 0 }),
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
    const victimSize = first[2]!.offset - victim.offset;
    const path0 = `${dir}/${segments[0]}`;
    const bytes0 = await Deno.readFile(path0);
    bytes0[victim.offset + victimSize - 1]! ^= 1;
    await Deno.writeFile(path0, bytes0);
    // 7 bytes of garbage before the second segment's first record.
    const path1 = `${dir}/${segments[1]}`;
    const bytes1 = await Deno.readFile(path1);
    const at = 48;
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
    const tornAt = lastOf1.offset + 48 + lastOf1.flowId!.length + lastOf1.payload.length;
    const tornSize = bytes1b.length - 5 - tornAt;
    assert.deepEqual(found, [
      [segments[0], victim.offset, victimSize, "checksum", true],
      [segments[1], 48, 7, "magic", true],
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
