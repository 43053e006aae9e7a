/**
 * The worker's cost per event from ring records to framed segment records, two
 * ways in one process, rounds alternated: `decode` (`Decoder.decode` per
 * record, then `encodeBatch`: group by flow, `packEvents`, frame) and
 * `transcode` (`PayloadTranscoder` straight to payload bytes, then
 * `framePayloads`). 1,024-record batches, as the consumer commits them, of the
 * two workloads of `deno task compare`: `inline` (seven fields inline, a fresh
 * `step_id` per call) and `bound` (seven ids bound with `child()`, two call
 * fields). Checks first that both give the same events. Prints median ns/event.
 *
 *   deno run -A bench/transcode_ab.ts
 *
 * @module
 */
import { Decoder } from "../src/wire/codec.ts";
import type { LogEvent } from "../src/event.ts";
import { encodeBatch, framePayloads } from "../src/store/batch_encoder.ts";
import { packEvents, unpackEvents } from "../src/store/payload_codec.ts";
import { PayloadTranscoder } from "../src/store/payload_transcoder.ts";
import { type RecordBatch, shapedWriter } from "../tests/support/shaped_records.ts";
import { BINDINGS, callFields, EVENT, median, stepInlineFields } from "./_workload.ts";

const B = 1024;
const PRODUCER = "a1b2c3d4e5f6.0";
const ROUNDS = Number(Deno.env.get("ROUNDS") ?? 600);

function batches(kind: "inline" | "bound"): { decoder: Decoder; list: RecordBatch[] } {
  const w = shapedWriter();
  const bindings = { ...BINDINGS };
  const list: RecordBatch[] = [];
  for (let k = 0; k < 9; k++) {
    for (let i = 0; i < B; i++) {
      const n = k * B + i;
      if (kind === "inline") w.write({ event: "step_end", fields: stepInlineFields(n) });
      else w.write({ event: EVENT, fields: callFields(n), bindings });
    }
    list.push(w.take());
  }
  // The first batch holds the definitions: both sides share one decoder that took them.
  const decoder = new Decoder();
  const first = list.shift()!;
  for (const r of first.records) if (r.definition) decoder.define(first.bytes, r.start, r.end);
  return { decoder, list };
}

function viaDecode(d: Decoder, b: RecordBatch): Uint8Array {
  const events: LogEvent[] = [];
  for (const r of b.records) {
    if (r.definition) d.define(b.bytes, r.start, r.end);
    else events.push(d.decode(b.bytes, r.start, r.end, PRODUCER));
  }
  return encodeBatch(events, 1).bytes;
}

function viaTranscode(t: PayloadTranscoder, d: Decoder, b: RecordBatch): Uint8Array {
  for (const r of b.records) {
    if (r.definition) d.define(b.bytes, r.start, r.end);
    else t.add(b.bytes, r.start, r.end);
  }
  return framePayloads(t.take(), 1).bytes;
}

for (const kind of ["inline", "bound"] as const) {
  const { decoder, list } = batches(kind);
  const t = new PayloadTranscoder(decoder, PRODUCER);
  for (const b of list) {
    for (const r of b.records) if (!r.definition) t.add(b.bytes, r.start, r.end);
    const fast = t.take().flatMap((p) => unpackEvents(p.payload));
    const events: LogEvent[] = [];
    for (const r of b.records) {
      if (!r.definition) events.push(decoder.decode(b.bytes, r.start, r.end, PRODUCER));
    }
    const slow = unpackEvents(packEvents(events));
    if (JSON.stringify(fast) !== JSON.stringify(slow)) {
      throw new Error(`${kind}: the two paths differ`);
    }
  }
  const times: number[][] = [[], []];
  const bytes: number[] = [0, 0];
  for (let r = 0; r < ROUNDS; r++) {
    const b = list[r % list.length]!;
    for (const w of (r & 1) ? [1, 0] : [0, 1]) {
      const t0 = performance.now();
      const out = w === 0 ? viaDecode(decoder, b) : viaTranscode(t, decoder, b);
      if (r >= 100) times[w]!.push((performance.now() - t0) * 1e6 / B);
      bytes[w] = out.length / B;
    }
  }
  const [a, c] = [median(times[0]!), median(times[1]!)];
  console.log(
    `${kind}: decode+encodeBatch ${a.toFixed(0)} ns/event, transcode+frame ${
      c.toFixed(0)
    } ns/event ` +
      `(${(a / c).toFixed(2)}x); bytes/event ${bytes[0]!.toFixed(1)} vs ${bytes[1]!.toFixed(1)}`,
  );
}
