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
 * on purpose ({@linkcode dropLog}), because a dropped call takes another path.
 *
 * @module
 */
import { createLogger, type Logger, type LoggerOptions } from "../mod.ts";
import { withContext } from "../src/front/context.ts";
import { Encoder } from "../src/wire/codec.ts";
import {
  createControlBuffer,
  createRingBuffer,
  HEAD,
  HEADER_BYTES,
  RingProducer,
  TAIL,
} from "../src/wire/ring.ts";
import { benchTempDir, BINDINGS, callFields, EVENT } from "./_workload.ts";

const BATCH = 1000;

// The "sab" transport, as `"auto"` picks it under Deno: the store worker drains
// on the other core while the batch runs. 8 MiB holds a batch (~224 KiB) many
// times over.
const sabLog = createLogger({
  dir: benchTempDir(),
  transport: "sab",
  ringBytes: 8 << 20,
  exitHooks: false,
});
const sabFlow = sabLog.child({ ...BINDINGS });

// The same call with no consumer running concurrently (the in-thread transport
// drains only on a timer, which cannot fire inside a synchronous batch).
const inlineLog = createLogger({
  dir: benchTempDir(),
  transport: "inline",
  ringBytes: 8 << 20,
  exitHooks: false,
  flushIntervalMs: 2_000_000_000,
});
const inlineFlow = inlineLog.child({ ...BINDINGS });

// A 4 KiB ring that no one drains: after the first ~18 events every call
// drops. The drain timer is set beyond the life of the process.
const dropLog = createLogger({
  dir: benchTempDir(),
  transport: "inline",
  ringBytes: 4096,
  limits: { maxRecordBytes: 1024 },
  exitHooks: false,
  flushIntervalMs: 2_000_000_000,
});
const dropFlow = dropLog.child({ ...BINDINGS });
for (let i = 0; dropLog.stats().dropped === 0 && i < 1000; i++) dropFlow.info(EVENT, callFields(i));

function infoBatch(flow: Logger): void {
  for (let i = 0; i < BATCH; i++) flow.info(EVENT, callFields(i));
}

// --- "info": one batch of 1,000 calls per iteration --------------------------

Deno.bench({
  group: "info",
  name: `info ×${BATCH}, 7 bound ids + 2 fields, sab transport (worker draining)`,
  baseline: true,
  async fn(b) {
    b.start();
    infoBatch(sabFlow);
    b.end();
    await sabLog.flush();
  },
});

Deno.bench({
  group: "info",
  name: `info ×${BATCH}, same, inline transport (no concurrent consumer)`,
  async fn(b) {
    b.start();
    infoBatch(inlineFlow);
    b.end();
    await inlineLog.flush();
  },
});

Deno.bench({
  group: "info",
  name: `info ×${BATCH}, same, ring full (every call dropped and counted)`,
  fn() {
    infoBatch(dropFlow);
  },
});

// The encoder alone, as Core.write calls it (the child's bindings by id).
const encoder = new Encoder();
let seq = 0;
Deno.bench({
  group: "info",
  name: `Encoder.encode ×${BATCH} alone (no clock, no ring)`,
  fn() {
    for (let i = 0; i < BATCH; i++) {
      encoder.encode(++seq, 1795000000000, 9, 0, EVENT, callFields(i), 1);
    }
  },
});

// The two ways Core.write puts a record into the ring, without the logger
// around them: encode into the scratch buffer and copy it in with
// RingProducer.write, or reserve contiguous room and encode in place
// (Encoder.encodeAt, cited by src/wire/codec.ts). Both rings are shared and freed by
// playing the consumer whenever they fill.
function ringFor(): { producer: RingProducer; free: () => void } {
  const ring = createRingBuffer(8 << 20, true);
  const producer = new RingProducer(ring, createControlBuffer(true));
  const i32 = new Int32Array(ring, 0, HEADER_BYTES / 4);
  return { producer, free: () => Atomics.store(i32, TAIL, Atomics.load(i32, HEAD)) };
}
const viaScratch = ringFor();
Deno.bench({
  group: "info",
  name: `Encoder.encode + RingProducer.write ×${BATCH} (scratch, then copy)`,
  fn() {
    const { producer, free } = viaScratch;
    for (let i = 0; i < BATCH; i++) {
      const len = encoder.encode(
        ++seq,
        1795000000000,
        9,
        0,
        EVENT,
        callFields(i),
        1,
      );
      if (!producer.write(encoder.buf, len)) {
        free();
        producer.write(encoder.buf, len);
      }
    }
  },
});
const inPlace = ringFor();
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
        const len = encoder.encode(
          ++seq,
          1795000000000,
          9,
          0,
          EVENT,
          callFields(i),
          1,
        );
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
    sabFlow.debug(EVENT, FIELDS);
  },
});

Deno.bench({
  group: "disabled level",
  name: "flow.isEnabled('debug') guard",
  fn() {
    if (sabFlow.isEnabled("debug")) sabFlow.debug(EVENT, FIELDS);
  },
});

// --- "child": binding the seven correlation ids ------------------------------

Deno.bench({
  group: "child",
  name: "root.child({ 7 ids })",
  baseline: true,
  fn() {
    sabLog.child({ ...BINDINGS });
  },
});

Deno.bench({
  group: "child",
  name: "flow.child({ span_id }) on a logger with 7 ids",
  fn() {
    sabFlow.child({ span_id: "s-1" });
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

function sabLogger(redact: NonNullable<LoggerOptions["redact"]>): { log: Logger; flow: Logger } {
  const log = createLogger({
    dir: benchTempDir(),
    transport: "sab",
    ringBytes: 8 << 20,
    exitHooks: false,
    redact,
  });
  return { log, flow: log.child({ ...BINDINGS }) };
}
const plain = sabLogger(false);
const keysOnly = sabLogger(true);
const withPatterns = sabLogger({ patterns: true });

Deno.bench({
  group: "redaction and context",
  name: `info ×${BATCH}, redact: false`,
  baseline: true,
  async fn(b) {
    b.start();
    infoBatch(plain.flow);
    b.end();
    await plain.log.flush();
  },
});

Deno.bench({
  group: "redaction and context",
  name: `info ×${BATCH}, default sensitive keys (the default)`,
  async fn(b) {
    b.start();
    infoBatch(keysOnly.flow);
    b.end();
    await keysOnly.log.flush();
  },
});

Deno.bench({
  group: "redaction and context",
  name: `info ×${BATCH}, keys + value patterns (bearer, card, jwt)`,
  async fn(b) {
    b.start();
    infoBatch(withPatterns.flow);
    b.end();
    await withPatterns.log.flush();
  },
});

Deno.bench({
  group: "redaction and context",
  name: `info ×${BATCH} in withContext({ flow_id, run_id }), default keys`,
  async fn(b) {
    await withContext({ flow_id: "f-ctx", run_id: "r-ctx" }, () => {
      b.start();
      infoBatch(keysOnly.flow);
      b.end();
    });
    await keysOnly.log.flush();
  },
});

Deno.bench({
  group: "redaction and context",
  name: `info ×${BATCH}, redact: false, after withContext() was used, outside it`,
  async fn(b) {
    b.start();
    infoBatch(plain.flow);
    b.end();
    await plain.log.flush();
  },
});
