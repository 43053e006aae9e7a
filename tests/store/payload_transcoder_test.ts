import assert from "node:assert/strict";
import fc from "fast-check";
import { Decoder } from "../../src/wire/codec.ts";
import type { LogEvent } from "../../src/event.ts";
import { getRedactor } from "../../src/redact.ts";
import { encodeBatch, framePayloads } from "../../src/store/batch_encoder.ts";
import { unpackEvents } from "../../src/store/payload_codec.ts";
import { PayloadTranscoder } from "../../src/store/payload_transcoder.ts";
import type { EncodedBatch } from "../../src/store/batch_encoder.ts";
import { type EventSpec, type RecordBatch, shapedWriter } from "../support/shaped_records.ts";
import { anyString } from "../support/any_string.ts";
import { payloadToJsonLines } from "../../src/export/jsonl.ts";
import { payloadToJsonBytes } from "../../src/export/jsonl_transcoder.ts";

const PRODUCER = "a1b2c3d4e5f6.0";

/** What a reader gets back from a batch: per record its header fields and unpacked events. */
function readBack(batch: EncodedBatch) {
  return batch.records.map((r) => ({
    seq: r.seq,
    flowId: r.flowId,
    eventCount: r.eventCount,
    errorCount: r.errorCount,
    maxSeverity: r.maxSeverity,
    minTs: r.minTs,
    maxTs: r.maxTs,
    events: unpackEvents(batch.bytes.subarray(r.payloadStart, r.end)),
    // The export's own MessagePack reader (or its fallback) reads it the same way.
    jsonl: jsonLines(batch.bytes.subarray(r.payloadStart, r.end)),
  }));
}

function jsonLines(payload: Uint8Array): string {
  const fast = payloadToJsonBytes(payload);
  return fast === null ? payloadToJsonLines(payload) : new TextDecoder().decode(fast);
}

/**
 * Today's path (decode, then encodeBatch) and the transcoder over the same
 * records, each with its own decoder; `skip` drops those definition records
 * (as a dead worker took them) on both sides.
 */
function bothWays(
  batches: RecordBatch[],
  skip: ReadonlySet<number> = new Set(),
  recovering = false,
) {
  const da = new Decoder();
  const db = new Decoder();
  da.recovering = db.recovering = recovering;
  const t = new PayloadTranscoder(db, PRODUCER);
  const today = [];
  const transcoded = [];
  let d = 0;
  let errors = 0;
  for (const b of batches) {
    const events: LogEvent[] = [];
    for (const r of b.records) {
      if (r.definition) {
        if (!skip.has(d++)) {
          da.define(b.bytes, r.start, r.end);
          db.define(b.bytes, r.start, r.end);
        }
        continue;
      }
      let failedA = false;
      try {
        events.push(da.decode(b.bytes, r.start, r.end, PRODUCER));
      } catch {
        failedA = true;
      }
      let failedB = false;
      try {
        t.add(b.bytes, r.start, r.end);
      } catch {
        failedB = true;
      }
      assert.equal(failedB, failedA, "the transcoder refuses what the decoder refuses");
      if (failedA) errors++;
    }
    today.push(...readBack(encodeBatch(events, 1)));
    transcoded.push(...readBack(framePayloads(t.take(), 1)));
  }
  return { today, transcoded, errors, transcoder: t, decoder: db };
}

const FLOW_IDS: unknown[] = ["f-1", "f-2", "flow-" + "x".repeat(300), 7, null, "\ud800", "é-flow"];

const leaf = fc.oneof(
  fc.string({ maxLength: 60 }),
  anyString(),
  fc.integer(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  fc.double(),
  fc.constantFrom(
    -0,
    0,
    NaN,
    Infinity,
    -Infinity,
    2 ** 40,
    -(2 ** 40),
    1e20,
    0.5,
    0x40,
    0x7f,
    0xff,
    -0x21,
    2 ** 31,
  ),
  fc.boolean(),
  fc.constantFrom(null, undefined),
  fc.bigInt(),
  fc.date({ noInvalidDate: true }),
  fc.constantFrom(FLOW_IDS[0], FLOW_IDS[1], FLOW_IDS[2]),
);
const value = fc.oneof(
  { weight: 6, arbitrary: leaf },
  {
    weight: 1,
    arbitrary: fc.dictionary(fc.constantFrom("a", "__proto__", "b", "\ud800k"), leaf, {
      maxKeys: 3,
    }),
  },
  { weight: 1, arbitrary: fc.array(leaf, { maxLength: 3 }) },
);
// Call sites: an event name and its keys; most names are ASCII (shapes need one).
const KEYS = ["flow_id", "run_id", "step_id", "n", "password", "__proto__", "é", "\ud800", "ok"];
const site = fc.record({
  event: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("step_end", "step_start", "tick") },
    { weight: 1, arbitrary: anyString(8) },
  ),
  keys: fc.uniqueArray(fc.constantFrom(...KEYS), { maxLength: 6 }),
});
const BINDINGS = [
  { flow_id: "f-1", run_id: "r-1" },
  { flow_id: 7, service: "svc" },
  { service: "no-flow", n: -0 },
  JSON.parse('{"__proto__": "p", "flow_id": "f-2"}'),
];

const scenario = fc.record({
  sites: fc.array(site, { minLength: 1, maxLength: 4 }),
  calls: fc.array(
    fc.record({
      site: fc.nat(),
      values: fc.array(value, { minLength: 6, maxLength: 6 }),
      flow: fc.nat(FLOW_IDS.length),
      bindings: fc.nat(BINDINGS.length * 2),
      severity: fc.integer({ min: 1, max: 24 }),
      ts: fc.oneof(
        fc.double({ min: 0, max: 2e12, noNaN: true }),
        fc.nat(),
        fc.constantFrom(0x40, 0x7f),
      ),
    }),
    { minLength: 1, maxLength: 150 },
  ),
  split: fc.nat(150),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function specsOf(s: Scenario): EventSpec[] {
  return s.calls.map((c) => {
    const site = s.sites[c.site % s.sites.length]!;
    const fields: Record<string, unknown> = {};
    site.keys.forEach((k, i) => {
      const v = k === "flow_id" && c.flow < FLOW_IDS.length ? FLOW_IDS[c.flow] : c.values[i];
      Object.defineProperty(fields, k, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    });
    const spec: EventSpec = { event: site.event, fields, severity: c.severity, ts_ms: c.ts };
    if (c.bindings < BINDINGS.length) spec.bindings = BINDINGS[c.bindings]!;
    return spec;
  });
}

function recordsOf(specs: EventSpec[], split: number, redact: boolean): RecordBatch[] {
  const w = shapedWriter(redact ? getRedactor() : null);
  const out: RecordBatch[] = [];
  specs.forEach((spec, i) => {
    w.write(spec);
    if (i === split) out.push(w.take());
  });
  out.push(w.take());
  return out;
}

Deno.test("PayloadTranscoder gives what decode, then packEvents, gives, for random events", () => {
  fc.assert(
    fc.property(scenario, fc.boolean(), (s, redact) => {
      const { today, transcoded } = bothWays(recordsOf(specsOf(s), s.split, redact));
      assert.deepStrictEqual(transcoded, today);
    }),
    { numRuns: 300 },
  );
});

Deno.test("PayloadTranscoder keeps shape_lost and bindings_lost events as the decoder does after a restart", () => {
  fc.assert(
    fc.property(scenario, fc.uniqueArray(fc.nat(8), { maxLength: 4 }), (s, skipped) => {
      const batches = recordsOf(specsOf(s), s.split, false);
      const { today, transcoded } = bothWays(batches, new Set(skipped), true);
      assert.deepStrictEqual(transcoded, today);
    }),
    { numRuns: 150 },
  );
});

Deno.test("PayloadTranscoder refuses an event of an unknown shape as the decoder does", () => {
  const w = shapedWriter();
  for (let i = 0; i < 3; i++) w.write({ event: "e", fields: { flow_id: "f-1", i } });
  // Definition 0 is the shape: without it, the two shaped events are refused.
  const { today, transcoded, errors } = bothWays([w.take()], new Set([0]));
  assert.equal(errors, 2);
  assert.deepStrictEqual(transcoded, today);
  assert.equal(today[0]!.eventCount, 1);
});

Deno.test("PayloadTranscoder packs events of a shape with plain values without decoding them", () => {
  const w = shapedWriter();
  const bindings = { flow_id: "f-9", run_id: "r-1" };
  for (let i = 0; i < 50; i++) {
    w.write({
      event: "step_end",
      fields: { flow_id: "f-1", step_id: "step-" + i, ms: i + 0.5, ok: true, n: null },
    });
    w.write({ event: "tick", fields: { i, big: 2 ** 40 + i, neg: -i }, bindings });
  }
  const batch = w.take();
  const decoder = new Decoder();
  let decoded = 0;
  const decode = decoder.decode.bind(decoder);
  decoder.decode = (...args: Parameters<Decoder["decode"]>) => {
    decoded++;
    return decode(...args);
  };
  const t = new PayloadTranscoder(decoder, PRODUCER);
  for (const r of batch.records) {
    if (r.definition) decoder.define(batch.bytes, r.start, r.end);
    else t.add(batch.bytes, r.start, r.end);
  }
  const payloads = t.take();
  // Only the first call of each site is written in full, before its shape is defined.
  assert.equal(decoded, 2);
  assert.deepEqual(payloads.map((p) => [p.flowId, p.eventCount]), [["f-1", 50], ["f-9", 50]]);
  const [first] = unpackEvents(payloads[1]!.payload);
  assert.deepStrictEqual(first!.fields, {
    flow_id: "f-9",
    run_id: "r-1",
    i: 0,
    big: 2 ** 40,
    neg: -0,
  });
});

Deno.test("PayloadTranscoder defines each structure once per payload and again after a spliced row", () => {
  const w = shapedWriter();
  for (let i = 0; i < 4; i++) w.write({ event: "e", fields: { flow_id: "f-1", i } });
  // A value the fast path leaves to msgpackr (a bigint), between shaped events.
  w.write({ event: "e", fields: { flow_id: "f-1", i: 10n } });
  for (let i = 0; i < 3; i++) w.write({ event: "e", fields: { flow_id: "f-1", i } });
  const { today, transcoded, transcoder } = bothWays([w.take()]);
  assert.deepStrictEqual(transcoded, today);
  assert.equal(transcoder.count, 0);
  assert.deepEqual(transcoded[0]!.events.map((e) => e.fields.i), [0, 1, 2, 3, 10n, 0, 1, 2]);
});

Deno.test("PayloadTranscoder reuses structure ids past the 64 of one byte", () => {
  // 70 event names in distinct slots of the producer's shape table
  // (src/wire/encoder.ts: by length, first and last character), one shape each.
  const names = Array.from({ length: 70 }, (_, s) => "abc"[s % 3] + "_".repeat(1 + (s / 3 | 0)));
  const w = shapedWriter();
  for (let lap = 0; lap < 3; lap++) {
    for (const event of names) {
      w.write({ event, fields: { flow_id: "f-1", [event]: lap, x: 1 } });
      w.write({ event, fields: { flow_id: "f-1", [event]: lap + 1, x: 2 } });
    }
  }
  const batch = w.take();
  const { today, transcoded } = bothWays([batch]);
  assert.equal(today[0]!.eventCount, 420);
  assert.deepStrictEqual(transcoded, today);
  // More than 64 structures were defined in the one payload.
  const decoder = new Decoder();
  const t = new PayloadTranscoder(decoder, PRODUCER);
  for (const r of batch.records) {
    if (r.definition) decoder.define(batch.bytes, r.start, r.end);
    else t.add(batch.bytes, r.start, r.end);
  }
  const [payload] = t.take();
  let defined = 0;
  for (let i = 0; i + 1 < payload!.payload.length; i++) {
    if (payload!.payload[i] === 0xd4 && payload!.payload[i + 1] === 0x72) defined++;
  }
  assert.ok(defined > 64, `${defined} structures defined`);
});
