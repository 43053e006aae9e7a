/**
 * The shared-memory ring: one single-producer, single-consumer byte ring per
 * producing thread, carrying variable-length event records from the caller to
 * the worker, and the control buffer one consumer shares with every producer.
 * Layout and protocol: docs/internals.md "The ring" (from "Buffer" to
 * "Decoding a ring"); `tests/wire/ring_test.ts` and
 * `tests/docs/internals_test.ts` pin every value.
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
 * is in the store (browser worker; docs/internals.md "Unload spill").
 */
export const STORED = 25;
/**
 * Float64 slot: user events taken out of a mirrored ring (docs/internals.md
 * "Definitions mirror").
 */
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
/** Bytes of a mirror bank's header (docs/internals.md "Definitions mirror"). */
export const BANK_HEADER_BYTES = 16;
/** "FLRG". */
export const RING_MAGIC = 0x464c5247;
/** Ring layout version. */
export const RING_VERSION = 7;
/** `len` value marking "continue at offset 0". */
export const WRAP = 0xffffffff;
/** Bytes of the fixed part of a record, including the length word. */
export const RECORD_FIXED_BYTES = 24;
/** Record flag: an event flightlog wrote itself. */
export const FLAG_INTERNAL = 1;
/** Record flag: a bindings definition, not an event. */
export const FLAG_BINDINGS = 2;
/**
 * Record flag: with FLAG_BINDINGS a shape definition (an event name and keys);
 * on an event, its fields are the values of a defined shape
 * (docs/internals.md "Shapes by reference").
 */
export const FLAG_SHAPE = 4;
/**
 * Record flag, on a shape definition only: each key's constant (an `ASCII`
 * value, or `UNDEFINED` for none) follows the keys, and the shape's events may
 * write `CONSTANT` for a value equal to it (docs/internals.md "Shapes by reference").
 */
export const FLAG_CONSTANTS = 8;
/**
 * The producer publishes HEAD without waiting for the end of the task once
 * `capacity >>> PUBLISH_SHIFT` bytes (a quarter of the ring) or
 * {@linkcode PUBLISH_MAX_BYTES}, whichever is less, are unpublished.
 */
export const PUBLISH_SHIFT = 2;
/**
 * At most this many bytes go unpublished in a long task: the worker starts on
 * a burst into a large ring early enough to keep up with it
 * (docs/internals.md "Publishing and waking").
 */
export const PUBLISH_MAX_BYTES = 1 << 20;
/** Smallest allowed capacity. */
export const MIN_CAPACITY = 4096;
/**
 * Most bytes a consumer copies out of a ring and frees at a time (at least
 * one whole record): its private copy stays this small however large the
 * ring (docs/internals.md "Counters and free space").
 */
export const DRAIN_CHUNK_BYTES = 1 << 20;
// The smallest page size of the platforms flightlog runs on: a larger page is
// touched more than once, which is harmless.
const PAGE_BYTES = 4096;

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
/**
 * Control slot: a restarted consumer waits for 1 here before it drains
 * (docs/internals.md "Worker restart").
 */
export const RESUME = 21;
/**
 * Control slot: the generation of the current consumer (1 for the first
 * worker, +1 per replacement); an older consumer stops (docs/internals.md
 * "Worker restart").
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
 * read is left out: it held an epoch older than the ring's (docs/internals.md
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
  // (bench/ring_bench.ts "ring write", docs/performance.md "Micro-benchmarks").
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
    this.#publishBytes = Math.min(this.capacity >>> PUBLISH_SHIFT, PUBLISH_MAX_BYTES);
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
   * again before its first event of an epoch (docs/internals.md "Bindings by reference").
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
   * (docs/internals.md "Definitions mirror").
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
  readonly #view: DataView;
  readonly #data32: Int32Array;
  #scratch: Uint8Array;
  // prefault(): the counter up to which pages are touched (null: not begun),
  // and the bytes touched so far (it stops after one lap).
  #faulted: number | null = null;
  #faultedBytes = 0;
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
    this.#view = new DataView(buffer, HEADER_BYTES, this.capacity);
    this.#data32 = new Int32Array(buffer, HEADER_BYTES, this.capacity / 4);
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
   * reads shared memory the producer could reuse) and frees the ring space,
   * at most {@linkcode DRAIN_CHUNK_BYTES} at a time. Calls
   * `onRecord(bytes, start, end)` for each record: `bytes[start..end)` is the
   * record without its length word. Returns the number of records.
   */
  drain(onRecord: (bytes: Uint8Array, start: number, end: number) => void): number {
    const head = Atomics.load(this.#i32, HEAD) >>> 0;
    let n = 0;
    for (;;) {
      const tail = Atomics.load(this.#i32, TAIL) >>> 0;
      const used = (head - tail) >>> 0;
      if (used === 0 || used > this.capacity) return n;
      const take = used <= DRAIN_CHUNK_BYTES ? used : this.#chunk(tail, used);
      const k = this.#take(tail, take, onRecord);
      if (k < 0) return n;
      n += k;
    }
  }

  // Bytes from `tail` to the last record boundary within DRAIN_CHUNK_BYTES
  // (one record at least). Reading published records in place is safe: the
  // producer writes over them only once TAIL has passed them.
  #chunk(tail: number, used: number): number {
    const cap = this.capacity;
    const view = this.#view;
    let pos = 0;
    for (;;) {
      const off = (tail + pos) & (cap - 1);
      let next = pos + (cap - off); // a WRAP marker, or too few bytes for one: skip to offset 0
      if (cap - off >= 4) {
        const len = view.getUint32(off, true);
        // A corrupt length: take it all, walkRecords stops at the bad record.
        if (len !== WRAP && (len < RECORD_FIXED_BYTES - 4 || len > used)) return used;
        if (len !== WRAP) next = pos + align4(4 + len);
      }
      if (next > used) return used;
      if (next > DRAIN_CHUNK_BYTES && pos > 0) return pos;
      if (next === used) return used;
      pos = next;
    }
  }

  // Copies `used` bytes from `tail` out, frees them and walks their records;
  // -1 when another consumer took them meanwhile.
  #take(
    tail: number,
    used: number,
    onRecord: (bytes: Uint8Array, start: number, end: number) => void,
  ): number {
    const head = (tail + used) >>> 0;
    const cap = this.capacity;
    if (this.#scratch.length < used) this.#scratch = new Uint8Array(Math.max(used, 4096));
    const out = this.#scratch;
    // Copy the region out in at most two pieces (it may wrap the end).
    const off = tail & (cap - 1);
    const first = Math.min(used, cap - off);
    out.set(this.#data.subarray(off, off + first), 0);
    if (first < used) out.set(this.#data.subarray(0, used - first), first);
    // A mirrored ring counts what it takes so that a consumer replacing this one
    // knows it exactly, wherever this one stops (docs/internals.md "Definitions mirror").
    // TAIL_NEXT first: until TAIL equals it, TAKEN_NEXT is not trusted.
    if (this.mirrored) {
      Atomics.store(this.#i32, TAIL_NEXT, head | 0);
      this.#f64[TAKEN_NEXT] = this.#f64[TAKEN]! + countUserRecords(out, used, off, cap);
    }
    // The bytes are ours now: free the ring before decoding. A compare-and-swap
    // rather than a store (same cost: both are locked instructions): a consumer
    // replaced meanwhile (docs/internals.md "Worker restart") can never move TAIL back or take
    // records its successor took.
    if (Atomics.compareExchange(this.#i32, TAIL, tail | 0, head | 0) !== (tail | 0)) return -1;
    if (this.mirrored) this.#f64[TAKEN] = this.#f64[TAKEN_NEXT]!;
    if (this.#shared) Atomics.notify(this.#i32, TAIL);
    return walkRecords(out, used, off, cap, onRecord);
  }

  /**
   * Touches at most `pages` pages of the data area, the next ones from `HEAD`
   * on, and returns how many it touched (0: nothing to do now). It stops once
   * it has touched a whole lap, and does nothing on a ring that is not
   * shared. Called by the consumer when idle: a page's first write faults,
   * and on a KVM guest a fault took 11 µs, which the log call that met it
   * paid (docs/performance.md "Bursts into the default ring"). The whole
   * lap, not a window ahead of `HEAD`: a caller that logs again as soon as
   * its flush resolves met pages the window had not reached yet.
   */
  prefault(pages: number): number {
    if (!this.#shared || this.#faultedBytes >= this.capacity) return 0;
    const head = Atomics.load(this.#i32, HEAD) >>> 0;
    // Where the producer writes now, its own write faulted the page already.
    if (this.#faulted === null || ((this.#faulted - head) | 0) < 0) {
      this.#faulted = (head & ~(PAGE_BYTES - 1)) >>> 0;
    }
    const mask = this.capacity - 1;
    const d32 = this.#data32;
    let n = 0;
    while (n < pages && this.#faultedBytes < this.capacity) {
      // A compare-and-swap of 0 for 0 writes (so the page is mapped writable)
      // yet never changes a value, even one the producer writes meanwhile.
      Atomics.compareExchange(d32, (this.#faulted & mask) >> 2, 0, 0);
      this.#faulted = (this.#faulted + PAGE_BYTES) >>> 0;
      this.#faultedBytes += PAGE_BYTES;
      n++;
    }
    return n;
  }

  /**
   * For the consumer that replaces a dead one, before its first drain of a
   * mirrored ring: adds to `LOST` the user events the dead one took but
   * neither stored nor counted, and returns their number (docs/internals.md
   * "Definitions mirror"). 0 for a ring without a mirror.
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
 * front end after its worker died (docs/internals.md "Worker restart").
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
 * the dead one took (docs/internals.md "Worker restart").
 */
export async function waitForResume(control: SharedArrayBuffer | ArrayBuffer): Promise<void> {
  const c = new Int32Array(control);
  while (Atomics.load(c, RESUME) !== 1) {
    const r = Atomics.waitAsync(c, RESUME, 0, 1000);
    if (r.async) await r.value;
  }
}
