/**
 * Ring records as a producer with shapes on writes them (docs/internals.md
 * "Shapes by reference", "Bindings by reference"), laid end to end with their
 * length words on 4-byte boundaries, all in epoch 1: what a worker's consumer hands its decoder.
 * For the transcoder's tests and `bench/transcode_ab.ts`.
 *
 * @module
 */
import { Encoder } from "../../src/wire/codec.ts";
import { DEFAULT_LIMITS } from "../../src/wire/value_format.ts";
import type { Redactor } from "../../src/redact.ts";

/** One record: `bytes[start..end)` without its length word. */
export interface RingRecord {
  start: number;
  end: number;
  definition: boolean;
}

/** A batch of records in one buffer. */
export interface RecordBatch {
  bytes: Uint8Array;
  records: RingRecord[];
}

/** An event to write: `bindings` makes it a child logger's (defined on first use). */
export interface EventSpec {
  event: string;
  fields: Record<string, unknown>;
  bindings?: Record<string, unknown>;
  ts_ms?: number;
  severity?: number;
}

/**
 * A writer of records: `write()` encodes events (and the definitions they
 * need) into a growing batch, `take()` returns it and starts another. One
 * writer keeps its shapes and bindings across batches, like a producer
 * within one epoch.
 */
export function shapedWriter(redactor: Redactor | null = null) {
  const enc = new Encoder(DEFAULT_LIMITS, redactor);
  enc.shapes = true;
  enc.epoch = 1;
  let ids = 100;
  let seq = 0;
  const bindIds = new Map<object, number>();
  let chunks: Uint8Array[] = [];
  let records: RingRecord[] = [];
  let size = 0;
  // Each record starts on a 4-byte boundary, as in a ring or a message batch.
  const push = (bytes: Uint8Array, len: number, definition: boolean): void => {
    const padded = new Uint8Array((len + 3) & ~3);
    padded.set(bytes.subarray(0, len));
    chunks.push(padded);
    records.push({ start: size + 4, end: size + len, definition });
    size += padded.length;
  };
  const define = (def: Uint8Array): void => {
    const dv = new DataView(def.buffer, def.byteOffset, def.byteLength);
    dv.setUint32(4, 1, true);
    push(def, dv.getUint32(0, true) + 4, true);
  };
  const write = (spec: EventSpec): void => {
    let bindId = 0;
    if (spec.bindings !== undefined) {
      const known = bindIds.get(spec.bindings);
      if (known === undefined) {
        bindId = ++ids;
        bindIds.set(spec.bindings, bindId);
        const def = enc.encodeBindings(spec.bindings, bindId);
        if (def.length > 0) define(def);
        else bindId = 0;
      } else bindId = known;
    }
    seq++;
    const len = enc.encode(
      seq,
      spec.ts_ms ?? 1000 + seq,
      spec.severity ?? 9,
      0,
      spec.event,
      spec.fields,
      bindId,
    );
    push(enc.buf, len, false);
    const sh = enc.pending;
    if (sh !== null) {
      enc.pending = null;
      const id = sh.definition?.id ?? ++ids;
      define(enc.encodeShape(sh, id));
      sh.definition = { id, epoch: 1 };
    }
  };
  const take = (): RecordBatch => {
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    const out = { bytes, records };
    chunks = [];
    records = [];
    size = 0;
    return out;
  };
  return { write, take };
}
