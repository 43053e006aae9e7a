/**
 * The shared-memory ring: one single-producer, single-consumer byte ring per
 * producing thread, carrying variable-length event records from the caller to
 * the worker.
 *
 * This comment is the one place the layout is written down; `tests/wire/ring_test.ts`
 * pins every value.
 *
 * ## Buffer
 *
 * A `SharedArrayBuffer` (or a plain `ArrayBuffer` for the in-thread and
 * postMessage transports) of `HEADER_BYTES + capacity + MIRROR_BYTES` bytes.
 * `capacity` is a power of two ≥ 4 KiB; `MIRROR_BYTES` is `capacity / 4` for
 * the ring of an attached producer and 0 otherwise ("Definitions mirror").
 *
 * ## Header (192 bytes, three 64-byte cache lines)
 *
 * Each side writes only its own cache line, so the producer's stores never
 * invalidate the line the consumer polls and vice versa.
 *
 * | byte | slot | type       | writer   | meaning                                              |
 * | ---- | ---- | ---------- | -------- | ---------------------------------------------------- |
 * | 0    | I0   | u32 atomic | producer | `HEAD`: bytes ever written (mod 2^32)                |
 * | 4    | I1   | i32 atomic | producer | `CLOSED`: 1 once the producer will write no more     |
 * | 8    | F1   | f64        | producer | `EMITTED`: user events that passed the level check   |
 * | 16   | F2   | f64        | producer | `DROPPED`: user events dropped (ring full)           |
 * | 24   | –    | –          | –        | reserved up to byte 63                               |
 * | 64   | I16  | u32 atomic | consumer | `TAIL`: bytes ever consumed (mod 2^32)               |
 * | 72   | F9   | f64        | consumer | `PERSISTED`: user events handed to the store         |
 * | 80   | F10  | f64        | consumer | `INTERNAL`: internal events handed to the store      |
 * | 88   | F11  | f64        | consumer | `LOST`: user events the store refused (I/O error)    |
 * | 96   | I24  | i32 atomic | consumer | `REGISTERED`: 1 once a consumer drains this ring     |
 * | 100  | I25  | u32 atomic | consumer | `STORED`: bytes whose records the store committed    |
 * |      |      |            |          | (browser worker only; see "Unload spill")            |
 * | 104  | F13  | f64        | consumer | `TAKEN`: user events taken out of the ring           |
 * |      |      |            |          | (mirrored rings only; see "Definitions mirror")      |
 * | 112  | F14  | f64        | consumer | `TAKEN_NEXT`: `TAKEN` once `TAIL` = `TAIL_NEXT`       |
 * | 120  | I30  | u32 atomic | consumer | `TAIL_NEXT`: the `TAIL` a drain is about to store    |
 * | 124  | –    | –          | –        | reserved up to byte 127                              |
 * | 128  | I32  | u32        | creator  | `MAGIC` = 0x464c5247 ("FLRG")                         |
 * | 132  | I33  | u32        | creator  | `VERSION` = 5                                        |
 * | 136  | I34  | u32        | creator  | `CAPACITY` in bytes                                  |
 * | 140  | I35  | u32        | creator  | `MIRROR_BYTES`: bytes of the definitions mirror      |
 * |      |      |            |          | after the data area (0: none)                        |
 * | 144  | –    | –          | –        | reserved up to byte 191                              |
 *
 * `HEAD` and `TAIL` are free-running byte counters; the data offset of a
 * counter is `counter & (capacity - 1)` and the bytes in use are
 * `(HEAD - TAIL) >>> 0`. The producer publishes records by storing `HEAD`
 * (sequentially consistent `Atomics.store`) after their bytes are written:
 * at the end of the current task (a microtask), as soon as a quarter of the
 * capacity is unpublished (`PUBLISH_SHIFT`), before it waits, and on flush; the
 * consumer frees space by storing `TAIL` after it has copied the bytes out.
 * The producer keeps the last `TAIL` it read and reads it again only when that
 * stale view shows too little room.
 * The f64 counters are statistics, written by one side only and read
 * approximately by the other; the producer publishes `EMITTED` / `DROPPED`
 * every 256 events and whenever it wakes the consumer or flushes.
 *
 * ## Records (data area, every record 4-byte aligned)
 *
 * | offset | type | field                                                      |
 * | ------ | ---- | ---------------------------------------------------------- |
 * | 0      | u32  | `len`: bytes of the record after this word (unpadded)      |
 * | 4      | u32  | `seq`: per-producer sequence number (1, 2, …); in a        |
 * |        |      | bindings definition, the producer's `epoch` instead        |
 * | 8      | f64  | `ts_ms`: wall-clock ms since the Unix epoch (0 in a        |
 * |        |      | bindings definition)                                       |
 * | 16     | u8   | `severity`: OpenTelemetry severity number (1–24)           |
 * | 17     | u8   | `flags`: bit 0 = internal event (not counted as emitted);  |
 * |        |      | bit 1 = bindings definition (not an event)                 |
 * | 18     | u16  | `npairs`: (key, value) pairs after the event name          |
 * | 20     | u32  | `bind_id`: the child logger's bindings (0 = none)          |
 * | 24     | …    | event name (a string value; empty in a definition), then   |
 * |        |      | `npairs` pairs: the call's fields, or the bindings         |
 *
 * ## Bindings by reference
 *
 * A child logger encodes its bindings once, into a bindings definition
 * record with an id unique in its producer. Event records carry only the id,
 * not the bindings' bytes (seven correlation ids are about 160 bytes, most of
 * an event record: bench/logger_bench.ts "info"). The producer keeps an
 * `epoch` counter that advances each time the ring wraps (the postMessage
 * producer: each batch). Before a child's first event of an epoch, the
 * producer writes the child's definition again, stamped with the epoch. So
 * every event refers to a definition written earlier in the same epoch, and
 * the consumer may forget every definition of an older epoch as soon as it
 * reads the first definition of a newer one: its table holds at most the
 * children that logged during one lap of the ring.
 *
 * A definition that cannot be written (ring full) drops the event that
 * needed it, counted like any drop; the next event of that child tries again.
 *
 * ## Worker restart
 *
 * When the worker dies (an uncaught exception, `terminate()`, a failed drain
 * loop), the front end starts a new one on the same store, control buffer and
 * rings; the new consumer starts at `TAIL`. The records between `TAIL` and
 * `HEAD` were never taken, so they are not lost; but their events may refer to
 * definitions the dead consumer had already taken. `TAIL` lags `HEAD` by at
 * most one capacity, so it lies in the producer's current or previous epoch:
 * the producer keeps the definitions it wrote in those two epochs (cold path:
 * once per child per epoch) and hands them to the new consumer with the ring.
 * The consumer adopts them without forgetting anything; the ring's first
 * definition of a newer epoch forgets them as usual. Every child then defines
 * itself again before its next event. Records the dead consumer had taken but
 * not stored are counted in `LOST` by the front end (its exact `EMITTED`
 * minus what is persisted, dropped, lost and still in the ring), so
 * `emitted = persisted + dropped` still holds. Deno reports a worker's exit
 * before its thread has surely stopped, and a thread stuck in an endless
 * loop never stops (Deno 2.9.6's `terminate()` does not interrupt it), so
 * the old consumer is retired rather than waited for: each worker gets a
 * generation number, and the front end stores the new one in `GENERATION`
 * before it starts the new worker. A consumer reads `GENERATION` before it
 * takes records from a ring and again after each store write, before it
 * counts the batch; once it is not its own it takes and counts nothing more
 * and ends its drain loop. A consumer frees ring space with a
 * compare-and-swap of `TAIL` from the value it read, so even one that passed
 * its check just before being replaced never moves `TAIL` back or takes
 * records its successor took. (What remains is a window of a few
 * instructions, with no system call, between the check and that swap or the
 * count after a write: a thread descheduled exactly there until after the
 * front end has counted could store one batch without counting it.) The
 * front end counts once the new worker has opened the store, and the new
 * consumer waits for `RESUME` = 1 before it drains. The store's lock is held
 * by the front end's thread for the whole life of the logger, so the new
 * worker never waits for a lock a stuck thread holds, and it begins a new
 * segment rather than append to one the old worker may still be writing
 * (src/store/segment_format.ts "The lock"). Definitions handed over to a
 * worker that died before reading past them are handed over again. This hand-over
 * is the owner's own ring's: an attached producer (an application Worker,
 * `attachLogger`) cannot be asked synchronously, so its ring carries a
 * definitions mirror instead (below). The postMessage producer has no ring: a
 * batch in flight when its worker dies is counted as lost, and every batch
 * defines its own bindings anyway.
 *
 * ## Definitions mirror (attached rings)
 *
 * The ring of an attached producer has `MIRROR_BYTES` = `capacity / 4` more
 * bytes after its data area: two banks of `capacity / 8` bytes, bank
 * `epoch & 1` holding the definitions the producer wrote in `epoch`. The
 * producer copies each definition into its bank before writing it into the
 * ring (so no consumer can take a definition a restarted one cannot read),
 * once per child per epoch, never per event.
 *
 * | bank byte | type       | meaning                                              |
 * | --------- | ---------- | ---------------------------------------------------- |
 * | 0         | u32 atomic | `epoch` of the definitions in the bank               |
 * | 4         | u32 atomic | `length`: bytes of records after the bank header     |
 * | 8         | u32 atomic | `missed`: definitions of `epoch` that did not fit    |
 * | 12        | –          | reserved                                             |
 * | 16        | …          | definition records as in the ring, end to end        |
 *
 * The producer enters a new epoch in a bank by storing `length` = 0,
 * `missed` = 0, then `epoch`; it appends a record by writing its bytes, then
 * storing the new `length`. A reader loads `epoch`, `length`, copies the
 * bytes, loads `epoch` again and keeps the copy only if it did not change.
 * The consumer that replaces a dead one reads both banks before its first
 * drain of the ring, when the dead consumer has been retired (`GENERATION`,
 * `RESUME`, above) and `TAIL` has not moved since: the producer is then at most one lap ahead of
 * `TAIL`, in the epoch of `TAIL`'s lap or the next one, and the two banks
 * hold exactly those epochs' definitions (a definition written later is in
 * the ring after `TAIL`). It adopts them as the owner's hand-over is adopted.
 * A definition that does not fit in its bank (more than `capacity / 8` bytes
 * of definitions in one lap: about 800 children of seven correlation ids in
 * the default 1 MiB ring) is only counted in `missed`; if a worker dies in
 * that epoch, the events that need it are stored with `bindings_lost: true`.
 *
 * The same consumer counts the user events the dead one took but neither
 * stored nor counted as lost: every drain of a mirrored ring counts the user
 * records it takes, stores `TAIL_NEXT` (the `TAIL` it is about to store),
 * `TAKEN_NEXT` (`TAKEN` plus them), then `TAIL`, then `TAKEN`. Wherever the
 * dead consumer stopped, the user events taken up to the `TAIL` in the ring
 * are `TAKEN_NEXT` if `TAIL` = `TAIL_NEXT`, else `TAKEN`; of those,
 * `taken - PERSISTED - LOST` were never stored: they are added to `LOST`,
 * keeping `emitted = persisted + dropped` for the attached producer, whose
 * exact counters live on its own thread. (The owner's ring needs none of
 * this: the front end counts it, as above.)
 *
 * A record occupies `align4(4 + len)` bytes and never straddles the end of the
 * data area: when it does not fit before the end, the producer writes the
 * `WRAP` marker (`len = 0xFFFFFFFF`) and the record starts at offset 0; the
 * skipped bytes count as used until the consumer passes them. Whenever fewer
 * than 4 bytes remain before the end the skip is implicit (cannot happen while
 * every record is 4-byte aligned, but the consumer tolerates it).
 *
 * Values are tagged; the tags and their encodings are documented in
 * `src/wire/codec.ts`, which owns them.
 *
 * ## Watchdog (hung worker)
 *
 * A worker that hangs (an endless loop, an `await` that never settles)
 * neither exits nor drains. The front end's watchdog (src/transport/watchdog.ts), on
 * an unref'ed timer and never in a log call, samples the control buffer,
 * the rings and its calls to the worker: work is waiting when a ring holds
 * records (`HEAD` ≠ `TAIL`), a synchronous flush is unanswered (`FLUSH_REQ`
 * ≠ `FLUSH_ACK`) or a call (a postMessage batch, a query) is unanswered;
 * progress is any change of a ring's `TAIL` or `STORED` (the browser
 * worker's IndexedDB commits), of `ALIVE` (bumped each time the consumer
 * goes to sleep), of `FLUSH_ACK`, or an answer. When work has
 * waited `hungAfterMs` without progress, the worker is `terminate()`d and
 * replaced exactly as a dead one (restart budget, hand-over, `LOST` count,
 * `onRestart`), at most `MAX_HUNG_WORKERS` times per logger.
 *
 * ## Unload spill
 *
 * The browser worker stores `STORED` (a counter like `TAIL`, never ahead of
 * it) once IndexedDB has committed every record before it. When the page goes
 * away (`pagehide`) it cannot wait for its worker, so it copies the records
 * between `STORED` and its own `HEAD` itself (`src/wire/sab_spill.ts`): they are
 * intact, since the producer never writes more than `capacity` bytes past
 * `TAIL`.
 *
 * ## Waking the consumer
 *
 * The consumer does not get an `Atomics.notify` per event. A separate
 * control buffer (one per store, shared by every producer) holds a `SLEEPING`
 * word: the consumer stores 1, re-checks every ring, and only then waits on
 * it; a producer that has just published checks the word and, only if it is 1,
 * sets it to 0 and notifies. Sequentially consistent atomics on both sides
 * make a lost wake-up impossible (producer: store HEAD then load SLEEPING;
 * consumer: store SLEEPING then load HEAD).
 *
 * ## Control buffer (128 bytes, Int32 slots)
 *
 * `SLEEPING`, which every producer reads after every write, has the first
 * cache line to itself; the rest changes rarely.
 *
 * | slot | name        | meaning                                               |
 * | ---- | ----------- | ----------------------------------------------------- |
 * | 0    | `SLEEPING`  | 1 while the consumer waits for data                   |
 * | 16   | `FLUSH_REQ` | synchronous flush requests made (producer increments) |
 * | 17   | `FLUSH_ACK` | last request the consumer has completed               |
 * | 18   | `ALIVE`     | consumer heartbeat counter (bumped when it sleeps)    |
 * | 19   | `STATE`     | 0 starting, 1 running, 2 failed, 3 closed             |
 * | 20   | `DURABLE`   | 1 asks the next synchronous flush to fsync too        |
 * | 21   | `RESUME`    | 1 once a restarted consumer may drain (see below)     |
 * | 22   | `GENERATION`| the current consumer's number; others stop draining  |
 *
 * A worker whose store cannot open writes why into a buffer of its own
 * (`WorkerInit.failure`: a u32 byte length, then UTF-8) before it stores
 * `STATE` = 2 and notifies `FLUSH_ACK`: a synchronous flush at exit stops
 * waiting and can say why. A front end that gives its worker up for good
 * stores `STATE` = 2 and advances `GENERATION`, so no consumer counts again.
 *
 * @module
 */

/** Bytes of the ring header. */
export const HEADER_BYTES = 192;
/** Int32 slot of the producer's byte counter. */
export const HEAD = 0;
/** Int32 slot set to 1 when the producer is closed. */
export const CLOSED = 1;
/** Float64 slot: user events that passed the level check. */
export const EMITTED = 1;
/** Float64 slot: user events dropped because the ring was full. */
export const DROPPED = 2;
/** Int32 slot of the consumer's byte counter. */
export const TAIL = 16;
/** Float64 slot: user events handed to the store. */
export const PERSISTED = 9;
/** Float64 slot: internal events handed to the store. */
export const INTERNAL = 10;
/** Float64 slot: user events the store refused. */
export const LOST = 11;
/**
 * Int32 slot set to 1 (and notified) when a consumer takes the ring: an
 * attached Worker's flush waits for it, so a flush cannot be acknowledged by a
 * consumer that does not drain its ring yet.
 */
export const REGISTERED = 24;
/**
 * Int32 slot of the consumer's committed-bytes counter: every record before it
 * is in the store (browser worker; see "Unload spill").
 */
export const STORED = 25;
/** Float64 slot: user events taken out of a mirrored ring ("Definitions mirror"). */
export const TAKEN = 13;
/** Float64 slot: `TAKEN` as it is once `TAIL` reaches `TAIL_NEXT`. */
export const TAKEN_NEXT = 14;
/** Int32 slot: the `TAIL` the consumer is about to store (mirrored rings). */
export const TAIL_NEXT = 30;
/** Int32 slot of the magic number. */
export const MAGIC_SLOT = 32;
/** Int32 slot of the layout version. */
export const VERSION_SLOT = 33;
/** Int32 slot of the data capacity in bytes. */
export const CAPACITY_SLOT = 34;
/** Int32 slot: bytes of the definitions mirror after the data area (0: none). */
export const MIRROR_SLOT = 35;
/** Bytes of a mirror bank's header ("Definitions mirror"). */
export const BANK_HEADER_BYTES = 16;
/** "FLRG". */
export const RING_MAGIC = 0x464c5247;
/** Ring layout version. */
export const RING_VERSION = 5;
/** `len` value marking "continue at offset 0". */
export const WRAP = 0xffffffff;
/** Bytes of the fixed part of a record, including the length word. */
export const RECORD_FIXED_BYTES = 24;
/** Record flag: an event flightlog wrote itself. */
export const FLAG_INTERNAL = 1;
/** Record flag: a bindings definition, not an event. */
export const FLAG_BINDINGS = 2;
/**
 * The producer publishes HEAD without waiting for the end of the task once
 * `capacity >>> PUBLISH_SHIFT` bytes (a quarter of the ring) are unpublished.
 */
export const PUBLISH_SHIFT = 2;
/** Smallest allowed capacity. */
export const MIN_CAPACITY = 4096;

/** Control slot: 1 while the consumer waits. */
export const SLEEPING = 0;
/** Control slot: synchronous flush requests made. */
export const FLUSH_REQ = 16;
/** Control slot: last synchronous flush request completed. */
export const FLUSH_ACK = 17;
/** Control slot: consumer heartbeat. */
export const ALIVE = 18;
/** Control slot: consumer state. */
export const STATE = 19;
/** Control slot: the pending synchronous flush must fsync. */
export const DURABLE = 20;
/** Control slot: a restarted consumer waits for 1 here before it drains ("Worker restart"). */
export const RESUME = 21;
/**
 * Control slot: the generation of the current consumer (1 for the first
 * worker, +1 per replacement); an older consumer stops ("Worker restart").
 */
export const GENERATION = 22;
/** Bytes of the control buffer. */
export const CONTROL_BYTES = 128;
/** Consumer states in the `STATE` slot. */
export const ConsumerState = { starting: 0, running: 1, failed: 2, closed: 3 } as const;

/** The statistics slots of a ring. */
export interface RingCounters {
  emitted: number;
  dropped: number;
  persisted: number;
  internal: number;
  lost: number;
}

function readCounters(f: Float64Array): RingCounters {
  return {
    emitted: f[EMITTED]!,
    dropped: f[DROPPED]!,
    persisted: f[PERSISTED]!,
    internal: f[INTERNAL]!,
    lost: f[LOST]!,
  };
}

/** Rounds up to a multiple of 4. */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Rounds a requested ring size to a valid capacity (a power of two, at least 4 KiB). */
export function ringCapacity(requested: number): number {
  let cap = MIN_CAPACITY;
  while (cap < requested && cap < 0x40000000) cap *= 2;
  return cap;
}

/**
 * Allocates and initializes a ring buffer (shared when `shared` is true);
 * `mirrored` adds the definitions mirror of an attached producer's ring.
 */
export function createRingBuffer(
  capacity: number,
  shared: boolean,
  mirrored = false,
): SharedArrayBuffer | ArrayBuffer {
  const cap = ringCapacity(capacity);
  const mirror = mirrored ? cap / 4 : 0;
  const buf = shared
    ? new SharedArrayBuffer(HEADER_BYTES + cap + mirror)
    : new ArrayBuffer(HEADER_BYTES + cap + mirror);
  const i32 = new Int32Array(buf, 0, HEADER_BYTES / 4);
  i32[MAGIC_SLOT] = RING_MAGIC;
  i32[VERSION_SLOT] = RING_VERSION;
  i32[CAPACITY_SLOT] = cap;
  i32[MIRROR_SLOT] = mirror;
  return buf;
}

/** Throws a `TypeError` unless `buf` holds a ring of this layout version. */
export function checkRingBuffer(buf: ArrayBufferLike): void {
  if (buf.byteLength < HEADER_BYTES + MIN_CAPACITY) {
    throw new TypeError("Ring buffer is too small: create it with createRingBuffer()");
  }
  const i32 = new Int32Array(buf, 0, HEADER_BYTES / 4);
  if (i32[MAGIC_SLOT] !== RING_MAGIC || i32[VERSION_SLOT] !== RING_VERSION) {
    throw new TypeError(
      `Not a flightlog ring buffer of version ${RING_VERSION}: create it with createRingBuffer()`,
    );
  }
  if (buf.byteLength < HEADER_BYTES + i32[CAPACITY_SLOT]! + i32[MIRROR_SLOT]!) {
    throw new TypeError(
      "Ring buffer is shorter than its header says: create it with createRingBuffer()",
    );
  }
}

/** The definitions mirror of a ring (null when it has none), as 32-bit words. */
function mirrorOf(buffer: SharedArrayBuffer | ArrayBuffer): Int32Array | null {
  const i32 = new Int32Array(buffer, 0, HEADER_BYTES / 4);
  const bytes = i32[MIRROR_SLOT]!;
  if (bytes === 0) return null;
  return new Int32Array(buffer, HEADER_BYTES + i32[CAPACITY_SLOT]!, bytes / 4);
}

/**
 * The definitions both banks of a ring's mirror hold, framed records end to
 * end (empty when it has none). A bank the producer re-used while it was
 * read is left out: it held an epoch older than the ring's (see
 * "Definitions mirror").
 */
export function mirroredDefinitions(buffer: SharedArrayBuffer | ArrayBuffer): Uint8Array {
  const m = mirrorOf(buffer);
  if (m === null) return new Uint8Array(0);
  const bankWords = m.length / 2;
  const room = bankWords * 4 - BANK_HEADER_BYTES;
  const parts: Uint8Array[] = [];
  for (let bank = 0; bank < 2; bank++) {
    const at = bank * bankWords;
    const epoch = Atomics.load(m, at);
    const len = Atomics.load(m, at + 1) >>> 0;
    if (epoch === 0 || len === 0 || len > room) continue;
    const start = m.byteOffset + at * 4 + BANK_HEADER_BYTES;
    const copy = new Uint8Array(m.buffer, start, len).slice();
    if (Atomics.load(m, at) === epoch) parts.push(copy);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Definitions of the current epoch that did not fit in its mirror bank. */
export function mirrorMissed(buffer: SharedArrayBuffer | ArrayBuffer, epoch: number): number {
  const m = mirrorOf(buffer);
  if (m === null) return 0;
  const at = (epoch & 1) * (m.length / 2);
  return Atomics.load(m, at) === epoch ? Atomics.load(m, at + 2) : 0;
}

// ---------------------------------------------------------------------------
// Header accessors: code outside this file reads and writes a ring's header
// through these, never through offsets of its own.

function header32(ring: ArrayBufferLike): Int32Array {
  return new Int32Array(ring, 0, HEADER_BYTES / 4);
}

/** `HEAD`: bytes the producer has published (mod 2^32), read atomically. */
export function loadHead(ring: ArrayBufferLike): number {
  return Atomics.load(header32(ring), HEAD) >>> 0;
}

/** `TAIL`: bytes a consumer has taken (mod 2^32), read atomically. */
export function loadTail(ring: ArrayBufferLike): number {
  return Atomics.load(header32(ring), TAIL) >>> 0;
}

/** `STORED`: bytes whose records the store committed (mod 2^32; browser worker). */
export function loadStored(ring: ArrayBufferLike): number {
  return Atomics.load(header32(ring), STORED) >>> 0;
}

/** `CAPACITY`: bytes of the data area. */
export function capacityOf(ring: ArrayBufferLike): number {
  return header32(ring)[CAPACITY_SLOT]!;
}

/** True once a consumer drains the ring (`REGISTERED`). */
export function isRegistered(ring: ArrayBufferLike): boolean {
  return Atomics.load(header32(ring), REGISTERED) !== 0;
}

/**
 * Waits at most `ms` for a consumer to register the ring (`REGISTERED`),
 * without blocking the thread; resolves either way.
 */
export async function waitRegistered(ring: ArrayBufferLike, ms: number): Promise<void> {
  const r = Atomics.waitAsync(header32(ring), REGISTERED, 0, ms);
  if (!r.async) return;
  // A pending waitAsync does not keep the event loop alive; a timer does.
  const keepAlive = setTimeout(() => {}, ms);
  await r.value;
  clearTimeout(keepAlive);
}

/**
 * Adds `events` to `LOST`, the consumer's slot: only the front end calls it,
 * for events no consumer will store (a dead or given-up worker), while no
 * consumer counts ("Worker restart").
 */
export function addLost(ring: ArrayBufferLike, events: number): void {
  const f64 = new Float64Array(ring, 0, HEADER_BYTES / 8);
  f64[LOST] = f64[LOST]! + events;
}

/**
 * A copy of the bytes between counters `from` and `to` (e.g. `TAIL` and
 * `HEAD`), with the data offset `off` where the copy begins and the ring's
 * capacity, for {@linkcode walkRecords}; null when the span is empty or
 * longer than the ring.
 */
export function copySpan(
  ring: ArrayBufferLike,
  from: number,
  to: number,
): { bytes: Uint8Array; off: number; cap: number } | null {
  const cap = capacityOf(ring);
  const used = (to - from) >>> 0;
  if (used === 0 || used > cap) return null;
  const data = new Uint8Array(ring, HEADER_BYTES, cap);
  const bytes = new Uint8Array(used);
  const off = from & (cap - 1);
  const first = Math.min(used, cap - off);
  bytes.set(data.subarray(off, off + first), 0);
  if (first < used) bytes.set(data.subarray(0, used - first), first);
  return { bytes, off, cap };
}

/** Allocates the control buffer (shared when `shared` is true). */
export function createControlBuffer(shared: boolean): SharedArrayBuffer | ArrayBuffer {
  return shared ? new SharedArrayBuffer(CONTROL_BYTES) : new ArrayBuffer(CONTROL_BYTES);
}

/**
 * The producer side of a ring: reserves contiguous space for one record and
 * publishes it. Owned by exactly one thread.
 */
export class RingProducer {
  /** The whole buffer, header included. */
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  /** Bytes of the data area. */
  readonly capacity: number;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #data32: Int32Array;
  /** The data area, for encoding records in place (see {@linkcode RingProducer.reserve}). */
  readonly data: Uint8Array;
  /** A DataView of the data area. */
  readonly view: DataView;
  readonly #control: Int32Array;
  readonly #shared: boolean;
  // Local copy of HEAD: only this thread writes it, so no atomic read is needed.
  #head: number;
  // Last TAIL read. Stale is safe (it only under-reports free space); reading
  // the consumer's cache line only when short of room is the textbook SPSC
  // move, though on this 2-core VM it measured within noise of re-reading
  // (bench/ring_bench.ts "ring write", bench/README.md).
  #tail: number;
  #src: Uint8Array | null = null;
  #src32: Int32Array = new Int32Array(0);
  readonly #mirror: Int32Array | null;

  constructor(buffer: SharedArrayBuffer | ArrayBuffer, control: SharedArrayBuffer | ArrayBuffer) {
    checkRingBuffer(buffer);
    this.#mirror = mirrorOf(buffer);
    this.buffer = buffer;
    this.#i32 = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#f64 = new Float64Array(buffer, 0, HEADER_BYTES / 8);
    this.capacity = this.#i32[CAPACITY_SLOT]!;
    this.#data32 = new Int32Array(buffer, HEADER_BYTES, this.capacity / 4);
    this.data = new Uint8Array(buffer, HEADER_BYTES, this.capacity);
    this.view = new DataView(buffer, HEADER_BYTES, this.capacity);
    this.#control = new Int32Array(control);
    this.#shared = buffer instanceof SharedArrayBuffer;
    this.#head = Atomics.load(this.#i32, HEAD) >>> 0;
    this.#published = this.#head;
    this.#publishBytes = this.capacity >>> PUBLISH_SHIFT;
    this.#tail = Atomics.load(this.#i32, TAIL) >>> 0;
    this.#publishTask = () => {
      this.#scheduled = false;
      this.wake();
    };
  }

  // HEAD is published (a sequentially consistent store, i.e. a full fence that
  // waits for the record's cache lines) at the end of the current task, or
  // once a quarter of the ring is unpublished, not per record: a consumer
  // woken in the middle of a burst drains on the other core while the caller
  // still writes, and the two slow each other down (a burst of 1,000 calls
  // cost 7-9% more when HEAD was published every 32 records; bench: the gate).
  #published: number;
  readonly #publishBytes: number;
  #scheduled = false;
  readonly #publishTask: () => void;

  /**
   * Advances each time the ring wraps: a child logger defines its bindings
   * again before its first event of an epoch (see "Bindings by reference").
   */
  epoch = 1;

  #advance(head: number): void {
    const mask = this.capacity - 1;
    if ((head & mask) < (this.#head & mask)) this.epoch++;
    this.#head = head;
    if (((head - this.#published) >>> 0) >= this.#publishBytes || !this.#shared) {
      this.wake();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#publishTask);
    }
  }

  /**
   * Copies a bindings definition stamped with `epoch` (the current one) into
   * the ring's definitions mirror, before it is written into the ring; does
   * nothing when the ring has no mirror. Cold path: once per child per epoch
   * (see "Definitions mirror").
   */
  mirror(record: Uint8Array, len: number, epoch: number): void {
    const m = this.#mirror;
    if (m === null) return;
    const bankWords = m.length / 2;
    const at = (epoch & 1) * bankWords;
    if (Atomics.load(m, at) !== epoch) {
      Atomics.store(m, at + 1, 0);
      Atomics.store(m, at + 2, 0);
      Atomics.store(m, at, epoch);
    }
    const fill = Atomics.load(m, at + 1);
    const need = align4(len);
    if (fill + need > bankWords * 4 - BANK_HEADER_BYTES) {
      Atomics.add(m, at + 2, 1);
      return;
    }
    const start = m.byteOffset + at * 4 + BANK_HEADER_BYTES + fill;
    new Uint8Array(m.buffer, start, need).set(record.subarray(0, need));
    Atomics.store(m, at + 1, fill + need);
  }

  /** Bytes currently unread. */
  used(): number {
    return (this.#head - Atomics.load(this.#i32, TAIL)) >>> 0;
  }

  /** Bytes ever written, published or not (the local `HEAD`). */
  head(): number {
    return this.#head;
  }

  /**
   * Copies `src[0..len)` into the ring as one record (the caller has already
   * framed it: `len` word first). `src` must start on a 4-byte boundary of its
   * buffer and hold whole words (`align4(len)` bytes). Returns false, writing nothing, when there is no room.
   */
  write(src: Uint8Array, len: number): boolean {
    const cap = this.capacity;
    const need = align4(len);
    const head = this.#head;
    const off = head & (cap - 1);
    const toEnd = cap - off;
    // The record would straddle the end: skip to offset 0 behind a WRAP marker.
    const advance = need > toEnd ? toEnd + need : need;
    if (advance > cap - ((head - this.#tail) >>> 0)) {
      this.#tail = Atomics.load(this.#i32, TAIL) >>> 0;
      if (advance > cap - ((head - this.#tail) >>> 0)) return false;
    }
    const d32 = this.#data32;
    let at = off >> 2;
    if (need > toEnd) {
      d32[at] = -1; // WRAP (0xFFFFFFFF)
      at = 0;
    }
    if (src !== this.#src) {
      this.#src = src;
      this.#src32 = new Int32Array(src.buffer, src.byteOffset, src.byteLength >> 2);
    }
    // Word copy: no subarray allocation, a quarter of the iterations of a byte
    // loop (bench/ring_bench.ts "copy").
    const s32 = this.#src32;
    const words = need >> 2;
    for (let i = 0; i < words; i++) d32[at + i] = s32[i]!;
    this.#advance((head + advance) >>> 0);
    return true;
  }

  /**
   * Returns the data offset where a record of up to `max` bytes can be
   * encoded in place (contiguous room, no wrap needed), or -1: then encode
   * elsewhere and {@linkcode RingProducer.write} it. Follow with
   * {@linkcode RingProducer.commit}.
   */
  reserve(max: number): number {
    const cap = this.capacity;
    const head = this.#head;
    const off = head & (cap - 1);
    if (cap - off < max) return -1;
    if (max > cap - ((head - this.#tail) >>> 0)) {
      this.#tail = Atomics.load(this.#i32, TAIL) >>> 0;
      if (max > cap - ((head - this.#tail) >>> 0)) return -1;
    }
    return off;
  }

  /** True when at least `n` bytes are free (not necessarily contiguous). */
  hasRoom(n: number): boolean {
    if (n <= this.capacity - ((this.#head - this.#tail) >>> 0)) return true;
    this.#tail = Atomics.load(this.#i32, TAIL) >>> 0;
    return n <= this.capacity - ((this.#head - this.#tail) >>> 0);
  }

  /** Publishes a record of `len` bytes encoded in place at the offset `reserve()` gave. */
  commit(len: number): void {
    this.#advance((this.#head + align4(len)) >>> 0);
  }

  /** Publishes the producer's statistics (absolute values) to the header. */
  publish(emitted: number, dropped: number): void {
    this.#f64[EMITTED] = emitted;
    this.#f64[DROPPED] = dropped;
  }

  /**
   * Publishes HEAD (if records were written since) and wakes the consumer if
   * it sleeps: the consumer is never notified per event.
   */
  wake(): void {
    if (this.#published !== this.#head) {
      this.#published = this.#head;
      Atomics.store(this.#i32, HEAD, this.#head | 0);
    }
    const c = this.#control;
    if (Atomics.load(c, SLEEPING) === 1) {
      Atomics.store(c, SLEEPING, 0);
      if (this.#shared) Atomics.notify(c, SLEEPING);
      else this.onWake?.();
    }
  }

  /** Called instead of `Atomics.notify` when the ring is not shared (in-thread mode). */
  onWake: (() => void) | undefined = undefined;

  /** Reads the statistics slots. */
  counters(): RingCounters {
    return readCounters(this.#f64);
  }

  /**
   * Waits up to `ms` for the consumer to free space (only where the thread may
   * block). Returns false when waiting is impossible here.
   */
  waitForSpace(ms: number): boolean {
    if (!this.#shared) return false;
    try {
      this.wake();
      const tail = Atomics.load(this.#i32, TAIL);
      this.wakeAlways();
      Atomics.wait(this.#i32, TAIL, tail, ms);
      return true;
    } catch {
      // Atomics.wait throws on threads that may not block (a browser main thread).
      return false;
    }
  }

  /** Notifies the consumer unconditionally (used before waiting for it). */
  wakeAlways(): void {
    if (!this.#shared) return;
    Atomics.store(this.#control, SLEEPING, 0);
    Atomics.notify(this.#control, SLEEPING);
  }

  /** Marks the ring closed: the producer writes no more. */
  close(): void {
    Atomics.store(this.#i32, CLOSED, 1);
  }
}

/**
 * The consumer side of a ring: copies out every published record and frees
 * the space. Owned by exactly one thread.
 */
export class RingConsumer {
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  readonly capacity: number;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;
  readonly #data: Uint8Array;
  #scratch: Uint8Array;
  readonly #shared: boolean;
  /** True when the ring has a definitions mirror: drains count `TAKEN`. */
  readonly mirrored: boolean;

  constructor(buffer: SharedArrayBuffer | ArrayBuffer) {
    checkRingBuffer(buffer);
    this.buffer = buffer;
    this.#i32 = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#f64 = new Float64Array(buffer, 0, HEADER_BYTES / 8);
    this.capacity = this.#i32[CAPACITY_SLOT]!;
    this.mirrored = this.#i32[MIRROR_SLOT]! !== 0;
    this.#data = new Uint8Array(buffer, HEADER_BYTES, this.capacity);
    this.#scratch = new Uint8Array(0);
    this.#shared = typeof SharedArrayBuffer === "function" && buffer instanceof SharedArrayBuffer;
    Atomics.store(this.#i32, REGISTERED, 1);
    if (this.#shared) Atomics.notify(this.#i32, REGISTERED);
  }

  /** True when published records are waiting. */
  pending(): boolean {
    return Atomics.load(this.#i32, HEAD) !== Atomics.load(this.#i32, TAIL);
  }

  /** Bytes published and not yet drained. */
  used(): number {
    return (Atomics.load(this.#i32, HEAD) - Atomics.load(this.#i32, TAIL)) >>> 0;
  }

  /** True once the producer has closed the ring. */
  closed(): boolean {
    return Atomics.load(this.#i32, CLOSED) === 1;
  }

  /**
   * Copies every published record into a private buffer (so decoding never
   * reads shared memory the producer could reuse) and frees the ring space.
   * Calls `onRecord(bytes, start, end)` for each record: `bytes[start..end)`
   * is the record without its length word. Returns the number of records.
   */
  drain(onRecord: (bytes: Uint8Array, start: number, end: number) => void): number {
    const head = Atomics.load(this.#i32, HEAD) >>> 0;
    const tail = Atomics.load(this.#i32, TAIL) >>> 0;
    const used = (head - tail) >>> 0;
    if (used === 0) return 0;
    const cap = this.capacity;
    if (this.#scratch.length < used) this.#scratch = new Uint8Array(Math.max(used, 4096));
    const out = this.#scratch;
    // Copy the used region out in at most two pieces (it may wrap the end).
    const off = tail & (cap - 1);
    const first = Math.min(used, cap - off);
    out.set(this.#data.subarray(off, off + first), 0);
    if (first < used) out.set(this.#data.subarray(0, used - first), first);
    // A mirrored ring counts what it takes so that a consumer replacing this
    // one knows it exactly, wherever this one stops ("Definitions mirror").
    // TAIL_NEXT first: until TAIL equals it, TAKEN_NEXT is not trusted.
    if (this.mirrored) {
      Atomics.store(this.#i32, TAIL_NEXT, head | 0);
      this.#f64[TAKEN_NEXT] = this.#f64[TAKEN]! + countUserRecords(out, used, off, cap);
    }
    // The bytes are ours now: free the ring before decoding. A compare-and-swap
    // rather than a store (same cost: both are locked instructions): a consumer
    // replaced meanwhile ("Worker restart") can never move TAIL back or take
    // records its successor took.
    if (Atomics.compareExchange(this.#i32, TAIL, tail | 0, head | 0) !== (tail | 0)) return 0;
    if (this.mirrored) this.#f64[TAKEN] = this.#f64[TAKEN_NEXT]!;
    if (this.#shared) Atomics.notify(this.#i32, TAIL);
    return walkRecords(out, used, off, cap, onRecord);
  }

  /**
   * For the consumer that replaces a dead one, before its first drain of a
   * mirrored ring: adds to `LOST` the user events the dead one took but
   * neither stored nor counted, and returns their number (see "Definitions
   * mirror"). 0 for a ring without a mirror.
   */
  settleTaken(): number {
    if (!this.mirrored) return 0;
    const f = this.#f64;
    const tail = Atomics.load(this.#i32, TAIL);
    const taken = Atomics.load(this.#i32, TAIL_NEXT) === tail ? f[TAKEN_NEXT]! : f[TAKEN]!;
    f[TAKEN] = taken;
    const lost = Math.max(0, taken - f[PERSISTED]! - f[LOST]!);
    if (lost > 0) f[LOST] = f[LOST]! + lost;
    return lost;
  }

  /** Bytes ever consumed (`TAIL`): where the last drain ended. */
  tail(): number {
    return Atomics.load(this.#i32, TAIL) >>> 0;
  }

  /** Records that every record before `tail` (a value `tail()` gave) is in the store. */
  markStored(tail: number): void {
    Atomics.store(this.#i32, STORED, tail | 0);
  }

  /** Adds to the PERSISTED / INTERNAL statistics slots. */
  countPersisted(user: number, internal: number): void {
    this.#f64[PERSISTED] = this.#f64[PERSISTED]! + user;
    if (internal !== 0) this.#f64[INTERNAL] = this.#f64[INTERNAL]! + internal;
  }

  /** Adds to the LOST statistics slot. */
  countLost(user: number): void {
    this.#f64[LOST] = this.#f64[LOST]! + user;
  }

  /** Reads the statistics slots. */
  counters(): RingCounters {
    return readCounters(this.#f64);
  }
}

/**
 * User events published in a ring and not yet taken by a consumer (neither
 * internal events nor bindings definitions). Reads without consuming: for the
 * front end after its worker died (see "Worker restart").
 */
export function pendingEvents(buffer: SharedArrayBuffer | ArrayBuffer): number {
  checkRingBuffer(buffer);
  const span = copySpan(buffer, loadTail(buffer), loadHead(buffer));
  if (span === null) return 0;
  return countUserRecords(span.bytes, span.bytes.length, span.off, span.cap);
}

/**
 * User events (neither internal nor definitions) among the records in
 * `out[0..used)`, laid out as {@linkcode walkRecords} reads them (a batch of
 * records end to end: `startOff` 0, `cap` 2^30).
 */
// walkRecords() without its callback per record, which made the count cost
// about twice as much (bench/mirror_bench.ts "drain").
export function countUserRecords(
  out: Uint8Array,
  used: number,
  startOff: number,
  cap: number,
): number {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const wrapAt = cap - startOff;
  let pos = 0;
  let n = 0;
  while (pos < used) {
    if (cap - ((startOff + pos) & (cap - 1)) < 4) {
      pos = wrapAt;
      continue;
    }
    const len = dv.getUint32(pos, true);
    if (len === WRAP) {
      pos = wrapAt;
      continue;
    }
    const end = pos + 4 + len;
    if (len < RECORD_FIXED_BYTES - 4 || end > used) break;
    if ((out[pos + 17]! & (FLAG_INTERNAL | FLAG_BINDINGS)) === 0) n++;
    pos = align4(end);
  }
  return n;
}

/**
 * Walks records in `out[0..used)`, a copy of the ring region that began at data
 * offset `startOff`. Offsets in the copy map to ring offsets, so the WRAP rule
 * ("skip to ring offset 0") becomes "skip to where ring offset 0 landed".
 */
export function walkRecords(
  out: Uint8Array,
  used: number,
  startOff: number,
  cap: number,
  onRecord: (bytes: Uint8Array, start: number, end: number) => void,
): number {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let pos = 0;
  let n = 0;
  const wrapAt = cap - startOff; // copy offset at which ring offset 0 begins
  while (pos < used) {
    const ringOff = (startOff + pos) & (cap - 1);
    if (cap - ringOff < 4) {
      pos = wrapAt;
      continue;
    }
    const len = dv.getUint32(pos, true);
    if (len === WRAP) {
      pos = wrapAt;
      continue;
    }
    const end = pos + 4 + len;
    if (len < RECORD_FIXED_BYTES - 4 || end > used) break; // cannot happen with a well-behaved producer
    onRecord(out, pos + 4, end);
    n++;
    pos = align4(end);
  }
  return n;
}

/**
 * Resolves once the front end sets `RESUME` in the control buffer: a worker
 * that replaces a dead one drains only after the front end has counted what
 * the dead one took (see "Worker restart").
 */
export async function waitForResume(control: SharedArrayBuffer | ArrayBuffer): Promise<void> {
  const c = new Int32Array(control);
  while (Atomics.load(c, RESUME) !== 1) {
    const r = Atomics.waitAsync(c, RESUME, 0, 1000);
    if (r.async) await r.value;
  }
}
