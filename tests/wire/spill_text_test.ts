import assert from "node:assert/strict";
import { PART_BYTES, readSpills, spillEntries, spillPrefix } from "../../src/wire/spill_text.ts";
import { batchUsers, lossBatch } from "../../src/wire/sab_spill.ts";
import { Decoder, Encoder } from "../../src/wire/codec.ts";
import { walkRecords } from "../../src/wire/ring.ts";
import type { PendingBatch } from "../../src/wire/sab_spill.ts";

/** `n` events with seqs 1..n (ts 1000 + seq) laid end to end, every 50th byte value used. */
function batch(n: number, producer = "p.0"): PendingBatch {
  const enc = new Encoder();
  const parts: Uint8Array[] = [];
  for (let seq = 1; seq <= n; seq++) {
    // Bytes 0x80-0xff too: every byte value must survive the text form.
    const len = enc.encode(seq, 1000 + seq, 9, 0, "e", { seq, blob: "\u00ff\u0080x".repeat(20) });
    parts.push(enc.buf.slice(0, (len + 3) & ~3));
  }
  const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) bytes.set(p, (at += p.length) - p.length);
  return { producer, bytes, emitted: n, dropped: 0 };
}

function seqs(bytes: Uint8Array): number[] {
  const dec = new Decoder();
  const out: number[] = [];
  walkRecords(bytes, bytes.length, 0, 0x40000000, (b, start, end) => {
    out.push(dec.decode(b, start, end, "p").seq);
  });
  return out;
}

Deno.test("spillEntries() and readSpills() round-trip a batch in parts of PART_BYTES", () => {
  const b = batch(800);
  const entries = spillEntries("db", b, 1_700_000_000_000, 0);
  assert.equal(entries.length, Math.ceil(b.bytes.length / PART_BYTES));
  assert.ok(entries.length > 2);
  for (const e of entries) {
    assert.ok(e.key.startsWith(spillPrefix("db")));
    // One byte per character: every character is Latin-1.
    assert.ok([...e.value.slice(e.value.indexOf("\n") + 1)].every((c) => c.charCodeAt(0) < 256));
  }
  const { batches, taken } = readSpills([...entries].reverse()); // any order
  assert.equal(taken.length, entries.length);
  assert.equal(batches.length, 1);
  assert.deepEqual(batches[0]!.bytes, b.bytes);
  assert.deepEqual(
    { ...batches[0]!, bytes: null },
    { producer: "p.0", emitted: 800, dropped: 0, bytes: null },
  );
});

Deno.test("readSpills() keeps the parts before a missing one and counts the rest as dropped", () => {
  const b = batch(800);
  const entries = spillEntries("db", b, 1_700_000_000_000, 0);
  // The page went away while writing: the last parts never arrived.
  const { batches } = readSpills(entries.slice(0, 2));
  const [kept, loss] = batches;
  const keptSeqs = seqs(kept!.bytes);
  assert.deepEqual(keptSeqs, Array.from({ length: keptSeqs.length }, (_, i) => i + 1));
  assert.ok(keptSeqs.length > 0 && keptSeqs.length < 800);
  assert.equal(loss!.unlessStored, 800);
  const dec = new Decoder();
  const notes: Record<string, unknown>[] = [];
  walkRecords(loss!.bytes, loss!.bytes.length, 0, 0x40000000, (bytes, start, end) => {
    const e = dec.decode(bytes, start, end, "p.0");
    assert.equal(e.event, "log.dropped");
    notes.push(e.fields);
  });
  assert.deepEqual(notes, [
    { count: 800 - keptSeqs.length, since_ms: 1001, until_ms: 1800, cause: "pagehide" },
  ]);
});

Deno.test("readSpills() leaves entries of a newer format version alone", () => {
  const [entry] = spillEntries("db", batch(3), 1, 0);
  const other = { key: entry!.key + "x", value: entry!.value.replace('"v":3', '"v":4') };
  const { batches, taken } = readSpills([entry!, other]);
  assert.deepEqual(taken, [entry!.key]);
  assert.equal(batches.length, 1);
});

Deno.test("readSpills() reads entries of format versions 1 and 2 (batches without shape constants)", () => {
  const [entry] = spillEntries("db", batch(3), 1, 0);
  assert.ok(entry!.value.startsWith('{"v":3,'));
  for (const v of [1, 2]) {
    const old = { key: entry!.key, value: entry!.value.replace('"v":3', `"v":${v}`) };
    const { batches, taken } = readSpills([old]);
    assert.deepEqual(taken, [entry!.key]);
    assert.deepEqual(
      batches.map((b) => b.bytes),
      readSpills([entry!]).batches.map((b) => b.bytes),
    );
  }
});

Deno.test("batchUsers() counts user events and stops at a record cut short", () => {
  const b = batch(10);
  const whole = batchUsers(b.bytes);
  assert.deepEqual({ ...whole, end: 0 }, { count: 10, last: 10, since: 1001, until: 1010, end: 0 });
  assert.equal(whole.end, b.bytes.length);
  const cut = batchUsers(b.bytes.subarray(0, b.bytes.length - 5));
  assert.equal(cut.count, 9);
  assert.equal(cut.end, b.bytes.length / 10 * 9);
});

Deno.test("lossBatch() is one log.dropped record counting the batch's user events", () => {
  const loss = lossBatch(batch(7))!;
  const dec = new Decoder();
  const events: { event: string; fields: Record<string, unknown> }[] = [];
  walkRecords(loss.bytes, loss.bytes.length, 0, 0x40000000, (bytes, start, end) => {
    events.push(dec.decode(bytes, start, end, "p.0"));
  });
  assert.deepEqual(events.map((e) => [e.event, e.fields]), [
    ["log.dropped", { count: 7, since_ms: 1001, until_ms: 1007, cause: "pagehide" }],
  ]);
  assert.equal(lossBatch({ ...batch(1), bytes: new Uint8Array(0) }), null);
});
