/**
 * What a flightlog call costs its caller: an `info` event with seven
 * correlation ids bound by `child()` and two call fields, a disabled level
 * against an empty call (group `"disabled level"`, cited by `src/front/logger.ts`),
 * `child()` itself, and the clock every event reads (group `"clock"`, cited by
 * `src/front/logger.ts`).
 *
 * Run with `deno task bench` (or `deno bench --allow-read --allow-write
 * --allow-env bench/logger_bench.ts`).
 *
 * ## What "info" measures
 *
 * One iteration is a batch of {@linkcode BATCH} calls, so Deno's timer
 * resolution does not matter; divide by 1,000 for ns per call. Between batches
 * the ring is emptied with an untimed `await log.flush()`, so no call of a
 * timed batch finds the ring full: the figure is the cost of a call that is
 * accepted. The ring-full case is measured on its own, with a ring kept full
 * on purpose ({@linkcode drop}), because a dropped call takes another path.
 *
 * @module
 */
import type { LoggerOptions } from "../mod.ts";
import { withContext } from "../src/front/context.ts";
import { Encoder } from "../src/wire/codec.ts";
import {
  BATCH,
  benchFlow,
  benchRing,
  BINDINGS,
  CALLER_RING,
  callFields,
  EVENT,
  type Flow,
  flushedBatch,
  infoLoop,
} from "./_workload.ts";

// The "sab" transport, as `"auto"` picks it under Deno: the store worker drains
// on the other core while the batch runs.
const sab = benchFlow({ transport: "sab", ringBytes: CALLER_RING });

// The same call with no consumer running concurrently (the in-thread transport
// drains only on a timer, which cannot fire inside a synchronous batch).
const inline = benchFlow({
  transport: "inline",
  ringBytes: CALLER_RING,
  flushIntervalMs: 2_000_000_000,
});

// A 4 KiB ring that no one drains: after the first ~18 events every call
// drops. The drain timer is set beyond the life of the process.
const drop = benchFlow({
  transport: "inline",
  ringBytes: 4096,
  limits: { maxRecordBytes: 1024 },
  flushIntervalMs: 2_000_000_000,
});
for (let i = 0; drop.log.stats().dropped === 0 && i < 1000; i++) {
  drop.flow.info(EVENT, callFields(i));
}

/** A bench body: a batch of info calls on `f`, then its ring emptied, untimed. */
function infoBatch(f: Flow): (b: Deno.BenchContext) => Promise<void> {
  return flushedBatch(f.log, () => infoLoop(f.flow, BATCH));
}

// --- "info": one batch of 1,000 calls per iteration --------------------------

Deno.bench({
  group: "info",
  name: `info ×${BATCH}, 7 bound ids + 2 fields, sab transport (worker draining)`,
  baseline: true,
  fn: infoBatch(sab),
});

Deno.bench({
  group: "info",
  name: `info ×${BATCH}, same, inline transport (no concurrent consumer)`,
  fn: infoBatch(inline),
});

Deno.bench({
  group: "info",
  name: `info ×${BATCH}, same, ring full (every call dropped and counted)`,
  fn() {
    infoLoop(drop.flow, BATCH);
  },
});

// The encoder alone, as Core.write calls it (the child's bindings by id).
const encoder = new Encoder();
let seq = 0;
const encodeCall = (i: number): number =>
  encoder.encode(++seq, 1795000000000, 9, 0, EVENT, callFields(i), 1);
Deno.bench({
  group: "info",
  name: `Encoder.encode ×${BATCH} alone (no clock, no ring)`,
  fn() {
    for (let i = 0; i < BATCH; i++) encodeCall(i);
  },
});

// The two ways Core.write puts a record into the ring, without the logger
// around them: encode into the scratch buffer and copy it in with
// RingProducer.write, or reserve contiguous room and encode in place
// (Encoder.encodeAt, cited by src/wire/codec.ts). Both rings are shared and freed by
// playing the consumer whenever they fill.
const viaScratch = benchRing(8 << 20);
Deno.bench({
  group: "info",
  name: `Encoder.encode + RingProducer.write ×${BATCH} (scratch, then copy)`,
  fn() {
    const { producer, free } = viaScratch;
    for (let i = 0; i < BATCH; i++) {
      const len = encodeCall(i);
      if (!producer.write(encoder.buf, len)) {
        free();
        producer.write(encoder.buf, len);
      }
    }
  },
});
const inPlace = benchRing(8 << 20);
const maxRecord = encoder.limits.maxRecordBytes;
Deno.bench({
  group: "info",
  name: `RingProducer.reserve + Encoder.encodeAt + commit ×${BATCH} (in place)`,
  fn() {
    const { producer, free } = inPlace;
    for (let i = 0; i < BATCH; i++) {
      let at = producer.reserve(maxRecord);
      if (at < 0) {
        // As Core.write: no contiguous room (near the end or full) takes the
        // scratch path, whose write() wraps.
        const len = encodeCall(i);
        if (!producer.write(encoder.buf, len)) {
          free();
          at = producer.reserve(maxRecord);
          if (at < 0) producer.write(encoder.buf, len);
        }
        continue;
      }
      const len = encoder.encodeAt(
        producer.data,
        producer.view,
        at,
        ++seq,
        1795000000000,
        9,
        EVENT,
        callFields(i),
        1,
      );
      producer.commit(len);
    }
  },
});

// The clock Core.write reads once per event (LoggerOptions.clock's default).
const defaultClock = (): number => Date.now();
let clockSum = 0;
Deno.bench({
  group: "info",
  name: `default clock ×${BATCH} (Date.now())`,
  fn() {
    for (let i = 0; i < BATCH; i++) clockSum += defaultClock();
  },
});

// --- "clock": what one timestamp costs (cited by src/front/logger.ts) -------------

Deno.bench({
  group: "clock",
  name: "Date.now() (the default clock)",
  baseline: true,
  fn() {
    clockSum += defaultClock();
  },
});

Deno.bench({
  group: "clock",
  name: "performance.now()",
  fn() {
    clockSum += performance.now();
  },
});

// The sub-millisecond clock LoggerOptions.clock's documentation offers.
const fineClock = (): number => performance.timeOrigin + performance.now();
Deno.bench({
  group: "clock",
  name: "performance.timeOrigin + performance.now() (sub-millisecond option)",
  fn() {
    clockSum += fineClock();
  },
});

// --- "disabled level": a call below the logger's level vs an empty call ------

// Same shape as a logger: an own property holding a function, called with the
// same arguments, so the only difference is what the property holds.
const emptyTarget = { debug: (_event: string, _fields?: Record<string, unknown>): void => {} };
const FIELDS = { duration_ms: 12.5, status: "ok" };

Deno.bench({
  group: "disabled level",
  name: "empty function call",
  baseline: true,
  fn() {
    emptyTarget.debug(EVENT, FIELDS);
  },
});

Deno.bench({
  group: "disabled level",
  name: "flow.debug() below level info",
  fn() {
    sab.flow.debug(EVENT, FIELDS);
  },
});

Deno.bench({
  group: "disabled level",
  name: "flow.isEnabled('debug') guard",
  fn() {
    if (sab.flow.isEnabled("debug")) sab.flow.debug(EVENT, FIELDS);
  },
});

// --- "child": binding the seven correlation ids ------------------------------

Deno.bench({
  group: "child",
  name: "root.child({ 7 ids })",
  baseline: true,
  fn() {
    sab.log.child({ ...BINDINGS });
  },
});

Deno.bench({
  group: "child",
  name: "flow.child({ span_id }) on a logger with 7 ids",
  fn() {
    sab.flow.child({ span_id: "s-1" });
  },
});

Deno.bench({
  group: "child",
  name: "{ ...7 ids } object spread (reference)",
  fn() {
    clockSum += Object.keys({ ...BINDINGS }).length;
  },
});

// --- "redaction and context": what issue 3 adds to a call ---------------------
// Registered last: the first withContext() call turns on the context lookup for
// every logger of the process, so the rows above stay without it.

function sabLogger(redact: NonNullable<LoggerOptions["redact"]>): Flow {
  return benchFlow({ transport: "sab", ringBytes: CALLER_RING, redact });
}
const plain = sabLogger(false);
const keysOnly = sabLogger(true);
const withPatterns = sabLogger({ patterns: true });

Deno.bench({
  group: "redaction and context",
  name: `info ×${BATCH}, redact: false`,
  baseline: true,
  fn: infoBatch(plain),
});

Deno.bench({
  group: "redaction and context",
  name: `info ×${BATCH}, default sensitive keys (the default)`,
  fn: infoBatch(keysOnly),
});

Deno.bench({
  group: "redaction and context",
  name: `info ×${BATCH}, keys + value patterns (bearer, card, jwt)`,
  fn: infoBatch(withPatterns),
});

Deno.bench({
  group: "redaction and context",
  name: `info ×${BATCH} in withContext({ flow_id, run_id }), default keys`,
  async fn(b) {
    await withContext({ flow_id: "f-ctx", run_id: "r-ctx" }, () => {
      b.start();
      infoLoop(keysOnly.flow, BATCH);
      b.end();
    });
    await keysOnly.log.flush();
  },
});

Deno.bench({
  group: "redaction and context",
  name: `info ×${BATCH}, redact: false, after withContext() was used, outside it`,
  fn: infoBatch(plain),
});
